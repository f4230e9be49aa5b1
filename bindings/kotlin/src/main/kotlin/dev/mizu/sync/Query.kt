package dev.mizu.sync

import dev.mizu.sync.ffi.EntityRecord
import dev.mizu.sync.ffi.QueryListener
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.conflate
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.flow
import dev.mizu.sync.ffi.Query as FfiQuery
import dev.mizu.sync.ffi.QueryDiffOp as FfiQueryDiffOp

/**
 * A live query over a [Collection]: the entities whose values pass its filter, in its order,
 * within its window (offset, limit). Made by [Collection.query]; kept up to date incrementally
 * (a change costs O(log n), not a re-run) for as long as this handle is open.
 *
 * ```kotlin
 * val open = todos.query {
 *     where { "completed" eq false }
 *     orderBy("due", Order.DESC)
 *     limit(50)
 * }
 * open.get()                              // List<Row<Todo>>, in order
 * open.results().collect { rows -> show(rows) }
 * val rows by open.asStateFlow().collectAsState()   // in Compose
 * open.diffs().collect { event -> ... }   // QueryEvent.Result once, then QueryEvent.Diff
 * ```
 *
 * Reads are tracked inside [Computed] and [Effect] functions: [get] and [ids] wake only when
 * the result changes, [count] only when the number of matches does.
 *
 * **Threading**: every member may be called from any thread. Listeners run on the thread whose
 * blocking write changed the result, before that write returns; for server changes and
 * awaited writes, on the client's engine thread (or the committing thread), or on the client's
 * `delivery` when it has one. [diffs] holds at most [EVENT_BUFFER] events for a slow collector
 * (then restarts from a fresh [QueryEvent.Result]); [results] and [asStateFlow] conflate to
 * the latest result.
 */
public class Query<T> internal constructor(
    private val inner: FfiQuery,
    private val codec: ValueCodec<T>,
    private val clientFlows: OpenFlows,
) : AutoCloseable {
    private val flows = OpenFlows()
    private val state = lazy { NativeState.ofQuery(untracked { get() }) { emit -> inner.subscribe(queryListener(codec, emit)) } }

    /** The query's spec as canonical JSON (the form [Collection.query] takes). */
    public val specJson: String = inner.specJson()

    /**
     * The matching entities in order, within the window. Tracked (result).
     *
     * @throws MizuSyncException.Closed after [close].
     * @throws MizuSyncException.InvalidJson when a value does not decode into `T`.
     */
    public fun get(): List<Row<T>> = native { inner.get() }.toRows(codec)

    /** The ids of [get], without decoding values. Tracked (result). */
    public fun ids(): List<String> = native { inner.ids() }

    /** How many entities match, ignoring offset and limit. Tracked (number of matches). */
    public fun count(): Int = native { inner.count() }.toInt()

    /**
     * Calls [listener] with [QueryEvent.Result] (the whole result) now, then with a
     * [QueryEvent.Diff] after each transaction that changed the result. What it throws goes to
     * [Client.onError].
     *
     * @throws MizuSyncException.Closed after [close].
     */
    public fun subscribe(listener: (QueryEvent<T>) -> Unit): Subscription =
        Subscription(native { inner.subscribe(queryListener(codec, listener)) })

    /**
     * [subscribe] as a cold [Flow] (each collector subscribes): [QueryEvent.Result] first, then
     * each [QueryEvent.Diff]. Completes when this query or its client is closed.
     *
     * It holds at most [EVENT_BUFFER] events for a slow collector. When full, it drops them and
     * queues a fresh [QueryEvent.Result] (the whole result, read by a new subscription, so it
     * agrees with the diffs that follow it) instead: a collector that applies the events in
     * order, replacing its list on each [QueryEvent.Result], stays equal to [get].
     */
    public fun diffs(): Flow<QueryEvent<T>> =
        restartingEventFlow(flows, clientFlows) { emit -> inner.subscribe(queryListener(codec, emit)) }

    /**
     * The whole result now, then the new result after each change, as a cold [Flow]: each
     * collector keeps its own copy, updated by applying the [diffs] (no re-read of the query).
     * Conflated: a collector slower than the changes gets the latest result, not every
     * intermediate one. Completes when this query or its client is closed.
     * `results().map { rows -> rows.map { it.value } }` gives the values alone.
     */
    public fun results(): Flow<List<Row<T>>> =
        flow {
            val rows = ArrayList<Row<T>>()
            diffs().collect { event ->
                emit(rows.applyEvent(event).toList())
            }
        }.conflate()

    /**
     * The result as a [StateFlow] (`value` is the result now), kept current by one native
     * subscription until [close] by applying the diffs: a plain state holder for Compose
     * (`open.asStateFlow().collectAsState()`, no initial value needed) or a ViewModel.
     */
    public fun asStateFlow(): StateFlow<List<Row<T>>> = state.value.flow

    /** Releases this query and cancels its subscriptions; its flows complete. Idempotent. */
    override fun close() {
        if (state.isInitialized()) state.value.cancel()
        inner.release()
        flows.closeAll()
    }

    override fun toString(): String = "Query($specJson)"
}

private fun <T> queryListener(codec: ValueCodec<T>, listener: (QueryEvent<T>) -> Unit): QueryListener =
    object : QueryListener {
        override fun onResult(rows: List<EntityRecord>) = callback { listener(QueryEvent.Result(rows.toRows(codec))) }

        override fun onDiff(diff: List<FfiQueryDiffOp>) = callback { listener(QueryEvent.Diff(diff.toDiff(codec))) }
    }

/** Applies [event] to these rows (replacing them on a [QueryEvent.Result]); returns them. */
internal fun <T> MutableList<Row<T>>.applyEvent(event: QueryEvent<T>): MutableList<Row<T>> {
    when (event) {
        is QueryEvent.Result -> {
            clear()
            addAll(event.rows)
        }
        is QueryEvent.Diff -> event.diff.applyTo(this)
    }
    return this
}
