//! The child process: opens a `Client` on the SQLite store the previous child left behind,
//! checks that every write acknowledged so far is visible, starts syncing, and writes until it
//! is killed (or, on the final run, flushes and reports everything it sees).

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use mizu_sync::{Client, Collection, Durability, Options};
use serde_json::{json, Value};

use super::{update_marker, Line, Rng, Todo, CHILD_ENV, MARKS, MARK_ADD, NOTES, TODOS};

/// Longest a child writes when nobody kills it (a guard against an orphaned child).
const WRITE_FOR_AT_MOST: Duration = Duration::from_secs(60);
/// Longest the final run waits for its queue to drain.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// What the parent tells a child, through its environment.
#[derive(Debug, Clone)]
pub struct ChildConfig {
    /// Sync base URL (the phase proxy in front of the server).
    pub base_url: String,
    pub scope: String,
    /// The SQLite store, the same file across all runs.
    pub db: PathBuf,
    /// The run's number: writes of run `n` are named `t<n>-<i>` (todo creates, `#u` added for
    /// their updates) and `m<n>-<i>` (marks).
    pub cycle: u64,
    /// Seed of this run's write pattern.
    pub seed: u64,
    /// File listing the acknowledged entity writes: `create <id>` or `update <id>` per line.
    pub expect: PathBuf,
    /// Flush and report instead of writing.
    pub final_run: bool,
    /// Write calmly (a pause after every write), so the engine finds time to pull: a steady
    /// stream of writes keeps it pushing, as pushes go first.
    pub calm: bool,
    /// The store's encryption key, if it is encrypted.
    pub key: Option<String>,
    /// The store's durability mode (`synchronous`).
    pub durability: Durability,
}

impl ChildConfig {
    /// Adds this configuration to a child's environment.
    pub fn apply_to(&self, command: &mut Command) {
        command
            .env(CHILD_ENV, "1")
            .env("MIZU_DURABILITY_BASE_URL", &self.base_url)
            .env("MIZU_DURABILITY_SCOPE", &self.scope)
            .env("MIZU_DURABILITY_DB", &self.db)
            .env("MIZU_DURABILITY_CYCLE", self.cycle.to_string())
            .env("MIZU_DURABILITY_CHILD_SEED", self.seed.to_string())
            .env("MIZU_DURABILITY_EXPECT", &self.expect)
            .env(
                "MIZU_DURABILITY_FINAL",
                if self.final_run { "1" } else { "0" },
            )
            .env("MIZU_DURABILITY_CALM", if self.calm { "1" } else { "0" });
        match &self.key {
            Some(key) => command.env("MIZU_DURABILITY_KEY", key),
            None => command.env_remove("MIZU_DURABILITY_KEY"),
        };
        command.env("MIZU_DURABILITY_MODE", self.durability.to_string());
    }

    /// The configuration of this process, when it is a child.
    pub fn from_env() -> Option<ChildConfig> {
        if std::env::var(CHILD_ENV).ok()? != "1" {
            return None;
        }
        let var = |name: &str| std::env::var(name).ok();
        Some(ChildConfig {
            base_url: var("MIZU_DURABILITY_BASE_URL")?,
            scope: var("MIZU_DURABILITY_SCOPE")?,
            db: var("MIZU_DURABILITY_DB")?.into(),
            cycle: var("MIZU_DURABILITY_CYCLE")?.parse().ok()?,
            seed: var("MIZU_DURABILITY_CHILD_SEED")?.parse().ok()?,
            expect: var("MIZU_DURABILITY_EXPECT")?.into(),
            final_run: var("MIZU_DURABILITY_FINAL")? == "1",
            calm: var("MIZU_DURABILITY_CALM")? == "1",
            key: var("MIZU_DURABILITY_KEY"),
            durability: match var("MIZU_DURABILITY_MODE")?.as_str() {
                "normal" => Durability::Normal,
                _ => Durability::Full,
            },
        })
    }
}

/// Prints one protocol line; false when stdout is gone (the parent died).
fn say(line: &Line) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", line.render()).is_ok() && out.flush().is_ok()
}

