import MizuSyncFFI

/// How hard each commit to the store file is pushed to disk (SQLite's `synchronous` setting),
/// chosen with ``ClientOptions/durability`` and read back with ``Client/durability()``.
public enum Durability: Sendable, Equatable, CaseIterable {
    /// `synchronous=FULL`, the default: each commit is fsynced before the write returns, so a
    /// write that returned survives a process kill and a power loss.
    case full
    /// `synchronous=NORMAL`: no fsync per commit, so writes are faster; they still survive a
    /// process kill (a crash, the system terminating the app), but the last commits before a
    /// power loss or an OS crash may be lost, with their queued mutations (the file stays
    /// consistent).
    case normal

    var raw: MizuSyncFFI.Durability {
        switch self {
        case .full: return .full
        case .normal: return .normal
        }
    }

    init(_ raw: MizuSyncFFI.Durability) {
        switch raw {
        case .full: self = .full
        case .normal: self = .normal
        }
    }
}
