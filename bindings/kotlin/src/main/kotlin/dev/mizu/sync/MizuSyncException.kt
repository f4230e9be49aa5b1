package dev.mizu.sync

import dev.mizu.sync.ffi.MizuException

/**
 * Every error this library throws: one sealed hierarchy, classified by what the app would do
 * differently. A `when` over it is exhaustive.
 *
 * The same errors reach [Client.errors] and [Client.onError] when they happen in the
 * background (network trouble, rejected mutations, a listener of yours that threw).
 */
public sealed class MizuSyncException(message: String, cause: Throwable? = null) :
    Exception(message, cause) {

    /** Something the caller passed is unusable: an empty id, a malformed URL, an id that exists on `create`. */
    public class InvalidArgument(public val reason: String) :
        MizuSyncException("invalid argument: $reason")

    /**
     * A query is malformed: an empty or malformed field path (`""`, `"a..b"`), an unknown
     * operator or key in a JSON spec, an operand that is not JSON (a class kotlinx.serialization
     * cannot encode, `NaN`), a negative limit or offset. The query builder throws it before
     * anything reaches the native library.
     */
    public class InvalidQuery(public val reason: String, cause: Throwable? = null) :
        MizuSyncException("invalid query: $reason", cause)

    /**
     * A value is not JSON, or not JSON of the shape needed: text that does not parse, or a stored
     * value that does not decode into the collection's `@Serializable` type.
     */
    public class InvalidJson(public val reason: String, cause: Throwable? = null) :
        MizuSyncException("invalid JSON: $reason", cause)

    /** The entity (or other named thing) the operation needs does not exist, e.g. `todo/todo-1`. */
    public class NotFound(public val what: String) : MizuSyncException("not found: $what")

    /** The handle ([Client], [Collection], [Signal], ...) was closed; [what] names its kind. */
    public class Closed(public val what: String) : MizuSyncException("$what is closed")

    /** Syncing is not running (the client is not started, or paused): start or resume it. */
    public class Offline(public val reason: String) : MizuSyncException("offline: $reason")

    /**
     * The server could not be reached, the connection broke, or it did not answer in time. Local
     * reads and writes keep working; the client retries by itself.
     */
    public class Network(public val reason: String) : MizuSyncException("network: $reason")

    /** A wait ([Client.flush]) ran out of time before the server confirmed everything. */
    public class Timeout(public val reason: String) : MizuSyncException("timed out: $reason")

    /** The server refused the credentials (HTTP 401 or 403), even after a token refresh. */
    public class Unauthorized(public val status: Int, public val reason: String) :
        MizuSyncException("not authorized (HTTP $status): $reason")

    /**
     * The server answered with an error, or with something this client cannot read ([status] is
     * 200 then); [code] is the protocol's error code when the server sent one.
     */
    public class Server(public val status: Int, public val code: String?, public val reason: String) :
        MizuSyncException("server error (HTTP $status): $reason")

    /**
     * The server rejected one mutation; its optimistic effect has been rolled back.
     * [mutationId] is the id [Client.mutate] returned (entity writes have ids too); [name] is the
     * mutation's name, e.g. `todo.update`.
     */
    public class Rejected(
        public val mutationId: String,
        public val name: String,
        public val reason: String,
    ) : MizuSyncException("mutation $mutationId ($name) was rejected: $reason")

    /** The local store could not read or write (disk full, corrupt file, file held by another client). */
    public class Storage(public val reason: String) : MizuSyncException("storage: $reason")

    /**
     * [Client.clear] refused: [count] local writes have not reached the server, and discarding
     * them was not asked for (`discardPending = true`). Nothing was deleted.
     */
    public class PendingWrites(public val count: Long) :
        MizuSyncException("$count local write(s) have not reached the server")

    /**
     * The store file is encrypted and [ClientOptions.encryptionKey] is wrong or missing, or a key
     * was given for a plain store file. Nothing was changed; open it again with the right key.
     */
    public class WrongKey(public val reason: String) : MizuSyncException("wrong encryption key: $reason")

    /**
     * The server's snapshot is larger than [ClientOptions.maxSnapshotBytes] ([limit] bytes); the
     * local state was kept. Asked for again at the next pull interval, live notice or sync.
     */
    public class SnapshotTooLarge(public val limit: Long) :
        MizuSyncException("the snapshot is larger than the configured limit of $limit bytes")

    /**
     * App code called by the library (a listener, a computed or effect function) threw. [cause]
     * is the original exception when it is known on this side (a computed's function).
     */
    public class Callback(public val reason: String, cause: Throwable? = null) :
        MizuSyncException("callback failed: $reason", cause)

    /** A bug, or an environment failure such as a thread that could not start. */
    public class Internal(public val reason: String) : MizuSyncException("internal error: $reason")
}

