//! Published minutes larger than one event may carry inline (issue 15): the document is stored out
//! of line in the records bucket before `minutes_published`, which carries the reference and the
//! hash of the whole; every reply carries it by pages, each with the whole document's length and
//! hash; read page by page (by the typed client, a site, the CLI) it is exactly the document the
//! event's hash names, in both forms; bad pages are refused and change nothing; a restarted
//! minutes service, whose state holds only the reference, reads it back and serves it again (and
//! refuses it once altered in the bucket, saying retrying will not help); the attendance export of
//! its 6,000 sites comes by pages of rows, and the CLI writes the whole file; and the gateway's
//! minutes page shows the whole document, read page by page.

use std::process::Command;
use std::time::Instant;

use hoinghi_shared::api::{
    DocumentForm, ExportAttendance, ExportFormat, GetMinutes, MinutesStatus, MinutesView, PageQuery, RecordItem,
    MAX_PAGE,
};
use hoinghi_shared::document::{Assembler, DEFAULT_DOCUMENT_PAGE};
use hoinghi_shared::events::{EventEnvelope, MinutesEvent};
use hoinghi_shared::streams::RECORDS_BUCKET;
use hoinghi_shared::subjects::minutes as subjects;
use hoinghi_shared::{ConferenceId, ErrorCode, SiteId};
use hoinghi_tests::{bulk, flow, scenario, Api, Service, Stack};
use tokio::io::AsyncReadExt as _;

use crate::common::{assert_refused_raw, conference_event, sha256_hex, stack};

/// Linked sites: with the recorded items below, a document over the inline limit and over the
/// default page (so the publish reply and the typed client's first read carry part of it).
const SITES: usize = 6_000;

/// Bytes per page when the test reads page by page: many pages, boundaries inside characters.
const PAGE: usize = 150_000;

/// A long Vietnamese site name (2- and 3-byte characters).
fn site_name(i: usize) -> String {
    format!("Ủy ban nhân dân xã Điểm cầu số {i} huyện Ba Bể tỉnh Bắc Kạn")
}

/// Vietnamese text without punctuation (each punctuation character counts 6 of the minutes budget),
/// `chars` characters long.
fn vietnamese(chars: usize) -> String {
    "Tiếp tục nhân rộng mô hình dân vận khéo ở các điểm cầu xã phường thị trấn ".chars().cycle().take(chars).collect()
}

/// A connection acting as `site` (the server of these tests does not authenticate).
fn as_site(api: &Api, site: &SiteId) -> Api {
    Api::from_client_as(api.nats().clone(), &format!("site-{site}"))
}

/// Reads the document page by page with pages of `limit` bytes, each from where the last ended;
/// returns it and the number of pages, checking that every page carries the whole's length and
/// hashes.
async fn read_by_pages(api: &Api, id: ConferenceId, form: DocumentForm, limit: usize) -> (String, usize) {
    let mut assembler = Assembler::new();
    let mut pages = 0;
    let mut total = None;
    while !assembler.is_complete() {
        let mut query = GetMinutes::from(PageQuery { conference_id: id, offset: 0, limit: 1 });
        query.form = Some(form).filter(|f| *f == DocumentForm::Html);
        query.document_offset = assembler.next_offset();
        query.document_limit = Some(limit);
        let view = api.minutes_query(&query).await.unwrap();
        let page = view.document_page().expect("every reply of published minutes carries a page");
        assert!(page.text.len() <= limit, "a page holds at most the limit asked for");
        assert!(view.sha256.is_some() && view.html_sha256.is_some(), "every page carries both hashes");
        assert_eq!(*total.get_or_insert(page.total_bytes), page.total_bytes, "the length is the same in every page");
        assembler.push(page).unwrap();
        pages += 1;
    }
    (assembler.finish().unwrap(), pages)
}

/// Runs the CLI against the stack's server.
fn cli(stack: &Stack, args: &[&str]) -> std::process::Output {
    let path = hoinghi_tests::service::bin_dir().unwrap().join("hoinghi");
    assert!(path.is_file(), "{} missing: run cargo build --workspace --bins", path.display());
    Command::new(path).arg("--nats-url").arg(stack.server.url()).args(args).output().unwrap()
}

/// Who plays the conference: the secretariat, the minute-taker, the chairs (each a connection
/// acting as that person), and whether the sites can answer (on a server that authenticates, only a
/// site's own credentials can).
struct Players<'a> {
    secretariat: &'a Api,
    minute_taker: &'a Api,
    chairs: &'a [Api],
    sites_answer: bool,
}

