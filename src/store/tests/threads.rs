//! Sharing one store between threads.

use std::sync::Arc;
use std::thread;

use serde_json::json;

use super::*;

#[test]
fn concurrent_writers_and_readers_see_a_consistent_queue() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();

    let dir = temp_dir("threads");
    let (path, store) = file_of(&dir);
    let store = Arc::new(store);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                for i in 0..25 {
                    let id = format!("{w}-{i:02}");
                    write(&store, &format!("m{id}"), upsert("todo", &id, json!(i)));
                }
            })
        })
        .collect();
    let reader = {
        let store = Arc::clone(&store);
        thread::spawn(move || {
            // Every visible entity has its pending mutation: no torn state is ever observed.
            for _ in 0..200 {
                let ids = store.ids("todo");
                let pending = store.pending_ids();
                assert!(ids.iter().all(|id| pending.contains(&format!("m{id}"))));
            }
        })
    };
    for handle in writers.into_iter().chain([reader]) {
        handle.join().unwrap();
    }

    let pending = store.pending(usize::MAX);
    assert_eq!(pending.len(), 100);
    assert!(pending.windows(2).all(|w| w[0].seq < w[1].seq));
    // Each writer's mutations stay in that writer's order.
    for w in 0..4 {
        let mine: Vec<_> = pending
            .iter()
            .filter(|p| p.mutation.id.starts_with(&format!("m{w}-")))
            .map(|p| p.mutation.id.clone())
            .collect();
        let expected: Vec<_> = (0..25).map(|i| format!("m{w}-{i:02}")).collect();
        assert_eq!(mine, expected);
    }
    let store = Arc::try_unwrap(store).unwrap();
    let reopened = reopen(&path, store);
    assert_eq!(reopened.pending(usize::MAX), pending);
}
