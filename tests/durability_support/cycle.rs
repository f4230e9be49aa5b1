//! The parent's side of one child run: spawn the test binary as the child, collect its
//! complete stdout lines, kill it with SIGKILL (or let it finish), and reap it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::child::ChildConfig;
use super::Line;

/// How [`Running::collect_until`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collected {
    /// A line satisfied the condition.
    Hit,
    /// The deadline passed.
    TimedOut,
    /// The child closed its stdout: it exited (or is exiting).
    Closed,
}

/// A running child.
pub struct Running {
    child: Child,
    lines: Receiver<Line>,
    reader: Option<JoinHandle<()>>,
    /// Every line received so far, in order.
    pub seen: Vec<Line>,
    pub spawned_at: Instant,
}

impl Running {
    /// Starts the test binary again, running only the test `child_test`, as the child
    /// configured by `config`.
    pub fn spawn(child_test: &str, config: &ChildConfig) -> Running {
        let exe = std::env::current_exe().expect("the test binary knows its path");
        let mut command = Command::new(exe);
        command
            .args(["--exact", child_test, "--ignored", "--nocapture"])
            .args(["--test-threads=1", "-q"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        config.apply_to(&mut command);
        let spawned_at = Instant::now();
        let mut child = command.spawn().expect("the child starts");
        let stdout = child.stdout.take().expect("the child's stdout is piped");
        let (tx, lines) = mpsc::channel();
        let reader = thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut text = String::new();
            loop {
                text.clear();
                match reader.read_line(&mut text) {
                    // A last line without its newline was cut by the kill: it does not count.
                    Ok(0) | Err(_) => return,
                    Ok(_) if !text.ends_with('\n') => return,
                    Ok(_) => {}
                }
                if let Some(line) = Line::parse(text.trim_end_matches('\n')) {
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            }
        });
        Running {
            child,
            lines,
            reader: Some(reader),
            seen: Vec::new(),
            spawned_at,
        }
    }

    /// Collects lines until `until` holds for one of them, `deadline` passes or the child
    /// closes its stdout (it exited).
    pub fn collect_until(
        &mut self,
        deadline: Instant,
        mut until: impl FnMut(&Line) -> bool,
    ) -> Collected {
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(wait) {
                Ok(line) => {
                    let hit = until(&line);
                    self.seen.push(line);
                    if hit {
                        return Collected::Hit;
                    }
                }
                Err(RecvTimeoutError::Timeout) => return Collected::TimedOut,
                Err(RecvTimeoutError::Disconnected) => return Collected::Closed,
            }
        }
    }

    /// Collects whatever arrived so far without waiting.
    pub fn collect_ready(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
    }

    /// Sends SIGKILL, waits for the process to be gone (its store lock released) and collects
    /// every complete line it wrote before dying.
    pub fn kill(mut self) -> Vec<Line> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.drain()
    }

    /// Waits up to `timeout` for the child to exit on its own; kills it after that. Returns its
    /// exit status (`None` when it had to be killed) and all its lines.
    pub fn finish(mut self, timeout: Duration) -> (Option<ExitStatus>, Vec<Line>) {
        match self.collect_until(Instant::now() + timeout, |_| false) {
            Collected::Closed => {
                let status = self.child.wait().ok();
                (status, self.drain())
            }
            Collected::Hit | Collected::TimedOut => (None, self.kill()),
        }
    }

    fn drain(mut self) -> Vec<Line> {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.collect_ready();
        std::mem::take(&mut self.seen)
    }
}

impl Drop for Running {
    /// A child is never left behind, even when the test fails half-way.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
