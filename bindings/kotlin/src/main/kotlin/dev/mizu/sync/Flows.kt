package dev.mizu.sync

import dev.mizu.sync.ffi.MizuException
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.conflate
import kotlinx.coroutines.flow.flow
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import dev.mizu.sync.ffi.SubscriptionInterface
import dev.mizu.sync.ffi.Subscription as FfiSubscription

/**
 * How many events an event [Flow] holds for a collector that has not taken them yet: the
 * bound of [Query.diffs], [Collection.changes], [Client.errors], [Client.rejections],
 * [Client.syncs], [Client.connectivity] and [unhandledErrors]. Events are delivered on the
 * writing thread (or the engine thread), which never waits for a collector; when a collector
 * falls this far behind, the flow makes room instead of growing:
 *
 * - [Query.diffs] drops the events it holds and queues one fresh [QueryEvent.Result] (the
 *   whole result, as [Query.get] would read it) followed by the diffs made after it, so a
 *   collector that applies the events in order stays correct: it restarts from the result.
 * - [Collection.changes] merges the changes it holds into one [CollectionChange] (each changed
 *   entity with its latest value; the removed ids that were not re-created), so applying it
 *   still leaves a map equal to [Collection.entries]; it holds at most one entry per id.
 * - The other event flows drop the oldest event and keep the newest [EVENT_BUFFER].
 *
 * State flows (a signal's, computed's or entity's `changes`, `asStateFlow()`, [Client.status],
 * [Query.results], [Query.asStateFlow]) never fall behind: they conflate to the latest value.
 *
 * The same bound and policies hold in every binding (Swift `eventBuffer`, Python
 * `EVENT_BUFFER`).
 */
public const val EVENT_BUFFER: Int = 64

/**
 * The flows being collected from one handle, so that closing the handle completes them (a
 * collector of a closed client's events returns instead of waiting forever).
 */
internal class OpenFlows {
    private val open: MutableSet<AutoCloseable> = ConcurrentHashMap.newKeySet()

    @Volatile
    private var closed = false

    fun add(flow: AutoCloseable) {
        open.add(flow)
        if (closed) flow.close()
    }

    fun remove(flow: AutoCloseable) {
        open.remove(flow)
    }

    fun closeAll() {
        closed = true
        // Iterated in place (weakly consistent): a flow may end, and remove itself, meanwhile on
        // another thread; a copy with `toList()` then failed, its size and its elements disagreeing.
        open.forEach { it.close() }
    }
}

/**
 * A cold flow of a value over a native subscription: each collector subscribes (`subscribe`
 * gets the function that emits) and cancels when its collection ends. Conflated: a slow
 * collector gets the latest value, never a backlog, and never blocks the thread that delivers
 * (the writing thread or the client's engine thread). Completes when one of [owners] is closed.
 */
internal fun <T> stateFlow(
    vararg owners: OpenFlows,
    subscribe: (emit: (T) -> Unit) -> SubscriptionInterface,
): Flow<T> =
    callbackFlow {
        val subscription = native { subscribe { value -> trySend(value) } }
        val closer = AutoCloseable { channel.close() }
        owners.forEach { it.add(closer) }
        awaitClose {
            owners.forEach { it.remove(closer) }
            subscription.cancel()
        }
    }.conflate()

/**
 * What an [EventQueue] does with a new event when it already holds [EVENT_BUFFER]: change
 * `held` (oldest first) so that it has room, and add the event (or what stands for it).
 */
internal typealias Overflow<E> = (held: ArrayDeque<E>, event: E) -> Unit

/** Drops the oldest event held and keeps the new one (the policy of plain event flows). */
internal fun <E> dropOldest(): Overflow<E> = { held, event ->
    held.removeFirst()
    held.addLast(event)
}

/**
 * A cold flow of events over a native subscription, holding at most [EVENT_BUFFER] of them
 * for a slow collector; when full, [overflow] makes room. Each collector subscribes and cancels
 * when its collection ends; completes when one of [owners] is closed.
 */
internal fun <E> eventFlow(
    vararg owners: OpenFlows,
    overflow: Overflow<E>,
    subscribe: (emit: (E) -> Unit) -> FfiSubscription,
): Flow<E> =
    flow {
        val queue = EventQueue(overflow)
        val subscription = native { subscribe { event -> queue.offer(event) } }
        owners.forEach { it.add(queue) }
        try {
            while (true) emit(queue.take() ?: break)
        } finally {
            owners.forEach { it.remove(queue) }
            subscription.cancel()
        }
    }

