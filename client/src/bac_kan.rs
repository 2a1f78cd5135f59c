//! The canonical scenario (`docs/DOMAIN.md`): the online conference the Bắc Kạn Provincial Party
//! Committee (Tỉnh ủy Bắc Kạn) held on 23 July 2021 to review six months of mass-mobilisation work
//! (sơ kết công tác dân vận), with one host bridge and eight bridges for the city and seven districts;
//! and the requests built from it. The demo (`hoinghi demo`), the end-to-end tests and the examples
//! all run this one scenario.
//!
//! The bridges, title, organiser, time, co-chairs, guest, agenda, figures and tasks are those of the
//! report of the conference; the district delegates' names and the bridges' answers are invented:
//! - six sites confirm with named delegates and a headcount: the city, Ba Bể, Bạch Thông, Chợ Đồn (with a
//!   substitute), Chợ Mới, Na Rì;
//! - five of them check in; Na Rì confirmed but never checks in ([`NO_SHOW_SITE`]);
//! - Ngân Sơn declines with a reason ([`DECLINING_SITE`], [`DECLINE_REASON`]);
//! - Pác Nặm never answers ([`SILENT_SITE`]);
//! - before the session Ba Bể confirms again, naming a substitute (người dự thay) for one of its
//!   delegates ([`substitution`]).
//!
//! The constants are valid by construction (a unit test checks them), so the functions that parse
//! them do not fail.

use chrono::{DateTime, FixedOffset, NaiveDate};
use hoinghi_shared::api::{
    AgendaItem, ApprovalPolicy, Chair, ConfirmAttendance, CreateConference, Person, RecordItem, RegisterSite, Task,
};
use hoinghi_shared::{ConferenceId, PersonId, SiteId};

/// Start, Vietnam time.
pub const STARTS_AT: &str = "2021-07-23T08:00:00+07:00";
/// End, Vietnam time.
pub const ENDS_AT: &str = "2021-07-23T11:30:00+07:00";

/// The host bridge (điểm cầu chính).
pub const HOST: (&str, &str) = ("tinh-uy-bac-kan", "Tỉnh ủy Bắc Kạn");

/// The eight linked bridges, in invitation order.
pub const LINKED: [(&str, &str); 8] = [
    ("thanh-uy-bac-kan", "Thành ủy Bắc Kạn"),
    ("ba-be", "Huyện ủy Ba Bể"),
    ("bach-thong", "Huyện ủy Bạch Thông"),
    ("cho-don", "Huyện ủy Chợ Đồn"),
    ("cho-moi", "Huyện ủy Chợ Mới"),
    ("na-ri", "Huyện ủy Na Rì"),
    ("ngan-son", "Huyện ủy Ngân Sơn"),
    ("pac-nam", "Huyện ủy Pác Nặm"),
];

/// The conference title.
pub const TITLE: &str = "Hội nghị trực tuyến sơ kết công tác dân vận 6 tháng đầu năm 2021";
/// Who convenes it.
pub const ORGANIZER: &str = "Tỉnh ủy Bắc Kạn";

/// The co-chairs (đồng chủ trì).
pub const CHAIRS: [(&str, &str); 2] = [
    ("Phương Thị Thanh", "Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh"),
    ("Ma Từ Đông Điền", "Trưởng Ban Dân vận Tỉnh ủy"),
];

/// The guests (cùng dự).
pub const GUESTS: [(&str, &str); 1] = [("Phạm Duy Hưng", "Phó Chủ tịch UBND tỉnh")];

/// The persons bound to the co-chairs, in the order of [`CHAIRS`]: each approves as themself.
pub const CHAIR_PERSONS: [&str; 2] = ["phuong-thi-thanh", "ma-tu-dong-dien"];

/// The co-chair who approves the minutes first.
pub const APPROVER: &str = "Phương Thị Thanh";

/// The person bound to [`APPROVER`].
pub const APPROVER_PERSON: &str = CHAIR_PERSONS[0];

/// The person who keeps the minutes (thư ký).
pub const MINUTE_TAKER: &str = "thu-ky-tinh-uy";

/// The agenda, in order.
pub const AGENDA: [&str; 5] = [
    "Báo cáo sơ kết công tác dân vận 6 tháng đầu năm 2021",
    "Thảo luận của đại biểu các điểm cầu",
    "Nhiệm vụ trọng tâm 6 tháng cuối năm 2021",
    "Phát biểu chỉ đạo của đồng chủ trì",
    "Bế mạc",
];

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

