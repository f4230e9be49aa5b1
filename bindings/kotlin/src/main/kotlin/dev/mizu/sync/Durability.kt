package dev.mizu.sync

import dev.mizu.sync.ffi.Durability as FfiDurability

/**
 * How hard each commit to the store file is pushed to disk (SQLite's `synchronous` setting),
 * chosen with [ClientOptions.durability] and read back with [Client.durability].
 */
public enum class Durability {
    /**
     * `synchronous=FULL`, the default: each commit is fsynced before the write returns, so a
     * write that returned survives a process kill and a power loss.
     */
    FULL,

    /**
     * `synchronous=NORMAL`: no fsync per commit, so writes are faster; they still survive a
     * process kill (a crash, the system killing the app), but the last commits before a power
     * loss or an OS crash may be lost, with their queued mutations (the file stays consistent).
     */
    NORMAL,
    ;

    internal fun toNative(): FfiDurability = when (this) {
        FULL -> FfiDurability.FULL
        NORMAL -> FfiDurability.NORMAL
    }
}

internal fun FfiDurability.toPublic(): Durability = when (this) {
    FfiDurability.FULL -> Durability.FULL
    FfiDurability.NORMAL -> Durability.NORMAL
}
