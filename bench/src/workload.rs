//! The workload: one national conference with N bridges, through the public subjects only.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use bytes::Bytes;
use chrono::{DateTime, FixedOffset};
use hoinghi_shared::api::{
    AgendaItem, Chair, ConferenceRef, ConfirmAttendance, CreateConference, Person, RecordItem, RegisterSite, Roster,
    RosterState, Task,
};
use hoinghi_shared::headers::SERVICE_ERROR_CODE;
use hoinghi_shared::subjects::{attendance, scheduling};
use hoinghi_shared::{ApiError, ConferenceId, PersonId, SiteId};
use hoinghi_tests::{Api, NatsServer, Service, ServiceProcess};

use crate::measure::{drive, peak_rss_mib, rss_mib, CpuMeter, StepCost, WorkloadReport};

const HOST: &str = "trung-uong";

fn site(i: usize) -> SiteId {
    // Invariant: "xa-" followed by digits is a valid slug.
    SiteId::parse(&format!("xa-{i:05}")).unwrap_or_else(|_| unreachable!("xa-NNNNN is a slug"))
}

fn delegates(i: usize) -> Vec<Person> {
    vec![
        Person { name: format!("Nguyễn Văn {i}"), title: "Bí thư Đảng ủy xã".into() },
        Person { name: format!("Trần Thị {i}"), title: "Chủ tịch UBND xã".into() },
    ]
}

/// A confirmation as the storm sends it (its size sets the baselines' message size).
pub fn sample_confirm_payload() -> Bytes {
    let body =
        ConfirmAttendance { conference_id: ConferenceId::generate(), delegates: delegates(12345), headcount: 12 };
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

/// The storm's commands for [`crate::shape`]: its requests in its order, each with the event the
/// service appends for it (the contract's envelope, encoded now) and the reply the storm got for
/// its kind.
fn shape_of_storm(id: ConferenceId, sites: usize, replies: &[Bytes; 2]) -> anyhow::Result<Vec<crate::shape::Command>> {
    use hoinghi_shared::events::{AttendanceEvent, DomainEvent, EventEnvelope};
    let mut commands = Vec::with_capacity(sites * 2);
    for (kind, reply) in replies.iter().enumerate() {
        for i in 0..sites {
            let s = site(i);
            let (event, request) = if kind == 0 {
                let body = ConfirmAttendance { conference_id: id, delegates: delegates(i), headcount: 12 };
                let delegates = delegates(i)
                    .into_iter()
                    .map(|p| hoinghi_shared::events::Person { name: p.name, title: p.title })
                    .collect();
                (AttendanceEvent::AttendanceConfirmed { delegates, headcount: 12 }, serde_json::to_vec(&body)?)
            } else {
                (AttendanceEvent::SiteCheckedIn {}, serde_json::to_vec(&ConferenceRef { conference_id: id })?)
            };
            let mut head = EventEnvelope::head(&event, format!("site:{s}"));
            head.conference_id = Some(id);
            head.site_id = Some(s.clone());
            head.command_id = Some(uuid::Uuid::new_v4().to_string());
            head.trace_id = Some(format!("{:032x}", uuid::Uuid::new_v4().as_u128()));
            commands.push(crate::shape::Command {
                site: i,
                request: Bytes::from(request),
                event_subject: format!("{id}.{s}.{}", event.event_type()),
                filter: format!("{id}.{s}.*"),
                event: Bytes::from(head.encode_with(&event)?),
                reply: reply.clone(),
            });
        }
    }
    Ok(commands)
}

/// A storm command: checks the reply is a success (no error header, a body) without parsing it, as
/// the baselines do, so the client's own JSON work does not take CPU from the system measured.
async fn command(client: &async_nats::Client, subject: String, payload: Bytes) -> anyhow::Result<Bytes> {
    let reply = client.request(subject.clone(), payload).await.with_context(|| format!("request to {subject}"))?;
    if let Some(code) = reply.headers.as_ref().and_then(|h| h.get(SERVICE_ERROR_CODE)) {
        return Err(anyhow!("{subject} answered {}: {}", code.as_str(), String::from_utf8_lossy(&reply.payload)));
    }
    anyhow::ensure!(!reply.payload.is_empty(), "{subject} answered with an empty body");
    Ok(reply.payload)
}

/// What the fan-out and the session day run against: the stack's API and client, the host and the
/// `sites` registered sites (`site(i)`), and the pids (attendance's, the nats-server's) whose CPU
/// is measured.
pub(crate) struct Fleet<'a> {
    pub api: &'a Api,
    pub client: &'a async_nats::Client,
    pub host: SiteId,
    pub site: fn(usize) -> SiteId,
    pub sites: usize,
    pub pids: (Option<u32>, Option<u32>),
}

