//! The JetStream streams and durable consumers a service relies on, checked at start.
//!
//! Every service creates any of the streams that is missing ([`ensure_all_streams`]), with the
//! settings of [`expected_config`]: file storage, limits retention with no limit at all (no
//! `max_age`, `max_msgs`, `max_bytes` or `max_msgs_per_subject`), deletes and purges denied, no
//! rollups. A stream that already exists is compared with them ([`stream_differences`], a pure
//! function) and, for each difference:
//!
//! - [`Action::Stop`]: a setting under which events could be lost, expired, rewritten or refused
//!   (storage, retention, limits, subjects, deny delete / purge, rollups, sealed, mirror, message
//!   TTLs, asynchronous persistence). The service does not start: it fails at once with one error
//!   naming every such difference of every stream, expected against found, and how to fix it. It
//!   never runs on a stream that can lose or expire events.
//! - [`Action::Update`]: harmless to change and changed by the service (`allow_direct`, a discard
//!   policy that cannot discard anything without limits, fewer replicas than configured), with a
//!   warning.
//! - [`Action::Keep`]: harmless and the operator's choice, left as found with a warning (the
//!   duplicate window: idempotency beyond it comes from the command index; more replicas than
//!   configured).
//!
//! The two working streams, notifications and timers, are not the record and have settings of their
//! own, checked the same way by [`crate::working`]. The object store of the records too large for
//! one event (`HOINGHI_RECORDS`, stream `OBJ_HOINGHI_RECORDS`) is ensured here too, with the settings
//! and checks of [`crate::records`].
//!
//! Reactions check their durable consumers the same way ([`consumer_differences`]): a consumer with
//! other filter subjects, another ack policy or a push delivery is deleted and created again from
//! the start of the stream ([`Action::Recreate`], safe because reactions are idempotent: the command
//! id derives from the event id), other retry settings are updated in place.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use hoinghi_shared::streams::StreamDef;
use tracing::{error, info, warn};

/// The duplicate window the streams are created with.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// What to do about one difference between the expected and the found settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Harmless: left as found, with a warning.
    Keep,
    /// Safe to change: the service changes it.
    Update,
    /// (Consumers) delete the consumer and create it again.
    Recreate,
    /// Unsafe to run on and unsafe to change automatically: the service stops.
    Stop,
}

/// One setting that differs from what the service expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The setting (as JetStream names it).
    pub field: &'static str,
    /// What the service expects.
    pub expected: String,
    /// What the server has.
    pub found: String,
    /// What to do.
    pub action: Action,
    /// Why it matters and how an operator fixes it.
    pub fix: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: expected {}, found {}. {}", self.field, self.expected, self.found, self.fix)
    }
}

/// Why the streams could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// JetStream did not answer or refused a request (worth retrying at start).
    #[error("{0}")]
    Unreachable(anyhow::Error),
    /// A stream exists with settings the service must not run on (retrying does not help).
    #[error("{0}")]
    Unfit(String),
}

impl SetupError {
    /// Whether trying again may help (JetStream not ready yet); a stream with wrong settings stays
    /// wrong until an operator fixes it.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }
}

/// The settings every stream of the contract is created with.
pub fn expected_config(def: StreamDef, replicas: usize) -> stream::Config {
    stream::Config {
        name: def.name.to_owned(),
        subjects: def.subjects.iter().map(|s| (*s).to_owned()).collect(),
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        // The log is a legal record: no limit may drop or expire an event.
        max_age: Duration::ZERO,
        max_messages: -1,
        max_bytes: -1,
        max_messages_per_subject: -1,
        discard: stream::DiscardPolicy::Old,
        num_replicas: replicas.max(1),
        duplicate_window: DUPLICATE_WINDOW,
        allow_direct: true,
        // Nobody deletes or purges it through the API, nor rolls a subject up.
        deny_delete: true,
        deny_purge: true,
        allow_rollup: false,
        ..Default::default()
    }
}

fn limit(value: i64) -> String {
    if value <= 0 {
        "unlimited".to_owned()
    } else {
        value.to_string()
    }
}

fn list(items: &BTreeSet<String>) -> String {
    let items: Vec<&str> = items.iter().map(String::as_str).collect();
    format!("[{}]", items.join(", "))
}

