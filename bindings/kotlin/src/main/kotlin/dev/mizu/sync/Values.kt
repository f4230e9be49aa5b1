package dev.mizu.sync

import kotlinx.serialization.KSerializer
import kotlinx.serialization.SerializationException
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
internal class ValueCodec<T>(private val serializer: KSerializer<T>, val json: Json) {
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