/// Parses a site id of the scenario.
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
    LINKED.iter().map(|(id, _)| site(id)).collect()
}

/// A site's name in the scenario (host included).
pub fn site_name(id: &SiteId) -> Option<&'static str> {
    std::iter::once(&HOST).chain(LINKED.iter()).find(|(s, _)| *s == id.as_str()).map(|(_, n)| *n)
}

/// The nine registrations (host first).
pub fn registrations() -> Vec<RegisterSite> {
    std::iter::once(&HOST)
        .chain(LINKED.iter())
        .map(|(id, name)| RegisterSite { id: site(id), name: (*name).to_owned() })
        .collect()
}

/// ("Name", "Title") pairs as [`Person`]s.
pub fn people(list: &[(&str, &str)]) -> Vec<Person> {
    list.iter().map(|(name, title)| Person { name: (*name).to_owned(), title: (*title).to_owned() }).collect()
}

/// The co-chairs, each bound to their person ([`CHAIR_PERSONS`]).
pub fn chairs() -> Vec<Chair> {
    CHAIRS
        .iter()
        .zip(CHAIR_PERSONS)
        .map(|((name, title), person)| Chair {
            name: (*name).to_owned(),
            title: (*title).to_owned(),
            person_id: Some(person_id(person)),
        })
        .collect()
}

/// A person id of the scenario.
///
/// # Panics
/// If `id` is not a person id (the scenario's are).
#[allow(clippy::expect_used)]
pub fn person_id(id: &str) -> PersonId {
    PersonId::parse(id).expect("a person id of the scenario")
}

/// The guests.
pub fn guests() -> Vec<Person> {
    people(&GUESTS)
}

/// The agenda.
pub fn agenda() -> Vec<AgendaItem> {
    AGENDA.iter().map(|t| AgendaItem { title: (*t).to_owned() }).collect()
}

/// Parses an RFC 3339 time of the scenario.
///
/// # Panics
/// If `s` is not RFC 3339.
#[allow(clippy::expect_used)]
pub fn time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("an RFC 3339 time")
}

/// The `conferences.create` request of the scenario: 23 July 2021, 08:00-11:30 Vietnam time.
pub fn create_conference() -> CreateConference {
    CreateConference {
        title: TITLE.to_owned(),
        organizer: ORGANIZER.to_owned(),
        starts_at: time(STARTS_AT),
        ends_at: time(ENDS_AT),
        host_site: host(),
        sites: site_ids(),
        chairs: chairs(),
        minute_takers: vec![person_id(MINUTE_TAKER)],
        guests: guests(),
        agenda: agenda(),
        approval_policy: Some(ApprovalPolicy::All),
        reminder_offsets_s: None,
        quorum: None,
    }
}

