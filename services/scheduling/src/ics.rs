//! A site's invitation as an iCalendar object (RFC 5545), with the iTIP method of RFC 5546: pure, no
//! I/O, built with the `icalendar` crate (never by string concatenation).
//!
//! What the object holds, and the choices made:
//! - `METHOD:REQUEST` while the invitation stands (invited, in session, ended, closed: the event stays
//!   in the calendar), `METHOD:CANCEL` with `STATUS:CANCELLED` once the conference was cancelled after
//!   its invitations went out. Before the invitations there is nothing to send (409).
//! - One `VEVENT`, its `UID` `<conference-id>@hoinghi` ([`uid`]): the same for every site, every
//!   reschedule and the cancellation, so a calendar updates or removes the event it already holds.
//! - `SEQUENCE`: the conference's schedule sequence (0 as invited, +1 with each reschedule). A
//!   cancellation carries the schedule sequence **plus one**: RFC 5546 §2.1.4 requires the organiser
//!   to increment `SEQUENCE` when `STATUS` changes, and a calendar ignores a message whose sequence is
//!   older than the copy it holds, so the CANCEL must rank above the last REQUEST.
//! - `DTSTART`/`DTEND` in UTC (`20210723T010000Z` for 08:00 at +07:00), `DTSTAMP` the time the object
//!   was built. UTC is one of RFC 5545's two exact forms; the other, local time with a `TZID` and a
//!   `VTIMEZONE`, cannot be built cleanly with `icalendar` 0.17: it writes a `DTSTAMP` and a random
//!   `UID` into every component it serialises, a `VTIMEZONE` and its `STANDARD` included. Vietnam has
//!   had no daylight saving since 1975, so nothing is lost: every calendar shows the UTC time in its
//!   user's zone (08:00 in Asia/Ho_Chi_Minh).
//! - `ORGANIZER;CN=<organizer>:mailto:<host-site>@hoinghi.invalid` and
//!   `ATTENDEE;CN=<site name>;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:<site>@hoinghi.invalid`.
//!   RFC 5545's grammar makes both a `CAL-ADDRESS` (a URI) and iTIP requires them; hoinghi knows no
//!   mail addresses and sends no mail, so each address is derived from the site id under
//!   [`MAIL_DOMAIN`], in the `.invalid` top-level domain reserved by RFC 6761 so a calendar's iTIP reply
//!   goes nowhere: sites answer through hoinghi (`confirm`, `decline`), hence `RSVP=FALSE`.
//! - `LOCATION`: the host bridge's name. `SUMMARY`: the title. `DESCRIPTION`: the chairs, the guests,
//!   the host bridge and the numbered agenda ([`description`]), after the reason when cancelled.
//!
//! User text (title, agenda, names, reason) goes into TEXT values, which the crate escapes (backslash,
//! comma, semicolon, newline). It also quotes a parameter value holding `:`, `;` or `,`, but a
//! parameter value (the `CN` names) cannot hold a `"` or a line break at all, so those, and `^`, are
//! first encoded with RFC 6868's caret encoding (`^'`, `^n`, `^^`). Text reaching here passed the
//! input rules (no control character but newline and tab); any other control character is replaced
//! by a space all the same, so nothing can ever break a content line.

use chrono::{DateTime, Utc};
use hoinghi_shared::api::{ConferenceStatus, IcsInvitation, IcsMethod};
use hoinghi_shared::events::{ConferenceDetails, SiteRef};
use hoinghi_shared::{ApiError, ConferenceId, SiteId};
use icalendar::{Attendee, Calendar, Component, EventLike, EventStatus, Property};

use crate::conference::Conference;

/// The domain part of every `UID`: `<conference-id>@hoinghi`.
pub const UID_DOMAIN: &str = "hoinghi";

/// The domain of the derived `mailto:` addresses of `ORGANIZER` and `ATTENDEE` (RFC 6761 `.invalid`:
/// never delivered).
pub const MAIL_DOMAIN: &str = "hoinghi.invalid";

/// The calendar's `PRODID`.
pub const PRODID: &str = "-//hoinghi//hoinghi-scheduling//VI";

