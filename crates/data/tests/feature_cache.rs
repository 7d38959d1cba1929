//! The feature cache end to end: real MIR-1K clips (`shared/data/fixtures/mir1k-mini`, read in
//! place) and bad files the tests create in temporary folders.

use std::path::{Path, PathBuf};

use singerid_audio::{Channel, FeatureConfig, LogMel, Preset, features_from_file};
use singerid_data::cache::{INDEX_FILE, Outcome, RecordingOutcome};
use singerid_data::{DataError, Dataset, FeatureCache, Recording};

const MINI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/fixtures/mir1k-mini"
);

fn mini_clip() -> PathBuf {
    Path::new(MINI).join("audio/Ani/Ani_1/Ani_1_03.mp3")
}

/// A 16-bit PCM WAV file with `frames` zero samples per channel.
fn write_silent_wav(path: &Path, frames: u32, channels: u16, rate_hz: u32) {
    let data_len = frames * u32::from(channels) * 2;
    let mut bytes = Vec::new();
    bytes.extend(b"RIFF");
    bytes.extend((36 + data_len).to_le_bytes());
    bytes.extend(b"WAVEfmt ");
    bytes.extend(16_u32.to_le_bytes());
    bytes.extend(1_u16.to_le_bytes()); // PCM
    bytes.extend(channels.to_le_bytes());
    bytes.extend(rate_hz.to_le_bytes());
    bytes.extend((rate_hz * u32::from(channels) * 2).to_le_bytes());
    bytes.extend((channels * 2).to_le_bytes());
    bytes.extend(16_u16.to_le_bytes());
    bytes.extend(b"data");
    bytes.extend(data_len.to_le_bytes());
    bytes.resize(bytes.len() + data_len as usize, 0);
    write(path, &bytes);
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

fn fgnl() -> FeatureConfig {
    Preset::Fgnl.config()
}

fn counts(outcomes: &[RecordingOutcome]) -> (usize, usize, usize) {
    outcomes
        .iter()
        .fold((0, 0, 0), |(c, h, f), o| match o.outcome {
            Outcome::Computed(_) => (c + 1, h, f),
            Outcome::Cached(_) => (c, h + 1, f),
            Outcome::Failed(_) => (c, h, f + 1),
        })
}

fn assert_finite(mel: &LogMel, what: &str) {
    assert_eq!(mel.data.len(), mel.n_mels * mel.n_frames, "{what}");
    assert!(mel.n_frames > 0, "{what}");
    let bad = mel.data.iter().filter(|v| !v.is_finite()).count();
    assert_eq!(bad, 0, "{what}: {bad} NaN or infinite values");
}

#[test]
fn fixture_is_extracted_once_then_served_from_the_cache() {
    let out = tempfile::tempdir().expect("tempdir");
    let dataset = Dataset::open(Path::new(MINI)).expect("dataset");
    assert_eq!(dataset.recordings.len(), 16);
    assert!(dataset.problems.is_empty(), "{:?}", dataset.problems);
    assert_eq!(dataset.singers().len(), 4);

    let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
    // The resolved config is on disk before any work.
    let written: FeatureConfig = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("config.json")).expect("config.json"),
    )
    .expect("parse config.json");
    assert_eq!(written, fgnl());

    let first = cache
        .extract(&dataset.recordings, features_from_file, |_| {})
        .expect("writable");
    assert_eq!(counts(&first), (16, 0, 0));
    let second = cache
        .extract(&dataset.recordings, features_from_file, |_| {})
        .expect("writable");
    assert_eq!(counts(&second), (0, 16, 0));

    // Outcomes come back in dataset order, with the same shapes both times.
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.path, b.path);
        let (Outcome::Computed(a), Outcome::Cached(b)) = (&a.outcome, &b.outcome) else {
            panic!("unexpected outcomes");
        };
        assert_eq!((a.key.as_str(), a.n_frames), (b.key.as_str(), b.n_frames));
        assert_eq!(a.n_mels, 128);
    }

    // The duration estimated from the frame count is within one hop (32 ms) of the duration
    // recorded in the fixture's metadata.csv.
    let mut metadata = csv::Reader::from_path(Path::new(MINI).join("metadata.csv")).expect("csv");
    let mut checked = 0;
    for row in metadata.records() {
        let row = row.expect("row");
        let (path, duration_s) = (&row[0], row[4].parse::<f64>().expect("duration_s"));
        let entry = first
            .iter()
            .find(|o| o.path == Path::new(path))
            .map(|o| match &o.outcome {
                Outcome::Computed(entry) => entry,
                other => panic!("{other:?}"),
            })
            .expect("listed");
        assert!(
            (entry.duration_s - duration_s).abs() <= 0.033,
            "{path}: {} vs {duration_s}",
            entry.duration_s
        );
        checked += 1;
    }
    assert_eq!(checked, 16);

    // A cache opened later (as training does) serves the same matrices.
    let reopened = FeatureCache::open(out.path(), &fgnl()).expect("open");
    assert_eq!(reopened.entries().len(), 16);
    for recording in &dataset.recordings {
        let mel = reopened.get(recording).expect("get").expect("cached");
        assert_eq!(mel.n_mels, 128);
        assert_finite(&mel, &recording.path.display().to_string());
        let direct = features_from_file(&recording.abs_path, &fgnl()).expect("features");
        assert_eq!(mel, direct);
    }
}