impl Fleet<'_> {
    /// Schedules a national conference of the fleet's sites with one agenda item, from `starts_at`
    /// for `length`, issues its invitations and waits (at most a minute) until its roster is open
    /// with every site; `what` names the measurement in an error.
    pub(crate) async fn open_conference(
        &self,
        title: &str,
        starts_at: DateTime<FixedOffset>,
        length: chrono::Duration,
        reminder_offsets_s: Vec<u32>,
        what: &str,
    ) -> anyhow::Result<ConferenceId> {
        let sites = (0..self.sites).map(self.site).collect();
        let agenda = &["Quán triệt nghị quyết"];
        let request =
            national_conference(title, &self.host, sites, starts_at, length, agenda, Some(reminder_offsets_s));
        let id = self.api.create(&request).await?.id;
        self.api.invite(id).await?;
        let open = |r: &Roster| r.state == RosterState::Open && r.total_sites == self.sites;
        poll(&format!("the opening of {what}'s roster"), || self.api.roster(id), open).await?;
        Ok(id)
    }
}

/// Vietnam's time zone (UTC+7), in which conferences are scheduled.
pub(crate) fn vietnam() -> anyhow::Result<FixedOffset> {
    FixedOffset::east_opt(7 * 3600).ok_or_else(|| anyhow!("offset"))
}

/// A national conference: `title`, organised by the central office, linking `sites` to `host` from
/// `starts_at` for `length`, one chair, no guests, the agenda's item titles, the reminder offsets.
pub(crate) fn national_conference(
    title: &str,
    host: &SiteId,
    sites: Vec<SiteId>,
    starts_at: DateTime<FixedOffset>,
    length: chrono::Duration,
    agenda: &[&str],
    reminder_offsets_s: Option<Vec<u32>>,
) -> CreateConference {
    CreateConference {
        title: title.into(),
        organizer: "Văn phòng Trung ương".into(),
        starts_at,
        ends_at: starts_at + length,
        host_site: host.clone(),
        sites,
        chairs: vec![Chair {
            name: "Chủ trì Hội nghị".into(),
            title: "Đồng chí chủ trì".into(),
            person_id: Some(person(CHAIR)),
        }],
        minute_takers: vec![person(MINUTE_TAKER)],
        guests: vec![],
        agenda: agenda.iter().map(|title| AgendaItem { title: (*title).into() }).collect(),
        approval_policy: None,
        reminder_offsets_s,
        quorum: None,
    }
}

/// The person who chairs the bench's conferences.
const CHAIR: &str = "chu-tri";
/// The person who keeps their minutes.
const MINUTE_TAKER: &str = "thu-ky";