/// The stable `UID` of a conference's event.
pub fn uid(id: &ConferenceId) -> String {
    format!("{id}@{UID_DOMAIN}")
}

/// The derived calendar address of a site.
pub fn mailto(site: &SiteId) -> String {
    format!("mailto:{site}@{MAIL_DOMAIN}")
}

/// What one site's invitation is built from.
#[derive(Debug, Clone, Copy)]
pub struct Invitation<'a> {
    /// The conference.
    pub conference_id: &'a ConferenceId,
    /// As scheduled (with the current times after a reschedule).
    pub details: &'a ConferenceDetails,
    /// The site it is addressed to.
    pub attendee: &'a SiteRef,
    /// The conference's schedule sequence.
    pub schedule_sequence: u32,
    /// `Some(reason)` once cancelled.
    pub cancelled: Option<&'a str>,
    /// When it is built (`DTSTAMP`).
    pub stamp: DateTime<Utc>,
}

/// One built invitation: its method, its `SEQUENCE` and the iCalendar text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// `REQUEST` or `CANCEL`.
    pub method: IcsMethod,
    /// The event's `SEQUENCE`.
    pub sequence: u32,
    /// The `text/calendar` object, CRLF line ends, lines folded at 75 octets.
    pub ics: String,
}

/// Builds the iCalendar object of one site's invitation.
pub fn build(invitation: &Invitation<'_>) -> Built {
    let d = invitation.details;
    let (method, sequence) = match invitation.cancelled {
        None => (IcsMethod::Request, invitation.schedule_sequence),
        Some(_) => (IcsMethod::Cancel, invitation.schedule_sequence.saturating_add(1)),
    };
    let mut organizer = Property::new("ORGANIZER", mailto(&d.host_site.id));
    organizer.add_parameter("CN", &param(&d.organizer));
    let attendee = Attendee::new(mailto(&invitation.attendee.id))
        .cn(param(&invitation.attendee.name))
        .role(icalendar::Role::ReqParticipant)
        .partstat(icalendar::PartStat::NeedsAction)
        .rsvp(false);
    let mut event = icalendar::Event::new();
    event
        .uid(&uid(invitation.conference_id))
        .sequence(sequence)
        .timestamp(invitation.stamp)
        .starts(d.starts_at.with_timezone(&Utc))
        .ends(d.ends_at.with_timezone(&Utc))
        .summary(&text(&d.title))
        .location(&text(&d.host_site.name))
        .description(&text(&description(d, invitation.cancelled)))
        .append_property(organizer.done())
        .attendee(attendee)
        .status(if invitation.cancelled.is_some() { EventStatus::Cancelled } else { EventStatus::Confirmed });
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("PRODID", PRODID))
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new(
            "METHOD",
            match method {
                IcsMethod::Request => "REQUEST",
                IcsMethod::Cancel => "CANCEL",
            },
        ))
        .push(event.done());
    Built { method, sequence, ics: calendar.done().to_string() }
}

/// The `DESCRIPTION`: the reason when cancelled, then the chairs, the guests, the host bridge and the
/// numbered agenda, one per line (plain text: the crate escapes it).
pub fn description(d: &ConferenceDetails, cancelled: Option<&str>) -> String {
    fn people<'a>(list: impl Iterator<Item = (&'a str, &'a str)>) -> String {
        list.map(|(name, title)| if title.is_empty() { name.to_owned() } else { format!("{name} ({title})") })
            .collect::<Vec<_>>()
            .join("; ")
    }
    let mut lines = Vec::with_capacity(d.agenda.len() + 6);
    if let Some(reason) = cancelled {
        lines.push(format!("ĐÃ HỦY (cancelled): {reason}"));
        lines.push(String::new());
    }
    lines.push(format!("Chủ trì (chairs): {}", people(d.chairs.iter().map(|c| (c.name.as_str(), c.title.as_str())))));
    if !d.guests.is_empty() {
        lines.push(format!(
            "Cùng dự (guests): {}",
            people(d.guests.iter().map(|g| (g.name.as_str(), g.title.as_str())))
        ));
    }
    lines.push(format!("Điểm cầu chính (host bridge): {}", d.host_site.name));
    lines.push("Chương trình (agenda):".to_owned());
    lines.extend(d.agenda.iter().enumerate().map(|(i, item)| format!("{}. {}", i + 1, item.title)));
    lines.join("\n")
}

