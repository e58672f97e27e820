//! Browser tests: a headless Chromium driven over WebDriver (`fantoccini` talking to a
//! chromedriver of its own), with helpers that find things the way a user does: fields by
//! their `<label>`, buttons and links by their visible text.
//!
//! [`chromium`] starts one chromedriver (on a free loopback port) and one Chromium (fresh
//! profile in a temporary directory, `--lang=zh-CN`, `Accept-Language: zh-CN,zh`) per
//! [`Browser`]. Without Chromium or chromedriver it skips with one line on stderr, unless
//! [`ci_strict`] holds, in which case it panics. The binaries are `/usr/bin/chromium` and
//! `/usr/bin/chromedriver` (Debian's `chromium` and `chromium-driver`), or `$YIGONG_CHROMIUM`
//! and `$YIGONG_CHROMEDRIVER`. Screenshots need a CJK font (Debian's `fonts-wqy-microhei`) to
//! show Chinese as more than boxes; the text the helpers read does not.
//!
//! Every helper panics with the page's URL in its message when it cannot do what it says;
//! those that look for something poll for it for up to five seconds first. [`run`] wraps a test
//! body so that a failure leaves a screenshot and the page's HTML in
//! `target/test-artifacts/`, and the browser is closed either way. A [`Browser`] dropped
//! without [`Browser::close`] (a test that panicked) still ends its session and kills its
//! processes.
//!
//! ```no_run
//! # async fn example(base_url: &str) {
//! use yigong_testkit::browser;
//!
//! let Some(page) = browser::chromium(base_url).await else { return }; // panics under CI=true
//! browser::run(page, "referral_form", async |page| {
//!     page.goto("/zh-CN/referrals/new").await;
//!     page.fill_labelled("转诊原因", "胸痛两小时").await;
//!     page.select_labelled("转往机构", "青岚县人民医院").await;
//!     page.click_button("提交转诊").await;
//!     page.expect_text("已提交").await;
//!     assert_eq!(page.current_path().await, "/zh-CN/referrals");
//! })
//! .await;
//! # }
//! ```

mod driver;
#[cfg(test)]
mod tests;

use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::elements::{Element, ElementRef};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder};
use futures::FutureExt as _;
use serde_json::{Value as Json, json};

use crate::ci_strict;
use driver::{CHROMEDRIVER_ENV, CHROMIUM_ENV, Driver};

/// How long the helpers that look for something keep looking.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How often they look.
const POLL: Duration = Duration::from_millis(50);
/// How long after a click a navigation has to start (`beforeunload`) to be waited for.
const NAVIGATION_START: Duration = Duration::from_millis(150);
/// How long a started navigation, or a `goto`, gets to finish loading.
const NAVIGATION_END: Duration = Duration::from_secs(15);
/// How much of the page's text a failure message shows.
const TEXT_PREFIX: usize = 600;

/// Chromium's command line, less `--user-data-dir`.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--lang=zh-CN",
    "--window-size=1280,900",
];

/// The key under which WebDriver serialises an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session driven over WebDriver. One chromedriver process per
/// `Browser`; see the [module documentation](self).
pub struct Browser {
    /// Dropped before `driver`.
    client: Client,
    /// Deletes the session and kills the processes when dropped.
    driver: Driver,
    /// Without a trailing `/`.
    base_url: String,
    artifacts: PathBuf,
    /// Tells the document a click started on from the next one.
    clicks: AtomicU64,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("base_url", &self.base_url)
            .field("chromedriver_port", &self.driver.port)
            .field("session", &self.driver.session)
            .finish_non_exhaustive()
    }
}

