import Foundation
import MizuSyncFFI
import MizuSyncHot

// Direct calls: the wrapper's fast path for its hottest operations (a signal's read and write,
// a computed's read, an entity's read and write by id, an effect's or observer's run), over
// the plain C functions the library exports beside UniFFI's scaffolding (`mizu_hot_*`,
// declared in MizuSyncHot; the contract is the Rust crate's `src/ffi/hot`). One C call per
// operation, numbers and byte slices as arguments; everything else stays on the generated
// bindings.
//
// - A direct call works on a hot handle: a strong reference to the native object that the
//   generated `hotHandle()` gives once and the wrapper gives back exactly once, in its deinit.
//   Every call on a handle runs inside `withExtendedLifetime` of its owner, so that ARC cannot
//   release the owner (and the handle) during the call.
// - A failing call returns a negative number; the error waits in the library for this thread
//   and the generated `takeHotError()` throws it, translated to ``MizuError`` as any generated
//   call's error is.
// - A read's payload is in the calling thread's slot (`mizu_hot_slot()`), valid until the next
//   direct call on this thread: it is copied at once. Asking for the slot's address is itself a
//   direct call of a few nanoseconds, cheaper than a Swift thread-local, so it is not cached.
// - Effects and observers are C function pointers (`@convention(c)`) called with a token: the
//   key of the Swift closure in a registry. The registry's lock is never held while a closure
//   runs or is released.

/// What a direct read returned (the `MIZU_HOT_*` tags of the header).
enum DirectTag {
    static let null: Int32 = 0
    static let `false`: Int32 = 1
    static let `true`: Int32 = 2
    static let int: Int32 = 3
    static let float: Int32 = 4
    static let string: Int32 = 5
    static let json: Int32 = 6
    static let unchanged: Int32 = 7
    static let absent: Int32 = 8
}

/// The error of this thread's last failed direct call, as a ``MizuError``.
func directError() -> MizuError {
    do {
        try takeHotError()
    } catch let error as MizuSyncFFI.MizuError {
        return MizuError(error)
    } catch {
        return .internal(reason: "\(error)")
    }
    return .internal(reason: "a direct call failed without an error")
}

/// A value as a direct call delivers it: a tag and its payload (the bytes borrowed, valid only
/// as long as the call's contract says).
struct DirectValue {
    let tag: Int32
    let int: Int64
    let float: Double
    let ptr: UnsafePointer<UInt8>?
    let len: UInt64

    /// The value a read just left in this thread's slot.
    static func fromSlot(tag: Int32) -> (value: DirectValue, version: UInt64) {
        let slot = mizu_hot_slot().pointee
        let value = DirectValue(
            tag: tag, int: slot.int_value, float: slot.float_value, ptr: slot.ptr, len: slot.len)
        return (value, slot.version)
    }

    var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: ptr, count: ptr == nil ? 0 : Int(len))
    }

    /// The characters of a string.
    var string: String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The value as JSON text (copied), for types without a fast path.
    func json() throws -> Data {
        switch tag {
        case DirectTag.null: return Data("null".utf8)
        case DirectTag.false: return Data("false".utf8)
        case DirectTag.true: return Data("true".utf8)
        case DirectTag.int: return Data(String(int).utf8)
        case DirectTag.float: return Data("\(float)".utf8)
        case DirectTag.string: return try JSONCoding.encodeData(string)
        default: return Data(bytes)
        }
    }
}

/// Which typed direct calls a value type has: `Int`, `Double`, `Bool` and `String` (and their
/// optionals) cross as numbers and characters; every other type crosses as JSON text.
enum DirectKind {
    case int, double, bool, string, json

    /// The kind of `type`, and whether it is the optional of that kind.
    static func of(_ type: Any.Type) -> (kind: DirectKind, optional: Bool) {
        switch ObjectIdentifier(type) {
        case ObjectIdentifier(Int.self): return (.int, false)
        case ObjectIdentifier(Int?.self): return (.int, true)
        case ObjectIdentifier(Double.self): return (.double, false)
        case ObjectIdentifier(Double?.self): return (.double, true)
        case ObjectIdentifier(Bool.self): return (.bool, false)
        case ObjectIdentifier(Bool?.self): return (.bool, true)
        case ObjectIdentifier(String.self): return (.string, false)
        case ObjectIdentifier(String?.self): return (.string, true)
        default: return (.json, false)
        }
    }
}

