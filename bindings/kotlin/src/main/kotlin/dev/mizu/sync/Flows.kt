package dev.mizu.sync

import dev.mizu.sync.ffi.Subscription as FfiSubscription
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.ProducerScope
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow

/**
 * The flows being collected from one handle, so that closing the handle completes them (a
 * collector of a closed client's events returns instead of waiting forever).
 */
internal class OpenFlows {
    private val open: MutableSet<ProducerScope<*>> = ConcurrentHashMap.newKeySet()

    @Volatile
    private var closed = false

    fun add(scope: ProducerScope<*>) {
        open.add(scope)
        if (closed) scope.channel.close()
    }

    fun remove(scope: ProducerScope<*>) {
        open.remove(scope)
    }

    fun closeAll() {
        closed = true
        open.toList().forEach { it.channel.close() }
    }
}

/**
 * A cold flow over a native subscription: each collector subscribes (`subscribe` gets the
 * function that emits) and cancels when its collection ends. Values are buffered without
 * bound, so a slow collector never blocks the thread that delivers them (the writing thread or
 * the client's engine thread) and never misses one. The flow completes when one of [owners] is
 * closed.
 */
internal fun <T> subscriptionFlow(
    vararg owners: OpenFlows,
    subscribe: (emit: (T) -> Unit) -> FfiSubscription,
): Flow<T> =
    callbackFlow {
        val subscription = native { subscribe { value -> trySend(value) } }
        owners.forEach { it.add(this) }
        awaitClose {
            owners.forEach { it.remove(this) }
            subscription.cancel()
        }
    }.buffer(Channel.UNLIMITED)

/**
 * A hot [StateFlow] fed by one native subscription that lives until [cancel]: its value is
 * updated on the thread that made the change, before that change's write returns.
 */
internal class NativeState<T>(initial: T, subscribe: (emit: (T) -> Unit) -> FfiSubscription) {
    private val state = MutableStateFlow(initial)
    private val subscription: FfiSubscription = native { subscribe { state.value = it } }

    val flow: StateFlow<T> = state.asStateFlow()

    fun cancel() {
        subscription.cancel()
    }
}
