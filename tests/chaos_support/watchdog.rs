//! A watchdog for runs that could deadlock: the run reports progress and its phase, and the
//! test fails with the phase it is stuck in when progress stops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Longest time without any progress before the watchdog calls it a deadlock.
pub const STALL: Duration = Duration::from_secs(20);

/// Progress and the current phase, for the watchdog.
#[derive(Default)]
pub struct Progress {
    pub ticks: AtomicU64,
    pub writes: AtomicU64,
    phase: Mutex<&'static str>,
}

impl Progress {
    pub fn tick(&self) {
        self.ticks.fetch_add(1, Ordering::Relaxed);
    }

    pub fn enter(&self, phase: &'static str) {
        *self.phase.lock().unwrap() = phase;
        self.tick();
    }
}

/// Runs `body` on its own thread; fails the test when it stops making progress for `STALL`
/// or runs longer than `bound`.
pub fn watchdog(bound: Duration, body: impl FnOnce(Arc<Progress>) + Send + 'static) {
    let progress = Arc::new(Progress::default());
    let (done, finished) = mpsc::channel();
    let worker = {
        let progress = progress.clone();
        thread::spawn(move || {
            body(progress);
            let _ = done.send(());
        })
    };
    let start = Instant::now();
    let (mut last, mut since) = (0, Instant::now());
    loop {
        match finished.recv_timeout(Duration::from_millis(250)) {
            Ok(()) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => break, // panicked: join reports it
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let ticks = progress.ticks.load(Ordering::Relaxed);
        if ticks != last {
            (last, since) = (ticks, Instant::now());
        }
        let phase = *progress.phase.lock().unwrap();
        let writes = progress.writes.load(Ordering::Relaxed);
        assert!(
            since.elapsed() < STALL,
            "deadlock suspected: no progress for {STALL:?} in phase {phase:?} ({ticks} steps done, {writes} of them writes)"
        );
        assert!(
            start.elapsed() < bound,
            "the run did not finish within {bound:?}; stuck in phase {phase:?}"
        );
    }
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
}
