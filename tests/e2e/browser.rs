//! The gateway's pages in a real browser (headless Chromium, `hoinghi_tests::browser`): a district
//! point logs in with the keyboard, confirms with a delegate and checks in on its page, while the
//! secretariat's board, open in another tab (another cookie jar: `127.0.0.1` and `localhost` are
//! different sites to the browser), shows each change live, without a reload. Screenshots of both
//! pages are written to `target/screenshots/` and checked: the DOM text at the moment of each shot,
//! and the pixels where the Ba Bể tile was drawn (grey when invited, light green once confirmed,
//! dark green once checked in), and the district page's green confirmation banner.

use std::path::PathBuf;
use std::time::Duration;

use chromiumoxide::Page;
use hoinghi_tests::browser::{eval, screenshot, type_text, wait_until, Chromium, Pixels};
use hoinghi_tests::flow;
use hoinghi_tests::gateway::Gateway;

use crate::common::secure_stack;

const WAIT: Duration = Duration::from_secs(20);

/// Where the screenshots go: `<repo>/target/screenshots/`.
fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}

/// Logs in on the login page with the keyboard only: the token typed into the labelled field, Enter.
async fn login(page: &Page, token: &str) {
    wait_until(page, "!!document.querySelector('label[for=token]') && !!document.getElementById('token')", WAIT)
        .await
        .unwrap();
    let field = page.find_element("#token").await.unwrap();
    field.focus().await.unwrap();
    field.type_str(token).await.unwrap();
    field.press_key("Enter").await.unwrap();
    wait_until(page, "location.pathname !== '/dang-nhap'", WAIT).await.unwrap();
}

/// The rectangle of the Ba Bể tile in page coordinates (what a full-page screenshot shows).
async fn tile_rect(page: &Page) -> (u32, u32, u32, u32) {
    let r = eval(
        page,
        "(() => { const r = document.querySelector('[data-site=\"ba-be\"]').getBoundingClientRect(); \
         return [r.left + scrollX, r.top + scrollY, r.width, r.height].map(Math.round); })()",
    )
    .await
    .unwrap();
    let v: Vec<u32> = r.as_array().unwrap().iter().map(|n| n.as_f64().unwrap().max(0.0) as u32).collect();
    // The inside of the tile, away from its rounded border and its text's edges.
    (v[0] + 3, v[1] + 3, v[2].saturating_sub(6), v[3].saturating_sub(6))
}

async fn text_of(page: &Page, selector: &str) -> String {
    let value = eval(page, &format!("(document.querySelector({selector:?}) || {{}}).innerText || ''")).await.unwrap();
    value.as_str().unwrap_or_default().to_owned()
}

