package dev.mizu.sync

import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import dev.mizu.sync.ffi.EntitySyncState as FfiEntitySyncState
import dev.mizu.sync.ffi.QueuedMutation as FfiQueuedMutation

/**
 * Where an entity stands with the server ([Entity.syncState], [Collection.syncState]). A `when`
 * over it is exhaustive:
 *
 * ```kotlin
 * when (val state = todo.syncState) {
 *     SyncState.Synced -> {}
 *     is SyncState.Pending -> badge("${state.mutations} waiting")
 *     is SyncState.Rejected -> badge("not saved: ${state.reason}")
 * }
 * ```
 */
public sealed interface SyncState {
    /** No local write of the entity waits for the server. */
    public data object Synced : SyncState

    /** [mutations] local writes of the entity wait for the server. */
    public data class Pending(val mutations: Long) : SyncState

    /**
     * The entity's last local write was rejected by the server (or discarded with
     * [Client.discard], [reason] `"discarded by the app"`) and rolled back; until it is written
     * again.
     */
    public data class Rejected(val reason: String) : SyncState
}

internal fun FfiEntitySyncState.toPublic(): SyncState = when (this) {
    is FfiEntitySyncState.Synced -> SyncState.Synced
    is FfiEntitySyncState.Pending -> SyncState.Pending(mutations.toLong())
    is FfiEntitySyncState.Rejected -> SyncState.Rejected(reason)
}

/**
 * A local mutation waiting for the server ([Client.pending]).
 *
 * @property id its idempotency id (pass it to [Client.discard]).
 * @property name its name, e.g. `todo.update`.
 * @property scope the data scope it was made in.
 * @property age how long ago it was made.
 * @property attempts how many times it was pushed since the process started (0: not yet).
 */
public data class QueuedMutation(
    val id: String,
    val name: String,
    val scope: String,
    val age: Duration,
    val attempts: Int,
)

internal fun FfiQueuedMutation.toPublic(): QueuedMutation =
    QueuedMutation(id, name, scope, ageMs.toLong().milliseconds, attempts.toInt())
