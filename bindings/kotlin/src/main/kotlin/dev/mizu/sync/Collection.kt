package dev.mizu.sync

import dev.mizu.sync.ffi.CollectionListener
import dev.mizu.sync.ffi.EntityRecord
import kotlinx.coroutines.flow.Flow
import java.util.TreeMap
import dev.mizu.sync.ffi.Collection as FfiCollection
import dev.mizu.sync.ffi.Entity as FfiEntity
import dev.mizu.sync.ffi.CollectionChange as FfiCollectionChange

/**
 * A named set of entities of one [Client], synchronized with the server, with values of type
 * `T` (a `@Serializable` class). Ids are strings; bulk reads are ordered by id.
 *
 * Every write is visible at once (optimistic) and durable before it returns (with a storage
 * path); the server's answer arrives later, and a rejected write is rolled back. The blocking
 * writes ([create], [set], [update], [delete]) commit on the calling thread and run the
 * listeners they wake before they return; their awaited forms ([createAsync], [setAsync],
 * [deleteAsync]) commit on the library's write lane (in call order), so the calling thread,
 * a UI thread say, never waits for SQLite and its fsync.
 *
 * ```kotlin
 * val todos = client.collection<Todo>("todo")
 * todos.create("milk", Todo("Buy milk"))
 * todos.update("milk") { it.copy(completed = true) }
 * val open = todos.query { where { "completed" eq false } }   // a live Query<Todo>
 * ```
 *
 * Reads are tracked inside [Computed] and [Effect] functions: [count], [ids] and [contains] wake
 * on membership changes, [entries] on any change, [get] on that entity's changes.
 */
