//! The web pages, server-rendered in Vietnamese from askama templates (`templates/`, every value
//! escaped: a name typed by a user is text, never markup) with a little plain JavaScript for the live
//! board (`static/board.js`); no front-end build.
//!
//! - `/dang-nhap`: the login form. The token typed there becomes the session cookie (`HttpOnly`,
//!   `SameSite=Strict`, never in a URL), which the pages, the API and the live stream accept like
//!   the bearer header; `/dang-xuat` clears it.
//! - `/bang/{conference}`: the board of a conference (secretariat, persons): a tile per bridge,
//!   the counts, the quorum, the floor queue, live over `/v1/attendance/board/{id}/events`;
//!   filtering, grouping and paging in the browser (20,000 tiles stay usable: only one page is in
//!   the document).
//! - `/diem-cau`: a district point's page: its invitations (from its notifications) with the
//!   `.ics`, confirm with delegates or decline with a reason, check in, acknowledge the minutes and
//!   the conclusions notice, its tasks and a report on each. Plain forms (they work without
//!   JavaScript); each action answers with the page and what the service said.
//! - `/bien-ban/{conference}`: the published minutes, the minutes service's own HTML form, read
//!   whole by pages. Each request holds a whole document (megabytes at 50,000 sites) while it is
//!   read and sent, so at most [`MINUTES_AT_ONCE`] are served at once; another is answered 503
//!   with `Retry-After` ([`MINUTES_RETRY_AFTER_S`]) and a message saying to try again shortly.
//!
//! Every action is the API's own subject called as the caller's identity ([`App::forward`]); a form
//! post must come from this origin (`Origin`, when the browser sends it) on top of the cookie's
//! `SameSite=Strict`.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, FixedOffset, TimeZone};
use hoinghi_shared::api::{
    ConferenceRef, ConferenceView, ConfirmAttendance, DeclineAttendance, DocumentForm, GetMinutes, IcsInvitation,
    MinutesView, NoticeView, Person, ReportTask, SiteAttendance, TaskList, TaskReportKind,
};
use hoinghi_shared::notifications::{NotificationKind, NotificationsPage, NotificationsQuery};
use hoinghi_shared::subjects::{attendance as att, minutes as min, scheduling as sch};
use hoinghi_shared::{ApiError, ConferenceId, Role};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::auth::{same_origin, Caller, COOKIE};
use crate::error::HttpError;
use crate::http::App;

/// The pages' routes.
pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home))
        .route("/dang-nhap", get(login_form).post(login))
        .route("/dang-xuat", post(logout))
        .route("/bang", get(board_pick))
        .route("/bang/{conference}", get(board))
        .route("/diem-cau", get(site_page))
        .route("/diem-cau/{conference}/moi-hop.ics", get(site_ics))
        .route("/diem-cau/{conference}/{action}", post(site_action))
        .route("/diem-cau/{conference}/nhiem-vu/{task}", post(task_report))
        .route("/bien-ban/{conference}", get(minutes_page))
        .route("/tai-nguyen/board.js", get(|| asset("text/javascript; charset=utf-8", BOARD_JS)))
        .route("/tai-nguyen/style.css", get(|| asset("text/css; charset=utf-8", STYLE_CSS)))
}

const BOARD_JS: &str = include_str!("../static/board.js");
const STYLE_CSS: &str = include_str!("../static/style.css");

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// The Content-Security-Policy of every page: only this origin's scripts and styles, no inline
/// script, nothing framed.
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The Content-Security-Policy of the published minutes: their inline style, nothing else.
const MINUTES_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/// A rendered page with its status and the security headers.
fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => crate::http::unexpected(format!("cannot render the page: {e}")).into_response(),
    }
}

/// A time in Vietnam time, as the pages show it: `08:00 ngày 23/07/2021`.
pub fn vn_time(t: &DateTime<FixedOffset>) -> String {
    chrono_tz::Asia::Ho_Chi_Minh.from_utc_datetime(&t.naive_utc()).format("%H:%M ngày %d/%m/%Y").to_string()
}

