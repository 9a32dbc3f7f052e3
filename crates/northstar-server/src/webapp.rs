//! The staff web app, built by `build.rs` from `web/src/app` and embedded:
//! no Node.js at run time. All cryptography runs in the browser; the server
//! only hands out these files under a strict Content-Security-Policy.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

include!(concat!(env!("OUT_DIR"), "/web_app_files.rs"));

/// No inline script or style, no eval, nothing from another origin. WebAssembly
/// (the audited OPAQUE library) needs `'wasm-unsafe-eval'`, which allows
/// compiling WebAssembly and nothing else.
pub const APP_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
     script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; \
     img-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

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
    crate::help::browser_response(
        StatusCode::OK,
        content_type(name),
        APP_CONTENT_SECURITY_POLICY,
        cache,
        *bytes,
    )
}

pub async fn redirect_to_app() -> Redirect {
    Redirect::permanent("/app/")
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
