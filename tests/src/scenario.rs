//! The canonical scenario (docs: DOMAIN.md): the Bắc Kạn online conference of 23 July 2021 on
//! mass-mobilisation work, one host bridge and eight district bridges.
//!
//! Who answers what (the delegates' names are invented):
//! - six sites confirm with named delegates and a headcount: the city, Ba Bể, Bạch Thông, Chợ Đồn (with a
//!   substitute), Chợ Mới, Na Rì;
//! - five of them check in; Na Rì confirmed but never checks in ([`NO_SHOW_SITE`]);
//! - Ngân Sơn declines with a reason ([`DECLINING_SITE`], [`DECLINE_REASON`]);
//! - Pác Nặm never answers ([`SILENT_SITE`]).

use chrono::{DateTime, FixedOffset, NaiveDate};
use hoinghi_shared::api::{AgendaItem, ConfirmAttendance, CreateConference, Person, RecordItem, RegisterSite, Task};
use hoinghi_shared::{ConferenceId, SiteId};

pub use hoinghi::bac_kan::{AGENDA, APPROVER, CHAIRS, ENDS_AT, HOST, LINKED as SITES, ORGANIZER, STARTS_AT, TITLE};

/// The guests.
pub const GUESTS: [(&str, &str); 1] = [hoinghi::bac_kan::GUEST];

/// The site that declines.
pub const DECLINING_SITE: &str = "ngan-son";
/// Its reason.
pub const DECLINE_REASON: &str = "Trùng lịch Hội nghị Ban Chấp hành Đảng bộ huyện, đã báo cáo Thường trực Tỉnh ủy";
/// The site that never answers.
pub const SILENT_SITE: &str = "pac-nam";
/// The site that confirms but never checks in.
pub const NO_SHOW_SITE: &str = "na-ri";

/// A site's part in the scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Confirms with delegates and a headcount; maybe checks in.
    Confirm {
        /// The named delegates.
        delegates: Vec<Person>,
        /// People at the bridge in all.
        headcount: u32,
        /// Whether it checks in on the day.
        checks_in: bool,
    },
    /// Declines with a reason.
    Decline {
        /// Why.
        reason: String,
    },
    /// Never answers.
    Silent,
}

/// Parses a site id known to be valid.
///
/// # Panics
/// If `id` is not a valid site id (a bug in the caller's constant).
#[allow(clippy::expect_used)]
pub fn site(id: &str) -> SiteId {
    SiteId::parse(id).expect("a valid site id")
}

/// The host site id.
pub fn host() -> SiteId {
    site(HOST.0)
}

/// The eight linked site ids, in order.
pub fn site_ids() -> Vec<SiteId> {
    SITES.iter().map(|(id, _)| site(id)).collect()
}

/// A site's name in the scenario (host included).
pub fn site_name(id: &SiteId) -> Option<&'static str> {
    std::iter::once(&HOST).chain(SITES.iter()).find(|(s, _)| *s == id.as_str()).map(|(_, n)| *n)
}

/// The nine registrations (host first).
pub fn registrations() -> Vec<RegisterSite> {
    std::iter::once(&HOST)
        .chain(SITES.iter())
        .map(|(id, name)| RegisterSite { id: site(id), name: (*name).to_owned() })
        .collect()
}

fn person(name: &str, title: &str) -> Person {
    Person { name: name.to_owned(), title: title.to_owned() }
}

/// The co-chairs.
pub fn chairs() -> Vec<Person> {
    CHAIRS.iter().map(|(n, t)| person(n, t)).collect()
}

/// The guests.
pub fn guests() -> Vec<Person> {
    GUESTS.iter().map(|(n, t)| person(n, t)).collect()
}

/// The agenda.
pub fn agenda() -> Vec<AgendaItem> {
    AGENDA.iter().map(|t| AgendaItem { title: (*t).to_owned() }).collect()
}

/// Parses an RFC 3339 time known to be valid.
///
/// # Panics
/// If `s` is not RFC 3339.
#[allow(clippy::expect_used)]
pub fn time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("an RFC 3339 time")
}

/// The `conferences.create` request of the scenario.
pub fn create_conference() -> CreateConference {
    CreateConference {
        title: TITLE.to_owned(),
        organizer: ORGANIZER.to_owned(),
        starts_at: time(STARTS_AT),
        ends_at: time(ENDS_AT),
        host_site: host(),
        sites: site_ids(),
        chairs: chairs(),
        guests: guests(),
        agenda: agenda(),
    }
}

/// What each linked site does, in invitation order.
pub fn answers() -> Vec<(SiteId, Answer)> {
    let confirm = |delegates: &[(&str, &str)], headcount: u32, checks_in: bool| Answer::Confirm {
        delegates: delegates.iter().map(|(n, t)| person(n, t)).collect(),
        headcount,
        checks_in,
    };
    vec![
        (
            site("thanh-uy-bac-kan"),
            confirm(
                &[
                    ("Hoàng Thị Lan", "Trưởng Ban Dân vận Thành ủy"),
                    ("Nông Văn Bình", "Chủ tịch Ủy ban MTTQ thành phố"),
                ],
                30,
                true,
            ),
        ),
        (
            site("ba-be"),
            confirm(
                &[("Triệu Văn Hải", "Trưởng Ban Dân vận Huyện ủy"), ("Lý Thị Mai", "Chủ tịch Hội LHPN huyện")],
                25,
                true,
            ),
        ),
        (site("bach-thong"), confirm(&[("Hà Văn Toàn", "Phó Bí thư Thường trực Huyện ủy")], 20, true)),
        (
            site("cho-don"),
            confirm(&[("Ma Thị Hương", "Phó Trưởng Ban Dân vận Huyện ủy (dự thay Trưởng ban)")], 18, true),
        ),
        (site("cho-moi"), confirm(&[("Lục Văn Sơn", "Trưởng Ban Dân vận Huyện ủy"), ("Đinh Thị Hoa", "")], 22, true)),
        (site("na-ri"), confirm(&[("Dương Văn Khánh", "Trưởng Ban Dân vận Huyện ủy")], 15, false)),
        (site(DECLINING_SITE), Answer::Decline { reason: DECLINE_REASON.to_owned() }),
        (site(SILENT_SITE), Answer::Silent),
    ]
}

