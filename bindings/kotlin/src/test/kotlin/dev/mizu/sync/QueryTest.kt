package dev.mizu.sync

import dev.mizu.sync.support.Clients
import dev.mizu.sync.support.ReferenceServer
import dev.mizu.sync.support.SlowCollector
import dev.mizu.sync.support.SyncFixtures
import dev.mizu.sync.support.waitUntil
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.serialization.Serializable
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonArray
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.extension.ExtendWith
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

@ExtendWith(SyncFixtures::class)
class QueryTest {
    @Serializable
    data class Owner(val name: String)

    @Serializable
    data class Task(
        val title: String,
        val completed: Boolean = false,
        val priority: Int = 0,
        val due: String? = null,
        val tags: List<String> = emptyList(),
        val owner: Owner? = null,
    )

    /** A class kotlinx.serialization cannot encode. */
    class Opaque(val x: Int)

    private fun Collection<Task>.fill() {
        this["a"] = Task("a", priority = 3, due = "2025-03-01", tags = listOf("home"), owner = Owner("ann"))
        this["b"] = Task("b", priority = 1, due = "2025-01-01", tags = listOf("work"))
        this["c"] = Task("c", priority = 2, due = "2025-05-01", tags = listOf("home", "work"), owner = Owner("bob"))
        this["d"] = Task("d", completed = true, priority = 5, due = "2025-04-01")
        this["e"] = Task("e", priority = 2, due = "2025-02-01")
        this["f"] = Task("f", priority = 4) // no due date: null sorts first
    }

    @Test
    fun `a filtered, sorted, limited query returns its rows in order`(server: ReferenceServer, clients: Clients) {
        val client = clients.open(server, start = false)
        val tasks = client.collection<Task>("task")
        tasks.fill()

        val open = tasks.query {
            where { ("completed" eq false) and ("priority" ge 2) }
            orderBy("due", Order.DESC)
            limit(3)
        }
        assertEquals(listOf("c", "a", "e"), open.ids())
        assertEquals(listOf(Row("c", tasks["c"]!!), Row("a", tasks["a"]!!), Row("e", tasks["e"]!!)), open.get())
        assertEquals(4, open.count(), "count ignores the limit (c, a, e, f match)")
        assertEquals(
            """{"filter":{"and":[{"field":"completed","op":"eq","value":false},{"field":"priority","op":"ge","value":2}]},""" +
                """"limit":3,"order_by":[{"field":"due","order":"desc"}]}""",
            open.specJson,
            "the spec, canonical (keys sorted)",
        )
        // The same spec as JSON text gives the same query.
        assertEquals(open.get(), tasks.query(open.specJson).get())

        fun ids(build: QueryBuilder.() -> Unit) = tasks.query(build).ids()
        assertEquals(listOf("f", "e", "a"), ids { where { ("completed" eq false) and ("priority" ge 2) }; orderBy("due"); limit(3) })
        assertEquals(listOf("a", "c"), ids { where { "completed" eq false }; orderBy("priority", Order.DESC); offset(1); limit(2) })
        assertEquals(listOf("a", "c"), ids { where { "tags" contains "home" } })
        assertEquals(listOf("b", "c"), ids { where { "title" isIn listOf("b", "c", "z") } })
        assertEquals(listOf("a", "c"), ids { where { "owner.name".exists() and ("owner" ne null) } })
        assertEquals(listOf("a"), ids { where { "owner" eq Owner("ann") } })
        assertEquals(listOf("c"), ids { where { "owner.name" eq "bob" } })
        assertEquals(listOf("b", "d", "e", "f"), ids { where { "owner.name".missing() } })
        assertEquals(tasks.ids(), ids { where { "owner".exists() } }, "a null field is present (MizuJson writes nulls)")
        assertEquals(listOf("b", "d"), ids { where { !("priority" ge 2) or ("completed" eq true) } })
        assertEquals(listOf("b", "e", "f"), ids { where { not("tags" contains "home") and ("due" lt "2025-03-01") } })
        assertEquals(listOf("e", "f"), ids { where { ("priority" gt 1) and ("priority" le 4) }; where { "owner" eq null } })
        assertEquals(listOf("b", "d", "e", "f"), ids { where { "tags" ne buildJsonArray { add(JsonPrimitive("home")) } }; where { "title" ne "c" } })
        assertEquals(listOf("a", "b", "c", "d", "e", "f"), tasks.query().ids(), "no filter: every entity, by id")

        // An index changes how a query is served, not what it returns.
        tasks.ensureIndex("due")
        tasks.ensureIndex("due")
        tasks.ensureIndex("owner.name")
        assertEquals(listOf("c", "a", "e"), tasks.query(open.specJson).ids())
        assertEquals(listOf("c"), ids { where { "owner.name" eq "bob" } })
    }

