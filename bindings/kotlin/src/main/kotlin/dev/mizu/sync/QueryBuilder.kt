package dev.mizu.sync

import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.serializer
import java.math.BigInteger

/** Marks the query DSL's scopes, keeping them apart: `limit(…)` cannot be called inside `where { }`. */
@DslMarker
public annotation class QueryDsl

/** A sort direction of [QueryBuilder.orderBy]. */
public enum class Order {
    /** Smallest first (the total order `null < false < true < numbers < strings < arrays < objects`). */
    ASC,

    /** Largest first. */
    DESC,
}

/**
 * Which entities a [Query] selects: a condition on the fields of their values, made in
 * [QueryBuilder.where] with [FilterScope]'s operators (`"completed" eq false`) and combined with
 * [and], [or] and [not]. A value, printed as its JSON form.
 */
public class Filter internal constructor(internal val json: JsonObject) {
    /** Entities that pass both this filter and [other]. */
    public infix fun and(other: Filter): Filter = Filter(JsonObject(mapOf("and" to JsonArray(parts("and") + other.parts("and")))))

    /** Entities that pass this filter or [other] (or both). */
    public infix fun or(other: Filter): Filter = Filter(JsonObject(mapOf("or" to JsonArray(parts("or") + other.parts("or")))))

    /** Entities that do not pass this filter (`!("completed" eq true)`). */
    public operator fun not(): Filter = Filter(JsonObject(mapOf("not" to json)))

    /** The operands of a chain of [combinator]s (`a and b and c` is one `and` of three). */
    private fun parts(combinator: String): List<JsonElement> =
        (json[combinator] as? JsonArray)?.takeIf { json.size == 1 } ?: listOf(json)

    override fun equals(other: Any?): Boolean = other is Filter && other.json == json

    override fun hashCode(): Int = json.hashCode()

    override fun toString(): String = json.toString()
}

/**
 * The receiver of [QueryBuilder.where]: operators on field paths (dots for nested fields, e.g.
 * `"meta.owner"`; a number segment indexes an array) that make [Filter]s.
 *
 * Operands are any JSON value: `null`, booleans, numbers, strings, lists, arrays, maps with
 * string keys, `JsonElement`s, and `@Serializable` classes (encoded with the collection's
 * [Json]). Comparisons use one total order, `null < false < true < numbers < strings < arrays <
 * objects`; a missing field compares as `null`.
 *
 * @throws MizuSyncException.InvalidQuery from an operator whose operand is not JSON (a class
 *   kotlinx.serialization cannot encode, `NaN`, an infinity, a map with non-string keys).
 */
@QueryDsl
public class FilterScope internal constructor(private val json: Json) {
    /** The field equals [value]. */
    public infix fun String.eq(value: Any?): Filter = compare(this, "eq", value)

    /** The field does not equal [value] (a missing field, being `null`, differs from `1`). */
    public infix fun String.ne(value: Any?): Filter = compare(this, "ne", value)

    /** The field is less than [value]. */
    public infix fun String.lt(value: Any?): Filter = compare(this, "lt", value)

    /** The field is less than or equal to [value]. */
    public infix fun String.le(value: Any?): Filter = compare(this, "le", value)

    /** The field is greater than [value]. */
    public infix fun String.gt(value: Any?): Filter = compare(this, "gt", value)

    /** The field is greater than or equal to [value]. */
    public infix fun String.ge(value: Any?): Filter = compare(this, "ge", value)

    /** The field equals one of [values]. */
    public infix fun String.isIn(values: Iterable<*>): Filter = compare(this, "in", JsonArray(values.map(::operand)))

    /** The field equals one of [values]. */
    public infix fun String.isIn(values: Array<*>): Filter = isIn(values.asList())

    /** The field is a string containing the string [value], or an array with an element equal to [value]. */
    public infix fun String.contains(value: Any?): Filter = compare(this, "contains", value)

    /** The field is present (with any value, `null` included). */
    public fun String.exists(): Filter = compare(this, "exists", true)

    /** The field is absent. */
    public fun String.missing(): Filter = compare(this, "exists", false)

    /** Entities that do not pass [filter]; the same as `!filter`. */
    public fun not(filter: Filter): Filter = !filter

    private fun compare(field: String, op: String, value: Any?): Filter =
        Filter(JsonObject(mapOf("field" to JsonPrimitive(field), "op" to JsonPrimitive(op), "value" to operand(value))))

