package dev.mizu.sync

import dev.mizu.sync.ffi.LogLevel as FfiLogLevel
import dev.mizu.sync.ffi.LogListener as FfiLogListener

/** How important a log record is, from the most to the least severe. */
public enum class LogLevel {
    /** Something failed and the app may need to act (a store error). */
    ERROR,

    /** Something failed and the engine copes (a rejection, going offline, a lost live connection). */
    WARN,

    /** A milestone: a push's outcome, a snapshot, catching up, a backoff, an auth refresh, the live connection opening. */
    INFO,

    /** Per-request detail: each push, pull page, live notification and failed attempt. */
    DEBUG,

    /** The finest detail: each HTTP exchange's status, size and time. */
    TRACE,
    ;

    internal fun toNative(): FfiLogLevel = when (this) {
        ERROR -> FfiLogLevel.ERROR
        WARN -> FfiLogLevel.WARN
        INFO -> FfiLogLevel.INFO
        DEBUG -> FfiLogLevel.DEBUG
        TRACE -> FfiLogLevel.TRACE
    }
}

internal fun FfiLogLevel.toPublic(): LogLevel = when (this) {
    FfiLogLevel.ERROR -> LogLevel.ERROR
    FfiLogLevel.WARN -> LogLevel.WARN
    FfiLogLevel.INFO -> LogLevel.INFO
    FfiLogLevel.DEBUG -> LogLevel.DEBUG
    FfiLogLevel.TRACE -> LogLevel.TRACE
}

/**
 * Receives the engine's log records: `(level, target, message)`, where `target` names the kind
 * of decision (`mizu_sync::push`, `mizu_sync::pull`, `mizu_sync::snapshot`, `mizu_sync::backoff`,
 * `mizu_sync::rejection`, `mizu_sync::auth`, `mizu_sync::live`, `mizu_sync::store`,
 * `mizu_sync::engine`, `mizu_sync::http`). Called on the library's threads as records happen
 * (never through `delivery`), with no library lock held; what it throws is dropped. Records
 * never hold a token or a header value.
 *
 * ```kotlin
 * Client(options, logLevel = LogLevel.DEBUG, onLog = { level, target, message ->
 *     Log.println(level.ordinal + 2, target, message)   // android.util.Log
 * })
 * ```
 */
public typealias LogListener = (level: LogLevel, target: String, message: String) -> Unit

/** A [LogListener] as the generated layer's listener. */
internal class ForwardedLogListener(private val listener: LogListener) : FfiLogListener {
    override fun onLog(level: FfiLogLevel, target: String, message: String) {
        try {
            listener(level.toPublic(), target, message)
        } catch (e: Throwable) {
            // Dropped: a log listener's failure must not be logged back into it.
        }
    }
}
