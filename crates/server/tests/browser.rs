//! The page in a real browser (issue 16, item 6): headless Chromium opens `/?selftest=1`, the
//! page uploads the server's test fixture through `/api/identify` as a user's drop would, and
//! the test reads the rendered DOM (`--dump-dom`) for the singer's name and the timeline; a
//! second run takes a screenshot (`--screenshot`).
//!
//! Chromium is found as `$SINGERID_CHROMIUM`, or `chromium`, `chromium-browser`,
//! `google-chrome` on the PATH (`tools/install-chromium.sh` installs the Debian package).
//! Without one the test is skipped with a message saying so. `--virtual-time-budget` makes
//! Chromium wait for the page's requests (virtual time stands still while they are pending)
//! before it dumps or shoots. Set `SINGERID_SCREENSHOT=path.png` to keep the screenshot.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, fixture_bytes, post_files, start_with};
use singerid_server::Limits;

/// How long one Chromium run may take (a cold start on a busy 2-core machine is slow).
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn the_page_names_the_singer_and_draws_the_timeline_in_chromium() {
    let Some(browser) = chromium() else {
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the browser test: no Chromium found (set SINGERID_CHROMIUM, or run \
             tools/install-chromium.sh)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_with(
        dir.path(),
        Limits::default(),
        Some(fixture("formats/amy_1_01.mp3")),
    );
    // A library with an enrolled singer, so the map and the similar singers have content.
    let clips: Vec<(String, Vec<u8>)> = [
        "yifen/yifen_1/yifen_1_05.mp3",
        "yifen/yifen_3/yifen_3_09.mp3",
        "abjones/abjones_1/abjones_1_02.mp3",
        "Ani/Ani_1/Ani_1_03.mp3",
    ]
    .iter()
    .map(|p| {
        let name = p.rsplit('/').next().unwrap_or(p).to_owned();
        (name, fixture_bytes(&format!("mir1k-mini/audio/{p}")))
    })
    .collect();
    let files: Vec<(&str, &[u8])> = clips.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let enrolled = post_files(server.addr, "/api/singers/Guest/recordings", &files);
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);

    let url = format!("http://{}/?selftest=1", server.addr);
    let profile = dir.path().join("chromium-profile");
    let dom = run(&browser, &profile, &["--dump-dom", &url]);
    assert!(
        dom.contains(r#"data-selftest="done""#),
        "the page's self-test did not finish: {}",
        &dom[..dom.len().min(3000)]
    );
    assert!(
        dom.contains(r#"<strong id="singer" style="color: "#),
        "{dom}"
    );
    assert!(
        dom.contains(">amy</strong>"),
        "the singer's name is missing: {dom}"
    );
    assert!(dom.contains(r#"id="timeline""#), "no timeline: {dom}");
    assert_eq!(
        dom.matches(r#"class="clip""#).count(),
        3,
        "one block per clip"
    );
    assert!(dom.contains(r#"id="map""#), "no map: {dom}");
    assert!(
        dom.contains(">Guest</text>"),
        "the enrolled singer is not on the map"
    );

    let shot = std::env::var_os("SINGERID_SCREENSHOT")
        .map_or_else(|| dir.path().join("page.png"), PathBuf::from);
    run(
        &browser,
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1560",
            &url,
        ],
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

/// The browser to use, if any.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SINGERID_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Runs headless Chromium with `args`; returns its stdout. Panics (with its stderr) when it
/// fails or overruns [`CHROMIUM_TIMEOUT`].
fn run(browser: &Path, profile: &Path, args: &[&str]) -> String {
    let out_dir = profile.with_extension("out");
    std::fs::create_dir_all(&out_dir).expect("output folder");
    let stdout_path = out_dir.join("stdout");
    let stderr_path = out_dir.join("stderr");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=60000",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", browser.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for chromium") {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium ran over {CHROMIUM_TIMEOUT:?}: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}): {stderr}");
    std::fs::read_to_string(&stdout_path).expect("chromium's output")
}
