//! A whole private deployment: a `nats-server` and the three services, plus a client.

use std::process::ExitStatus;
use std::time::Duration;

use anyhow::Context;
use futures::TryStreamExt;

use crate::client::Api;
use crate::counts;
use crate::nats::NatsServer;
use crate::service::{Service, ServiceProcess, Services};
use crate::READY_TIMEOUT;

/// Server + services + client. On drop during a panic, prints the tail of every log.
#[derive(Debug)]
pub struct Stack {
    /// The private server.
    pub server: NatsServer,
    /// A client connected to it.
    pub api: Api,
    services: Services,
}

impl Stack {
    /// Starts a server and all three services, and waits until each answers `$SRV.PING`.
    ///
    /// # Errors
    /// Anything that did not come up.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(&Service::ALL).await
    }

    /// Starts a server and only the `running` services (the others can be started later with
    /// [`Self::start_service`]).
    ///
    /// # Errors
    /// Anything that did not come up.
    pub async fn start_with(running: &[Service]) -> anyhow::Result<Self> {
        let server = NatsServer::start().await?;
        let api = Api::connect(&server.url()).await.context("connect the test client")?;
        let services = Services::new(&server.url(), server.dir(), |_| {})?;
        let mut stack = Self { server, api, services };
        let client = stack.api.nats().clone();
        stack.services.start(running, &client).await?;
        Ok(stack)
    }

    /// One service's process.
    pub fn service(&self, service: Service) -> &ServiceProcess {
        self.services.get(service)
    }

    /// One service's process, mutably.
    pub fn service_mut(&mut self, service: Service) -> &mut ServiceProcess {
        self.services.get_mut(service)
    }

    /// SIGKILLs a service.
    pub fn kill(&mut self, service: Service) {
        self.service_mut(service).kill();
    }

    /// Starts a (stopped) service and waits until it is ready.
    ///
    /// # Errors
    /// It did not come up.
    pub async fn start_service(&mut self, service: Service) -> anyhow::Result<()> {
        let client = self.api.nats().clone();
        self.service_mut(service).start(&client, READY_TIMEOUT).await
    }

    /// SIGKILLs a service, starts it again and waits until it is ready.
    ///
    /// # Errors
    /// It did not come back.
    pub async fn restart(&mut self, service: Service) -> anyhow::Result<()> {
        let client = self.api.nats().clone();
        self.service_mut(service).restart(&client, READY_TIMEOUT).await
    }

    /// Sends SIGTERM to a service and waits (up to 15 s) for it to exit.
    ///
    /// # Errors
    /// Not running or did not exit.
    pub async fn terminate(&mut self, service: Service) -> anyhow::Result<ExitStatus> {
        self.service_mut(service).terminate(Duration::from_secs(15)).await
    }

    /// A JetStream context on the test client's connection.
    pub fn jetstream(&self) -> async_nats::jetstream::Context {
        async_nats::jetstream::new(self.api.nats().clone())
    }

    /// How many messages a stream holds.
    ///
    /// # Errors
    /// The stream does not exist or JetStream did not answer.
    pub async fn stream_messages(&self, stream: &str) -> anyhow::Result<u64> {
        counts::stream_messages(&self.jetstream(), stream).await
    }

    /// How many messages of a stream match a subject filter (e.g.
    /// `hoinghi.v1.events.minutes.<conference>.draft_opened`).
    ///
    /// # Errors
    /// The stream does not exist or JetStream did not answer.
    pub async fn count_events(&self, stream: &str, filter: &str) -> anyhow::Result<usize> {
        counts::count_events(&self.jetstream(), stream, filter).await
    }

    /// Messages in the scheduling, attendance and minutes streams (0 for a stream not created yet).
    ///
    /// # Errors
    /// JetStream did not answer.
    pub async fn event_totals(&self) -> anyhow::Result<[u64; 3]> {
        counts::event_totals(&self.jetstream()).await
    }

    /// Waits until every JetStream consumer (the services' reactions) has nothing pending and nothing
    /// waiting for an ack: every event written so far has been fully processed. A message delivered to
    /// an instance that was then SIGKILLed counts as waiting until the consumer's ack wait redelivers it.
    ///
    /// # Errors
    /// Still busy after `timeout` (the error lists the busy consumers).
    pub async fn wait_for_reactions(&self, timeout: Duration) -> anyhow::Result<()> {
        let js = self.jetstream();
        crate::client::eventually(timeout, || async {
            let mut busy = Vec::new();
            let names: Vec<String> = js.stream_names().try_collect().await?;
            for name in names {
                let stream = js.get_stream(&name).await?;
                let consumers: Vec<_> = stream.consumers().try_collect().await?;
                for c in consumers {
                    if c.num_pending > 0 || c.num_ack_pending > 0 {
                        busy.push(format!(
                            "{name}/{}: {} pending, {} waiting for ack",
                            c.name, c.num_pending, c.num_ack_pending
                        ));
                    }
                }
            }
            if busy.is_empty() {
                Ok(())
            } else {
                Err(anyhow::anyhow!("consumers still busy: {busy:?}"))
            }
        })
        .await
    }

    /// How many events reactions parked in `HOINGHI_DEAD_LETTERS` (0 if the stream does not exist).
    ///
    /// # Errors
    /// JetStream did not answer.
    pub async fn dead_letters(&self) -> anyhow::Result<u64> {
        counts::dead_letters(&self.jetstream()).await
    }

    /// The tails of every log, for a failure report.
    pub fn logs(&self, lines: usize) -> String {
        self.services.logs(&self.server.log_path(), lines)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("===== logs of the failed test's stack (last lines)\n{}", self.logs(60));
        }
        self.services.kill_all();
    }
}
