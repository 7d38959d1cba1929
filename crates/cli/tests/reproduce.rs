//! `singerid reproduce` on the mini fixture: one model, one clip length, both settings, one
//! seed, one epoch each. It must write the paper's Table 1 layout and, rerun, skip the finished
//! cells instead of training again.

use std::path::Path;
use std::process::Command;

const MINI: &str = "../../../shared/data/fixtures/mir1k-mini/metadata.csv";

fn reproduce(out: &Path, cache: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_singerid"))
        .args([
            "reproduce",
            "--data",
            MINI,
            "--split",
            "song",
            "--models",
            "crnn",
        ])
        .args([
            "--clip-seconds",
            "3",
            "--seeds",
            "0",
            "--epochs",
            "1",
            "--batch-size",
            "8",
        ])
        .arg("--cache")
        .arg(cache)
        .arg("--out")
        .arg(out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .expect("run singerid")
}

#[test]
fn reproduce_writes_the_table_and_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, cache) = (dir.path().join("grid"), dir.path().join("cache"));
    let first = reproduce(&out, &cache);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "reproduce failed: {stderr}");

    let table = std::fs::read_to_string(out.join("table.md")).expect("table.md");
    assert!(table.contains(
        "| Model | Type | Original audio Frame 3s | Original audio Song 3s | Vocal-only Frame 3s \
         | Vocal-only Song 3s | #Parameters |"
    ));
    let average = table
        .lines()
        .find(|l| l.starts_with("| crnn | Average |"))
        .expect("an Average row for crnn");
    // Four scores in [0, 1] and the parameter count for 4 singers.
    let cells: Vec<&str> = average.split('|').map(str::trim).collect();
    for score in &cells[3..7] {
        let v: f64 = score.parse().expect("a score");
        assert!((0.0..=1.0).contains(&v), "{average}");
    }
    assert_eq!(cells[7], "393,988");
    for cell in ["crnn-3s-mixture-seed0", "crnn-3s-vocal_only-seed0"] {
        let run = out.join("runs").join(cell);
        assert!(run.join("result.json").is_file(), "{cell}: no result.json");
        assert!(
            run.join("report/report.json").is_file(),
            "{cell}: no report"
        );
    }

    // Rerun: both cells are done and skipped; the table is unchanged.
    let second = reproduce(&out, &cache);
    assert!(second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(
        stderr.matches("done earlier, skipped").count(),
        2,
        "{stderr}"
    );
    let again = std::fs::read_to_string(out.join("table.md")).expect("table.md");
    assert_eq!(table, again);
}
