//! The seed's Quick Example: a todo created offline-first, an effect printing its status, and
//! the OnSync / OnOnline / OnOffline callbacks, against a reference server started in-process.
//!
//! Run: `cargo run --example quickstart --features server`
//! (or pass the base URL of a running server: `... -- http://127.0.0.1:8080/_sync`).

use std::time::Duration;

use mizu_sync::reactive::Effect;
use mizu_sync::server::{Server, ServerOptions};
use mizu_sync::{Client, Options};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Todo {
    title: String,
    completed: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An embedded reference server, unless a base URL is given.
    let (_server, base_url) = match std::env::args().nth(1) {
        Some(url) => (None, url),
        None => {
            let server = Server::start(ServerOptions::default())?;
            let url = server.base_url();
            (Some(server), url)
        }
    };
    println!("Server at {base_url}");

    // Create the client.
    let client = Client::new(
        Options::new(base_url)
            .scope("user:demo")
            .on_sync(|cursor| println!("Synced to cursor {cursor}"))
            .on_connectivity(|online| match online {
                true => println!("Connected!"),
                false => println!("Offline - changes will sync later"),
            }),
    )?;

    // Start syncing in the background.
    client.start()?;

    // A collection, and a todo created locally (this works offline too).
    let todos = client.collection::<Todo>("todo");
    let todo = todos.create(
        "todo-1",
        Todo {
            title: "Learn sync".into(),
            completed: false,
        },
    )?;

    // An effect reacting to changes of that todo.
    let reader = todo.clone();
    let effect = Effect::new(move || {
        if let Some(t) = reader.get() {
            let status = if t.completed { "done" } else { "pending" };
            println!("Todo: {} [{status}]", t.title);
        }
    });

    // Update the todo: the effect prints again at once, and the change syncs in the background.
    todo.set(Todo {
        title: "Learn sync".into(),
        completed: true,
    })?;

    // Wait until the server has everything (instead of the seed's sleep).
    client.flush(Duration::from_secs(10))?;
    println!(
        "Pending mutations: {}, cursor: {}",
        client.pending_count(),
        client.cursor()
    );
    effect.stop();
    client.close();
    Ok(())
}
