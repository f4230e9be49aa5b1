package dev.mizu.sync

import kotlinx.serialization.KSerializer
import kotlinx.serialization.SerializationException
import kotlinx.serialization.builtins.nullable
import kotlinx.serialization.builtins.serializer
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.Json

/**
 * The [Json] used when none is given: unknown keys are ignored (an older app reads what a newer
 * one wrote), default values are written, and `null` fields are kept.
 */
public val MizuJson: Json = Json {
    ignoreUnknownKeys = true
    encodeDefaults = true
}

/** Turns values of one type into the JSON text that crosses into the native library, and back. */
internal class ValueCodec<T>(val serializer: KSerializer<T>, val json: Json) {
    fun encode(value: T): String =
        try {
            json.encodeToString(serializer, value)
        } catch (e: SerializationException) {
            throw MizuSyncException.InvalidJson(e.message ?: "cannot encode the value", e)
        }

    fun decode(text: String): T =
        try {
            json.decodeFromString(serializer, text)
        } catch (e: IllegalArgumentException) {
            // SerializationException is an IllegalArgumentException; so is a failed `require` in
            // the class's init block.
            throw MizuSyncException.InvalidJson(e.message ?: "cannot decode $text", e)
        }

    fun decodeOrNull(text: String?): T? = text?.let(::decode)
}

/**
 * A [ValueCodec] for direct calls: values of the types JSON has as scalars (`Int`, `Long`,
 * `Double`, `Boolean`, `String`, and those types made nullable, by their built-in serializer)
 * cross as typed numbers and characters, with no JSON text on either side, and can be cached
 * with their version (they are immutable); everything else crosses as JSON text.
 */
internal class HotCodec<T>(val codec: ValueCodec<T>) {
    private enum class Kind { INT, LONG, DOUBLE, BOOLEAN, STRING, JSON }

    private val kind: Kind
    private val nullable: Boolean

    init {
        val serializer = codec.serializer
        kind = when (serializer as Any) {
            Int.serializer(), Int.serializer().nullable -> Kind.INT
            Long.serializer(), Long.serializer().nullable -> Kind.LONG
            Double.serializer(), Double.serializer().nullable -> Kind.DOUBLE
            Boolean.serializer(), Boolean.serializer().nullable -> Kind.BOOLEAN
            String.serializer(), String.serializer().nullable -> Kind.STRING
            else -> Kind.JSON
        }
        nullable = kind != Kind.JSON && serializer.descriptor.isNullable
    }

    /** Whether values are immutable scalars, which a signal may cache with their version. */
    val cacheable: Boolean get() = kind != Kind.JSON

    /** Sets the signal behind the hot handle [signal] to [value]: the version it now holds, negative on error. */
    fun set(signal: Long, value: T): Long = when {
        value == null && nullable -> Hot.mizu_hot_signal_set_null(signal)
        kind == Kind.INT -> Hot.mizu_hot_signal_set_int(signal, (value as Int).toLong())
        kind == Kind.LONG -> Hot.mizu_hot_signal_set_int(signal, value as Long)
        kind == Kind.DOUBLE -> Hot.mizu_hot_signal_set_float(signal, value as Double)
        kind == Kind.BOOLEAN -> Hot.mizu_hot_signal_set_bool(signal, if (value as Boolean) 1 else 0)
        kind == Kind.STRING -> {
            val utf8 = (value as String).toByteArray(Charsets.UTF_8)
            Hot.mizu_hot_signal_set_string(signal, utf8, utf8.size.toLong())
        }
        else -> {
            val utf8 = codec.encode(value).toByteArray(Charsets.UTF_8)
            Hot.mizu_hot_signal_set_json(signal, utf8, utf8.size.toLong())
        }
    }