#[test]
fn the_manifest_and_the_tree_share_features() {
    let out = tempfile::tempdir().expect("tempdir");
    let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
    let tree = Dataset::open(Path::new(MINI)).expect("tree");
    let manifest = Dataset::open(&Path::new(MINI).join("metadata.csv")).expect("manifest");
    assert_eq!(manifest.recordings.len(), 16);
    let tree_paths: Vec<_> = tree.recordings.iter().map(|r| &r.path).collect();
    let manifest_paths: Vec<_> = manifest.recordings.iter().map(|r| &r.path).collect();
    assert_eq!(tree_paths, manifest_paths);
    // The manifest's song column and the tree's album folder agree for MIR-1K.
    for (t, m) in tree.recordings.iter().zip(&manifest.recordings) {
        assert_eq!(t.album.as_deref(), Some(m.song.as_str()));
        assert_eq!(t.singer, m.singer);
    }
    assert_eq!(
        counts(
            &cache
                .extract(&tree.recordings, features_from_file, |_| {})
                .expect("writable")
        ),
        (16, 0, 0)
    );
    assert_eq!(
        counts(
            &cache
                .extract(&manifest.recordings, features_from_file, |_| {})
                .expect("writable")
        ),
        (0, 16, 0)
    );
}

#[test]
fn another_config_never_gets_the_old_features() {
    let out = tempfile::tempdir().expect("tempdir");
    let dataset = Dataset::open(Path::new(MINI)).expect("dataset");
    let recordings = &dataset.recordings[..3];
    {
        let writer = FeatureCache::create(out.path(), &fgnl()).expect("mix");
        assert_eq!(
            counts(
                &writer
                    .extract(recordings, features_from_file, |_| {})
                    .expect("writable")
            ),
            (3, 0, 0)
        );
    }
    let mix = FeatureCache::open(out.path(), &fgnl()).expect("mix, read-only");

    let right_config = FeatureConfig {
        channel: Channel::Right,
        ..fgnl()
    };
    let right = FeatureCache::create(out.path(), &right_config).expect("right");
    assert_ne!(right.identity().id, mix.identity().id);
    // Nothing of the mix run is reused.
    assert!(right.get(&recordings[0]).expect("get").is_none());
    assert_eq!(
        counts(
            &right
                .extract(recordings, features_from_file, |_| {})
                .expect("writable")
        ),
        (3, 0, 0)
    );
    for recording in recordings {
        let key_mix = mix.key_of(&recording.abs_path).expect("key");
        let key_right = right.key_of(&recording.abs_path).expect("key");
        assert_ne!(key_mix, key_right);
        let a = mix.get(recording).expect("get").expect("mix cached");
        let b = right.get(recording).expect("get").expect("right cached");
        assert_eq!((a.n_mels, a.n_frames), (b.n_mels, b.n_frames));
        assert_ne!(a.data, b.data, "voice channel differs from the mixture");
    }
    // Both configs are recorded by id; config.json holds the latest.
    for id in [&mix.identity().id, &right.identity().id] {
        assert!(out.path().join(format!("configs/{id}.json")).is_file());
    }
    let latest: FeatureConfig = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("config.json")).expect("read"),
    )
    .expect("parse");
    assert_eq!(latest, right_config);
}