/// What each linked site does, in invitation order.
pub fn answers() -> Vec<(SiteId, Answer)> {
    let confirm = |delegates: &[(&str, &str)], headcount: u32, checks_in: bool| Answer::Confirm {
        delegates: people(delegates),
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
        (site(NO_SHOW_SITE), confirm(&[("Dương Văn Khánh", "Trưởng Ban Dân vận Huyện ủy")], 15, false)),
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

/// The sites that check in, in invitation order.
pub fn present_sites() -> Vec<SiteId> {
    answers()
        .into_iter()
        .filter(|(_, a)| matches!(a, Answer::Confirm { checks_in: true, .. }))
        .map(|(s, _)| s)
        .collect()
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

/// Ba Bể confirms again before the session, naming a substitute (người dự thay) for its second
/// delegate: the site, and its new confirmation.
pub fn substitution(conference: ConferenceId) -> (SiteId, ConfirmAttendance) {
    let delegates = people(&[
        ("Triệu Văn Hải", "Trưởng Ban Dân vận Huyện ủy"),
        ("Hoàng Thị Yến", "Phó Chủ tịch Hội LHPN huyện, dự thay đồng chí Lý Thị Mai"),
    ]);
    (site("ba-be"), ConfirmAttendance { conference_id: conference, delegates, headcount: 25 })
}

#[allow(clippy::expect_used)]
fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, month, day).expect("a valid date in 2021")
}

fn task(owner: &str, due: NaiveDate, description: &str) -> Task {
    Task { description: description.to_owned(), owner_site: site(owner), due }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The minutes of the five agenda items, as the minute-taker records them.
pub fn records(conference: ConferenceId) -> Vec<RecordItem> {
    let end_of_year = date(12, 31);
    // Five working days after Friday 23 July 2021 (Decision 45/2018/QĐ-TTg).
    let conclusions_notice_due = date(7, 30);
    let item = |item: usize, speakers: &[&str], summary: &str, conclusions: &[&str], tasks: Vec<Task>| RecordItem {
        conference_id: conference,
        item,
        speakers: strings(speakers),
        summary: summary.to_owned(),
        conclusions: strings(conclusions),
        tasks,
    };
    vec![
        item(
            0,
            &["Ma Từ Đông Điền, Trưởng Ban Dân vận Tỉnh ủy, Tỉnh ủy Bắc Kạn"],
            "Báo cáo đánh giá kết quả công tác dân vận 6 tháng đầu năm 2021: cấp ủy, chính quyền các cấp tiếp tục \
             quan tâm lãnh đạo, chỉ đạo công tác dân vận; công tác dân vận của cơ quan nhà nước, chính quyền các cấp \
             có chuyển biến tích cực; Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội đổi mới nội dung, phương \
             thức hoạt động, hướng mạnh về cơ sở. Phong trào thi đua \"Dân vận khéo\" được triển khai sâu rộng: toàn \
             tỉnh có 2.011 mô hình \"Dân vận khéo\", trong đó 1.354 mô hình đăng ký mới và 657 mô hình duy trì. Công \
             tác dân vận góp phần quan trọng vào thành công của cuộc bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND \
             các cấp nhiệm kỳ 2021-2026 và công tác phòng, chống dịch Covid-19.",
            &[
                "Công tác dân vận 6 tháng đầu năm 2021 đạt nhiều kết quả tích cực, góp phần thực hiện thắng lợi nhiệm vụ \
                 chính trị của tỉnh.",
                "Toàn tỉnh có 2.011 mô hình \"Dân vận khéo\" (1.354 mô hình đăng ký mới, 657 mô hình duy trì).",
                "Một số nơi còn lúng túng trong nắm bắt tình hình nhân dân; chất lượng một số mô hình \"Dân vận khéo\" \
                 chưa cao.",
            ],
            vec![],
        ),
        item(
            1,
            &[
                "Hoàng Thị Lan, Trưởng Ban Dân vận Thành ủy, Thành ủy Bắc Kạn",
                "Triệu Văn Hải, Trưởng Ban Dân vận Huyện ủy, Huyện ủy Ba Bể",
                "Ma Thị Hương, Phó Trưởng Ban Dân vận Huyện ủy, Huyện ủy Chợ Đồn",
            ],
            "Đại biểu các điểm cầu trao đổi kinh nghiệm xây dựng và nhân rộng mô hình \"Dân vận khéo\" gắn với phát \
             triển kinh tế - xã hội ở cơ sở; nêu khó khăn trong vận động nhân dân ở vùng sâu, vùng xa, trong giải phóng \
             mặt bằng các công trình trọng điểm và trong tuyên truyền phòng, chống dịch Covid-19; kiến nghị tăng cường \
             tập huấn nghiệp vụ cho cán bộ làm công tác dân vận ở cơ sở.",
            &["Các ý kiến thảo luận được tiếp thu để hoàn thiện báo cáo sơ kết."],
            vec![task(
                "cho-don",
                conclusions_notice_due,
                "Tổng hợp, gửi Ban Dân vận Tỉnh ủy các kiến nghị về tập huấn nghiệp vụ cho cán bộ làm công tác dân vận ở \
                 cơ sở",
            )],
        ),
        item(
            2,
            &["Ma Từ Đông Điền, Trưởng Ban Dân vận Tỉnh ủy, Tỉnh ủy Bắc Kạn"],
            "Ban Dân vận Tỉnh ủy trình bày các nhiệm vụ trọng tâm 6 tháng cuối năm 2021; hội nghị thảo luận, thống nhất \
             giao nhiệm vụ cho các cấp ủy, đơn vị.",
            &["Thống nhất bảy nhiệm vụ trọng tâm công tác dân vận 6 tháng cuối năm 2021."],
            vec![
                task(
                    "thanh-uy-bac-kan",
                    end_of_year,
                    "Nắm chắc tình hình nhân dân, kịp thời phản ánh, tham mưu giải quyết những vấn đề bức xúc, nổi cộm ở \
                     cơ sở",
                ),
                task(
                    "ba-be",
                    end_of_year,
                    "Tuyên truyền, vận động nhân dân thực hiện chủ trương của Đảng, chính sách, pháp luật của Nhà nước",
                ),
                task("cho-moi", end_of_year, "Vận động, hỗ trợ nhân dân phát triển sản xuất, ổn định đời sống"),
                task("cho-don", date(9, 30), "Vận động nhân dân chủ động phòng, chống thiên tai và dịch bệnh Covid-19"),
                task(
                    HOST.0,
                    date(11, 30),
                    "Sơ kết, tổng kết việc thực hiện các nghị quyết, chỉ thị, kết luận về công tác dân vận",
                ),
                task(
                    HOST.0,
                    date(10, 31),
                    "Tổ chức Hội nghị biểu dương trưởng thôn, tổ trưởng tổ dân phố tiêu biểu lần thứ XI",
                ),
                task(
                    "bach-thong",
                    date(12, 15),
                    "Kiểm tra việc thực hiện Quy chế dân chủ ở cơ sở và phong trào thi đua \"Dân vận khéo\"",
                ),
            ],
        ),
        item(
            3,
            &["Phương Thị Thanh, Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh, Tỉnh ủy Bắc Kạn"],
            "Đồng chí Phương Thị Thanh ghi nhận, biểu dương kết quả công tác dân vận 6 tháng đầu năm; đề nghị cấp ủy, \
             chính quyền các cấp tiếp tục nâng cao nhận thức về vị trí, vai trò của công tác dân vận, nắm chắc tình hình \
             nhân dân, giải quyết kịp thời những vấn đề phát sinh ngay từ cơ sở, phát huy hiệu quả phong trào thi đua \
             \"Dân vận khéo\" gắn với nhiệm vụ phát triển kinh tế - xã hội và phòng, chống dịch Covid-19.",
            &[
                "Các cấp ủy, chính quyền, Mặt trận Tổ quốc và các đoàn thể triển khai đồng bộ các nhiệm vụ trọng tâm 6 \
                 tháng cuối năm 2021.",
                "Đơn vị không tham dự hội nghị phải nghiên cứu tài liệu và báo cáo việc triển khai.",
            ],
            vec![task(
                SILENT_SITE,
                conclusions_notice_due,
                "Báo cáo bằng văn bản lý do không xác nhận tham dự hội nghị và kế hoạch triển khai nội dung hội nghị",
            )],
        ),
        item(
            4,
            &["Ma Từ Đông Điền, Trưởng Ban Dân vận Tỉnh ủy, Tỉnh ủy Bắc Kạn"],
            "Đồng chí Ma Từ Đông Điền thay mặt đồng chủ trì tiếp thu ý kiến chỉ đạo, đề nghị các cấp ủy, đơn vị nghiêm \
             túc triển khai thực hiện; hội nghị bế mạc lúc 11 giờ 30 cùng ngày.",
            &["Ban Dân vận Tỉnh ủy ban hành thông báo kết luận hội nghị trong 5 ngày làm việc."],
            vec![task(HOST.0, conclusions_notice_due, "Ban hành thông báo kết luận hội nghị, gửi các điểm cầu")],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_is_consistent() {
        let conference = create_conference();
        assert_eq!(conference.sites.len(), 8);
        assert_eq!(registrations().len(), 9);
        assert_eq!(conference.agenda.len(), 5);
        assert!(conference.starts_at < conference.ends_at);
        assert!(CHAIRS.iter().any(|(name, _)| *name == APPROVER));
        let answered: Vec<SiteId> = answers().into_iter().map(|(s, _)| s).collect();
        assert_eq!(answered, site_ids(), "one answer per linked site, in order");
        assert!(confirmation(ConferenceId::generate(), &site(DECLINING_SITE)).is_none());
        assert!(confirmation(ConferenceId::generate(), &site(NO_SHOW_SITE)).is_some());
        assert!(!present_sites().contains(&site(NO_SHOW_SITE)));
        assert_eq!(present_sites().len(), 5);
        let (substituting, substitute) = substitution(ConferenceId::generate());
        assert!(present_sites().contains(&substituting));
        assert_ne!(confirmation(substitute.conference_id, &substituting), Some(substitute));
        let items = records(ConferenceId::generate());
        assert_eq!(items.len(), AGENDA.len());
        let invited: Vec<SiteId> = site_ids().into_iter().chain([host()]).collect();
        for task in items.iter().flat_map(|i| &i.tasks) {
            assert!(invited.contains(&task.owner_site), "{} is not invited", task.owner_site);
        }
        assert!(
            items[0].summary.contains("2.011")
                && items[0].summary.contains("1.354")
                && items[0].summary.contains("657")
        );
        assert_eq!(site_name(&host()), Some(HOST.1));
        assert_eq!(site_name(&site("bang-lung")), None);
    }
}