    @Test
    fun `diffs applied to a list keep it equal to get, for local and pulled writes`(server: ReferenceServer, clients: Clients) {
        val client = clients.open(server, start = false) // first, local writes only
        val tasks = client.collection<Task>("task")
        tasks.fill()
        val open = tasks.query {
            where { "completed" eq false }
            orderBy("priority", Order.DESC)
            limit(4)
        }

        val lock = Any()
        val mirror = mutableListOf<Row<Task>>() // applied by this test's own reading of the ops
        val applied = mutableListOf<Row<Task>>() // applied by QueryDiff.applyTo
        val events = mutableListOf<QueryEvent<Task>>()
        val subscription = open.subscribe { event ->
            synchronized(lock) {
                events += event
                when (event) {
                    is QueryEvent.Result -> {
                        mirror += event.rows
                        applied += event.rows
                    }
                    is QueryEvent.Diff -> {
                        apply(event.diff, mirror)
                        event.diff.applyTo(applied)
                    }
                }
            }
        }
        fun diffs() = synchronized(lock) { events.count { it is QueryEvent.Diff } }
        fun agrees(): Boolean {
            val now = open.get() // not under the lock, which the delivering thread takes
            return synchronized(lock) { mirror == now && applied == mirror }
        }
        assertIs<QueryEvent.Result<Task>>(synchronized(lock) { events.single() })
        assertEquals(listOf("f", "a", "c", "e"), synchronized(lock) { mirror.map { it.id } })

        val steps: List<Pair<String, () -> Unit>> = listOf(
            "insert at the top" to { tasks["g"] = Task("g", priority = 9) },
            "insert in the middle, pushing the last out of the window" to { tasks["h"] = Task("h", priority = 3) },
            "move up" to { tasks.update("c") { it.copy(priority = 10) } },
            "update in place" to { tasks.update("a") { it.copy(title = "a, renamed") } },
            "leave the filter" to { tasks.update("g") { it.copy(completed = true) } },
            "delete" to { tasks.delete("f") },
            "move down and out of the window" to { tasks.update("c") { it.copy(priority = 0) } },
            "enter from below the window" to { tasks.update("b") { it.copy(priority = 8) } },
            "two writes in a batch" to {
                batch {
                    tasks["i"] = Task("i", priority = 7)
                    tasks.delete("a")
                }
            },
        )
        for ((what, write) in steps) {
            val before = diffs()
            write()
            assertTrue(agrees(), "after '$what': ${synchronized(lock) { "${mirror.map { it.id }} (applyTo: ${applied.map { it.id }})" }} vs ${open.ids()}")
            assertTrue(diffs() > before, "'$what' changed the result, so a diff arrived")
        }

        // Writes that leave the result as it is send nothing.
        val before = diffs()
        tasks["j"] = Task("j", completed = true, priority = 99) // fails the filter
        tasks["k"] = Task("k", priority = -1) // passes it, below the window
        tasks.update("d") { it.copy(title = "still done") }
        assertEquals(before, diffs(), "no diff for writes outside the result")
        assertTrue(agrees())

        // Then a second client's writes, pulled in by the engine.
        client.start()
        val other = clients.open(server).collection<Task>("task")
        other["remote-top"] = Task("remote top", priority = 50)
        waitUntil("the remote write is pulled into the query and the diffs still agree") {
            open.ids().firstOrNull() == "remote-top" && agrees()
        }
        waitUntil("both clients see the same data") { other.count() == tasks.count() }
        other.update("remote-top") { it.copy(completed = true) }
        other.update("k") { it.copy(priority = 60) }
        waitUntil("the remote updates are pulled in and the diffs still agree") {
            open.ids().firstOrNull() == "k" && "remote-top" !in open.ids() && agrees()
        }
        subscription.cancel()
        val after = diffs()
        tasks["l"] = Task("l", priority = 100)
        assertEquals(after, diffs(), "a cancelled subscription hears nothing")
    }

