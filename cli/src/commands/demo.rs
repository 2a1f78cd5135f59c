//! `hoinghi demo`: the Bắc Kạn scenario end to end, through the public subjects only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use clap::Args;
use hoinghi_client::bac_kan::{self as scenario, Answer};
use hoinghi_client::{Api, CallError};
use hoinghi_shared::api::{
    ApproveMinutes, AttendanceStatus, AuditTrail, ConferenceRef, ConferenceStatus, ConferenceView, ConfirmAttendance,
    DeclineAttendance, MinutesStatus, MinutesView, PageQuery, Roster, RosterState, SiteAttendance, SiteView,
};
use hoinghi_shared::events::AttendanceEvent;
use hoinghi_shared::notifications::{
    NotificationKind, NotificationsPage, NotificationsQuery, DEFAULT_REMINDER_OFFSETS_S, MAX_NOTIFICATIONS_PAGE,
};
use hoinghi_shared::roles::{self, Role};
use hoinghi_shared::subjects::{attendance, discovery, minutes, scheduling};
use hoinghi_shared::{trace, ConferenceId, SiteId};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::minutes::sha256_hex;
use super::status::SERVICES;
use super::Ctx;
use crate::output;

/// `hoinghi demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seconds to wait for each asynchronous effect (roster opening, minutes draft, closing).
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    wait: f64,
    /// Also write the published Markdown to this file.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Print only the SHA-256 of the published minutes, not the Markdown.
    #[arg(long)]
    no_markdown: bool,
    /// Run each step as its own identity, with the credentials files `hoinghi admin init`
    /// wrote into DIR (secretariat, site-<id> for each bridge, person-<id> for the minute-taker and
    /// each co-chair of the scenario). Without it, every
    /// step uses the one connection of the global options (open local mode, no authentication).
    #[arg(long, value_name = "DIR")]
    creds_dir: Option<PathBuf>,
}

/// Who acts in a step.
#[derive(Debug, Clone, Copy)]
enum Who<'s> {
    Secretariat,
    /// The scenario's minute-taker (a person).
    MinuteTaker,
    /// The person bound to the scenario's `n`th co-chair.
    Chair(usize),
    Site(&'s str),
}

/// One connection per acting identity (all the same connection in open mode).
struct Roles {
    secretariat: Api,
    minute_taker: Api,
    /// One per co-chair, in the order of [`scenario::CHAIR_PERSONS`].
    chairs: Vec<Api>,
    sites: HashMap<String, Api>,
    authenticated: bool,
}

impl Roles {
    /// Every role on the one connection of the global options.
    fn open(client: &Api) -> Self {
        let sites = std::iter::once(scenario::HOST)
            .chain(scenario::LINKED)
            .map(|(id, _)| (id.to_owned(), client.clone()))
            .collect();
        Self {
            secretariat: client.clone(),
            minute_taker: client.as_person(&scenario::person_id(scenario::MINUTE_TAKER)),
            chairs: scenario::CHAIR_PERSONS.iter().map(|p| client.as_person(&scenario::person_id(p))).collect(),
            sites,
            authenticated: false,
        }
    }

    /// One connection per identity, from the credentials files in `dir`.
    async fn from_dir(ctx: &Ctx, dir: &Path) -> anyhow::Result<Self> {
        let connect = async |identity: &str| -> anyhow::Result<Api> {
            let creds = hoinghi_credentials::creds_path(dir, identity);
            if !creds.is_file() {
                anyhow::bail!(
                    "{} is missing: make the deployment with `hoinghi admin init --dir {} --sites … --persons …` \
                     listing every bridge and person of the demo, or add it with `hoinghi admin add-site|add-person`",
                    creds.display(),
                    dir.display()
                );
            }
            super::connect(ctx.settings.as_identity(identity, creds))
                .await
                .with_context(|| format!("connecting as {identity}"))
        };
        let mut sites = HashMap::new();
        for site in scenario::site_ids() {
            let client = connect(&roles::site_identity(&site)).await?;
            sites.insert(site.as_str().to_owned(), client);
        }
        let person = |id: &str| roles::person_identity(&scenario::person_id(id));
        let mut chairs = Vec::new();
        for id in scenario::CHAIR_PERSONS {
            chairs.push(connect(&person(id)).await?);
        }
        Ok(Self {
            secretariat: connect(&Role::Secretariat.identity()).await?,
            minute_taker: connect(&person(scenario::MINUTE_TAKER)).await?,
            chairs,
            sites,
            authenticated: true,
        })
    }

    fn client(&self, who: Who<'_>) -> anyhow::Result<&Api> {
        match who {
            Who::Secretariat => Ok(&self.secretariat),
            Who::MinuteTaker => Ok(&self.minute_taker),
            Who::Chair(n) => self.chairs.get(n).with_context(|| format!("no connection for co-chair {n}")),
            Who::Site(site) => self.sites.get(site).with_context(|| format!("no connection for site {site}")),
        }
    }
}