/** This library's exception for the generated layer's [MizuException]. */
internal fun MizuException.toPublic(): MizuSyncException = when (this) {
    is MizuException.InvalidArgument -> MizuSyncException.InvalidArgument(reason)
    is MizuException.InvalidQuery -> MizuSyncException.InvalidQuery(reason)
    is MizuException.InvalidJson -> MizuSyncException.InvalidJson(reason)
    is MizuException.NotFound -> MizuSyncException.NotFound(what)
    is MizuException.Closed -> MizuSyncException.Closed(what)
    is MizuException.Offline -> MizuSyncException.Offline(reason)
    is MizuException.Network -> MizuSyncException.Network(reason)
    is MizuException.Timeout -> MizuSyncException.Timeout(reason)
    is MizuException.Unauthorized -> MizuSyncException.Unauthorized(status.toInt(), reason)
    is MizuException.Server -> MizuSyncException.Server(status.toInt(), code, reason)
    is MizuException.Rejected -> MizuSyncException.Rejected(mutationId, name, reason)
    is MizuException.Storage -> MizuSyncException.Storage(reason)
    is MizuException.PendingWrites -> MizuSyncException.PendingWrites(count.toLong())
    is MizuException.WrongKey -> MizuSyncException.WrongKey(reason)
    is MizuException.SnapshotTooLarge -> MizuSyncException.SnapshotTooLarge(limit.toLong())
    is MizuException.Callback -> MizuSyncException.Callback(reason)
    is MizuException.Internal -> MizuSyncException.Internal(reason)
}

/** Runs a call into the native library, translating its errors into [MizuSyncException]s. */
internal inline fun <T> native(call: () -> T): T =
    try {
        call()
    } catch (e: MizuException) {
        throw e.toPublic()
    }

/**
 * Runs app code called back by the native library. Whatever it throws (errors included, such as
 * a failed assertion) becomes a [MizuException.Callback] with a readable reason, which the
 * library reports through [Client.errors] or [onUnhandledError] instead of crashing a thread.
 * A [MizuSyncException] thrown on purpose keeps its kind.
 */
internal inline fun <T> callback(body: () -> T): T =
    try {
        body()
    } catch (e: Throwable) {
        throw callbackFailure(e)
    }

/** The generated layer's exception for what app code called back by the library threw. */
internal fun callbackFailure(e: Throwable): MizuException = when (e) {
    is MizuException -> e
    is MizuSyncException -> e.toNative()
    else -> MizuException.Callback(e.describe())
}

/** `ClassName: message`, the text a callback failure carries across the boundary. */
internal fun Throwable.describe(): String = "${this::class.qualifiedName ?: "Throwable"}: ${message ?: ""}".trimEnd(' ', ':')

/** The generated layer's exception for one of ours (so it keeps its kind across the boundary). */
internal fun MizuSyncException.toNative(): MizuException = when (this) {
    is MizuSyncException.InvalidArgument -> MizuException.InvalidArgument(reason)
    is MizuSyncException.InvalidQuery -> MizuException.InvalidQuery(reason)
    is MizuSyncException.InvalidJson -> MizuException.InvalidJson(reason)
    is MizuSyncException.NotFound -> MizuException.NotFound(what)
    is MizuSyncException.Closed -> MizuException.Closed(what)
    is MizuSyncException.Offline -> MizuException.Offline(reason)
    is MizuSyncException.Network -> MizuException.Network(reason)
    is MizuSyncException.Timeout -> MizuException.Timeout(reason)
    is MizuSyncException.Unauthorized -> MizuException.Unauthorized(status.toUShort(), reason)
    is MizuSyncException.Server -> MizuException.Server(status.toUShort(), code, reason)
    is MizuSyncException.Rejected -> MizuException.Rejected(mutationId, name, reason)
    is MizuSyncException.Storage -> MizuException.Storage(reason)
    is MizuSyncException.PendingWrites -> MizuException.PendingWrites(count.toULong())
    is MizuSyncException.WrongKey -> MizuException.WrongKey(reason)
    is MizuSyncException.SnapshotTooLarge -> MizuException.SnapshotTooLarge(limit.toULong())
    is MizuSyncException.Callback -> MizuException.Callback(reason)
    is MizuSyncException.Internal -> MizuException.Internal(reason)
}