    @Test
    fun `the first diff ops are exact`(server: ReferenceServer, clients: Clients) {
        val tasks = clients.open(server, start = false).collection<Task>("task")
        tasks["a"] = Task("a", priority = 1)
        tasks["c"] = Task("c", priority = 3)
        val query = tasks.query { orderBy("priority") }
        val events = CopyOnWriteArrayList<QueryEvent<Task>>()
        query.subscribe { events += it }.use {
            tasks["b"] = Task("b", priority = 2)
            tasks.update("b") { it.copy(title = "B") }
            tasks.update("a") { it.copy(priority = 4) }
            tasks.delete("c")
        }
        assertEquals(
            listOf<QueryEvent<Task>>(
                QueryEvent.Result(listOf(Row("a", Task("a", priority = 1)), Row("c", Task("c", priority = 3)))),
                QueryEvent.Diff(QueryDiff(listOf(QueryDiffOp.Inserted(1, "b", Task("b", priority = 2))))),
                QueryEvent.Diff(QueryDiff(listOf(QueryDiffOp.Updated(1, "b", Task("B", priority = 2))))),
                QueryEvent.Diff(QueryDiff(listOf(QueryDiffOp.Moved(0, 2, "a"), QueryDiffOp.Updated(2, "a", Task("a", priority = 4))))),
                QueryEvent.Diff(QueryDiff(listOf(QueryDiffOp.Removed(1, "c")))),
            ),
            events.toList(),
        )
    }

    @Test
    fun `the flows emit the result, then each new list and each diff`(server: ReferenceServer, clients: Clients) = runBlocking<Unit> {
        val tasks = clients.open(server, start = false).collection<Task>("task")
        tasks.fill()
        val query = tasks.query {
            where { "tags" contains "home" }
            orderBy("title")
        }
        val lists = Channel<List<Row<Task>>>(Channel.UNLIMITED)
        val events = Channel<QueryEvent<Task>>(Channel.UNLIMITED)
        val state = query.asStateFlow()
        val listJob = launch(Dispatchers.Default) { query.results().collect { lists.send(it) } }
        val diffJob = launch(Dispatchers.Default) { query.diffs().collect { events.send(it) } }
        suspend fun <E> Channel<E>.next(): E = withTimeout(20.seconds) { receive() }

        assertEquals(query.get(), lists.next())
        assertEquals(QueryEvent.Result(query.get()), events.next())
        assertEquals(query.get(), state.value, "the state holder has the result at once")
        assertEquals(listOf("a", "c"), query.ids())

        tasks["b"] = Task("b", tags = listOf("home"))
        assertEquals(query.get(), lists.next())
        assertEquals(QueryEvent.Diff(QueryDiff(listOf(QueryDiffOp.Inserted(1, "b", Task("b", tags = listOf("home")))))), events.next())

        tasks.delete("a")
        tasks.update("c") { it.copy(tags = listOf("work")) }
        // results() conflates: the list after the delete may be skipped, never the last one.
        val last = listOf(Row("b", Task("b", tags = listOf("home"))))
        while (true) if (lists.next() == last) break
        assertEquals(last, state.value, "local writes update the state holder before they return")
        assertEquals(QueryEvent.Diff(QueryDiff(listOf(QueryDiffOp.Removed(0, "a")))), events.next())
        assertEquals(QueryEvent.Diff(QueryDiff(listOf(QueryDiffOp.Removed(1, "c")))), events.next())

        // Closing the query completes its flows.
        query.close()
        query.close()
        withTimeout(20.seconds) {
            listJob.join()
            diffJob.join()
        }
        assertEquals("query", assertThrows<MizuSyncException.Closed> { query.get() }.what)
        assertIs<MizuSyncException.Closed>(runCatching { query.results().toList() }.exceptionOrNull(), "a closed query cannot be collected")
    }

    /** 10,000 writes over 50 tasks (inserts, moves, updates, removals from the query below), then "last". */
    private fun Collection<Task>.churn() {
        for (i in 0 until 10_000) {
            val id = "t${i % 50}"
            if (i % 13 == 0) delete(id) else this[id] = Task(id, completed = i % 7 == 0, priority = (i * 7919) % 101)
        }
        this["last"] = Task("last", priority = -1)
    }

    private fun Collection<Task>.churnQuery() = query {
        where { "completed" eq false }
        orderBy("priority")
        limit(20)
    }