public class Collection<T> internal constructor(
    private val inner: FfiCollection,
    hotSource: FfiCollection,
    private val codec: ValueCodec<T>,
    private val clientFlows: OpenFlows,
) : AutoCloseable {
    private val flows = OpenFlows()

    /** The collection's name. */
    public val name: String = inner.name()

    /**
     * Direct reads and writes by id, over a second native handle on the same collection that
     * this wrapper never closes: its entities keep working after [close], as they always did.
     */
    private val hot = HotCollection(hotSource, name)

    @Volatile
    private var closed = false

    private fun checkOpen() {
        if (closed) throw MizuSyncException.Closed("collection")
    }

    /**
     * Creates the entity [id] with [value] and queues its `<name>.create` mutation.
     *
     * @throws MizuSyncException.InvalidArgument for an empty id or an id that exists.
     * @throws MizuSyncException.Storage when the store cannot write.
     */
    public fun create(id: String, value: T): Entity<T> {
        val text = codec.encode(value)
        checkOpen()
        hot.write(id, text, create = true)
        return Entity(hot, id, codec, clientFlows)
    }

    /**
     * [create], committed off the calling thread: suspends until the write is durable (with a
     * storage path) and visible. Cancelling the coroutine stops the wait, never the write. The
     * listeners it wakes run where the client's deliveries go (its `delivery`, or the thread
     * that committed it).
     *
     * @throws MizuSyncException.InvalidArgument for an empty id or an id that exists.
     * @throws MizuSyncException.Storage when the store cannot write.
     */
    public suspend fun createAsync(id: String, value: T): Entity<T> {
        val text = codec.encode(value)
        checkOpen()
        native { inner.createAsync(id, text) }.close()
        return Entity(hot, id, codec, clientFlows)
    }

    /** [set], committed off the calling thread (see [createAsync]). */
    public suspend fun setAsync(id: String, value: T) {
        val text = codec.encode(value)
        checkOpen()
        native { inner.setAsync(id, text) }
    }

    /** [delete], committed off the calling thread (see [createAsync]). */
    public suspend fun deleteAsync(id: String) {
        checkOpen()
        native { inner.deleteAsync(id) }
    }

    /** A handle to the entity [id], whether or not it exists (not a read). */
    public fun entity(id: String): Entity<T> {
        checkOpen()
        return Entity(hot, id, codec, clientFlows)
    }

    /** The value of the entity [id], or `null` when it does not exist. Tracked. */
    public operator fun get(id: String): T? {
        checkOpen()
        return codec.decodeOrNull(hot.read(id, tracked = true))
    }

    /**
     * Sets the value of the entity [id], creating it when missing.
     *
     * @throws MizuSyncException.InvalidArgument for an empty id.
     */
    public operator fun set(id: String, value: T) {
        val text = codec.encode(value)
        checkOpen()
        hot.write(id, text, create = false)
    }

    /**
     * Replaces the value of the existing entity [id].
     *
     * @throws MizuSyncException.NotFound when it does not exist.
     */
    public fun update(id: String, value: T) {
        val text = codec.encode(value)
        native { inner.update(id, text) }
    }

    /**
     * Replaces the value of the existing entity [id] with `transform(current)` and returns the new
     * value. The read and the write are two steps: a concurrent write in between is overwritten.
     *
     * @throws MizuSyncException.NotFound when it does not exist.
     */
    public fun update(id: String, transform: (T) -> T): T {
        val current = untracked { get(id) } ?: throw MizuSyncException.NotFound("$name/$id")
        val next = transform(current)
        update(id, next)
        return next
    }

    /** Deletes the entity [id] (nothing happens when it does not exist). */
    public fun delete(id: String): Unit = native { inner.delete(id) }

    /** Every entity's id and value, ordered by id, in one native call. Tracked (any change). */
    public fun entries(): Map<String, T> = native { inner.entries() }.toMap(codec)

    /** The ids of the entities that exist, ordered. Tracked (membership). */
    public fun ids(): List<String> = native { inner.ids() }

    /** How many entities exist. Tracked (membership). */
    public fun count(): Int = native { inner.count() }.toInt()

    /** Where the entity [id] stands with the server (see [Entity.syncState]). Tracked. */
    public fun syncState(id: String): SyncState = native { inner.syncState(id) }.toPublic()

    /** Whether the entity [id] exists. Tracked (that entity's existence). */
    public operator fun contains(id: String): Boolean = native { inner.has(id) }

    /**
     * A live [Query] over this collection, built with the query DSL:
     *
     * ```kotlin
     * val open = todos.query {
     *     where { ("completed" eq false) and ("priority" ge 2) }
     *     orderBy("due", Order.DESC)
     *     limit(50)
     * }
     * ```
     *
     * `todos.query()` selects every entity, ordered by id. Evaluated now.
     *
     * @throws MizuSyncException.InvalidQuery for an empty or malformed field path (`""`,
     *   `"a..b"`); for an operand that is not JSON or a negative limit or offset, before anything
     *   reaches the native library.
     */
    public fun query(build: QueryBuilder.() -> Unit = {}): Query<T> =
        query(QueryBuilder(codec.json).apply(build).toSpecJson())

    /**
     * A live [Query] from its JSON spec, e.g. `{"filter": {"field": "completed", "op": "eq",
     * "value": false}, "order_by": [{"field": "due", "order": "desc"}], "limit": 50}` (every key
     * optional; filters `{"field", "op", "value"}` with `op` one of `eq ne lt le gt ge in
     * contains exists`, or `{"and": [...]}`, `{"or": [...]}`, `{"not": ...}`). Evaluated now.
     *
     * @throws MizuSyncException.InvalidQuery for text that is not JSON or not such a spec (an
     *   unknown key or operator, a malformed path, a negative or fractional limit).
     */
    public fun query(specJson: String): Query<T> = Query(native { inner.query(specJson) }, codec, clientFlows)

    /**
     * Keeps an ordered index on the field at [path] (dots for nested fields), used by queries
     * whose equality filter or first sort key it covers. Idempotent.
     *
     * @throws MizuSyncException.InvalidQuery for an empty or malformed path.
     */
    public fun ensureIndex(path: String): Unit = native { inner.ensureIndex(path) }

    /**
     * Calls [listener] with every entity now (as [CollectionChange.changed]), then after each
     * change with exactly what changed (on the writing thread, or the engine thread for server
     * changes): the cost of a call is that of the change, never of the collection. What it
     * throws goes to [Client.onError].
     */
    public fun subscribe(listener: (CollectionChange<T>) -> Unit): Subscription =
        Subscription(native { inner.subscribe(changeListener(codec, listener)) })

    /**
     * [subscribe] as a cold [Flow]: every entity now, then what each change changed. Completes
     * when this handle or its client is closed.
     *
     * It holds at most [EVENT_BUFFER] changes for a slow collector; when full, it merges them
     * (with the new one) into one change: each entity changed in any of them, with its latest
     * value, as [CollectionChange.changed]; the ids removed and not created again since, as
     * [CollectionChange.removed]. Applying the changes in order to a map still gives
     * [entries]; the backlog is bounded by the number of distinct ids changed, never by the
     * number of changes.
     */
    public val changes: Flow<CollectionChange<T>>
        get() = eventFlow(flows, clientFlows, overflow = mergeChanges()) { emit -> inner.subscribe(changeListener(codec, emit)) }

    /** Releases this handle and cancels its subscriptions. Idempotent. */
    override fun close() {
        closed = true
        inner.release()
        flows.closeAll()
    }

    override fun toString(): String = "Collection($name)"
}

