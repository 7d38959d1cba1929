//! The open-set evaluation: singers the model never saw are enrolled from some of their songs
//! and identified on their other songs, next to the model's own singers.
//!
//! Protocol, on a dataset with a split column (recordings, not clips, are the unit; each
//! recording's embedding is the mean of its clips'):
//! 1. **Calibration** (the model's own singers only): each known singer's profile is built from
//!    its `enrol_split` recordings; every `query_split` recording is scored against every
//!    known profile (same singer: genuine, other singer: impostor). The threshold is these
//!    trials' EER operating point, or the lowest that accepts at most `target_false_accept`
//!    of the impostors ([`crate::open_set::threshold_for`]).
//! 2. **Enrolment**: each held-out singer's profile from its `enrol_split` recordings.
//! 3. **Identification** of every `query_split` recording, as `identify --db` decides
//!    ([`crate::open_set::enrolled_winner`]): the model's vote, replaced by an enrolled singer
//!    whose profile is the closest of all (trained and enrolled) and reaches the threshold. Top-1 on the held-out singers' recordings; the known singers'
//!    accuracy with and without the enrolled singers.
//! 4. **Never enrolled**: for each held-out singer, enrol only the others and count its
//!    recordings taken by an enrolled singer (false accepts).
//! 5. **Verification EER** of held-out trials: every query recording against every held-out
//!    profile (genuine when it is that singer).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use singerid_data::{CacheOptions, Progress};
use singerid_eval::{ClipDecision, Predictions, eer};
use singerid_infer::identify::UNKNOWN;
use singerid_train::Bundle;

use crate::error::LibraryError;
use crate::open_set::{
    OpenSetCalibration, Profile, cosine, enrolled_winner, profile_of, threshold_for,
};

/// Which vector stands for a recording in the open-set evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpenEmbedding {
    /// The model's embedding layer, averaged over the recording's clips (what the library
    /// stores and enrols with).
    #[default]
    Model,
    /// The mean over the recording's clips of the log class probabilities, centred by the mean
    /// over the known singers' enrolment recordings: a recording described by how much it
    /// sounds like each trained singer. An experiment of the evaluation only; the library does
    /// not use it.
    LogProbs,
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct OpenEvalRequest {
    /// The model folder.
    pub model_dir: PathBuf,
    /// The dataset (a manifest with a split column), holding the held-out singers too.
    pub data: PathBuf,
    /// Singers the model was not trained on, to enrol (may be empty: calibration only).
    pub holdout: Vec<String>,
    /// The split whose recordings build profiles.
    pub enrol_split: String,
    /// The split whose recordings are identified.
    pub query_split: String,
    /// The impostor acceptance rate the threshold is calibrated for; None: the calibration
    /// trials' EER operating point.
    pub target_false_accept: Option<f64>,
    /// The feature cache.
    pub cache: CacheOptions,
    /// Clips per forward pass.
    pub batch_size: usize,
    /// The recording vector compared by cosine.
    pub embedding: OpenEmbedding,
}

impl OpenEvalRequest {
    /// The default protocol: enrol from `train`, query `val`, threshold at the EER.
    pub fn new(
        model_dir: PathBuf,
        data: PathBuf,
        holdout: Vec<String>,
        cache: CacheOptions,
    ) -> Self {
        Self {
            model_dir,
            data,
            holdout,
            enrol_split: "train".into(),
            query_split: "val".into(),
            target_false_accept: None,
            cache,
            batch_size: 32,
            embedding: OpenEmbedding::Model,
        }
    }
}

/// One held-out singer's figures.
#[derive(Debug, Clone, Serialize)]
pub struct HeldOutSinger {
    /// The singer.
    pub singer: String,
    /// Recordings its profile was built from.
    pub enrolled_recordings: usize,
    /// Its query recordings.
    pub queries: usize,
    /// Of those, answered with its name (every held-out singer enrolled).
    pub correct: usize,
    /// Of those, taken by another enrolled singer when it is not enrolled itself.
    pub false_accepts_when_not_enrolled: usize,
}