/// Turns values of one type into direct calls and back.
struct DirectCodec<Value: Codable & Sendable>: Sendable {
    let kind: DirectKind
    let optional: Bool

    init() {
        (kind, optional) = DirectKind.of(Value.self)
    }

    /// Whether a value of this type can be kept and handed out again without decoding: the
    /// scalars, whose Swift values are plain values.
    var isScalar: Bool { kind != .json }

    /// `value` as a `Value`: a direct read's value, or, when the stored JSON is not of this
    /// type's kind, its JSON text decoded as before (with the same errors).
    func decode(_ value: DirectValue) throws -> Value {
        switch (kind, value.tag) {
        case (.int, DirectTag.int) where Int(exactly: value.int) != nil:
            return Int(value.int) as! Value
        case (.double, DirectTag.float):
            return value.float as! Value
        case (.double, DirectTag.int):
            return Double(value.int) as! Value
        case (.bool, DirectTag.true):
            return true as! Value
        case (.bool, DirectTag.false):
            return false as! Value
        case (.string, DirectTag.string):
            return value.string as! Value
        case (_, DirectTag.null) where optional:
            return none
        default:
            return try JSONCoding.decodeFromLibrary(Value.self, from: value.json())
        }
    }

    /// `nil` of an optional kind.
    private var none: Value {
        switch kind {
        case .int: return Int?.none as! Value
        case .double: return Double?.none as! Value
        case .bool: return Bool?.none as! Value
        case .string: return String?.none as! Value
        case .json: preconditionFailure("no nil of a JSON kind")
        }
    }

    /// Writes `value` to the signal `handle`; returns the version the signal now holds, or a
    /// negative number (the error waits in `takeHotError()`).
    ///
    /// - Throws: ``MizuError/invalidJSON(reason:)`` when a JSON-kind value does not encode.
    func write(_ value: Value, to handle: UInt64) throws -> Int64 {
        switch kind {
        case .int:
            guard let int = value as? Int else { return mizu_hot_signal_set_null(handle) }
            return mizu_hot_signal_set_int(handle, Int64(int))
        case .double:
            guard let double = value as? Double else { return mizu_hot_signal_set_null(handle) }
            // A whole number crosses as an integer, as JSONEncoder writes it ("6", not "6.0"),
            // so that `set` and the JSON paths (init, update) store the same text.
            if double.rounded() == double, abs(double) < 9_007_199_254_740_992,
                !(double == 0 && double.sign == .minus)
            {
                return mizu_hot_signal_set_int(handle, Int64(double))
            }
            return mizu_hot_signal_set_float(handle, double)
        case .bool:
            guard let bool = value as? Bool else { return mizu_hot_signal_set_null(handle) }
            return mizu_hot_signal_set_bool(handle, bool ? 1 : 0)
        case .string:
            guard var string = value as? String else { return mizu_hot_signal_set_null(handle) }
            return string.withUTF8 { mizu_hot_signal_set_string(handle, $0.baseAddress, UInt64($0.count)) }
        case .json:
            let data = try JSONCoding.encodeForLibrary(value)
            return data.withUnsafeBytes {
                mizu_hot_signal_set_json(
                    handle, $0.bindMemory(to: UInt8.self).baseAddress, UInt64($0.count))
            }
        }
    }
}

// MARK: - Versioned reads

/// The reads of a versioned value, a signal's or a computed's, shared by their wrappers: the
/// value type's codec, and the last scalar value the wrapper read or wrote with its version,
/// so that a read of an unchanged value copies and decodes nothing.
struct DirectReads<Value: Codable & Sendable>: Sendable {
    let codec = DirectCodec<Value>()
    private let cache = VersionCache<Value>()

    /// One read through `get`: a direct call (`mizu_hot_signal_get`, `mizu_hot_computed_get`)
    /// given the version of the cached value (0: none) that returns the read's tag. It crosses
    /// even when the value is cached (a tracked read registers the dependency), but copies and
    /// decodes only a value the cache does not hold.
    ///
    /// - Throws: the direct call's error (``directError()``); ``MizuError/invalidJSON(reason:)``
    ///   when the value is not a `Value`.
    @inline(__always)
    func read(_ get: (_ knownVersion: UInt64) -> Int32) throws -> Value {
        let known = codec.isScalar ? cache.current : nil
        let tag = get(known?.version ?? 0)
        if tag == DirectTag.unchanged, let known {
            return known.value
        }
        if tag < 0 {
            throw directError()
        }
        let (payload, version) = DirectValue.fromSlot(tag: tag)
        let value = try codec.decode(payload)
        if codec.isScalar {
            cache.store(version, value)
        }
        return value
    }

