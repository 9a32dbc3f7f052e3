//! Criterion benchmarks of the record envelope, grants and chain verification,
//! each printed at the end beside the physical limits measured in the same run:
//! raw XChaCha20-Poly1305 over the same bytes, raw Ed25519 sign and verify,
//! raw X25519 and raw SHA-256.
//!
//! Run: `cargo bench -p northstar-crypto` (or `cargo xtask bench`).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use criterion::{BenchmarkId, Criterion, Throughput, black_box};
use ed25519_dalek::{Signer, SigningKey};
use northstar_core::Compartment;
use northstar_crypto::chain::verify_chain;
use northstar_crypto::envelope::{
    ChainPosition, RecordAddress, entry_hash, open_record, seal_record, verify_entry,
};
use northstar_crypto::grant::{CompartmentKey, CompartmentRef, Keyring, open_grant, seal_grant};
use northstar_crypto::identity::{AuthorKey, MemberSecretKeys};
use northstar_crypto::{ObjectId, OrgId, RecordId};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

const RECORD: usize = 2048;
const CHAIN: usize = 10_000;
/// The size of a chain entry in the chain benchmark (header, 18-byte plaintext, tag, signature).
const ENTRY: usize = 180 + 18 + 16 + 64;

fn output_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion")
}

fn limits(c: &mut Criterion) {
    let mut g = c.benchmark_group("limits");
    let key = [7u8; 32];
    let aead = XChaCha20Poly1305::new(&key.into());
    let msg = vec![0xA5u8; RECORD];
    let nonce = XNonce::from([1u8; 24]);
    g.throughput(Throughput::Bytes(RECORD as u64));
    g.bench_function("raw_xchacha20poly1305_seal_2KiB", |b| {
        b.iter(|| {
            aead.encrypt(
                &nonce,
                Payload {
                    msg: black_box(&msg),
                    aad: &[0u8; 180],
                },
            )
        })
    });
    let ct = aead
        .encrypt(
            &nonce,
            Payload {
                msg: &msg,
                aad: &[0u8; 180],
            },
        )
        .unwrap();
    g.bench_function("raw_xchacha20poly1305_open_2KiB", |b| {
        b.iter(|| {
            aead.decrypt(
                &nonce,
                Payload {
                    msg: black_box(&ct),
                    aad: &[0u8; 180],
                },
            )
        })
    });
    g.bench_function("raw_sha256_2KiB", |b| {
        b.iter(|| Sha256::digest(black_box(&msg)))
    });
    let entry_sized = vec![0x5Au8; ENTRY];
    g.bench_function("raw_sha256_entry", |b| {
        b.iter(|| Sha256::digest(black_box(&entry_sized)))
    });
    g.throughput(Throughput::Elements(1));
    let sk = SigningKey::from_bytes(&[3u8; 32]);
    let sig = sk.sign(&msg);
    let vk = sk.verifying_key();
    g.bench_function("raw_ed25519_sign_2KiB", |b| {
        b.iter(|| sk.sign(black_box(&msg)))
    });
    g.bench_function("raw_ed25519_verify_2KiB", |b| {
        b.iter(|| vk.verify_strict(black_box(&msg), &sig))
    });
    let a = x25519_dalek::StaticSecret::from([5u8; 32]);
    let p = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from([6u8; 32]));
    let entry_sig = sk.sign(&entry_sized);
    g.bench_function("raw_ed25519_verify_entry", |b| {
        b.iter(|| vk.verify_strict(black_box(&entry_sized), &entry_sig))
    });
    g.bench_function("raw_x25519", |b| b.iter(|| a.diffie_hellman(black_box(&p))));
    g.finish();
}

struct Fixture {
    rng: ChaCha20Rng,
    author: MemberSecretKeys,
    address: RecordAddress,
    key: CompartmentKey,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let address = RecordAddress {
        org: OrgId::random(&mut rng),
        case: ObjectId::random(&mut rng),
        compartment: Compartment::Story,
        record: RecordId::random(&mut rng),
    };
    Fixture {
        author: MemberSecretKeys::generate(&mut rng),
        key: CompartmentKey::generate(0, &mut rng),
        rng,
        address,
    }
}

const START: ChainPosition = ChainPosition {
    seq: 0,
    prev_hash: [0; 32],
};

fn records(c: &mut Criterion) {
    let mut f = fixture();
    let pt = vec![0x42u8; RECORD];
    let mut g = c.benchmark_group("record");
    g.throughput(Throughput::Bytes(RECORD as u64));
    g.bench_function("seal_2KiB", |b| {
        b.iter(|| {
            seal_record(
                f.address,
                1,
                START,
                &f.key,
                &f.author,
                black_box(&pt),
                &mut f.rng,
            )
        })
    });
    let sealed = seal_record(f.address, 1, START, &f.key, &f.author, &pt, &mut f.rng).unwrap();
    let mut keyring = Keyring::new(f.address.compartment_ref());
    keyring.insert(CompartmentKey::from_bytes(0, *f.key.expose_for_cache()));
    let author = AuthorKey::new(f.author.public()).unwrap();
    g.bench_function("open_2KiB", |b| {
        b.iter(|| {
            open_record(
                black_box(&sealed.entry),
                &sealed.wrap,
                &f.address,
                &keyring,
                &author,
            )
        })
    });
    g.finish();
}