/// Starts chromedriver and a headless Chromium whose relative URLs resolve against `base_url`
/// (e.g. `http://127.0.0.1:40123`).
///
/// Returns `None`, after one line on stderr saying why, when Chromium or chromedriver is
/// missing.
///
/// # Panics
///
/// When they are missing and [`ci_strict`] holds; when they are there but do not start.
pub async fn chromium(base_url: &str) -> Option<Browser> {
    let binaries = match driver::find_binaries() {
        Ok(binaries) => binaries,
        Err(missing) => {
            let remedy = format!(
                "install the Debian packages `chromium` and `chromium-driver` or set {CHROMIUM_ENV} and \
                 {CHROMEDRIVER_ENV}"
            );
            if ci_strict() {
                panic!("yigong-testkit: {missing}, and CI=true forbids skipping browser tests; {remedy}");
            }
            // The test harness names each test's thread after the test.
            let thread =
                std::thread::current().name().map(|name| format!(" (thread `{name}`)")).unwrap_or_default();
            // Past the test harness's capture, so that a skip is seen even when the test passes.
            let line = format!("yigong-testkit: skipping browser test{thread}: {missing}; {remedy}\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
            return None;
        }
    };
    let mut driver = Driver::start(&binaries.chromedriver)
        .await
        .unwrap_or_else(|why| panic!("yigong-testkit: cannot start chromedriver: {why}"));
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities(&binaries.chromium, &driver.profile()))
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "yigong-testkit: chromedriver cannot start {}: {e}; {}",
                binaries.chromium.display(),
                driver.log_tail()
            )
        });
    driver.session = client.session_id().await.ok().flatten();
    Some(Browser {
        client,
        driver,
        base_url: base_url.trim_end_matches('/').to_owned(),
        artifacts: driver::artifacts_dir(),
        clicks: AtomicU64::new(0),
    })
}

/// The WebDriver capabilities asking for headless Chromium on a fresh `profile`.
fn capabilities(chromium: &Path, profile: &Path) -> fantoccini::wd::Capabilities {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|&arg| arg.to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": args,
            // `--lang` sets the interface language; this sets the `Accept-Language` header.
            "prefs": { "intl.accept_languages": "zh-CN,zh" },
        },
    });
    let Json::Object(capabilities) = capabilities else { unreachable!("a JSON object") };
    capabilities
}

/// Runs a browser test `body`. If it panics, saves a screenshot and the page's HTML as
/// `target/test-artifacts/<name>.png` and `<name>.html` (paths on stderr), then re-raises the
/// panic. Closes the browser either way.
///
/// `body` is an async closure taking the browser by reference:
///
/// ```no_run
/// # async fn example(page: yigong_testkit::browser::Browser) {
/// yigong_testkit::browser::run(page, "sign_in", async |page| {
///     page.goto("/zh-CN/sign-in").await;
///     page.expect_text("登录").await;
/// })
/// .await;
/// # }
/// ```
pub async fn run<F>(browser: Browser, name: &str, body: F)
where
    F: AsyncFnOnce(&Browser),
{
    let outcome = AssertUnwindSafe(body(&browser)).catch_unwind().await;
    if let Err(panic) = outcome {
        let url = browser.url().await;
        match browser.save_artifacts(name).await {
            Ok((png, html)) => eprintln!(
                "yigong-testkit: browser test `{name}` failed on {url}; screenshot {}, page {}",
                png.display(),
                html.display()
            ),
            Err(why) => eprintln!("yigong-testkit: browser test `{name}` failed on {url}; {why}"),
        }
        browser.close().await;
        std::panic::resume_unwind(panic);
    }
    browser.close().await;
}

impl Browser {
    /// Opens `path` (relative to the base URL, or a whole `http(s)://` URL) and waits until the
    /// document has loaded.
    pub async fn goto(&self, path: &str) {
        let url = url_for(&self.base_url, path);
        if let Err(e) = self.client.goto(&url).await {
            panic!("yigong-testkit: cannot open {url}: {e}");
        }
        self.wait_until_loaded().await;
    }

