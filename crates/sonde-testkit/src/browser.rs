//! A real headless Chromium (Debian's `chromium`, installed by
//! `scripts/setup-test-deps`) driven through the DevTools protocol over a
//! WebSocket: navigate, type, click, evaluate, resize, take screenshots.
//! Cookies persist across navigations as in any browser.
//!
//! Chromium missing is a test failure ([`chromium`] panics), never a skip.
//!
//! ```no_run
//! let mut page = sonde_testkit::browser::Page::launch();
//! page.navigate("http://127.0.0.1:7070/");
//! assert_eq!(page.eval("document.title"), "Sign in · Sonde");
//! ```

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long one DevTools answer or event may take (a cold Chromium start on
/// a busy machine is slow).
const READ_TIMEOUT: Duration = Duration::from_secs(90);

/// The Chromium binary; panics when none is installed.
pub fn chromium() -> String {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).exists() {
            return candidate.to_owned();
        }
    }
    panic!("Chromium is not installed: run scripts/setup-test-deps (installs Debian's chromium)");
}

/// The flags every test Chromium runs with: headless, no sandbox (tests run
/// as root in CI containers), nothing fetched in the background.
pub const FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// A Chromium process in its own process group, ended (the whole group)
/// when dropped.
#[derive(Debug)]
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        // `--` so that the negative process-group id is not read as an option.
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--"])
            .arg(format!("-{}", self.0.id()))
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Chromium with [`FLAGS`], `extra` arguments and a profile in
/// `profile`, in its own process group, its output discarded.
pub fn spawn(profile: &Path, extra: &[&str]) -> Process {
    spawn_with(profile, extra, Stdio::null())
}

fn spawn_with(profile: &Path, extra: &[&str], stderr: Stdio) -> Process {
    use std::os::unix::process::CommandExt;
    Process(
        Command::new(chromium())
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .expect("start chromium"),
    )
}

/// One tab of a headless Chromium, driven over the DevTools protocol.
pub struct Page {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    events: Vec<Value>,
    _process: Process,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page").finish_non_exhaustive()
    }
}

impl Page {
    /// Starts Chromium on `about:blank` and attaches to its tab.
    pub fn launch() -> Self {
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut process = spawn_with(
            profile.path(),
            &["--remote-debugging-port=0", "about:blank"],
            Stdio::piped(),
        );
        let stderr = process.0.stderr.take().expect("piped stderr");
        // Chromium prints its DevTools endpoint on stderr once it listens;
        // the rest of its stderr is read and dropped so the pipe never fills.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    if !sent {
                        let _ = tx.send(url.trim().to_owned());
                        sent = true;
                    }
                }
            }
        });
        let browser_ws = rx
            .recv_timeout(READ_TIMEOUT)
            .expect("Chromium printed its DevTools endpoint");
        let host = browser_ws
            .strip_prefix("ws://")
            .and_then(|r| r.split('/').next())
            .expect("a ws:// endpoint")
            .to_owned();
        let list: Value = crate::http::agent()
            .get(&format!("http://{host}/json/list"))
            .call()
            .expect("the DevTools target list")
            .body_mut()
            .read_json()
            .expect("the target list as JSON");
        let page_ws = list
            .as_array()
            .and_then(|targets| targets.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_owned();
        let (ws, _) = tungstenite::connect(page_ws.as_str()).expect("connect to the page's DevTools socket");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(READ_TIMEOUT)).expect("a read timeout");
        }
        let mut page = Page {
            ws,
            next_id: 0,
            events: Vec::new(),
            _process: process,
            _profile: profile,
        };
        page.call("Page.enable", json!({}));
        page.call("Runtime.enable", json!({}));
        page.call("Log.enable", json!({}));
        page
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().expect("a DevTools message") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("DevTools JSON"),
                Message::Close(_) => panic!("Chromium closed the DevTools socket"),
                _ => {}
            }
        }
    }

    /// Calls DevTools `method` with `params`; returns its result (panics
    /// with the error when it fails). Events read meanwhile are kept.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"id": id, "method": method, "params": params});
        self.ws.send(Message::text(msg.to_string())).expect("send to DevTools");
        loop {
            let v = self.read();
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("DevTools {method} failed: {e}");
                }
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    /// Waits for event `method` (already received or next), consuming it.
    pub fn wait_event(&mut self, method: &str) -> Value {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            return self.events.remove(i);
        }
        loop {
            let v = self.read();
            if v["method"] == method {
                return v;
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    /// Exceptions thrown by the page's scripts so far (`Runtime.exceptionThrown`).
    pub fn exceptions(&self) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e["method"] == "Runtime.exceptionThrown")
            .cloned()
            .collect()
    }

    /// The texts of the browser's log entries so far (`Log.entryAdded`:
    /// Content-Security-Policy refusals, failed loads...) and of the page's
    /// `console.error` calls.
    pub fn log(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e["method"].as_str() {
                Some("Log.entryAdded") => Some(e["params"]["entry"]["text"].to_string()),
                Some("Runtime.consoleAPICalled") if e["params"]["type"] == "error" => {
                    Some(e["params"]["args"].to_string())
                }
                _ => None,
            })
            .collect()
    }

    /// Opens `url` and waits for its load event.
    pub fn navigate(&mut self, url: &str) {
        self.events.retain(|e| e["method"] != "Page.loadEventFired");
        let r = self.call("Page.navigate", json!({"url": url}));
        assert!(r.get("errorText").is_none(), "navigating to {url}: {r}");
        self.wait_event("Page.loadEventFired");
    }

    /// Runs `action` (which makes the page navigate, e.g. submits a form)
    /// and waits for the new page's load event.
    pub fn navigating(&mut self, action: impl FnOnce(&mut Self)) {
        self.events.retain(|e| e["method"] != "Page.loadEventFired");
        action(self);
        self.wait_event("Page.loadEventFired");
    }

    /// The value of the JavaScript expression `expr` (promises awaited);
    /// panics when it throws.
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{expr} threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Focuses the element `selector` and types `text` into it.
    pub fn type_into(&mut self, selector: &str, text: &str) {
        let sel = serde_json::to_string(selector).expect("a selector");
        self.eval(&format!("document.querySelector({sel}).focus()"));
        self.call("Input.insertText", json!({"text": text}));
    }

    /// Clicks the element `selector` (as a user would: its `click()`).
    pub fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).expect("a selector");
        self.eval(&format!("document.querySelector({sel}).click()"));
    }

    /// Sets the viewport to `width` × `height` CSS pixels (a phone with
    /// `mobile`).
    pub fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    /// Saves a PNG of the whole page (beyond the viewport) to `path`,
    /// creating its directory.
    pub fn screenshot(&mut self, path: &Path) {
        let metrics = self.call("Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let (w, h) = (
            size["width"].as_f64().unwrap_or(800.0),
            size["height"].as_f64().unwrap_or(600.0),
        );
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot directory");
        }
        std::fs::write(path, png).expect("write the screenshot");
    }
}
