//! The library commands from the command line, on the MIR-1K fixture clips (research-only
//! audio) with the shipped model and a temporary database: scan twice (the second skips
//! everything), list the singers, enrol one, search, and the errors a user can make.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const MINI: &str = "../../../shared/data/fixtures/mir1k-mini/audio";

fn singerid(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_singerid"))
        .args(args)
        .arg("--db")
        .arg(db)
        .arg("--quiet")
        .env_remove("SINGERID_DB")
        .env_remove("SINGERID_MODEL")
        .env_remove("RUST_LOG")
        .output()
        .expect("run singerid")
}

fn json(output: &Output) -> Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn scan_enrol_singers_and_similar() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("sub/library.sqlite");
    let first = json(&singerid(&db, &["scan", MINI, "--format", "json"]));
    assert_eq!(
        (first["found"].as_u64(), first["analysed"].as_u64()),
        (Some(16), Some(16))
    );
    let again = json(&singerid(&db, &["scan", MINI, "--format", "json"]));
    assert_eq!(
        (again["analysed"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(16))
    );

    let yifen = format!("{MINI}/yifen");
    let enrolled = json(&singerid(
        &db,
        &["enrol", "--name", "Someone New", &yifen, "--format", "json"],
    ));
    assert_eq!(enrolled["recordings"].as_u64(), Some(4));
    let listing = json(&singerid(&db, &["singers", "--format", "json"]));
    let singers = listing["singers"].as_array().expect("list");
    assert_eq!(singers.len(), 18, "17 trained + 1 enrolled");
    assert!(
        singers
            .iter()
            .any(|s| s["name"] == "Someone New" && s["kind"] == "enrolled")
    );

    let near = json(&singerid(
        &db,
        &["similar", "Someone New", "-k", "2", "--format", "json"],
    ));
    assert_eq!(near["recordings"].as_array().map(Vec::len), Some(2));

    // A trained singer's name, an unknown singer, a missing file: clear errors, exit 2.
    for (args, says) in [
        (
            vec!["enrol", "--name", "yifen", yifen.as_str()],
            "trained singers",
        ),
        (vec!["similar", "Nobody"], "no singer \"Nobody\""),
        (vec!["scan", "/nonexistent/folder"], "nonexistent"),
    ] {
        let out = singerid(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