    /** Gives [value] as the result of the running computed function (`mizu_hot_result_*`). */
    fun give(value: T) {
        when {
            value == null && nullable -> Hot.mizu_hot_result_null()
            kind == Kind.INT -> Hot.mizu_hot_result_int((value as Int).toLong())
            kind == Kind.LONG -> Hot.mizu_hot_result_int(value as Long)
            kind == Kind.DOUBLE -> Hot.mizu_hot_result_float(value as Double)
            kind == Kind.BOOLEAN -> Hot.mizu_hot_result_bool(if (value as Boolean) 1 else 0)
            kind == Kind.STRING -> {
                val utf8 = (value as String).toByteArray(Charsets.UTF_8)
                Hot.mizu_hot_result_string(utf8, utf8.size.toLong())
            }
            else -> {
                val utf8 = codec.encode(value).toByteArray(Charsets.UTF_8)
                Hot.mizu_hot_result_json(utf8, utf8.size.toLong())
            }
        }
    }

    /** The value a direct read left in this thread's slot, as [tag] says. */
    fun fromSlot(tag: Int): T {
        val slot = Hot.slot()
        return decode(tag, slot.int, slot.float, slot.ptr, slot.len)
    }

    /**
     * The value of a tag and payload. A scalar of the expected kind is taken as it is; anything
     * else goes through the codec as JSON text, so a mismatch (a string in a `Signal<Int>`)
     * throws [MizuSyncException.InvalidJson] exactly as decoding the JSON would.
     */
    @Suppress("UNCHECKED_CAST")
    fun decode(tag: Int, int: Long, float: Double, ptr: Long, len: Long): T = when {
        tag == Hot.NULL && nullable -> null as T
        kind == Kind.INT && tag == Hot.INT && int >= Int.MIN_VALUE && int <= Int.MAX_VALUE -> int.toInt() as T
        kind == Kind.LONG && tag == Hot.INT -> int as T
        kind == Kind.DOUBLE && tag == Hot.FLOAT -> float as T
        kind == Kind.DOUBLE && tag == Hot.INT -> int.toDouble() as T
        kind == Kind.BOOLEAN && (tag == Hot.TRUE || tag == Hot.FALSE) -> (tag == Hot.TRUE) as T
        kind == Kind.STRING && tag == Hot.STRING -> Hot.text(ptr, len) as T
        else -> codec.decode(jsonText(tag, int, float, ptr, len))
    }

    private fun jsonText(tag: Int, int: Long, float: Double, ptr: Long, len: Long): String = when (tag) {
        Hot.NULL -> "null"
        Hot.FALSE -> "false"
        Hot.TRUE -> "true"
        Hot.INT -> int.toString()
        Hot.FLOAT -> float.toString()
        Hot.STRING -> JsonPrimitive(Hot.text(ptr, len)).toString()
        Hot.JSON -> Hot.text(ptr, len)
        else -> throw MizuSyncException.Internal("a direct read returned the unknown tag $tag")
    }
}

/**
 * A value read by direct calls that answer with versions (a [Signal]'s, a [Computed]'s): the
 * last scalar value read or written, with its version. A read of an unchanged value still
 * crosses once (it may be tracked) but copies and decodes nothing. Safe from any thread: a
 * value and its version are replaced together.
 */
internal class VersionCache<T>(val codec: HotCodec<T>) {
    class Versioned<T>(val version: Long, val value: T)

    @Volatile
    private var cached: Versioned<T>? = null

    /** What to pass to the read (its `known_version` is `known?.version ?: 0`), then to [read]. */
    val known: Versioned<T>? get() = cached

    /**
     * The value of a direct read that returned [tag] after being passed [known]: the cached
     * value when unchanged, else the value in this thread's slot (cached when it is a scalar).
     * Raises the read's typed error when [tag] is negative.
     */
    fun read(tag: Int, known: Versioned<T>?): T {
        if (tag == Hot.UNCHANGED && known != null) return known.value
        if (tag < 0) Hot.fail()
        val version = Hot.slot().version
        val value = codec.fromSlot(tag)
        if (codec.cacheable) cached = Versioned(version, value)
        return value
    }

    /** Records [value], just written, at [version] (what the write returned, not negative). */
    fun wrote(version: Long, value: T) {
        // (A write made meanwhile on another thread has a newer version: reads see it.)
        if (codec.cacheable) cached = Versioned(version, value)
    }
}
