//! The canonical scenario (docs DOMAIN.md): the Bắc Kạn Provincial Party Committee's online conference
//! of 23 July 2021 reviewing six months of mass-mobilisation work, with one host bridge and eight
//! district bridges. The chairs, guest, agenda, figures and tasks are from the report; the district
//! delegates' names and the bridges' answers are invented for the demo.

use anyhow::Context as _;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use hoinghi_shared::api::{AgendaItem, CreateConference, Person, RecordItem, Task};
use hoinghi_shared::{ConferenceId, SiteId};

pub use hoinghi::bac_kan::{AGENDA, APPROVER, CHAIRS, GUEST, HOST, LINKED, ORGANIZER, TITLE};

/// A bridge's answer to the invitation.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// Attending with these delegates ("Name", "Title") and this headcount.
    Confirm(&'static [(&'static str, &'static str)], u32),
    /// Not attending, for this reason.
    Decline(&'static str),
    /// Never answers.
    Silent,
}

/// Every linked bridge's answer.
pub const ANSWERS: [(&str, Answer); 8] = [
    (
        "thanh-uy-bac-kan",
        Answer::Confirm(
            &[("Hoàng Văn Minh", "Phó Bí thư Thường trực Thành ủy"), ("Lý Thị Hạnh", "Trưởng Ban Dân vận Thành ủy")],
            18,
        ),
    ),
    (
        "ba-be",
        Answer::Confirm(
            &[("Nông Văn Tiến", "Phó Bí thư Thường trực Huyện ủy"), ("Hà Thị Lan", "Trưởng Ban Dân vận Huyện ủy")],
            22,
        ),
    ),
    (
        "bach-thong",
        Answer::Confirm(
            &[("Triệu Văn Hùng", "Phó Bí thư Thường trực Huyện ủy"), ("Lường Thị Mai", "Trưởng Ban Dân vận Huyện ủy")],
            20,
        ),
    ),
    (
        "cho-don",
        Answer::Confirm(
            &[("Ma Văn Cường", "Phó Bí thư Huyện ủy"), ("Đinh Thị Thu", "Trưởng Ban Dân vận Huyện ủy")],
            25,
        ),
    ),
    (
        "cho-moi",
        Answer::Confirm(
            &[("Lộc Văn Sơn", "Phó Bí thư Thường trực Huyện ủy"), ("Nguyễn Thị Hoa", "Trưởng Ban Dân vận Huyện ủy")],
            19,
        ),
    ),
    (
        "na-ri",
        Answer::Confirm(
            &[("Dương Văn Thắng", "Phó Bí thư Huyện ủy"), ("Bế Thị Nguyệt", "Trưởng Ban Dân vận Huyện ủy")],
            21,
        ),
    ),
    ("ngan-son", Answer::Silent),
    (
        "pac-nam",
        Answer::Decline(
            "Mưa lớn gây lũ quét, sạt lở đất chia cắt nhiều tuyến giao thông; Thường trực Huyện ủy trực tiếp chỉ đạo \
             khắc phục hậu quả thiên tai tại các xã, không bố trí được đại biểu dự hội nghị",
        ),
    ),
];

/// Chợ Đồn re-confirms before the session, naming a substitute (người dự thay) for its second delegate.
pub const SUBSTITUTION: (&str, [(&str, &str); 2], u32) = (
    "cho-don",
    [
        ("Ma Văn Cường", "Phó Bí thư Huyện ủy"),
        ("Hoàng Thị Yến", "Phó Trưởng Ban Dân vận Huyện ủy, dự thay đồng chí Đinh Thị Thu"),
    ],
    25,
);

fn person((name, title): (&str, &str)) -> Person {
    Person { name: name.to_owned(), title: title.to_owned() }
}

/// "Name, Title" pairs as [`Person`]s.
pub fn people(list: &[(&str, &str)]) -> Vec<Person> {
    list.iter().copied().map(person).collect()
}

/// A site id of the scenario.
///
/// # Errors
/// Never for the scenario's ids.
pub fn site(id: &str) -> anyhow::Result<SiteId> {
    SiteId::parse(id).with_context(|| format!("scenario site id {id:?}"))
}

fn vietnam_time(day: u32, hour: u32, minute: u32) -> anyhow::Result<DateTime<FixedOffset>> {
    let tz = FixedOffset::east_opt(7 * 3600).context("UTC+7")?;
    tz.with_ymd_and_hms(2021, 7, day, hour, minute, 0).single().context("a valid time in July 2021")
}

fn date(month: u32, day: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(2021, month, day).with_context(|| format!("2021-{month}-{day}"))
}

/// The conference as the secretariat schedules it: 23 July 2021, 08:00-11:30 Vietnam time.
///
/// # Errors
/// Never in practice.
pub fn create_conference() -> anyhow::Result<CreateConference> {
    Ok(CreateConference {
        title: TITLE.to_owned(),
        organizer: ORGANIZER.to_owned(),
        starts_at: vietnam_time(23, 8, 0)?,
        ends_at: vietnam_time(23, 11, 30)?,
        host_site: site(HOST.0)?,
        sites: LINKED.iter().map(|(id, _)| site(id)).collect::<anyhow::Result<_>>()?,
        chairs: people(&CHAIRS),
        guests: vec![person(GUEST)],
        agenda: AGENDA.iter().map(|t| AgendaItem { title: (*t).to_owned() }).collect(),
    })
}

fn task(owner: &str, due: NaiveDate, description: &str) -> anyhow::Result<Task> {
    Ok(Task { description: description.to_owned(), owner_site: site(owner)?, due })
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// What the minute-taker records for each agenda item.
///
/// # Errors
/// Never in practice.
pub fn record_items(conference_id: ConferenceId) -> anyhow::Result<Vec<RecordItem>> {
    let end_of_year = date(12, 31)?;
    // Five working days after Friday 23 July 2021 (Decision 45/2018/QĐ-TTg).
    let conclusions_notice_due = date(7, 30)?;
    let item = |item: usize, speakers: &[&str], summary: &str, conclusions: &[&str], tasks: Vec<Task>| RecordItem {
        conference_id,
        item,
        speakers: strings(speakers),
        summary: summary.to_owned(),
        conclusions: strings(conclusions),
        tasks,
    };
    Ok(vec![
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
                "Hoàng Văn Minh, Phó Bí thư Thường trực Thành ủy, Thành ủy Bắc Kạn",
                "Ma Văn Cường, Phó Bí thư Huyện ủy, Huyện ủy Chợ Đồn",
                "Bế Thị Nguyệt, Trưởng Ban Dân vận Huyện ủy, Huyện ủy Na Rì",
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
            )?],
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
                )?,
                task(
                    "ba-be",
                    end_of_year,
                    "Tuyên truyền, vận động nhân dân thực hiện chủ trương của Đảng, chính sách, pháp luật của Nhà nước",
                )?,
                task("cho-moi", end_of_year, "Vận động, hỗ trợ nhân dân phát triển sản xuất, ổn định đời sống")?,
                task("pac-nam", end_of_year, "Vận động nhân dân chủ động phòng, chống thiên tai và dịch bệnh Covid-19")?,
                task(
                    "tinh-uy-bac-kan",
                    date(11, 30)?,
                    "Sơ kết, tổng kết việc thực hiện các nghị quyết, chỉ thị, kết luận về công tác dân vận",
                )?,
                task(
                    "tinh-uy-bac-kan",
                    date(10, 31)?,
                    "Tổ chức Hội nghị biểu dương trưởng thôn, tổ trưởng tổ dân phố tiêu biểu lần thứ XI",
                )?,
                task(
                    "bach-thong",
                    date(12, 15)?,
                    "Kiểm tra việc thực hiện Quy chế dân chủ ở cơ sở và phong trào thi đua \"Dân vận khéo\"",
                )?,
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
                "ngan-son",
                conclusions_notice_due,
                "Báo cáo bằng văn bản lý do không xác nhận tham dự hội nghị và kế hoạch triển khai nội dung hội nghị",
            )?],
        ),
        item(
            4,
            &["Ma Từ Đông Điền, Trưởng Ban Dân vận Tỉnh ủy, Tỉnh ủy Bắc Kạn"],
            "Đồng chí Ma Từ Đông Điền thay mặt đồng chủ trì tiếp thu ý kiến chỉ đạo, đề nghị các cấp ủy, đơn vị nghiêm \
             túc triển khai thực hiện; hội nghị bế mạc lúc 11 giờ 30 cùng ngày.",
            &["Ban Dân vận Tỉnh ủy ban hành thông báo kết luận hội nghị trong 5 ngày làm việc."],
            vec![task(
                "tinh-uy-bac-kan",
                conclusions_notice_due,
                "Ban hành thông báo kết luận hội nghị, gửi các điểm cầu",
            )?],
        ),
    ])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_is_consistent() {
        let conference = create_conference().unwrap();
        assert_eq!(conference.sites.len(), 8);
        assert_eq!(conference.agenda.len(), 5);
        assert!(CHAIRS.iter().any(|(name, _)| *name == APPROVER));
        for (id, _) in ANSWERS {
            assert!(LINKED.iter().any(|(l, _)| *l == id), "{id} is not linked");
        }
        let items = record_items(ConferenceId::generate()).unwrap();
        assert_eq!(items.len(), AGENDA.len());
        let invited: Vec<&str> = LINKED.iter().map(|(id, _)| *id).chain([HOST.0]).collect();
        for task in items.iter().flat_map(|i| &i.tasks) {
            assert!(invited.contains(&task.owner_site.as_str()), "{} is not invited", task.owner_site);
        }
        assert!(
            items[0].summary.contains("2.011")
                && items[0].summary.contains("1.354")
                && items[0].summary.contains("657")
        );
    }
}
