//! ROC / AUC, EER, tag AUCs and kNN accuracy (`singerid_eval::{roc, verification, tagging,
//! knn}`) against scikit-learn.
//!
//! Oracle: `tests/fixtures/verification.json`, written by `tools/verification_reference.py`
//! with scikit-learn 1.9.1, NumPy 2.4.6, SciPy 1.17.1 (Python 3.11.7), seed 20241215: binary
//! score cases (continuous, heavily tied, tiny, separable, reversed), all-pairs cosine trials
//! of 48 embeddings, three tag matrices (one with a tag that never occurs) and kNN on 16-d
//! embeddings for two metrics and seven `k`, plus leave-one-out kNN.
//!
//! Tolerances, all far inside the 1e-6 asked of these metrics:
//!
//! - ROC rates and AUC, 1e-12: the same integer counts divided once on both sides (scikit-learn
//!   integrates with `np.trapezoid` over the rates, we over the counts).
//! - Cosine scores, 1e-12: both accumulate in f64, in a different order.
//! - EER, 1e-9: scikit-learn's side is a root found by `brentq` (xtol 1e-15) on an
//!   interpolated curve, ours the closed-form crossing of the same segment.
//! - kNN: predictions and accuracies are exact (the neighbour order has no near-ties in these
//!   random embeddings).

use std::path::Path;

use serde_json::Value;
use singerid_eval::{
    Error, KnnMetric, eer, knn_accuracy, knn_accuracy_leave_one_out, knn_predict, pair_scores,
    roc_auc, roc_auc_macro, roc_auc_micro, roc_auc_per_tag, roc_curve,
};

const RATE_TOL: f64 = 1e-12;
const SCORE_TOL: f64 = 1e-12;
const EER_TOL: f64 = 1e-9;

fn fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/verification.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let fixture: Value = serde_json::from_str(&text).expect("fixture JSON");
    assert_eq!(fixture["generator"], "tools/verification_reference.py");
    fixture
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("array")
        .iter()
        // The generator writes +inf (the first ROC threshold) as null.
        .map(|v| v.as_f64().unwrap_or(f64::INFINITY))
        .collect()
}

fn bools(value: &Value) -> Vec<bool> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_u64().expect("0 or 1") == 1)
        .collect()
}

fn usizes(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_u64().expect("integer") as usize)
        .collect()
}

fn rows<T>(value: &Value, row: fn(&Value) -> Vec<T>) -> Vec<Vec<T>> {
    value.as_array().expect("array").iter().map(row).collect()
}

/// Labelled f32 embeddings (the fixture stores the float32 values exactly).
fn embeddings(labels: &Value, values: &Value) -> Vec<(usize, Vec<f32>)> {
    usizes(labels)
        .into_iter()
        .zip(rows(values, floats))
        .map(|(label, e)| (label, e.into_iter().map(|x| x as f32).collect()))
        .collect()
}

fn metric(name: &Value) -> KnnMetric {
    match name.as_str().expect("metric name") {
        "cosine" => KnnMetric::Cosine,
        "euclidean" => KnnMetric::Euclidean,
        other => panic!("unknown metric {other}"),
    }
}

/// Asserts `|got - want| <= tol` and returns the difference.
fn check(got: f64, want: f64, tol: f64, what: &str) -> f64 {
    let diff = (got - want).abs();
    assert!(
        diff <= tol,
        "{what}: got {got}, scikit-learn {want} (diff {diff:e})"
    );
    diff
}

#[test]
fn roc_auc_and_eer_match_scikit_learn() {
    let fixture = fixture();
    let mut worst = [0.0_f64; 2];
    for case in fixture["binary"].as_array().expect("binary cases") {
        let name = case["name"].as_str().expect("name");
        let (scores, labels) = (floats(&case["scores"]), bools(&case["labels"]));
        let curve = roc_curve(&scores, &labels).expect(name);
        // Same points, same order: we keep every distinct score, as drop_intermediate=False.
        assert_eq!(
            curve.thresholds,
            floats(&case["thresholds"]),
            "{name} thresholds"
        );
        for (ours, key) in [(&curve.fpr, "fpr"), (&curve.tpr, "tpr")] {
            let theirs = floats(&case[key]);
            assert_eq!(ours.len(), theirs.len(), "{name} {key}");
            for (i, (&o, &t)) in ours.iter().zip(&theirs).enumerate() {
                check(o, t, RATE_TOL, &format!("{name} {key}[{i}]"));
            }
        }
        let auc = roc_auc(&scores, &labels).expect(name);
        let auc_want = case["auc"].as_f64().expect("auc");
        worst[0] = worst[0].max(check(auc, auc_want, RATE_TOL, &format!("{name} AUC")));
        let got = eer(&scores, &labels).expect(name);
        let eer_want = case["eer"].as_f64().expect("eer");
        worst[1] = worst[1].max(check(got.eer, eer_want, EER_TOL, &format!("{name} EER")));
        assert_eq!(got.threshold, case["eer_threshold"], "{name} EER threshold");
    }
    eprintln!(
        "binary cases: worst AUC diff {:e}, worst EER diff {:e}",
        worst[0], worst[1]
    );
}

