//! k-nearest-neighbour classification from embeddings: how well an embedding space groups
//! singers, the way Lee, Rafii, Stoller and Bello evaluate theirs ("Singer identification and
//! singing performance embedding", ICLR 2018 submission, Sec. 3.5 and Fig. 5: leave-one-out
//! kNN accuracy on 16-d performance embeddings, for several `k`).
//!
//! - [`knn_predict`] / [`knn_accuracy`]: an enrolment set (labelled embeddings) classifies a
//!   query set;
//! - [`knn_accuracy_leave_one_out`]: every item of one set is classified by all the others,
//!   the paper's protocol.
//!
//! Rule, for each query:
//!
//! 1. distances to every enrolment embedding, in f64: Euclidean `‖a - b‖₂` or cosine
//!    `1 - a·b / (‖a‖ ‖b‖)` ([`KnnMetric`]);
//! 2. the `k` nearest, ordered by distance, equal distances by enrolment index (lower first);
//! 3. a plain majority vote over their labels (uniform weights);
//! 4. **a tie between labels goes to the label whose member is nearest** (earliest in the
//!    order of step 2).
//!
//! Steps 1-3 are scikit-learn's `KNeighborsClassifier(n_neighbors=k, weights='uniform',
//! algorithm='brute', metric=...)`; step 4 is not: scikit-learn gives a vote tie to the lowest
//! class label, which depends on how classes happen to be numbered. The oracle test compares
//! with scikit-learn's predictions wherever the vote has no tie, and with rule 4 applied to
//! scikit-learn's own neighbour lists where it has (`tests/verification_oracle.rs`).

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::verification::{dot, unit_vectors};

/// How far apart two embeddings are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KnnMetric {
    /// `1 - cos(a, b)`, in `[0, 2]`; blind to the embeddings' lengths. Zero embeddings are
    /// errors ([`Error::ZeroNorm`]).
    Cosine,
    /// `‖a - b‖₂`.
    Euclidean,
}

/// The predicted label of each query embedding, in query order; see the module docs for the
/// rule.
///
/// # Parameters
///
/// - `enrol`: labelled reference embeddings, all of one dimension.
/// - `queries`: embeddings to classify, of the same dimension.
/// - `k`: neighbours that vote, `1..=enrol.len()`.
/// - `metric`: the distance.
///
/// # Errors
///
/// - [`Error::NoSamples`] if `enrol` or `queries` is empty.
/// - [`Error::InvalidParameter`] if `k` is 0 or larger than `enrol`.
/// - [`Error::LengthMismatch`] if an embedding's dimension differs from the first enrolment
///   embedding's.
/// - [`Error::ZeroNorm`] for an all-zero embedding under [`KnnMetric::Cosine`].
pub fn knn_predict<'a, L: PartialEq>(
    enrol: &'a [(L, Vec<f32>)],
    queries: &[&[f32]],
    k: usize,
    metric: KnnMetric,
) -> Result<Vec<&'a L>, Error> {
    if enrol.is_empty() || queries.is_empty() {
        return Err(Error::NoSamples);
    }
    check_k(k, enrol.len())?;
    let space = Space::new(enrol.iter().map(|(_, e)| e.as_slice()), metric, "enrolment")?;
    let queries = space.embed(queries.iter().copied(), "query")?;
    let labels: Vec<&L> = enrol.iter().map(|(label, _)| label).collect();
    Ok(queries
        .iter()
        .map(|q| vote(&labels, &space.nearest(q, k, None)))
        .collect())
}

/// The fraction of `query` whose label [`knn_predict`] gets right, in `[0, 1]`.
///
/// # Errors
///
/// As [`knn_predict`].
pub fn knn_accuracy<L: PartialEq>(
    enrol: &[(L, Vec<f32>)],
    query: &[(L, Vec<f32>)],
    k: usize,
    metric: KnnMetric,
) -> Result<f64, Error> {
    let embeddings: Vec<&[f32]> = query.iter().map(|(_, e)| e.as_slice()).collect();
    let predicted = knn_predict(enrol, &embeddings, k, metric)?;
    let correct = predicted
        .iter()
        .zip(query)
        .filter(|(p, (truth, _))| **p == truth)
        .count();
    Ok(correct as f64 / query.len() as f64)
}

/// Leave-one-out kNN accuracy: each item of `set` is classified by the other `n - 1` (never
/// by itself, even when another item has the same embedding), as in Lee et al. (2018).
///
/// # Errors
///
/// As [`knn_predict`], with `k` in `1..set.len()`; [`Error::NoSamples`] if `set` has fewer
/// than two items.
pub fn knn_accuracy_leave_one_out<L: PartialEq>(
    set: &[(L, Vec<f32>)],
    k: usize,
    metric: KnnMetric,
) -> Result<f64, Error> {
    if set.len() < 2 {
        return Err(Error::NoSamples);
    }
    check_k(k, set.len() - 1)?;
    let space = Space::new(set.iter().map(|(_, e)| e.as_slice()), metric, "set")?;
    let labels: Vec<&L> = set.iter().map(|(label, _)| label).collect();
    let correct = (0..set.len())
        .filter(|&i| {
            let neighbours = space.nearest(&space.points[i], k, Some(i));
            vote(&labels, &neighbours) == labels[i]
        })
        .count();
    Ok(correct as f64 / set.len() as f64)
}