    @Test
    fun `a slow collector of diffs restarts from a fresh result and stays equal to get`(server: ReferenceServer, clients: Clients) = runBlocking {
        val tasks = clients.open(server, start = false).collection<Task>("task")
        val query = tasks.churnQuery()
        val rows = ArrayList<Row<Task>>() // only touched on the collector's thread
        var results = 0
        val slow = SlowCollector(
            this,
            query.diffs(),
            onItem = { event ->
                when (event) {
                    is QueryEvent.Result -> {
                        results++
                        rows.clear()
                        rows.addAll(event.rows)
                    }
                    is QueryEvent.Diff -> apply(event.diff, rows)
                }
            },
            done = { rows.any { it.id == "last" } },
        )
        val lists = SlowCollector(this, query.results(), done = { list -> list.any { it.id == "last" } })
        try {
            slow.awaitFirst()
            lists.awaitFirst()
            tasks.churn()
            slow.release()
            lists.release()
            slow.awaitDone("the diffs reached the last write")
            lists.awaitDone("the lists reached the last write")
        } finally {
            slow.release()
            lists.release()
            slow.job.cancel()
            lists.job.cancel()
        }
        assertEquals(query.get(), rows, "the events, applied in order, give the result")
        assertEquals(query.get(), lists.received.last())
        assertTrue(results >= 2, "a full buffer restarted from a fresh Result ($results results)")
        assertTrue(slow.received.size <= EVENT_BUFFER + 1, "at most EVENT_BUFFER events held: got ${slow.received.size}")
        assertTrue(lists.received.size <= EVENT_BUFFER + 1, "at most EVENT_BUFFER events held: got ${lists.received.size}")
        query.close()
    }

    @Test
    fun `a slow collector of collection changes gets them merged, still adding up to entries`(server: ReferenceServer, clients: Clients) = runBlocking {
        val tasks = clients.open(server, start = false).collection<Task>("task")
        tasks["gone"] = Task("gone")
        val contents = HashMap<String, Task>() // only touched on the collector's thread
        val slow = SlowCollector(
            this,
            tasks.changes,
            onItem = { change ->
                change.removed.forEach { contents.remove(it) }
                contents.putAll(change.changed)
            },
            done = { "last" in contents },
        )
        try {
            slow.awaitFirst()
            tasks.delete("gone")
            tasks.churn()
            slow.release()
            slow.awaitDone("the changes reached the last write")
        } finally {
            slow.release()
            slow.job.cancel()
        }
        assertEquals(tasks.entries(), contents, "the changes, applied in order, give the contents")
        assertTrue(slow.received.size <= EVENT_BUFFER + 1, "at most EVENT_BUFFER changes held: got ${slow.received.size}")
        val merged = slow.received.first()
        assertTrue(merged.changed.size + merged.removed.size > 1, "a full buffer merged its changes: $merged")
        assertTrue("gone" in merged.removed, "a removal survives the merge: $merged")
    }

    @Test
    fun `a computed over ids recomputes only when the result changes`(server: ReferenceServer, clients: Clients) {
        val tasks = clients.open(server, start = false).collection<Task>("task")
        tasks.fill()
        val top = tasks.query {
            where { "completed" eq false }
            orderBy("priority", Order.DESC)
            limit(2)
        }
        val runs = AtomicInteger()
        val ids = Computed {
            runs.incrementAndGet()
            top.ids()
        }
        val counts = AtomicInteger()
        val count = Computed {
            counts.incrementAndGet()
            top.count()
        }
        assertEquals(listOf("f", "a"), ids.value)
        assertEquals(5, count.value)
        assertEquals(1, runs.get())
        assertEquals(1, counts.get())

        tasks["x"] = Task("x", completed = true, priority = 100) // fails the filter
        tasks.update("d") { it.copy(title = "d, still done") } // fails it too
        tasks.update("b") { it.copy(title = "b, below the window") } // matches, outside the window
        assertEquals(listOf("f", "a"), ids.value)
        assertEquals(5, count.value)
        assertEquals(1, runs.get(), "no recompute for writes outside the result")
        assertEquals(1, counts.get(), "no recompute when the number of matches stays")

        tasks.update("b") { it.copy(priority = 5) } // enters the window; as many matches as before
        assertEquals(listOf("b", "f"), ids.value)
        assertEquals(2, runs.get())
        assertEquals(5, count.value)
        assertEquals(1, counts.get(), "count did not change")

        tasks["y"] = Task("y", priority = 1) // one more match, below the window
        assertEquals(listOf("b", "f"), ids.value)
        assertEquals(2, runs.get())
        assertEquals(6, count.value)
        assertEquals(2, counts.get())
        ids.close()
        count.close()
    }