#[test]
fn all_pairs_cosine_trials_match_scikit_learn() {
    let fixture = fixture();
    let pairs = &fixture["pairs"];
    let set = embeddings(&pairs["labels"], &pairs["embeddings"]);
    let trials = pair_scores(&set).expect("valid set");
    let (want_scores, want_same) = (floats(&pairs["scores"]), bools(&pairs["same"]));
    assert_eq!(trials.same, want_same);
    assert_eq!(trials.scores.len(), want_scores.len());
    let mut worst = 0.0_f64;
    for (i, (&got, &want)) in trials.scores.iter().zip(&want_scores).enumerate() {
        worst = worst.max(check(got, want, SCORE_TOL, &format!("pair {i}")));
    }
    let got = eer(&trials.scores, &trials.same).expect("both kinds of pair");
    let eer_diff = check(
        got.eer,
        pairs["eer"].as_f64().expect("eer"),
        EER_TOL,
        "pairs EER",
    );
    assert!(
        (got.threshold - pairs["eer_threshold"].as_f64().expect("threshold")).abs() <= SCORE_TOL
    );
    let auc = roc_auc(&trials.scores, &trials.same).expect("both kinds of pair");
    check(
        auc,
        pairs["auc"].as_f64().expect("auc"),
        RATE_TOL,
        "pairs AUC",
    );
    eprintln!("pairs: worst cosine diff {worst:e}, EER diff {eer_diff:e}");
}

#[test]
fn tag_aucs_match_scikit_learn() {
    let fixture = fixture();
    let mut undefined_tags = 0;
    for case in fixture["tagging"].as_array().expect("tagging cases") {
        let name = case["name"].as_str().expect("name");
        let scores = rows(&case["scores"], floats);
        let labels = rows(&case["labels"], bools);
        let per_tag = roc_auc_per_tag(&scores, &labels).expect(name);
        let want_per_tag = case["per_tag"].as_array().expect("per_tag");
        assert_eq!(per_tag.len(), want_per_tag.len(), "{name}");
        for (tag, (got, want)) in per_tag.iter().zip(want_per_tag).enumerate() {
            match (got, want.as_f64()) {
                (Some(got), Some(want)) => {
                    check(*got, want, RATE_TOL, &format!("{name} tag {tag}"));
                }
                (None, None) => undefined_tags += 1,
                other => panic!("{name} tag {tag}: ours vs scikit-learn {other:?}"),
            }
        }
        let micro = roc_auc_micro(&scores, &labels).expect(name);
        check(
            micro,
            case["micro"].as_f64().expect("micro"),
            RATE_TOL,
            &format!("{name} micro"),
        );
        match (roc_auc_macro(&scores, &labels), case["macro"].as_f64()) {
            (Ok(got), Some(want)) => {
                check(got, want, RATE_TOL, &format!("{name} macro"));
            }
            // scikit-learn 1.9 warns and returns NaN; we refuse, naming the tag.
            (Err(Error::SingleClass { what, .. }), None) => {
                let warning = case["macro_warning"].as_str().expect("sklearn warned");
                assert!(warning.contains("Only one class"), "{warning}");
                assert_eq!(what, "tag 2", "{name}");
            }
            (got, want) => panic!("{name} macro: ours {got:?}, scikit-learn {want:?}"),
        }
    }
    assert_eq!(undefined_tags, 1, "the fixture's one-class tag");
}

#[test]
fn knn_matches_scikit_learn_with_nearest_tie_breaking() {
    let fixture = fixture();
    let knn = &fixture["knn"];
    let enrol = embeddings(&knn["enrol_labels"], &knn["enrol"]);
    let query = embeddings(&knn["query_labels"], &knn["query"]);
    let query_embeddings: Vec<&[f32]> = query.iter().map(|(_, e)| e.as_slice()).collect();
    let (mut ties, mut agreed_with_sklearn) = (0, 0);
    for case in knn["cases"].as_array().expect("knn cases") {
        let (metric, k) = (
            metric(&case["metric"]),
            case["k"].as_u64().expect("k") as usize,
        );
        let what = format!("{metric:?} k = {k}");
        let predicted: Vec<usize> = knn_predict(&enrol, &query_embeddings, k, metric)
            .expect(&what)
            .into_iter()
            .copied()
            .collect();
        let expected = usizes(&case["expected"]);
        let sklearn = usizes(&case["sklearn_predicted"]);
        let tied: Vec<bool> = case["vote_tie"]
            .as_array()
            .expect("vote_tie")
            .iter()
            .map(|t| t.as_bool().expect("bool"))
            .collect();
        for q in 0..predicted.len() {
            if tied[q] {
                ties += 1;
            } else {
                // Without a tie, scikit-learn's own prediction is the reference.
                assert_eq!(predicted[q], sklearn[q], "{what}, query {q}");
                agreed_with_sklearn += 1;
            }
            assert_eq!(
                predicted[q], expected[q],
                "{what}, query {q} (tied: {})",
                tied[q]
            );
        }
        let accuracy = knn_accuracy(&enrol, &query, k, metric).expect(&what);
        assert_eq!(
            accuracy,
            case["accuracy"].as_f64().expect("accuracy"),
            "{what}"
        );
        if !tied.contains(&true) {
            assert_eq!(accuracy, case["sklearn_accuracy"].as_f64().expect("score"));
        }
    }
    // The fixture must exercise the tie rule, or the comparison above proves little.
    assert!(ties >= 10, "only {ties} tied votes in the fixture");
    eprintln!("kNN: {agreed_with_sklearn} untied predictions equal scikit-learn's, {ties} ties");
}

#[test]
fn leave_one_out_knn_matches_scikit_learn() {
    let fixture = fixture();
    let loo = &fixture["knn_loo"];
    let set = embeddings(&loo["labels"], &loo["embeddings"]);
    for case in loo["cases"].as_array().expect("loo cases") {
        let (metric, k) = (
            metric(&case["metric"]),
            case["k"].as_u64().expect("k") as usize,
        );
        let accuracy = knn_accuracy_leave_one_out(&set, k, metric).expect("valid");
        assert_eq!(
            accuracy,
            case["accuracy"].as_f64().expect("accuracy"),
            "{metric:?} k = {k}"
        );
    }
}
