//! The paper's evaluation on hand-built predictions, against values worked out by hand.

use singerid_eval::predictions::ClipPrediction;
use singerid_eval::{Error, Predictions, evaluate};

const TOL: f64 = 1e-12;

fn clip(song: &str, singer: &str, label: Option<usize>, probs: &[f32]) -> ClipPrediction {
    ClipPrediction {
        recording: format!("{song}.wav"),
        song: song.to_owned(),
        singer: singer.to_owned(),
        label,
        clip_index: 0,
        start_frame: 0,
        probs: probs.to_vec(),
        embedding: vec![0.0; 4],
    }
}

fn predictions(clips: Vec<ClipPrediction>) -> Predictions {
    Predictions {
        classes: vec!["ann".into(), "bob".into(), "cat".into()],
        clip_frames: 94,
        seconds_per_frame: 512.0 / 16000.0,
        clips,
    }
}

/// Three singers (ann = 0, bob = 1, cat = 2), five songs, ten clips, plus two clips of an
/// unknown singer (dan) in one song.
///
/// ```text
/// song  truth  clip probs (argmax, confident?)              vote
/// a1    ann    [.8 .1 .1] (0 y) [.6 .3 .1] (0 y)            0  (both confident)
/// a2    ann    [.4 .45 .15] (1 n) [.45 .3 .25] (0 n)         1  (none > .5: all vote, 1, 0, 1)
///              [.3 .35 .35] (1 n, bob/cat tie -> bob)
/// b1    bob    [.5 .4 .1] (0 n, exactly .5) [.2 .7 .1] (1 y) 1  (only the 0.7 clip votes)
/// c1    cat    [.1 .1 .8] (2 y) [.9 .05 .05] (0 y)            0  (1:1 tie -> lowest class)
/// c2    cat    [.1 .2 .7] (2 y)                              2
/// ```
///
/// Frame level, y_true = [0,0,0,0,0,1,1,2,2,2], y_pred = [0,0,1,0,1,0,1,2,0,2]:
///
/// ```text
///        p0 p1 p2
///   t0 [ 3  2  0 ]   ann: tp 3, fp 2 (b1 clip 1, c1 clip 2), fn 2 -> F1 = 6 / (6 + 2 + 2) = 0.6
///   t1 [ 1  1  0 ]   bob: tp 1, fp 2, fn 1                       -> F1 = 2 / (2 + 2 + 1) = 0.4
///   t2 [ 1  0  2 ]   cat: tp 2, fp 0, fn 1                       -> F1 = 4 / (4 + 0 + 1) = 0.8
/// ```
///
/// accuracy 6/10; macro F1 (0.6 + 0.4 + 0.8) / 3 = 0.6; weighted (5 * .6 + 2 * .4 + 3 * .8) / 10 = 0.62.
///
/// Song level, truth [ann, ann, bob, cat, cat] = [0, 0, 1, 2, 2], votes [0, 1, 1, 0, 2]:
///
/// ```text
///   t0 [ 1 1 0 ]  ann: tp 1, fp 1, fn 1 -> 0.5
///   t1 [ 0 1 0 ]  bob: tp 1, fp 1, fn 0 -> 2/3
///   t2 [ 1 0 1 ]  cat: tp 1, fp 0, fn 1 -> 2/3
/// ```
///
/// accuracy 3/5; macro F1 (0.5 + 2/3 + 2/3) / 3 = 11/18; weighted (2 * .5 + 1 * 2/3 + 2 * 2/3) / 5 = 0.6.
fn worked_example() -> Predictions {
    predictions(vec![
        clip("ann/a1", "ann", Some(0), &[0.8, 0.1, 0.1]),
        clip("ann/a1", "ann", Some(0), &[0.6, 0.3, 0.1]),
        clip("ann/a2", "ann", Some(0), &[0.4, 0.45, 0.15]),
        clip("ann/a2", "ann", Some(0), &[0.45, 0.3, 0.25]),
        clip("ann/a2", "ann", Some(0), &[0.3, 0.35, 0.35]),
        clip("bob/b1", "bob", Some(1), &[0.5, 0.4, 0.1]),
        clip("bob/b1", "bob", Some(1), &[0.2, 0.7, 0.1]),
        clip("cat/c1", "cat", Some(2), &[0.1, 0.1, 0.8]),
        clip("cat/c1", "cat", Some(2), &[0.9, 0.05, 0.05]),
        clip("cat/c2", "cat", Some(2), &[0.1, 0.2, 0.7]),
        clip("dan/d1", "dan", None, &[0.1, 0.8, 0.1]),
        clip("dan/d1", "dan", None, &[0.2, 0.6, 0.2]),
    ])
}

