//! `check-baseline --listen ADDR --body PRODUCT=FILE [--body PRODUCT=FILE ...]`:
//! serves each FILE as the answer to `GET /v1/check/PRODUCT` (see the crate
//! docs). Prints `listening on http://ADDR` once bound; stops on SIGINT or
//! SIGTERM.

use std::collections::HashMap;
use std::net::SocketAddr;

fn usage() -> ! {
    eprintln!("usage: check-baseline --listen 127.0.0.1:PORT --body PRODUCT=FILE [--body PRODUCT=FILE ...]");
    std::process::exit(2)
}

fn fail(message: String) -> ! {
    eprintln!("check-baseline: {message}");
    std::process::exit(1)
}

fn main() {
    let mut listen: Option<SocketAddr> = None;
    let mut bodies = HashMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().and_then(|v| v.parse().ok()),
            "--body" => {
                let Some((product, file)) = args
                    .next()
                    .and_then(|v| v.split_once('=').map(|(p, f)| (p.to_owned(), f.to_owned())))
                else {
                    usage()
                };
                let body = std::fs::read(&file).unwrap_or_else(|e| fail(format!("cannot read {file}: {e}")));
                bodies.insert(product, body);
            }
            _ => usage(),
        }
    }
    let Some(listen) = listen else { usage() };
    if bodies.is_empty() {
        usage()
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("tokio runtime: {e}")));
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .unwrap_or_else(|e| fail(format!("cannot listen on {listen}: {e}")));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| fail(format!("local address: {e}")));
        println!("listening on http://{addr}");
        axum::serve(listener, sonde_bench::baseline_app(bodies))
            .with_graceful_shutdown(async {
                let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
                    return std::future::pending().await;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            })
            .await
            .unwrap_or_else(|e| fail(format!("serve: {e}")));
    });
}
