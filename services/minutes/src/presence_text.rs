//! A bridge's live presence (the connected intervals of the attendance record) as text: in the
//! minutes' attendance table (Vietnamese, Vietnam time) and in the attendance export (ISO 8601
//! intervals). Both are made of times and numbers only, never user text.

use chrono::NaiveDate;
use chrono_tz::Asia::Ho_Chi_Minh;
use hoinghi_shared::presence::{describe_seconds, PresenceRecord};

/// `trực tuyến 08:00:05–09:12:40, 09:20:00–11:30:00 (tổng 3h22m35s)`; a time on another day than
/// `day` (the conference's first day) carries its date; merged intervals are said so.
pub fn intervals_vi(p: &PresenceRecord, day: NaiveDate) -> String {
    let time = |t: chrono::DateTime<chrono::Utc>| {
        let t = t.with_timezone(&Ho_Chi_Minh);
        if t.date_naive() == day {
            t.format("%H:%M:%S").to_string()
        } else {
            t.format("%H:%M:%S %d/%m/%Y").to_string()
        }
    };
    let spans: Vec<String> =
        p.intervals.iter().map(|i| format!("{}–{}", time(i.from), i.until.map(time).unwrap_or_default())).collect();
    let merged = if p.merged > 0 { format!(", {} khoảng đầu gộp làm một", p.merged) } else { String::new() };
    format!("trực tuyến {} (tổng {}{merged})", spans.join(", "), describe_seconds(p.connected_s))
}

/// `2021-07-23T08:00:05+07:00/2021-07-23T09:12:40+07:00; …` (ISO 8601 intervals, Vietnam time).
pub fn intervals_iso(p: &PresenceRecord) -> String {
    let time = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&Ho_Chi_Minh).to_rfc3339();
    p.intervals
        .iter()
        .map(|i| format!("{}/{}", time(i.from), i.until.map(time).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hoinghi_shared::presence::Interval;

    #[test]
    fn intervals_read_in_vietnam_time() {
        let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let p = PresenceRecord {
            connected_s: 4_320 + 7_800,
            intervals: vec![
                Interval { from: at("2021-07-23T01:00:00Z"), until: Some(at("2021-07-23T02:12:00Z")) },
                Interval { from: at("2021-07-23T02:20:00Z"), until: Some(at("2021-07-23T04:30:00Z")) },
            ],
            merged: 0,
        };
        let day = NaiveDate::from_ymd_opt(2021, 7, 23).unwrap();
        assert_eq!(intervals_vi(&p, day), "trực tuyến 08:00:00–09:12:00, 09:20:00–11:30:00 (tổng 3h22m00s)");
        assert_eq!(
            intervals_iso(&p),
            "2021-07-23T08:00:00+07:00/2021-07-23T09:12:00+07:00; 2021-07-23T09:20:00+07:00/2021-07-23T11:30:00+07:00"
        );
    }
}
