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
/// # Errors
/// Unreadable configuration, an async runtime that could not start, or what `run` returns.
pub fn main<Fut>(run: impl FnOnce(Settings) -> Fut) -> anyhow::Result<()>
where
    Fut: Future<Output = anyhow::Result<()>>,
{
    use anyhow::Context as _;
    let settings = Settings::load().context("reading configuration")?;
    crate::telemetry::init(&settings.log);
    let runtime = runtime(&settings.service).context("starting the async runtime")?;
    runtime.block_on(run(settings))
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
    settings: Settings,
    background: CancellationToken,
    started: Instant,
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
        let js = jetstream::new(client);
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
        let background = CancellationToken::new();
        let store = EventStore::open(
            js.clone(),
            stream,
            Duration::from_millis(settings.service.apply_timeout_ms),
            Duration::from_secs(300),
            background.clone(),
        )
        .await?;
        Ok(Self { store, api, js, name, settings: settings.clone(), background, started })
    }

    /// Starts a reaction in the background.
    pub fn react<F, Fut>(&self, subscription: Subscription, handler: F)
    where
        F: Fn(Received) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ReactionError>> + Send + 'static,
    {
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
        Host::start(self.api.clone(), self.name, description, self.settings.service.max_in_flight).await
    }

    /// Serves until `shutdown`, then drains.
    pub async fn run(self, host: Host, shutdown: impl Future<Output = ()>) {
        info!(service = self.name, ready_ms = self.started.elapsed().as_millis() as u64, "ready");
        host.run_until(shutdown, Duration::from_millis(self.settings.service.drain_timeout_ms)).await;
        self.background.cancel();
    }
}
