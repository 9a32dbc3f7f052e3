//! Build the public help page's script (web/src/help) into OUT_DIR, so the one
//! binary serves it and no Node.js is needed when Northstar runs. Building
//! Northstar needs Node.js 20 and npm, as the README says; a missing npm fails
//! the build here with a message, never with a page that silently lacks its script.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let web = manifest.join("../../web");
    for watched in [
        "src/help",
        "src/lib/crypto",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "vite.plugins.ts",
        "src/app",
        "vite.app.config.ts",
        "svelte.config.js",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(watched).display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("web");
    if !web.join("node_modules/.package-lock.json").exists() {
        npm(&web, &["ci", "--no-audit", "--no-fund"]);
    }
    // The Vite config writes `assets/help.js` under its output folder.
    let out_arg = out.join("help").display().to_string();
    npm(
        &web,
        &["run", "build", "--", "--outDir", &out_arg, "--emptyOutDir"],
    );
    let script = out.join("help/assets/help.js");
    assert!(
        script.is_file(),
        "the web build did not write {}",
        script.display()
    );
    // The staff web app: every file it builds, embedded by name.
    let app = out.join("app");
    let app_arg = app.display().to_string();
    npm(
        &web,
        &[
            "run",
            "build:app",
            "--",
            "--outDir",
            &app_arg,
            "--emptyOutDir",
        ],
    );
    let mut files = vec![];
    collect(&app, &app, &mut files);
    files.sort();
    assert!(
        files.iter().any(|(name, _)| name == "index.html"),
        "the app build did not write index.html"
    );
    let table: String = files
        .iter()
        .map(|(name, path)| format!("    ({name:?}, include_bytes!({path:?})),\n"))
        .collect();
    std::fs::write(
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("web_app_files.rs"),
        format!("/// The staff web app's files, by path below `/app/`.\npub const WEB_APP_FILES: &[(&str, &[u8])] = &[\n{table}];\n"),
    )
    .expect("writing the table of the app's files");
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("reading the app build") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let name = path
                .strip_prefix(root)
                .expect("below the root")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((name, path.display().to_string()));
        }
    }
}

fn npm(dir: &Path, args: &[&str]) {
    let status = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "building Northstar needs Node.js 20 and npm for the web page's script \
                 (https://nodejs.org, or Debian's nodejs and npm): running `npm {}` failed: {e}",
                args.join(" ")
            )
        });
    assert!(
        status.success(),
        "`npm {}` in {} failed ({status}); see its output above",
        args.join(" "),
        dir.display()
    );
}
