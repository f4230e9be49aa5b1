//! `mizu-sync-server`: the reference sync server as a process, for tests and demos in any
//! language. Prints exactly one line `listening on http://ADDR` to stdout once it serves.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use mizu_sync::server::{Server, ServerOptions, Storage};

const USAGE: &str = "\
mizu-sync-server: the mizu-sync reference server (speaks the mizu sync protocol)

USAGE:
    mizu-sync-server [OPTIONS]

OPTIONS:
    --addr ADDR            address to listen on (default 127.0.0.1:8080; port 0 picks one)
    --db PATH              keep log, state and seen ids in this SQLite file (default: memory)
    --admin                serve the test/admin API under /_admin/
    --max-push-batch N     most mutations per push (default 100)
    --pull-limit N         cap of a pull's limit (default 1000)
    --prefix P             path prefix of the sync endpoints (default /_sync)
    -h, --help             print this help
";

fn parse(args: &[String]) -> Result<Option<ServerOptions>, String> {
    let mut opts = ServerOptions {
        addr: "127.0.0.1:8080".to_owned(),
        ..ServerOptions::default()
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |name: &str, v: String| {
            v.parse::<usize>()
                .map_err(|_| format!("{name} needs a number, got {v:?}"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--addr" => opts.addr = value(flag)?,
            "--db" => opts.storage = Storage::Sqlite(PathBuf::from(value(flag)?)),
            "--admin" => opts.admin = true,
            "--max-push-batch" => opts.max_push_batch = number(flag, value(flag)?)?,
            "--pull-limit" => opts.pull_limit = number(flag, value(flag)?)?,
            "--prefix" => opts.prefix = value(flag)?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(opts))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mizu-sync-server: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
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