struct Demo {
    roles: Roles,
    run: String,
    wait: Duration,
    step: usize,
}

const STEPS: usize = 20;
const RETRIES: u32 = 3;

/// A 404, from the typed client's calls ([`CallError`]) or its reads ([`hoinghi_shared::ApiError`]).
fn not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<CallError>().is_some_and(CallError::is_not_found)
        || e.downcast_ref::<hoinghi_shared::ApiError>().is_some_and(|e| e.code == hoinghi_shared::ErrorCode::NotFound)
}

/// Worth trying again (503, no responders, timeout), from either kind of error.
fn transient(e: &anyhow::Error) -> bool {
    e.downcast_ref::<CallError>().is_some_and(CallError::is_transient)
        || e.downcast_ref::<hoinghi_shared::ApiError>()
            .is_some_and(|e| e.code == hoinghi_shared::ErrorCode::Unavailable)
}

impl Demo {
    /// Announces a step, with the identity it runs as when authenticated.
    fn step(&mut self, what: &str, who: &str) {
        self.step += 1;
        if self.roles.authenticated {
            println!("[{:>2}/{STEPS}] {what}  (as {who})", self.step);
        } else {
            println!("[{:>2}/{STEPS}] {what}", self.step);
        }
    }

    /// Sends a command with an idempotency key of this run, retrying transient failures with the
    /// same key (so a retry never takes effect twice).
    async fn send<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        who: Who<'_>,
        subject: &str,
        body: &Req,
        key: &str,
    ) -> anyhow::Result<Resp> {
        let key = format!("demo-{}-{key}", self.run);
        let client = self.roles.client(who)?;
        let mut attempt = 0;
        loop {
            match client.call_with_key(subject, body, Some(&key)).await {
                Ok(reply) => return Ok(reply),
                Err(e) if attempt < RETRIES && e.is_transient() => {
                    attempt += 1;
                    println!("         ... {e}; retrying ({attempt}/{RETRIES}) with the same idempotency key");
                    tokio::time::sleep(Duration::from_millis(500) * attempt).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// A site's own command, sent as the site with the idempotency key `<key>-<site>`; an error says
    /// `<what> by <site>`.
    async fn as_site<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        site: &SiteId,
        subject: &str,
        body: &Req,
        key: &str,
        what: &str,
    ) -> anyhow::Result<Resp> {
        self.send(Who::Site(site.as_str()), subject, body, &format!("{key}-{site}"))
            .await
            .with_context(|| format!("{what} by {site}"))
    }

    /// Asks `probe` until it yields a value, for at most `--wait`.
    async fn poll<T>(
        &self,
        what: &str,
        hint: &str,
        mut probe: impl AsyncFnMut() -> anyhow::Result<Option<T>>,
    ) -> anyhow::Result<T> {
        let started = Instant::now();
        let mut last_error: Option<anyhow::Error> = None;
        loop {
            match probe().await {
                Ok(Some(value)) => {
                    println!("         {what}: after {:.2}s", started.elapsed().as_secs_f64());
                    return Ok(value);
                }
                Ok(None) => {}
                Err(e) if not_found(&e) || transient(&e) => last_error = Some(e),
                Err(e) => return Err(e),
            }
            if started.elapsed() >= self.wait {
                let last = last_error.map(|e| format!(" (last answer: {e:#})")).unwrap_or_default();
                anyhow::bail!("gave up waiting for {what} after {:.0}s{last}: {hint}", self.wait.as_secs_f64());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Runs the scenario.
///
/// # Errors
/// Any failed step, with what was being done.
pub async fn run(ctx: &Ctx, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let wait =
        Duration::try_from_secs_f64(args.wait).map_err(|_| anyhow::anyhow!("--wait must be a number of seconds"))?;
    let roles = match &args.creds_dir {
        Some(dir) => Roles::from_dir(ctx, dir).await?,
        None => Roles::open(ctx.client().await?),
    };
    let mut demo = Demo { roles, run: trace::random_hex(6), wait, step: 0 };
    let client = demo.roles.secretariat.clone();
    let client = &client;
    println!("hoinghi demo: {}", scenario::TITLE);
    let request = future_conference();
    println!(
        "{}, the conference of 23/7/2021 replayed on {} (UTC+7), so that it can still be moved; trace id {}",
        scenario::ORGANIZER,
        request.starts_at.format("%d/%m/%Y, %H:%M"),
        client.trace_id()
    );
    match &args.creds_dir {
        Some(dir) => println!(
            "authenticated: each step runs as its own NATS identity (secretariat, site-<id>, person-<id> for the minute-taker and each co-chair) \
             from {}",
            dir.display()
        ),
        None => println!("open local mode (no authentication): every step uses one connection"),
    }
    if demo.roles.authenticated {
        let mut sites: Vec<&str> = demo.roles.sites.values().map(Api::identity).collect();
        sites.sort_unstable();
        println!(
            "connected as {}, {}, {} and {}",
            demo.roles.secretariat.identity(),
            demo.roles.minute_taker.identity(),
            demo.roles.chairs.iter().map(Api::identity).collect::<Vec<_>>().join(", "),
            sites.join(", ")
        );
    }

    // Fail fast, and clearly, when part of the stack is missing.
    let mut missing = Vec::new();
    for name in SERVICES {
        if let Err(e) = client.send(&discovery::ping(name), Bytes::new(), None).await {
            missing.push(format!("{name}: {e}"));
        }
    }
    if !missing.is_empty() {
        anyhow::bail!("the stack is incomplete:\n  {}", missing.join("\n  "));
    }
    println!("services up: {}", SERVICES.join(", "));
    println!();

    // 1. Sites (idempotent: a rerun finds them registered already).
    demo.step("registering the host bridge and 8 linked bridges", "secretariat");
    for body in scenario::registrations() {
        let id = body.id.clone();
        let view: SiteView = demo
            .send(Who::Secretariat, scheduling::REGISTER_SITE, &body, &format!("site-{id}"))
            .await
            .with_context(|| format!("registering {id}"))?;
        println!("         {:<17} {}", view.id.as_str(), view.name);
    }

    // 2. Schedule, with the default reminders (24 h and 1 h before the start) and one more that
    // comes due a few seconds after the invitations, so that the demo shows a reminder fire.
    demo.step("scheduling the conference", "secretariat");
    let mut request = request;
    let (reminder_offset, reminder_due) = demo_reminder(&request)?;
    let mut offsets = DEFAULT_REMINDER_OFFSETS_S.to_vec();
    offsets.push(reminder_offset);
    request.reminder_offsets_s = Some(offsets);
    // The quorum: three quarters of the bridges present (6 of 8).
    request.quorum =
        Some(hoinghi_shared::api::QuorumRule { basis: hoinghi_shared::api::QuorumBasis::Bridges, percent: 75 });
    let conference: ConferenceView = demo
        .send(Who::Secretariat, scheduling::CREATE, &request, "create")
        .await
        .context("scheduling the conference")?;
    let id = conference.id;
    let cref = ConferenceRef { conference_id: id };
    println!("         conference {id} [{}]", output::conference_status(conference.status));
    println!(
        "         co-chairs: {}",
        conference.chairs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
    );
    println!("         agenda: {} items; {} linked bridges", conference.agenda.len(), conference.sites.len());
    println!(
        "         reminders to the bridges that have not answered: 24 h and 1 h before the start, and {}s before \
         it, due at {} (UTC+7), a few seconds from now",
        reminder_offset,
        reminder_due.with_timezone(request.starts_at.offset()).format("%H:%M:%S")
    );

    // 3. Invitations, and the roster they open.
    demo.step("issuing the invitations (giấy mời)", "secretariat");
    let invited: ConferenceView =
        demo.send(Who::Secretariat, scheduling::INVITE, &cref, "invite").await.context("issuing the invitations")?;
    println!("         status {}", output::conference_status(invited.status));
    demo.step("waiting for the roster to open", "secretariat");
    let roster =
        demo.poll("roster open", "is hoinghi-attendance running and reading the scheduling events?", async || {
            match client.call::<_, Roster>(attendance::ROSTER, &cref).await {
                Ok(r) if r.state == RosterState::Open => Ok(Some(r)),
                Ok(_) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    println!("         {} bridges invited", roster.counts.invited);

    // 4. Answers.
    demo.step("the district bridges answer (xác nhận tham dự)", "site-<id>, each for itself");
    answer_invitations(&demo, id).await?;

    // 4a. The extra reminder fires (a durable JetStream timer) for the bridge that is silent.
    demo.step("a reminder to the bridges that have not answered (nhắc lịch)", "site-pac-nam, secretariat");
    reminder(&demo, id, reminder_offset, reminder_due).await?;

    // 4b. A storm: the conference moves one hour later; a bridge acknowledges the new time.
    demo.step("a storm: the secretariat moves the conference one hour later", "secretariat, site-ba-be");
    storm(&demo, &conference).await?;

    // 4c. The day before: the technical check of every bridge.
    demo.step("the technical check of the bridges (kiểm tra kỹ thuật)", "secretariat, site-<id>, each for itself");
    technical_check(&demo, id).await?;

    // 5. Check-in before the session; one bridge is late.
    demo.step("roll call before the session (điểm danh)", "site-<id>, each for itself");
    let present = scenario::present_sites();
    let (late, on_time) = present.split_last().context("the scenario has sites that check in")?;
    for site in on_time {
        check_in(&demo, id, site).await?;
    }
    let roster: Roster = demo.send(Who::Secretariat, attendance::ROSTER, &cref, "roster-1").await?;
    for line in output::roster(&roster).lines() {
        println!("         {line}");
    }

    // 6. Session.
    demo.step("opening the session", "secretariat");
    let started: ConferenceView =
        demo.send(Who::Secretariat, scheduling::START, &cref, "start").await.context("starting the session")?;
    println!("         status {}", output::conference_status(started.status));
    println!("         late check-in during the session:");
    check_in(&demo, id, late).await?;
    demo.step("the secretariat calls the roll and checks the quorum (điểm danh, số lượng tối thiểu)", "secretariat");
    roll_call(&demo, id).await?;
    demo.step("the chair moves to the discussion item; two bridges take the floor", "chair, site-ba-be, site-na-ri");
    floor(&demo, id).await?;
    // Live presence: the present bridges heartbeat until the session ends; Chợ Mới's line fails for
    // longer than the grace period, is recorded dropped, and rejoins.
    demo.step("the bridges' live presence: Chợ Mới drops and rejoins", "site-<id>, each for itself");
    let dropping = scenario::site("cho-moi");
    let mut on_line = scenario::present_sites();
    if !on_line.contains(&dropping) {
        on_line.push(dropping.clone());
    }
    let bridges = super::presence::demo_drop_and_rejoin(
        &demo.roles.secretariat,
        |site| demo.roles.client(Who::Site(site.as_str())).cloned(),
        id,
        &on_line,
        &dropping,
        demo.wait,
    )
    .await?;
    demo.step("closing the session", "secretariat");
    let ended: ConferenceView =
        demo.send(Who::Secretariat, scheduling::END, &cref, "end").await.context("ending the session")?;
    println!("         status {}", output::conference_status(ended.status));
    drop(bridges);

    // 7. Minutes.
    demo.step("waiting for the minutes draft (opens with the attendance record)", "minute-taker");
    let minute_taker = demo.roles.minute_taker.clone();
    let draft = demo
        .poll("minutes draft open", "are hoinghi-attendance and hoinghi-minutes running?", async || {
            Ok(Some(minute_taker.minutes(id).await?))
        })
        .await?;
    let present = draft.attendance.iter().filter(|a| a.status == AttendanceStatus::CheckedIn).count();
    let declined = draft.attendance.iter().filter(|a| a.status == AttendanceStatus::Declined).count();
    let silent = draft.attendance.iter().filter(|a| a.status == AttendanceStatus::Invited).count();
    println!(
        "         draft [{}]: {present} bridges present, {declined} declined, {silent} did not answer",
        output::minutes_status(draft.status)
    );
    if let Some(item) = draft.items.get(1).filter(|i| !i.speakers.is_empty()) {
        println!("         speakers of item 2, from the floor: {}", item.speakers.join("; "));
    }

    // Each person acts on their own subjects (`hoinghi.v1.minutes.persons.<id>.<action>`).
    let taker = scenario::person_id(scenario::MINUTE_TAKER);
    let as_taker = |action| minutes::person_command(&taker, action);
    demo.step("recording the 5 agenda items (thư ký)", "minute-taker");
    for item in scenario::records(id) {
        let index = item.item;
        let view: MinutesView = demo
            .send(Who::MinuteTaker, &as_taker(minutes::RECORD), &item, &format!("record-{index}"))
            .await
            .with_context(|| format!("recording item {index}"))?;
        let title = view.items.get(index).map(|i| i.title.as_str()).unwrap_or("?");
        println!(
            "         {}. {title}: {} conclusion(s), {} task(s)",
            index + 1,
            item.conclusions.len(),
            item.tasks.len()
        );
    }

    demo.step("submit, both co-chairs approve, publish", "minute-taker, chair, minute-taker");
    let submitted: MinutesView = demo
        .send(Who::MinuteTaker, &as_taker(minutes::SUBMIT), &cref, "submit")
        .await
        .context("submitting the minutes")?;
    println!("         {}", output::minutes_status(submitted.status));
    println!("         version {}, approval by every co-chair", submitted.version);
    for (i, ((chair, _), person)) in scenario::CHAIRS.iter().zip(scenario::CHAIR_PERSONS).enumerate() {
        let approve = ApproveMinutes { conference_id: id };
        // Each co-chair approves as themself, on their own subject, with their own idempotency key.
        let subject = minutes::person_command(&scenario::person_id(person), minutes::APPROVE);
        let key = format!("approve-{i}");
        let approved: MinutesView =
            demo.send(Who::Chair(i), &subject, &approve, &key).await.context("approving the minutes")?;
        let waiting = if approved.awaiting.is_empty() {
            String::new()
        } else {
            format!(", waiting for {}", approved.awaiting.join(", "))
        };
        println!("         approved by {chair}: {}{waiting}", output::minutes_status(approved.status));
    }
    let published: MinutesView = demo
        .send(Who::MinuteTaker, &as_taker(minutes::PUBLISH), &cref, "publish")
        .await
        .context("publishing the minutes")?;
    if published.status != MinutesStatus::Published {
        anyhow::bail!("publish answered status {}", output::minutes_status(published.status));
    }
    // The reply carries the first page of the document: read it whole (every page, hash checked).
    let whole = minute_taker
        .minutes_document(id, hoinghi_shared::api::DocumentForm::Markdown)
        .await
        .context("reading the published minutes")?;
    let markdown = whole.markdown.clone().context("the published minutes carry no Markdown")?;
    let sha256 = published.sha256.clone().context("the published minutes carry no sha256")?;
    println!("         published, {} bytes, sha256 {sha256}", markdown.len());

    demo.step("waiting for the conference to close", "secretariat");
    let closed = demo
        .poll("conference closed", "is hoinghi-scheduling reading the minutes events?", async || {
            let view: ConferenceView = client.call(scheduling::GET, &cref).await?;
            Ok((view.status == ConferenceStatus::Closed).then_some(view))
        })
        .await?;
    println!(
        "         status closed; recorded minutes sha256 {}",
        closed.minutes_sha256.as_deref().unwrap_or("(none)")
    );

    demo.step("every bridge acknowledges receipt", "site-<id>, each for itself");
    let mut acks = 0;
    for site in scenario::site_ids() {
        let subject = minutes::site_command(&site, minutes::ACKNOWLEDGE);
        let view: MinutesView = demo.as_site(&site, &subject, &cref, "ack", "acknowledgement").await?;
        acks = view.acknowledgements.len();
        println!("         {site}: acknowledged");
    }
    println!("         {acks} of {} bridges acknowledged", scenario::LINKED.len());

    demo.step("the audit trail: who did what, from the event log", "secretariat");
    let audit: AuditTrail = client
        .call(scheduling::AUDIT, &PageQuery { conference_id: id, offset: 0, limit: hoinghi_shared::api::MAX_PAGE })
        .await
        .context("reading the audit trail")?;
    let mut by_actor: Vec<(String, usize)> = Vec::new();
    for entry in &audit.entries {
        match by_actor.iter_mut().find(|(actor, _)| *actor == entry.actor) {
            Some((_, n)) => *n += 1,
            None => by_actor.push((entry.actor.clone(), 1)),
        }
    }
    println!("         {} events about the conference in the three streams", audit.total);
    for (actor, n) in &by_actor {
        println!("         {actor:<28} {n:>3} event(s)");
    }

    // The published document and its hash, checked here too.
    let local = sha256_hex(markdown.as_bytes());
    let mut problems = Vec::new();
    if local != sha256 {
        problems.push(format!("the SHA-256 of the Markdown is {local}, the service says {sha256}"));
    }
    if closed.minutes_sha256.as_deref() != Some(sha256.as_str()) {
        problems.push(format!(
            "the conference records minutes sha256 {:?}, the minutes say {sha256}",
            closed.minutes_sha256
        ));
    }
    if let Some(path) = &args.save {
        std::fs::write(path, markdown.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !args.no_markdown {
        println!();
        println!("==================== published minutes (Markdown) ====================");
        print!("{markdown}");
        if !markdown.ends_with('\n') {
            println!();
        }
        println!("======================================================================");
    }
    println!();
    println!("conference: {id}");
    println!("sha256:     {sha256}");
    if let Some(path) = &args.save {
        println!("saved to {}; check it with: hoinghi minutes verify {id} --file {}", path.display(), path.display());
    } else {
        println!("check a copy with: hoinghi minutes get {id} --markdown > minutes.md && hoinghi minutes verify {id} --file minutes.md");
    }
    if problems.is_empty() {
        println!("demo finished: the hash of the published minutes checks out");
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            eprintln!("error: {p}");
        }
        Ok(ExitCode::FAILURE)
    }
}

async fn answer_invitations(demo: &Demo, id: ConferenceId) -> anyhow::Result<()> {
    for (site, answer) in scenario::answers() {
        match answer {
            Answer::Confirm { delegates, headcount, .. } => {
                let body = ConfirmAttendance { conference_id: id, delegates, headcount };
                let subject = attendance::site_command(&site, attendance::CONFIRM);
                let line: SiteAttendance = demo.as_site(&site, &subject, &body, "confirm", "confirmation").await?;
                println!(
                    "         {:<17} confirmed: {} delegate(s), headcount {}",
                    site.as_str(),
                    line.delegates.len(),
                    line.headcount
                );
            }
            Answer::Decline { reason } => {
                let body = DeclineAttendance { conference_id: id, reason: reason.clone() };
                let subject = attendance::site_command(&site, attendance::DECLINE);
                let line: SiteAttendance = demo.as_site(&site, &subject, &body, "decline", "refusal").await?;
                println!("         {:<17} {}: {reason}", site.as_str(), output::attendance_status(line.status));
            }
            Answer::Silent => println!("         {:<17} does not answer", site.as_str()),
        }
    }
    let (site, body) = scenario::substitution(id);
    let subject = attendance::site_command(&site, attendance::CONFIRM);
    let line: SiteAttendance = demo.as_site(&site, &subject, &body, "substitute", "substitution").await?;
    let names: Vec<String> = line.delegates.iter().map(output::person).collect();
    println!("         {:<17} names a substitute (người dự thay): {}", site.as_str(), names.join("; "));
    Ok(())
}

/// During the session the secretariat calls the roll: Na Rì (confirmed, never checked in) is
/// present with 12 people in its room, Pác Nặm (silent) absent; the quorum (75% of the bridges)
/// before and after. The start reaches attendance asynchronously, so the first roll call waits
/// until the session is under way there.
async fn roll_call(demo: &Demo, id: ConferenceId) -> anyhow::Result<()> {
    use hoinghi_shared::api::{Quorum, RollCall};
    let cref = ConferenceRef { conference_id: id };
    let show = |q: &Quorum| {
        for line in super::roll_call::quorum_text(q).lines() {
            println!("         {line}");
        }
    };
    let before: Quorum = demo.send(Who::Secretariat, attendance::QUORUM, &cref, "quorum-before").await?;
    show(&before);
    let calls = [
        RollCall { conference_id: id, site: scenario::site("na-ri"), present: true, people: Some(12), reason: None },
        RollCall {
            conference_id: id,
            site: scenario::site(scenario::SILENT_SITE),
            present: false,
            people: None,
            reason: Some("Mất kết nối do mưa lũ, chưa khôi phục đường truyền".into()),
        },
    ];
    for call in &calls {
        let key = format!("roll-call-{}", call.site);
        let line: SiteAttendance = demo
            .poll("the session under way at attendance", "is hoinghi-attendance running?", async || {
                match demo.send(Who::Secretariat, attendance::ROLL_CALL, call, &key).await {
                    Ok(line) => Ok(Some(line)),
                    Err(e)
                        if e.downcast_ref::<CallError>()
                            .is_some_and(|c| c.code() == Some(hoinghi_shared::ErrorCode::Conflict)) =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            })
            .await
            .with_context(|| format!("calling the roll of {}", call.site))?;
        let said = super::roll_call::roll_call_line(&line);
        println!("         {:<17} {}", line.site_id.as_str(), said.trim().trim_start_matches("roll call: "));
    }
    let after: Quorum = demo.send(Who::Secretariat, attendance::QUORUM, &cref, "quorum-after").await?;
    show(&after);
    Ok(())
}

/// The chair moves the session to the discussion item; Ba Bể and Na Rì ask for the floor, the chair
/// gives it to each in turn and marks each done.
async fn floor(demo: &Demo, id: ConferenceId) -> anyhow::Result<()> {
    use hoinghi_shared::api::{Floor, GrantFloor, MoveAgenda, RequestFloor};
    let cref = ConferenceRef { conference_id: id };
    let discussion = 1;
    let moved: Floor = demo
        .send(Who::Chair(0), attendance::AGENDA_MOVE, &MoveAgenda { conference_id: id, item: discussion }, "agenda-1")
        .await
        .context("moving to the discussion item")?;
    println!("         item {}: {}", discussion + 1, moved.current_title.as_deref().unwrap_or_default());
    for (site, topic) in [("ba-be", "Phát triển du lịch gắn với hồ Ba Bể"), ("na-ri", "Chuyển đổi số ở cơ sở")]
    {
        let site = scenario::site(site);
        let subject = attendance::site_command(&site, attendance::FLOOR_REQUEST);
        let body = RequestFloor { conference_id: id, topic: topic.to_owned() };
        let floor: Floor = demo.as_site(&site, &subject, &body, "floor-request", "asking for the floor").await?;
        println!("         {:<17} asks for the floor: {topic} (queue: {})", site.as_str(), floor.queue.len());
    }
    for turn in 1..=2 {
        let grant = GrantFloor { conference_id: id, site: None };
        let floor: Floor = demo
            .send(Who::Chair(0), attendance::FLOOR_GRANT, &grant, &format!("floor-grant-{turn}"))
            .await
            .context("giving the floor")?;
        if let Some(s) = &floor.speaking {
            println!("         the chair gives the floor to {} ({})", s.site_name, s.topic);
        }
        let _: Floor = demo
            .send(Who::Chair(0), attendance::FLOOR_DONE, &cref, &format!("floor-done-{turn}"))
            .await
            .context("marking the speaker done")?;
    }
    Ok(())
}

async fn check_in(demo: &Demo, id: ConferenceId, site: &SiteId) -> anyhow::Result<()> {
    let subject = attendance::site_command(site, attendance::CHECK_IN);
    let body = ConferenceRef { conference_id: id };
    let line: SiteAttendance = demo.as_site(site, &subject, &body, "check-in", "check-in").await?;
    println!("         {:<17} {}", site.as_str(), output::attendance_status(line.status));
    Ok(())
}

/// The day before: the secretariat opens the technical check; the bridges report picture, sound
/// and line. Pác Nặm's line fails, then passes on re-test; Chợ Mới's sound fails and is not fixed;
/// Ngân Sơn (declined) and Na Rì never check. The summary shows what is left.
async fn technical_check(demo: &Demo, id: ConferenceId) -> anyhow::Result<()> {
    use hoinghi_shared::api::{CheckResult, ReportTechnicalCheck, SiteTechnicalCheck, TechnicalCheckSummary};
    let cref = ConferenceRef { conference_id: id };
    let _: TechnicalCheckSummary = demo
        .send(Who::Secretariat, attendance::TECHNICAL_CHECK_OPEN, &cref, "check-open")
        .await
        .context("opening the technical check")?;
    let ok = || CheckResult { ok: true, note: None };
    let failed = |note: &str| CheckResult { ok: false, note: Some(note.to_owned()) };
    let subject = |site: &SiteId| attendance::site_command(site, attendance::TECHNICAL_CHECK);
    let report = |picture, sound, line| ReportTechnicalCheck { conference_id: id, picture, sound, line };
    for site in scenario::site_ids() {
        let body = match site.as_str() {
            "ngan-son" | "na-ri" => continue,
            "pac-nam" => report(ok(), ok(), failed("Mất kết nối: lũ quét làm đứt cáp quang")),
            "cho-moi" => report(ok(), failed("Micro điểm cầu bị rè, chưa có thiết bị thay"), ok()),
            _ => report(ok(), ok(), ok()),
        };
        let check: SiteTechnicalCheck =
            demo.as_site(&site, &subject(&site), &body, "check-report", "technical check").await?;
        println!("         {:<17} {}", site.as_str(), super::check::status_vi(check.status));
    }
    let pac_nam = scenario::site("pac-nam");
    let retest =
        report(ok(), ok(), CheckResult { ok: true, note: Some("Đã chuyển sang đường truyền dự phòng".into()) });
    let check: SiteTechnicalCheck =
        demo.as_site(&pac_nam, &subject(&pac_nam), &retest, "check-retest", "technical re-test").await?;
    println!("         pac-nam re-tests: {} (report {})", super::check::status_vi(check.status), check.reports);
    let summary: TechnicalCheckSummary = demo
        .send(
            Who::Secretariat,
            attendance::TECHNICAL_CHECK_SUMMARY,
            &hoinghi_shared::api::PageQuery::first(id),
            "check-summary",
        )
        .await
        .context("reading the technical check's summary")?;
    let c = summary.counts;
    println!("         {} bridges: {} passed, {} failed, {} not checked", c.sites, c.passed, c.failed, c.not_checked);
    for site in &summary.failing {
        for item in &site.failed {
            println!("         failing: {} {}: {}", site.site_id.as_str(), super::check::item_vi(item.item), item.note);
        }
    }
    Ok(())
}

/// How long after the conference is scheduled the demo's extra reminder comes due: long enough
/// for the invitations to go out and the roster to open first (a timer due before that is not set),
/// short enough to keep the demo quick.
const REMINDER_LEAD: chrono::Duration = chrono::Duration::seconds(6);

/// How long after it is due the demo waits for the reminder to reach the silent bridge.
const REMINDER_GRACE: Duration = Duration::from_secs(10);

/// The demo's extra reminder for `request`: its offset before the start (seconds) and when it is due.
fn demo_reminder(
    request: &hoinghi_shared::api::CreateConference,
) -> anyhow::Result<(u32, chrono::DateTime<chrono::Utc>)> {
    let start = request.starts_at.with_timezone(&chrono::Utc);
    let offset = (start - (chrono::Utc::now() + REMINDER_LEAD)).num_seconds();
    let offset = u32::try_from(offset)
        .ok()
        .filter(|o| *o > 0 && *o <= hoinghi_shared::notifications::MAX_REMINDER_OFFSET_S)
        .with_context(|| format!("the demo's reminder cannot be set {offset}s before the start"))?;
    Ok((offset, start - chrono::Duration::seconds(i64::from(offset))))
}

/// Waits (at most until [`REMINDER_GRACE`] after `due`) until the silent bridge, Pác Nặm, has the
/// reminder among its notifications, then prints them as `hoinghi notifications list --site
/// pac-nam` does, and the `reminder_sent` lines of the audit trail.
async fn reminder(
    demo: &Demo,
    id: ConferenceId,
    offset_s: u32,
    due: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let site = scenario::site(scenario::SILENT_SITE);
    let client = demo.roles.client(Who::Site(site.as_str()))?;
    let subject = attendance::site_command(&site, attendance::NOTIFICATIONS);
    let wait = (due - chrono::Utc::now()).to_std().unwrap_or_default();
    println!(
        "         waiting for the timer due in {:.1}s (at most {}s more) to remind {site} ...",
        wait.as_secs_f64(),
        REMINDER_GRACE.as_secs()
    );
    let deadline = Instant::now() + wait + REMINDER_GRACE;
    let page = loop {
        // The site's notifications about this conference (a rerun may find others before them).
        let mut query = NotificationsQuery { since: 0, limit: Some(MAX_NOTIFICATIONS_PAGE) };
        let mut mine = Vec::new();
        let mut last: NotificationsPage;
        loop {
            last =
                client.call(&subject, &query).await.with_context(|| format!("listing the notifications of {site}"))?;
            mine.extend(last.notifications.iter().filter(|e| e.notification.conference_id == id).cloned());
            if !last.more || last.next <= query.since {
                break;
            }
            query.since = last.next;
        }
        if mine.iter().any(|e| e.notification.kind == NotificationKind::Reminder) {
            break NotificationsPage { site_id: site.clone(), next: last.next, more: false, notifications: mine };
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "no reminder reached {site} within {}s after it was due at {due}: the timer is a JetStream message \
                 schedule (nats-server 2.12 or newer) handled by hoinghi-attendance's consumer {}; see the \
                 attendance log (a roster that opened after the reminder was due does not set it)",
                REMINDER_GRACE.as_secs(),
                "attendance-reminders-due"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let late = (chrono::Utc::now() - due).to_std().unwrap_or_default();
    println!(
        "         reminded {:.1}s after it was due; $ hoinghi notifications list --site {site}",
        late.as_secs_f64()
    );
    for line in super::notifications::page(&page).lines() {
        println!("         {line}");
    }
    let audit: AuditTrail = demo
        .send(
            Who::Secretariat,
            scheduling::AUDIT,
            &PageQuery { conference_id: id, offset: 0, limit: hoinghi_shared::api::MAX_PAGE },
            "audit-reminder",
        )
        .await
        .context("reading the audit trail")?;
    let sent: Vec<_> = audit.entries.into_iter().filter(|e| e.event_type == AttendanceEvent::REMINDER_SENT).collect();
    println!("         $ hoinghi conference audit {id} | grep {}", AttendanceEvent::REMINDER_SENT);
    for line in super::conference::audit_table(&sent).lines() {
        println!("         {line}");
    }
    println!("         {} bridge(s) reminded {offset_s}s before the start (sites that answered get none)", sent.len());
    Ok(())
}

/// The Bắc Kạn conference at its hours (08:00-11:30, UTC+7) on the day after tomorrow: a time still
/// to come, which the secretariat can move.
fn future_conference() -> hoinghi_shared::api::CreateConference {
    let mut request = scenario::create_conference();
    let offset = *request.starts_at.offset();
    let day = (chrono::Utc::now().with_timezone(&offset) + chrono::Duration::days(2)).date_naive();
    let moved_by = day.signed_duration_since(request.starts_at.date_naive());
    request.starts_at += moved_by;
    request.ends_at += moved_by;
    request
}

/// Bão số 3: the secretariat moves the conference one hour later (schedule 1), the roster shows who
/// answered before the change and has not seen it, and Ba Bể acknowledges the new time.
async fn storm(demo: &Demo, conference: &ConferenceView) -> anyhow::Result<()> {
    let id = conference.id;
    let body = hoinghi_shared::api::RescheduleConference {
        conference_id: id,
        starts_at: conference.starts_at + chrono::Duration::hours(1),
        ends_at: conference.ends_at + chrono::Duration::hours(1),
        reason: "Bão số 3 gây mưa lớn, sạt lở trên tuyến đường đến các điểm cầu; lùi 1 giờ".into(),
        reanswer: false,
    };
    let moved: ConferenceView = demo
        .send(Who::Secretariat, scheduling::RESCHEDULE, &body, "reschedule")
        .await
        .context("rescheduling the conference")?;
    println!(
        "         moved to {} .. {}, schedule sequence {}: {}",
        moved.starts_at.format("%d/%m/%Y %H:%M"),
        moved.ends_at.format("%H:%M"),
        moved.schedule_sequence,
        body.reason
    );
    let client = demo.roles.client(Who::Secretariat)?;
    let cref = ConferenceRef { conference_id: id };
    let sequence = moved.schedule_sequence;
    let roster = demo
        .poll("roster on the new schedule", "is hoinghi-attendance reading the scheduling events?", async || {
            let roster: Roster = client.call(attendance::ROSTER, &cref).await?;
            Ok(roster.schedule.as_ref().is_some_and(|s| s.sequence == sequence).then_some(roster))
        })
        .await?;
    for line in output::roster(&roster).lines() {
        println!("         {line}");
    }
    let ba_be = scenario::site("ba-be");
    let seen = hoinghi_shared::api::ScheduleSeen { conference_id: id, sequence };
    let subject = attendance::site_command(&ba_be, attendance::SCHEDULE_SEEN);
    let line: SiteAttendance =
        demo.as_site(&ba_be, &subject, &seen, "schedule-seen", "acknowledging the new schedule").await?;
    println!(
        "         {:<17} has seen schedule {}: {}",
        ba_be.as_str(),
        sequence,
        if line.seen_current_schedule { "yes" } else { "no" }
    );
    Ok(())
}