/// The stream is a record that has to be rebuilt by hand.
fn recreate(name: &str) -> String {
    format!(
        "It cannot be changed in place: back the stream up (`nats stream backup {name} <dir>`), delete it \
         (`nats stream rm {name}`), start a service so that it creates the stream with the right settings, \
         and copy the events back in order"
    )
}

/// Every difference between the settings a stream should have (`expected`, from
/// [`expected_config`]) and those it has (`found`), with what to do about each. Empty when the
/// stream is fit to hold the event log.
pub fn stream_differences(expected: &stream::Config, found: &stream::Config) -> Vec<Difference> {
    let name = found.name.as_str();
    let mut out = Vec::new();
    let mut add = |field, expected: String, found: String, action, fix: String| {
        out.push(Difference { field, expected, found, action, fix });
    };
    let debug = |v: &dyn std::fmt::Debug| format!("{v:?}").to_lowercase();
    if found.storage != expected.storage {
        add(
            "storage",
            debug(&expected.storage),
            debug(&found.storage),
            Action::Stop,
            format!("A memory stream loses every event when the server stops. {}", recreate(name)),
        );
    }
    if found.retention != expected.retention {
        add(
            "retention",
            debug(&expected.retention),
            debug(&found.retention),
            Action::Stop,
            format!("Interest or work-queue retention deletes events once consumed. {}", recreate(name)),
        );
    }
    let want: BTreeSet<String> = expected.subjects.iter().cloned().collect();
    let have: BTreeSet<String> = found.subjects.iter().cloned().collect();
    if want != have {
        add(
            "subjects",
            list(&want),
            list(&have),
            Action::Stop,
            format!(
                "Events on a subject the stream does not capture cannot be written (every append would answer \
                 503). Set exactly these subjects: `nats stream edit {name} --subjects \"{}\"`",
                want.iter().map(String::as_str).collect::<Vec<_>>().join(",")
            ),
        );
    }
    if !found.max_age.is_zero() {
        add(
            "max_age",
            "unlimited (0)".to_owned(),
            format!("{:?}", found.max_age),
            Action::Stop,
            format!("Events older than this expire. Remove the limit: `nats stream edit {name} --max-age=0`"),
        );
    }
    for (field, value, flag) in [
        ("max_msgs", found.max_messages, "--max-msgs=-1"),
        ("max_bytes", found.max_bytes, "--max-bytes=-1"),
        ("max_msgs_per_subject", found.max_messages_per_subject, "--max-msgs-per-subject=-1"),
    ] {
        if value > 0 {
            add(
                field,
                "unlimited (-1)".to_owned(),
                limit(value),
                Action::Stop,
                format!("Events beyond this limit are dropped. Remove it: `nats stream edit {name} {flag}`"),
            );
        }
    }
    if !found.deny_delete {
        add(
            "deny_delete",
            "true".to_owned(),
            "false".to_owned(),
            Action::Stop,
            format!(
                "Events could be deleted one by one through the API. Deny it: `nats stream edit {name} --deny-delete`"
            ),
        );
    }
    if !found.deny_purge {
        add(
            "deny_purge",
            "true".to_owned(),
            "false".to_owned(),
            Action::Stop,
            format!("The stream or a subject could be purged through the API. Deny it: `nats stream edit {name} --deny-purge`"),
        );
    }
    if found.allow_rollup {
        add(
            "allow_rollup",
            "false".to_owned(),
            "true".to_owned(),
            Action::Stop,
            format!("A rollup message would erase the events of its subject. Forbid it: `nats stream edit {name} --no-allow-rollup`"),
        );
    }
    if found.sealed {
        add(
            "sealed",
            "false".to_owned(),
            "true".to_owned(),
            Action::Stop,
            format!("A sealed stream takes no more events and cannot be unsealed. {}", recreate(name)),
        );
    }
    if found.mirror.is_some() || found.sources.as_ref().is_some_and(|s| !s.is_empty()) {
        add(
            "mirror/sources",
            "none".to_owned(),
            "set".to_owned(),
            Action::Stop,
            format!(
                "The event log must be written by its service only, not copied from another stream. {}",
                recreate(name)
            ),
        );
    }
    if found.allow_message_ttl {
        add(
            "allow_msg_ttl",
            "false".to_owned(),
            "true".to_owned(),
            Action::Stop,
            format!("A message could carry a time to live and expire. {}", recreate(name)),
        );
    }
    if found.persist_mode.is_some_and(|m| m != stream::PersistenceMode::Default) {
        add(
            "persist_mode",
            "default".to_owned(),
            debug(&found.persist_mode),
            Action::Stop,
            format!("Asynchronous persistence acknowledges events before they are stored. {}", recreate(name)),
        );
    }
    if found.discard != expected.discard {
        add(
            "discard",
            debug(&expected.discard),
            debug(&found.discard),
            Action::Update,
            "Without limits nothing is ever discarded; set back like every other stream".to_owned(),
        );
    }
    out.extend(copies_and_window(
        expected,
        found,
        true,
        "Kept: idempotency beyond the window comes from the services' command index",
    ));
    out
}

