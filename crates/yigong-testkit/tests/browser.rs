//! The browser harness against a tiny site served from this test binary: forms post and
//! redirect, fields are found by label, waits wait and time out, failures leave a screenshot,
//! a missing Chromium skips or fails, and no browser process outlives its test.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use yigong_testkit::browser::{self, Browser};

/// Serves the test site on a loopback port for as long as the test's runtime runs; returns
/// its base URL.
async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let _ = answer(stream).await;
            });
        }
    });
    base_url
}

/// A browser on the test site, or `None` where [`browser::chromium`] skips.
async fn open() -> Option<Browser> {
    let base_url = serve().await;
    browser::chromium(&base_url).await
}

/// One request, one response, then the connection is closed.
async fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut request = Vec::new();
    let head_end = loop {
        let mut buf = [0; 4096];
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (request_line.next().unwrap_or_default(), request_line.next().unwrap_or_default());
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|n| n.parse().ok()).unwrap_or(0);
    while request.len() < head_end + length {
        let mut buf = [0; 4096];
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&request[head_end..]).into_owned();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));

    let response = match (method, path) {
        ("GET", "/form") => page("登记", FORM),
        ("GET", "/slow") => page("慢速登记", SLOW_FORM),
        ("POST", "/submit" | "/slow-submit") => {
            if path == "/slow-submit" {
                tokio::time::sleep(Duration::from_millis(1500)).await;
            }
            let location = format!("/result?{}", encode_form(&decode_form(&body)));
            format!(
                "HTTP/1.1 303 See Other\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        }
        ("GET", "/result") => {
            let fields = decode_form(query);
            let field = |name: &str| {
                let value = fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("");
                escape(value)
            };
            let html = format!(
                r#"<h1>已登记</h1><p>姓名：<span id="name">{}</span></p><p>科室：{}</p><p>备注：{}</p>"#,
                field("name"),
                field("dept"),
                field("note")
            );
            page("结果", &html)
        }
        ("GET", "/nav") => page("导航", NAV),
        ("GET", "/script") => page("脚本", SCRIPT),
        ("GET", "/late") => page("稍后", LATE),
        ("GET", "/lang") => {
            let lang = headers.get("accept-language").cloned().unwrap_or_default();
            page("语言", &format!(r#"<p id="lang">{}</p>"#, escape(&lang)))
        }
        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
    };
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// A `200 OK` HTML page.
fn page(title: &str, body: &str) -> String {
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body>{body}</body></html>"
    );
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
        html.len()
    )
}

/// A form with a prefilled field whose label carries a hidden star, a `<select>`, and a
/// `<textarea>` nested in its label.
const FORM: &str = r#"
<h1>登记</h1>
<form method="post" action="/submit">
  <p><label for="name">姓名 <span aria-hidden="true">*</span></label> <input id="name" name="name" value="旧值"></p>
  <p><label for="dept">科室</label>
     <select id="dept" name="dept"><option>内科</option><option>外科</option><option>儿科</option></select></p>
  <p><label>备注 <textarea name="note"></textarea></label></p>
  <button type="submit">提交</button>
</form>"#;

/// A form whose POST takes 1.5 s to answer.
const SLOW_FORM: &str = r#"
<form method="post" action="/slow-submit">
  <label for="name">姓名</label><input id="name" name="name">
  <input type="submit" value="慢速提交">
</form>"#;

/// Text before the first link and button, for Tab.
const NAV: &str = r#"<p>说明文字</p><a href="/form">去登记</a> <button type="button">按钮</button>"#;

/// A button that changes the page without navigating.
const SCRIPT: &str = r#"
<button type="button" onclick="document.getElementById('out').textContent = '已点击'">点我</button>
<p id="out">未点击</p>"#;

/// Text that replaces "加载中" after 800 ms.
const LATE: &str = r#"
<p id="late">加载中</p>
<script>setTimeout(() => { document.getElementById('late').textContent = '迟到的文字'; }, 800);</script>"#;

/// `application/x-www-form-urlencoded` pairs.
fn decode_form(encoded: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    };
    encoded
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// Pairs back to `application/x-www-form-urlencoded`.
fn encode_form(pairs: &[(String, String)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The message of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<String>(), panic.downcast_ref::<&str>()) {
        (Some(message), _) => message.clone(),
        (None, Some(message)) => (*message).to_owned(),
        (None, None) => "<not a string>".to_owned(),
    }
}

#[tokio::test]
async fn form_posts_and_redirects_with_chinese_text() {
    let base_url = serve().await;
    let started = Instant::now();
    let Some(page) = browser::chromium(&base_url).await else { return };
    eprintln!("browser started in {:?}", started.elapsed());
    browser::run(page, "form_posts_and_redirects", async |page| {
        page.goto("/form").await;
        page.fill_labelled("姓名", "张三丰").await;
        page.select_labelled("科室", "外科").await;
        page.fill_labelled("备注", "胸痛两小时 & <急>").await;
        page.click_button("提交").await;
        assert_eq!(page.current_path().await, "/result");
        page.expect_text("姓名：张三丰").await;
        page.expect_text("科室：外科").await;
        page.expect_text("备注：胸痛两小时 & <急>").await;
        page.expect_no_text("旧值").await;
        assert_eq!(page.text_of("#name").await, "张三丰");
    })
    .await;
}

#[tokio::test]
async fn click_button_waits_for_a_slow_post() {
    let Some(page) = open().await else { return };
    browser::run(page, "click_button_waits_for_a_slow_post", async |page| {
        page.goto("/slow").await;
        page.fill_labelled("姓名", "李四").await;
        let clicked = Instant::now();
        page.click_button("慢速提交").await;
        assert!(clicked.elapsed() >= Duration::from_millis(1500), "{:?}", clicked.elapsed());
        // No polling helper in between: the click returned on the loaded result page.
        assert_eq!(page.current_path().await, "/result");
        assert_eq!(page.attribute("#name", "id").await.as_deref(), Some("name"));
    })
    .await;
}

#[tokio::test]
async fn click_without_navigation_returns_promptly() {
    let Some(page) = open().await else { return };
    browser::run(page, "click_without_navigation_returns_promptly", async |page| {
        page.goto("/script").await;
        let clicked = Instant::now();
        page.click_button("点我").await;
        assert!(clicked.elapsed() < Duration::from_secs(2), "{:?}", clicked.elapsed());
        assert_eq!(page.text_of("#out").await, "已点击");
        assert_eq!(page.current_path().await, "/script");
    })
    .await;
}

#[tokio::test]
async fn click_link_and_keyboard_focus() {
    let Some(page) = open().await else { return };
    browser::run(page, "click_link_and_keyboard_focus", async |page| {
        page.goto("/nav").await;
        assert_eq!(page.focused_text().await, "");
        page.press_tab().await;
        assert_eq!(page.focused_text().await, "去登记");
        page.press_tab().await;
        assert_eq!(page.focused_text().await, "按钮");
        page.click_link("去登记").await;
        assert_eq!(page.current_path().await, "/form");
        page.press_tab().await;
        assert_eq!(page.focused_text().await, "姓名", "a field is named by its label");
    })
    .await;
}

#[tokio::test]
async fn expect_text_waits_for_text_to_change() {
    let Some(page) = open().await else { return };
    browser::run(page, "expect_text_waits_for_text_to_change", async |page| {
        page.goto("/late").await;
        page.expect_text("迟到的文字").await;
        page.expect_no_text("加载中").await;
    })
    .await;
}

#[tokio::test]
async fn attributes_text_and_language() {
    let Some(page) = open().await else { return };
    browser::run(page, "attributes_text_and_language", async |page| {
        page.goto("/form").await;
        assert_eq!(page.text_of("h1").await, "登记");
        assert_eq!(page.attribute("#name", "value").await.as_deref(), Some("旧值"));
        assert_eq!(page.attribute("#name", "placeholder").await, None);
        page.goto("/lang").await;
        let lang = page.text_of("#lang").await;
        assert!(lang.starts_with("zh-CN"), "Accept-Language: {lang}");
    })
    .await;
}

#[tokio::test]
async fn expect_text_timeout_names_the_page() {
    let Some(page) = open().await else { return };
    page.goto("/form").await;
    let started = Instant::now();
    let panic = AssertUnwindSafe(page.expect_text("不存在的文字")).catch_unwind().await.unwrap_err();
    let message = panic_message(&*panic);
    assert!(started.elapsed() >= Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(message.contains("不存在的文字") && message.contains("/form"), "{message}");
    assert!(message.contains("登记 姓名"), "the page's text is shown: {message}");
    page.close().await;
}

#[tokio::test]
async fn lookup_failures_list_what_is_there() {
    let Some(page) = open().await else { return };
    page.goto("/form").await;
    let panic = AssertUnwindSafe(page.fill_labelled("电话", "1")).catch_unwind().await.unwrap_err();
    let message = panic_message(&*panic);
    assert!(message.contains(r#"the labels are ["姓名","科室","备注"]"#), "{message}");

    let panic = AssertUnwindSafe(page.select_labelled("科室", "眼科")).catch_unwind().await.unwrap_err();
    let message = panic_message(&*panic);
    assert!(message.contains(r#"the options are ["内科","外科","儿科"]"#), "{message}");
    page.close().await;
}

#[tokio::test]
async fn run_saves_a_screenshot_when_the_body_panics() {
    let Some(page) = open().await else { return };
    let name = "yigong-testkit-run-failure";
    let passed = "yigong-testkit-run-success";
    let shot = page.screenshot(name).await;
    let dir = shot.parent().unwrap().to_owned();
    assert!(dir.ends_with("target/test-artifacts"), "{}", dir.display());
    for file in [format!("{name}.png"), format!("{name}.html"), format!("{passed}.png")] {
        let _ = std::fs::remove_file(dir.join(file));
    }

    let outcome = AssertUnwindSafe(browser::run(page, name, async |page| {
        page.goto("/form").await;
        panic!("on purpose");
    }))
    .catch_unwind()
    .await;
    assert_eq!(panic_message(&*outcome.unwrap_err()), "on purpose");
    let png = std::fs::read(dir.join(format!("{name}.png"))).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{:?}", &png[..png.len().min(8)]);
    let html = std::fs::read_to_string(dir.join(format!("{name}.html"))).unwrap();
    assert!(html.contains("姓名"), "{html}");

    let Some(page) = open().await else { return };
    browser::run(page, passed, async |page| page.goto("/form").await).await;
    assert!(!dir.join(format!("{passed}.png")).exists());
}

/// Runs the ignored test `probe` in a child process of this test binary with `env`, and
/// without `CI` unless `env` sets it.
fn probe(probe: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args([probe, "--exact", "--ignored", "--nocapture", "--test-threads=1"]);
    child.env("YIGONG_TESTKIT_PROBE", "1").env_remove("CI");
    child.envs(env.iter().copied());
    child.output().unwrap()
}

#[test]
fn missing_chromium_skips_with_one_line() {
    let output = probe("probe_missing_chromium", &[("YIGONG_CHROMIUM", "/nonexistent")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{output:?}");
    let lines: Vec<_> = stderr.lines().filter(|line| line.contains("yigong-testkit")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("skipping browser test (thread `probe_missing_chromium`)"), "{stderr}");
    assert!(lines[0].contains("YIGONG_CHROMIUM=/nonexistent"), "{stderr}");
}

#[test]
fn missing_chromium_fails_under_ci() {
    let output = probe("probe_missing_chromium", &[("YIGONG_CHROMIUM", "/nonexistent"), ("CI", "true")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{output:?}");
    assert!(stderr.contains("CI=true forbids skipping browser tests"), "{stderr}");
}

/// Asks for a browser, expecting none; run only by the two tests above.
#[tokio::test]
#[ignore = "run in a child process by missing_chromium_*"]
async fn probe_missing_chromium() {
    assert_eq!(std::env::var("YIGONG_TESTKIT_PROBE").as_deref(), Ok("1"), "run by missing_chromium_*");
    assert!(browser::chromium("http://127.0.0.1:9").await.is_none());
}

/// Ids of the processes, other than this one, whose environment holds `variable`.
fn processes_with_env(variable: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != std::process::id())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|environ| environ.split(|&b| b == 0).any(|v| v == variable.as_bytes()))
        })
        .collect()
}

#[test]
fn a_panicking_test_leaves_no_browser_process() {
    let mark = format!("YIGONG_TESTKIT_MARK={}-{}", std::process::id(), line!());
    let (name, value) = mark.split_once('=').unwrap();
    let output = probe("probe_panic_holding_a_browser", &[(name, value)]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("skipping browser test") {
        return;
    }
    assert!(!output.status.success(), "{output:?}");
    assert!(stderr.contains("panics while holding the browser"), "{stderr}");
    assert_eq!(processes_with_env(&mark), Vec::<u32>::new(), "left running by the child: {stderr}");
}

/// Starts a browser, checks that its processes carry the mark, and panics without closing it;
/// run only by the test above.
#[tokio::test]
#[ignore = "run in a child process by a_panicking_test_leaves_no_browser_process"]
async fn probe_panic_holding_a_browser() {
    assert_eq!(std::env::var("YIGONG_TESTKIT_PROBE").as_deref(), Ok("1"), "run by a_panicking_test_*");
    let mark = format!("YIGONG_TESTKIT_MARK={}", std::env::var("YIGONG_TESTKIT_MARK").unwrap());
    let Some(page) = open().await else { return };
    page.goto("/form").await;
    let running = processes_with_env(&mark);
    assert!(running.len() >= 3, "chromedriver and Chromium's processes: {running:?}");
    panic!("panics while holding the browser {page:?}");
}