    /** [value] as JSON, or [MizuSyncException.InvalidQuery] when it is not JSON. */
    private fun operand(value: Any?): JsonElement =
        when (value) {
            null -> JsonNull
            is JsonElement -> value.also(::checkFinite)
            is Boolean -> JsonPrimitive(value)
            is String -> JsonPrimitive(value)
            is Char -> JsonPrimitive(value.toString())
            is Double -> JsonPrimitive(finite(value))
            is Float -> JsonPrimitive(value.also { finite(it.toDouble()) })
            is Number -> JsonPrimitive(value)
            is UByte, is UShort, is UInt, is ULong -> JsonPrimitive(BigInteger(value.toString()))
            is Map<*, *> -> JsonObject(
                value.entries.associate { (key, item) ->
                    if (key !is String) throw MizuSyncException.InvalidQuery("a map operand needs string keys, not $key")
                    key to operand(item)
                },
            )
            is Iterable<*> -> JsonArray(value.map(::operand))
            is Array<*> -> JsonArray(value.map(::operand))
            is IntArray -> JsonArray(value.map(::JsonPrimitive))
            is LongArray -> JsonArray(value.map(::JsonPrimitive))
            is DoubleArray -> JsonArray(value.map { JsonPrimitive(finite(it)) })
            is BooleanArray -> JsonArray(value.map(::JsonPrimitive))
            else -> encoded(value)
        }

    /** A value of a class kotlinx.serialization knows at run time (`@Serializable`, enums, ...). */
    private fun encoded(value: Any): JsonElement =
        try {
            json.encodeToJsonElement(json.serializersModule.serializer(value.javaClass), value).also(::checkFinite)
        } catch (e: SerializationException) {
            throw MizuSyncException.InvalidQuery("the operand $value (${value.javaClass.name}) is not JSON: ${e.message}", e)
        } catch (e: IllegalArgumentException) {
            throw MizuSyncException.InvalidQuery("the operand $value (${value.javaClass.name}) is not JSON: ${e.message}", e)
        }

    private fun finite(value: Double): Double =
        if (value.isFinite()) value else throw MizuSyncException.InvalidQuery("the operand $value is not a JSON number")

    /** Refuses a `JsonPrimitive(Double.NaN)` (printed `NaN`, which is not JSON) anywhere inside [element]. */
    private fun checkFinite(element: JsonElement) {
        when (element) {
            is JsonArray -> element.forEach(::checkFinite)
            is JsonObject -> element.values.forEach(::checkFinite)
            is JsonPrimitive -> if (!element.isString && element.content in NOT_NUMBERS) finite(Double.NaN)
        }
    }

    private companion object {
        val NOT_NUMBERS = setOf("NaN", "Infinity", "-Infinity")
    }
}

/**
 * Builds a [Query]'s spec in [Collection.query]:
 *
 * ```kotlin
 * val open = todos.query {
 *     where { ("completed" eq false) and ("tags" contains "home") }
 *     orderBy("due", Order.DESC)
 *     limit(50)
 * }
 * ```
 *
 * Without [where] every entity matches; without [orderBy] rows are ordered by id (ties of every
 * order are broken by id, ascending).
 */
@QueryDsl
public class QueryBuilder internal constructor(private val json: Json) {
    private var filter: Filter? = null
    private val order = mutableListOf<JsonElement>()
    private var offset = 0
    private var limit: Int? = null

    /**
     * Keeps the entities that pass the filter [build] returns; a second `where` is combined with
     * the first by `and`.
     *
     * @throws MizuSyncException.InvalidQuery when an operand is not JSON.
     */
    public fun where(build: FilterScope.() -> Filter) {
        val next = FilterScope(json).build()
        filter = filter?.and(next) ?: next
    }

    /** Sorts by the field at [field], after the keys of earlier calls. */
    public fun orderBy(field: String, order: Order = Order.ASC) {
        val direction = if (order == Order.DESC) "desc" else "asc"
        this.order += JsonObject(mapOf("field" to JsonPrimitive(field), "order" to JsonPrimitive(direction)))
    }

    /**
     * Returns at most [count] rows.
     *
     * @throws MizuSyncException.InvalidQuery for a negative count.
     */
    public fun limit(count: Int) {
        limit = nonNegative("limit", count)
    }

    /**
     * Skips the first [count] matching rows.
     *
     * @throws MizuSyncException.InvalidQuery for a negative count.
     */
    public fun offset(count: Int) {
        offset = nonNegative("offset", count)
    }

    private fun nonNegative(what: String, count: Int): Int =
        if (count >= 0) count else throw MizuSyncException.InvalidQuery("$what must be a whole number ≥ 0, not $count")

    /** The JSON spec that [Collection.query] takes. */
    internal fun toSpecJson(): String {
        val spec = LinkedHashMap<String, JsonElement>()
        filter?.let { spec["filter"] = it.json }
        if (order.isNotEmpty()) spec["order_by"] = JsonArray(order)
        if (offset > 0) spec["offset"] = JsonPrimitive(offset)
        limit?.let { spec["limit"] = JsonPrimitive(it) }
        return JsonObject(spec).toString()
    }
}
