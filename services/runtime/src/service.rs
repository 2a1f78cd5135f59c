//! Assembling a service: connect, make sure the streams exist, rebuild the projection, start the
//! reactions and the endpoints, and stop gracefully.

use std::future::Future;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use hoinghi_shared::Service;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::config::Settings;
use crate::host::Host;
use crate::reaction::{self, ReactionError, Received, Subscription};
use crate::store::{EventStore, Projection};
use crate::streams::ensure_all_streams;

/// The async runtime a service runs on, as configured by `service.worker_threads`.
///
/// # Errors
/// The OS refused the threads or the I/O driver.
pub fn runtime(settings: &crate::config::ServiceSettings) -> std::io::Result<tokio::runtime::Runtime> {
    if settings.worker_threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(settings.worker_threads).enable_all().build()
    }
}

/// The whole `main` of a service binary: reads the configuration, sets up logging, and runs `run`
/// (the service given its settings) on the async runtime `service.worker_threads` asks for.
///
/// With the one argument `--check-config`, it prints the effective configuration (secrets masked,
/// [`crate::config::effective`]) and exits 0, or prints why it is invalid and exits 1; nothing
/// connects.
///
/// # Errors
/// Unreadable, unknown or contradictory configuration, an unknown argument, an async runtime that
/// could not start, or what `run` returns.
pub fn main<Fut>(run: impl FnOnce(Settings) -> Fut) -> anyhow::Result<()>
where
    Fut: Future<Output = anyhow::Result<()>>,
{
    use anyhow::Context as _;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag] if flag == "--check-config" => match crate::config::effective(std::env::vars()) {
            Ok(shown) => {
                print!("{shown}");
                std::process::exit(0)
            }
            Err(e) => {
                eprintln!("invalid configuration: {e:#}");
                std::process::exit(1)
            }
        },
        _ => anyhow::bail!("unknown arguments {args:?}; the only argument is --check-config"),
    }
    let settings = Settings::load().context("reading configuration")?;
    settings.validate().context("checking configuration")?;
    // The binary's name is the micro service's (`hoinghi-scheduling`, …): the traces' service name.
    let service = std::env::args()
        .next()
        .and_then(|path| std::path::Path::new(&path).file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "hoinghi".to_owned());
    crate::telemetry::init_with(&settings.log, &settings.telemetry, &service).context("setting up telemetry")?;
    let runtime = runtime(&settings.service).context("starting the async runtime")?;
    let outcome = runtime.block_on(run(settings));
    crate::telemetry::shutdown();
    outcome
}