    /// Types `value` into the form control labelled `label`, after clearing it.
    ///
    /// The `<label>` is found by its text (whitespace collapsed and trimmed, leaving out nested
    /// controls and `aria-hidden` parts such as a required-field star), a visible one first; the
    /// control is the one it labels, through `for` or by nesting.
    pub async fn fill_labelled(&self, label: &str, value: &str) {
        let control = self.find("fill_labelled", FIND_LABELLED, &[json!(label)]).await;
        let control = self.element(control);
        if let Err(e) = control.clear().await {
            panic!("yigong-testkit: cannot clear the field labelled {label:?} on {}: {e}", self.url().await);
        }
        if let Err(e) = control.send_keys(value).await {
            panic!(
                "yigong-testkit: cannot type into the field labelled {label:?} on {}: {e}",
                self.url().await
            );
        }
    }

    /// Chooses the file at `path` in the file input labelled `label` (found as by
    /// [`fill_labelled`](Self::fill_labelled)), as a user picking it in the file dialog.
    pub async fn attach_labelled(&self, label: &str, path: &std::path::Path) {
        let control = self.find("attach_labelled", FIND_LABELLED, &[json!(label)]).await;
        let path = path.to_str().expect("a UTF-8 path");
        if let Err(e) = self.element(control).send_keys(path).await {
            panic!(
                "yigong-testkit: cannot attach a file to the field labelled {label:?} on {}: {e}",
                self.url().await
            );
        }
    }

    /// Chooses the option reading `option_text` in the `<select>` labelled `label` (found as
    /// by [`fill_labelled`](Self::fill_labelled)).
    pub async fn select_labelled(&self, label: &str, option_text: &str) {
        let option = self.find("select_labelled", FIND_OPTION, &[json!(label), json!(option_text)]).await;
        if let Err(e) = self.element(option).click().await {
            panic!(
                "yigong-testkit: cannot choose {option_text:?} in the list labelled {label:?} on {}: {e}",
                self.url().await
            );
        }
    }

    /// Clicks the `<button>` (or `<input type=submit|button|reset>`) whose visible text (or
    /// `aria-label`) is `text`, then waits for the navigation it starts, if any, to load.
    pub async fn click_button(&self, text: &str) {
        let button = self.find("click_button", FIND_BUTTON, &[json!(text)]).await;
        self.click_and_settle(self.element(button), &format!("the button {text:?}")).await;
    }

    /// Clicks the link (`<a href>`) whose visible text (or `aria-label`) is `text`, then waits
    /// for the page it opens to load.
    pub async fn click_link(&self, text: &str) {
        let link = self.find("click_link", FIND_LINK, &[json!(text)]).await;
        self.click_and_settle(self.element(link), &format!("the link {text:?}")).await;
    }

    /// Waits until the page's visible text contains `text` (whitespace runs compared as one
    /// space).
    ///
    /// # Panics
    ///
    /// After five seconds without it, with the URL and the start of the page's text.
    pub async fn expect_text(&self, text: &str) {
        let want = collapse_whitespace(text);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let body = self.body_text().await;
            if body.as_deref().is_ok_and(|body| body.contains(&want)) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "yigong-testkit: expected the text {want:?} within {TIMEOUT:?} on {}; {}",
                    self.url().await,
                    describe_text(&body)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the page's visible text does not contain `text`.
    ///
    /// # Panics
    ///
    /// When it is still there after five seconds.
    pub async fn expect_no_text(&self, text: &str) {
        let unwanted = collapse_whitespace(text);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let body = self.body_text().await;
            if body.as_deref().is_ok_and(|body| !body.contains(&unwanted)) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "yigong-testkit: the text {unwanted:?} was still there after {TIMEOUT:?} on {}; {}",
                    self.url().await,
                    describe_text(&body)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The visible text of the first element matching the CSS selector `css`, waiting for one
    /// to appear.
    ///
    /// # Panics
    ///
    /// When none appears within five seconds.
    pub async fn text_of(&self, css: &str) -> String {
        let element = self.element(self.find("text_of", FIND_CSS, &[json!(css)]).await);
        match element.text().await {
            Ok(text) => text,
            Err(e) => panic!("yigong-testkit: cannot read the text of {css:?} on {}: {e}", self.url().await),
        }
    }

    /// The path of the current URL (without query or fragment, percent-encoded as in the URL),
    /// e.g. `/zh-CN/referrals`.
    pub async fn current_path(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.path().to_owned(),
            Err(e) => panic!("yigong-testkit: cannot read the current URL: {e}"),
        }
    }

    /// The attribute `name` of the first element matching the CSS selector `css`, or `None`
    /// when it has no such attribute; waits for such an element to appear.
    ///
    /// # Panics
    ///
    /// When none appears within five seconds.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let value = self.find("attribute", FIND_ATTRIBUTE, &[json!(css), json!(name)]).await;
        value.as_str().map(str::to_owned)
    }

