//! Architecture rules that a test can check (ARCHITECTURE.md §Invariants).

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

/// Crates that must stay pure: no async runtime, no database, no HTTP.
pub const PURE_CRATES: &[&str] = &["northstar-core", "northstar-crypto"];

/// Crates whose presence in a pure crate's dependency tree means I/O crept in.
pub const IO_CRATES: &[&str] = &[
    "tokio",
    "sqlx",
    "axum",
    "hyper",
    "reqwest",
    "ureq",
    "rusqlite",
    "postgres",
    "tower",
    "async-std",
    "smol",
    "isahc",
    "surf",
];

/// The normal (non-dev, non-build) dependency closure of `krate`, by crate name.
pub fn normal_dependencies(root: &Path, krate: &str) -> Result<Vec<String>> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "tree", "-q", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .output()?;
    if !out.status.success() {
        bail!(
            "cargo tree -p {krate} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// The I/O crates found in `deps`, if any.
pub fn io_crates_in(deps: &[String]) -> Vec<String> {
    deps.iter()
        .filter(|d| IO_CRATES.contains(&d.as_str()))
        .cloned()
        .collect()
}

/// The only crates that may hold SQL or depend on a database driver.
pub const STORE_CRATES: &[&str] = &[
    "northstar-store-sqlite",
    "northstar-store-postgres",
    "northstar-store-cache",
];

/// Words that only SQL text contains.
const SQL_MARKERS: &[&str] = &[
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "CREATE TABLE",
    "ALTER TABLE",
    "sqlx::query",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Places outside the store crates whose source holds SQL or that depend on sqlx.
pub fn sql_outside_stores(root: &Path) -> Result<Vec<String>> {
    let mut found = vec![];
    for entry in std::fs::read_dir(root.join("crates"))? {
        let krate = entry?.path();
        let name = krate
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if STORE_CRATES.contains(&name.as_str()) {
            continue;
        }
        let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap_or_default();
        if manifest.lines().any(|l| l.trim_start().starts_with("sqlx")) {
            found.push(format!("{name}/Cargo.toml depends on sqlx"));
        }
        let mut files = vec![];
        rust_files(&krate.join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file)?;
            if let Some(marker) = SQL_MARKERS.iter().find(|m| contains_sql(&text, m)) {
                found.push(format!("{} contains {marker:?}", file.display()));
            }
        }
    }
    Ok(found)
}

/// A marker counts inside a string literal only (so prose in comments does not trip it).
fn contains_sql(text: &str, marker: &str) -> bool {
    text.lines().any(|line| {
        let code = line.split("//").next().unwrap_or("");
        if marker.starts_with("sqlx") {
            code.contains(marker)
        } else {
            code.contains(&format!("\"{marker}")) || code.contains(&format!("r#\"{marker}"))
        }
    })
}

pub fn check(root: &Path) -> Result<()> {
    let mut problems = sql_outside_stores(root)?;
    for krate in PURE_CRATES {
        let found = io_crates_in(&normal_dependencies(root, krate)?);
        if !found.is_empty() {
            problems.push(format!("{krate} depends on I/O crates {found:?}"));
        }
    }
    if !problems.is_empty() {
        bail!("tidy: {}", problems.join("; "));
    }
    eprintln!("tidy: {PURE_CRATES:?} depend on no I/O crate; only {STORE_CRATES:?} hold SQL");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf()
    }

    #[test]
    fn core_and_crypto_depend_on_no_io_crate() {
        for krate in PURE_CRATES {
            let deps = normal_dependencies(&root(), krate).unwrap();
            assert!(
                deps.iter().any(|d| d == krate),
                "cargo tree listed {krate} itself"
            );
            assert_eq!(
                io_crates_in(&deps),
                Vec::<String>::new(),
                "{krate} depends on I/O crates"
            );
        }
    }

    #[test]
    fn only_the_store_crates_hold_sql() {
        assert_eq!(sql_outside_stores(&root()).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn the_sql_check_sees_sql_in_strings_but_not_in_prose() {
        assert!(contains_sql("let q = \"SELECT id FROM t\";", "SELECT "));
        assert!(contains_sql("sqlx::query(q)", "sqlx::query"));
        assert!(!contains_sql("// SELECT the members", "SELECT "));
        assert!(!contains_sql("let s = \"select a name\";", "SELECT "));
    }

    #[test]
    fn the_check_would_catch_an_io_dependency() {
        let deps = vec!["northstar-core".to_owned(), "serde".into(), "tokio".into()];
        assert_eq!(io_crates_in(&deps), vec!["tokio".to_owned()]);
    }
}
