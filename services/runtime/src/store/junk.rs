//! Messages in the stream that are not events, and the write conditions they would otherwise freeze.
//!
//! A message in the stream that is not a well-formed event of this service (not an envelope, an
//! envelope whose type is not the last token of its subject, a payload that does not decode as its
//! type) is skipped by the projection, reported once with an `ERROR` line and counted
//! ([`super::EventStore::stats`]). The server still counts it when it checks an append's condition
//! (`Nats-Expected-Last-Subject-Sequence` is about the last message of any kind on the filter), while
//! the aggregates, which never applied it, do not: so the store remembers the highest such sequence
//! per subject ([`Rejected`]) and [`super::EventStore::execute`] raises a condition to it when it lies
//! on the aggregate's filter (see [`subject_matches`]). Junk therefore never freezes an aggregate.
//!
//! An event of a newer version, or of a type this version does not know, is skipped too, but is not
//! junk: during a rolling upgrade it is a newer instance's event, so it still holds the aggregate
//! back on this instance, which cannot know what it changed.

use super::Expect;

/// Whether `subject` matches the NATS subject `filter`: tokens are separated by `.`, `*` matches
/// exactly one token and `>` (only as the last token) one or more.
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut filter = filter.split('.');
    let mut subject = subject.split('.');
    loop {
        match (filter.next(), subject.next()) {
            (Some(">"), Some(token)) => return !token.is_empty() && filter.next().is_none(),
            (Some("*"), Some(token)) if !token.is_empty() => {}
            (Some(f), Some(token)) if f == token && !f.is_empty() && f != "*" && f != ">" => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// The messages skipped as not events: the highest such sequence on each subject (bounded by the
/// number of subjects that ever carried one).
#[derive(Debug, Default)]
pub(super) struct Rejected {
    last_by_subject: crate::collections::Map<String, u64>,
}

impl Rejected {
    /// Remembers a message skipped at `seq` on `subject`; false if it was known already.
    pub(super) fn record(&mut self, subject: &str, seq: u64) -> bool {
        match self.last_by_subject.get_mut(subject) {
            Some(last) if *last >= seq => false,
            Some(last) => {
                *last = seq;
                true
            }
            None => {
                self.last_by_subject.insert(subject.to_owned(), seq);
                true
            }
        }
    }

    /// The last sequence the server will see on `expect.filter`, for a decision taken on a state
    /// that has applied (or skipped) everything up to `seen`: the decider's own `last_seq`, raised
    /// to the highest skipped message on a matching subject that is at or below `seen`.
    ///
    /// Junk above `seen` is left out (the decision did not see it; the append then conflicts and is
    /// decided again on a fresher state). Junk at or below `seen` above `last_seq` is counted: every
    /// event on the filter up to `seen` was applied and is in `last_seq`, so the last message on
    /// the filter up to `seen` is the higher of the two.
    pub(super) fn raise(&self, expect: &Expect, seen: u64) -> u64 {
        self.last_by_subject
            .iter()
            .filter(|(_, &seq)| seq > expect.last_seq && seq <= seen)
            .filter(|(subject, _)| subject_matches(&expect.filter, subject))
            .map(|(_, &seq)| seq)
            .fold(expect.last_seq, u64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixture::expect;

    #[test]
    fn subjects_match_filters_token_by_token() {
        let c = "hoinghi.v1.events.scheduling.C";
        for (filter, subject, expected) in [
            ("hoinghi.v1.events.scheduling.C.*", format!("{c}.session_started"), true),
            ("hoinghi.v1.events.scheduling.C.*", format!("{c}.site.session_started"), false),
            ("hoinghi.v1.events.scheduling.C.*", "hoinghi.v1.events.scheduling.C".to_owned(), false),
            ("hoinghi.v1.events.scheduling.C.*", "hoinghi.v1.events.scheduling.D.session_started".to_owned(), false),
            ("hoinghi.v1.events.attendance.C.>", "hoinghi.v1.events.attendance.C.roster_closed".to_owned(), true),
            (
                "hoinghi.v1.events.attendance.C.>",
                "hoinghi.v1.events.attendance.C.ba-be.site_confirmed".to_owned(),
                true,
            ),
            ("hoinghi.v1.events.attendance.C.>", "hoinghi.v1.events.attendance.C".to_owned(), false),
            ("hoinghi.v1.events.*.C.*", format!("{c}.session_started"), true),
            ("hoinghi.v1.events.sites.ba-be.*", "hoinghi.v1.events.sites.ba-be.site_registered".to_owned(), true),
            ("a.b", "a.b".to_owned(), true),
            ("a.b", "a.b.c".to_owned(), false),
            ("a.b.c", "a.b".to_owned(), false),
            (">", "a".to_owned(), true),
            ("a.>.c", "a.b.c".to_owned(), false),
            ("a.*", "a.".to_owned(), false),
        ] {
            assert_eq!(subject_matches(filter, &subject), expected, "{filter} ~ {subject}");
        }
    }

    #[test]
    fn a_condition_is_raised_over_junk_on_its_filter_that_the_state_has_read() {
        // Given junk at 7 on a conference's subject, at 9 on another conference's, at 12 on a site's
        let mut rejected = Rejected::default();
        assert!(rejected.record("hoinghi.v1.events.scheduling.C.session_started", 7));
        assert!(rejected.record("hoinghi.v1.events.scheduling.D.session_started", 9));
        assert!(rejected.record("hoinghi.v1.events.attendance.C.ba-be.site_checked_in", 12));
        // When an aggregate of C whose last event is 5 decides on a state that has read up to 10
        // Then its condition counts the junk at 7, not D's
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.scheduling.C.*", 5), 10), 7);
        // When its last event is after the junk
        // Then the condition stays
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.scheduling.C.*", 8), 10), 8);
        // When the state had not read the junk yet (decided at 6)
        // Then the condition stays, and the append conflicts and is decided again
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.scheduling.C.*", 5), 6), 5);
        // When a site's junk lies under the conference-wide filter of the roster (`>`)
        // Then it counts for the roster and for the site, not for the conference-level subjects
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.attendance.C.>", 3), 20), 12);
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.attendance.C.ba-be.*", 0), 20), 12);
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.attendance.C.*", 3), 20), 3);
        // When junk comes again on the same subject, the highest sequence is kept, once
        assert!(!rejected.record("hoinghi.v1.events.scheduling.C.session_started", 7));
        assert!(rejected.record("hoinghi.v1.events.scheduling.C.session_started", 15));
        assert_eq!(rejected.raise(&expect("hoinghi.v1.events.scheduling.C.*", 5), 20), 15);
        assert_eq!(rejected.last_by_subject.len(), 3, "one entry per subject");
    }
}
