//! The staff web app, built by `build.rs` from `web/src/app` and embedded:
//! no Node.js at run time. All cryptography runs in the browser; the server
//! only hands out these files under a strict Content-Security-Policy.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

include!(concat!(env!("OUT_DIR"), "/web_app_files.rs"));

/// The page and its assets: no inline script or style, no eval of any kind,
/// nothing from another origin; workers only from this origin.
pub const APP_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
     script-src 'self'; worker-src 'self'; connect-src 'self'; style-src 'self'; \
     img-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The OPAQUE worker's script alone: the audited library is WebAssembly,
/// and compiling it needs `'wasm-unsafe-eval'` (WebAssembly only, never
/// JavaScript eval). A dedicated worker runs under the policy of its own
/// script, so the page that renders case data never gets this allowance.
pub const OPAQUE_WORKER_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'";

/// How Vite names the worker built from `web/src/app/core/opaque.worker.ts`.
const OPAQUE_WORKER_PREFIX: &str = "assets/opaque.worker-";

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn file(name: &str, cache: &'static str) -> Response {
    let Some((_, bytes)) = WEB_APP_FILES.iter().find(|(n, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let policy = if name.starts_with(OPAQUE_WORKER_PREFIX) && name.ends_with(".js") {
        OPAQUE_WORKER_CONTENT_SECURITY_POLICY
    } else {
        APP_CONTENT_SECURITY_POLICY
    };
    crate::help::browser_response(StatusCode::OK, content_type(name), policy, cache, *bytes)
}

/// The app lives at the root; `/app/` was its first address.
pub async fn redirect_to_root() -> Redirect {
    Redirect::permanent("/")
}

pub async fn index() -> Response {
    file("index.html", "no-cache")
}

/// Hashed file names: a file never changes under its name.
pub async fn asset(Path(path): Path<String>) -> Response {
    file(
        &format!("assets/{path}"),
        "public, max-age=31536000, immutable",
    )
}
