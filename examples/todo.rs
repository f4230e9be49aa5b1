//! Two clients of one todo list converge; while the server is unreachable, both keep working
//! and their writes drain when it comes back. Alice's open todos are a live query whose keyed
//! diffs print as they arrive, as a list UI would apply them.
//!
//! Run: `cargo run --example todo --features server`

use std::time::Duration;

use mizu_sync::query::{field, Order, QueryEvent};
use mizu_sync::reactive::Effect;
use mizu_sync::server::{Server, ServerOptions};
use mizu_sync::{Client, Collection, Options};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Todo {
    title: String,
    completed: bool,
}

fn client(
    name: &'static str,
    base_url: &str,
    live_url: String,
) -> Result<Client, mizu_sync::Error> {
    let client = Client::new(
        Options::new(base_url)
            .scope("family")
            .live_url(live_url)
            .backoff(Duration::from_millis(50), Duration::from_millis(500))
            .on_connectivity(move |online| {
                println!("[{name}] {}", if online { "online" } else { "offline" })
            }),
    )?;
    client.start()?;
    Ok(client)
}

fn show(name: &str, todos: &Collection<Todo>) {
    let list: Vec<String> = todos
        .entries()
        .into_iter()
        .map(|(id, t)| {
            format!(
                "{id}:{}{}",
                t.title,
                if t.completed { " (done)" } else { "" }
            )
        })
        .collect();
    println!("[{name}] {} todos: {}", list.len(), list.join(", "));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::start(ServerOptions::default())?;
    let alice = client("alice", &server.base_url(), server.ws_url("family"))?;
    let bob = client("bob", &server.base_url(), server.ws_url("family"))?;
    let (alice_todos, bob_todos) = (
        alice.collection::<Todo>("todo"),
        bob.collection::<Todo>("todo"),
    );

    // Bob's screen: an effect that re-renders whenever his list changes.
    let screen = bob_todos.clone();
    let render = Effect::new(move || show("bob's screen", &screen));

    // Alice's open todos by title: the whole list once, then one diff per change.
    let open = alice_todos
        .query()
        .filter(field("completed").eq(false))
        .order_by("title", Order::Asc);
    let _open_list = open.subscribe(|event| match event {
        Ok(QueryEvent::Result(rows)) => println!("[alice's open todos] {} rows", rows.len()),
        Ok(QueryEvent::Diff(ops)) => println!("[alice's open todos] diff {ops:?}"),
        Err(e) => println!("[alice's open todos] {e}"),
    })?;

    alice_todos.create(
        "milk",
        Todo {
            title: "Buy milk".into(),
            completed: false,
        },
    )?;
    alice_todos.create(
        "bread",
        Todo {
            title: "Buy bread".into(),
            completed: false,
        },
    )?;
    alice.flush(Duration::from_secs(10))?;
    bob.sync()?;

    println!("-- the server becomes unreachable");
    server.set_unavailable(true);
    bob_todos.get("milk").set(Todo {
        title: "Buy milk".into(),
        completed: true,
    })?;
    alice_todos.get("bread").delete()?;
    alice_todos.create(
        "eggs",
        Todo {
            title: "Buy eggs".into(),
            completed: false,
        },
    )?;
    show("alice (offline)", &alice_todos);
    println!(
        "pending: alice {}, bob {}",
        alice.pending_count(),
        bob.pending_count()
    );

    println!("-- the server is back");
    server.set_unavailable(false);
    alice.flush(Duration::from_secs(10))?;
    bob.flush(Duration::from_secs(10))?;
    alice.sync()?;
    bob.sync()?;
    render.stop();
    show("alice", &alice_todos);
    show("bob", &bob_todos);
    assert_eq!(
        alice_todos.entries(),
        bob_todos.entries(),
        "both clients converged"
    );
    let titles: Vec<String> = open.get()?.into_iter().map(|(_, t)| t.title).collect();
    assert_eq!(titles, ["Buy eggs"], "milk is done, bread deleted");
    println!("alice's open todos: {titles:?}");
    println!("converged at cursor {}", alice.cursor());
    Ok(())
}