/// The open-set evaluation's figures.
#[derive(Debug, Clone, Serialize)]
pub struct OpenEvalReport {
    /// The model folder.
    pub model: PathBuf,
    /// The dataset.
    pub data: PathBuf,
    /// Profiles from this split.
    pub enrol_split: String,
    /// Queries from this split.
    pub query_split: String,
    /// The recording vector compared.
    pub embedding: OpenEmbedding,
    /// The calibration (the model's own singers).
    pub calibration: OpenSetCalibration,
    /// Per held-out singer.
    pub held_out: Vec<HeldOutSinger>,
    /// Top-1 accuracy on the held-out singers' query recordings (all enrolled).
    pub held_out_top1: Option<f64>,
    /// Share of held-out recordings taken by an enrolled singer when their own singer is not
    /// enrolled.
    pub false_accept_rate: Option<f64>,
    /// Verification EER of the held-out trials (query recordings against held-out profiles).
    pub held_out_eer: Option<f64>,
    /// Known singers' query recordings.
    pub known_queries: usize,
    /// Their recording accuracy without enrolled singers (the model's vote).
    pub known_accuracy_before: f64,
    /// With the held-out singers enrolled.
    pub known_accuracy_after: f64,
    /// Known singers' recordings taken by an enrolled singer.
    pub known_taken_by_enrolled: usize,
}

/// One recording: its singer, the model's vote, and its embedding.
#[derive(Debug, Clone)]
struct Rec {
    singer: String,
    vote: Option<String>,
    embedding: Vec<f32>,
}

