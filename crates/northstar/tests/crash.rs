//! Kill the server with SIGKILL in the middle of a burst of writes: after a
//! restart on the same data, every write it acknowledged is there.

mod support;

use std::sync::{Arc, Mutex};

use northstar_client::Profile;
use northstar_protocol::CreateInvite;
use support::{Backend, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), "s", &Backend::Sqlite);
    let (ada, _) = support::org_with(&server.url, dir.path(), &[]);
    let mut profile = Profile::load(&ada.profile).unwrap();
    let unlocked = northstar_client::login(&server.url, &mut profile, "ada", &ada.passphrase)
        .await
        .unwrap();
    let api = unlocked.api.clone();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut writers = vec![];
    for w in 0..8u32 {
        let api = api.clone();
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..10_000u32 {
                let invite_id = format!("{w:08x}{i:08x}{}", "0".repeat(16));
                let body = CreateInvite {
                    invite_id: invite_id.clone(),
                    role: "caseworker".into(),
                    valid_for_seconds: 3600,
                    sealed_secret: "AAAA".into(),
                    sealed_intake_keys: None,
                };
                match api.create_invite(&body).await {
                    Ok(_) => acknowledged.lock().unwrap().push(invite_id),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    // Let the burst run, then kill the server in the middle of it.
    while acknowledged.lock().unwrap().len() < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.kill_hard();
    for w in writers {
        w.await.unwrap();
    }
    let acked: Vec<String> = acknowledged.lock().unwrap().clone();
    assert!(acked.len() >= 300);

    let server = Server::start_with(
        dir.path(),
        "s2",
        &Backend::Sqlite,
        Some(&server.data_dir.clone()),
    );
    let mut profile = Profile::load(&ada.profile).unwrap();
    let unlocked = northstar_client::login(&server.url, &mut profile, "ada", &ada.passphrase)
        .await
        .unwrap();
    let stored: std::collections::HashSet<String> = unlocked
        .api
        .invites()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.invite_id)
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes were lost",
        lost.len(),
        acked.len()
    );
}
