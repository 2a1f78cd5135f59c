//! Headless Chromium for the gateway's pages: the Debian package (`/usr/bin/chromium`, installed by
//! `deploy/install-test-tools.sh`) driven over the DevTools protocol with `chromiumoxide`.
//!
//! Why chromiumoxide: the browser tests run inside the Rust end-to-end harness, next to the stack
//! they drive (the same test process starts nats-server, the services, the gateway and the
//! browser), with no Node.js toolchain to install in CI; it is the maintained async (tokio) CDP
//! client. The browser is started as the issue asks: `--no-sandbox` (CI runs as root),
//! `--headless`, `--disable-gpu`, no background networking, component updates, sync or first-run
//! screens, and a fresh `--user-data-dir` per browser.
//!
//! [`Pixels`] reads a screenshot (PNG) so a test can check colours where an element was drawn.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::Page;
use futures::StreamExt;

/// The Chromium binary: `HOINGHI_CHROMIUM`, else the Debian package's `/usr/bin/chromium`, else
/// `chromium` or `chromium-browser` on `PATH`.
///
/// # Errors
/// None found, saying how to install it.
pub fn find_chromium() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("HOINGHI_CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    let mut candidates = vec![PathBuf::from("/usr/bin/chromium")];
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            candidates.push(dir.join("chromium"));
            candidates.push(dir.join("chromium-browser"));
        }
    }
    candidates.into_iter().find(|p| p.is_file()).with_context(|| {
        "no Chromium: run deploy/install-test-tools.sh (as root it installs Debian's `chromium`), \
         or set HOINGHI_CHROMIUM to a Chromium binary"
    })
}

/// A headless Chromium with its own profile directory; closed when dropped.
pub struct Chromium {
    browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts the browser.
    ///
    /// # Errors
    /// No Chromium, or it did not start.
    pub async fn launch() -> anyhow::Result<Self> {
        let bin = find_chromium()?;
        let profile = tempfile::Builder::new().prefix("hoinghi-chromium-").tempdir()?;
        let config = BrowserConfig::builder()
            .chrome_executable(&bin)
            .new_headless_mode()
            .no_sandbox()
            .user_data_dir(profile.path())
            .window_size(1400, 1000)
            .viewport(None)
            .launch_timeout(Duration::from_secs(60))
            .request_timeout(Duration::from_secs(30))
            .args([
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
                "--lang=vi-VN",
            ])
            .build()
            .map_err(|e| anyhow::anyhow!("browser configuration: {e}"))?;
        let (browser, mut events) =
            Browser::launch(config).await.with_context(|| format!("start {}", bin.display()))?;
        let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
        Ok(Self { browser, handler, _profile: profile })
    }

    /// A new tab at `url`.
    ///
    /// # Errors
    /// The page did not open.
    pub async fn open(&self, url: &str) -> anyhow::Result<Page> {
        let page = self.browser.new_page(url).await.with_context(|| format!("open {url}"))?;
        Ok(page)
    }

    /// Closes the browser.
    pub async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}

/// Types `text` into the element matching `selector` as a person would with an input method: the
/// element focused, then the text inserted (`Input.insertText`, which takes any Unicode, such as
/// Vietnamese, where key events only know a keyboard's keys).
///
/// # Errors
/// No such element, or the browser refused.
pub async fn type_text(page: &Page, selector: &str, text: &str) -> anyhow::Result<()> {
    page.find_element(selector).await.with_context(|| format!("find {selector}"))?.focus().await?;
    page.execute(chromiumoxide::cdp::browser_protocol::input::InsertTextParams::new(text))
        .await
        .with_context(|| format!("type into {selector}"))?;
    Ok(())
}

/// Evaluates `expression` in the page and returns its JSON value.
///
/// # Errors
/// The script threw or did not return JSON.
pub async fn eval(page: &Page, expression: &str) -> anyhow::Result<serde_json::Value> {
    let result = page.evaluate(expression).await.with_context(|| format!("evaluate {expression}"))?;
    Ok(result.into_value::<serde_json::Value>().unwrap_or(serde_json::Value::Null))
}

/// Polls `expression` until it is `true`, for at most `timeout`.
///
/// # Errors
/// Still not true.
pub async fn wait_until(page: &Page, expression: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if eval(page, expression).await.ok() == Some(serde_json::Value::Bool(true)) {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            let text = eval(page, "document.body ? document.body.innerText : ''").await.unwrap_or_default();
            bail!("`{expression}` not true within {timeout:?}; the page says:\n{}", text.as_str().unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A full-page screenshot written to `path` (PNG); returns its pixels.
///
/// # Errors
/// The screenshot failed or could not be written.
pub async fn screenshot(page: &Page, path: &Path) -> anyhow::Result<Pixels> {
    let png = page.screenshot(ScreenshotParams::builder().full_page(true).build()).await.context("screenshot")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, &png).with_context(|| format!("write {}", path.display()))?;
    Pixels::decode(&png)
}

/// The pixels of a PNG screenshot, as RGBA.
#[derive(Debug, Clone)]
pub struct Pixels {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    rgba: Vec<u8>,
}

impl Pixels {
    /// Decodes a PNG.
    ///
    /// # Errors
    /// Not a PNG this reader handles.
    pub fn decode(png: &[u8]) -> anyhow::Result<Self> {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().context("read the PNG")?;
        let mut buf = vec![0; reader.output_buffer_size().context("PNG size")?];
        let info = reader.next_frame(&mut buf).context("decode the PNG")?;
        buf.truncate(info.buffer_size());
        let channels = info.color_type.samples();
        let rgba = match channels {
            4 => buf,
            3 => buf.chunks(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
            _ => bail!("unexpected PNG colour type {:?}", info.color_type),
        };
        Ok(Self { width: info.width, height: info.height, rgba })
    }

    /// The colour at `(x, y)`, RGB.
    pub fn at(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = ((y * self.width + x) * 4) as usize;
        Some([self.rgba[i], self.rgba[i + 1], self.rgba[i + 2]])
    }

    /// How many pixels of the rectangle `(x, y, w, h)` are within `tolerance` of `rgb` in every
    /// channel, as a share of the rectangle.
    pub fn share(&self, (x, y, w, h): (u32, u32, u32, u32), rgb: [u8; 3], tolerance: u8) -> f64 {
        let (mut hits, mut all) = (0u64, 0u64);
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                all += 1;
                if let Some(p) = self.at(xx, yy) {
                    if p.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= tolerance) {
                        hits += 1;
                    }
                }
            }
        }
        if all == 0 {
            0.0
        } else {
            hits as f64 / all as f64
        }
    }
}