fn check_k(k: usize, available: usize) -> Result<(), Error> {
    if k == 0 || k > available {
        return Err(Error::InvalidParameter {
            name: "k",
            message: format!("{k} neighbours asked, but it must be in 1..={available}"),
        });
    }
    Ok(())
}

/// Enrolment embeddings prepared for one metric: unit vectors for cosine, as given for
/// Euclidean.
struct Space {
    metric: KnnMetric,
    points: Vec<Vec<f64>>,
}

impl Space {
    fn new<'a>(
        embeddings: impl Iterator<Item = &'a [f32]>,
        metric: KnnMetric,
        which: &'static str,
    ) -> Result<Self, Error> {
        let points = match metric {
            KnnMetric::Cosine => unit_vectors(embeddings, which)?,
            KnnMetric::Euclidean => embeddings
                .map(|e| e.iter().map(|&x| f64::from(x)).collect())
                .collect(),
        };
        let space = Self { metric, points };
        space.check_dimensions(&space.points)?;
        Ok(space)
    }

    /// Queries in the same form as the enrolment points.
    fn embed<'a>(
        &self,
        queries: impl Iterator<Item = &'a [f32]>,
        which: &'static str,
    ) -> Result<Vec<Vec<f64>>, Error> {
        let points = Self::new(queries, self.metric, which)?.points;
        self.check_dimensions(&points)?;
        Ok(points)
    }

    fn check_dimensions(&self, points: &[Vec<f64>]) -> Result<(), Error> {
        let dim = self.points.first().map_or(0, Vec::len);
        match points.iter().find(|p| p.len() != dim) {
            Some(p) => Err(Error::LengthMismatch {
                what: "embedding dimension vs the first enrolment embedding's",
                left: p.len(),
                right: dim,
            }),
            None => Ok(()),
        }
    }

    fn distance(&self, a: &[f64], b: &[f64]) -> f64 {
        match self.metric {
            KnnMetric::Cosine => 1.0 - dot(a, b),
            KnnMetric::Euclidean => a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f64>()
                .sqrt(),
        }
    }

    /// Indices of the `k` nearest points to `query`, nearest first (ties by index), leaving
    /// out `exclude`.
    fn nearest(&self, query: &[f64], k: usize, exclude: Option<usize>) -> Vec<usize> {
        let mut candidates: Vec<(f64, usize)> = self
            .points
            .iter()
            .enumerate()
            .filter(|&(i, _)| Some(i) != exclude)
            .map(|(i, p)| (self.distance(query, p), i))
            .collect();
        let by_distance_then_index =
            |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        if k < candidates.len() {
            candidates.select_nth_unstable_by(k - 1, by_distance_then_index);
            candidates.truncate(k);
        }
        candidates.sort_by(by_distance_then_index);
        candidates.into_iter().map(|(_, i)| i).collect()
    }
}