/// A site's invitation to a conference, as the endpoint replies.
///
/// # Errors
/// `not_found` for a conference never scheduled; `conflict` before its invitations were issued (also
/// when it was cancelled before them); `forbidden` for a site that is neither a linked bridge nor the
/// host bridge.
pub fn for_site(
    conference: &Conference,
    id: &ConferenceId,
    site: &SiteId,
    stamp: DateTime<Utc>,
) -> Result<IcsInvitation, ApiError> {
    let (Some(status), Some(details)) = (conference.status, conference.details.as_ref()) else {
        return Err(ApiError::not_found(format!("no conference {id}")));
    };
    if !conference.invited {
        let why = if status == ConferenceStatus::Cancelled {
            "it was cancelled before its invitations were issued"
        } else {
            "its invitations have not been issued"
        };
        return Err(ApiError::conflict(format!("conference {id} has no calendar invitation: {why}")));
    }
    let attendee = std::iter::once(&details.host_site)
        .chain(&details.sites)
        .find(|s| &s.id == site)
        .ok_or_else(|| ApiError::forbidden(format!("site {site} is not invited to conference {id}")))?;
    let cancelled = match status {
        ConferenceStatus::Cancelled => Some(conference.cancel_reason.as_deref().unwrap_or_default()),
        _ => None,
    };
    let built = build(&Invitation {
        conference_id: id,
        details,
        attendee,
        schedule_sequence: conference.schedule_sequence,
        cancelled,
        stamp,
    });
    Ok(IcsInvitation {
        conference_id: *id,
        site: site.clone(),
        sequence: built.sequence,
        method: built.method,
        ics: built.ics,
    })
}

