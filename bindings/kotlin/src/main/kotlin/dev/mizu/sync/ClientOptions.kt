package dev.mizu.sync

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import kotlinx.serialization.json.JsonElement
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import dev.mizu.sync.ffi.ClientOptions as FfiClientOptions
import dev.mizu.sync.ffi.TokenProvider as FfiTokenProvider

/**
 * How to create a [Client]. Every property but [baseUrl] has a default.
 *
 * ```kotlin
 * val options = ClientOptions(
 *     baseUrl = "https://api.example.com/_sync",
 *     scope = "user:42",
 *     storagePath = File(context.filesDir, "sync.db").path,   // omit to keep data in memory
 *     liveUrl = "wss://api.example.com/ws?scope=user:42",
 * )
 * ```
 *
 * @property baseUrl base URL of the sync endpoints, e.g. `https://api.example.com/_sync`.
 * @property scope scope of every request; empty means the server's default scope.
 * @property storagePath SQLite file for the durable store (created when missing); `null` keeps
 *   data in memory. One client at a time may hold a file.
 * @property encryptionKey encrypts the store file (and its WAL) with SQLCipher under this key: a
 *   passphrase, or a raw 256-bit key written `x'<64 hex digits>'`. Needs [storagePath]. The same
 *   key must be given at every open (a wrong or missing one throws
 *   [MizuSyncException.WrongKey]); [Client.rekey] changes it. Keep it in the Android Keystore (or
 *   the Keychain): a lost key is lost data. `null` keeps the file plain SQLite. Never part of
 *   [toString].
 * @property durability how hard each commit to the store file is pushed to disk:
 *   [Durability.FULL] (the default) fsyncs every commit, so a write that returned survives a
 *   process kill and a power loss; [Durability.NORMAL] skips that fsync: faster writes that still
 *   survive a process kill, but the last commits before a power loss or an OS crash may be lost,
 *   with their queued mutations. No effect without [storagePath]; [Client.durability] reads the
 *   mode back from SQLite.
 * @property liveUrl URL of the live WebSocket (e.g. `wss://host/ws?scope=S`); `null` polls only.
 * @property pushInterval how often pending mutations are pushed when nothing else triggers a push.
 * @property pullInterval how often the client pulls when no live notification arrives.
 * @property requestTimeout upper bound of one HTTP request.
 * @property backoffMin first retry delay after a failure (doubled per failure, with jitter).
 * @property backoffMax largest retry delay.
 * @property pushBatchSize mutations per push request, 1 to 100.
 * @property pullLimit changes per pull page.
 * @property maxSnapshotBytes the largest snapshot accepted, in bytes; `null` accepts any size. A
 *   larger one is abandoned as it streams in (local data is kept) and reported as
 *   [MizuSyncException.SnapshotTooLarge] through the status and `onError`; it is asked for again
 *   at the next pull interval, live notice or sync.
 * @property headers extra HTTP headers sent with every request and the live handshake.
 * @property subscribeMessage the message sent after the live connection opens; `null` sends
 *   `{"topic":"subscribe","data":{}}`.
 */
