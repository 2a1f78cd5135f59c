//! `hoinghi-gateway`: serves the HTTP API, the live boards and the pages until SIGTERM or Ctrl-C.
//! `--check-config` prints the settings it would run with and exits.

use anyhow::Context as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = hoinghi_gateway::Settings::load()?;
    if std::env::args().any(|a| a == "--check-config") {
        println!("{settings:#?}");
        return Ok(());
    }
    hoinghi_runtime::telemetry::init(&settings.log);
    let listen = settings.http.listen.clone();
    let app = hoinghi_gateway::App::new(settings)?;
    tokio::spawn(app.clone().sweep_forever());
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "hoinghi-gateway listening");
    let stopping = app.stopping.clone();
    let signal = async move {
        shutdown().await;
        tracing::info!("stopping: no new requests, live streams end");
        stopping.cancel();
    };
    axum::serve(listener, hoinghi_gateway::router(app)).with_graceful_shutdown(signal).await?;
    tracing::info!("hoinghi-gateway stopped");
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