#[test]
fn edited_audio_is_recomputed() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let file = root.path().join("singer/album/clip.wav");
    write_silent_wav(&file, 8000, 1, 16_000);
    let dataset = Dataset::open(root.path()).expect("dataset");
    let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
    assert_eq!(
        counts(
            &cache
                .extract(&dataset.recordings, features_from_file, |_| {})
                .expect("writable")
        ),
        (1, 0, 0)
    );
    let before = cache
        .get(&dataset.recordings[0])
        .expect("get")
        .expect("some");

    write_silent_wav(&file, 16_000, 1, 16_000); // twice as long
    assert!(
        cache.get(&dataset.recordings[0]).expect("get").is_none(),
        "stale features must not be served"
    );
    assert_eq!(
        counts(
            &cache
                .extract(&dataset.recordings, features_from_file, |_| {})
                .expect("writable")
        ),
        (1, 0, 0)
    );
    let after = cache
        .get(&dataset.recordings[0])
        .expect("get")
        .expect("some");
    assert!(after.n_frames > before.n_frames);
    let entries = cache.entries();
    assert_eq!(entries.len(), 1, "one index entry per recording");
    assert_eq!(entries[0].n_frames, after.n_frames);
}

/// One tree with every kind of bad input next to good files. Running as root, permissions
/// cannot make a directory unreadable, so the unreadable directories are a dangling symbolic
/// link and a symbolic link to itself (`ELOOP`), both in the artist position.
#[test]
fn bad_files_fail_one_by_one_and_the_batch_goes_on() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let album = root.path().join("artist/album");
    let clip = std::fs::read(mini_clip()).expect("fixture");
    write(&album.join("good.mp3"), &clip);
    write(&album.join("empty.mp3"), b"");
    write(&album.join("truncated.mp3"), &clip[..clip.len() / 3]);
    write(&album.join("tiny.mp3"), &clip[..300]);
    write(&album.join("text.wav"), b"this is not audio\n");
    write(&album.join("notes.txt"), b"skipped: not an audio extension");
    write_silent_wav(&album.join("zero_length.wav"), 0, 2, 16_000);
    write_silent_wav(&album.join("silent.wav"), 16_000, 2, 16_000);
    write_silent_wav(&album.join("vanishes.wav"), 16_000, 2, 16_000);
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink(root.path().join("nowhere"), root.path().join("dangling")).expect("symlink");
        symlink(root.path().join("loop"), root.path().join("loop")).expect("symlink");
    }

    let dataset = Dataset::open(root.path()).expect("dataset");
    #[cfg(unix)]
    {
        assert_eq!(dataset.problems.len(), 2, "{:?}", dataset.problems);
        for problem in &dataset.problems {
            assert!(
                matches!(problem, DataError::BrokenSymlink { .. }),
                "{problem}"
            );
        }
    }
    assert_eq!(dataset.recordings.len(), 8, "notes.txt is not listed");
    std::fs::remove_file(album.join("vanishes.wav")).expect("remove");

    let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
    let outcomes = cache
        .extract(&dataset.recordings, features_from_file, |_| {})
        .expect("writable");
    let by_name = |name: &str| -> &Outcome {
        &outcomes
            .iter()
            .find(|o| o.path.file_name().is_some_and(|n| n == name))
            .unwrap_or_else(|| panic!("{name} missing"))
            .outcome
    };
    for good in ["good.mp3", "silent.wav"] {
        assert!(
            matches!(by_name(good), Outcome::Computed(_)),
            "{good}: {:?}",
            by_name(good)
        );
    }
    for bad in [
        "empty.mp3",
        "truncated.mp3",
        "tiny.mp3",
        "text.wav",
        "zero_length.wav",
        "vanishes.wav",
    ] {
        let Outcome::Failed(err) = by_name(bad) else {
            panic!("{bad} should fail, got {:?}", by_name(bad));
        };
        let message = err.to_string();
        assert!(
            message.contains(bad),
            "{bad}: the error names the file: {message}"
        );
        assert!(!message.contains('\n'), "{bad}: one line: {message}");
        assert_eq!(err.path().and_then(Path::file_name), Some(bad.as_ref()));
    }
    assert!(matches!(
        by_name("vanishes.wav"),
        Outcome::Failed(DataError::Read { .. })
    ));
    assert_eq!(counts(&outcomes), (2, 0, 6));

    // Silence is stored without NaN or -inf: the dB floor, the same everywhere.
    let silent = dataset
        .recordings
        .iter()
        .find(|r| r.path.ends_with("silent.wav"))
        .expect("silent listed");
    let mel = cache.get(silent).expect("get").expect("stored");
    assert_finite(&mel, "silent.wav");
    assert!(mel.data.iter().all(|&v| v == mel.data[0]), "flat floor");

    // Only the good files are indexed.
    assert_eq!(cache.entries().len(), 2);
}