public data class ClientOptions(
    val baseUrl: String,
    val scope: String = "",
    val storagePath: String? = null,
    val encryptionKey: String? = null,
    val durability: Durability = Durability.FULL,
    val liveUrl: String? = null,
    val pushInterval: Duration = 5.seconds,
    val pullInterval: Duration = 30.seconds,
    val requestTimeout: Duration = 30.seconds,
    val backoffMin: Duration = 500.milliseconds,
    val backoffMax: Duration = 60.seconds,
    val pushBatchSize: Int = 100,
    val pullLimit: Int = 1000,
    val maxSnapshotBytes: Long? = null,
    val headers: Map<String, String> = emptyMap(),
    val subscribeMessage: JsonElement? = null,
) {
    internal fun toNative(): FfiClientOptions = FfiClientOptions(
        baseUrl = baseUrl,
        scope = scope,
        storagePath = storagePath,
        encryptionKey = encryptionKey,
        durability = durability.toNative(),
        liveUrl = liveUrl,
        pushIntervalMs = millis("pushInterval", pushInterval),
        pullIntervalMs = millis("pullInterval", pullInterval),
        requestTimeoutMs = millis("requestTimeout", requestTimeout),
        backoffMinMs = millis("backoffMin", backoffMin),
        backoffMaxMs = millis("backoffMax", backoffMax),
        pushBatchSize = count("pushBatchSize", pushBatchSize),
        pullLimit = count("pullLimit", pullLimit),
        maxSnapshotBytes = maxSnapshotBytes?.let {
            if (it <= 0) throw MizuSyncException.InvalidArgument("maxSnapshotBytes must be positive, got $it")
            it.toULong()
        },
        headers = headers,
        subscribeMessageJson = subscribeMessage?.toString(),
    )

    /** Every property but the encryption key, which is never printed (only whether there is one). */
    override fun toString(): String =
        "ClientOptions(baseUrl=$baseUrl, scope=$scope, storagePath=$storagePath, " +
            "encrypted=${encryptionKey != null}, durability=$durability, liveUrl=$liveUrl, pushInterval=$pushInterval, " +
            "pullInterval=$pullInterval, requestTimeout=$requestTimeout, backoffMin=$backoffMin, " +
            "backoffMax=$backoffMax, pushBatchSize=$pushBatchSize, pullLimit=$pullLimit, " +
            "maxSnapshotBytes=$maxSnapshotBytes, headers=${headers.keys}, subscribeMessage=$subscribeMessage)"
}

/** [duration] in whole milliseconds for the native layer; negative ones are refused. */
internal fun millis(name: String, duration: Duration): ULong {
    if (duration.isNegative()) throw MizuSyncException.InvalidArgument("$name must not be negative, got $duration")
    return duration.inWholeMilliseconds.toULong()
}

private fun count(name: String, n: Int): UInt {
    if (n <= 0) throw MizuSyncException.InvalidArgument("$name must be positive, got $n")
    return n.toUInt()
}

/**
 * Supplies the bearer token sent with every sync request and live handshake: a suspending
 * function (a plain one is accepted too, as any lambda is a valid `suspend` lambda).
 *
 * ```kotlin
 * Client(options, tokenProvider = { refresh -> if (refresh) auth.refresh() else auth.cached() })
 * ```
 *
 * The client asks before each request, on one of its background threads, and waits for the
 * answer there (the function itself runs on [Dispatchers.IO]) for at most
 * [ClientOptions.requestTimeout]: a provider that hangs fails that request, never syncing as a
 * whole. `refresh` is true after the server refused the previous token (401 or 403); the client
 * then retries the request once. Return `null` to send none; throwing fails the request as
 * unauthorized.
 */
public fun interface TokenProvider {
    /** The token to send, or `null`. */
    public suspend fun token(refresh: Boolean): String?
}

/** Scope of the token providers' calls: each is awaited by one library thread, with a bound. */
private val tokenCalls = CoroutineScope(SupervisorJob() + Dispatchers.IO)

/** A [TokenProvider] as the generated layer's blocking one: awaited, at most [timeout]. */
internal class AwaitedTokenProvider(private val provider: TokenProvider, private val timeout: Duration) :
    FfiTokenProvider {
    override fun token(refresh: Boolean): String? = callback {
        runBlocking {
            val asked = tokenCalls.async { provider.token(refresh) }
            // The provider runs apart from this wait, so a timeout returns even when it blocks.
            val answer = withTimeoutOrNull(timeout) { Answer(asked.await()) }
            if (answer == null) {
                asked.cancel()
                throw MizuSyncException.Timeout("the token provider did not answer within $timeout")
            }
            answer.token
        }
    }

    private class Answer(val token: String?)
}
