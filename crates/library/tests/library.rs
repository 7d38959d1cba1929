//! The library database end to end with the shipped model on the MIR-1K fixture clips
//! (`../shared/data/fixtures/mir1k-mini`, research-only audio): incremental scans, resuming,
//! changed files, enrolment and the decision among trained and enrolled singers.

use std::path::{Path, PathBuf};

use singerid_data::progress::Silent;
use singerid_infer::{Bundle, DeviceChoice, IdentifyOptions};
use singerid_library::{Library, Query, enrol, identify_open, scan, similar};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fixtures/mir1k-mini/audio")
}

fn model() -> (Bundle, PathBuf) {
    let dir = singerid_infer::default_model().expect("the shipped model");
    let bundle = singerid_infer::load_model(&dir, DeviceChoice::Cpu).expect("loads");
    (bundle, dir)
}

/// Copies the fixture clips of `singers` into `dir` (a temporary folder, never the repository).
fn copy_clips(singers: &[&str], dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for singer in singers {
        for song in std::fs::read_dir(fixtures().join(singer)).expect("fixture folder") {
            let song = song.expect("entry").path();
            for clip in std::fs::read_dir(&song).expect("song folder") {
                let clip = clip.expect("entry").path();
                let to = dir.join(clip.file_name().expect("name"));
                std::fs::copy(&clip, &to).expect("copy");
                out.push(to);
            }
        }
    }
    out.sort();
    out
}

/// Scans `inputs` with the defaults and no per-file callback.
fn scan_all(
    library: &mut Library,
    (bundle, model_dir): (&Bundle, &Path),
    inputs: &[PathBuf],
) -> singerid_library::ScanSummary {
    scan(
        library,
        bundle,
        model_dir,
        inputs,
        &IdentifyOptions::default(),
        &Silent,
        &mut |_| {},
    )
    .expect("scan")
}

/// A scan stores every file; a second scan reads nothing; a touched file (same bytes) is
/// recognised by its hash; a file with new content is redone; results are committed while the
/// scan goes on (another connection sees each file as soon as it is reported), so an
/// interrupted scan keeps them and the next one resumes.
#[test]
fn scans_are_incremental_and_resume() {
    let (bundle, model_dir) = model();
    let tmp = tempfile::tempdir().expect("tempdir");
    let music = tmp.path().join("music");
    std::fs::create_dir(&music).expect("mkdir");
    let files = copy_clips(&["Ani", "abjones"], &music);
    let db = tmp.path().join("lib.sqlite");
    let mut library = Library::open(&db).expect("open");
    let options = IdentifyOptions::default();

    // "Interrupted" after the first file: only it is scanned...
    let first = scan_all(&mut library, (&bundle, &model_dir), &files[..1]);
    assert_eq!((first.analysed, first.unchanged), (1, 0));

    // ... and the full scan resumes: the first file is skipped. Each stored file is visible to
    // another connection when reported (committed, not held in a transaction).
    let mut seen = 0;
    let reader = Library::open(&db).expect("second connection");
    let model_id = library
        .register_model(&bundle, &model_dir)
        .expect("model")
        .id;
    let full = scan(
        &mut library,
        &bundle,
        &model_dir,
        std::slice::from_ref(&music),
        &options,
        &Silent,
        &mut |_| {
            seen += 1;
            let stored = reader.analyses(model_id).expect("read").len();
            assert!(
                stored > seen,
                "{stored} stored after {seen} reported (+1 earlier)"
            );
        },
    )
    .expect("scan");
    assert_eq!(full.found, files.len());
    assert_eq!((full.analysed, full.unchanged), (files.len() - 1, 1));
    assert!(full.failures.is_empty(), "{:?}", full.failures);
    assert_eq!(full.total_analysed, files.len());

    // Nothing to do the second time.
    let again = scan_all(
        &mut library,
        (&bundle, &model_dir),
        std::slice::from_ref(&music),
    );
    assert_eq!((again.analysed, again.unchanged), (0, files.len()));

    // Touched (rewritten with the same bytes): same hash, skipped. Changed: redone.
    let bytes = std::fs::read(&files[0]).expect("read");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&files[0], &bytes).expect("rewrite");
    std::fs::copy(&files[2], &files[1]).expect("replace");
    let after = scan_all(
        &mut library,
        (&bundle, &model_dir),
        std::slice::from_ref(&music),
    );
    assert_eq!(
        (after.analysed, after.changed, after.unchanged),
        (1, 1, files.len() - 1)
    );

    // A bad file is a failure on its own line, and the rest goes on.
    std::fs::write(music.join("broken.mp3"), b"not audio at all").expect("write");
    let bad = scan_all(
        &mut library,
        (&bundle, &model_dir),
        std::slice::from_ref(&music),
    );
    assert_eq!(bad.failures.len(), 1);
    assert!(bad.failures[0].path.ends_with("broken.mp3"));
    assert_eq!(bad.unchanged, files.len());
}

