//! The async runtime's lifetime, seen from outside: its threads (named `mizu-sync-rt`) appear
//! with the first awaited operation and are gone once the last client and future have gone.
//! Alone in its test binary, so no other test holds the runtime.

mod executor_support;

use executor_support::block_on;
use mizu_sync::{Client, Options};

fn runtime_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim() == "mizu-sync-rt")
        })
        .count()
}

use mizu_test_support::wait_until;

#[test]
#[cfg(target_os = "linux")]
fn the_runtime_starts_with_the_first_await_and_stops_with_the_last_client() {
    let options = || Options::new("http://127.0.0.1:9/_sync");
    let first = Client::new(options()).unwrap();
    let second = Client::new(options()).unwrap();
    assert_eq!(runtime_threads(), 0, "not started by creating clients");

    let todos = first.collection::<serde_json::Value>("todo");
    block_on(todos.get("a").set_async(serde_json::json!({"n": 1}))).unwrap();
    assert!(
        runtime_threads() >= 1,
        "started by the first awaited operation"
    );
    block_on(second.mutate_async("noop", None)).unwrap();

    drop(first);
    drop(todos);
    assert!(runtime_threads() >= 1, "kept while a client uses it");
    drop(second);
    wait_until("the runtime's threads are gone", || runtime_threads() == 0);

    // And it starts again for the next client.
    let third = Client::new(options()).unwrap();
    block_on(third.mutate_async("noop", None)).unwrap();
    assert!(runtime_threads() >= 1);
}
