//! `mizu-sync-server`: the reference sync server as a process, for tests and demos in any
//! language. Prints exactly one line `listening on http://ADDR` to stdout once it serves.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mizu_sync::server::{Server, ServerOptions, Storage};

/// mizu-sync-server: the mizu-sync reference server (speaks the mizu sync protocol).
#[derive(Debug, Parser)]
#[command(name = "mizu-sync-server", version)]
struct Args {
    /// Address to listen on (port 0 picks one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    /// Keep log, state and seen ids in this SQLite file (default: memory).
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Serve the test/admin API under /_admin/.
    #[arg(long)]
    admin: bool,
    /// Most mutations per push.
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_push_batch: usize,
    /// Cap of a pull's limit.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pull_limit: usize,
    /// Path prefix of the sync endpoints.
    #[arg(long, value_name = "P", default_value = "/_sync")]
    prefix: String,
}

impl From<Args> for ServerOptions {
    fn from(args: Args) -> ServerOptions {
        ServerOptions {
            addr: args.addr,
            storage: args.db.map_or(Storage::Memory, Storage::Sqlite),
            admin: args.admin,
            max_push_batch: args.max_push_batch,
            pull_limit: args.pull_limit,
            prefix: args.prefix,
            ..ServerOptions::default()
        }
    }
}

fn main() -> ExitCode {
    // Usage errors exit with status 2; --help and --version print and exit with 0.
    let opts = ServerOptions::from(Args::parse());
    let server = match Server::start(opts) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("mizu-sync-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "listening on http://{}", server.addr())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);
    // Serve until killed: the threads die with the process, nothing is left behind.
    loop {
        std::thread::park();
    }
}
