//! The dashboard's static files, embedded in the binary: uPlot (vendored,
//! minified, with its licence), the dashboard's own script and stylesheet.
//!
//! Served under `/dashboard/assets/{name}` with their content type and a
//! year-long immutable cache; the page names them with `?v=` and a hash of
//! their bytes, so a new build is fetched at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its name under `/dashboard/assets/`.
    pub name: &'static str,
    /// Its content type.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// Every embedded file.
pub static ASSETS: [Asset; 5] = [
    Asset {
        name: "uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/uplot/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/uplot/uPlot.min.css"),
    },
    Asset {
        name: "uPlot.LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/uplot/LICENSE"),
    },
    Asset {
        name: "dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/dashboard/dashboard.js"),
    },
    Asset {
        name: "dashboard.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/dashboard/dashboard.css"),
    },
];

/// FNV-1a of every asset's bytes, hex: the `?v=` of their URLs.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for a in &ASSETS {
        for b in a.bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
});

/// The URL path of asset `name`, with its version.
pub fn url(name: &str) -> String {
    format!("/dashboard/assets/{name}?v={}", *VERSION)
}

/// `GET /dashboard/assets/{name}`: the file, or a plain 404.
#[utoipa::path(
    get,
    path = "/dashboard/assets/{name}",
    tag = "dashboard",
    params(("name" = String, Path, description = "The file's name, with its content hash")),
    responses(
        (status = 200, description = "The file (long-cached, immutable)", content(
            (String = "text/javascript; charset=utf-8"),
            (String = "text/css; charset=utf-8"),
            (String = "text/plain; charset=utf-8"),
        )),
        (status = 404, description = "No such file", content_type = "text/plain; charset=utf-8", body = String),
    )
)]
pub(super) async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(a.content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            ],
            a.bytes,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such asset",
        )
            .into_response(),
    }
}
