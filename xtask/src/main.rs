//! Build, test and check automation for Northstar: `cargo xtask <command>`.
//!
//! - `cargo xtask run`     — build and run Northstar: `northstar serve` on SQLite
//!   under `./northstar-data` (extra arguments go to `serve`).
//! - `cargo xtask test`    — everything CI checks: installs what the tests need
//!   (npm packages, Debian's `age`, `curl` and PostgreSQL), then formatting, clippy,
//!   the Rust tests against a throwaway PostgreSQL started for the run, the
//!   TypeScript type check and the TypeScript tests (with the live Rust interop).
//! - `cargo xtask vectors` — regenerate the frozen vectors after an intended format change.
//! - `cargo xtask bench`   — run the benchmarks (crypto primitives; 100,000 cases in the local
//!   cache; the intake's accepted rate and staff latency under a flood; 10,000 cases in the
//!   staff web app in headless Chromium) and print them beside
//!   the limits measured in the same run.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = repo_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("run") => serve(&args[1..]),
        Some("test") => test(&root),
        Some("vectors") => vectors(),
        Some("bench") => bench(),
        Some("tidy") => tidy::check(&root),
        _ => {
            eprintln!("usage: cargo xtask <run|test|vectors|bench|tidy>");
            std::process::exit(2);
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository root")
        .to_path_buf()
}

/// Run a command, echoing it, and fail with its name if it fails.
fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("+ {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{:?} failed with {status}", cmd.get_program());
    }
    Ok(())
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false)
}

fn has_command(name: &str, arg: &str) -> bool {
    Command::new(name)
        .arg(arg)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Install the Debian packages the tests drive for real, or fail saying how.
fn ensure_debian_packages(packages: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(binary, _)| !on_path(binary))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing Debian packages the tests need: {missing:?}");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut c = if is_root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut apt(&["update", "-qq"]))
        .context("apt-get update failed: install the packages by hand")?;
    let mut install = apt(&["install", "-y", "-qq"]);
    install.args(&missing);
    run(&mut install).with_context(|| format!("could not install {missing:?}"))?;
    Ok(())
}

fn ensure_npm_packages(root: &Path) -> Result<()> {
    let web = root.join("web");
    if !has_command("npm", "--version") {
        bail!(
            "Node.js 20 and npm are required for the web tests (https://nodejs.org or Debian's nodejs)"
        );
    }
    let lock = web.join("package-lock.json");
    let installed = web.join("node_modules/.package-lock.json");
    let fresh = match (lock.metadata(), installed.metadata()) {
        (Ok(l), Ok(i)) => i.modified()? >= l.modified()?,
        _ => false,
    };
    if !fresh {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&web))?;
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Cargo for the test suite. A clean run builds every target once, so the
/// incremental cache (several GB) would only fill the disk.
fn cargo_once() -> Command {
    let mut cargo = cargo();
    cargo.env("CARGO_INCREMENTAL", "0");
    cargo
}

fn test(root: &Path) -> Result<()> {
    ensure_debian_packages(&[
        ("age", "age"),
        ("curl", "curl"),
        ("psql", "postgresql-client"),
        ("pg_virtualenv", "postgresql-common"),
        // The help page's browser path is tested in a real Chromium (playwright-core).
        ("chromium", "chromium"),
    ])?;
    ensure_postgres_server()?;
    ensure_npm_packages(root)?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))
        .context("formatting differs: run `cargo fmt`")?;
    run(cargo_once().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]))?;
    tidy::check(root)?;
    run(cargo_once().args([
        "build",
        "--quiet",
        "-p",
        "northstar-crypto",
        "--example",
        "interop",
    ]))?;
    let interop = target_dir(root).join("debug/examples/interop");
    // pg_virtualenv starts a throwaway PostgreSQL cluster, sets PG* for the
    // tests, and drops the cluster when they end: PostgreSQL tests never skip.
    // -t: a cluster in a temporary folder, so concurrent runs never collide.
    run(Command::new("pg_virtualenv")
        .arg("-t")
        .env("CARGO_INCREMENTAL", "0")
        .arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--workspace", "--all-targets"]))?;
    let web = root.join("web");
    run(Command::new("npm").args(["run", "check"]).current_dir(&web))?;
    run(Command::new("npm")
        .args(["test"])
        .env("NORTHSTAR_INTEROP_BIN", &interop)
        .current_dir(&web))?;
    eprintln!("all checks passed");
    Ok(())
}

/// The PostgreSQL server binaries (any version pg_virtualenv can find).
fn ensure_postgres_server() -> Result<()> {
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.flatten()
                .any(|d| d.path().join("bin/postgres").is_file())
        })
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    // "postgresql" pulls the distribution's server; the check above finds it next time.
    ensure_debian_packages(&[("postgres-server-for-tests", "postgresql")])
}

fn serve(extra: &[String]) -> Result<()> {
    run(cargo()
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "northstar",
            "--",
            "serve",
        ])
        .args(extra))
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn vectors() -> Result<()> {
    run(cargo()
        .args([
            "test",
            "-p",
            "northstar-crypto",
            "--test",
            "vectors",
            "vector_files_are_what_the_generator_makes",
        ])
        .env("NORTHSTAR_WRITE_VECTORS", "1"))?;
    eprintln!("vectors written to testdata/vectors/ and web/src/lib/crypto/wordlist.ts");
    Ok(())
}

fn bench() -> Result<()> {
    run(cargo().args(["bench", "-p", "northstar-crypto"]))?;
    // 100,000 cases: cold sync, unlock, list and search of the local cache.
    run(cargo().args(["bench", "-p", "northstar", "--bench", "cases"]))?;
    run(cargo().args(["bench", "-p", "northstar", "--bench", "intake"]))?;
    // 10,000 cases in the staff web app, in headless Chromium.
    run(cargo().args(["bench", "-p", "northstar", "--bench", "webapp"]))
}