#[test]
fn frame_level_matches_the_hand_computation() {
    let eval = evaluate(&worked_example()).expect("valid");
    let f = &eval.frame;
    assert_eq!(f.n_samples, 10);
    assert!((f.accuracy - 0.6).abs() < TOL, "{}", f.accuracy);
    assert!((f.macro_f1 - 0.6).abs() < TOL, "{}", f.macro_f1);
    assert!((f.weighted_f1 - 0.62).abs() < TOL, "{}", f.weighted_f1);
    assert_eq!(f.confusion.row(0), Some(&[3, 2, 0][..]));
    assert_eq!(f.confusion.row(1), Some(&[1, 1, 0][..]));
    assert_eq!(f.confusion.row(2), Some(&[1, 0, 2][..]));
    let f1: Vec<f64> = f.report.per_class.iter().map(|s| s.f1).collect();
    for (got, want) in f1.iter().zip([0.6, 0.4, 0.8]) {
        assert!((got - want).abs() < TOL, "{f1:?}");
    }
}

#[test]
fn song_level_uses_the_papers_vote() {
    let eval = evaluate(&worked_example()).expect("valid");
    let votes: Vec<(&str, usize)> = eval
        .song_predictions
        .iter()
        .map(|(k, &v)| (k.as_str(), v))
        .collect();
    // a2: no confident clip -> all vote (1, 0, 1 -> 1); b1: the 0.5 clip does not vote;
    // c1: a 1 : 1 tie between cat and ann goes to ann (lowest index).
    assert_eq!(
        votes,
        [
            ("ann/a1", 0),
            ("ann/a2", 1),
            ("bob/b1", 1),
            ("cat/c1", 0),
            ("cat/c2", 2)
        ]
    );
    let s = &eval.song;
    assert_eq!(s.n_samples, 5);
    assert!((s.accuracy - 0.6).abs() < TOL, "{}", s.accuracy);
    assert!((s.macro_f1 - 11.0 / 18.0).abs() < TOL, "{}", s.macro_f1);
    assert!((s.weighted_f1 - 0.6).abs() < TOL, "{}", s.weighted_f1);
    assert_eq!(s.confusion.row(2), Some(&[1, 0, 1][..]));
}

#[test]
fn unknown_singers_are_counted_not_scored() {
    let eval = evaluate(&worked_example()).expect("valid");
    assert_eq!((eval.unknown_clips, eval.unknown_songs), (2, 1));
    assert_eq!(eval.unknown.len(), 1);
    let dan = &eval.unknown[0];
    assert_eq!((dan.singer.as_str(), dan.clips, dan.songs), ("dan", 2, 1));
    assert_eq!(dan.song_votes.get("bob"), Some(&1));
    // The unknown clips are not in the frame-level counts.
    assert_eq!(eval.frame.confusion.total(), 10);
    assert!(!eval.song_predictions.contains_key("dan/d1"));
}

#[test]
fn evaluation_serialises_with_the_headline_numbers() {
    let eval = evaluate(&worked_example()).expect("valid");
    let json = serde_json::to_value(&eval).expect("json");
    assert_eq!(json["frame"]["accuracy"], 0.6);
    assert_eq!(json["song"]["n_samples"], 5);
    assert_eq!(json["unknown"][0]["singer"], "dan");
    assert_eq!(json["classes"][2], "cat");
}

#[test]
fn nan_rows_count_as_wrong_at_the_frame_level() {
    let mut p = worked_example();
    p.clips[0].probs = vec![f32::NAN, 0.5, 0.5];
    let eval = evaluate(&p).expect("valid");
    assert_eq!(eval.unusable_clips, 1);
    assert!((eval.frame.accuracy - 0.5).abs() < TOL);
    // Song a1 still votes with its other clip.
    assert_eq!(eval.song_predictions["ann/a1"], 0);
}

#[test]
fn bad_predictions_are_errors() {
    let mut p = worked_example();
    p.clips[3].probs = vec![0.5, 0.5];
    assert!(matches!(
        evaluate(&p),
        Err(Error::LengthMismatch {
            left: 2,
            right: 3,
            ..
        })
    ));
    let mut p = worked_example();
    p.clips[4].label = Some(7);
    assert!(matches!(
        evaluate(&p),
        Err(Error::LabelOutOfRange {
            label: 7,
            position: 4,
            ..
        })
    ));
    let mut p = worked_example();
    p.clips[1].label = Some(1); // song a1 with two singers
    assert!(matches!(
        evaluate(&p),
        Err(Error::ConflictingSongLabels { .. })
    ));
    let mut p = worked_example();
    p.clips.retain(|c| c.label.is_none());
    assert!(matches!(evaluate(&p), Err(Error::NoSamples)));
    let mut p = worked_example();
    p.classes.clear();
    assert!(matches!(evaluate(&p), Err(Error::NoClasses)));
    let mut p = worked_example();
    p.clips[9].probs = vec![f32::NAN; 3]; // c2's only clip
    assert!(matches!(evaluate(&p), Err(Error::NoUsableClip { .. })));
}
