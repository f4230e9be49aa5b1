package dev.mizu.sync

import dev.mizu.sync.support.Clients
import dev.mizu.sync.support.ReferenceServer
import dev.mizu.sync.support.SyncFixtures
import dev.mizu.sync.support.Todo
import dev.mizu.sync.support.tempDir
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.extension.ExtendWith
import java.io.File
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlin.time.Duration.Companion.seconds

/**
 * Encryption at rest: an encrypted store's file and WAL hold none of the written text, it opens
 * with its key only ([MizuSyncException.WrongKey] otherwise), [Client.rekey] changes the key, and a
 * store without a key keeps its text in plain SQLite.
 */
@ExtendWith(SyncFixtures::class)
class EncryptionTest {
    private val key = "correct horse battery staple"
    private val localSecret = "kt-local-secret-5a7f2"
    private val pulledSecret = "kt-pulled-secret-c31b8"

    /** Which of the store file and its WAL hold [needle] in clear (raw bytes). */
    private fun filesHolding(db: File, needle: String): List<String> =
        listOf(db, File("${db.path}-wal")).filter { it.exists() && it.readBytes().contains(needle) }.map { it.name }

    private fun ByteArray.contains(needle: String): Boolean {
        val n = needle.toByteArray()
        return (0..size - n.size).any { i -> n.indices.all { this[i + it] == n[it] } }
    }

    private fun offline(db: File, encryptionKey: String? = null) =
        Client(ClientOptions(baseUrl = "http://127.0.0.1:9/_sync", storagePath = db.path, encryptionKey = encryptionKey))

    /** A synced client on [db] with a local write and a change pulled from another writer. */
    private fun writeSecrets(server: ReferenceServer, clients: Clients, db: File, encryptionKey: String?): Client {
        val client = clients.track(Client(clients.options(server, db.path).copy(encryptionKey = encryptionKey)))
        client.start()
        client.collection<Todo>("todo").create("t1", Todo(localSecret))
        val other = clients.open(server)
        other.collection<Todo>("todo").create("t2", Todo(pulledSecret))
        other.flushBlocking(20.seconds)
        client.flushBlocking(20.seconds)
        client.syncBlocking()
        assertEquals(Todo(pulledSecret), client.collection<Todo>("todo").get("t2"))
        return client
    }

    @Test
    fun `an encrypted store holds no plaintext and reopens with its key`(server: ReferenceServer, clients: Clients) {
        val db = tempDir("encrypted").resolve("store.db").toFile()
        val client = writeSecrets(server, clients, db, key)
        for (phase in listOf("open", "closed")) {
            assertFalse(db.readBytes().copyOf(15).decodeToString() == "SQLite format 3", phase)
            for (secret in listOf(localSecret, pulledSecret, "CREATE TABLE")) {
                assertEquals(emptyList(), filesHolding(db, secret), "$phase: $secret")
            }
            client.close()
        }
        offline(db, key).use { reopened ->
            assertEquals(mapOf("t1" to Todo(localSecret), "t2" to Todo(pulledSecret)), reopened.collection<Todo>("todo").entries())
        }
    }

    @Test
    fun `a plain store holds the same text in clear`(server: ReferenceServer, clients: Clients) {
        val db = tempDir("plain").resolve("store.db").toFile()
        writeSecrets(server, clients, db, null).close()
        assertEquals("SQLite format 3", db.readBytes().copyOf(15).decodeToString())
        assertTrue(filesHolding(db, localSecret).isNotEmpty())
        assertTrue(filesHolding(db, pulledSecret).isNotEmpty())
    }

    @Test
    fun `a wrong or missing key throws WrongKey and changes nothing`() {
        val db = tempDir("wrong-key").resolve("store.db").toFile()
        offline(db, key).use { it.collection<Todo>("todo").create("t1", Todo(localSecret)) }
        val before = db.readBytes()
        val wrong = assertThrows<MizuSyncException.WrongKey> { offline(db, "not the key") }
        assertTrue("does not decrypt" in wrong.reason, wrong.reason)
        val missing = assertThrows<MizuSyncException.WrongKey> { offline(db) }
        assertTrue("is encrypted" in missing.reason, missing.reason)
        assertContentEquals(before, db.readBytes())
        offline(db, key).use { client ->
            assertEquals(Todo(localSecret), client.collection<Todo>("todo").get("t1"))
            assertEquals(1L, client.pendingCount)
        }
    }

    @Test
    fun `rekey then only the new key opens the store`() {
        val db = tempDir("rekey").resolve("store.db").toFile()
        offline(db, key).use { client ->
            val todos = client.collection<Todo>("todo")
            for (i in 0 until 100) todos.create("t%03d".format(i), Todo("before-$i"))
            client.rekey("the new key")
            todos.create("after", Todo(localSecret))
        }
        assertEquals(emptyList(), filesHolding(db, localSecret))
        assertThrows<MizuSyncException.WrongKey> { offline(db, key) }
        offline(db, "the new key").use { client ->
            val todos = client.collection<Todo>("todo")
            assertEquals(101, todos.count())
            assertEquals(Todo(localSecret), todos.get("after"))
        }
    }

    @Test
    fun `rekey and key misuse throw InvalidArgument, and toString hides the key`() {
        val dir = tempDir("misuse")
        offline(dir.resolve("plain.db").toFile()).use { plain ->
            val e = assertThrows<MizuSyncException.InvalidArgument> { plain.rekey("k") }
            assertTrue("not encrypted" in e.reason, e.reason)
        }
        offline(dir.resolve("keyed.db").toFile(), key).use { keyed ->
            assertThrows<MizuSyncException.InvalidArgument> { keyed.rekey("") }
        }
        val noFile = assertThrows<MizuSyncException.InvalidArgument> {
            Client(ClientOptions(baseUrl = "http://127.0.0.1:9/_sync", encryptionKey = key))
        }
        assertTrue("needs a storage_path" in noFile.reason, noFile.reason)
        val printed = ClientOptions(baseUrl = "http://h/_sync", storagePath = "/tmp/x.db", encryptionKey = key).toString()
        assertFalse(key in printed, printed)
        assertTrue("encrypted=true" in printed, printed)
    }

    @Test
    fun `the durability option is the store file's synchronous mode`() {
        val db = tempDir("durability").resolve("store.db").toFile()
        val base = ClientOptions(baseUrl = "http://127.0.0.1:9/_sync", storagePath = db.path)
        for ((options, expected) in listOf(
            base to Durability.FULL,
            base.copy(durability = Durability.NORMAL) to Durability.NORMAL,
            base.copy(durability = Durability.FULL) to Durability.FULL,
        )) {
            val client = Client(options)
            assertEquals(expected, client.durability)
            client.close()
            assertThrows<MizuSyncException.Closed> { client.durability }
        }
        Client(ClientOptions(baseUrl = "http://127.0.0.1:9/_sync", durability = Durability.NORMAL)).use {
            assertEquals(null, it.durability)
        }
        assertTrue("durability=NORMAL" in base.copy(durability = Durability.NORMAL).toString())
    }

    @Test
    fun `a normal durability store keeps every write across reopens`() {
        val db = tempDir("durability-normal").resolve("store.db").toFile()
        val options = ClientOptions(baseUrl = "http://127.0.0.1:9/_sync", storagePath = db.path, durability = Durability.NORMAL)
        Client(options).use { client ->
            val todos = client.collection<Todo>("todo")
            for (i in 0 until 50) todos.create("t$i", Todo("title $i"))
        }
        Client(options).use { client ->
            assertEquals(50, client.collection<Todo>("todo").count())
            assertEquals(50L, client.pendingCount)
        }
    }
}
