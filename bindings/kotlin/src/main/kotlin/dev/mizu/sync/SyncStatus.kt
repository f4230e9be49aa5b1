package dev.mizu.sync

import dev.mizu.sync.ffi.RejectedMutation as FfiRejectedMutation
import dev.mizu.sync.ffi.SyncStatus as FfiSyncStatus

/**
 * A snapshot of what a [Client]'s sync engine is doing ([Client.status]).
 *
 * @property online whether the last exchange with the server succeeded (false until one has).
 * @property syncing whether a push, pull or snapshot is in flight.
 * @property pending how many local mutations wait to be acknowledged by the server.
 * @property cursor the pull cursor, `null` before the first snapshot.
 * @property lastError the text of the last error, cleared by the next successful exchange.
 * @property lastSyncedMillis when the last pull or snapshot completed, in ms since the Unix epoch.
 * @property paused whether syncing is paused ([Client.pause]).
 */
public data class SyncStatus(
    val online: Boolean,
    val syncing: Boolean,
    val pending: Long,
    val cursor: Long?,
    val lastError: String?,
    val lastSyncedMillis: Long?,
    val paused: Boolean,
)

internal fun FfiSyncStatus.toPublic(): SyncStatus = SyncStatus(
    online = online,
    syncing = syncing,
    pending = pending.toLong(),
    cursor = cursor?.toLong(),
    lastError = lastError,
    lastSyncedMillis = lastSyncedMs?.toLong(),
    paused = paused,
)

/**
 * A mutation the server rejected; its optimistic effect is already rolled back.
 *
 * @property mutationId the id [Client.mutate] returned (entity writes have ids too).
 * @property name the mutation's name, e.g. `todo.update`.
 * @property reason the server's reason.
 */
public data class RejectedMutation(val mutationId: String, val name: String, val reason: String)

internal fun FfiRejectedMutation.toPublic(): RejectedMutation = RejectedMutation(mutationId, name, reason)
