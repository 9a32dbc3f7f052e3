//! One place that starts real servers and runs the real binary as members, for
//! the end-to-end tests. PostgreSQL comes from the standard PG* variables or
//! NORTHSTAR_TEST_POSTGRES_URL (set by `cargo xtask test`); a test that needs it
//! fails loudly when neither is there.
#![allow(dead_code)]

pub mod seed;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_northstar");

/// Which database a server runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// Both backends, the PostgreSQL one on a fresh database.
    pub fn all(test: &str) -> Vec<Backend> {
        vec![
            Backend::Sqlite,
            Backend::Postgres(fresh_postgres_database(test)),
        ]
    }
}

fn postgres_base_url() -> String {
    if let Ok(url) = std::env::var("NORTHSTAR_TEST_POSTGRES_URL") {
        return url
            .trim_end_matches('/')
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .unwrap_or(url);
    }
    let host = std::env::var("PGHOST").unwrap_or_else(|_| {
        panic!(
            "PostgreSQL is needed: run the tests with `cargo xtask test` (it starts one), or under \
             `pg_virtualenv cargo test`, or set NORTHSTAR_TEST_POSTGRES_URL"
        )
    });
    let port = std::env::var("PGPORT").unwrap_or_else(|_| "5432".into());
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    let password = std::env::var("PGPASSWORD").unwrap_or_default();
    let host = if host.starts_with('/') {
        "localhost".to_owned()
    } else {
        host
    };
    format!("postgres://{user}:{password}@{host}:{port}")
}

/// Create an empty database for one test and return its URL.
pub fn fresh_postgres_database(test: &str) -> String {
    let base = postgres_base_url();
    let name = format!(
        "ns_{}_{}_{}",
        test,
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    let admin_url = format!("{base}/postgres");
    let out = Command::new("psql")
        .arg(&admin_url)
        .args([
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .expect("psql (PostgreSQL client) must be installed");
    assert!(
        out.status.success(),
        "CREATE DATABASE failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{base}/{name}")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `northstar serve`, killed when dropped.
pub struct Server {
    pub url: String,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    child: Child,
}

impl Server {
    pub fn start(dir: &Path, name: &str, backend: &Backend) -> Server {
        Self::start_with(dir, name, backend, None)
    }

    /// Start a server; `data_dir` shares a seal key between servers on one database.
    pub fn start_with(
        dir: &Path,
        name: &str,
        backend: &Backend,
        data_dir: Option<&Path>,
    ) -> Server {
        Self::start_args(dir, name, backend, data_dir, &[])
    }

    /// Start a server with extra `serve` flags.
    pub fn start_args(
        dir: &Path,
        name: &str,
        backend: &Backend,
        data_dir: Option<&Path>,
        extra: &[&str],
    ) -> Server {
        let port = free_port();
        let data_dir = data_dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.join(format!("{name}-data")));
        let log = dir.join(format!("{name}.log"));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .env("NORTHSTAR_LOG", "debug")
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .stdin(Stdio::null());
        if let Backend::Postgres(url) = backend {
            cmd.arg("--database-url").arg(url);
        }
        let child = cmd.spawn().expect("start northstar serve");
        let server = Server {
            url: format!("http://127.0.0.1:{port}"),
            data_dir,
            log,
            child,
        };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(self.url.trim_start_matches("http://")).is_ok() {
                let out = Command::new("curl")
                    .args(["-fsS", &format!("{}/healthz", self.url)])
                    .output();
                if out.map(|o| o.status.success()).unwrap_or(false) {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the server did not become healthy; log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

pub fn passphrase_of(user: &str) -> String {
    format!("pass-{user}-correct horse battery")
}

/// The CLI as one member: own profile, own passphrase.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub profile: PathBuf,
    pub passphrase: String,
}

impl Member {
    pub fn new(dir: &Path, name: &str) -> Member {
        Member {
            name: name.to_owned(),
            profile: dir.join(format!("profile-{name}")),
            passphrase: passphrase_of(name),
        }
    }

    pub fn run(&self, server: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("NORTHSTAR_SERVER", server)
            .env("NORTHSTAR_PROFILE", &self.profile)
            .env("NORTHSTAR_PASSPHRASE", &self.passphrase)
            .stdin(Stdio::null())
            .output()
            .expect("run northstar")
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, server: &str, args: &[&str]) -> String {
        let out = self.run(server, args);
        assert!(
            out.status.success(),
            "`northstar {}` as {} failed:\n{}{}",
            args.join(" "),
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Run and require failure; returns stderr, which must say something.
    pub fn fails(&self, server: &str, args: &[&str]) -> String {
        let out = self.run(server, args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "`northstar {}` as {} should have failed but printed:\n{}",
            args.join(" "),
            self.name,
            String::from_utf8_lossy(&out.stdout)
        );
        let error_line = stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default();
        assert!(error_line.len() > 20, "unclear error: {stderr:?}");
        stderr
    }

    pub fn json(&self, server: &str, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(self.ok(server, &all).trim()).expect("--json prints one JSON object")
    }
}

/// The last word printed: how codes and ids are handed from one command to the next.
pub fn last_word(s: &str) -> String {
    s.split_whitespace().last().unwrap_or_default().to_owned()
}

/// An organization with `ada` as its founder and the listed members admitted.
pub fn org_with(server: &str, dir: &Path, members: &[(&str, &str)]) -> (Member, Vec<Member>) {
    let ada = Member::new(dir, "ada");
    ada.ok(
        server,
        &["org", "init", "--org", "Test Org", "--user", "ada"],
    );
    let mut joined = vec![];
    for (name, role) in members {
        let code = last_word(&ada.ok(server, &["invite", "--role", role]));
        let m = Member::new(dir, name);
        m.ok(server, &["join", "--invite", &code, "--user", name]);
        joined.push(m);
    }
    // Listing as the admin admits everyone who joined.
    ada.ok(server, &["member", "list"]);
    (ada, joined)
}

/// A server on SQLite in a fresh folder, with an organization founded by
/// `ada` and `members` (name, role) joined and admitted.
pub struct Team {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub url: String,
    pub ada: Member,
    pub members: Vec<Member>,
}

pub fn team(members: &[(&str, &str)]) -> Team {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let url = server.url.clone();
    let (ada, members) = org_with(&url, dir.path(), members);
    Team {
        dir,
        server,
        url,
        ada,
        members,
    }
}

/// Every file below `dir`, for the scans of what is at rest.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where a browser test writes its screenshots: `artifacts/NAME` at the repository root.
pub fn artifacts(name: &str) -> PathBuf {
    let dir = repo_root().join("artifacts").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run a Chromium driver in web/e2e (with this build's `northstar` for any
/// server or command line it starts) and return the JSON line it prints last.
pub fn web_driver(script: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new("node")
        .arg(repo_root().join("web/e2e").join(script))
        .args(args)
        .current_dir(repo_root().join("web"))
        .env("NORTHSTAR_BIN", env!("CARGO_BIN_EXE_northstar"))
        .output()
        .expect("node is installed (cargo xtask test checks it, with Chromium)");
    assert!(
        out.status.success(),
        "{script} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {stdout}"))
}