/// An enrolled singer is named on their own recordings (their profile is the closest of all)
/// and not on another singer's; silence stays `unknown` whatever is enrolled; names that
/// collide with a trained singer or with `unknown` are refused; `similar` finds the enrolled
/// singer nearest to their recording.
#[test]
fn enrolled_singers_are_identified() {
    let (bundle, model_dir) = model();
    let tmp = tempfile::tempdir().expect("tempdir");
    let voice = tmp.path().join("voice");
    let other = tmp.path().join("other");
    std::fs::create_dir(&voice).expect("mkdir");
    std::fs::create_dir(&other).expect("mkdir");
    let mine = copy_clips(&["yifen"], &voice);
    let theirs = copy_clips(&["abjones"], &other);
    let mut library = Library::open(&tmp.path().join("lib.sqlite")).expect("open");
    let options = IdentifyOptions::default();

    for bad in ["abjones", "unknown", " x", ""] {
        let err = enrol(
            &mut library,
            &bundle,
            &model_dir,
            bad,
            std::slice::from_ref(&voice),
            &options,
            &Silent,
        )
        .expect_err(bad);
        assert!(!err.to_string().is_empty());
    }
    let summary = enrol(
        &mut library,
        &bundle,
        &model_dir,
        "Newcomer",
        std::slice::from_ref(&voice),
        &options,
        &Silent,
    )
    .expect("enrol");
    assert!(summary.new_singer);
    assert_eq!(summary.recordings, mine.len());
    assert!(
        summary.enrol_threshold.is_some(),
        "the shipped model is calibrated"
    );

    let silence = tmp.path().join("silence.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&silence, spec).expect("wav");
    for _ in 0..16_000 * 5 {
        w.write_sample(0_i16).expect("sample");
    }
    w.finalize().expect("wav");

    let inputs = vec![mine[0].clone(), theirs[0].clone(), silence];
    let found = identify_open(
        &mut library,
        &bundle,
        &model_dir,
        &inputs,
        &options,
        &Silent,
        &mut |_| {},
    )
    .expect("identify");
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    let by = |p: &Path| {
        found
            .files
            .iter()
            .find(|f| f.file.path == p)
            .expect("result")
    };
    let me = by(&mine[0]);
    assert_eq!(
        (me.file.singer.as_str(), me.decided_by),
        ("Newcomer", "enrolled")
    );
    assert_eq!(me.enrolled[0].singer, "Newcomer");
    let them = by(&theirs[0]);
    assert_ne!(them.file.singer, "Newcomer");
    assert_eq!(them.decided_by, "model");
    let quiet = by(&inputs[2]);
    assert_eq!(quiet.file.singer, "unknown");

    let near = similar(
        &mut library,
        &bundle,
        &model_dir,
        &Query::File(mine[0].clone()),
        3,
        &options,
        &Silent,
    )
    .expect("similar");
    assert_eq!(near.singers[0].name, "Newcomer");
    assert!(near.recordings.iter().all(|r| r.distance >= 0.0));
}
