//! Load for the reliability tests: many generated sites, a client that retries a command with the
//! same `Hoinghi-Idempotency-Key` until it gets an answer (counting what it sent, what was
//! acknowledged and what was retried), and the event log read back from JetStream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use futures::{StreamExt, TryStreamExt};
use hoinghi_shared::api::{AgendaItem, ConferenceRef, ConfirmAttendance, CreateConference, Person, SiteAttendance};
use hoinghi_shared::events::EventEnvelope;
use hoinghi_shared::subjects::attendance;
use hoinghi_shared::{ApiError, ConferenceId, ErrorCode, SiteId};

use crate::client::{idempotency_headers, Api, RawReply};
use crate::scenario;

/// Counters of a retrying client, shared by all the tasks that use it.
#[derive(Debug, Default)]
pub struct Tally {
    sent: AtomicU64,
    attempts: AtomicU64,
    acknowledged: AtomicU64,
    retried: AtomicU64,
    refused: AtomicU64,
    gave_up: AtomicU64,
}

/// A snapshot of a [`Tally`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Commands sent (each once, however often it was retried).
    pub sent: u64,
    /// Requests on the wire, retries included.
    pub attempts: u64,
    /// Commands answered with a success.
    pub acknowledged: u64,
    /// Commands that needed more than one attempt (timeout, no responders, 503).
    pub retried: u64,
    /// Commands answered with a 4xx error.
    pub refused: u64,
    /// Commands never answered before the deadline.
    pub gave_up: u64,
}

impl Tally {
    /// The current counts.
    pub fn counts(&self) -> Counts {
        Counts {
            sent: self.sent.load(Ordering::Relaxed),
            attempts: self.attempts.load(Ordering::Relaxed),
            acknowledged: self.acknowledged.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            gave_up: self.gave_up.load(Ordering::Relaxed),
        }
    }
}

/// A client that sends each command with an idempotency key and, on a timeout, "no responders" or a
/// 503, sends it again with the same key (backing off from 50 ms to 1 s) until `give_up_after`.
#[derive(Debug, Clone)]
pub struct RetryingClient {
    api: Api,
    tally: Arc<Tally>,
    give_up_after: Duration,
}

impl RetryingClient {
    /// A client on `api`'s connection (its request timeout is the time one attempt waits).
    pub fn new(api: Api, give_up_after: Duration) -> Self {
        Self { api, tally: Arc::new(Tally::default()), give_up_after }
    }

