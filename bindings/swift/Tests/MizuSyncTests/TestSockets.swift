import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Two small TCP servers on 127.0.0.1 for the async tests: one that accepts connections and
// never answers (a server that hangs), and one in front of the reference server that answers
// 401 to requests without the expected bearer token and passes the others through.

/// A listening TCP socket on 127.0.0.1 with a port picked by the system.
final class Listener: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SupportError(description: "socket() failed") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw SupportError(description: "bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    var addr: String { "127.0.0.1:\(port)" }

    /// Accepts connections on a thread of its own, handing each to `handle`, until closed.
    func serve(_ handle: @escaping @Sendable (Int32) -> Void) {
        let fd = self.fd
        Thread.detachNewThread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                handle(client)
            }
        }
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

/// A server that accepts every connection and never answers (nor closes it).
final class HangingServer: @unchecked Sendable {
    private let listener: Listener
    private let held = Log<Int32>()
    /// How many requests' first bytes arrived.
    let requests = Counter()

    init() throws {
        listener = try Listener()
        let (held, requests) = (self.held, self.requests)
        listener.serve { client in
            held.append(client)
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                if recv(client, &buffer, buffer.count, 0) > 0 { _ = requests.next() }
            }
        }
    }

    var baseURL: String { "http://\(listener.addr)/_sync" }

    func stop() {
        listener.stop()
        for fd in held.all { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
    }
}

/// A proxy in front of `upstream` that answers 401 to a connection whose first request does
/// not carry `Authorization: Bearer <token>`, and passes the others through both ways.
final class AuthProxy: @unchecked Sendable {
    private let listener: Listener
    /// The bearer token of each connection's first request ("" for none).
    let seen = Log<String>()

    init(upstream: String, token: String) throws {
        listener = try Listener()
        let seen = self.seen
        let parts = upstream.split(separator: ":")
        let upstreamPort = UInt16(parts[1]) ?? 0
        listener.serve { client in
            Thread.detachNewThread {
                var head = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 65536)
                while !head.containsHeadEnd {
                    let n = recv(client, &buffer, buffer.count, 0)
                    if n <= 0 { close(client); return }
                    head.append(contentsOf: buffer[0..<n])
                }
                let text = String(decoding: head, as: UTF8.self)
                let bearer = text.split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("authorization:") }
                    .map { $0.dropFirst("authorization:".count).trimmingCharacters(in: .whitespaces) }
                    .map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 } ?? ""
                seen.append(bearer)
                guard bearer == token else {
                    let reply = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    _ = Array(reply.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    shutdown(client, Int32(SHUT_RDWR))
                    close(client)
                    return
                }
                let server = connectTo(port: upstreamPort)
                guard server >= 0 else { close(client); return }
                _ = head.withUnsafeBytes { send(server, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                Thread.detachNewThread { pipe(from: server, to: client) }
                pipe(from: client, to: server)
            }
        }
    }

    var baseURL: String { "http://\(listener.addr)/_sync" }

    func stop() { listener.stop() }
}

extension Array where Element == UInt8 {
    fileprivate var containsHeadEnd: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 {
            return true
        }
        return false
    }
}

/// Copies bytes from `source` to `target` until either side closes, then closes both.
private func pipe(from source: Int32, to target: Int32) {
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(source, &buffer, buffer.count, 0)
        if n <= 0 { break }
        let sent = buffer.withUnsafeBytes { send(target, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
        if sent <= 0 { break }
    }
    shutdown(source, Int32(SHUT_RDWR))
    shutdown(target, Int32(SHUT_RDWR))
}

/// A connected socket to 127.0.0.1:`port`, or -1.
private func connectTo(port: UInt16) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    if result != 0 { close(fd); return -1 }
    return fd
}