/// The differences every stream, of the record or working, is checked for alike, in this order:
/// direct reads and fewer replicas than configured (updated), more replicas than configured (kept,
/// when `more_replicas_kept`) and another duplicate window (kept, for the reason `window_kept`).
pub(crate) fn copies_and_window(
    expected: &stream::Config,
    found: &stream::Config,
    more_replicas_kept: bool,
    window_kept: &str,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut add = |field, expected: String, found: String, action, fix: &str| {
        out.push(Difference { field, expected, found, action, fix: fix.to_owned() });
    };
    if found.allow_direct != expected.allow_direct {
        let (expected, found) = (expected.allow_direct.to_string(), found.allow_direct.to_string());
        add("allow_direct", expected, found, Action::Update, "Direct reads are allowed on every stream");
    }
    let replicas = (expected.num_replicas.to_string(), found.num_replicas.to_string());
    if found.num_replicas.max(1) < expected.num_replicas {
        add("num_replicas", replicas.0, replicas.1, Action::Update, "More copies as configured (nats.replicas)");
    } else if more_replicas_kept && found.num_replicas > expected.num_replicas {
        add(
            "num_replicas",
            replicas.0,
            replicas.1,
            Action::Keep,
            "More copies than configured (nats.replicas) is kept",
        );
    }
    if found.duplicate_window != expected.duplicate_window {
        let window = |c: &stream::Config| format!("{:?}", c.duplicate_window);
        add("duplicate_window", window(expected), window(found), Action::Keep, window_kept);
    }
    out
}

/// `found` with every [`Action::Update`] difference set to its expected value.
fn updated(expected: &stream::Config, found: &stream::Config, differences: &[Difference]) -> stream::Config {
    let mut config = found.clone();
    for difference in differences.iter().filter(|d| d.action == Action::Update) {
        match difference.field {
            "discard" => config.discard = expected.discard,
            "allow_direct" => config.allow_direct = expected.allow_direct,
            "num_replicas" => config.num_replicas = expected.num_replicas,
            _ => {}
        }
    }
    config
}

/// The one error of a start refused for the streams' settings: every stop-worthy difference of every
/// stream, and how to fix it.
fn unfit_message(unfit: &[(&str, Vec<Difference>)]) -> String {
    let mut text = String::from(
        "refusing to start: these JetStream streams exist with settings under which events could be lost, \
         expired or refused, and the service must not run on them:",
    );
    for (name, differences) in unfit {
        let _ = write!(text, "\n  stream {name}:");
        for difference in differences.iter().filter(|d| d.action == Action::Stop) {
            let _ = write!(text, "\n    - {difference}");
        }
    }
    text.push_str(
        "\nFix each setting above and start the service again (docs/RELIABILITY.md, \"Stream settings are \
         checked at start\").",
    );
    text
}

