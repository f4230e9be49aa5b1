package dev.mizu.sync

import dev.mizu.sync.ffi.RejectedMutation as FfiRejectedMutation
import dev.mizu.sync.ffi.SyncProgress as FfiSyncProgress
import dev.mizu.sync.ffi.SyncReport as FfiSyncReport
import dev.mizu.sync.ffi.SyncStatus as FfiSyncStatus
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

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
 * @property hasSynced whether a first full catch-up with the server has completed; persisted with
 *   the store (true on a reopened file client before [Client.start]) and reset by [Client.clear].
 * @property download the current (or last) download: server changes applied of those known.
 * @property upload the current (or last) upload: mutations acknowledged of those queued since the
 *   queue was last empty.
 */
public data class SyncStatus(
    val online: Boolean,
    val syncing: Boolean,
    val pending: Long,
    val cursor: Long?,
    val lastError: String?,
    val lastSyncedMillis: Long?,
    val paused: Boolean,
    val hasSynced: Boolean = false,
    val download: SyncProgress = SyncProgress.NONE,
    val upload: SyncProgress = SyncProgress.NONE,
)

/**
 * [done] of [total] (equal when complete), e.g. for a progress bar: `LinearProgressIndicator(
 * progress = { status.download.fraction })`.
 *
 * @property done how much is done.
 * @property total how much there is, as known now (it can grow while a download runs).
 */
public data class SyncProgress(val done: Long, val total: Long) {
    /** [done] / [total], from 0 to 1; 1 when there is nothing to do. */
    public val fraction: Float
        get() = if (total <= 0L) 1f else (done.toFloat() / total.toFloat()).coerceIn(0f, 1f)

    /** Whether everything known is done. */
    public val isComplete: Boolean
        get() = done >= total

    public companion object {
        /** Nothing to do: 0 of 0. */
        public val NONE: SyncProgress = SyncProgress(0, 0)
    }
}

/**
 * What [Client.syncOnce] did.
 *
 * @property pushed mutations that left the queue (acknowledged or rejected).
 * @property pulled how far the pull cursor moved.
 * @property caughtUp whether it ended caught up: nothing left to push, nothing newer on the server.
 * @property error the last failed round's error when it did not end caught up (the deadline itself
 *   is not an error).
 * @property elapsed how long it took.
 */
public data class SyncReport(
    val pushed: Long,
    val pulled: Long,
    val caughtUp: Boolean,
    val error: String?,
    val elapsed: Duration,
)

internal fun FfiSyncProgress.toPublic(): SyncProgress = SyncProgress(done.toLong(), total.toLong())

internal fun FfiSyncReport.toPublic(): SyncReport =
    SyncReport(pushed.toLong(), pulled.toLong(), caughtUp, error, elapsedMs.toLong().milliseconds)

internal fun FfiSyncStatus.toPublic(): SyncStatus = SyncStatus(
    online = online,
    syncing = syncing,
    pending = pending.toLong(),
    cursor = cursor?.toLong(),
    lastError = lastError,
    lastSyncedMillis = lastSyncedMs?.toLong(),
    paused = paused,
    hasSynced = hasSynced,
    download = download.toPublic(),
    upload = upload.toPublic(),
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