/// Runs the open-set evaluation of `bundle`.
///
/// # Errors
/// A held-out singer the model knows or the dataset lacks, unreadable data, or no known
/// singer's recordings to calibrate on.
pub fn eval_open(
    bundle: &Bundle,
    request: &OpenEvalRequest,
    progress: &dyn Progress,
) -> Result<OpenEvalReport, LibraryError> {
    let classes = &bundle.meta.classes;
    for h in &request.holdout {
        if classes.contains(h) {
            return Err(LibraryError::Invalid(format!(
                "{h:?} is one of the model's trained singers; held-out singers must be unseen"
            )));
        }
    }
    let predict = |split: &str| {
        singerid_infer::predict_split(
            bundle,
            &request.model_dir,
            Some(&request.data),
            Some(split),
            None,
            &request.cache,
            request.batch_size,
            progress,
        )
        .map(|s| recordings(&s.predictions, request.embedding))
    };
    let mut enrol = predict(&request.enrol_split)?;
    let mut query = predict(&request.query_split)?;
    if request.embedding == OpenEmbedding::LogProbs {
        let known: Vec<&[f32]> = enrol
            .iter()
            .filter(|r| classes.contains(&r.singer))
            .map(|r| r.embedding.as_slice())
            .collect();
        let center = mean(&known);
        for r in enrol.iter_mut().chain(query.iter_mut()) {
            for (v, c) in r.embedding.iter_mut().zip(&center) {
                *v -= c;
            }
        }
    }
    for h in &request.holdout {
        if !enrol.iter().any(|r| &r.singer == h) {
            return Err(LibraryError::Invalid(format!(
                "no {} recording of held-out singer {h:?} in {}",
                request.enrol_split,
                request.data.display()
            )));
        }
    }

    // 1. Calibration on the known singers.
    let known_profiles = profiles(&enrol, |s| classes.iter().any(|c| c == s));
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for r in query.iter().filter(|r| classes.contains(&r.singer)) {
        for (name, profile) in &known_profiles {
            let s = cosine(&r.embedding, profile);
            if *name == r.singer {
                genuine.push(s);
            } else {
                impostor.push(s);
            }
        }
    }
    if genuine.is_empty() || impostor.is_empty() {
        return Err(LibraryError::Invalid(format!(
            "no {} recording of the model's singers to calibrate on (need profiles of at least \
             two singers from split {})",
            request.query_split, request.enrol_split
        )));
    }
    let calibration_eer = trials_eer(&genuine, &impostor);
    let threshold = match request.target_false_accept {
        Some(rate) => threshold_for(&impostor, rate).unwrap_or(f32::INFINITY),
        None => calibration_eer.map_or(f32::INFINITY, |e| e.threshold as f32),
    };
    let calibration = OpenSetCalibration {
        threshold,
        target_false_accept: request.target_false_accept,
        impostor_pairs: impostor.len(),
        genuine_pairs: genuine.len(),
        genuine_accept: share(
            genuine.iter().filter(|&&s| s >= threshold).count(),
            genuine.len(),
        ),
        eer: calibration_eer.map_or(f64::NAN, |e| e.eer),
        data: format!(
            "{}: profiles from split {}, queries from split {}, the model's {} singers",
            request.data.display(),
            request.enrol_split,
            request.query_split,
            classes.len()
        ),
        profiles: known_profiles.clone(),
    };

    // 2-5. The held-out singers.
    let held_profiles = profiles(&enrol, |s| request.holdout.iter().any(|h| h == s));
    let trained = as_profiles(&known_profiles);
    let answer = |r: &Rec, enrolled: &BTreeMap<String, Vec<f32>>| -> Option<String> {
        let enrolled = as_profiles(enrolled);
        match enrolled_winner(&r.embedding, &trained, &enrolled, Some(threshold)) {
            Some((p, _)) => Some(p.name.clone()),
            None => r.vote.clone(),
        }
    };
    let mut held_out = Vec::new();
    for h in &request.holdout {
        let queries: Vec<&Rec> = query.iter().filter(|r| &r.singer == h).collect();
        let others: BTreeMap<String, Vec<f32>> = held_profiles
            .iter()
            .filter(|(name, _)| *name != h)
            .map(|(n, p)| (n.clone(), p.clone()))
            .collect();
        held_out.push(HeldOutSinger {
            singer: h.clone(),
            enrolled_recordings: enrol.iter().filter(|r| &r.singer == h).count(),
            queries: queries.len(),
            correct: queries
                .iter()
                .filter(|r| answer(r, &held_profiles).as_deref() == Some(h.as_str()))
                .count(),
            false_accepts_when_not_enrolled: queries
                .iter()
                .filter(|r| answer(r, &others).is_some_and(|a| others.contains_key(&a)))
                .count(),
        });
    }
    let total_queries: usize = held_out.iter().map(|h| h.queries).sum();
    let known: Vec<&Rec> = query
        .iter()
        .filter(|r| classes.contains(&r.singer))
        .collect();
    let none = BTreeMap::new();
    let correct = |enrolled: &BTreeMap<String, Vec<f32>>| {
        known
            .iter()
            .filter(|r| answer(r, enrolled).as_deref() == Some(r.singer.as_str()))
            .count()
    };
    let (mut held_genuine, mut held_impostor) = (Vec::new(), Vec::new());
    for r in &query {
        for (name, profile) in &held_profiles {
            let s = cosine(&r.embedding, profile);
            if *name == r.singer {
                held_genuine.push(s);
            } else {
                held_impostor.push(s);
            }
        }
    }
    Ok(OpenEvalReport {
        model: request.model_dir.clone(),
        data: request.data.clone(),
        enrol_split: request.enrol_split.clone(),
        query_split: request.query_split.clone(),
        embedding: request.embedding,
        calibration,
        held_out_top1: (total_queries > 0)
            .then(|| share(held_out.iter().map(|h| h.correct).sum(), total_queries)),
        false_accept_rate: (total_queries > 0 && request.holdout.len() > 1).then(|| {
            share(
                held_out
                    .iter()
                    .map(|h| h.false_accepts_when_not_enrolled)
                    .sum(),
                total_queries,
            )
        }),
        held_out_eer: trials_eer(&held_genuine, &held_impostor).map(|e| e.eer),
        held_out,
        known_queries: known.len(),
        known_accuracy_before: share(correct(&none), known.len()),
        known_accuracy_after: share(correct(&held_profiles), known.len()),
        known_taken_by_enrolled: known
            .iter()
            .filter(|r| answer(r, &held_profiles).is_some_and(|a| held_profiles.contains_key(&a)))
            .count(),
    })
}