pub(crate) fn is_not_found(error: &jetstream::context::GetStreamError) -> bool {
    matches!(
        error.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(e)
            if e.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

/// The settings of a stream, creating it if missing.
async fn found_or_created(
    js: &jetstream::Context,
    def: StreamDef,
    expected: &stream::Config,
) -> Result<Option<stream::Config>, SetupError> {
    let unreachable = |what: &str, e: &dyn std::fmt::Display| {
        SetupError::Unreachable(anyhow::anyhow!("{what} stream {}: {e}", def.name))
    };
    for _ in 0..3 {
        match js.get_stream(def.name).await {
            Ok(stream) => return Ok(Some(stream.cached_info().config.clone())),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(unreachable("cannot read", &e)),
        }
        match js.create_stream(expected.clone()).await {
            Ok(_) => {
                info!(stream = def.name, "created the stream");
                return Ok(None);
            }
            // Another service may have created it meanwhile: read it again.
            Err(e) => warn!(stream = def.name, error = %e, "could not create the stream; reading it again"),
        }
    }
    Err(unreachable("cannot create", &"created and not found again"))
}

/// Makes sure every stream of the contract exists with settings the service can run on: creates the
/// missing ones, updates the harmless differences, and refuses to go on if any stream could lose,
/// expire or refuse events.
///
/// # Errors
/// [`SetupError::Unreachable`] if JetStream did not answer; [`SetupError::Unfit`] naming every
/// unsafe difference (logged as an error too).
pub async fn ensure_all_streams(js: &jetstream::Context, replicas: usize) -> Result<(), SetupError> {
    let mut checked = Vec::new();
    for def in hoinghi_shared::streams::ALL {
        // The working streams (notifications, timers) have settings of their own (`working.rs`).
        let expected = crate::working::expected_config(def, replicas).unwrap_or_else(|| expected_config(def, replicas));
        if let Some(found) = found_or_created(js, def, &expected).await? {
            let differences = if crate::working::is_working(def) {
                crate::working::differences(&expected, &found)
            } else {
                stream_differences(&expected, &found)
            };
            checked.push((def.name, expected, found, differences));
        }
    }
    // The object store of the records too large for one event (`records.rs`).
    let expected = crate::records::expected_config(replicas);
    if let Some(found) = crate::records::found_or_created(js, replicas).await? {
        let differences = crate::records::differences(&expected, &found);
        checked.push((hoinghi_shared::streams::RECORDS_BUCKET_STREAM, expected, found, differences));
    }
    let unfit: Vec<(&str, Vec<Difference>)> = checked
        .iter()
        .filter(|(_, _, _, d)| d.iter().any(|d| d.action == Action::Stop))
        .map(|(name, _, _, d)| (*name, d.clone()))
        .collect();
    if !unfit.is_empty() {
        let message = unfit_message(&unfit);
        error!("{message}");
        return Err(SetupError::Unfit(message));
    }
    for (name, expected, found, differences) in &checked {
        for difference in differences {
            match difference.action {
                Action::Keep => warn!(stream = %name, difference = %difference, "stream setting differs; kept"),
                Action::Update => {
                    warn!(stream = %name, difference = %difference, "stream setting differs; updating it")
                }
                Action::Recreate | Action::Stop => {}
            }
        }
        if differences.iter().any(|d| d.action == Action::Update) {
            js.update_stream(updated(expected, found, differences))
                .await
                .map_err(|e| SetupError::Unreachable(anyhow::anyhow!("cannot update stream {name}: {e}")))?;
        }
    }
    Ok(())
}

/// The filter subjects of a consumer, however the server reports them.
fn filters(config: &consumer::Config) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = config.filter_subjects.iter().cloned().collect();
    if !config.filter_subject.is_empty() {
        out.insert(config.filter_subject.clone());
    }
    out
}

/// Every difference between a reaction's durable consumer as it should be and as it is: what
/// decides which events it gets and whether they are redelivered ([`Action::Recreate`]: push
/// delivery, filter subjects, ack policy) and its retry settings ([`Action::Update`]: ack wait,
/// deliveries).
pub fn consumer_differences(expected: &consumer::Config, found: &consumer::Config) -> Vec<Difference> {
    let mut out = Vec::new();
    if found.deliver_subject.is_some() {
        out.push(Difference {
            field: "deliver_subject",
            expected: "none (pull)".to_owned(),
            found: found.deliver_subject.clone().unwrap_or_default(),
            action: Action::Recreate,
            fix: "a push consumer cannot serve a pull reaction".to_owned(),
        });
    }
    let (want, have) = (filters(expected), filters(found));
    if want != have {
        out.push(Difference {
            field: "filter_subjects",
            expected: list(&want),
            found: list(&have),
            action: Action::Recreate,
            fix: "the reaction would miss events or get others".to_owned(),
        });
    }
    if found.ack_policy != expected.ack_policy {
        out.push(Difference {
            field: "ack_policy",
            expected: format!("{:?}", expected.ack_policy).to_lowercase(),
            found: format!("{:?}", found.ack_policy).to_lowercase(),
            action: Action::Recreate,
            fix: "without explicit acks an event whose handler died is never delivered again".to_owned(),
        });
    }
    if found.ack_wait != expected.ack_wait {
        out.push(Difference {
            field: "ack_wait",
            expected: format!("{:?}", expected.ack_wait),
            found: format!("{:?}", found.ack_wait),
            action: Action::Update,
            fix: "how long before an unacknowledged event is delivered again".to_owned(),
        });
    }
    if found.max_deliver != expected.max_deliver {
        out.push(Difference {
            field: "max_deliver",
            expected: expected.max_deliver.to_string(),
            found: found.max_deliver.to_string(),
            action: Action::Update,
            fix: "reactions.max_deliver".to_owned(),
        });
    }
    out
}

/// Opens a reaction's durable pull consumer, creating it if missing. One that exists with other
/// settings is updated in place when only its retry settings differ, else deleted and created again
/// from the start of the stream (reactions are idempotent, so events handled before are handled
/// again without effect; events parked before may be parked again). Each difference is logged.
///
/// # Errors
/// JetStream did not answer or refused.
pub async fn ensure_consumer(
    stream: &jetstream::stream::Stream,
    expected: consumer::pull::Config,
) -> anyhow::Result<consumer::PullConsumer> {
    use consumer::IntoConsumerConfig as _;
    let durable = expected.durable_name.clone().unwrap_or_default();
    let stream_name = stream.cached_info().config.name.clone();
    let found = match stream.consumer_info(&durable).await {
        Ok(info) => info.config,
        Err(e) if matches!(e.kind(), jetstream::context::ConsumerInfoErrorKind::NotFound) => {
            return Ok(stream.create_consumer(expected).await?);
        }
        Err(e) => return Err(anyhow::anyhow!("durable consumer {durable} on {stream_name}: {e}")),
    };
    let differences = consumer_differences(&expected.clone().into_consumer_config(), &found);
    if differences.is_empty() {
        return stream.get_consumer(&durable).await.map_err(|e| anyhow::anyhow!("{e}"));
    }
    let described: Vec<String> = differences.iter().map(ToString::to_string).collect();
    if differences.iter().any(|d| d.action == Action::Recreate) {
        warn!(
            consumer = %durable,
            stream = %stream_name,
            differences = %described.join("; "),
            "the durable consumer exists with other settings; deleting it and creating it again from the start \
             of the stream (reactions are idempotent: events already handled have no second effect)"
        );
        stream.delete_consumer(&durable).await?;
        return Ok(stream.create_consumer(expected).await?);
    }
    warn!(consumer = %durable, stream = %stream_name, differences = %described.join("; "), "updating the durable consumer's settings");
    // The delivery policy cannot change in place: keep the one it was created with.
    let config = consumer::pull::Config { deliver_policy: found.deliver_policy, ..expected };
    Ok(stream.update_consumer(config).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hoinghi_shared::streams::{ATTENDANCE, SCHEDULING};

    fn stops(differences: &[Difference]) -> Vec<&'static str> {
        differences.iter().filter(|d| d.action == Action::Stop).map(|d| d.field).collect()
    }

    #[test]
    fn a_stream_created_by_the_service_has_no_difference() {
        // Given the config the service creates
        let expected = expected_config(SCHEDULING, 1);
        // When the server reports it back, with unlimited as 0 or -1 and the subjects in another order
        let mut found = expected.clone();
        found.max_messages = 0;
        found.max_bytes = -1;
        found.max_messages_per_subject = 0;
        found.subjects.reverse();
        // Then nothing differs
        assert_eq!(stream_differences(&expected, &found), vec![]);
    }

    #[test]
    fn the_issues_scheduling_stream_is_refused_with_every_difference_named() {
        // Given HOINGHI_SCHEDULING pre-created as memory, max_age 60 s, one message per subject,
        // purges allowed
        let expected = expected_config(SCHEDULING, 1);
        let found = stream::Config {
            name: SCHEDULING.name.into(),
            subjects: expected.subjects.clone(),
            storage: stream::StorageType::Memory,
            max_age: Duration::from_secs(60),
            max_messages_per_subject: 1,
            deny_delete: true,
            deny_purge: false,
            allow_direct: true,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: 1,
            ..Default::default()
        };
        // When compared
        let differences = stream_differences(&expected, &found);
        // Then each unsafe setting stops the service, expected against found
        assert_eq!(stops(&differences), vec!["storage", "max_age", "max_msgs_per_subject", "deny_purge"]);
        let storage = &differences[0];
        assert_eq!((storage.expected.as_str(), storage.found.as_str()), ("file", "memory"));
        assert_eq!(differences[1].found, "60s");
        assert_eq!(differences[2].found, "1");
        assert!(differences[3].fix.contains("nats stream edit HOINGHI_SCHEDULING --deny-purge"), "{}", differences[3]);
        let message = unfit_message(&[(SCHEDULING.name, differences)]);
        assert!(message.contains("stream HOINGHI_SCHEDULING:"), "{message}");
        assert!(message.contains("max_age: expected unlimited (0), found 60s"), "{message}");
    }

    #[test]
    fn other_subjects_retention_rollups_and_limits_stop_the_service() {
        // Given HOINGHI_ATTENDANCE with other subjects, interest retention, rollups, message limits
        let expected = expected_config(ATTENDANCE, 1);
        let mut found = expected.clone();
        found.subjects = vec!["other.>".into()];
        found.retention = stream::RetentionPolicy::Interest;
        found.allow_rollup = true;
        found.max_messages = 1000;
        found.max_bytes = 1 << 20;
        found.deny_delete = false;
        found.sealed = true;
        found.allow_message_ttl = true;
        // When compared
        let differences = stream_differences(&expected, &found);
        // Then all of them stop it
        assert_eq!(
            stops(&differences),
            vec![
                "retention",
                "subjects",
                "max_msgs",
                "max_bytes",
                "deny_delete",
                "allow_rollup",
                "sealed",
                "allow_msg_ttl"
            ]
        );
        let subjects = differences.iter().find(|d| d.field == "subjects").unwrap();
        assert_eq!(subjects.expected, "[hoinghi.v1.events.attendance.>]");
        assert_eq!(subjects.found, "[other.>]");
    }

    #[test]
    fn harmless_differences_are_updated_or_kept_but_never_stop() {
        // Given a stream fit for the log but with direct gets off, one replica where three are
        // configured, discard new and a shorter duplicate window
        let expected = expected_config(SCHEDULING, 3);
        let mut found = expected_config(SCHEDULING, 1);
        found.allow_direct = false;
        found.discard = stream::DiscardPolicy::New;
        found.duplicate_window = Duration::from_secs(1);
        // When compared
        let differences = stream_differences(&expected, &found);
        // Then nothing stops; the safe ones are updated, the window is kept
        assert_eq!(stops(&differences), Vec::<&str>::new());
        let actions: Vec<(&str, Action)> = differences.iter().map(|d| (d.field, d.action)).collect();
        assert_eq!(
            actions,
            vec![
                ("discard", Action::Update),
                ("allow_direct", Action::Update),
                ("num_replicas", Action::Update),
                ("duplicate_window", Action::Keep)
            ]
        );
        let config = updated(&expected, &found, &differences);
        assert_eq!((config.allow_direct, config.num_replicas, config.discard), (true, 3, stream::DiscardPolicy::Old));
        assert_eq!(config.duplicate_window, Duration::from_secs(1), "the window is left as found");
        assert_eq!(stream_differences(&expected, &config).len(), 1);
    }

    fn reaction_consumer() -> consumer::Config {
        consumer::Config {
            durable_name: Some("minutes-on-roster-closed".into()),
            filter_subjects: vec!["hoinghi.v1.events.attendance.*.roster_closed".into()],
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(5),
            max_deliver: 12,
            ..Default::default()
        }
    }

    #[test]
    fn a_consumer_with_other_filters_or_acks_is_recreated_and_other_retries_updated() {
        // Given the consumer a reaction expects
        let expected = reaction_consumer();
        // When the server reports the same filter as a single filter_subject
        let mut same = expected.clone();
        same.filter_subjects.clear();
        same.filter_subject = "hoinghi.v1.events.attendance.*.roster_closed".into();
        // Then nothing differs
        assert_eq!(consumer_differences(&expected, &same), vec![]);

        // When it has another filter and no acks
        let mut other = expected.clone();
        other.filter_subjects = vec!["hoinghi.v1.events.attendance.>".into()];
        other.ack_policy = consumer::AckPolicy::None;
        other.max_deliver = 3;
        let differences = consumer_differences(&expected, &other);
        // Then it is recreated, naming each difference
        let actions: Vec<(&str, Action)> = differences.iter().map(|d| (d.field, d.action)).collect();
        assert_eq!(
            actions,
            vec![
                ("filter_subjects", Action::Recreate),
                ("ack_policy", Action::Recreate),
                ("max_deliver", Action::Update)
            ]
        );
        assert_eq!(differences[1].to_string().split('.').next().unwrap(), "ack_policy: expected explicit, found none");
    }
}
