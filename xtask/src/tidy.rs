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

pub fn check(root: &Path) -> Result<()> {
    let mut problems = vec![];
    for krate in PURE_CRATES {
        let found = io_crates_in(&normal_dependencies(root, krate)?);
        if !found.is_empty() {
            problems.push(format!("{krate} depends on I/O crates {found:?}"));
        }
    }
    if !problems.is_empty() {
        bail!("tidy: {}", problems.join("; "));
    }
    eprintln!("tidy: {PURE_CRATES:?} depend on no I/O crate");
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
    fn the_check_would_catch_an_io_dependency() {
        let deps = vec!["northstar-core".to_owned(), "serde".into(), "tokio".into()];
        assert_eq!(io_crates_in(&deps), vec!["tokio".to_owned()]);
    }
}
