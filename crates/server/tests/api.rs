//! The HTTP API end to end (issue 16, item 5): a server on an ephemeral port with the shipped
//! model and a temporary database, driven over real TCP connections.

mod common;

use std::time::Duration;

use common::{fixture_bytes, get, post_files, send, start};
use singerid_server::Limits;
use singerid_server::config::MIB;

/// A short MIR-1K clip of `amy` (11.4 s, 3 whole clips of 3 s), which the shipped model names `amy`.
const AMY: &str = "formats/amy_1_01.mp3";

/// Health counts the model's singers and the library's recordings; identify answers as
/// `identify --format json` does for one file, with the uploaded name as its path.
#[test]
fn health_and_identify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), Limits::default());
    let health = get(server.addr, "/api/health");
    assert_eq!(health.status, 200, "{}", health.body);
    let health = health.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["model"], singerid_infer::DEFAULT_MODEL);
    assert_eq!(health["singers"], 17);
    assert_eq!(health["recordings"], 0);

    let reply = post_files(
        server.addr,
        "/api/identify",
        &[("amy_1_01.mp3", &fixture_bytes(AMY))],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["classes"].as_array().map(Vec::len), Some(17));
    assert_eq!(json["failures"], serde_json::json!([]));
    let file = &json["files"][0];
    assert_eq!(file["path"], "amy_1_01.mp3");
    assert_eq!(file["singer"], "amy");
    assert_eq!(file["top"].as_array().map(Vec::len), Some(3));
    let clips = file["clips"].as_array().expect("clips");
    assert_eq!(clips.len(), 3);
    assert!(
        clips
            .iter()
            .all(|c| c["end_s"].as_f64() > c["start_s"].as_f64())
    );
    assert_eq!(file["decided_by"], "model");
    // Identification writes nothing.
    assert_eq!(get(server.addr, "/api/health").json()["recordings"], 0);
}

/// Empty, truncated, non-audio, oversized, too long and too short uploads, and malformed
/// requests, are all 4xx with a JSON error, and the server goes on serving.
#[test]
fn bad_input_is_4xx_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        max_upload_bytes: MIB,
        max_seconds: 12.0,
        ..Limits::default()
    };
    let server = start(dir.path(), limits);
    let addr = server.addr;
    let identify = |name: &str, bytes: &[u8]| post_files(addr, "/api/identify", &[(name, bytes)]);
    let wav = fixture_bytes("formats/amy_1_01.wav");

    let empty = identify("empty.mp3", b"").error(415);
    assert!(empty.contains("empty.mp3 is empty"), "{empty}");
    let truncated = identify("half.mp3", &fixture_bytes(AMY)[..90_000]).error(415);
    assert!(truncated.contains("half.mp3 is truncated"), "{truncated}");
    assert!(
        !truncated.contains("/tmp"),
        "the temporary path leaks: {truncated}"
    );
    let text = identify("notes.txt", b"not audio at all").error(415);
    assert!(text.contains("notes.txt is not an audio file"), "{text}");
    let fake = identify("fake.mp3", &[b'x'; 5000]).error(415);
    assert!(
        fake.contains("fake.mp3 is not a supported audio file"),
        "{fake}"
    );
    let big = identify("big.wav", &vec![0; 3 * MIB as usize]).error(413);
    assert!(big.contains("--max-upload-mb"), "{big}");
    let huge = send(
        addr,
        "POST",
        "/api/identify",
        &[
            ("content-type", "multipart/form-data; boundary=x"),
            ("content-length", "10000000000"),
        ],
        b"",
    );
    huge.error(413);
    // 15.9 s of audio against a 12 s limit (the 11.4 s WAV of the same clip plus 40 % of it).
    let long = identify("long.wav", &longer_wav(&wav)).error(413);
    assert!(long.contains("--max-seconds"), "{long}");
    let short = identify(
        "short.wav",
        &fixture_bytes("formats/fsdd_0_george_0_8k_mono.wav"),
    )
    .error(422);
    assert!(short.contains("too short"), "{short}");
    let not_multipart = send(
        addr,
        "POST",
        "/api/identify",
        &[("content-type", "application/json")],
        b"{}",
    );
    not_multipart.error(415);
    send(
        addr,
        "POST",
        "/api/identify",
        &[("content-type", "multipart/form-data")],
        b"--x--",
    )
    .error(400);
    let (content_type, body) = common::multipart(&[]);
    send(
        addr,
        "POST",
        "/api/identify",
        &[("content-type", &content_type)],
        &body,
    )
    .error(400);
    get(addr, "/api/nothing").error(404);
    get(addr, "/api/identify").error(405);
    get(addr, "/api/similar?recording=abc").error(400);
    get(addr, "/api/similar?k=3").error(400);
    get(addr, "/api/similar?recording=1&k=0").error(400);
    get(addr, "/api/similar?recording=999").error(404);

    assert_eq!(get(addr, "/api/health").status, 200);
    assert_eq!(identify("amy.wav", &wav).status, 200);
    assert_eq!(server.app.slots.admitted(), 0);
}