/// The confirmation a confirming site sends (`None` for the others).
pub fn confirmation(conference: ConferenceId, site: &SiteId) -> Option<ConfirmAttendance> {
    answers().into_iter().find(|(s, _)| s == site).and_then(|(_, a)| match a {
        Answer::Confirm { delegates, headcount, .. } => {
            Some(ConfirmAttendance { conference_id: conference, delegates, headcount })
        }
        _ => None,
    })
}

/// Every person named as a delegate by a confirming site.
pub fn delegate_names() -> Vec<String> {
    answers()
        .into_iter()
        .flat_map(|(_, a)| match a {
            Answer::Confirm { delegates, .. } => delegates.into_iter().map(|d| d.name).collect(),
            _ => Vec::new(),
        })
        .collect()
}

#[allow(clippy::expect_used)]
fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn task(description: &str, owner: &str, due: NaiveDate) -> Task {
    Task { description: description.to_owned(), owner_site: site(owner), due }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The minutes of the five agenda items, as the minute-taker records them.
pub fn records(conference: ConferenceId) -> Vec<RecordItem> {
    let item = |index: usize, speakers: &[&str], summary: &str, conclusions: &[&str], tasks: Vec<Task>| RecordItem {
        conference_id: conference,
        item: index,
        speakers: strings(speakers),
        summary: summary.to_owned(),
        conclusions: strings(conclusions),
        tasks,
    };
    vec![
        item(
            0,
            &["Ma Từ Đông Điền, Trưởng Ban Dân vận Tỉnh ủy, Tỉnh ủy Bắc Kạn"],
            "Báo cáo sơ kết công tác dân vận 6 tháng đầu năm 2021: toàn tỉnh có 2.011 mô hình \"Dân vận khéo\", \
             trong đó 1.354 mô hình đăng ký mới và 657 mô hình duy trì.",
            &["Công tác dân vận 6 tháng đầu năm đạt nhiều kết quả tích cực"],
            Vec::new(),
        ),
        item(
            1,
            &[
                "Triệu Văn Hải, Trưởng Ban Dân vận Huyện ủy, Huyện ủy Ba Bể",
                "Hoàng Thị Lan, Trưởng Ban Dân vận Thành ủy, Thành ủy Bắc Kạn",
            ],
            "Đại biểu các điểm cầu trao đổi kinh nghiệm xây dựng mô hình \"Dân vận khéo\" và vận động nhân dân \
             phòng, chống dịch Covid-19.",
            &["Nhân rộng các mô hình \"Dân vận khéo\" hiệu quả"],
            Vec::new(),
        ),
        item(
            2,
            &["Ma Từ Đông Điền, Trưởng Ban Dân vận Tỉnh ủy, Tỉnh ủy Bắc Kạn"],
            "Nhiệm vụ trọng tâm 6 tháng cuối năm 2021.",
            &["Thống nhất bảy nhóm nhiệm vụ trọng tâm"],
            vec![
                task("Nắm chắc tình hình nhân dân, kịp thời tham mưu giải quyết vấn đề phát sinh", HOST.0, date(2021, 12, 31)),
                task("Tuyên truyền chủ trương, chính sách của Đảng, pháp luật của Nhà nước", "thanh-uy-bac-kan", date(2021, 12, 31)),
                task("Vận động nhân dân đẩy mạnh phát triển sản xuất", "ba-be", date(2021, 12, 31)),
                task("Chủ động phòng, chống thiên tai và dịch bệnh Covid-19", "cho-don", date(2021, 9, 30)),
                task("Sơ kết, tổng kết các nghị quyết, chỉ thị về công tác dân vận", "bach-thong", date(2021, 11, 30)),
                task("Tổ chức Hội nghị biểu dương trưởng thôn lần thứ XI", HOST.0, date(2021, 10, 31)),
                task(
                    "Kiểm tra việc thực hiện Quy chế dân chủ ở cơ sở và phong trào thi đua \"Dân vận khéo\"",
                    SILENT_SITE,
                    date(2021, 12, 15),
                ),
            ],
        ),
        item(
            3,
            &["Phương Thị Thanh, Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh, Tỉnh ủy Bắc Kạn"],
            "Đồng chí Phương Thị Thanh ghi nhận kết quả đạt được và yêu cầu các cấp ủy tiếp tục đổi mới công tác dân vận.",
            &["Các cấp ủy, chính quyền tăng cường công tác dân vận trong tình hình mới"],
            Vec::new(),
        ),
        item(4, &[], "Đồng chí Ma Từ Đông Điền bế mạc hội nghị.", &[], Vec::new()),
    ]
}
