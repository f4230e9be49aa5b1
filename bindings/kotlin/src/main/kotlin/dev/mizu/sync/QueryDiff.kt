package dev.mizu.sync

import dev.mizu.sync.ffi.EntityRecord
import dev.mizu.sync.ffi.QueryDiffOp as FfiQueryDiffOp

/** One row of a [Query]'s result: an entity's [id] and its [value]. Use [id] as the list key. */
public data class Row<out T>(val id: String, val value: T)

/**
 * One step of a [QueryDiff]. Steps apply in order: each index refers to the list as the steps
 * before it left it (the convention of Android's `ListUpdateCallback`), so they map one to one
 * onto `notifyItemRemoved`, `notifyItemInserted`, `notifyItemMoved` and `notifyItemChanged`.
 */
public sealed class QueryDiffOp<out T> {
    /** The id of the row the step is about. */
    public abstract val id: String

    /** The row at [index] left the result. */
    public data class Removed(val index: Int, override val id: String) : QueryDiffOp<Nothing>()

    /** The row [id] with [value] entered the result at [index]. */
    public data class Inserted<out T>(val index: Int, override val id: String, val value: T) : QueryDiffOp<T>()

    /** The row at [from] moved to [to]: removed from [from], then inserted at [to]. Its value is unchanged. */
    public data class Moved(val from: Int, val to: Int, override val id: String) : QueryDiffOp<Nothing>()

    /** The row at [index] has the new [value] (and kept its position). */
    public data class Updated<out T>(val index: Int, override val id: String, val value: T) : QueryDiffOp<T>()
}

/**
 * What one transaction (a local write, a pulled page, a rollback) changed in a [Query]'s result:
 * the [QueryDiffOp]s, in order, that turn the previous result into the new one.
 */
public class QueryDiff<out T>(public val ops: List<QueryDiffOp<T>>) : List<QueryDiffOp<T>> by ops {
    override fun equals(other: Any?): Boolean = other is QueryDiff<*> && other.ops == ops

    override fun hashCode(): Int = ops.hashCode()

    override fun toString(): String = "QueryDiff($ops)"
}

/**
 * Applies [diff] to [rows], which must hold the result the diff was computed from (what
 * [QueryEvent.Result] and the diffs before this one made); afterwards [rows] holds the new
 * result, equal to [Query.get].
 *
 * @throws MizuSyncException.Internal when a step does not fit [rows] (an index out of range, or
 *   another id at that index): [rows] is not the previous result.
 */
public fun <T> QueryDiff<T>.applyTo(rows: MutableList<Row<T>>) {
    fun requireRow(index: Int, id: String) {
        val actual = rows.getOrNull(index)?.id
        if (actual != id) throw MizuSyncException.Internal("the query diff does not apply: expected $id at $index, found $actual")
    }
    for (op in ops) {
        when (op) {
            is QueryDiffOp.Removed -> {
                requireRow(op.index, op.id)
                rows.removeAt(op.index)
            }
            is QueryDiffOp.Inserted -> {
                if (op.index !in 0..rows.size) throw MizuSyncException.Internal("the query diff does not apply: insert at ${op.index} of ${rows.size}")
                rows.add(op.index, Row(op.id, op.value))
            }
            is QueryDiffOp.Moved -> {
                requireRow(op.from, op.id)
                val row = rows.removeAt(op.from)
                if (op.to !in 0..rows.size) throw MizuSyncException.Internal("the query diff does not apply: move to ${op.to} of ${rows.size}")
                rows.add(op.to, row)
            }
            is QueryDiffOp.Updated -> {
                requireRow(op.index, op.id)
                rows[op.index] = Row(op.id, op.value)
            }
        }
    }
}

/**
 * What a [Query] subscription delivers: the whole [Result] once, first, then a [Diff] after each
 * transaction that changed the result.
 */
public sealed class QueryEvent<out T> {
    /** The whole result, in order, within the window. */
    public data class Result<out T>(val rows: List<Row<T>>) : QueryEvent<T>()

    /** The steps that turn the previous result into the new one. */
    public data class Diff<out T>(val diff: QueryDiff<T>) : QueryEvent<T>()
}

internal fun <T> List<EntityRecord>.toRows(codec: ValueCodec<T>): List<Row<T>> = map { Row(it.id, codec.decode(it.valueJson)) }

internal fun <T> List<FfiQueryDiffOp>.toDiff(codec: ValueCodec<T>): QueryDiff<T> =
    QueryDiff(
        map { op ->
            when (op) {
                is FfiQueryDiffOp.Removed -> QueryDiffOp.Removed(op.index.toIndex(), op.id)
                is FfiQueryDiffOp.Inserted -> QueryDiffOp.Inserted(op.index.toIndex(), op.id, codec.decode(op.valueJson))
                is FfiQueryDiffOp.Moved -> QueryDiffOp.Moved(op.from.toIndex(), op.to.toIndex(), op.id)
                is FfiQueryDiffOp.Updated -> QueryDiffOp.Updated(op.index.toIndex(), op.id, codec.decode(op.valueJson))
            }
        },
    )

private fun ULong.toIndex(): Int = toInt()