#[test]
fn a_panic_fails_only_its_file() {
    let out = tempfile::tempdir().expect("tempdir");
    let dataset = Dataset::open(Path::new(MINI)).expect("dataset");
    let recordings = &dataset.recordings[..4];
    let victim = recordings[1].abs_path.clone();
    let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
    let outcomes = cache
        .extract(
            recordings,
            |path: &Path, config: &FeatureConfig| {
                if path == victim {
                    panic!("simulated bug in the audio front end");
                }
                features_from_file(path, config)
            },
            |_| {},
        )
        .expect("writable");
    assert_eq!(counts(&outcomes), (3, 0, 1));
    let Outcome::Failed(DataError::Panic { path, message }) = &outcomes[1].outcome else {
        panic!("expected a caught panic, got {:?}", outcomes[1].outcome);
    };
    assert_eq!(path, &victim);
    assert_eq!(message, "simulated bug in the audio front end");
}

/// The key hashes one read of the file and the features come from another: a file rewritten in
/// between must not leave features under a key that does not describe them.
#[test]
fn a_file_rewritten_while_decoding_is_not_stored_under_the_old_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("singer/album/song.mp3");
    write(&copy, &std::fs::read(mini_clip()).expect("read fixture"));
    let dataset = Dataset::open(dir.path()).expect("dataset");
    let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
    let outcomes = cache
        .extract(
            &dataset.recordings,
            |path: &Path, config: &FeatureConfig| {
                let mel = features_from_file(path, config)?;
                let mut bytes = std::fs::read(path).expect("read");
                bytes.extend_from_slice(b"appended by another program");
                std::fs::write(path, bytes).expect("rewrite");
                Ok(mel)
            },
            |_| {},
        )
        .expect("writable");
    let Outcome::Failed(DataError::ChangedDuringRead { path }) = &outcomes[0].outcome else {
        panic!(
            "expected a changed-file failure, got {:?}",
            outcomes[0].outcome
        );
    };
    assert_eq!(path, &dataset.recordings[0].abs_path);
    assert!(cache.get(&dataset.recordings[0]).expect("get").is_none());
}

#[test]
fn non_finite_features_are_never_stored() {
    let out = tempfile::tempdir().expect("tempdir");
    let dataset = Dataset::open(Path::new(MINI)).expect("dataset");
    let recordings = &dataset.recordings[..1];
    let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
    let outcomes = cache
        .extract(
            recordings,
            |path: &Path, config: &FeatureConfig| {
                let mut mel = features_from_file(path, config)?;
                mel.data[5] = f32::NEG_INFINITY;
                Ok(mel)
            },
            |_| {},
        )
        .expect("writable");
    assert!(matches!(
        &outcomes[0].outcome,
        Outcome::Failed(DataError::BadFeatures { reason, .. }) if reason.contains("1 of")
    ));
    assert!(cache.get(&recordings[0]).expect("get").is_none());
}

