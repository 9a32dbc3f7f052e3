//! Exports open with the real `age` tool, and files it makes open in Rust.
//! The test command installs Debian's `age`; if it is missing this test fails.

use std::process::{Command, Stdio};

use northstar_crypto::export::{AgeIdentity, export_to_recipients, import_with_identity};

fn age_tool() -> &'static str {
    let ok = Command::new("age")
        .arg("--version")
        .output()
        .map(|o| o.status.success());
    assert!(
        matches!(ok, Ok(true)),
        "the `age` tool is required (apt-get install -y age; `cargo xtask test` installs it)"
    );
    "age"
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("northstar-age-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn an_export_made_in_rust_opens_with_age_d() {
    let age = age_tool();
    let dir = temp_dir("export");
    let identity = AgeIdentity::generate();
    let other = AgeIdentity::generate();
    let plaintext = "{\"identity\":{\"legal_name\":\"Имя Фамилия\"}}".repeat(100);
    let file = export_to_recipients(
        plaintext.as_bytes(),
        &[&identity.recipient(), &other.recipient()],
    )
    .unwrap();
    std::fs::write(dir.join("case.age"), &file).unwrap();
    std::fs::write(dir.join("key.txt"), identity.to_secret_string().as_bytes()).unwrap();
    let out = Command::new(age)
        .args(["-d", "-i"])
        .arg(dir.join("key.txt"))
        .arg(dir.join("case.age"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age -d failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, plaintext.as_bytes());
    // A key that is not a recipient cannot open it.
    std::fs::write(
        dir.join("stranger.txt"),
        AgeIdentity::generate().to_secret_string().as_bytes(),
    )
    .unwrap();
    let out = Command::new(age)
        .args(["-d", "-i"])
        .arg(dir.join("stranger.txt"))
        .arg(dir.join("case.age"))
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_file_made_with_age_r_opens_in_rust() {
    let age = age_tool();
    let dir = temp_dir("import");
    let identity = AgeIdentity::generate();
    let plaintext = b"backup of the organization, made by the age tool";
    std::fs::write(dir.join("plain.txt"), plaintext).unwrap();
    for armor in [false, true] {
        let out_file = dir.join(if armor { "armored.age" } else { "binary.age" });
        let mut cmd = Command::new(age);
        cmd.arg("-r").arg(identity.recipient());
        if armor {
            cmd.arg("-a");
        }
        let status = cmd
            .arg("-o")
            .arg(&out_file)
            .arg(dir.join("plain.txt"))
            .status()
            .unwrap();
        assert!(status.success());
        let opened = import_with_identity(&std::fs::read(&out_file).unwrap(), &identity).unwrap();
        assert_eq!(opened.as_slice(), plaintext);
        let err =
            import_with_identity(&std::fs::read(&out_file).unwrap(), &AgeIdentity::generate())
                .unwrap_err();
        assert_eq!(err.code(), "export");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_bad_recipient_is_refused_with_a_clear_error() {
    let err = export_to_recipients(b"x", &["age1notarecipient"]).unwrap_err();
    assert!(
        err.to_string().contains("not an age X25519 recipient"),
        "{err}"
    );
    let err = export_to_recipients(b"x", &[]).unwrap_err();
    assert!(err.to_string().contains("no recipients"), "{err}");
}
