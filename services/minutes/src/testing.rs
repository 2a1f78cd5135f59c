//! Test support: given / when / then for the minutes runs on [`hoinghi_runtime::testing::given`];
//! this adds what spans the minutes and their sites' acknowledgements (an acknowledgement applied
//! through the minutes, as the projection applies it) and content of a chosen size.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, Utc};
use hoinghi_runtime::aggregate::Aggregate;
use hoinghi_runtime::store::{Decision, EventMeta};
use hoinghi_runtime::testing::Given;
use hoinghi_shared::events::{AttendanceEntry, AttendanceStatus, ConferenceDetails, MinutesEvent, Person, SiteRef};
use hoinghi_shared::{ConferenceId, PersonId, SiteId};

use crate::minutes::{Ack, Minutes, MinutesCommand};

/// A site id.
pub fn site(id: &str) -> SiteId {
    SiteId::parse(id).unwrap()
}

/// A person id.
pub fn person(id: &str) -> PersonId {
    PersonId::parse(id).unwrap()
}

/// The person id of the minute-taker (thư ký) of the tests' conferences.
pub const TAKER: &str = "thu-ky";

/// The tests' conference: Bắc Kạn's provincial committee with Ba Bể and Na Rì, kept by [`TAKER`],
/// one agenda item, no chairs (tests add the ones they need).
pub fn bac_kan_details(title: &str, item: &str) -> ConferenceDetails {
    let sites = vec![
        SiteRef { id: site("ba-be"), name: "Huyện ủy Ba Bể".into() },
        SiteRef { id: site("na-ri"), name: "Huyện ủy Na Rì".into() },
    ];
    ConferenceDetails {
        minute_takers: vec![person(TAKER)],
        agenda: vec![hoinghi_shared::events::AgendaItem { title: item.into() }],
        ..ConferenceDetails::new(
            title,
            "Tỉnh ủy Bắc Kạn",
            ("2021-07-23T08:00:00+07:00", "2021-07-23T11:30:00+07:00"),
            SiteRef { id: site("tinh-uy"), name: "Tỉnh ủy Bắc Kạn".into() },
            sites,
        )
        .unwrap()
    }
}

/// The minute-taker submits the draft.
pub fn submit() -> MinutesCommand {
    MinutesCommand::Submit { by: person(TAKER) }
}

/// Text that counts exactly `cost` and takes as many bytes: emoji, then letters.
pub fn text(cost: usize) -> String {
    let mut t = "😀".repeat(cost / 4);
    t.push_str(&"a".repeat(cost % 4));
    t
}

/// The event the minutes decide for `command` (which must append one).
#[track_caller]
pub fn decided(minutes: &Given<Minutes>, command: MinutesCommand) -> MinutesEvent {
    match minutes.when(command).decision {
        Ok(Decision::Append(append)) => append.event,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// The metadata of `event`, appended by `site` at `at` on the subject a fresh `A` addresses it to,
/// as it is read back from the stream at `seq`.
pub fn read_back<A>(id: &A::Id, event: &MinutesEvent, seq: u64, at: DateTime<Utc>, site: &SiteId) -> EventMeta
where
    A: Aggregate<Event = MinutesEvent>,
{
    let address = A::default().address(id, event);
    EventMeta { occurred_at: at, actor: format!("site:{site}"), ..hoinghi_runtime::testing::read_back(address, seq) }
}

/// The minutes after `site` acknowledged them at `at`, the event read back at `seq` on the subject
/// the site's [`Ack`] gives it, and applied through the minutes as the projection applies it.
pub fn acknowledged(minutes: &mut Minutes, id: ConferenceId, site: &SiteId, seq: u64, at: DateTime<Utc>) {
    let event = MinutesEvent::MinutesAcknowledged {};
    minutes.apply(&event, &read_back::<Ack>(&(id, site.clone()), &event, seq, at, site));
}

/// The attendance line of a site that confirmed with `delegates` and checked in with 12 people at
/// 08:05 in Hà Nội on the day of the session.
pub fn checked_in(site_id: SiteId, site_name: String, delegates: Vec<Person>) -> AttendanceEntry {
    AttendanceEntry {
        site_id,
        site_name,
        status: AttendanceStatus::CheckedIn,
        confirmed: true,
        delegates,
        headcount: 12,
        decline_reason: None,
        checked_in_at: Some("2021-07-23T01:05:00Z".parse().unwrap()),
        technical_check: None,
        technical_check_failed: vec![],
        presence: None,
    }
}

/// The attendance line of a site that did not come (`status`), with its `decline_reason` if any.
pub fn absent(
    site_id: SiteId,
    site_name: String,
    status: AttendanceStatus,
    decline_reason: Option<String>,
) -> AttendanceEntry {
    AttendanceEntry {
        site_id,
        site_name,
        status,
        confirmed: false,
        delegates: vec![],
        headcount: 0,
        decline_reason,
        checked_in_at: None,
        technical_check: None,
        technical_check_failed: vec![],
        presence: None,
    }
}

/// A date, `YYYY-MM-DD`.
pub fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}