/// A service being assembled.
pub struct App<P: Projection> {
    /// Its event store.
    pub store: EventStore<P>,
    /// The connection that answers requests, as the service's API identity: it may publish only to
    /// inboxes. The store and the reactions use another connection, the only one that may append.
    api: async_nats::Client,
    js: jetstream::Context,
    name: &'static str,
    stream: &'static str,
    settings: Settings,
    background: CancellationToken,
    started: Instant,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl<P: Projection> App<P> {
    /// Connects as `service` (its micro-service name, [`Service::name`]), ensures the streams, and
    /// rebuilds the state from the service's own stream.
    ///
    /// # Errors
    /// NATS unreachable, or the log unreadable.
    pub async fn build(settings: &Settings, service: Service) -> anyhow::Result<Self> {
        let (name, stream) = (service.name(), service.stream());
        let started = Instant::now();
        info!(service = name, nats = ?settings.nats, "starting");
        let api_settings = settings.nats.api()?;
        let client = crate::connect::connect(&settings.nats, name).await?;
        let api = crate::connect::connect(&api_settings, &format!("{name}-api")).await?;
        let js = jetstream::new(client.clone());
        let background = CancellationToken::new();
        // Metrics and health answer from here on; ready only once announced (`App::run`).
        let metrics =
            std::sync::Arc::new(crate::metrics::Metrics::new(name, stream.name, js.clone(), vec![client, api.clone()]));
        if !settings.metrics.listen.trim().is_empty() {
            metrics.serve(settings.metrics.listen.trim(), background.clone()).await?;
        }
        // A cluster that has just formed may not answer JetStream requests yet: keep asking until
        // the connect timeout, as for the connection itself.
        let deadline = Instant::now() + Duration::from_millis(settings.nats.connect_timeout_ms);
        loop {
            match ensure_all_streams(&js, settings.nats.replicas).await {
                Ok(()) => break,
                // A stream with the wrong settings stays wrong: stop at once, naming each difference.
                Err(e) if e.is_transient() && Instant::now() < deadline => {
                    tracing::warn!(error = %e, "JetStream not ready; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let store = EventStore::open(
            js.clone(),
            stream,
            Duration::from_millis(settings.service.apply_timeout_ms),
            Duration::from_secs(300),
            background.clone(),
        )
        .await?;
        let applied = store.clone();
        metrics.set_projection(move || applied.applied_seq());
        Ok(Self { store, api, js, name, stream: stream.name, settings: settings.clone(), background, started, metrics })
    }

    /// Starts a reaction in the background.
    pub fn react<F, Fut>(&self, subscription: Subscription, handler: F)
    where
        F: Fn(Received) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ReactionError>> + Send + 'static,
    {
        self.metrics.add_reaction(subscription.source.stream().name, subscription.durable);
        tokio::spawn(reaction::run(
            self.js.clone(),
            subscription,
            self.settings.reactions,
            handler,
            self.background.clone(),
        ));
    }

    /// The JetStream context of the service's event-writer identity (the one that may append, write
    /// its notifications and, for attendance, set timers).
    pub fn jetstream(&self) -> jetstream::Context {
        self.js.clone()
    }

    /// Handles the durable timers fired on `filter` in the background ([`crate::timers::run_due`]),
    /// with the reactions' retry settings, until the service stops.
    pub fn on_timers<F, Fut>(&self, durable: &'static str, filter: String, handler: F)
    where
        F: Fn(crate::timers::Fired) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ReactionError>> + Send + 'static,
    {
        self.metrics.add_reaction(hoinghi_shared::streams::TIMERS.name, durable);
        tokio::spawn(crate::timers::run_due(
            self.js.clone(),
            durable,
            filter,
            self.settings.reactions,
            handler,
            self.background.clone(),
        ));
    }

    /// The connection that answers requests (the service's API identity), for plain subscriptions
    /// outside the micro-service host (attendance's heartbeats).
    pub fn api_client(&self) -> async_nats::Client {
        self.api.clone()
    }

    /// The settings the service runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A token cancelled when the service stops, for background tasks.
    pub fn background(&self) -> CancellationToken {
        self.background.clone()
    }

    /// Registers the micro service.
    ///
    /// # Errors
    /// The server refused it.
    pub async fn host(&self, description: &str) -> anyhow::Result<Host> {
        let metadata = std::collections::HashMap::from([
            ("version".to_owned(), env!("CARGO_PKG_VERSION").to_owned()),
            ("stream".to_owned(), self.stream.to_owned()),
            ("api".to_owned(), crate::micro::api_version().to_owned()),
        ]);
        let host = Host::start(self.api.clone(), self.name, description, metadata, self.settings.service.max_in_flight)
            .await?;
        self.metrics.set_micro(host.micro());
        Ok(host)
    }

    /// The service's metrics, to add figures of its own ([`crate::metrics::Metrics::add_figures`]).
    pub fn metrics(&self) -> std::sync::Arc<crate::metrics::Metrics> {
        self.metrics.clone()
    }

    /// Announces the service (its endpoints are subscribed and its projection caught up when this is
    /// called: `$SRV.PING` answering means ready), serves until `shutdown`, then drains.
    ///
    /// # Errors
    /// The server refused the discovery subscriptions.
    pub async fn run(self, host: Host, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        if let Err(e) = host.announce().await {
            self.background.cancel();
            return Err(e);
        }
        info!(service = self.name, ready_ms = self.started.elapsed().as_millis() as u64, "ready");
        host.run_until(shutdown, Duration::from_millis(self.settings.service.drain_timeout_ms)).await;
        self.background.cancel();
        Ok(())
    }
}
