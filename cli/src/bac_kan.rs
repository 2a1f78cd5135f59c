//! The Bắc Kạn conference of 23 July 2021 (the project's canonical example, `DOMAIN.md`): the facts
//! the original report gives — bridges, title, organiser, time, co-chairs, guest, agenda. The demo
//! (`hoinghi demo`) and the test harness build their scenarios on these, each with its own invented
//! answers and delegates.

/// Start, Vietnam time.
pub const STARTS_AT: &str = "2021-07-23T08:00:00+07:00";
/// End, Vietnam time.
pub const ENDS_AT: &str = "2021-07-23T11:30:00+07:00";

/// The host bridge.
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

/// The co-chairs.
pub const CHAIRS: [(&str, &str); 2] = [
    ("Phương Thị Thanh", "Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh"),
    ("Ma Từ Đông Điền", "Trưởng Ban Dân vận Tỉnh ủy"),
];

/// The guest (cùng dự).
pub const GUEST: (&str, &str) = ("Phạm Duy Hưng", "Phó Chủ tịch UBND tỉnh");

/// The co-chair who approves the minutes.
pub const APPROVER: &str = "Phương Thị Thanh";

/// The agenda, in order.
pub const AGENDA: [&str; 5] = [
    "Báo cáo sơ kết công tác dân vận 6 tháng đầu năm 2021",
    "Thảo luận của đại biểu các điểm cầu",
    "Nhiệm vụ trọng tâm 6 tháng cuối năm 2021",
    "Phát biểu chỉ đạo của đồng chủ trì",
    "Bế mạc",
];