/// The caller of a page, or the login page.
fn caller_or_login(app: &App, headers: &HeaderMap) -> Result<Caller, Refusal> {
    let caller = app.gate.identify(headers).map_err(|e| match e.status {
        StatusCode::UNAUTHORIZED => Refusal::Login,
        _ => Refusal::Refused(e),
    })?;
    // A page costs its caller one request of its rate limit, whatever it reads behind it.
    app.gate.limit(&caller).map_err(Refusal::Refused)?;
    Ok(caller)
}

/// Why a page is not shown: no (valid) session; or refused (another origin, too many requests).
enum Refusal {
    Login,
    Refused(HttpError),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Login => Redirect::to("/dang-nhap").into_response(),
            Self::Refused(e) => e.into_response(),
        }
    }
}

/// Calls `subject` as `caller` with `body` and decodes the reply.
async fn ask<T: DeserializeOwned>(
    app: &App,
    caller: &Caller,
    subject: &str,
    body: &impl Serialize,
) -> Result<T, HttpError> {
    let bytes = serde_json::to_vec(body).map_err(crate::http::unexpected)?;
    let (status, payload) = app.forward(caller, subject, bytes.into(), &HeaderMap::new()).await?;
    if status != StatusCode::OK {
        let e: hoinghi_shared::error::ErrorBody = serde_json::from_slice(&payload).map_err(crate::http::unexpected)?;
        return Err(e.error.into());
    }
    serde_json::from_slice(&payload).map_err(crate::http::unexpected)
}

/// Vietnamese for an error, for the banner of a page.
fn error_text(e: &HttpError) -> String {
    let what = match e.code {
        "invalid" => "Dữ liệu chưa hợp lệ",
        "forbidden" => "Không có quyền",
        "not_found" => "Không tìm thấy",
        "conflict" => "Không thực hiện được ở trạng thái hiện tại",
        "too_large" => "Dữ liệu quá lớn",
        "rate_limited" => "Quá nhiều yêu cầu, xin thử lại sau",
        "unauthorized" => "Chưa đăng nhập",
        _ => "Hệ thống tạm thời không phản hồi",
    };
    format!("{what}: {}", e.message)
}

// ---------------------------------------------------------------------------------------------
// Login.

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn home(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match app.gate.identify(&headers) {
        Ok(caller) if caller.site().is_some() => Redirect::to("/diem-cau").into_response(),
        Ok(_) => Redirect::to("/bang").into_response(),
        Err(_) => Redirect::to("/dang-nhap").into_response(),
    }
}

async fn login_form() -> Response {
    page(StatusCode::OK, &LoginPage { error: None })
}

async fn login(State(app): State<Arc<App>>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    if let Err(e) = same_origin(&headers) {
        return e.into_response();
    }
    let token = form.token.trim();
    let mut probe = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
        probe.insert(header::AUTHORIZATION, value);
    }
    match app.gate.identify(&probe) {
        Ok(caller) => {
            tracing::info!(identity = %caller.identity, "page login");
            let secure = if app.settings.http.secure_cookies { "; Secure" } else { "" };
            let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(_) => page(
            StatusCode::UNAUTHORIZED,
            &LoginPage { error: Some("Mã truy cập không đúng hoặc đã bị thu hồi.".to_owned()) },
        ),
    }
}