    @Test
    fun `bad input throws InvalidQuery, and the builder throws before crossing`(server: ReferenceServer, clients: Clients) {
        val client = clients.open(server, start = false)
        val tasks = client.collection<Task>("task")
        tasks.fill()

        // Refused by the native library: malformed paths and specs.
        val native = listOf<Pair<String, () -> Unit>>(
            "an empty path" to { tasks.query { where { "" eq 1 } } },
            "an empty segment" to { tasks.query { where { "a..b" eq 1 } } },
            "a trailing dot" to { tasks.query { where { "a." eq 1 } } },
            "an empty sort path" to { tasks.query { orderBy("") } },
            "text that is not JSON" to { tasks.query("not json") },
            "a spec that is not an object" to { tasks.query("[]") },
            "an unknown operator" to { tasks.query("""{"filter": {"field": "a", "op": "like", "value": 1}}""") },
            "an unknown key" to { tasks.query("""{"where": {"field": "a", "op": "eq", "value": 1}}""") },
            "a missing operand" to { tasks.query("""{"filter": {"field": "a", "op": "eq"}}""") },
            "in without an array" to { tasks.query("""{"filter": {"field": "a", "op": "in", "value": 1}}""") },
            "a negative limit in JSON" to { tasks.query("""{"limit": -1}""") },
            "a fractional limit" to { tasks.query("""{"limit": 1.5}""") },
            "a bad order" to { tasks.query("""{"order_by": [{"field": "a", "order": "up"}]}""") },
            "an empty index path" to { tasks.ensureIndex("") },
            "a malformed index path" to { tasks.ensureIndex("a..b") },
        )
        for ((what, call) in native) {
            val error = assertThrows<MizuSyncException.InvalidQuery>(what) { call() }
            assertTrue(error.reason.isNotBlank(), what)
        }

        // Refused by the builder itself, before anything crosses: the call in the block throws,
        // so the rest of the block never runs and no spec reaches the native library.
        val builder = listOf<Pair<String, QueryBuilder.() -> Unit>>(
            "a negative limit" to { limit(-1) },
            "a negative offset" to { offset(-5) },
            "a non-serializable operand" to { where { "title" eq Opaque(1) } },
            "Any()" to { where { "title" eq Any() } },
            "NaN" to { where { "priority" lt Double.NaN } },
            "an infinity" to { where { "priority" lt Float.POSITIVE_INFINITY } },
            "NaN as a JsonPrimitive" to { where { "priority" eq JsonPrimitive(Double.NaN) } },
            "a non-serializable element of in" to { where { "title" isIn listOf("a", Opaque(2)) } },
            "a map with non-string keys" to { where { "owner" eq mapOf(1 to "ann") } },
            "a nested non-serializable value" to { where { "tags" contains listOf(mapOf("k" to Opaque(3))) } },
            "a bad operand deep in a combination" to { where { ("completed" eq false) and not("title" ne Opaque(4)) } },
        )
        for ((what, build) in builder) {
            var built = false
            val error = assertThrows<MizuSyncException.InvalidQuery>(what) {
                tasks.query {
                    build()
                    built = true
                }
            }
            assertFalse(built, "$what: thrown by the builder, not by the native library")
            assertTrue(error.reason.isNotBlank(), what)
        }

        // Never a silently empty result: the good version of each query works.
        assertEquals(listOf("a"), tasks.query { where { "title" eq "a" }; limit(1) }.ids())
        assertEquals(listOf("a"), tasks.query { where { "owner" eq mapOf("name" to "ann") } }.ids())
    }
}

/** Applies [diff] to [rows] as the ops are documented (in order; a move is remove, then insert). */
private fun <T> apply(diff: QueryDiff<T>, rows: MutableList<Row<T>>) {
    for (op in diff) {
        when (op) {
            is QueryDiffOp.Removed -> assertEquals(op.id, rows.removeAt(op.index).id)
            is QueryDiffOp.Inserted -> rows.add(op.index, Row(op.id, op.value))
            is QueryDiffOp.Moved -> rows.add(op.to, rows.removeAt(op.from).also { assertEquals(op.id, it.id) })
            is QueryDiffOp.Updated -> {
                assertEquals(op.id, rows[op.index].id)
                rows[op.index] = Row(op.id, op.value)
            }
        }
    }
}