/// Runs the child's side; every failure is reported as an `error` line.
pub fn run(config: &ChildConfig) {
    let mut options = Options::new(&config.base_url)
        .scope(&config.scope)
        .storage_path(&config.db)
        .push_interval(Duration::from_millis(20))
        .pull_interval(Duration::from_millis(30))
        .request_timeout(Duration::from_secs(5))
        .backoff(Duration::from_millis(10), Duration::from_millis(100));
    if let Some(key) = &config.key {
        options = options.encryption_key(key);
    }
    options = options.durability(config.durability);
    let client = match Client::new(options) {
        Ok(client) => client,
        Err(e) => {
            say(&Line::Error(format!("opening the client: {e}")));
            return;
        }
    };
    // The mode SQLite reports for the file, not the one asked for.
    match client.durability() {
        Ok(Some(mode)) if mode == config.durability => {}
        other => {
            say(&Line::Error(format!(
                "the store is in durability {other:?}, not {}",
                config.durability
            )));
            return;
        }
    }
    let todos = client.collection::<Todo>(TODOS);
    if !check_restored(config, &client, &todos) {
        return;
    }
    if let Err(e) = client.start() {
        say(&Line::Error(format!("starting: {e}")));
        return;
    }
    if !say(&Line::Started) {
        return;
    }
    if config.final_run {
        report(&client);
    } else {
        write_until_killed(config, &client, &todos);
    }
}

/// Checks that every acknowledged write listed in the expect file is visible.
fn check_restored(config: &ChildConfig, client: &Client, todos: &Collection<Todo>) -> bool {
    let expected = match std::fs::read_to_string(&config.expect) {
        Ok(text) => text,
        Err(e) => {
            say(&Line::Error(format!(
                "reading {}: {e}",
                config.expect.display()
            )));
            return false;
        }
    };
    let mut missing = 0;
    for line in expected.lines() {
        let lost = match line.split_once(' ') {
            Some(("create", id)) => (!todos.has(id)).then(|| id.to_owned()),
            Some(("update", id)) => {
                let done = todos.get(id).get().is_some_and(|t| t.completed);
                (!done).then(|| update_marker(id))
            }
            _ => Some(format!("(unreadable expectation {line:?})")),
        };
        if let Some(marker) = lost {
            missing += 1;
            say(&Line::Missing(marker));
        }
    }
    say(&Line::Restored {
        cursor: client.cursor(),
        visible: todos.count(),
        missing,
    })
}

/// Writes (creates, updates, app-defined mutations) with random pauses, announcing each
/// call before it is made and after it returned.
fn write_until_killed(config: &ChildConfig, client: &Client, todos: &Collection<Todo>) {
    let mut rng = Rng::new(config.seed);
    let mut updatable: Vec<String> = Vec::new();
    let started = Instant::now();
    for i in 0u64.. {
        if started.elapsed() > WRITE_FOR_AT_MOST {
            say(&Line::Error("nobody killed this child".into()));
            return;
        }
        let roll = rng.below(100);
        let (marker, result) = if roll < 25 && !updatable.is_empty() {
            let id = updatable.swap_remove(rng.below(updatable.len() as u64) as usize);
            let marker = update_marker(&id);
            say(&Line::Begin(marker.clone()));
            let done = Todo {
                title: id.clone(),
                completed: true,
            };
            (marker, todos.get(id).set(done))
        } else if roll < 50 {
            let marker = format!("m{}-{i}", config.cycle);
            say(&Line::Begin(marker.clone()));
            let args = json!({ "marker": marker });
            (marker, client.mutate(MARK_ADD, Some(args)).map(drop))
        } else {
            let id = format!("t{}-{i}", config.cycle);
            say(&Line::Begin(id.clone()));
            let todo = Todo {
                title: id.clone(),
                completed: false,
            };
            let result = todos.create(id.clone(), todo).map(drop);
            if result.is_ok() {
                updatable.push(id.clone());
            }
            (id, result)
        };
        let line = match result {
            Ok(()) => Line::Ok(marker),
            Err(e) => Line::Error(format!("write {marker}: {e}")),
        };
        if !say(&line) {
            return;
        }
        // Bursts of writes with pauses between them (or calm writes): a steady stream keeps
        // the engine pushing, the pauses let it pull.
        let pause = if config.calm {
            10 + rng.below(20)
        } else if rng.chance(20) {
            rng.below(40)
        } else {
            rng.below(3)
        };
        thread::sleep(Duration::from_millis(pause));
    }
}

/// The final run: waits until the queue is drained and pulled back, pulls to the head, and
/// prints every visible entity.
fn report(client: &Client) {
    if let Err(e) = client.flush(FLUSH_TIMEOUT).and_then(|()| client.sync()) {
        say(&Line::Error(format!("final flush: {e}")));
        return;
    }
    say(&Line::Final {
        cursor: client.cursor(),
        pending: client.pending_count(),
    });
    for collection in [TODOS, MARKS, NOTES] {
        for (id, value) in client.collection::<Value>(collection).entries() {
            say(&Line::Entity {
                collection: collection.to_owned(),
                id,
                value: value.to_string(),
            });
        }
    }
    say(&Line::Done);
}
