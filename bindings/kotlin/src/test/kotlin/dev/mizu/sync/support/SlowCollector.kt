package dev.mizu.sync.support

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/**
 * A deliberately slow collector: it collects [flow] on [Dispatchers.Default] and stops inside
 * the first item until [release], while the test produces. Every item goes to [onItem] (in
 * order, from the collecting coroutine); [received] holds the items that arrived after the
 * first one (so after [release]); [awaitDone] returns once an item for which [done] holds was
 * collected.
 *
 * The collection starts undispatched, so a flow that subscribes before its first suspension
 * has subscribed when the constructor returns.
 */
class SlowCollector<E>(
    scope: CoroutineScope,
    flow: Flow<E>,
    private val onItem: (E) -> Unit = {},
    private val done: (E) -> Boolean,
) {
    private val gate = CountDownLatch(1)
    private val first = CountDownLatch(1)
    private val reachedLatch = CountDownLatch(1)
    val received: MutableList<E> = CopyOnWriteArrayList()

    val job: Job =
        scope.launch(Dispatchers.Default, CoroutineStart.UNDISPATCHED) {
            flow.collect { item ->
                onItem(item)
                if (first.count > 0) {
                    first.countDown()
                    // Suspends the collection (it takes nothing more) until release, without
                    // blocking the thread that started it or the flows' own coroutines.
                    withContext(Dispatchers.IO) { gate.await() }
                } else {
                    received += item
                }
                if (done(item)) reachedLatch.countDown()
            }
        }

    /** Waits until the collector holds its first item (and blocks in it). */
    fun awaitFirst() {
        check(first.await(WAIT.inWholeMilliseconds, TimeUnit.MILLISECONDS)) { "the collector got no first item" }
    }

    /** Lets the collector go on. */
    fun release() {
        gate.countDown()
    }

    /** Waits until an item for which `done` holds was collected. */
    fun awaitDone(what: String) {
        check(reachedLatch.await(WAIT.inWholeMilliseconds, TimeUnit.MILLISECONDS)) { "timed out waiting until $what" }
    }
}
