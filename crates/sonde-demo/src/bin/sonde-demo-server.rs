//! `sonde-demo-server`: an example *server* embedding the sonde client
//! library's heartbeat, the way a Hasura-like server would.
//!
//! ```text
//! sonde-demo-server [--enable-telemetry=false] [--listen 127.0.0.1:0]
//! ```
//!
//! It serves a trivial HTTP endpoint (`GET /` → `ok`, `GET /quit` stops it),
//! prints `listening on ADDR` on stdout, and sends a metrics heartbeat at
//! start and then once per interval: the number of requests served and a few
//! fixed counts, as numbers and booleans only. Telemetry is off with the flag
//! `--enable-telemetry=false`, the variable
//! `SONDE_DEMO_SERVER_ENABLE_TELEMETRY=false`, `DO_NOT_TRACK=1`, or any other
//! opt-out of the client library.
//!
//! | variable | default |
//! | --- | --- |
//! | `SONDE_DEMO_ENDPOINT` | `http://127.0.0.1:7070` |
//! | `SONDE_DEMO_HEARTBEAT_MS` | 86400000 (24 h) |
//! | `SONDE_DEMO_TIMEOUT_MS` | 3000 to connect, 3× that in total |

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--enable-telemetry=false|true`, as Hasura's server spells it.
    let flag = args
        .iter()
        .find_map(|a| a.strip_prefix("--enable-telemetry="))
        .map(|v| v != "false");
    let listen = args
        .iter()
        .position(|a| a == "--listen")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let timeout = Duration::from_millis(env_u64("SONDE_DEMO_TIMEOUT_MS").unwrap_or(3000));
    let telemetry = match sonde::Telemetry::builder("sonde-demo-server", env!("CARGO_PKG_VERSION"))
        .endpoint(std::env::var("SONDE_DEMO_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:7070".into()))
        .env_var("SONDE_DEMO_SERVER_ENABLE_TELEMETRY")
        .flag(flag)
        .timeouts(timeout, timeout * 3)
        .build()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sonde-demo-server: {e}");
            return ExitCode::from(2);
        }
    };
    // First thing: in the detached uploader process this uploads and exits.
    telemetry.run();

    let served = Arc::new(AtomicU64::new(0));
    let counter = served.clone();
    let options = sonde::HeartbeatOptions {
        interval: Duration::from_millis(env_u64("SONDE_DEMO_HEARTBEAT_MS").unwrap_or(24 * 3600 * 1000)),
        ..sonde::HeartbeatOptions::default()
    };
    let heartbeat = telemetry.start_heartbeat(options, move || {
        serde_json::json!({
            "requests": counter.load(Ordering::Relaxed),
            "tables": 3,
            "views": 1,
            "permissions": {"select": 2, "insert": 1},
            "tls": false,
        })
    });

    let listener = match TcpListener::bind(&listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sonde-demo-server: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "listening on {}",
        listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
    );
    let _ = std::io::stdout().flush();
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let mut line = String::new();
        let _ = BufReader::new(&stream).read_line(&mut line);
        served.fetch_add(1, Ordering::Relaxed);
        let quit = line.starts_with("GET /quit ");
        let body = if quit { "bye" } else { "ok" };
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        if quit {
            break;
        }
    }
    drop(heartbeat);
    ExitCode::SUCCESS
}