/**
 * [eventFlow] for a stream that can restart: when the queue is full, it drops every event it
 * holds, and [subscribe] is called again (its old subscription cancelled); the new
 * subscription's first event (the whole state) then comes first, followed by the events made
 * after it. Events still arriving from an old subscription are ignored. This is how
 * [Query.diffs] stays correct for a slow collector: the fresh [QueryEvent.Result] and the
 * diffs after it are consistent, because the native query orders them, which a separate read
 * of the query racing with writes on other threads would not be.
 */
internal fun <E> restartingEventFlow(
    vararg owners: OpenFlows,
    subscribe: (emit: (E) -> Unit) -> FfiSubscription,
): Flow<E> =
    flow {
        val queue = EventQueue<E>(overflow = { held, _ -> held.clear() })
        val generation = AtomicInteger()
        val subscriptions = ConcurrentHashMap<Int, FfiSubscription>()
        val done = AtomicBoolean()

        fun drop(old: Int) {
            subscriptions.remove(old)?.cancel()
        }

        fun listen(mine: Int): FfiSubscription {
            val subscription = subscribe { event ->
                if (generation.get() == mine && queue.offer(event) && generation.compareAndSet(mine, mine + 1)) {
                    drop(mine)
                    try {
                        listen(mine + 1)
                    } catch (e: MizuException.Closed) {
                        queue.close() // the query was closed meanwhile: the flow ends
                    }
                }
            }
            subscriptions[mine] = subscription
            // A restart or the end of the collection may have come first.
            if (done.get() || generation.get() != mine) drop(mine)
            return subscription
        }
        native { listen(0) }
        owners.forEach { it.add(queue) }
        try {
            while (true) emit(queue.take() ?: break)
        } finally {
            done.set(true)
            owners.forEach { it.remove(queue) }
            subscriptions.keys.forEach(::drop)
        }
    }

/**
 * A bounded FIFO between a native listener (any thread; [offer] never blocks) and the one
 * coroutine that [take]s. It never holds more than [capacity] events: a full queue hands the
 * new event to [overflow]. [close] ends it once the events it holds are taken.
 */
internal class EventQueue<E>(
    private val overflow: Overflow<E>,
    private val capacity: Int = EVENT_BUFFER,
) : AutoCloseable {
    private val held = ArrayDeque<E>()
    private val wake = Channel<Unit>(Channel.CONFLATED)
    private var closed = false

    /** Queues [event]; returns `true` when the queue was full and [overflow] made room. */
    fun offer(event: E): Boolean {
        val full = synchronized(held) {
            if (closed) return false
            val full = held.size >= capacity
            if (full) overflow(held, event) else held.addLast(event)
            full
        }
        wake.trySend(Unit)
        return full
    }

    /** The oldest event, waiting for one; `null` once closed and empty. */
    suspend fun take(): E? {
        while (true) {
            synchronized(held) {
                held.removeFirstOrNull()?.let { return it }
                if (closed) return null
            }
            wake.receive()
        }
    }

    override fun close() {
        synchronized(held) { closed = true }
        wake.trySend(Unit)
    }
}

/**
 * A hot [StateFlow] fed by one native subscription that lives until [cancel]: its value is
 * updated on the thread that made the change, before that change's write returns.
 */
internal class NativeState<T>(initial: T, subscribe: (emit: (T) -> Unit) -> SubscriptionInterface) {
    private val state = MutableStateFlow(initial)

    // The listener refers to the flow alone, not to this object, which holds the subscription:
    // once the handle that owns this state is collected, this object and the subscription can
    // be too (the subscription's cleaner then cancels it).
    private val subscription: SubscriptionInterface = state.let { flow -> native { subscribe { flow.value = it } } }

    val flow: StateFlow<T> = state.asStateFlow()

    fun cancel() {
        subscription.cancel()
    }

    companion object {
        /**
         * A query's result as a [NativeState]: [initial] until the subscription's first
         * [QueryEvent.Result], then that result with each diff applied.
         */
        fun <T> ofQuery(
            initial: List<Row<T>>,
            subscribe: (emit: (QueryEvent<T>) -> Unit) -> SubscriptionInterface,
        ): NativeState<List<Row<T>>> {
            val rows = ArrayList<Row<T>>()
            return NativeState(initial) { emit ->
                // The native query delivers its events one at a time, in order.
                subscribe { event -> emit(synchronized(rows) { rows.applyEvent(event).toList() }) }
            }
        }
    }
}