/// With every slot and queue place taken, identify answers 503 with Retry-After at once, and
/// works again when a slot is free.
#[test]
fn a_saturated_server_answers_503_with_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = Limits {
        max_concurrent: 1,
        max_queue: 0,
        queue_wait: Duration::from_millis(100),
        ..Limits::default()
    };
    let server = start(dir.path(), limits);
    let amy = fixture_bytes(AMY);
    let held = server.app.slots.admit().expect("the only slot");
    let busy = post_files(server.addr, "/api/identify", &[("amy.mp3", &amy)]);
    let message = busy.error(503);
    assert_eq!(
        message,
        "the server is busy: 1 requests are running or waiting for one of its 1 inference \
         slots; retry later"
    );
    let retry: u64 = busy
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=60).contains(&retry));
    // Health never waits for a slot.
    assert_eq!(get(server.addr, "/api/health").status, 200);
    drop(held);
    assert_eq!(
        post_files(server.addr, "/api/identify", &[("amy.mp3", &amy)]).status,
        200
    );
}

/// Enrolling creates a singer (201), adds recordings to it (200), refuses trained and bad
/// names; the singer is listed, mapped, searchable, and offered by identify.
#[test]
fn enrol_then_list_map_and_search() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path(), Limits::default());
    let addr = server.addr;
    let a = fixture_bytes("mir1k-mini/audio/yifen/yifen_1/yifen_1_05.mp3");
    let b = fixture_bytes("mir1k-mini/audio/yifen/yifen_3/yifen_3_09.mp3");
    let c = fixture_bytes("mir1k-mini/audio/yifen/yifen_1/yifen_1_16.mp3");

    let first = post_files(
        addr,
        "/api/singers/Guest%20Singer/recordings",
        &[("yifen_1_05.mp3", &a), ("yifen_3_09.mp3", &b)],
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let first = first.json();
    assert_eq!(first["singer"], "Guest Singer");
    assert_eq!(first["recordings"], 2);
    let again = post_files(
        addr,
        "/api/singers/Guest%20Singer/recordings",
        &[("yifen_1_16.mp3", &c), ("copy.mp3", &a)],
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["recordings"], 3, "the copy of a counts once");

    post_files(addr, "/api/singers/amy/recordings", &[("a.mp3", &a)]).error(409);
    post_files(addr, "/api/singers/unknown/recordings", &[("a.mp3", &a)]).error(400);
    post_files(addr, "/api/singers/Bad%20/recordings", &[("a.mp3", &a)]).error(400);
    post_files(addr, "/api/singers/Other/recordings", &[("x.mp3", b"xx")]).error(415);

    let singers = get(addr, "/api/singers").json();
    let guest: Vec<&serde_json::Value> = singers["singers"]
        .as_array()
        .expect("singers")
        .iter()
        .filter(|s| s["name"] == "Guest Singer")
        .collect();
    assert_eq!(guest.len(), 1);
    assert_eq!(guest[0]["kind"], "enrolled");
    assert_eq!(guest[0]["enrolled_recordings"], 3);
    assert!(
        singers["singers"]
            .as_array()
            .is_some_and(|s| !s.iter().any(|s| s["name"] == "Other"))
    );
    assert_eq!(get(addr, "/api/health").json()["recordings"], 3);

    let map = get(addr, "/api/map").json();
    assert_eq!(map["method"], "pca");
    let recordings = map["recordings"].as_array().expect("recordings");
    assert_eq!(recordings.len(), 3);
    assert!(
        map["singers"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["name"] == "Guest Singer"))
    );
    let id = recordings[0]["id"].as_i64().expect("id");

    let similar = get(addr, &format!("/api/similar?recording={id}&k=2"));
    assert_eq!(similar.status, 200, "{}", similar.body);
    let similar = similar.json();
    assert_eq!(similar["recordings"].as_array().map(Vec::len), Some(2));
    assert_eq!(similar["searched"], 3);
    let by_singer = get(addr, "/api/similar?singer=Guest%20Singer").json();
    assert_eq!(by_singer["recordings"].as_array().map(Vec::len), Some(3));

    let identified = post_files(addr, "/api/identify", &[("yifen_1_05.mp3", &a)]).json();
    let enrolled = &identified["files"][0]["enrolled"];
    assert_eq!(enrolled[0]["singer"], "Guest Singer", "{identified}");
    let nearest = identified["similar_singers"]
        .as_array()
        .expect("similar singers");
    assert!(
        nearest.iter().any(|s| s["name"] == "Guest Singer"),
        "{identified}"
    );
}

/// `wav` (16-bit PCM, RIFF) with its first 40 % of samples appended again: a longer valid WAV.
fn longer_wav(wav: &[u8]) -> Vec<u8> {
    let data_at = wav
        .windows(4)
        .position(|w| w == b"data")
        .expect("a data chunk");
    let samples = &wav[data_at + 8..];
    let extra = &samples[..(samples.len() * 2 / 5) & !3];
    let mut out = wav[..data_at + 4].to_vec();
    let size = (samples.len() + extra.len()) as u32;
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(samples);
    out.extend_from_slice(extra);
    let riff = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    out
}
