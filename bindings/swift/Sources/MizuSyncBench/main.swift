// The Swift binding's hot-path benchmark (issue 14): a plain Swift peer, the floors of the
// generated and direct layers, and the wrapper's signals, entities, effects and observers, in
// one run. Run it with `bash scripts/bench-swift.sh` (a release build inside the Swift root
// filesystem); it prints a Markdown table of medians per operation.
//
// Environment: MIZU_SWIFT_BENCH_N (iterations per run, default 20000), MIZU_SWIFT_BENCH_RUNS
// (timed runs per case after one warm-up run, default 5).
import Foundation
import MizuSync
import MizuSyncFFI
import MizuSyncHot

// MARK: - Harness

let environment = ProcessInfo.processInfo.environment
let n = Int(environment["MIZU_SWIFT_BENCH_N"] ?? "") ?? 20000
let runs = Int(environment["MIZU_SWIFT_BENCH_RUNS"] ?? "") ?? 5

/// Keeps results observable, so the optimizer cannot drop the work that made them.
final class Sink: @unchecked Sendable {
    var value = 0
    func take(_ x: Int) { value &+= x }
}
let sink = Sink()

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))
        .map { $0.split(separator: " ").prefix(3).joined(separator: " ") } ?? "unknown"
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// One measured case: the median, minimum and maximum time per call of `body` over `runs`
/// runs of `n` calls each, after a warm-up run.
struct Result {
    let name: String
    let median: Double
    let low: Double
    let high: Double
}
var results: [Result] = []

/// `prepare(run)` runs before each run, untimed.
@inline(never)
func measure(
    _ name: String, prepare: (Int) -> Void = { _ in }, _ body: (Int) throws -> Void
) rethrows -> Double {
    var perOp: [Double] = []
    for run in 0...runs {
        prepare(run)
        let start = now()
        for i in 0..<n { try body(i) }
        let elapsed = Double(now() - start) / 1000 / Double(n)
        if run > 0 { perOp.append(elapsed) }
    }
    perOp.sort()
    let result = Result(name: name, median: perOp[perOp.count / 2], low: perOp[0], high: perOp[perOp.count - 1])
    results.append(result)
    FileHandle.standardError.write(Data(String(format: "%-70@ %8.3f µs\n", name, result.median).utf8))
    return result.median
}

func derived(_ name: String, _ value: Double) {
    results.append(Result(name: name, median: value, low: .nan, high: .nan))
}

// MARK: - Peers and floors

/// The plain Swift peer: a stored property, with an optional observer closure.
final class PlainBox: @unchecked Sendable {
    var observer: ((Int) -> Void)?
    var value = 0 {
        didSet { observer?(value) }
    }
}

/// A listener for the generated layer's no-argument call (`Subscription.isCancelled()`).
final class IgnoreErrors: MizuSyncFFI.ErrorListener, @unchecked Sendable {
    func onError(error: MizuSyncFFI.MizuError) throws {}
}

/// A generated-layer computed's function: twice a generated signal's number, as JSON text.
final class BenchComputedFn: MizuSyncFFI.ComputedFn, @unchecked Sendable {
    private let signal: MizuSyncFFI.Signal
    init(_ signal: MizuSyncFFI.Signal) { self.signal = signal }
    func compute() throws -> String { String((Int(try signal.get()) ?? 0) * 2) }
}

/// The 131-byte todo record of the sync and query benchmarks (sorted keys, compact JSON).
struct BenchTodo: Codable, Sendable, Equatable {
    var completed: Bool
    var due: String
    var priority: Int
    var tags: [String]
    var title: String
}

let startLoad = loadAverage()
print("mizu-sync Swift benchmark: n = \(n) per run, median of \(runs) runs after a warm-up run")
print("load average at start: \(startLoad) (\(ProcessInfo.processInfo.activeProcessorCount) CPUs)")