/// TEXT for the crate to escape: line ends as `\n`, no other control character but tab.
fn text(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .chars()
        .map(|c| match c {
            '\r' => '\n',
            '\n' | '\t' => c,
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// A parameter value (RFC 6868): `^` as `^^`, a line break as `^n`, `"` as `^'`; other control
/// characters but tab as a space. The crate then quotes it if it holds `:`, `;` or `,`.
fn param(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '^' => out.push_str("^^"),
            '"' => out.push_str("^'"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("^n");
            }
            '\n' => out.push_str("^n"),
            '\t' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use chrono::{DateTime, TimeZone};
    use ical::parser::ical::component::{IcalCalendar, IcalEvent};
    use ical::property::Property as Parsed;

    /// Parses with the independent `ical` crate: exactly one calendar with exactly one event.
    fn parse(ics: &str) -> (IcalCalendar, IcalEvent) {
        assert!(ics.ends_with("\r\n") && !ics.replace("\r\n", "").contains(['\r', '\n']), "CRLF only");
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "line over 75 octets: {line:?}");
        }
        // Unfolded here per RFC 5545 §3.1 (drop each CRLF and the one space after it): `ical` 0.11
        // trims the trailing whitespace of every physical line before joining them, which loses a
        // space the fold happened to follow (the folding is RFC-correct; that parser is lossy there).
        let unfolded = ics.replace("\r\n ", "");
        let mut calendars = ical::IcalParser::new(std::io::BufReader::new(unfolded.as_bytes()));
        let calendar = calendars.next().expect("one calendar").expect("parses");
        assert!(calendars.next().is_none(), "only one calendar");
        assert_eq!(calendar.events.len(), 1, "one VEVENT");
        assert!(calendar.timezones.is_empty() && calendar.todos.is_empty());
        let event = calendar.events[0].clone();
        (calendar, event)
    }

    fn prop<'a>(props: &'a [Parsed], name: &str) -> &'a Parsed {
        let found: Vec<&Parsed> = props.iter().filter(|p| p.name == name).collect();
        assert_eq!(found.len(), 1, "exactly one {name}");
        found[0]
    }

    fn value(props: &[Parsed], name: &str) -> String {
        prop(props, name).value.clone().unwrap_or_default()
    }

    /// RFC 5545 §3.3.11 TEXT, as written: the parser hands values over still escaped.
    fn unescape(raw: &str) -> String {
        let mut out = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(c @ ('\\' | ',' | ';')) => out.push(c),
                other => panic!("bad escape \\{other:?} in {raw:?}"),
            }
        }
        out
    }

    /// A parameter's value: unquoted, then RFC 6868 decoded.
    fn param_value(p: &Parsed, key: &str) -> String {
        let params = p.params.as_ref().expect("params");
        let values: Vec<&Vec<String>> = params.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
        assert_eq!(values.len(), 1, "one {key}");
        let raw = values[0].join(",");
        let raw = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(&raw);
        let mut out = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '^' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('\'') => out.push('"'),
                Some('^') => out.push('^'),
                other => panic!("bad caret escape {other:?}"),
            }
        }
        out
    }

    /// The Bắc Kạn conference (from JSON, so fields other services add later keep their defaults).
    fn details() -> ConferenceDetails {
        let person = |name: &str, title: &str| serde_json::json!({"name": name, "title": title});
        let site = |id: &str, name: &str| serde_json::json!({"id": id, "name": name});
        let agenda = ["Báo cáo sơ kết", "Thảo luận", "Nhiệm vụ trọng tâm", "Phát biểu chỉ đạo", "Bế mạc"]
            .map(|t| serde_json::json!({"title": t}));
        serde_json::from_value(serde_json::json!({
            "title": "Hội nghị trực tuyến sơ kết công tác dân vận 6 tháng đầu năm 2021",
            "organizer": "Tỉnh ủy Bắc Kạn",
            "starts_at": "2021-07-23T08:00:00+07:00",
            "ends_at": "2021-07-23T11:30:00+07:00",
            "host_site": site("tinh-uy", "Tỉnh ủy Bắc Kạn"),
            "sites": [site("ba-be", "Huyện ủy Ba Bể"), site("na-ri", "Huyện ủy Na Rì")],
            "chairs": [
                person("Phương Thị Thanh", "Phó Bí thư Thường trực Tỉnh ủy"),
                person("Ma Từ Đông Điền", "Trưởng Ban Dân vận Tỉnh ủy"),
            ],
            "guests": [person("Phạm Duy Hưng", "Phó Chủ tịch UBND tỉnh")],
            "agenda": agenda,
            "approval_policy": "all",
        }))
        .unwrap()
    }

    fn stamp() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 7, 20, 2, 3, 4).unwrap()
    }

    fn conference(status: ConferenceStatus, invited: bool, sequence: u32) -> Conference {
        Conference {
            status: Some(status),
            details: Some(details()),
            cancel_reason: (status == ConferenceStatus::Cancelled).then(|| "Mưa lũ; đường bị chia cắt".to_owned()),
            invited,
            schedule_sequence: sequence,
            ..Conference::default()
        }
    }

    fn ba_be() -> SiteId {
        SiteId::parse("ba-be").unwrap()
    }

    #[test]
    fn an_invitation_is_a_request_with_vietnam_times_in_utc() {
        let id = ConferenceId::generate();
        let reply = for_site(&conference(ConferenceStatus::Invited, true, 0), &id, &ba_be(), stamp()).unwrap();
        assert_eq!((reply.method, reply.sequence, &reply.site), (IcsMethod::Request, 0, &ba_be()));
        let (calendar, event) = parse(&reply.ics);
        assert_eq!(value(&calendar.properties, "METHOD"), "REQUEST");
        assert_eq!(value(&calendar.properties, "VERSION"), "2.0");
        assert_eq!(value(&calendar.properties, "PRODID"), PRODID);
        let p = &event.properties;
        assert_eq!(value(p, "UID"), format!("{id}@hoinghi"));
        assert_eq!(value(p, "SEQUENCE"), "0");
        assert_eq!(value(p, "STATUS"), "CONFIRMED");
        // 08:00 and 11:30 at +07:00 are 01:00 and 04:30 UTC
        assert_eq!(value(p, "DTSTART"), "20210723T010000Z");
        assert_eq!(value(p, "DTEND"), "20210723T043000Z");
        assert_eq!(value(p, "DTSTAMP"), "20210720T020304Z");
        let local = |v: String| {
            let utc = chrono::NaiveDateTime::parse_from_str(&v, "%Y%m%dT%H%M%SZ").unwrap().and_utc();
            utc.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap()).to_rfc3339()
        };
        assert_eq!(local(value(p, "DTSTART")), "2021-07-23T08:00:00+07:00");
        assert_eq!(local(value(p, "DTEND")), "2021-07-23T11:30:00+07:00");
        assert_eq!(unescape(&value(p, "SUMMARY")), details().title);
        assert_eq!(unescape(&value(p, "LOCATION")), "Tỉnh ủy Bắc Kạn");
        let description = unescape(&value(p, "DESCRIPTION"));
        assert_eq!(description, super::description(&details(), None));
        assert!(description.contains("\n1. Báo cáo sơ kết\n") && description.ends_with("\n5. Bế mạc"), "{description}");
        assert!(description.contains("Phương Thị Thanh (Phó Bí thư Thường trực Tỉnh ủy)"));
        let organizer = prop(p, "ORGANIZER");
        assert_eq!(organizer.value.as_deref(), Some("mailto:tinh-uy@hoinghi.invalid"));
        assert_eq!(param_value(organizer, "CN"), "Tỉnh ủy Bắc Kạn");
        let attendee = prop(p, "ATTENDEE");
        assert_eq!(attendee.value.as_deref(), Some("mailto:ba-be@hoinghi.invalid"));
        assert_eq!(param_value(attendee, "CN"), "Huyện ủy Ba Bể");
        assert_eq!(param_value(attendee, "RSVP"), "FALSE");
    }

    #[test]
    fn the_uid_is_stable_and_the_sequence_follows_the_schedule() {
        let id = ConferenceId::generate();
        let first = for_site(&conference(ConferenceStatus::Invited, true, 0), &id, &ba_be(), stamp()).unwrap();
        // Rescheduled twice: new times, sequence 2, same UID
        let mut moved = conference(ConferenceStatus::Invited, true, 2);
        if let Some(d) = moved.details.as_mut() {
            d.starts_at = DateTime::parse_from_rfc3339("2021-07-26T14:00:00+07:00").unwrap();
            d.ends_at = DateTime::parse_from_rfc3339("2021-07-26T16:00:00+07:00").unwrap();
        }
        let second = for_site(&moved, &id, &ba_be(), stamp()).unwrap();
        assert_eq!((second.method, second.sequence), (IcsMethod::Request, 2));
        let (_, a) = parse(&first.ics);
        let (_, b) = parse(&second.ics);
        assert_eq!(value(&a.properties, "UID"), value(&b.properties, "UID"));
        assert_eq!(value(&b.properties, "SEQUENCE"), "2");
        assert_eq!(value(&b.properties, "DTSTART"), "20210726T070000Z");
        assert_eq!(value(&b.properties, "DTEND"), "20210726T090000Z");
        // Every site's copy has the same UID, its own ATTENDEE; the host bridge gets one too
        let na_ri = for_site(&moved, &id, &SiteId::parse("na-ri").unwrap(), stamp()).unwrap();
        let host = for_site(&moved, &id, &SiteId::parse("tinh-uy").unwrap(), stamp()).unwrap();
        for other in [na_ri, host] {
            let (_, e) = parse(&other.ics);
            assert_eq!(value(&e.properties, "UID"), uid(&id));
            assert_eq!(prop(&e.properties, "ATTENDEE").value, Some(mailto(&other.site)));
        }
    }

    #[test]
    fn a_cancelled_invitation_is_a_cancel_with_the_same_uid_and_the_next_sequence() {
        let id = ConferenceId::generate();
        let reply = for_site(&conference(ConferenceStatus::Cancelled, true, 1), &id, &ba_be(), stamp()).unwrap();
        assert_eq!((reply.method, reply.sequence), (IcsMethod::Cancel, 2));
        let (calendar, event) = parse(&reply.ics);
        assert_eq!(value(&calendar.properties, "METHOD"), "CANCEL");
        let p = &event.properties;
        assert_eq!(value(p, "STATUS"), "CANCELLED");
        assert_eq!(value(p, "UID"), uid(&id));
        assert_eq!(value(p, "SEQUENCE"), "2");
        assert!(unescape(&value(p, "DESCRIPTION")).starts_with("ĐÃ HỦY (cancelled): Mưa lũ; đường bị chia cắt\n"));
    }

    #[test]
    fn only_an_invited_site_of_an_invited_conference_gets_an_invitation() {
        let id = ConferenceId::generate();
        let code =
            |c: &Conference, site: &str| for_site(c, &id, &SiteId::parse(site).unwrap(), stamp()).unwrap_err().code;
        use hoinghi_shared::ErrorCode as E;
        assert_eq!(code(&Conference::default(), "ba-be"), E::NotFound);
        assert_eq!(code(&conference(ConferenceStatus::Scheduled, false, 0), "ba-be"), E::Conflict);
        assert_eq!(code(&conference(ConferenceStatus::Cancelled, false, 0), "ba-be"), E::Conflict);
        assert_eq!(code(&conference(ConferenceStatus::Invited, true, 0), "pac-nam"), E::Forbidden);
        for status in [ConferenceStatus::InSession, ConferenceStatus::Ended, ConferenceStatus::Closed] {
            let reply = for_site(&conference(status, true, 0), &id, &ba_be(), stamp()).unwrap();
            assert_eq!(reply.method, IcsMethod::Request, "{status:?}");
        }
    }

    #[test]
    fn hostile_text_round_trips_through_an_independent_parser() {
        let hostile = [
            "Hội nghị, phiên 1; \"khẩn\"\nMETHOD:CANCEL\r\nBEGIN:VEVENT\\n\\\\ ^caret^^ :colon",
            "a\\,b\\;c\\nd\\\\",
            "END:VCALENDAR\nEND:VEVENT",
            "\"quoted\"",
            "Tab\there, emoji 😀 and a very long line that must be folded somewhere in the middle of Vietnamese text: Hội nghị trực tuyến sơ kết công tác dân vận 6 tháng đầu năm",
        ];
        for (i, text) in hostile.iter().enumerate() {
            let text = text.replace("\r\n", "\n"); // the input rules refuse \r
            let mut d = details();
            d.title.clone_from(&text);
            d.organizer = format!("{text} (organizer)");
            d.host_site.name = format!("{text} (host)");
            d.sites[0].name = format!("{text} (site)");
            d.chairs[0].name = format!("{text} (chair)");
            d.agenda[1].title = format!("{text} (item)");
            let id = ConferenceId::generate();
            for cancelled in [None, Some(text.as_str())] {
                let built = build(&Invitation {
                    conference_id: &id,
                    details: &d,
                    attendee: &d.sites[0],
                    schedule_sequence: 3,
                    cancelled,
                    stamp: stamp(),
                });
                let (calendar, event) = parse(&built.ics);
                let p = &event.properties;
                let method = if cancelled.is_some() { "CANCEL" } else { "REQUEST" };
                assert_eq!(value(&calendar.properties, "METHOD"), method, "case {i}");
                assert_eq!(unescape(&value(p, "SUMMARY")), text, "case {i}");
                assert_eq!(unescape(&value(p, "LOCATION")), format!("{text} (host)"), "case {i}");
                assert_eq!(unescape(&value(p, "DESCRIPTION")), description(&d, cancelled), "case {i}");
                assert_eq!(param_value(prop(p, "ORGANIZER"), "CN"), format!("{text} (organizer)"), "case {i}");
                assert_eq!(param_value(prop(p, "ATTENDEE"), "CN"), format!("{text} (site)"), "case {i}");
                assert_eq!(value(p, "UID"), uid(&id), "case {i}");
                assert_eq!(prop(p, "ORGANIZER").value, Some(mailto(&d.host_site.id)), "case {i}");
                // Nothing the text held became a line of its own
                assert_eq!(built.ics.matches("\r\nBEGIN:VEVENT\r\n").count(), 1, "case {i}");
                assert_eq!(built.ics.matches("\r\nMETHOD:").count(), 1, "case {i}");
            }
        }
    }
}