/// The share of the tile drawn in `rgb`.
fn tile_share(pixels: &Pixels, rect: (u32, u32, u32, u32), rgb: [u8; 3]) -> f64 {
    pixels.share(rect, rgb, 12)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_confirms_and_checks_in_in_the_browser_and_the_board_shows_it_live() {
    let stack = secure_stack().await;
    let id = flow::invited(&stack.secretariat.api).await.unwrap();
    let logs = stack.creds_dir().parent().unwrap().to_path_buf();
    let gw = Gateway::start(&stack.url(), &stack.creds_dir(), &logs, &[]).await.unwrap();
    let port = gw.url().rsplit(':').next().unwrap().to_owned();
    let secretariat = gw.token("secretariat").unwrap();
    let ba_be = gw.token("site-ba-be").unwrap();
    let browser = Chromium::launch().await.unwrap();
    let dir = shots();

    // The secretariat opens the board of the conference.
    let board = browser.open(&format!("http://127.0.0.1:{port}/dang-nhap")).await.unwrap();
    login(&board, &secretariat).await;
    board.goto(format!("http://127.0.0.1:{port}/bang/{id}")).await.unwrap();
    wait_until(&board, "!!document.querySelector('[data-site=\"ba-be\"]')", WAIT).await.unwrap();
    wait_until(&board, "document.getElementById('ket-noi').innerText.includes('Trực tiếp')", WAIT).await.unwrap();
    eval(&board, "window.__same_page = 'yes'").await.unwrap();
    let tiles = eval(&board, "document.querySelectorAll('.tile').length").await.unwrap();
    assert_eq!(tiles.as_u64(), Some(hoinghi_tests::scenario::SITES.len() as u64), "a tile per bridge");
    assert_eq!(eval(&board, "document.querySelector('[data-site=\"ba-be\"]').dataset.answer").await.unwrap(), "none");
    let before_text = text_of(&board, "[data-site=\"ba-be\"]").await;
    let before = screenshot(&board, &dir.join("board-before.png")).await.unwrap();
    assert!(before_text.contains("Chưa phản hồi") && before_text.contains("Chưa điểm danh"), "{before_text}");
    let rect = tile_rect(&board).await;
    let grey = tile_share(&before, rect, [224, 224, 224]);
    assert!(grey > 0.4, "the invited tile is grey: {grey:.2} of {rect:?}");

    // Ba Bể's clerk, on its own page (another host name: its own cookie), confirms with a delegate.
    let site = browser.open(&format!("http://localhost:{port}/dang-nhap")).await.unwrap();
    login(&site, &ba_be).await;
    wait_until(&site, "location.pathname === '/diem-cau'", WAIT).await.unwrap();
    wait_until(&site, &format!("!!document.getElementById('hn-{id}')"), WAIT).await.unwrap();
    let page_text = text_of(&site, "main").await;
    assert!(page_text.contains("Hội nghị trực tuyến sơ kết công tác dân vận"), "{page_text}");
    assert!(page_text.contains("Tải giấy mời (.ics)"), "{page_text}");
    type_text(&site, &format!("#dai-bieu-{id}"), "Hoàng Văn A | Bí thư Huyện ủy").await.unwrap();
    type_text(&site, &format!("#so-nguoi-{id}"), "12").await.unwrap();
    site.find_element(&format!("form[action='/diem-cau/{id}/xac-nhan'] button")).await.unwrap().click().await.unwrap();
    wait_until(
        &site,
        "(document.getElementById('thong-bao') || {}).innerText?.includes('Đã xác nhận tham dự') === true",
        WAIT,
    )
    .await
    .unwrap();
    assert!(text_of(&site, "#thong-bao").await.contains("1 đại biểu, 12 người"));

    // The board shows it live (brought to the front only to be looked at and photographed).
    board.bring_to_front().await.unwrap();
    wait_until(&board, "document.querySelector('[data-site=\"ba-be\"]').dataset.answer === 'confirmed'", WAIT)
        .await
        .unwrap();
    let confirmed = screenshot(&board, &dir.join("board-confirmed.png")).await.unwrap();
    let rect = tile_rect(&board).await;
    let light_green = tile_share(&confirmed, rect, [165, 214, 167]);
    assert!(light_green > 0.4, "the confirmed tile is light green: {light_green:.2}");

    // It checks in.
    site.bring_to_front().await.unwrap();
    site.find_element(&format!("form[action='/diem-cau/{id}/diem-danh'] button")).await.unwrap().click().await.unwrap();
    wait_until(
        &site,
        "(document.getElementById('thong-bao') || {}).innerText?.includes('Đã điểm danh') === true",
        WAIT,
    )
    .await
    .unwrap();
    let site_text = text_of(&site, "#thong-bao").await;
    let site_shot = screenshot(&site, &dir.join("district-checked-in.png")).await.unwrap();
    assert!(site_text.contains("Đã điểm danh"), "{site_text}");
    let banner = eval(
        &site,
        "(() => { const r = document.getElementById('thong-bao').getBoundingClientRect(); \
         return [r.left + scrollX + 8, r.top + scrollY + 2, r.width - 16, r.height - 4].map(Math.round); })()",
    )
    .await
    .unwrap();
    let b: Vec<u32> = banner.as_array().unwrap().iter().map(|n| n.as_f64().unwrap().max(0.0) as u32).collect();
    let banner_green = site_shot.share((b[0], b[1], b[2], b[3]), [232, 245, 233], 10);
    assert!(banner_green > 0.5, "the district page shows the green confirmation banner: {banner_green:.2}");

    // And the board shows the check-in live: dark green tile, counts, same page (no reload).
    board.bring_to_front().await.unwrap();
    wait_until(&board, "document.querySelector('[data-site=\"ba-be\"]').dataset.checkedIn === 'true'", WAIT)
        .await
        .unwrap();
    let after_text = text_of(&board, "[data-site=\"ba-be\"]").await;
    let checked_in = eval(&board, "document.querySelector('[data-count=\"Đã điểm danh\"]').innerText").await.unwrap();
    let confirmed_count =
        eval(&board, "document.querySelector('[data-count=\"Đã xác nhận\"]').innerText").await.unwrap();
    let after = screenshot(&board, &dir.join("board-checked-in.png")).await.unwrap();
    assert!(after_text.contains("Đã xác nhận · 12 người") && after_text.contains("Đã điểm danh"), "{after_text}");
    assert_eq!((checked_in.as_str(), confirmed_count.as_str()), (Some("1"), Some("1")), "the counts follow");
    let rect = tile_rect(&board).await;
    let dark_green = tile_share(&after, rect, [46, 125, 50]);
    assert!(dark_green > 0.4, "the checked-in tile is dark green: {dark_green:.2}");
    assert!(tile_share(&after, rect, [224, 224, 224]) < 0.05, "no longer grey");
    assert_eq!(eval(&board, "window.__same_page").await.unwrap(), "yes", "updated live, not reloaded");
    // The other bridges did not change colour.
    assert_eq!(eval(&board, "document.querySelectorAll('.tile[data-checked-in=\"true\"]').length").await.unwrap(), 1);

    // The page's filter keeps working with the keyboard: only the checked-in bridge.
    let filter = board.find_element("#loc").await.unwrap();
    filter.focus().await.unwrap();
    eval(&board, "(() => { const s = document.getElementById('loc'); s.value = 'checked_in'; s.dispatchEvent(new Event('change')); })()")
        .await
        .unwrap();
    wait_until(&board, "document.querySelectorAll('.tile').length === 1", WAIT).await.unwrap();
    assert!(stack
        .secretariat
        .api
        .roster(id)
        .await
        .unwrap()
        .sites
        .iter()
        .any(|l| l.site_id.as_str() == "ba-be" && l.checked_in_at.is_some()));
    browser.close().await;
}

/// Milliseconds since the page's time origin.
async fn now_ms(page: &Page) -> f64 {
    eval(page, "performance.now()").await.unwrap().as_f64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_stays_usable_with_20000_bridges() {
    let n: usize = std::env::var("HOINGHI_BOARD_SITES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let stack = secure_stack().await;
    let api = &stack.secretariat.api;
    let sites = hoinghi_tests::bulk::site_ids("b", n);
    let started = std::time::Instant::now();
    hoinghi_tests::bulk::register_sites(api, &sites, 64).await.unwrap();
    let id = api.create(&hoinghi_tests::bulk::conference("Hội nghị toàn quốc", &sites)).await.unwrap().id;
    flow::invite(api, id).await.unwrap();
    eprintln!("{n} bridges registered, scheduled and invited in {:.1} s", started.elapsed().as_secs_f64());
    let logs = stack.creds_dir().parent().unwrap().to_path_buf();
    let gw = Gateway::start(&stack.url(), &stack.creds_dir(), &logs, &[]).await.unwrap();
    let browser = Chromium::launch().await.unwrap();
    let board = browser.open(&format!("{}/dang-nhap", gw.url())).await.unwrap();
    login(&board, &gw.token("secretariat").unwrap()).await;

    // The whole board arrives, one page of tiles is drawn.
    let opened = now_ms(&board).await;
    board.goto(format!("{}/bang/{id}", gw.url())).await.unwrap();
    let label = format!("document.getElementById('so-trang').innerText.includes('{n} điểm cầu')");
    wait_until(&board, &label, Duration::from_secs(120)).await.unwrap();
    let loaded = now_ms(&board).await;
    let tiles = eval(&board, "document.querySelectorAll('.tile').length").await.unwrap().as_u64().unwrap();
    assert_eq!(tiles, 200.min(n as u64), "one page of tiles in the document, not {n}");
    let pages = n.div_ceil(200);
    assert!(text_of(&board, "#so-trang").await.starts_with(&format!("Trang 1 / {pages}")));

    // Filtering 20,000 bridges by name answers at once.
    let target = sites[n * 3 / 4].to_string();
    let before = now_ms(&board).await;
    type_text(&board, "#tim", &target).await.unwrap();
    wait_until(&board, "document.querySelectorAll('.tile').length === 1", WAIT).await.unwrap();
    let filtered = now_ms(&board).await - before;
    assert_eq!(eval(&board, "document.querySelector('.tile').dataset.site").await.unwrap(), target.as_str());

    // A live change of that bridge shows on the filtered board.
    let token = {
        stack.add_site(&target).unwrap();
        gw.token(&format!("site-{target}")).unwrap()
    };
    let check_in = format!("{}/v1/attendance/sites/{target}/check_in", gw.url());
    let sent = now_ms(&board).await;
    let r = hoinghi_tests::gateway::post(&check_in, Some(&token), format!("{{\"conference_id\":\"{id}\"}}"), &[])
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    wait_until(&board, "document.querySelector('.tile').dataset.checkedIn === 'true'", WAIT).await.unwrap();
    let live = now_ms(&board).await - sent;

    // Grouping by answer and paging to the last page.
    eval(&board, "(() => { const t = document.getElementById('tim'); t.value = ''; t.dispatchEvent(new Event('input')); \
                  const g = document.getElementById('nhom'); g.value = 'answer'; g.dispatchEvent(new Event('change')); })()")
        .await
        .unwrap();
    let before = now_ms(&board).await;
    wait_until(
        &board,
        "document.querySelectorAll('.tile').length === 200 && !!document.querySelector('h3.group')",
        WAIT,
    )
    .await
    .unwrap();
    let grouped = now_ms(&board).await - before;
    let groups = eval(&board, "[...document.querySelectorAll('h3.group')].map(h => h.innerText)").await.unwrap();
    assert_eq!(groups, serde_json::json!(["Chưa phản hồi"]), "the first page holds the largest group only");
    screenshot(&board, &shots().join(format!("board-{n}.png"))).await.unwrap();
    eprintln!(
        "board of {n} bridges: loaded and drawn in {:.0} ms, filtered in {filtered:.0} ms, a live check-in shown \
         {live:.0} ms after it was sent, grouped in {grouped:.0} ms",
        loaded - opened
    );
    assert!(loaded - opened < 60_000.0 && filtered < 2_000.0 && live < 5_000.0 && grouped < 2_000.0);
    browser.close().await;
}