fn grants(c: &mut Criterion) {
    let mut f = fixture();
    let recipient = MemberSecretKeys::generate(&mut f.rng);
    let target = CompartmentRef {
        org: f.address.org,
        object: f.address.case,
        compartment: Compartment::Identity,
    };
    let grant = seal_grant(target, &f.key, &recipient.public(), &f.author, &mut f.rng).unwrap();
    let granter = AuthorKey::new(f.author.public()).unwrap();
    let mut g = c.benchmark_group("grant");
    g.throughput(Throughput::Elements(1));
    g.bench_function("open", |b| {
        b.iter(|| open_grant(black_box(&grant), target, &recipient, &granter))
    });
    g.finish();
}

fn chains(c: &mut Criterion) {
    let mut f = fixture();
    let mut prev = [0u8; 32];
    let entries: Vec<Vec<u8>> = (0..CHAIN)
        .map(|i| {
            let e: Vec<u8> = seal_record(
                f.address,
                1,
                ChainPosition {
                    seq: i as u64,
                    prev_hash: prev,
                },
                &f.key,
                &f.author,
                b"{\"stage\":\"intake\"}",
                &mut f.rng,
            )
            .unwrap()
            .entry;
            prev = entry_hash(&e);
            assert_eq!(e.len(), ENTRY);
            e
        })
        .collect();
    let author = AuthorKey::new(f.author.public()).unwrap();
    let mut g = c.benchmark_group("chain");
    g.sample_size(10);
    g.throughput(Throughput::Elements(CHAIN as u64));
    g.bench_with_input(
        BenchmarkId::new("verify_links_and_signatures", CHAIN),
        &entries,
        |b, entries| {
            b.iter(|| {
                for e in entries {
                    verify_entry(e, &author).unwrap();
                }
                verify_chain(f.address.org, f.address.case, None, entries).unwrap()
            })
        },
    );
    g.bench_with_input(
        BenchmarkId::new("verify_links_only", CHAIN),
        &entries,
        |b, entries| b.iter(|| verify_chain(f.address.org, f.address.case, None, entries).unwrap()),
    );
    g.finish();
}

/// Mean time per iteration in nanoseconds, from criterion's estimates file.
fn mean_ns(id: &str) -> Option<f64> {
    let path = output_dir().join(id).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn summary() {
    let m = |id: &str| mean_ns(id);
    let (
        Some(raw_seal),
        Some(raw_open),
        Some(raw_sign),
        Some(raw_verify),
        Some(raw_x25519),
        Some(raw_sha_entry),
        Some(raw_verify_entry),
    ) = (
        m("limits/raw_xchacha20poly1305_seal_2KiB"),
        m("limits/raw_xchacha20poly1305_open_2KiB"),
        m("limits/raw_ed25519_sign_2KiB"),
        m("limits/raw_ed25519_verify_2KiB"),
        m("limits/raw_x25519"),
        m("limits/raw_sha256_entry"),
        m("limits/raw_ed25519_verify_entry"),
    )
    else {
        println!("(no estimates to summarise: run without --test to measure)");
        return;
    };
    let per_sec = |ns: f64| 1e9 / ns;
    println!("\n== Northstar crypto: figures beside the limits measured in this run ==");
    println!(
        "{:<44} {:>14} {:>14} {:>8}",
        "operation", "ops/s", "limit ops/s", "of limit"
    );
    let row = |name: &str, ns: Option<f64>, limit_ns: f64, limit_name: &str| {
        if let Some(ns) = ns {
            println!(
                "{:<44} {:>14.0} {:>14.0} {:>7.0}%   limit: {}",
                name,
                per_sec(ns),
                per_sec(limit_ns),
                100.0 * limit_ns / ns,
                limit_name
            );
        }
    };
    row(
        "seal 2 KiB record",
        m("record/seal_2KiB"),
        raw_seal + raw_sign,
        "raw XChaCha20-Poly1305 seal + Ed25519 sign",
    );
    row(
        "open 2 KiB record",
        m("record/open_2KiB"),
        raw_open + raw_verify,
        "raw XChaCha20-Poly1305 open + Ed25519 verify",
    );
    row(
        "open a grant (HPKE + signature)",
        m("grant/open"),
        raw_x25519 + raw_verify,
        "raw X25519 + Ed25519 verify",
    );
    // Chain rows are per entry: one chain verification covers CHAIN entries.
    let per_entry = |id: String| m(&id).map(|ns| ns / CHAIN as f64);
    row(
        &format!("chain entry, links + signature ({CHAIN})"),
        per_entry(format!("chain/verify_links_and_signatures/{CHAIN}")),
        raw_verify_entry + raw_sha_entry,
        "raw Ed25519 verify + SHA-256 of the entry",
    );
    row(
        &format!("chain entry, links only ({CHAIN})"),
        per_entry(format!("chain/verify_links_only/{CHAIN}")),
        raw_sha_entry,
        "raw SHA-256 of the entry",
    );
    println!(
        "raw XChaCha20-Poly1305: {:.0} MiB/s seal, {:.0} MiB/s open; Ed25519: {:.0} sign/s, {:.0} verify/s",
        RECORD as f64 / raw_seal * 1e9 / 1048576.0,
        RECORD as f64 / raw_open * 1e9 / 1048576.0,
        per_sec(raw_sign),
        per_sec(raw_verify)
    );
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&output_dir())
        .configure_from_args();
    limits(&mut c);
    records(&mut c);
    grants(&mut c);
    chains(&mut c);
    c.final_summary();
    summary();
}