    /// The counters.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// The underlying client.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Sends one command until it is answered (success or 4xx).
    ///
    /// # Errors
    /// The 4xx error the service answered, or `unavailable` when it was never answered in time.
    pub async fn send(&self, subject: &str, body: &[u8], key: &str) -> Result<RawReply, ApiError> {
        self.tally.sent.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.give_up_after;
        let mut delay = Duration::from_millis(50);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if attempt == 2 {
                self.tally.retried.fetch_add(1, Ordering::Relaxed);
            }
            self.tally.attempts.fetch_add(1, Ordering::Relaxed);
            let last = match self.api.raw(subject, body.to_vec(), Some(idempotency_headers(key))).await {
                Ok(reply) => match reply.api_error() {
                    None => {
                        self.tally.acknowledged.fetch_add(1, Ordering::Relaxed);
                        return Ok(reply);
                    }
                    Some(e) if e.code == ErrorCode::Unavailable => e,
                    Some(e) => {
                        self.tally.refused.fetch_add(1, Ordering::Relaxed);
                        return Err(e);
                    }
                },
                // Timeout, no responders, disconnected: the command may or may not have been taken.
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                self.tally.gave_up.fetch_add(1, Ordering::Relaxed);
                return Err(ApiError::unavailable(format!(
                    "{subject} [{key}]: no answer after {attempt} attempts in {:?}; last: {}",
                    self.give_up_after, last.message
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }
}

/// `n` generated site ids: `<prefix>-0000`, `<prefix>-0001`, …
pub fn site_ids(prefix: &str, n: usize) -> Vec<SiteId> {
    (0..n).map(|i| scenario::site(&format!("{prefix}-{i:04}"))).collect()
}

/// Registers `sites` (named "Điểm cầu <id>") and the scenario's host, `concurrency` at a time.
///
/// # Errors
/// A registration was refused.
pub async fn register_sites(api: &Api, sites: &[SiteId], concurrency: usize) -> anyhow::Result<()> {
    register_named_sites(api, sites, |_, site| format!("Điểm cầu {site}"), concurrency).await
}

/// Registers the scenario's host and `sites`, the `i`-th named `name(i, site)`, `concurrency` at a
/// time.
///
/// # Errors
/// A registration was refused.
pub async fn register_named_sites(
    api: &Api,
    sites: &[SiteId],
    name: impl Fn(usize, &SiteId) -> String,
    concurrency: usize,
) -> anyhow::Result<()> {
    api.register_site(&scenario::host(), scenario::HOST.1).await.context("register the host")?;
    let name = &name;
    futures::stream::iter(sites.iter().enumerate())
        .map(|(i, site)| async move {
            api.register_site(site, &name(i, site)).await.with_context(|| format!("register {site}"))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Confirms attendance for each `(site, delegates)` of `answers` in conference `id` (headcount 2),
/// `concurrency` at a time.
///
/// # Errors
/// A confirmation was refused.
pub async fn confirm_sites<'a>(
    api: &Api,
    id: ConferenceId,
    answers: impl IntoIterator<Item = (&'a SiteId, Vec<Person>)>,
    concurrency: usize,
) -> anyhow::Result<()> {
    futures::stream::iter(answers)
        .map(|(site, delegates)| async move {
            let body = ConfirmAttendance { conference_id: id, delegates, headcount: 2 };
            api.confirm(site, &body).await.with_context(|| format!("confirm {site}"))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// A conference of the scenario's host with `sites` linked.
pub fn conference(title: &str, sites: &[SiteId]) -> CreateConference {
    CreateConference {
        title: title.to_owned(),
        organizer: scenario::ORGANIZER.to_owned(),
        starts_at: scenario::time(scenario::STARTS_AT),
        ends_at: scenario::time(scenario::ENDS_AT),
        host_site: scenario::host(),
        sites: sites.to_vec(),
        chairs: scenario::chairs(),
        minute_takers: vec![scenario::person_id(scenario::MINUTE_TAKER)],
        guests: Vec::new(),
        agenda: vec![AgendaItem { title: "Quán triệt nhiệm vụ".to_owned() }],
        approval_policy: None,
        reminder_offsets_s: None,
        quorum: None,
    }
}

/// The delegate a generated site names.
pub fn delegate(site: &SiteId) -> Person {
    Person { name: format!("Đại biểu {site}"), title: "Trưởng Ban Dân vận".to_owned() }
}

/// One event as stored: its stream sequence, subject and envelope.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Stream sequence.
    pub seq: u64,
    /// Subject.
    pub subject: String,
    /// The envelope.
    pub envelope: EventEnvelope,
}

impl StoredEvent {
    /// The event type (last subject token).
    pub fn event_type(&self) -> &str {
        &self.envelope.event_type
    }
}

/// How many messages of `stream` match `filter`, per subject.
///
/// # Errors
/// JetStream did not answer.
pub async fn count_by_subject(
    js: &async_nats::jetstream::Context,
    stream: &str,
    filter: &str,
) -> anyhow::Result<HashMap<String, usize>> {
    let stream = js.get_stream(stream).await.with_context(|| format!("stream {stream}"))?;
    let subjects = stream.info_with_subjects(filter).await?;
    Ok(subjects.try_collect().await?)
}

/// Every event of `stream` matching `filter`, in stream order. Tries again for up to 30 s when
/// JetStream cannot answer (e.g. while a cluster elects a new stream leader).
///
/// # Errors
/// JetStream did not answer, or a message is not an event envelope.
pub async fn read_events(
    js: &async_nats::jetstream::Context,
    stream_name: &str,
    filter: &str,
) -> anyhow::Result<Vec<StoredEvent>> {
    crate::client::eventually(Duration::from_secs(30), || read_events_once(js, stream_name, filter)).await
}

async fn read_events_once(
    js: &async_nats::jetstream::Context,
    stream_name: &str,
    filter: &str,
) -> anyhow::Result<Vec<StoredEvent>> {
    let expected: usize = count_by_subject(js, stream_name, filter).await?.values().sum();
    let mut events = Vec::with_capacity(expected);
    if expected == 0 {
        return Ok(events);
    }
    let stream = js.get_stream(stream_name).await.with_context(|| format!("stream {stream_name}"))?;
    // An ephemeral consumer without acks, deleted when done (and soon forgotten by the server if
    // this test dies first), so that it never shows as a busy consumer to `Stack::wait_for_reactions`.
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            filter_subject: filter.to_owned(),
            deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::All,
            ack_policy: async_nats::jetstream::consumer::AckPolicy::None,
            inactive_threshold: Duration::from_secs(2),
            memory_storage: true,
            ..Default::default()
        })
        .await
        .with_context(|| format!("a consumer on {stream_name} {filter}"))?;
    let name = consumer.cached_info().name.clone();
    let mut messages = consumer.messages().await?;
    while events.len() < expected {
        let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
            .await
            .map_err(|_| anyhow!("read {} of {expected} events of {filter}, then nothing for 10 s", events.len()))?
            .ok_or_else(|| anyhow!("the consumer on {filter} ended"))?
            .map_err(|e| anyhow!("reading {filter}: {e}"))?;
        let seq = message.info().map_err(|e| anyhow!("{e}"))?.stream_sequence;
        let envelope = EventEnvelope::from_slice(&message.payload)
            .with_context(|| format!("message {seq} on {} is not an event", message.subject))?;
        events.push(StoredEvent { seq, subject: message.subject.to_string(), envelope });
    }
    drop(messages);
    let _ = stream.delete_consumer(&name).await;
    Ok(events)
}

/// A command the load sent and, if it was acknowledged, its reply.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The site it acted for.
    pub site: SiteId,
    /// Its command id as the services record it: `<subject>|<idempotency key>`.
    pub command_id: String,
    /// The reply, if it was acknowledged.
    pub reply: Option<SiteAttendance>,
}

/// One site confirms (one delegate, headcount 3), then checks in; each command is sent with its
/// own idempotency key (`confirm-<site>`, `check_in-<site>`) and retried until answered.
pub async fn confirm_and_check_in(client: RetryingClient, id: ConferenceId, site: SiteId) -> Vec<Sent> {
    let confirm = ConfirmAttendance { conference_id: id, delegates: vec![delegate(&site)], headcount: 3 };
    let steps = [
        (attendance::CONFIRM, serde_json::to_vec(&confirm).unwrap_or_default()),
        (attendance::CHECK_IN, serde_json::to_vec(&ConferenceRef { conference_id: id }).unwrap_or_default()),
    ];
    let mut sent = Vec::new();
    for (action, body) in steps {
        let subject = attendance::site_command(&site, action);
        let key = format!("{action}-{site}");
        let reply = client.send(&subject, &body, &key).await.ok().and_then(|r| r.json::<SiteAttendance>().ok());
        sent.push(Sent { site: site.clone(), command_id: format!("{subject}|{key}"), reply });
    }
    sent
}

/// Every site of a conference confirming and checking in ([`confirm_and_check_in`]) in the
/// background, a new site starting every `pace`.
#[derive(Debug)]
pub struct PacedLoad {
    started: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<anyhow::Result<Vec<Sent>>>,
}

impl PacedLoad {
    /// Starts the load of `sites` on `client`.
    pub fn start(client: &RetryingClient, id: ConferenceId, sites: &[SiteId], pace: Duration) -> Self {
        let started = Arc::new(AtomicUsize::new(0));
        let (client, sites, counter) = (client.clone(), sites.to_vec(), started.clone());
        let task = tokio::spawn(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for site in sites {
                tasks.spawn(confirm_and_check_in(client.clone(), id, site));
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(pace).await;
            }
            let mut sent = Vec::new();
            while let Some(done) = tasks.join_next().await {
                sent.extend(done?);
            }
            Ok(sent)
        });
        Self { started, task }
    }

    /// Waits until at least `sites` sites have started their commands.
    pub async fn wait_started(&self, sites: usize) {
        while self.started.load(Ordering::Relaxed) < sites {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until every site is done; returns the commands sent.
    ///
    /// # Errors
    /// A site's task panicked.
    pub async fn finish(self) -> anyhow::Result<Vec<Sent>> {
        self.task.await?
    }
}

/// What the log holds for the commands of a load.
#[derive(Debug, Default)]
pub struct Effects {
    /// Events written by the load's commands.
    pub found: usize,
    /// Acknowledged commands with no event.
    pub lost: Vec<String>,
    /// Commands with more than one event, and sites with more than one event of one type.
    pub doubled: Vec<String>,
    /// Site events whose command id the load never sent.
    pub strangers: Vec<String>,
}

/// Matches the site events of `events` with the commands in `sent`.
pub fn effects(sent: &[Sent], events: &[StoredEvent]) -> Effects {
    let mut by_command: HashMap<String, usize> = HashMap::new();
    let mut by_site_type: HashMap<(String, String), usize> = HashMap::new();
    for e in events {
        let Some(site) = &e.envelope.site_id else { continue };
        *by_command.entry(e.envelope.command_id.clone().unwrap_or_default()).or_default() += 1;
        *by_site_type.entry((site.to_string(), e.event_type().to_owned())).or_default() += 1;
    }
    let ours: std::collections::HashSet<&str> = sent.iter().map(|s| s.command_id.as_str()).collect();
    let mut result = Effects {
        found: by_command.iter().filter(|(c, _)| ours.contains(c.as_str())).map(|(_, n)| n).sum(),
        lost: sent
            .iter()
            .filter(|s| s.reply.is_some() && !by_command.contains_key(&s.command_id))
            .map(|s| s.command_id.clone())
            .collect(),
        doubled: by_command.iter().filter(|(_, n)| **n > 1).map(|(c, n)| format!("{c}: {n} events")).collect(),
        strangers: by_command.keys().filter(|c| !ours.contains(c.as_str())).cloned().collect(),
    };
    result
        .doubled
        .extend(by_site_type.iter().filter(|(_, n)| **n > 1).map(|((s, t), n)| format!("{s} {t}: {n} events")));
    result
}

/// The services' durable reaction consumers: stream and name.
pub const REACTIONS: [(&str, &str); 3] = [
    ("HOINGHI_SCHEDULING", "attendance-on-scheduling"),
    ("HOINGHI_ATTENDANCE", "minutes-on-roster-closed"),
    ("HOINGHI_MINUTES", "scheduling-on-minutes-published"),
];

/// Waits until each of the services' reaction consumers ([`REACTIONS`]) has nothing pending and
/// nothing waiting for an ack. (Unlike [`crate::Stack::wait_for_reactions`] it asks each by name: on
/// a cluster that lost a node, listing all consumers waits for the ephemeral ones the dead node held.)
///
/// # Errors
/// Still busy after `timeout` (the error lists the busy consumers).
pub async fn wait_reactions_idle(js: &async_nats::jetstream::Context, timeout: Duration) -> anyhow::Result<()> {
    crate::client::eventually(timeout, || async {
        let mut busy = Vec::new();
        for (stream, durable) in REACTIONS {
            let c = js.get_stream(stream).await?.consumer_info(durable).await?;
            if c.num_pending > 0 || c.num_ack_pending > 0 {
                busy.push(format!(
                    "{stream}/{durable}: {} pending, {} waiting for ack",
                    c.num_pending, c.num_ack_pending
                ));
            }
        }
        if busy.is_empty() {
            Ok(())
        } else {
            Err(anyhow!("consumers still busy: {busy:?}"))
        }
    })
    .await
}
