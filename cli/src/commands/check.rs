//! `hoinghi check …`: the technical check (kiểm tra kỹ thuật) of a conference's bridges: the
//! secretariat opens it and reads the summary; each district point reports picture, sound and line.

use std::process::ExitCode;

use clap::Subcommand;
use hoinghi_shared::api::{
    CheckItem, CheckResult, CheckStatus, PageQuery, ReportTechnicalCheck, SiteTechnicalCheck, TechnicalCheckState,
    TechnicalCheckSummary, DEFAULT_PAGE,
};
use hoinghi_shared::{ConferenceId, SiteId};

use super::Ctx;
use crate::output;

/// Technical check commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Open the conference's technical check (secretariat; usually the day before).
    Open {
        /// The conference id.
        conference: ConferenceId,
    },
    /// Report a site's check: each item `ok`, or `failed:<what was seen>` (a re-test replaces the
    /// last report).
    Report {
        /// The conference id.
        conference: ConferenceId,
        /// The site reporting (the district point's own site).
        #[arg(long)]
        site: SiteId,
        /// Picture: `ok`, `ok:<note>` or `failed:<note>`.
        #[arg(long, value_parser = parse_result)]
        picture: CheckResult,
        /// Sound: `ok`, `ok:<note>` or `failed:<note>`.
        #[arg(long, value_parser = parse_result)]
        sound: CheckResult,
        /// Network line: `ok`, `ok:<note>` or `failed:<note>`.
        #[arg(long, value_parser = parse_result)]
        line: CheckResult,
    },
    /// How many bridges passed, failed and have not checked, with the failing items (secretariat).
    Summary {
        /// The conference id.
        conference: ConferenceId,
        /// Index of the first failing site to list.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// How many failing sites to list.
        #[arg(long, default_value_t = DEFAULT_PAGE)]
        limit: usize,
    },
}

/// Parses `ok`, `ok:<note>`, `failed` or `failed:<note>` (the service requires the note of a
/// failed item).
///
/// # Errors
/// Anything else.
pub fn parse_result(s: &str) -> Result<CheckResult, String> {
    let (word, note) = match s.split_once(':') {
        Some((word, note)) => (word.trim(), Some(note.trim().to_owned()).filter(|n| !n.is_empty())),
        None => (s.trim(), None),
    };
    match word {
        "ok" => Ok(CheckResult { ok: true, note }),
        "failed" | "fail" => Ok(CheckResult { ok: false, note }),
        _ => Err("expected ok, ok:<note> or failed:<note>".to_owned()),
    }
}

/// Runs a check command.
///
/// # Errors
/// Error replies.
pub async fn run(ctx: &Ctx, cmd: Cmd) -> anyhow::Result<ExitCode> {
    let client = ctx.client().await?;
    match cmd {
        Cmd::Open { conference } => {
            let summary = client.open_technical_check(conference).await?;
            output::emit(ctx.json, &summary, summary_text)?;
        }
        Cmd::Report { conference, site, picture, sound, line } => {
            let report = ReportTechnicalCheck { conference_id: conference, picture, sound, line };
            let check = client.report_technical_check(&site, &report).await?;
            output::emit(ctx.json, &check, site_text)?;
        }
        Cmd::Summary { conference, offset, limit } => {
            let query = PageQuery { conference_id: conference, offset, limit };
            let summary = client.technical_check_summary(&query).await?;
            output::emit(ctx.json, &summary, summary_text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `đạt`, `chưa đạt`, `chưa kiểm tra`.
pub fn status_vi(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Passed => "đạt",
        CheckStatus::Failed => "chưa đạt",
        CheckStatus::NotChecked => "chưa kiểm tra",
    }
}

/// `hình ảnh`, `âm thanh`, `đường truyền`.
pub fn item_vi(i: CheckItem) -> &'static str {
    hoinghi_shared::events::CheckItem::from(i).vi()
}

fn site_text(c: &SiteTechnicalCheck) -> String {
    let mut out =
        format!("{} ({}): kiểm tra kỹ thuật {} (lần báo {})\n", c.site_name, c.site_id, status_vi(c.status), c.reports);
    for (item, result) in [(CheckItem::Picture, &c.picture), (CheckItem::Sound, &c.sound), (CheckItem::Line, &c.line)] {
        if let Some(r) = result {
            let note = r.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default();
            out.push_str(&format!("  {}: {}{note}\n", item_vi(item), if r.ok { "tốt" } else { "lỗi" }));
        }
    }
    out
}

fn summary_text(s: &TechnicalCheckSummary) -> String {
    let state = match s.state {
        TechnicalCheckState::NotOpened => "chưa mở",
        TechnicalCheckState::Open => "đang mở",
        TechnicalCheckState::Closed => "đã đóng (phiên họp đã bắt đầu)",
    };
    let c = s.counts;
    let mut out = format!(
        "Kiểm tra kỹ thuật {}: {state}\n{} điểm cầu: {} đạt, {} chưa đạt, {} chưa kiểm tra\n",
        s.conference_id, c.sites, c.passed, c.failed, c.not_checked
    );
    if !s.failing.is_empty() {
        let rows: Vec<Vec<String>> = s
            .failing
            .iter()
            .map(|f| {
                let items = f.failed.iter().map(|i| format!("{}: {}", item_vi(i.item), i.note)).collect::<Vec<_>>();
                vec![f.site_name.clone(), items.join("; "), f.reports.to_string()]
            })
            .collect();
        out.push_str(&output::table(&["Điểm cầu", "Hạng mục lỗi", "Lần báo"], &rows));
        if s.offset + s.failing.len() < s.total_failing {
            out.push_str(&format!("… {} of {} failing sites shown\n", s.failing.len(), s.total_failing));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_ok_or_failed_with_a_note() {
        assert_eq!(parse_result("ok").unwrap(), CheckResult { ok: true, note: None });
        assert_eq!(
            parse_result("failed: mất tín hiệu ").unwrap(),
            CheckResult { ok: false, note: Some("mất tín hiệu".into()) }
        );
        assert_eq!(parse_result("failed").unwrap(), CheckResult { ok: false, note: None });
        assert!(parse_result("bad").is_err());
    }
}