/// What a killed run leaves behind: some feature files, an index whose last line was cut
/// mid-write, a temporary file, and a feature file whose index line was never written.
#[test]
fn an_interrupted_run_resumes_without_losing_or_redoing_work() {
    let out = tempfile::tempdir().expect("tempdir");
    let dataset = Dataset::open(Path::new(MINI)).expect("dataset");
    let all = &dataset.recordings;
    {
        let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
        assert_eq!(
            counts(
                &cache
                    .extract(&all[..6], features_from_file, |_| {})
                    .expect("writable")
            ),
            (6, 0, 0)
        );
    }
    let index = out.path().join(INDEX_FILE);
    let text = std::fs::read_to_string(&index).expect("index");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6);
    // Lose the last line entirely (killed between the rename and the append) and tear the
    // one before it (killed mid-append).
    let torn = format!(
        "{}\n{}",
        lines[..4].join("\n"),
        &lines[4][..lines[4].len() / 2]
    );
    std::fs::write(&index, torn).expect("write");
    std::fs::write(
        out.path().join("features/.tmp-leftover.part"),
        b"half a file",
    )
    .expect("write temp");

    let cache = FeatureCache::create(out.path(), &fgnl()).expect("reopen");
    let outcomes = cache
        .extract(all, features_from_file, |_| {})
        .expect("writable");
    assert_eq!(
        counts(&outcomes),
        (10, 6, 0),
        "the 6 finished files are reused"
    );
    let reloaded = FeatureCache::open(out.path(), &fgnl()).expect("open");
    assert_eq!(reloaded.entries().len(), 16);
    let text = std::fs::read_to_string(&index).expect("index");
    assert_eq!(text.lines().count(), 16, "compacted, no torn line");
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every line parses");
    }
}

#[test]
fn a_corrupt_feature_file_is_reported_then_recomputed() {
    let out = tempfile::tempdir().expect("tempdir");
    let dataset = Dataset::open(Path::new(MINI)).expect("dataset");
    let recordings: &[Recording] = &dataset.recordings[..1];
    let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
    cache
        .extract(recordings, features_from_file, |_| {})
        .expect("writable");
    let key = cache.key_of(&recordings[0].abs_path).expect("key");
    let file = cache.feature_path(&key);
    std::fs::write(&file, b"garbage").expect("overwrite");
    assert!(matches!(
        cache.get(&recordings[0]),
        Err(DataError::CorruptFeatureFile { .. })
    ));
    // Drop the index so the file must be read to be trusted.
    drop(cache);
    std::fs::remove_file(out.path().join(INDEX_FILE)).expect("rm index");
    let cache = FeatureCache::create(out.path(), &fgnl()).expect("create");
    assert_eq!(
        counts(
            &cache
                .extract(recordings, features_from_file, |_| {})
                .expect("writable")
        ),
        (1, 0, 0)
    );
    assert!(cache.get(&recordings[0]).expect("get").is_some());
}

#[test]
fn one_writer_at_a_time_and_readers_cannot_write() {
    let out = tempfile::tempdir().expect("tempdir");
    let dataset = Dataset::open(Path::new(MINI)).expect("dataset");
    let writer = FeatureCache::create(out.path(), &fgnl()).expect("first writer");
    let second = FeatureCache::create(out.path(), &fgnl());
    assert!(
        matches!(second, Err(DataError::Locked { .. })),
        "{second:?}"
    );
    let reader = FeatureCache::open(out.path(), &fgnl()).expect("readers need no lock");
    assert!(matches!(
        reader.extract(&dataset.recordings[..1], features_from_file, |_| {}),
        Err(DataError::ReadOnly { .. })
    ));
    drop(writer);
    FeatureCache::create(out.path(), &fgnl()).expect("the lock is released on drop");
}
