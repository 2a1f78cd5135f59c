//! Working days in Vietnam, for the conclusions notice's deadline: 5 working days after the
//! conference, skipping Saturdays, Sundays and the public holidays.
//!
//! The holidays are data: the government fixes each year's days off (the Tết break, swapped days,
//! days off in lieu, Saturdays worked in exchange) by notice, so the table lists them year by year
//! (`config/holidays.toml`, compiled in), and an operator file (`[calendar] holidays_file`) replaces
//! or adds years. A year not in the table is counted with weekends and the fixed solar holidays only
//! (1 January, 30 April, 1 May, 2 September), and the result says the holidays were not known.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Deserialize;

/// The compiled-in table.
pub const DEFAULT_HOLIDAYS: &str = include_str!("../config/holidays.toml");

/// Working days between the conference and the last day its conclusions notice is due.
pub const NOTICE_WORKING_DAYS: u32 = 5;

/// The days off and the weekend days worked of one year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Year {
    /// Days off, weekend days included.
    pub days_off: BTreeSet<NaiveDate>,
    /// Saturdays or Sundays worked in exchange for a swapped day.
    pub working_days: BTreeSet<NaiveDate>,
}

/// The calendar: the years whose holidays are known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i32, Year>,
}

/// A day found by counting working days, and whether every year counted through was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// The day.
    pub date: NaiveDate,
    /// Whether the public holidays of every year from the start to `date` are in the table.
    pub holidays_known: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    years: BTreeMap<String, FileYear>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileYear {
    #[serde(default)]
    #[allow(dead_code)]
    source: String,
    days_off: Vec<String>,
    #[serde(default)]
    working_days: Vec<String>,
}

/// Whether a day is one of the fixed solar holidays (used for years not in the table).
fn fixed_solar_holiday(day: NaiveDate) -> bool {
    matches!((day.month(), day.day()), (1, 1) | (4, 30) | (5, 1) | (9, 2))
}

fn weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

impl Calendar {
    /// The compiled-in table.
    ///
    /// # Errors
    /// Never for the shipped file (a test parses it); the parse error otherwise.
    pub fn builtin() -> anyhow::Result<Self> {
        Self::parse(DEFAULT_HOLIDAYS, "the compiled-in config/holidays.toml")
    }

    /// The compiled-in table with the years of the operator's file (`path`; empty: none) replacing
    /// or adding to it.
    ///
    /// # Errors
    /// The file cannot be read or is malformed, with what and where.
    pub fn load(path: &str) -> anyhow::Result<Self> {
        let mut calendar = Self::builtin()?;
        let path = path.trim();
        if path.is_empty() {
            return Ok(calendar);
        }
        let text = std::fs::read_to_string(Path::new(path)).map_err(|e| {
            anyhow::anyhow!(
                "calendar.holidays_file {path:?} cannot be read: {e} (leave the key empty for the default table)"
            )
        })?;
        let extra = Self::parse(&text, &format!("calendar.holidays_file {path:?}"))?;
        calendar.extend(extra);
        Ok(calendar)
    }

