//! The staff web app is served by the one binary, under its strict policy.

mod support;

use support::{Backend, Server};

#[test]
fn the_app_and_its_assets_are_served_under_a_strict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let moved = http.get(format!("{}/app", server.url)).send().unwrap();
    assert_eq!(moved.status().as_u16(), 308);
    let index = http.get(format!("{}/app/", server.url)).send().unwrap();
    assert_eq!(index.status().as_u16(), 200);
    let csp = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    assert!(index.headers().get("set-cookie").is_none());
    let html = index.text().unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from another origin"
    );
    // Every script and stylesheet the page names is served, with its type.
    let mut served = 0;
    for (attr, kind) in [
        ("src=\"./assets/", "text/javascript"),
        ("href=\"./assets/", "text/css"),
    ] {
        for part in html.split(attr).skip(1) {
            let name = &part[..part.find('"').unwrap()];
            let asset = http
                .get(format!("{}/app/assets/{name}", server.url))
                .send()
                .unwrap();
            assert_eq!(asset.status().as_u16(), 200, "{name}");
            assert!(
                asset.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with(kind)
            );
            served += 1;
        }
    }
    assert!(served >= 2, "the page names its script and its stylesheet");
    let missing = http
        .get(format!("{}/app/assets/../../etc/passwd", server.url))
        .send()
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