/**
 * A collection's hot handle, shared by the [Collection] wrapper and its [Entity] wrappers, and
 * given back by the cleaner once none of them is reachable. [source] is the native collection
 * it came from: entities make their native object from it when a method that is not a direct
 * call needs one.
 */
internal class HotCollection(private val source: FfiCollection, val name: String) {
    private val handle: Long = source.hotHandle().toLong()

    @Volatile
    private var reachable = true

    /** Keeps this object (and so its handle) reachable until the direct call before it returned. */
    private fun keepAlive() = check(reachable)

    init {
        Hot.releaseWhenCollected(this, Release(handle))
    }

    private class Release(private val handle: Long) : Runnable {
        override fun run() = Hot.mizu_hot_collection_release(handle)
    }

    /** The JSON text of the entity [id], or `null` when it does not exist. */
    fun read(id: String, tracked: Boolean): String? {
        val utf8 = id.toByteArray(Charsets.UTF_8)
        val tag = Hot.mizu_hot_collection_get(handle, utf8, utf8.size.toLong(), if (tracked) 1 else 0)
        keepAlive()
        return when (tag) {
            Hot.JSON -> Hot.slot().let { Hot.text(it.ptr, it.len) }
            Hot.ABSENT -> null
            else -> if (tag < 0) Hot.fail() else throw MizuSyncException.Internal("a direct read returned the unknown tag $tag")
        }
    }

    /** Writes [json] to the entity [id]: like `Collection.create` when [create], else like `set`. */
    fun write(id: String, json: String, create: Boolean) {
        val idUtf8 = id.toByteArray(Charsets.UTF_8)
        val utf8 = json.toByteArray(Charsets.UTF_8)
        val status = Hot.mizu_hot_collection_write(handle, idUtf8, idUtf8.size.toLong(), utf8, utf8.size.toLong(), if (create) 1 else 0)
        keepAlive()
        if (status < 0) Hot.fail()
    }

    /** A native entity for the methods that are not direct calls. */
    fun entity(id: String): FfiEntity = native { source.get(id) }
}

/**
 * What changed in a [Collection] since the previous delivery: only the entities that changed,
 * never the whole collection (except the first delivery, which has every entity as [changed]).
 * Keep a map of your own, updated from each change, when you need the whole contents, or read
 * [Collection.entries].
 *
 * @property changed the entities created or changed since the previous delivery (all of them
 *   in the first one), ordered by id.
 * @property removed the ids of the entities deleted since the previous delivery.
 */
public data class CollectionChange<T>(
    val changed: Map<String, T>,
    val removed: List<String>,
)

/**
 * The overflow of [Collection.changes]: the held changes and the new one, merged into one
 * (changed ids with their latest value, ordered by id; removed ids not re-created since).
 */
private fun <T> mergeChanges(): Overflow<CollectionChange<T>> = { held, event ->
    val changed = TreeMap<String, T>()
    val removed = LinkedHashSet<String>()
    for (change in held + event) {
        for (id in change.removed) {
            changed.remove(id)
            removed.add(id)
        }
        for ((id, value) in change.changed) {
            removed.remove(id)
            changed[id] = value
        }
    }
    held.clear()
    held.addLast(CollectionChange(changed, removed.toList()))
}

private fun <T> List<EntityRecord>.toMap(codec: ValueCodec<T>): Map<String, T> =
    associateTo(LinkedHashMap(size)) { it.id to codec.decode(it.valueJson) }

private fun <T> changeListener(codec: ValueCodec<T>, listener: (CollectionChange<T>) -> Unit): CollectionListener =
    object : CollectionListener {
        override fun onChange(change: FfiCollectionChange) = callback {
            listener(CollectionChange(change.changed.toMap(codec), change.removed))
        }
    }