    /// Reads a table in the form of `config/holidays.toml`; `origin` names it in errors.
    ///
    /// # Errors
    /// Not TOML, an unknown key, a year that is no number, a date that is not `YYYY-MM-DD` or not in
    /// its year, a working day that is not a Saturday or Sunday, or a day both off and worked.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Self> {
        let bad = |what: String| anyhow::anyhow!("{origin} is malformed: {what}");
        let file: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut years = BTreeMap::new();
        for (key, entry) in file.years {
            let year: i32 = key
                .parse()
                .ok()
                .filter(|y| (1900..=9999).contains(y))
                .ok_or_else(|| bad(format!("[years.{key}]: a year is a number from 1900 to 9999")))?;
            let dates = |field: &str, list: &[String]| -> anyhow::Result<BTreeSet<NaiveDate>> {
                list.iter()
                    .map(|text| {
                        let day = hoinghi_shared::api::date_only::parse(text)
                            .map_err(|e| bad(format!("[years.{key}] {field}: {e}")))?;
                        if day.year() != year {
                            return Err(bad(format!("[years.{key}] {field}: {text} is not in {year}")));
                        }
                        Ok(day)
                    })
                    .collect()
            };
            let days_off = dates("days_off", &entry.days_off)?;
            let working_days = dates("working_days", &entry.working_days)?;
            if let Some(day) = working_days.iter().find(|d| !weekend(**d)) {
                return Err(bad(format!(
                    "[years.{key}] working_days: {day} is a {}; only a Saturday or Sunday can be worked in exchange",
                    day.weekday()
                )));
            }
            if let Some(day) = working_days.intersection(&days_off).next() {
                return Err(bad(format!("[years.{key}]: {day} is both a day off and a working day")));
            }
            years.insert(year, Year { days_off, working_days });
        }
        Ok(Self { years })
    }

    /// Puts every year of `other` in place of this calendar's.
    pub fn extend(&mut self, other: Self) {
        self.years.extend(other.years);
    }

    /// The years whose holidays are known.
    pub fn known_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Whether the holidays of `year` are known.
    pub fn knows(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// Whether offices work on `day`.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.years.get(&day.year()) {
            Some(year) => year.working_days.contains(&day) || !(weekend(day) || year.days_off.contains(&day)),
            None => !(weekend(day) || fixed_solar_holiday(day)),
        }
    }

    /// The `n`-th working day after `from` (`from` itself not counted).
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Counted {
        let mut day = from;
        let mut holidays_known = self.knows(from.year());
        let mut left = n;
        while left > 0 {
            let Some(next) = day.checked_add_days(Days::new(1)) else { break };
            day = next;
            holidays_known &= self.knows(day.year());
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        Counted { date: day, holidays_known }
    }

    /// The last day a conclusions notice of a conference held on `day` is due.
    pub fn notice_deadline(&self, day: NaiveDate) -> Counted {
        self.add_working_days(day, NOTICE_WORKING_DAYS)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::day as d;

    fn calendar() -> Calendar {
        Calendar::builtin().unwrap()
    }

    #[test]
    fn the_compiled_in_table_reads_and_knows_2024_to_2026() {
        let c = calendar();
        assert_eq!(c.known_years().collect::<Vec<_>>(), [2024, 2025, 2026]);
        for (year, entry) in &c.years {
            // Each year has at least the eleven legal days off (some as weekend days of a break).
            assert!(entry.days_off.len() >= 11, "{year}: {} days off", entry.days_off.len());
        }
    }

    #[test]
    fn a_deadline_after_a_conference_before_tet_lands_after_the_break() {
        // Given a conference on Thursday 12 February 2026, with Tết from 14 to 22 February
        let c = calendar();
        assert_eq!(d("2026-02-12").weekday(), Weekday::Thu);
        for day in 14..=22 {
            assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2026, 2, day).unwrap()), "{day} February");
        }
        // When counting 5 working days: Fri 13, then Mon 23 to Thu 26 February
        let deadline = c.notice_deadline(d("2026-02-12"));
        // Then the notice is due on Thursday 26 February
        assert_eq!(deadline, Counted { date: d("2026-02-26"), holidays_known: true });
        // Across Tết 2025 (25 January - 2 February, Saturday 8 February worked)
        assert_eq!(c.notice_deadline(d("2025-01-23")).date, d("2025-02-06"));
        assert!(c.is_working_day(d("2025-02-08")), "the Saturday worked in exchange");
        assert_eq!(c.notice_deadline(d("2025-02-04")).date, d("2025-02-10"));
    }

    #[test]
    fn a_deadline_across_30_april_and_1_may() {
        let c = calendar();
        // 2025: 30 April to 4 May off, Saturday 26 April worked.
        // Thursday 24 April: Fri 25, Sat 26 (worked), Mon 28, Tue 29, Mon 5 May.
        assert_eq!(c.notice_deadline(d("2025-04-24")).date, d("2025-05-05"));
        // 2026: Hùng Kings' day on Sunday 26 April, off on Monday 27; 30 April and 1 May.
        // Friday 24 April: Tue 28, Wed 29, Mon 4, Tue 5, Wed 6 May.
        assert_eq!(c.notice_deadline(d("2026-04-24")).date, d("2026-05-06"));
        // 2024: 27 April to 1 May off, Saturday 4 May worked.
        // Friday 26 April: Thu 2, Fri 3, Sat 4, Mon 6, Tue 7 May.
        assert_eq!(c.notice_deadline(d("2024-04-26")), Counted { date: d("2024-05-07"), holidays_known: true });
    }

    #[test]
    fn a_year_not_in_the_table_counts_weekends_and_solar_holidays_only_and_says_so() {
        let c = calendar();
        // The Bắc Kạn conference, Friday 23 July 2021: Mon 26 to Fri 30 July.
        assert_eq!(c.notice_deadline(d("2021-07-23")), Counted { date: d("2021-07-30"), holidays_known: false });
        // 2030: 30 April (Tuesday) and 1 May (Wednesday) skipped, nothing lunar guessed.
        assert_eq!(c.notice_deadline(d("2030-04-26")).date, d("2030-05-07"));
        // From a known year into an unknown one.
        let crossing = c.notice_deadline(d("2026-12-30"));
        assert_eq!(crossing, Counted { date: d("2027-01-07"), holidays_known: false });
    }

    #[test]
    fn an_operator_file_replaces_and_adds_years() {
        let mut c = calendar();
        let extra = Calendar::parse(
            r#"
            [years.2027]
            source = "test"
            days_off = ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"]
            [years.2026]
            days_off = ["2026-02-16"]
            working_days = ["2026-02-21"]
            "#,
            "test",
        )
        .unwrap();
        c.extend(extra);
        assert!(c.knows(2027));
        assert!(!c.is_working_day(d("2027-02-08")));
        assert!(c.is_working_day(d("2026-02-17")), "2026 was replaced");
        assert!(c.is_working_day(d("2026-02-21")), "a Saturday worked");
    }

    #[test]
    fn a_malformed_file_is_refused_with_what_is_wrong() {
        let refused = |text: &str, hint: &str| {
            let err = Calendar::parse(text, "calendar.holidays_file \"x.toml\"").unwrap_err().to_string();
            assert!(err.contains("x.toml") && err.contains(hint), "{err}");
        };
        refused("[years.2027\n", "malformed");
        refused("[years.abc]\ndays_off = []\n", "a year is a number");
        refused("[years.2027]\ndays_off = [\"2027-1-1\"]\n", "YYYY-MM-DD");
        refused("[years.2027]\ndays_off = [\"2026-01-01\"]\n", "not in 2027");
        refused("[years.2027]\ndays_off = []\nworking_days = [\"2027-01-04\"]\n", "Saturday or Sunday");
        refused("[years.2027]\ndays_off = [\"2027-01-02\"]\nworking_days = [\"2027-01-02\"]\n", "both");
        refused("[years.2027]\ndays_of = []\n", "days_of");
        let missing = Calendar::load("/nonexistent/holidays.toml").unwrap_err().to_string();
        assert!(missing.contains("cannot be read"), "{missing}");
    }
}