/// Runs a conference of [`SITES`] sites with long Vietnamese names (every third confirming a
/// delegate, when the sites can answer) to published minutes, the item recorded at length (about
/// 200 KB of Vietnamese); returns its id, its sites and the publish reply.
async fn publish_large_minutes(players: Players<'_>) -> (ConferenceId, Vec<SiteId>, MinutesView) {
    let api = players.secretariat;
    let sites: Vec<SiteId> = bulk::site_ids("xa", SITES);
    bulk::register_named_sites(api, &sites, |i, _| site_name(i), 32).await.unwrap();
    let id = api.create(&bulk::conference("Hội nghị trực tuyến toàn tỉnh", &sites)).await.unwrap().id;
    flow::invite(api, id).await.unwrap();
    let answering = if players.sites_answer { &sites[..] } else { &[] };
    bulk::confirm_sites(api, id, answering.iter().step_by(3).map(|site| (site, vec![bulk::delegate(site)])), 32)
        .await
        .unwrap();
    api.start(id).await.unwrap();
    api.end(id).await.unwrap();
    flow::wait_draft(api, id).await.unwrap();
    let record = RecordItem {
        conference_id: id,
        item: 0,
        speakers: vec!["Phương Thị Thanh".into()],
        summary: vietnamese(20_000),
        conclusions: (0..6).map(|_| vietnamese(20_000)).collect(),
        tasks: vec![],
    };
    players.minute_taker.record(&record).await.unwrap();
    players.minute_taker.submit(id).await.unwrap();
    for chair in players.chairs {
        chair.approve(id).await.unwrap();
    }
    let published = players.minute_taker.publish(id).await.unwrap();
    assert_eq!(published.status, MinutesStatus::Published);
    (id, sites, published)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_larger_than_an_event_are_stored_out_of_line_and_read_whole_by_pages() {
    let started = Instant::now();
    let mut stack = stack().await;
    let api = stack.api.clone();
    let api = &api;
    let stranger = scenario::site("xa-khong-moi");
    api.register_site(&stranger, "Xã không được mời").await.unwrap();

    // A conference of 6,000 sites with long Vietnamese names, every third confirming a delegate;
    // the minute-taker records the item at length, submits; the chairs approve; the minute-taker
    // publishes.
    let chairs: Vec<Api> = scenario::CHAIR_PERSONS.iter().map(|p| flow::as_person(api, p)).collect();
    let players =
        Players { secretariat: api, minute_taker: &flow::minute_taker(api), chairs: &chairs, sites_answer: true };
    let (id, sites, published) = publish_large_minutes(players).await;
    let sha256 = published.sha256.clone().unwrap();
    let total = published.document_total_bytes.unwrap();
    assert!(total > DEFAULT_DOCUMENT_PAGE, "the document ({total} bytes) is over the default page");
    assert_eq!(published.document_offset, Some(0), "the publish reply carries the first page");

    // The event carries the reference, no text, and the hash of the whole.
    let js = stack.jetstream();
    let subject = conference_event(Service::Minutes, id, MinutesEvent::MINUTES_PUBLISHED);
    let stream = js.get_stream(Service::Minutes.stream().name).await.unwrap();
    let message = stream.get_last_raw_message_by_subject(&subject).await.unwrap();
    let event: MinutesEvent = EventEnvelope::from_slice(&message.payload).unwrap().decode().unwrap();
    let MinutesEvent::MinutesPublished { markdown, sha256: event_sha256, document, html_sha256, .. } = event else {
        panic!("not a publication: {event:?}")
    };
    let document = document.expect("a document over the inline limit is referenced, not carried");
    assert_eq!((markdown.as_str(), event_sha256.as_str()), ("", sha256.as_str()));
    assert_eq!((document.sha256.as_str(), document.size), (sha256.as_str(), total as u64));
    assert!(document.object.starts_with(&format!("minutes-document/{id}/")), "{}", document.object);
    assert!(message.payload.len() < 4096, "the event is small: {} bytes", message.payload.len());

    // The whole document, read by the typed client (default pages), is the one the event names;
    // so is the object in the bucket.
    let whole = api.minutes_document(id, DocumentForm::Markdown).await.unwrap();
    let text = whole.markdown.clone().unwrap();
    assert_eq!((text.len(), sha256_hex(&text)), (total, sha256.clone()));
    assert!(text.contains(&site_name(SITES - 1)) && text.contains(&vietnamese(200)), "the whole document");
    // The publish reply carried its first page: the default page's bytes, cut between characters.
    let first = published.markdown.as_deref().unwrap();
    assert!(first.len() <= DEFAULT_DOCUMENT_PAGE && first.len() + 4 > DEFAULT_DOCUMENT_PAGE, "{}", first.len());
    assert!(text.starts_with(first));
    let mut object = js.get_object_store(RECORDS_BUCKET).await.unwrap().get(&document.object).await.unwrap();
    let mut stored = Vec::new();
    object.read_to_end(&mut stored).await.unwrap();
    assert!(stored == text.as_bytes(), "the bucket holds exactly the document");

    // Page by page with 150 KB pages: every page carries the length and both hashes, and together
    // they are the document.
    let (by_pages, pages) = read_by_pages(api, id, DocumentForm::Markdown, PAGE).await;
    assert_eq!(by_pages, text);
    assert!(pages >= total / PAGE, "{pages} pages of at most {PAGE} bytes for {total}");

    // An offset inside a Vietnamese character starts the page at that character.
    let inside = (1..text.len()).find(|&i| !text.is_char_boundary(i)).unwrap();
    let mut query = GetMinutes::from(PageQuery::first(id));
    (query.document_offset, query.document_limit) = (inside, Some(8));
    let page = api.minutes_query(&query).await.unwrap();
    let start = page.document_offset.unwrap();
    assert!(start < inside && inside - start < 4, "{start} for {inside}");
    assert!(text[start..].starts_with(page.markdown.as_deref().unwrap()));

    // The HTML form by pages is the document whose hash the event recorded.
    let (html, html_pages) = read_by_pages(api, id, DocumentForm::Html, PAGE).await;
    assert_eq!(Some(sha256_hex(&html)), html_sha256);
    assert!(html_pages > 1 && html.contains(&site_name(SITES - 1)));
    assert_eq!(api.minutes_html(id).await.unwrap().html.as_deref(), Some(html.as_str()));

    // A site of the conference reads the same document on its own subject; a site not invited
    // gets the same 404 as for minutes that do not exist.
    let site = as_site(api, &sites[7]);
    assert_eq!(site.minutes_document(id, DocumentForm::Markdown).await.unwrap().markdown.as_deref(), Some(&*text));
    let err = as_site(api, &stranger).minutes_document(id, DocumentForm::Markdown).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);

    // Bad pages: a clear 400 naming the field, and nothing written.
    let before = stack.event_totals().await.unwrap();
    let get = |body: String| api.raw(subjects::GET, body.into_bytes(), None);
    for (what, field, hints) in [
        ("a negative offset", r#""document_offset": -1"#, &["document_offset", "invalid value"][..]),
        ("an offset as text", r#""document_offset": "12""#, &["document_offset", "invalid type"]),
        ("a fractional offset", r#""document_offset": 1.5"#, &["document_offset"]),
        ("an offset past u64", r#""document_offset": 18446744073709551616"#, &["document_offset"]),
        ("a limit as text", r#""document_limit": "all""#, &["document_limit", "invalid type"]),
        ("a limit of 0", r#""document_limit": 0"#, &["document_limit must be 1 or more"]),
        ("an unknown field", r#""page": 2"#, &["unknown field", "document_offset"]),
    ] {
        let body = format!(r#"{{"conference_id": "{id}", {field}}}"#);
        assert_refused_raw(what, get(body).await, ErrorCode::Invalid, hints);
    }
    let past = format!(r#"{{"conference_id": "{id}", "document_offset": {}}}"#, total + 1);
    assert_refused_raw("an offset past the end", get(past).await, ErrorCode::Invalid, &[&format!("has {total} bytes")]);
    let end = format!(r#"{{"conference_id": "{id}", "document_offset": {total}}}"#);
    let last: MinutesView = get(end).await.unwrap().json().unwrap();
    assert_eq!((last.markdown.as_deref(), last.document_offset), (Some(""), Some(total)), "an empty last page");
    assert_eq!(stack.event_totals().await.unwrap(), before, "bad pages wrote nothing");

    // The CLI prints the whole Markdown (every page read, the hash checked) and verifies a copy.
    let out = cli(&stack, &["minutes", "get", &id.to_string(), "--markdown"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout == text.as_bytes(), "`minutes get --markdown` prints the whole document");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("bien-ban.md");
    std::fs::write(&copy, &out.stdout).unwrap();
    let verify = |stack: &Stack| cli(stack, &["minutes", "verify", &id.to_string(), "--file", copy.to_str().unwrap()]);
    let out = verify(&stack);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && said.contains("OK") && said.contains(&sha256), "{said}");
    let mut altered = text.clone().into_bytes();
    altered.pop();
    std::fs::write(dir.path().join("altered.md"), &altered).unwrap();
    let altered = dir.path().join("altered.md");
    let out = cli(&stack, &["minutes", "verify", &id.to_string(), "--file", altered.to_str().unwrap()]);
    assert!(!out.status.success(), "a copy one byte short is not the published minutes");

    // The attendance export comes by pages of rows (more rows than one page holds); the CLI reads
    // every page and writes the whole file.
    let query = ExportAttendance { limit: MAX_PAGE, ..ExportAttendance::first(id, ExportFormat::Csv) };
    let first = stack.api.export_attendance_page(&query).await.unwrap();
    assert!(first.total_rows > MAX_PAGE, "{} rows", first.total_rows);
    assert_eq!((first.offset, first.rows), (0, MAX_PAGE));
    let whole = stack.api.export_attendance(id, ExportFormat::Csv).await.unwrap();
    assert_eq!((whole.rows, whole.total_rows), (first.total_rows, first.total_rows));
    assert!(whole.content.starts_with(&first.content), "the first page starts the file");
    let file = dir.path().join("attendance.csv");
    let args = ["attendance", "export", &id.to_string(), "--format", "csv", "--output", file.to_str().unwrap()];
    let out = cli(&stack, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written == whole.content, "the CLI writes the whole file");
    assert_eq!(written.matches("\r\n").count(), first.total_rows + 1, "the header and every site's line");

    // A restarted minutes service replays its log (the reference, not the document), reads the
    // document back from the bucket and serves it again.
    let restart = Instant::now();
    stack.restart(Service::Minutes).await.unwrap();
    let restarted = restart.elapsed();
    let again = stack.api.minutes_document(id, DocumentForm::Markdown).await.unwrap();
    assert_eq!(again.markdown.as_deref(), Some(text.as_str()));
    assert_eq!(again.sha256.as_deref(), Some(sha256.as_str()));
    let (by_pages, _) = read_by_pages(&stack.api, id, DocumentForm::Markdown, PAGE).await;
    assert_eq!(by_pages, text);
    assert!(verify(&stack).status.success(), "the copy still verifies after the restart");

    // An object altered in the bucket (as only an operator with the bucket's rights could) is
    // refused when it is read back, never served: `unavailable`, naming the object.
    let bucket = stack.jetstream().get_object_store(RECORDS_BUCKET).await.unwrap();
    let forged = text.replacen("Điểm cầu số 1 ", "Điểm cầu số 9 ", 1);
    bucket.put(document.object.as_str(), &mut forged.as_bytes()).await.unwrap();
    stack.restart(Service::Minutes).await.unwrap();
    let err = stack.api.minutes_document(id, DocumentForm::Markdown).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unavailable, "{err:?}");
    assert!(err.message.contains(&document.object) && err.message.contains("does not match"), "{}", err.message);
    assert!(err.message.contains("Retrying will not help"), "{}", err.message);

    eprintln!(
        "minutes_pages: {SITES} sites; document {total} bytes in {pages} pages of {PAGE} (HTML {} bytes in \
         {html_pages}); minutes_published {} bytes; restart {restarted:?}; {:.1} s",
        html.len(),
        message.payload.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_minutes_page_shows_the_whole_document_read_by_pages() {
    // Given a stack with authentication on, and published minutes of 6,000 sites whose HTML form is
    // more than a page
    let stack = crate::common::secure_stack().await;
    let stack = &stack;
    let connect = |identity: String| async move { stack.connect(&identity).await.unwrap().api };
    let minute_taker = connect(format!("person-{}", scenario::MINUTE_TAKER)).await;
    let mut chairs = Vec::new();
    for person in scenario::CHAIR_PERSONS {
        chairs.push(connect(format!("person-{person}")).await);
    }
    let secretariat = &stack.secretariat.api;
    let players = Players { secretariat, minute_taker: &minute_taker, chairs: &chairs, sites_answer: false };
    let (id, _, published) = publish_large_minutes(players).await;
    let html = secretariat.minutes_html(id).await.unwrap().html.unwrap();
    assert!(html.len() > DEFAULT_DOCUMENT_PAGE, "the HTML form takes {} bytes", html.len());
    assert_eq!(Some(sha256_hex(&html)), published.html_sha256);

    // When the secretariat opens /bien-ban/<id> in the gateway
    let logs = stack.creds_dir().parent().unwrap().to_path_buf();
    let gw = hoinghi_tests::gateway::Gateway::start(&stack.url(), &stack.creds_dir(), &logs, &[]).await.unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client
        .post(format!("{}/dang-nhap", gw.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", gw.token("secretariat").unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303, "the login redirects");
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = client.get(format!("{}/bien-ban/{id}", gw.url())).header("cookie", cookie).send().await.unwrap();

    // Then it is the whole HTML form, every page read, byte for byte the document published
    assert_eq!(page.status().as_u16(), 200);
    let body = page.text().await.unwrap();
    assert_eq!(body.len(), html.len());
    assert!(body == html, "the page is the published HTML form, whole");
}