async fn logout() -> Response {
    let mut response = Redirect::to("/dang-nhap").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("hoinghi_token=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

// ---------------------------------------------------------------------------------------------
// The board.

#[derive(Template)]
#[template(path = "board_pick.html")]
struct BoardPick {
    identity: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct PickQuery {
    #[serde(default)]
    hoi_nghi: Option<String>,
}

async fn board_pick(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<PickQuery>,
) -> Response {
    let caller = match caller_or_login(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match query.hoi_nghi.as_deref().map(str::trim) {
        Some(id) if ConferenceId::parse(id).is_ok() => Redirect::to(&format!("/bang/{id}")).into_response(),
        Some(_) => page(
            StatusCode::BAD_REQUEST,
            &BoardPick { identity: caller.identity, error: Some("Mã hội nghị không hợp lệ.".to_owned()) },
        ),
        None => page(StatusCode::OK, &BoardPick { identity: caller.identity, error: None }),
    }
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    identity: String,
    conference_id: String,
    title: String,
    when: String,
    host: String,
    status: String,
    error: Option<String>,
}

async fn board(State(app): State<Arc<App>>, headers: HeaderMap, Path(conference): Path<String>) -> Response {
    let caller = match caller_or_login(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let Ok(id) = ConferenceId::parse(&conference) else {
        return page(
            StatusCode::BAD_REQUEST,
            &BoardPick { identity: caller.identity, error: Some("Mã hội nghị không hợp lệ.".to_owned()) },
        );
    };
    let read: Result<ConferenceView, HttpError> =
        ask(&app, &caller, sch::GET, &ConferenceRef { conference_id: id }).await;
    let (status, template) = match read {
        Ok(c) => (
            StatusCode::OK,
            BoardPage {
                identity: caller.identity,
                conference_id: id.to_string(),
                status: conference_status(&c),
                when: format!("{} – {}", vn_time(&c.starts_at), vn_time(&c.ends_at)),
                host: c.host_site.name,
                title: c.title,
                error: None,
            },
        ),
        Err(e) => (
            e.status,
            BoardPage {
                identity: caller.identity,
                conference_id: id.to_string(),
                title: String::new(),
                when: String::new(),
                host: String::new(),
                status: String::new(),
                error: Some(error_text(&e)),
            },
        ),
    };
    page(status, &template)
}

fn conference_status(c: &ConferenceView) -> String {
    use hoinghi_shared::api::ConferenceStatus as S;
    match c.status {
        S::Scheduled => "Đã lên lịch",
        S::Invited => "Đã gửi giấy mời",
        S::InSession => "Đang họp",
        S::Ended => "Đã kết thúc phiên họp",
        S::Closed => "Đã đóng (biên bản đã công bố)",
        S::Cancelled => "Đã hủy",
    }
    .to_owned()
}

// ---------------------------------------------------------------------------------------------
// A district point's page.

/// One of the site's conferences, as its page shows it.
struct SiteConference {
    id: String,
    title: String,
    when: String,
    host: String,
    status: String,
    /// The latest notification about it (Vietnamese).
    latest: String,
    cancelled: bool,
    minutes_published: bool,
    notice: Option<String>,
    error: Option<String>,
    /// The site's current answer (Vietnamese), from its own line of the roster.
    answer: Option<String>,
    /// Its technical check (Vietnamese), once the secretariat opened one.
    technical_check: Option<String>,
    /// Its confirmed delegates, one `Họ tên | Chức vụ` a line, to pre-fill the confirmation.
    delegates: String,
    /// Its confirmed headcount, to pre-fill the confirmation (empty without one).
    headcount: String,
    /// Its reason for declining, to pre-fill the refusal.
    decline_reason: String,
}

/// The site's current answer, as its district page shows it.
fn answer_text(a: &SiteAttendance) -> String {
    use hoinghi_shared::api::AttendanceStatus as S;
    match a.status {
        S::Invited => "Chưa trả lời".to_owned(),
        S::Confirmed => format!("Đã xác nhận ({} đại biểu, {} người)", a.delegates.len(), a.headcount),
        S::Declined => match a.decline_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(reason) => format!("Đã từ chối: {reason}"),
            None => "Đã từ chối".to_owned(),
        },
        S::CheckedIn if a.headcount > 0 => {
            format!("Đã điểm danh (đã xác nhận {} đại biểu, {} người)", a.delegates.len(), a.headcount)
        }
        S::CheckedIn => "Đã điểm danh".to_owned(),
    }
}

/// The site's technical check, as its district page shows it.
fn technical_check_text(check: hoinghi_shared::api::CheckStatus) -> &'static str {
    use hoinghi_shared::api::CheckStatus as C;
    match check {
        C::Passed => "Đạt",
        C::Failed => "Chưa đạt",
        C::NotChecked => "Chưa kiểm tra",
    }
}

struct SiteTask {
    conference_id: String,
    task_id: String,
    conference_title: String,
    item_title: String,
    description: String,
    due: String,
    status: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    identity: String,
    site: String,
    message: Option<String>,
    error: Option<String>,
    conferences: Vec<SiteConference>,
    tasks: Vec<SiteTask>,
    tasks_error: Option<String>,
}

fn kind_text(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::Invitation => "Giấy mời",
        NotificationKind::Rescheduled => "Thay đổi thời gian",
        NotificationKind::Cancelled => "Hủy hội nghị",
        NotificationKind::Reminder => "Nhắc lịch",
        NotificationKind::MinutesPublished => "Biên bản đã công bố",
    }
}

fn task_status(status: hoinghi_shared::api::TaskStatus) -> &'static str {
    use hoinghi_shared::api::TaskStatus as T;
    match status {
        T::Open => "Chưa thực hiện",
        T::InProgress => "Đang thực hiện",
        T::ReportedDone => "Đã báo cáo hoàn thành",
        T::Accepted => "Đã được chấp nhận",
    }
}

/// The site's page, with a banner.
async fn render_site(
    app: &App,
    caller: &Caller,
    message: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let Some(site) = caller.site() else {
        return page(
            StatusCode::FORBIDDEN,
            &BoardPick {
                identity: caller.identity.clone(),
                error: Some("Trang này dành cho điểm cầu (đơn vị); tài khoản này không phải điểm cầu.".to_owned()),
            },
        );
    };
    // The site's conferences: those its notifications name, the latest news of each.
    let mut latest: BTreeMap<ConferenceId, (u64, NotificationKind, String)> = BTreeMap::new();
    let mut since = 0;
    let mut load_error = None;
    for _ in 0..20 {
        let query = NotificationsQuery { since, limit: Some(500) };
        match ask::<NotificationsPage>(app, caller, &att::site_command(&site, att::NOTIFICATIONS), &query).await {
            Ok(page) => {
                for entry in &page.notifications {
                    let n = &entry.notification;
                    latest.insert(n.conference_id, (entry.seq, n.kind, n.title.clone()));
                }
                since = page.next;
                if !page.more || page.notifications.is_empty() {
                    break;
                }
            }
            Err(e) => {
                load_error = Some(error_text(&e));
                break;
            }
        }
    }
    let mut ordered: Vec<_> = latest.into_iter().collect();
    ordered.sort_by_key(|entry| std::cmp::Reverse(entry.1 .0));
    ordered.truncate(20);
    let mut conferences = Vec::new();
    for (id, (_, kind, title)) in ordered {
        let reference = ConferenceRef { conference_id: id };
        let view: Result<ConferenceView, HttpError> =
            ask(app, caller, &sch::site_command(&site, sch::SITE_GET), &reference).await;
        let notice: Option<NoticeView> =
            ask(app, caller, &min::site_command(&site, min::NOTICE_GET), &reference).await.ok();
        let notice = notice.filter(|n| n.number.is_some()).map(|n| {
            let got = n.receipt.as_ref().is_some_and(|r| r.acknowledged_at.is_some());
            format!(
                "Thông báo kết luận số {}{}",
                n.number.unwrap_or_default(),
                if got { " (đã xác nhận đã nhận)" } else { "" }
            )
        });
        let mut line = SiteConference {
            id: id.to_string(),
            title,
            when: String::new(),
            host: String::new(),
            status: String::new(),
            latest: kind_text(kind).to_owned(),
            cancelled: kind == NotificationKind::Cancelled,
            minutes_published: kind == NotificationKind::MinutesPublished,
            notice,
            error: None,
            answer: None,
            technical_check: None,
            delegates: String::new(),
            headcount: String::new(),
            decline_reason: String::new(),
        };
        // Its own line of the roster (404 before its invitations are issued: no answer shown).
        let own: Result<SiteAttendance, HttpError> =
            ask(app, caller, &att::site_command(&site, att::STATUS), &reference).await;
        if let Ok(a) = own {
            line.answer = Some(answer_text(&a));
            line.technical_check = a.technical_check.map(|c| technical_check_text(c).to_owned());
            line.delegates = a
                .delegates
                .iter()
                .map(|p| if p.title.is_empty() { p.name.clone() } else { format!("{} | {}", p.name, p.title) })
                .collect::<Vec<_>>()
                .join("\n");
            line.headcount = if a.headcount > 0 { a.headcount.to_string() } else { String::new() };
            line.decline_reason = a.decline_reason.unwrap_or_default();
        }
        match view {
            Ok(c) => {
                line.title = c.title.clone();
                line.when = format!("{} – {}", vn_time(&c.starts_at), vn_time(&c.ends_at));
                line.host = c.host_site.name.clone();
                line.status = conference_status(&c);
                line.cancelled = c.status == hoinghi_shared::api::ConferenceStatus::Cancelled;
                line.minutes_published |= c.minutes_sha256.is_some();
            }
            Err(e) => line.error = Some(error_text(&e)),
        }
        conferences.push(line);
    }
    let list: Result<TaskList, HttpError> =
        ask(app, caller, &min::site_command(&site, min::SITE_TASKS_LIST), &serde_json::json!({})).await;
    let (tasks, tasks_error) = match list {
        Ok(list) => (
            list.tasks
                .into_iter()
                .map(|t| SiteTask {
                    conference_id: t.conference_id.to_string(),
                    task_id: t.task_id.to_string(),
                    conference_title: t.conference_title,
                    item_title: t.item_title,
                    description: t.description,
                    due: t.due.format("%d/%m/%Y").to_string(),
                    status: task_status(t.status).to_owned(),
                    overdue: t.overdue,
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(error_text(&e))),
    };
    let (status, error) = match (error, load_error) {
        (Some((status, text)), _) => (status, Some(text)),
        (None, Some(text)) => (StatusCode::OK, Some(text)),
        (None, None) => (StatusCode::OK, None),
    };
    page(
        status,
        &SitePage {
            identity: caller.identity.clone(),
            site: site.to_string(),
            message,
            error,
            conferences,
            tasks,
            tasks_error,
        },
    )
}

async fn site_page(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    match caller_or_login(&app, &headers) {
        Ok(caller) => render_site(&app, &caller, None, None).await,
        Err(r) => r.into_response(),
    }
}

/// The fields of the site's forms (each action reads its own).
#[derive(Debug, Default, Deserialize)]
struct SiteForm {
    #[serde(default)]
    delegates: String,
    #[serde(default)]
    headcount: String,
    #[serde(default)]
    reason: String,
}

/// `Họ tên | Chức vụ` per line.
fn parse_delegates(text: &str) -> Vec<Person> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once('|') {
            Some((name, title)) => Person { name: name.trim().to_owned(), title: title.trim().to_owned() },
            None => Person { name: line.to_owned(), title: String::new() },
        })
        .collect()
}

async fn site_action(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((conference, action)): Path<(String, String)>,
    Form(form): Form<SiteForm>,
) -> Response {
    let caller = match caller_or_login(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let outcome = site_action_inner(&app, &caller, &headers, &conference, &action, form).await;
    match outcome {
        Ok(message) => render_site(&app, &caller, Some(message), None).await,
        Err(e) => render_site(&app, &caller, None, Some((e.status, error_text(&e)))).await,
    }
}

async fn site_action_inner(
    app: &App,
    caller: &Caller,
    headers: &HeaderMap,
    conference: &str,
    action: &str,
    form: SiteForm,
) -> Result<String, HttpError> {
    same_origin(headers)?;
    let site = caller.site().ok_or_else(|| ApiError::forbidden("only a district point acts here"))?;
    let id = ConferenceId::parse(conference).map_err(|e| ApiError::invalid(e.to_string()))?;
    let reference = ConferenceRef { conference_id: id };
    let attendance = |a: SiteAttendance| match a.status {
        hoinghi_shared::api::AttendanceStatus::Confirmed => {
            format!("Đã xác nhận tham dự: {} đại biểu, {} người.", a.delegates.len(), a.headcount)
        }
        hoinghi_shared::api::AttendanceStatus::Declined => "Đã báo vắng.".to_owned(),
        hoinghi_shared::api::AttendanceStatus::CheckedIn => "Đã điểm danh.".to_owned(),
        hoinghi_shared::api::AttendanceStatus::Invited => "Chưa phản hồi.".to_owned(),
    };
    match action {
        "xac-nhan" => {
            let headcount =
                form.headcount.trim().parse::<u32>().map_err(|_| {
                    ApiError::invalid(format!("số người {:?} không phải là một số", form.headcount.trim()))
                })?;
            let body = ConfirmAttendance { conference_id: id, delegates: parse_delegates(&form.delegates), headcount };
            let a: SiteAttendance = ask(app, caller, &att::site_command(&site, att::CONFIRM), &body).await?;
            Ok(attendance(a))
        }
        "bao-vang" => {
            let body = DeclineAttendance { conference_id: id, reason: form.reason };
            let a: SiteAttendance = ask(app, caller, &att::site_command(&site, att::DECLINE), &body).await?;
            Ok(attendance(a))
        }
        "diem-danh" => {
            let a: SiteAttendance = ask(app, caller, &att::site_command(&site, att::CHECK_IN), &reference).await?;
            Ok(attendance(a))
        }
        "nhan-bien-ban" => {
            let _: MinutesView = ask(app, caller, &min::site_command(&site, min::ACKNOWLEDGE), &reference).await?;
            Ok("Đã xác nhận đã nhận biên bản.".to_owned())
        }
        "nhan-thong-bao" => {
            let _: NoticeView =
                ask(app, caller, &min::site_command(&site, min::NOTICE_ACKNOWLEDGE), &reference).await?;
            Ok("Đã xác nhận đã nhận thông báo kết luận.".to_owned())
        }
        _ => Err(ApiError::not_found(format!("no action {action:?}")).into()),
    }
}

#[derive(Debug, Deserialize)]
struct TaskForm {
    kind: String,
    text: String,
    #[serde(default)]
    reference: String,
}

async fn task_report(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((conference, task)): Path<(String, String)>,
    Form(form): Form<TaskForm>,
) -> Response {
    let caller = match caller_or_login(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let outcome: Result<String, HttpError> = async {
        same_origin(&headers)?;
        let site = caller.site().ok_or_else(|| ApiError::forbidden("only a district point acts here"))?;
        let id = ConferenceId::parse(&conference).map_err(|e| ApiError::invalid(e.to_string()))?;
        let task_id = task.parse().map_err(|e: hoinghi_shared::ids::IdError| ApiError::invalid(e.to_string()))?;
        let kind = match form.kind.as_str() {
            "done" => TaskReportKind::Done,
            _ => TaskReportKind::Progress,
        };
        let reference = Some(form.reference.trim().to_owned()).filter(|r| !r.is_empty());
        let body = ReportTask { conference_id: id, task_id, kind, text: form.text, reference };
        let _: hoinghi_shared::api::TaskView =
            ask(&app, &caller, &min::site_command(&site, min::SITE_TASKS_REPORT), &body).await?;
        Ok("Đã gửi báo cáo nhiệm vụ.".to_owned())
    }
    .await;
    match outcome {
        Ok(message) => render_site(&app, &caller, Some(message), None).await,
        Err(e) => render_site(&app, &caller, None, Some((e.status, error_text(&e)))).await,
    }
}

async fn site_ics(State(app): State<Arc<App>>, headers: HeaderMap, Path(conference): Path<String>) -> Response {
    let caller = match caller_or_login(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let outcome: Result<IcsInvitation, HttpError> = async {
        let site = caller.site().ok_or_else(|| ApiError::forbidden("only a district point has an invitation"))?;
        let id = ConferenceId::parse(&conference).map_err(|e| ApiError::invalid(e.to_string()))?;
        ask(&app, &caller, &sch::site_command(&site, sch::SITE_ICS), &ConferenceRef { conference_id: id }).await
    }
    .await;
    match outcome {
        Ok(ics) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"moi-hop.ics\"".to_owned()),
            ],
            ics.ics,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// The published minutes.

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    identity: String,
    title: String,
    text: String,
}

/// How many `/bien-ban/<id>` requests assemble a document at once: memory grows with this times
/// the largest document (its pages, then the whole HTML, then the response body).
pub const MINUTES_AT_ONCE: usize = 4;

/// Seconds a `/bien-ban/<id>` request refused for want of a permit is told to wait.
pub const MINUTES_RETRY_AFTER_S: u64 = 2;

/// The 503 page (with `Retry-After`) for a `/bien-ban/<id>` request while [`MINUTES_AT_ONCE`]
/// documents are being assembled already.
fn minutes_busy(identity: &str) -> Response {
    let mut response = page(
        StatusCode::SERVICE_UNAVAILABLE,
        &MessagePage {
            identity: identity.to_owned(),
            title: "Máy chủ đang bận".to_owned(),
            text: format!("Đang có nhiều người cùng mở biên bản. Vui lòng thử lại sau {MINUTES_RETRY_AFTER_S} giây."),
        },
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(MINUTES_RETRY_AFTER_S));
    response
}

async fn minutes_page(State(app): State<Arc<App>>, headers: HeaderMap, Path(conference): Path<String>) -> Response {
    let caller = match caller_or_login(&app, &headers) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    // Held until the response is built (the body is then sent from the one copy of the HTML).
    let Ok(_permit) = app.minutes_pages.try_acquire() else {
        return minutes_busy(&caller.identity);
    };
    let outcome: Result<MinutesView, HttpError> = async {
        let id = ConferenceId::parse(&conference).map_err(|e| ApiError::invalid(e.to_string()))?;
        let subject = match caller.role() {
            Some(Role::Site(site)) => min::site_command(&site, min::SITE_GET),
            _ => min::GET.to_owned(),
        };
        // The document comes by pages: read them all, and check the whole against its hash.
        let (app, caller, subject) = (&app, &caller, &subject);
        hoinghi_shared::document::read_all(|document_offset| async move {
            let query = GetMinutes {
                conference_id: id,
                offset: 0,
                // No attendance is shown here: the smallest page of it.
                limit: 1,
                version: None,
                form: Some(DocumentForm::Html),
                document_offset,
                document_limit: None,
            };
            ask(app, caller, subject, &query).await
        })
        .await
    }
    .await;
    match outcome {
        Ok(view) => match view.html {
            Some(html) => {
                let mut response = Html(html).into_response();
                // The minutes service's document carries its own <style>; no script at all.
                response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(MINUTES_CSP));
                response
            }
            None => page(
                StatusCode::CONFLICT,
                &MessagePage {
                    identity: caller.identity,
                    title: "Biên bản chưa công bố".to_owned(),
                    text: "Biên bản của hội nghị này chưa được công bố.".to_owned(),
                },
            ),
        },
        Err(e) => page(
            e.status,
            &MessagePage {
                identity: caller.identity,
                title: "Không xem được biên bản".to_owned(),
                text: error_text(&e),
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;";

    #[tokio::test]
    async fn the_published_minutes_are_assembled_a_few_at_a_time() {
        use axum::body::Body;
        use axum::http::Request;
        use tower::ServiceExt as _;

        // Given a district point's token, and as many documents being assembled as allowed
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(hoinghi_credentials::creds_path(dir.path(), "site-ba-be"), "x").unwrap();
        let (token, _) = crate::tokens::issue(dir.path(), "site-ba-be").unwrap();
        let env = [
            ("HOINGHI__DEPLOYMENT__DIR".to_owned(), dir.path().display().to_string()),
            ("HOINGHI__NATS__URL".to_owned(), "nats://127.0.0.1:1".to_owned()),
        ];
        let app = App::new(crate::config::Settings::load_from(env).unwrap()).unwrap();
        let held: Vec<_> = (0..MINUTES_AT_ONCE).map(|_| app.minutes_pages.try_acquire().unwrap()).collect();
        // When one more asks for published minutes
        let request = Request::get("/bien-ban/0190e1a2-0000-7000-8000-000000000002")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let busy = router().with_state(app.clone()).oneshot(request).await.unwrap();
        // Then it is refused with 503, Retry-After and a message saying to try again, before NATS
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[header::RETRY_AFTER], MINUTES_RETRY_AFTER_S.to_string().as_str());
        assert_eq!(busy.headers()[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(busy.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("Máy chủ đang bận") && text.contains("thử lại sau 2 giây"), "{text}");
        // And once those are done, every permit is free again
        drop(held);
        assert_eq!(app.minutes_pages.available_permits(), MINUTES_AT_ONCE);
    }

    #[test]
    fn hostile_strings_are_text_in_every_page() {
        let conference = SiteConference {
            id: "0190e1a2-0000-7000-8000-000000000001".into(),
            title: HOSTILE.into(),
            when: HOSTILE.into(),
            host: HOSTILE.into(),
            status: HOSTILE.into(),
            latest: HOSTILE.into(),
            cancelled: false,
            minutes_published: true,
            notice: Some(HOSTILE.into()),
            error: Some(HOSTILE.into()),
            answer: Some(HOSTILE.into()),
            technical_check: Some(HOSTILE.into()),
            delegates: HOSTILE.into(),
            headcount: HOSTILE.into(),
            decline_reason: HOSTILE.into(),
        };
        let task = SiteTask {
            conference_id: conference.id.clone(),
            task_id: "0-0".into(),
            conference_title: HOSTILE.into(),
            item_title: HOSTILE.into(),
            description: HOSTILE.into(),
            due: HOSTILE.into(),
            status: HOSTILE.into(),
            overdue: true,
        };
        let pages = [
            SitePage {
                identity: HOSTILE.into(),
                site: HOSTILE.into(),
                message: Some(HOSTILE.into()),
                error: Some(HOSTILE.into()),
                conferences: vec![conference],
                tasks: vec![task],
                tasks_error: Some(HOSTILE.into()),
            }
            .render()
            .unwrap(),
            BoardPage {
                identity: HOSTILE.into(),
                conference_id: HOSTILE.into(),
                title: HOSTILE.into(),
                when: HOSTILE.into(),
                host: HOSTILE.into(),
                status: HOSTILE.into(),
                error: Some(HOSTILE.into()),
            }
            .render()
            .unwrap(),
            MessagePage { identity: HOSTILE.into(), title: HOSTILE.into(), text: HOSTILE.into() }.render().unwrap(),
            LoginPage { error: Some(HOSTILE.into()) }.render().unwrap(),
            BoardPick { identity: HOSTILE.into(), error: Some(HOSTILE.into()) }.render().unwrap(),
        ];
        for html in pages {
            assert!(!html.contains("<script>alert"), "{html}");
            assert!(!html.contains("<img src=x"), "{html}");
            assert!(!html.contains("\"'>"), "an attribute could be closed: {html}");
            assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "the text is shown, escaped: {html}");
        }
    }

    #[test]
    fn every_form_control_has_a_label() {
        let page = SitePage {
            identity: "site-ba-be".into(),
            site: "ba-be".into(),
            message: None,
            error: None,
            conferences: vec![SiteConference {
                id: "0190e1a2-0000-7000-8000-000000000001".into(),
                title: "Hội nghị".into(),
                when: String::new(),
                host: String::new(),
                status: String::new(),
                latest: String::new(),
                cancelled: false,
                minutes_published: true,
                notice: Some("x".into()),
                error: None,
                answer: Some("Đã xác nhận (1 đại biểu, 3 người)".into()),
                technical_check: Some("Đạt".into()),
                delegates: "Nguyễn Văn A | Bí thư".into(),
                headcount: "3".into(),
                decline_reason: String::new(),
            }],
            tasks: vec![SiteTask {
                conference_id: "0190e1a2-0000-7000-8000-000000000001".into(),
                task_id: "0-0".into(),
                conference_title: String::new(),
                item_title: String::new(),
                description: String::new(),
                due: String::new(),
                status: String::new(),
                overdue: false,
            }],
            tasks_error: None,
        }
        .render()
        .unwrap();
        let board = BoardPage {
            identity: "secretariat".into(),
            conference_id: "c".into(),
            title: String::new(),
            when: String::new(),
            host: String::new(),
            status: String::new(),
            error: None,
        }
        .render()
        .unwrap();
        for html in [page, board, LoginPage { error: None }.render().unwrap()] {
            let mut rest = html.as_str();
            let mut controls = 0;
            while let Some(at) = rest.find("<input").or_else(|| rest.find("<textarea")).or_else(|| rest.find("<select"))
            {
                let at = [rest.find("<input"), rest.find("<textarea"), rest.find("<select")]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(at);
                let tag: String = rest[at..].chars().take_while(|c| *c != '>').collect();
                rest = &rest[at + tag.len()..];
                if tag.contains("type=\"hidden\"") {
                    continue;
                }
                controls += 1;
                let id = tag.split("id=\"").nth(1).and_then(|s| s.split('"').next());
                let id = id.unwrap_or_else(|| panic!("a control without an id: {tag}"));
                assert!(html.contains(&format!("for=\"{id}\"")), "no label for {id}: {tag}");
            }
            assert!(controls > 0);
        }
    }

    #[test]
    fn delegates_are_read_one_per_line_with_their_title() {
        let d = parse_delegates("Nguyễn Văn A | Bí thư\n\n  Trần Thị B  \n");
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].name.as_str(), d[0].title.as_str()), ("Nguyễn Văn A", "Bí thư"));
        assert_eq!((d[1].name.as_str(), d[1].title.as_str()), ("Trần Thị B", ""));
        assert_eq!(vn_time(&"2021-07-23T01:00:00Z".parse::<DateTime<FixedOffset>>().unwrap()), "08:00 ngày 23/07/2021");
    }
}