    /// Keeps `value`, just written, as the value of `version`. A JSON-kind value is not kept:
    /// the library's canonical text may decode to another value than the one written (a lossy
    /// Codable), and a read must show what is stored.
    func wrote(_ value: Value, version: UInt64) {
        if codec.isScalar {
            cache.store(version, value)
        }
    }
}

/// The last scalar value of a signal or computed that its wrapper read or wrote, with its
/// version.
final class VersionCache<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var entry: (version: UInt64, value: Value)?

    var current: (version: UInt64, value: Value)? {
        lock.lock()
        defer { lock.unlock() }
        return entry
    }

    /// Keeps `value` as the value of `version` (any true pair will do: a read crosses anyway
    /// and is answered "unchanged" only when the library still holds that very version).
    func store(_ version: UInt64, _ value: Value) {
        lock.lock()
        let previous = entry
        entry = (version, value)
        lock.unlock()
        _ = previous   // released after the lock
    }
}

// MARK: - Callbacks

/// Closures that C function pointers call by token. Thread-safe; the lock is held only to find,
/// add or remove an entry, never while a closure runs or is released.
final class DirectRegistry<Entry>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [UInt64: Entry] = [:]
    private var next: UInt64 = 1

    /// Adds `entry`; returns its token.
    func add(_ entry: Entry) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        let token = next
        next += 1
        entries[token] = entry
        return token
    }

    /// The entry of `token`, if it was not removed.
    func find(_ token: UInt64) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        return entries[token]
    }

    /// Removes the entry of `token` (idempotent). The closure is released after the lock.
    func remove(_ token: UInt64) {
        lock.lock()
        let removed = entries.removeValue(forKey: token)
        lock.unlock()
        _ = removed
    }

    /// How many entries are registered (for tests).
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }
}

/// The effects' closures.
let directEffects = DirectRegistry<@Sendable () throws -> Void>()
/// The observers' closures, each taking a value as a direct call delivers it.
let directObservers = DirectRegistry<@Sendable (DirectValue) throws -> Void>()

/// How many effect and observer closures the direct calls hold (for tests of leaks).
func directCallbackCount() -> Int {
    directEffects.count + directObservers.count
}

/// Hands what a callback threw to the library, as the generated callbacks do: a ``MizuError``
/// keeps its case, any other error becomes ``MizuError/callback(reason:)``. Returns the
/// callback's failure status.
func directCallbackFailed(_ error: Error) -> Int32 {
    let raw: MizuSyncFFI.MizuError
    switch error {
    case let error as MizuError: raw = error.raw
    case let error as MizuSyncFFI.MizuError: raw = error
    default: raw = .Callback(reason: String(describing: error))
    }
    hotCallbackError(error: raw)
    return 1
}

/// The C function of every direct effect.
private func runDirectEffect(token: UInt64) -> Int32 {
    // Stopped meanwhile: nothing to run.
    guard let body = directEffects.find(token) else { return 0 }
    do {
        try body()
        return 0
    } catch {
        return directCallbackFailed(error)
    }
}

/// The C function of every direct observer.
private func callDirectObserver(
    token: UInt64, tag: Int32, int: Int64, float: Double, ptr: UnsafePointer<UInt8>?, len: UInt64
) -> Int32 {
    guard let body = directObservers.find(token) else { return 0 }
    do {
        try body(DirectValue(tag: tag, int: int, float: float, ptr: ptr, len: len))
        return 0
    } catch {
        return directCallbackFailed(error)
    }
}

/// An effect made by a direct call; stopped and released with this object.
final class DirectEffect: @unchecked Sendable {
    private let handle: UInt64
    private let token: UInt64
    private let lock = NSLock()
    private var stopped = false

    /// Registers `body` and creates the effect, which runs `body` once before this returns;
    /// `nil` when the library refused (the error is dropped: the caller falls back).
    init?(_ body: @escaping @Sendable () throws -> Void) {
        token = directEffects.add(body)
        handle = mizu_hot_effect_new(runDirectEffect, token)
        if handle == 0 {
            directEffects.remove(token)
            _ = directError()
            return nil
        }
    }

