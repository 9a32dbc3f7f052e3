//! A Northstar server in the benchmark's own process, on SQLite under a
//! given folder, listening on a free loopback port.

pub struct Running {
    pub url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), northstar_server::ServerError>>,
}

pub async fn serve(
    data_dir: &std::path::Path,
    intake: northstar_server::IntakeSettings,
) -> Running {
    let state = northstar_server::prepare(&northstar_server::Config {
        data_dir: data_dir.to_path_buf(),
        database_url: None,
        seal_key_file: None,
        intake,
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(northstar_server::run(listener, state, async move {
        let _ = stopped.await;
    }));
    Running { url, stop, server }
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}