do {
    let plain = PlainBox()
    let plainSetGet = measure("plain Swift: stored property set + get") { i in
        plain.value = i
        sink.take(plain.value)
    }
    plain.observer = { sink.take($0) }
    _ = measure("plain Swift: set + closure observer (didSet)") { i in plain.value = i }
    plain.observer = nil

    let generatedSubscription = MizuSyncFFI.onUnhandledError(listener: IgnoreErrors())
    _ = measure("generated layer: Subscription.isCancelled() (no arguments, a bool back)") { _ in
        if generatedSubscription.isCancelled() { sink.take(1) }
    }
    generatedSubscription.cancel()
    _ = measure("direct call: mizu_hot_noop()") { _ in sink.take(Int(mizu_hot_noop())) }

    let generatedSignal = try MizuSyncFFI.Signal(valueJson: "0")
    _ = try measure("generated layer: Signal set + get (JSON text)") { i in
        try generatedSignal.set(valueJson: String(i))
        sink.take(try generatedSignal.get().utf8.count)
    }

    // MARK: Signals

    let count = try Signal(0)
    let intSetGet = try measure("Signal<Int>: set + get") { i in
        try count.set(i)
        sink.take(try count.get())
    }
    let intSet = try measure("Signal<Int>: set only") { i in try count.set(i) }
    let intGet = try measure("Signal<Int>: get only (value unchanged)") { _ in sink.take(try count.get()) }

    let flag = try Signal(false)
    _ = try measure("Signal<Bool>: set + get") { i in
        try flag.set(i & 1 == 0)
        if try flag.get() { sink.take(1) }
    }

    let words = (0..<64).map { "item \($0)" }
    let text = try Signal("")
    let stringSetGet = try measure("Signal<String>: set + get (short strings)") { i in
        try text.set(words[i & 63])
        sink.take(try text.get().utf8.count)
    }

    // MARK: Computeds

    let doubled = Computed { try count.get() * 2 }
    _ = try measure("Computed<Int>: get (unchanged)") { _ in sink.take(try doubled.get()) }
    _ = try measure("Signal set + Computed get (recompute)") { i in
        try count.set(i)
        sink.take(try doubled.get())
    }
    doubled.close()
    // The same through the generated layer: a computed of a generated signal, its JSON text.
    let generatedDoubled = MizuSyncFFI.Computed(f: BenchComputedFn(generatedSignal))
    _ = try measure("generated layer: Computed get (unchanged, JSON text)") { _ in
        sink.take(try generatedDoubled.get().utf8.count)
    }
    _ = try measure("generated layer: Signal set + Computed get (recompute, JSON text)") { i in
        try generatedSignal.set(valueJson: String(i))
        sink.take(try generatedDoubled.get().utf8.count)
    }
    let hotDoubled = generatedDoubled.hotHandle()
    sink.take(Int(mizu_hot_computed_get(hotDoubled, 1, 0)))
    let doubledVersion = mizu_hot_slot().pointee.version
    _ = measure("breakdown: direct call mizu_hot_computed_get (tracked, unchanged)") { _ in
        sink.take(Int(mizu_hot_computed_get(hotDoubled, 1, doubledVersion)))
    }
    mizu_hot_computed_release(hotDoubled)
    generatedDoubled.close()

    // MARK: Dispatch

    let effect = Effect { sink.take(try count.get()) }
    let setWithEffect = try measure("Signal<Int>: set + effect run (the effect reads the signal)") { i in
        try count.set(i)
    }
    effect.stop()
    derived("effect dispatch alone (the above minus set only and get only)", setWithEffect - intSet - intGet)

    let observer = try count.subscribe { sink.take($0) }
    let setWithObserver = try measure("Signal<Int>: set + observer call (value decoded)") { i in
        try count.set(i)
    }
    observer.cancel()
    derived("observer dispatch alone (the above minus set only)", setWithObserver - intSet)

    // MARK: Entities

    let client = try Client(ClientOptions(baseURL: "http://127.0.0.1:9/_sync"))
    let todos = try client.collection("todo", of: BenchTodo.self)
    let records = (0..<2).map {
        BenchTodo(
            completed: false, due: "2026-02-02", priority: 1 + $0, tags: ["home", "errands"],
            title: "Buy oat milk and bread for the week #000001")
    }
    let todo = try todos.create("todo-000001", records[0])
    _ = try measure("Entity<Todo>: get (131-byte record)") { _ in
        sink.take(try todo.get()?.priority ?? 0)
    }
    _ = try measure("Entity<Todo>: set (131-byte record)") { i in try todo.set(records[i & 1]) }
    _ = try measure("Collection<Todo>: get(id) (131-byte record)") { _ in
        sink.take(try todos.get("todo-000001")?.priority ?? 0)
    }
    var ids: [String] = []
    _ = try measure(
        "Collection<Todo>: create (memory store, 131-byte record)",
        prepare: { run in ids = (0..<n).map { "t\(run)-\($0)" } }
    ) { i in
        try todos.create(ids[i], records[0])
    }
    client.close()

    // Where an entity write's time goes: the Swift coding alone, and the same work through
    // the generated layer and through a bare direct call (the record's JSON text as it is).
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let decoder = JSONDecoder()
    let recordJSON = try records.map { try encoder.encode($0) }
    _ = try measure("breakdown: JSONEncoder encode of the record") { i in
        sink.take(try encoder.encode(records[i & 1]).count)
    }
    _ = try measure("breakdown: JSONDecoder decode of the record") { i in
        sink.take(try decoder.decode(BenchTodo.self, from: recordJSON[i & 1]).priority)
    }
    let rawClient = try MizuSyncFFI.Client(
        options: MizuSyncFFI.ClientOptions(
            baseUrl: "http://127.0.0.1:9/_sync", scope: "", storagePath: nil, liveUrl: nil,
            pushIntervalMs: 5000, pullIntervalMs: 30000, requestTimeoutMs: 30000,
            backoffMinMs: 500, backoffMaxMs: 60000, pushBatchSize: 100, pullLimit: 1000,
            headers: [:], subscribeMessageJson: nil),
        auth: nil)
    let rawTodos = try rawClient.collection(name: "todo")
    let recordText = recordJSON.map { String(decoding: $0, as: UTF8.self) }
    try rawTodos.set(id: "todo-000001", valueJson: recordText[0])
    _ = try measure("breakdown: generated layer Collection.set(id, JSON text)") { i in
        try rawTodos.set(id: "todo-000001", valueJson: recordText[i & 1])
    }
    _ = try measure("breakdown: generated layer Collection.value(id) (JSON text)") { _ in
        sink.take(try rawTodos.value(id: "todo-000001")?.utf8.count ?? 0)
    }
    let hotTodos = rawTodos.hotHandle()
    var id = "todo-000001"
    _ = measure("breakdown: direct call mizu_hot_collection_write (set, JSON bytes)") { i in
        recordJSON[i & 1].withUnsafeBytes { value in
            id.withUTF8 { id in
                sink.take(Int(mizu_hot_collection_write(
                    hotTodos, id.baseAddress, UInt64(id.count),
                    value.bindMemory(to: UInt8.self).baseAddress, UInt64(value.count), 0)))
            }
        }
    }
    _ = measure("breakdown: direct call mizu_hot_collection_get (tracked, no copy)") { _ in
        sink.take(Int(id.withUTF8 { mizu_hot_collection_get(hotTodos, $0.baseAddress, UInt64($0.count), 1) }))
    }
    mizu_hot_collection_release(hotTodos)
    rawClient.close()

    print()
    print("| operation | per op (median) | min – max of \(runs) runs |")
    print("|---|---:|---:|")
    for result in results {
        let range = result.low.isNaN
            ? "(derived)" : String(format: "%.3f – %.3f µs", result.low, result.high)
        print(String(format: "| %@ | %.3f µs | %@ |", result.name, result.median, range))
    }
    print()
    print(String(format: "Signal<Int> set + get: %.1fx the plain Swift stored property", intSetGet / plainSetGet))
    print(String(format: "Signal<String> set + get: %.3f µs (goal of Python/Kotlin: ≤ 2 µs)", stringSetGet))
    print("load average at end: \(loadAverage())")
    print("(checksum \(sink.value))")
} catch {
    print("benchmark failed: \(error)")
    exit(1)
}
