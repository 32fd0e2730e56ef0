//! `check-baseline --listen ADDR --body PRODUCT=FILE [--body PRODUCT=FILE ...]`:
//! serves each FILE as the answer to `GET /v1/check/PRODUCT` (see the crate
//! docs). Prints `listening on http://ADDR` once bound; stops on SIGINT or
//! SIGTERM.
//!
//! Diagnostics (not used for the recorded figure): `--extra-routes N` adds N
//! dummy routes; `--make-service` serves `Router::into_make_service()` (one
//! `Arc` clone per connection) instead of the `Router` itself (which axum 0.8
//! rebuilds with `with_state(())` for every connection).

use std::collections::HashMap;
use std::net::SocketAddr;

#[allow(clippy::exit)] // a usage error ends this benchmark helper at once
fn usage() -> ! {
    eprintln!(
        "usage: check-baseline --listen 127.0.0.1:PORT --body PRODUCT=FILE [--body PRODUCT=FILE ...] \\
         [--extra-routes N] [--make-service]"
    );
    std::process::exit(2)
}

#[allow(clippy::exit)] // so does a failure
fn fail(message: String) -> ! {
    eprintln!("check-baseline: {message}");
    std::process::exit(1)
}

fn main() {
    let mut listen: Option<SocketAddr> = None;
    let mut bodies = HashMap::new();
    let mut extra_routes = 0usize;
    let mut make_service = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().and_then(|v| v.parse().ok()),
            "--extra-routes" => extra_routes = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()),
            "--make-service" => make_service = true,
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
        let app = sonde_bench::baseline_app_with_routes(bodies, extra_routes);
        let shutdown = async {
            let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        let served = if make_service {
            axum::serve(listener, app.into_make_service())
                .with_graceful_shutdown(shutdown)
                .await
        } else {
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        };
        served.unwrap_or_else(|e| fail(format!("serve: {e}")));
    });
}