/// A person id of the bench (its constants are valid ids).
fn person(id: &str) -> PersonId {
    PersonId::parse(id).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Reads with `read` every 10 ms until `done` says what it read is complete, for at most a minute.
pub(crate) async fn poll<T, Fut>(what: &str, read: impl Fn() -> Fut, done: impl Fn(&T) -> bool) -> anyhow::Result<()>
where
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let timeout = Duration::from_secs(60);
    let deadline = Instant::now() + timeout;
    loop {
        if read().await.is_ok_and(|value| done(&value)) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{what} did not happen within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs the workload.
///
/// # Errors
/// A service failed to start or a step failed.
pub async fn run(
    server: &NatsServer,
    sites: usize,
    concurrency: usize,
    day: crate::presence::DayOptions,
) -> anyhow::Result<WorkloadReport> {
    let client =
        async_nats::ConnectOptions::new().request_timeout(Some(Duration::from_secs(60))).connect(server.url()).await?;
    // The typed client for the steps around the storm; the storm itself sends prepared bytes on the
    // same connection, as the baselines do.
    let api = Api::from_client(client.clone());
    let mut services = Vec::new();
    for service in Service::ALL {
        let mut process = ServiceProcess::new(service, &server.url(), server.dir())?;
        process.set_env("RUST_LOG", "warn");
        if service == Service::Attendance {
            process.set_env("HOINGHI__PRESENCE__HEARTBEAT_INTERVAL_MS", day.interval_ms.to_string());
            process.set_env("HOINGHI__PRESENCE__GRACE_MS", day.grace_ms.to_string());
        }
        process.start(&client, Duration::from_secs(30)).await?;
        services.push(process);
    }

    // What each step cost, with the services' resident memory after it.
    let mut steps: Vec<StepCost> = Vec::new();
    let step = |name: &'static str, took: Duration, services: &[ServiceProcess]| StepCost {
        step: name,
        ms: took.as_secs_f64() * 1000.0,
        rss_mib: services
            .iter()
            .filter_map(|p| Some((p.service().name().to_owned(), p.pid().and_then(rss_mib)?)))
            .collect(),
    };
    steps.push(step("started", Duration::ZERO, &services));

    eprintln!("workload: registering {sites} sites");
    api.register_site(&SiteId::parse(HOST)?, "Trụ sở Trung ương").await?;
    let register = drive(sites, concurrency, |i| {
        let client = client.clone();
        async move {
            let body = RegisterSite { id: site(i), name: format!("Điểm cầu xã số {i}") };
            command(&client, scheduling::REGISTER_SITE.into(), Bytes::from(serde_json::to_vec(&body)?)).await.map(drop)
        }
    })
    .await?;
    steps.push(step("register the sites", register.elapsed, &services));

    eprintln!("workload: scheduling one conference linking {sites} sites");
    let request = national_conference(
        "Hội nghị toàn quốc trực tuyến đến cấp xã",
        &SiteId::parse(HOST)?,
        (0..sites).map(site).collect(),
        chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00+07:00")?,
        chrono::Duration::minutes(210),
        &["Quán triệt nghị quyết", "Thảo luận"],
        None,
    );
    let t = Instant::now();
    // Above about 20,000 sites like these the conference is refused (its attendance record would not
    // fit the one message it travels in; see docs/BENCHMARKS.md): said so, with the service's reason.
    let conference = api
        .create(&request)
        .await
        .with_context(|| format!("scheduling one conference of {sites} sites was refused"))?;
    let create = t.elapsed();
    steps.push(step("schedule the conference", create, &services));
    let id = conference.id;

    eprintln!("workload: inviting");
    let t = Instant::now();
    api.invite(id).await?;
    poll("the roster listing every site", || api.roster(id), |roster| roster.total_sites == sites).await?;
    let invite_to_roster = t.elapsed();
    steps.push(step("invite → roster open", invite_to_roster, &services));

    eprintln!("workload: storm of {} confirmations and check-ins", sites * 2);
    // Every request is built before the clock starts, as the baselines' payload is: the storm measures
    // the system, not the client's JSON encoding.
    let mut requests: Vec<(String, Bytes)> = Vec::with_capacity(sites * 2);
    for i in 0..sites {
        let body = ConfirmAttendance { conference_id: id, delegates: delegates(i), headcount: 12 };
        requests
            .push((attendance::site_command(&site(i), attendance::CONFIRM), Bytes::from(serde_json::to_vec(&body)?)));
    }
    let check_in = Bytes::from(serde_json::to_vec(&ConferenceRef { conference_id: id })?);
    for i in 0..sites {
        requests.push((attendance::site_command(&site(i), attendance::CHECK_IN), check_in.clone()));
    }
    // The CPU each process spends on the storm, per command: the service, the nats-server and this
    // client (the baselines are metered the same way).
    let mut metered: Vec<(&str, Option<u32>)> = services.iter().map(|p| (p.service().name(), p.pid())).collect();
    metered.push(("nats-server", server.pid()));
    metered.push(("bench client", Some(std::process::id())));
    let meter = CpuMeter::start(&metered);
    let samples: [std::sync::OnceLock<Bytes>; 2] = Default::default();
    let storm = drive(sites * 2, concurrency, |i| {
        let client = client.clone();
        let (subject, payload) = requests[i].clone();
        let samples = &samples;
        async move {
            let reply = command(&client, subject, payload).await?;
            let _ = samples[i / sites.max(1)].set(reply);
            Ok(())
        }
    })
    .await?
    .with_cpu(&meter);
    steps.push(step("storm: confirm + check in", storm.elapsed, &services));
    // The same commands through raw NATS, in the contract's shape and without each of its elements,
    // right after the storm so that both meet the same server (its heap, its streams).
    eprintln!("contract's shape: the storm's commands through raw NATS, and without each element of the contract");
    let replies = [samples[0].get().cloned().unwrap_or_default(), samples[1].get().cloned().unwrap_or_default()];
    let shapes = crate::shape::run_all(server, concurrency, shape_of_storm(id, sites, &replies)?).await?;
    let roster = api.roster(id).await?;
    anyhow::ensure!(
        roster.counts.confirmed == sites && roster.counts.checked_in == sites,
        "after the storm the roster shows {} confirmed and {} checked in of {sites}",
        roster.counts.confirmed,
        roster.counts.checked_in
    );

    eprintln!("workload: session start and end, minutes");
    api.start(id).await?;
    let t = Instant::now();
    api.end(id).await?;
    poll("the minutes draft with every site's attendance", || api.minutes(id), |draft| draft.attendance_total == sites)
        .await?;
    let end_to_draft = t.elapsed();
    steps.push(step("end → minutes draft", end_to_draft, &services));

    for item in 0..2 {
        let record = RecordItem {
            conference_id: id,
            item,
            speakers: vec!["Chủ trì Hội nghị".into()],
            summary: "Nội dung đã được quán triệt đến từng điểm cầu.".into(),
            conclusions: vec!["Các địa phương tổ chức thực hiện.".into()],
            tasks: vec![Task {
                description: "Báo cáo kết quả thực hiện".into(),
                owner_site: site(0),
                due: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).ok_or_else(|| anyhow!("date"))?,
            }],
        };
        // The bench's server has no authentication: the one connection acts as each person.
        api.as_person(&person(MINUTE_TAKER)).record(&record).await?;
    }
    let taker = api.as_person(&person(MINUTE_TAKER));
    taker.submit(id).await?;
    api.as_person(&person(CHAIR)).approve(id).await?;
    let t = Instant::now();
    let published = taker.publish(id).await?;
    let publish = t.elapsed();
    steps.push(step("publish the minutes", publish, &services));
    // The reply carries the first page of the document; its whole length comes with it.
    let markdown_bytes =
        published.document_total_bytes.unwrap_or_else(|| published.markdown.as_deref().map_or(0, str::len));

    let mut peak = BTreeMap::new();
    for process in &services {
        if let Some(mib) = process.pid().and_then(peak_rss_mib) {
            peak.insert(process.service().name().to_owned(), mib);
        }
    }

    eprintln!("workload: restarting each service (SIGKILL) and timing the rebuild");
    let mut restart = BTreeMap::new();
    for process in &mut services {
        process.kill();
        let t = Instant::now();
        process.start(&client, Duration::from_secs(120)).await?;
        restart.insert(process.service().name().to_owned(), t.elapsed().as_millis() as u64);
    }
    let roster = api.roster(id).await?;
    anyhow::ensure!(roster.counts.checked_in == sites, "after the restarts the roster lost check-ins");
    let slowest = restart.values().copied().max().unwrap_or_default();
    steps.push(step("restart + rebuild (slowest service)", Duration::from_millis(slowest), &services));

    eprintln!("workload: reminder fan-out on a second conference of {sites} sites");
    let attendance_pid = services.iter().find(|p| p.service() == Service::Attendance).and_then(|p| p.pid());
    let fleet = Fleet {
        api: &api,
        client: &client,
        host: SiteId::parse(HOST)?,
        site,
        sites,
        pids: (attendance_pid, server.pid()),
    };
    let fan_out = crate::reminders::fan_out(&fleet, concurrency).await.context("the reminder fan-out")?;

    let session_day = if day.seconds > 0 {
        eprintln!("workload: the session day on a third conference of {sites} sites");
        let report = crate::presence::session_day(&fleet, &server.url(), day).await.context("the session day")?;
        eprint!("{}", crate::presence::lines(&report));
        Some(report)
    } else {
        None
    };

    let js = async_nats::jetstream::new(client.clone());
    let mut events = BTreeMap::new();
    for stream in hoinghi_shared::streams::ALL {
        let mut s = js.get_stream(stream.name).await.map_err(|e| anyhow!("{e}"))?;
        let info = s.info().await.map_err(|e| anyhow!("{e}"))?;
        events.insert(stream.name.to_owned(), info.state.messages);
    }
    for process in &mut services {
        process.kill();
    }
    Ok(WorkloadReport {
        register,
        storm,
        shapes,
        invite_to_roster,
        end_to_draft,
        create,
        publish,
        markdown_bytes,
        peak_rss_mib: peak,
        restart_rebuild_ms: restart,
        events,
        steps,
        fan_out,
        session_day,
    })
}