/// The majority label of `neighbours` (nearest first); a tie goes to the label seen first.
fn vote<'a, L: PartialEq>(labels: &[&'a L], neighbours: &[usize]) -> &'a L {
    // (label, votes), in order of first appearance, so the first maximum is the nearest.
    let mut tally: Vec<(&L, usize)> = Vec::new();
    for &i in neighbours {
        match tally.iter_mut().find(|(label, _)| *label == labels[i]) {
            Some((_, votes)) => *votes += 1,
            None => tally.push((labels[i], 1)),
        }
    }
    let most = tally.iter().map(|&(_, votes)| votes).max().unwrap_or(0);
    tally
        .into_iter()
        .find(|&(_, votes)| votes == most)
        .map(|(label, _)| label)
        .expect("k >= 1 neighbours")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1-d line: enrolment `a` at 0 and 1, `b` at 3, 4 and 10.
    fn line() -> Vec<(&'static str, Vec<f32>)> {
        vec![
            ("a", vec![0.0]),
            ("a", vec![1.0]),
            ("b", vec![3.0]),
            ("b", vec![4.0]),
            ("b", vec![10.0]),
        ]
    }

    /// Query 1.8 (Euclidean): distances 1.8, 0.8, 1.2, 2.2, 8.2.
    ///
    /// - k = 1: nearest is 1.0 -> `a`.
    /// - k = 2: 1.0 (`a`), 3.0 (`b`): one vote each, tie to the nearest -> `a`
    ///   (scikit-learn would say `a` too, the lowest label; query 2.2 below separates them).
    /// - k = 3: 1.0, 3.0, 0.0 -> `a` 2, `b` 1 -> `a`.
    /// - k = 4: adds 4.0 -> 2 : 2, tie, nearest is 1.0 -> `a`.
    /// - k = 5: `b` 3 : 2 -> `b`.
    ///
    /// Query 2.2: distances 2.2, 1.2, 0.8, 1.8, 7.8; k = 2: 3.0 (`b`), 1.0 (`a`): tie, nearest
    /// is `b` (scikit-learn: `a`, the lowest label).
    #[test]
    fn hand_worked_votes_and_ties() {
        let enrol = line();
        let predict = |q: f32, k: usize| {
            *knn_predict(&enrol, &[&[q]], k, KnnMetric::Euclidean).expect("valid")[0]
        };
        let got: Vec<&str> = (1..=5).map(|k| predict(1.8, k)).collect();
        assert_eq!(got, ["a", "a", "a", "a", "b"]);
        assert_eq!(predict(2.2, 2), "b");
    }

    /// Equal distances: query 2 between enrolments at 1 (`a`) and 3 (`b`); with k = 1 the lower
    /// enrolment index wins, whatever the labels.
    #[test]
    fn equal_distances_go_to_the_lower_index() {
        let enrol = vec![("b", vec![3.0_f32]), ("a", vec![1.0])];
        let got = knn_predict(&enrol, &[&[2.0]], 1, KnnMetric::Euclidean).expect("valid");
        assert_eq!(*got[0], "b");
        let swapped = vec![("a", vec![1.0_f32]), ("b", vec![3.0])];
        let got = knn_predict(&swapped, &[&[2.0]], 1, KnnMetric::Euclidean).expect("valid");
        assert_eq!(*got[0], "a");
    }

    /// Cosine ignores length: query (10, 0) is nearest to (1, 0.1) by angle (cos 0.995 vs
    /// 0.707) but to (8, 8) by Euclidean distance (8.2 vs 9.0).
    #[test]
    fn cosine_ignores_length() {
        let enrol = vec![(0, vec![1.0_f32, 0.1]), (1, vec![8.0, 8.0])];
        let query: &[f32] = &[10.0, 0.0];
        let cosine = knn_predict(&enrol, &[query], 1, KnnMetric::Cosine).expect("valid");
        let euclidean = knn_predict(&enrol, &[query], 1, KnnMetric::Euclidean).expect("valid");
        assert_eq!((*cosine[0], *euclidean[0]), (0, 1));
    }

    /// Accuracy on the line with k = 1: queries 0.4 (`a`, right), 2.6 (`b`, right),
    /// 9 (`a`, wrong: nearest is 10, `b`) -> 2/3.
    #[test]
    fn accuracy_counts_right_predictions() {
        let query = vec![("a", vec![0.4_f32]), ("b", vec![2.6]), ("a", vec![9.0])];
        let accuracy = knn_accuracy(&line(), &query, 1, KnnMetric::Euclidean).expect("valid");
        assert!((accuracy - 2.0 / 3.0).abs() < 1e-12);
    }

    /// Leave-one-out on the line, k = 1: 0 -> 1 (`a` ✓), 1 -> 0 (`a` ✓), 3 -> 4 (`b` ✓),
    /// 4 -> 3 (`b` ✓), 10 -> 4 (`b` ✓): 1. With k = 3: 0 -> {1, 3, 4}: `b` ✗;
    /// 1 -> {0, 3, 4}: `b` ✗; 3 -> {4, 1, 0}: `a` ✗; 4 -> {3, 1, 0}: `a` ✗;
    /// 10 -> {4, 3, 1}: `b` ✓: 1/5.
    #[test]
    fn leave_one_out_never_uses_the_item_itself() {
        let set = line();
        let loo = |k| knn_accuracy_leave_one_out(&set, k, KnnMetric::Euclidean).expect("valid");
        assert_eq!(loo(1), 1.0);
        assert!((loo(3) - 0.2).abs() < 1e-12);
        // Twins with different labels each find the other (both wrong), never themselves;
        // the pair at 6 and 6.5 finds each other (both right): 2/4.
        let twins = vec![
            (0, vec![1.0_f32]),
            (1, vec![1.0]),
            (1, vec![6.0]),
            (1, vec![6.5]),
        ];
        assert_eq!(
            knn_accuracy_leave_one_out(&twins, 1, KnnMetric::Euclidean).expect("valid"),
            0.5
        );
    }

    #[test]
    fn rejects_bad_input() {
        let enrol = line();
        let query: &[f32] = &[1.0];
        for k in [0, 6] {
            assert!(matches!(
                knn_predict(&enrol, &[query], k, KnnMetric::Euclidean),
                Err(Error::InvalidParameter { name: "k", .. })
            ));
        }
        assert!(matches!(
            knn_accuracy_leave_one_out(&enrol, 5, KnnMetric::Euclidean),
            Err(Error::InvalidParameter { name: "k", .. })
        ));
        assert!(matches!(
            knn_predict(&enrol, &[], 1, KnnMetric::Euclidean),
            Err(Error::NoSamples)
        ));
        let wide: &[f32] = &[1.0, 2.0];
        assert!(matches!(
            knn_predict(&enrol, &[wide], 1, KnnMetric::Euclidean),
            Err(Error::LengthMismatch {
                left: 2,
                right: 1,
                ..
            })
        ));
        let zero: &[f32] = &[0.0];
        assert!(matches!(
            knn_predict(&[(0, vec![1.0_f32])], &[zero], 1, KnnMetric::Cosine),
            Err(Error::ZeroNorm {
                which: "query",
                position: 0
            })
        ));
    }
}