    /// Presses and releases the Tab key, moving the focus to the next focusable element.
    pub async fn press_tab(&self) {
        let tab = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: Key::Tab.into() })
            .then(KeyAction::Up { value: Key::Tab.into() });
        if let Err(e) = self.client.perform_actions(tab).await {
            panic!("yigong-testkit: cannot press Tab on {}: {e}", self.url().await);
        }
    }

    /// What the focused element says: its `aria-label`, else the text of its `<label>`, else
    /// an input's value, else its visible text; empty when nothing is focused.
    pub async fn focused_text(&self) -> String {
        match self.script(FOCUSED_TEXT, &[]).await {
            Ok(Json::String(text)) => text,
            Ok(other) => panic!("yigong-testkit: unexpected answer about the focused element: {other}"),
            Err(e) => panic!("yigong-testkit: cannot read the focused element on {}: {e}", self.url().await),
        }
    }

    /// Saves a PNG screenshot of the window as `target/test-artifacts/<name>.png` and returns
    /// its path. Characters of `name` other than letters, digits, `-`, `_` and `.` become `_`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let path = self.artifact(name, "png");
        let saved = match self.client.screenshot().await {
            Ok(png) => write_file(&path, &png),
            Err(e) => Err(format!("cannot take a screenshot: {e}")),
        };
        if let Err(why) = saved {
            panic!("yigong-testkit: {why}");
        }
        path
    }

    /// Ends the WebDriver session (Chromium quits) and stops chromedriver.
    pub async fn close(self) {
        let Browser { client, mut driver, .. } = self;
        if client.close().await.is_ok() {
            driver.session = None;
            driver.closed = true;
        }
        // Dropping the driver kills chromedriver and anything left of Chromium.
        drop(driver);
    }

    /// Saves the screenshot and the page's HTML for a failed test.
    async fn save_artifacts(&self, name: &str) -> Result<(PathBuf, PathBuf), String> {
        let (png, html) = (self.artifact(name, "png"), self.artifact(name, "html"));
        let screenshot = self.client.screenshot().await.map_err(|e| format!("no screenshot: {e}"))?;
        write_file(&png, &screenshot)?;
        let source = self.client.source().await.map_err(|e| format!("no page source: {e}"))?;
        write_file(&html, source.as_bytes())?;
        Ok((png, html))
    }

    fn artifact(&self, name: &str, extension: &str) -> PathBuf {
        self.artifacts.join(format!("{}.{extension}", file_stem(name)))
    }

    /// The current URL, for messages.
    async fn url(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("<unknown URL: {e}>"),
        }
    }

    /// Runs `script` (after [`PRELUDE`]) in the page.
    async fn script(&self, script: &str, args: &[Json]) -> Result<Json, fantoccini::error::CmdError> {
        self.client.execute(&format!("{PRELUDE}\n{script}"), args.to_vec()).await
    }

    /// Runs `script` until it answers `{found: value}`, for up to [`TIMEOUT`], and returns the
    /// value; its other answer, `{missing: why}`, goes into the panic message.
    async fn find(&self, helper: &str, script: &str, args: &[Json]) -> Json {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let why = match self.script(script, args).await {
                Ok(Json::Object(mut answer)) => match answer.remove("found") {
                    Some(found) => return found,
                    None => match answer.remove("missing") {
                        Some(Json::String(why)) => why,
                        other => format!("unexpected answer {other:?}"),
                    },
                },
                Ok(other) => format!("unexpected answer {other}"),
                Err(e) => format!("script failed: {e}"),
            };
            if Instant::now() >= deadline {
                let args: Vec<String> = args.iter().map(Json::to_string).collect();
                panic!(
                    "yigong-testkit: {helper}({}) failed after {TIMEOUT:?} on {}: {why}",
                    args.join(", "),
                    self.url().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The element a script returned.
    fn element(&self, reference: Json) -> Element {
        let Some(id) = reference.get(ELEMENT_KEY).and_then(Json::as_str) else {
            panic!("yigong-testkit: not an element reference: {reference}");
        };
        Element::from_element_id(self.client.clone(), ElementRef::from(id.to_owned()))
    }

    /// Clicks `element`; if that starts a navigation (the document fires `beforeunload`, or is
    /// replaced, within [`NAVIGATION_START`]), waits for the new document to load.
    async fn click_and_settle(&self, element: Element, what: &str) {
        let click = self.clicks.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.script(MARK_DOCUMENT, &[json!(click)]).await {
            panic!("yigong-testkit: cannot prepare to click {what} on {}: {e}", self.url().await);
        }
        if let Err(e) = element.click().await {
            panic!("yigong-testkit: cannot click {what} on {}: {e}", self.url().await);
        }
        let start = Instant::now();
        loop {
            // Fails while the document is being replaced; then it is simply asked again.
            if let Ok(state) = self.script(DOCUMENT_STATE, &[json!(click)]).await {
                let same = state["same"].as_bool() == Some(true);
                let leaving = state["leaving"].as_bool() == Some(true);
                let loaded = state["ready"] == "complete";
                if (!same && loaded) || (same && !leaving && start.elapsed() >= NAVIGATION_START) {
                    return;
                }
            }
            // A navigation that never ends (a download, a `204 No Content`) is given up on
            // quietly: whatever the test expects next will fail if it mattered.
            if start.elapsed() >= NAVIGATION_END {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `document.readyState` is `complete`.
    async fn wait_until_loaded(&self) {
        let deadline = Instant::now() + NAVIGATION_END;
        loop {
            let state = self.client.execute("return document.readyState", Vec::new()).await;
            if state.as_ref().is_ok_and(|state| state == "complete") {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "yigong-testkit: {} did not finish loading within {NAVIGATION_END:?} ({state:?})",
                    self.url().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The page's visible text, whitespace runs collapsed.
    async fn body_text(&self) -> Result<String, String> {
        match self.client.execute("return document.body ? document.body.innerText : ''", Vec::new()).await {
            Ok(Json::String(text)) => Ok(collapse_whitespace(&text)),
            Ok(other) => Err(format!("unexpected page text {other}")),
            Err(e) => Err(format!("cannot read the page's text: {e}")),
        }
    }
}

/// Shared by the scripts: whitespace collapsing, visibility, and label text and lookup.
const PRELUDE: &str = r#"
const norm = s => (s || '').replace(/\s+/g, ' ').trim();
const visible = e => e.getClientRects().length > 0;
const pick = hits => hits.find(visible) || hits[0];
const labelText = label => {
  const copy = label.cloneNode(true);
  copy.querySelectorAll('input, select, textarea, button, [aria-hidden="true"]').forEach(e => e.remove());
  return norm(copy.textContent);
};
const labelled = text => {
  const want = norm(text);
  const labels = [...document.querySelectorAll('label')];
  const label = pick(labels.filter(l => labelText(l) === want));
  if (!label) {
    return {missing: `no <label> reads ${JSON.stringify(want)}; the labels are ${JSON.stringify(labels.map(labelText))}`};
  }
  if (!label.control) {
    return {missing: `the <label> ${JSON.stringify(want)} labels no form control: ${label.outerHTML}`};
  }
  return {found: label.control};
};
"#;

const FIND_LABELLED: &str = "return labelled(arguments[0]);";

const FIND_OPTION: &str = r#"
const control = labelled(arguments[0]);
if (!control.found) return control;
const select = control.found;
if (select.tagName !== 'SELECT') {
  return {missing: `the control labelled ${JSON.stringify(norm(arguments[0]))} is not a <select>: ${select.outerHTML}`};
}
const want = norm(arguments[1]);
const options = [...select.options];
const option = options.find(o => norm(o.text) === want);
if (!option) {
  return {missing: `no option reads ${JSON.stringify(want)}; the options are ${JSON.stringify(options.map(o => norm(o.text)))}`};
}
return {found: option};
"#;

const FIND_BUTTON: &str = r#"
const want = norm(arguments[0]);
const buttons = [...document.querySelectorAll('button, input[type=submit], input[type=button], input[type=reset]')];
const text = e => e.tagName === 'INPUT' ? norm(e.value) : norm(e.innerText || e.textContent);
const button = pick(buttons.filter(e => text(e) === want || norm(e.getAttribute('aria-label')) === want));
if (!button) {
  return {missing: `no button reads ${JSON.stringify(want)}; the buttons are ${JSON.stringify(buttons.map(text))}`};
}
return {found: button};
"#;

const FIND_LINK: &str = r#"
const want = norm(arguments[0]);
const links = [...document.querySelectorAll('a[href]')];
const text = e => norm(e.innerText || e.textContent);
const link = pick(links.filter(e => text(e) === want || norm(e.getAttribute('aria-label')) === want));
if (!link) {
  return {missing: `no link reads ${JSON.stringify(want)}; the links are ${JSON.stringify(links.map(text))}`};
}
return {found: link};
"#;

const FIND_CSS: &str = r#"
const element = document.querySelector(arguments[0]);
return element ? {found: element} : {missing: `nothing matches ${JSON.stringify(arguments[0])}`};
"#;

const FIND_ATTRIBUTE: &str = r#"
const element = document.querySelector(arguments[0]);
return element ? {found: element.getAttribute(arguments[1])} : {missing: `nothing matches ${JSON.stringify(arguments[0])}`};
"#;

const FOCUSED_TEXT: &str = r#"
const e = document.activeElement;
if (!e || e === document.body || e === document.documentElement) return '';
const aria = norm(e.getAttribute('aria-label'));
if (aria) return aria;
if (e.labels && e.labels.length) return labelText(e.labels[0]);
if (e.tagName === 'INPUT') return norm(e.value);
return norm(e.innerText || e.textContent);
"#;

/// Marks the document with the click's number, and notes when it starts to unload.
const MARK_DOCUMENT: &str = r#"
const mark = {click: arguments[0], leaving: false};
window.__yigongClick = mark;
window.addEventListener('beforeunload', () => { mark.leaving = true; }, {once: true});
"#;

const DOCUMENT_STATE: &str = r#"
const mark = window.__yigongClick;
const same = !!mark && mark.click === arguments[0];
return {same, leaving: same && mark.leaving, ready: document.readyState};
"#;

/// `path` resolved against `base_url` (which has no trailing `/`), unless it is a whole URL.
fn url_for(base_url: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_owned()
    } else {
        format!("{base_url}/{}", path.trim_start_matches('/'))
    }
}

/// `name` as a file name: letters, digits, `-`, `_` and `.` kept, anything else `_`.
fn file_stem(name: &str) -> String {
    let stem: String =
        name.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    if stem.is_empty() || stem.chars().all(|c| c == '.') { format!("_{stem}") } else { stem }
}

/// Whitespace runs as one space, trimmed: how the helpers compare text.
fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The start of a page's text, or why it could not be read, for a failure message.
fn describe_text(body: &Result<String, String>) -> String {
    match body {
        Ok(text) => {
            let prefix: String = text.chars().take(TEXT_PREFIX).collect();
            let more = if prefix.len() < text.len() { " …" } else { "" };
            format!("the page's text begins: {prefix:?}{more}")
        }
        Err(why) => why.clone(),
    }
}

/// Writes `contents` to `path`, making its directory first.
fn write_file(path: &Path, contents: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