/// `n / of`, 0 when `of` is 0.
fn share(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// EER of genuine and impostor scores, None without both.
fn trials_eer(genuine: &[f32], impostor: &[f32]) -> Option<singerid_eval::Eer> {
    let scores: Vec<f64> = genuine
        .iter()
        .chain(impostor)
        .map(|&s| f64::from(s))
        .collect();
    let same: Vec<bool> = genuine
        .iter()
        .map(|_| true)
        .chain(impostor.iter().map(|_| false))
        .collect();
    eer(&scores, &same).ok()
}

/// Profiles by name as a list.
fn as_profiles(map: &BTreeMap<String, Vec<f32>>) -> Vec<Profile> {
    map.iter()
        .map(|(name, embedding)| Profile {
            name: name.clone(),
            embedding: embedding.clone(),
        })
        .collect()
}

/// Each singer's profile from the recordings of singers `keep` accepts.
fn profiles(recs: &[Rec], keep: impl Fn(&str) -> bool) -> BTreeMap<String, Vec<f32>> {
    let mut by: BTreeMap<&str, Vec<&[f32]>> = BTreeMap::new();
    for r in recs.iter().filter(|r| keep(&r.singer)) {
        by.entry(&r.singer).or_default().push(&r.embedding);
    }
    by.into_iter()
        .filter_map(|(s, e)| profile_of(e).map(|p| (s.to_owned(), p)))
        .collect()
}

/// The element-wise mean of vectors (empty for none).
fn mean(vectors: &[&[f32]]) -> Vec<f32> {
    let Some(first) = vectors.first() else {
        return Vec::new();
    };
    let mut sum = vec![0.0_f64; first.len()];
    for v in vectors {
        for (s, x) in sum.iter_mut().zip(*v) {
            *s += f64::from(*x);
        }
    }
    sum.iter()
        .map(|s| (s / vectors.len() as f64) as f32)
        .collect()
}

/// Groups clip predictions into recordings: the recording's vector (`kind`) and the paper's
/// vote.
fn recordings(p: &Predictions, kind: OpenEmbedding) -> Vec<Rec> {
    p.by_recording()
        .into_iter()
        .map(|r| {
            let decisions: Vec<ClipDecision> = r
                .clips
                .iter()
                .filter_map(|c| ClipDecision::from_probs(&c.probs))
                .collect();
            Rec {
                singer: r.singer.to_owned(),
                vote: singerid_eval::vote::vote(&decisions)
                    .and_then(|c| p.classes.get(c).cloned())
                    .or_else(|| Some(UNKNOWN.to_owned())),
                embedding: match kind {
                    OpenEmbedding::Model => r.embedding(),
                    OpenEmbedding::LogProbs => {
                        let logs: Vec<Vec<f32>> = r
                            .clips
                            .iter()
                            .map(|c| c.probs.iter().map(|&q| q.max(1e-7).ln()).collect())
                            .collect();
                        mean(&logs.iter().map(Vec::as_slice).collect::<Vec<_>>())
                    }
                },
            }
        })
        .collect()
}

impl OpenEvalReport {
    /// The figures as a Markdown section.
    pub fn to_markdown(&self) -> String {
        let pct =
            |x: Option<f64>| x.map_or_else(|| "n/a".into(), |x| format!("{:.1} %", 100.0 * x));
        let operating_point = match self.calibration.target_false_accept {
            Some(rate) => format!("{:.1} % impostor acceptance", 100.0 * rate),
            None => "the equal error rate".to_owned(),
        };
        let mut s = format!(
            "Model `{}`, data `{}`: profiles from `{}`, queries from `{}`; recordings compared \
             by {}.\n\n\
             Threshold {:.4} (cosine), calibrated on the model's singers at {operating_point}: \
             {} impostor and {} genuine pairs, genuine acceptance {:.1} %, EER {:.1} %.\n\n\
             | held-out singer | enrolled recordings | queries | top-1 | taken by another enrolled singer when not enrolled |\n\
             |---|---:|---:|---:|---:|\n",
            self.model.display(),
            self.data.display(),
            self.enrol_split,
            self.query_split,
            match self.embedding {
                OpenEmbedding::Model => "the model's embedding",
                OpenEmbedding::LogProbs => "centred log class probabilities (an experiment)",
            },
            self.calibration.threshold,
            self.calibration.impostor_pairs,
            self.calibration.genuine_pairs,
            100.0 * self.calibration.genuine_accept,
            100.0 * self.calibration.eer,
        );
        for h in &self.held_out {
            s += &format!(
                "| {} | {} | {} | {}/{} | {}/{} |\n",
                h.singer,
                h.enrolled_recordings,
                h.queries,
                h.correct,
                h.queries,
                h.false_accepts_when_not_enrolled,
                h.queries
            );
        }
        s += &format!(
            "\nHeld-out top-1 {}, false accepts of never-enrolled singers {}, held-out \
             verification EER {}. Known singers ({} recordings): accuracy {:.1} % without \
             enrolled singers, {:.1} % with them ({} taken by an enrolled singer).\n",
            pct(self.held_out_top1),
            pct(self.false_accept_rate),
            pct(self.held_out_eer),
            self.known_queries,
            100.0 * self.known_accuracy_before,
            100.0 * self.known_accuracy_after,
            self.known_taken_by_enrolled
        );
        s
    }
}