    func stop() {
        withExtendedLifetime(self) { mizu_hot_effect_stop(handle) }
        lock.lock()
        stopped = true
        lock.unlock()
        directEffects.remove(token)
    }

    var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    deinit {
        mizu_hot_effect_release(handle)
        directEffects.remove(token)
    }
}

/// An observer registered by a direct call; cancelled and released with this object.
final class DirectSubscription: @unchecked Sendable {
    private let handle: UInt64
    private let token: UInt64
    private let lock = NSLock()
    private var cancelled = false

    /// Registers `body` as an observer of the signal `signal` (called with the value now,
    /// before this returns).
    ///
    /// - Throws: ``MizuError/closed(what:)`` when the signal is closed.
    init(signal: UInt64, _ body: @escaping @Sendable (DirectValue) throws -> Void) throws {
        token = directObservers.add(body)
        handle = mizu_hot_signal_subscribe(signal, callDirectObserver, token)
        if handle == 0 {
            directObservers.remove(token)
            throw directError()
        }
    }

    func cancel() {
        withExtendedLifetime(self) { mizu_hot_subscription_cancel(handle) }
        lock.lock()
        cancelled = true
        lock.unlock()
        directObservers.remove(token)
    }

    var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    deinit {
        mizu_hot_subscription_release(handle)
        directObservers.remove(token)
    }
}

/// The direct subscriptions made through one signal, so that closing the signal marks them
/// cancelled and releases their closures (the library cancels them natively), as closing a
/// generated signal does for its subscriptions.
final class DirectSubscriptions: @unchecked Sendable {
    private struct Weak {
        weak var subscription: DirectSubscription?
    }

    private let lock = NSLock()
    private var kept: [Weak] = []
    private var closed = false

    /// Remembers `subscription`; cancels it at once if ``cancelAll()`` ran already.
    func keep(_ subscription: DirectSubscription) {
        lock.lock()
        if closed {
            lock.unlock()
            subscription.cancel()
            return
        }
        kept.removeAll { $0.subscription == nil }
        kept.append(Weak(subscription: subscription))
        lock.unlock()
    }

    /// Cancels every kept subscription (outside the lock).
    func cancelAll() {
        lock.lock()
        closed = true
        let all = kept.compactMap(\.subscription)
        kept = []
        lock.unlock()
        all.forEach { $0.cancel() }
    }
}

// MARK: - Collections

/// A collection's hot handle: entity reads and writes by id, values as JSON text.
final class DirectCollection: Sendable {
    /// The generated collection the handle belongs to.
    let raw: MizuSyncFFI.Collection
    private let handle: UInt64

    init(_ raw: MizuSyncFFI.Collection) {
        self.raw = raw
        handle = raw.hotHandle()
    }

    deinit {
        mizu_hot_collection_release(handle)
    }

    /// The value of the entity `id` as JSON text (copied), `nil` when it does not exist.
    ///
    /// - Throws: ``MizuError/closed(what:)``.
    func read(_ id: String, tracked: Bool) throws -> Data? {
        var id = id
        return try withExtendedLifetime(self) {
            let tag = id.withUTF8 {
                mizu_hot_collection_get(handle, $0.baseAddress, UInt64($0.count), tracked ? 1 : 0)
            }
            switch tag {
            case DirectTag.absent:
                return nil
            case 0...:
                return Data(DirectValue.fromSlot(tag: tag).value.bytes)
            default:
                throw directError()
            }
        }
    }

    /// Writes `json` to the entity `id`: a create (refused when it exists) or a set.
    ///
    /// - Throws: as ``Collection/create(_:_:)`` and ``Collection/set(_:_:)``.
    func write(_ id: String, _ json: Data, create: Bool) throws {
        var id = id
        let status = withExtendedLifetime(self) {
            id.withUTF8 { id in
                json.withUnsafeBytes { value in
                    mizu_hot_collection_write(
                        handle, id.baseAddress, UInt64(id.count),
                        value.bindMemory(to: UInt8.self).baseAddress, UInt64(value.count),
                        create ? 1 : 0)
                }
            }
        }
        if status < 0 {
            throw directError()
        }
    }
}
