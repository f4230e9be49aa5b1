//! The tokio runtime behind the async surface: one per process, started by the first awaited
//! operation, shut down when the last client (and the last future still using it) lets go.
//!
//! The app never sees it. The futures the library hands out do not need it either: each one
//! awaits a task of this runtime through a [`Spawned`] handle, which any executor can poll (a
//! Kotlin coroutine, a Swift task, an asyncio loop, another tokio runtime), and dropping the
//! future (a cancelled coroutine or task) aborts the task at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};

use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::JoinHandle;

use crate::client::Error;

/// A strong reference to the shared runtime; the runtime shuts down when the last one drops.
#[derive(Clone)]
pub(crate) struct RuntimeRef(Arc<Owned>);

struct Owned {
    runtime: Option<Runtime>,
}

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Dropping a runtime blocks on its threads, and panics inside an async context (the
            // last reference may go on one of its own threads): hand it to a short-lived thread.
            let _ = std::thread::Builder::new()
                .name("mizu-sync-rt-stop".into())
                .spawn(move || runtime.shutdown_timeout(std::time::Duration::from_secs(5)));
        }
    }
}

static CURRENT: Mutex<Weak<Owned>> = Mutex::new(Weak::new());

impl RuntimeRef {
    /// The running runtime, or a new one when none is alive.
    ///
    /// # Errors
    /// [`Error::Internal`] when its threads cannot be started.
    pub(crate) fn get() -> Result<RuntimeRef, Error> {
        let mut current = CURRENT.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(owned) = current.upgrade() {
            return Ok(RuntimeRef(owned));
        }
        let runtime = Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(8)
            .thread_name("mizu-sync-rt")
            .enable_time()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
        let owned = Arc::new(Owned {
            runtime: Some(runtime),
        });
        *current = Arc::downgrade(&owned);
        Ok(RuntimeRef(owned))
    }

    fn handle(&self) -> &Handle {
        self.0
            .runtime
            .as_ref()
            .expect("the runtime is only taken on drop")
            .handle()
    }

    /// Runs `future` on the runtime; the returned handle resolves to its output and aborts it
    /// when dropped. The handle keeps the runtime alive.
    pub(crate) fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, Error>> + Send + 'static,
    ) -> Spawned<T> {
        Spawned {
            task: self.handle().spawn(future),
            _runtime: self.clone(),
        }
    }

    /// Runs `future` on the runtime until it ends by itself (it keeps the runtime alive).
    pub(crate) fn spawn_detached(&self, future: impl Future<Output = ()> + Send + 'static) {
        let keep = self.clone();
        self.handle().spawn(async move {
            future.await;
            drop(keep);
        });
    }

    /// Runs the blocking `job` on the runtime's blocking pool. Dropping the returned handle
    /// stops the wait, not the job.
    pub(crate) fn spawn_blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Spawned<T> {
        Spawned {
            task: self.handle().spawn_blocking(job),
            _runtime: self.clone(),
        }
    }
}

/// Runs `future` to completion on the calling thread (which must not be one of an async
/// runtime's workers), parking between wake-ups.
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

/// A task running on the shared runtime, awaited from any executor. Dropping it aborts the
/// task (a blocking job runs to its end, unobserved).
pub(crate) struct Spawned<T> {
    task: JoinHandle<Result<T, Error>>,
    _runtime: RuntimeRef,
}

impl<T> Future for Spawned<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task)
            .poll(cx)
            .map(|joined| match joined {
                Ok(result) => result,
                Err(e) if e.is_panic() => {
                    Err(Error::Internal("an awaited operation panicked".into()))
                }
                // Cancelled: only when the runtime shuts down under it, which means the client is gone.
                Err(_) => Err(Error::Closed),
            })
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}
