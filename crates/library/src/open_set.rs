//! Choosing among trained and enrolled singers: profiles, the similarity to them, the decision,
//! and the calibration of its threshold.
//!
//! A recording's embedding is the mean of its clips' embeddings (the model's penultimate
//! representation: for `mel_stats_linear` the standardised log-mel statistics, for the CRNNs
//! the last GRU state). An enrolled singer's profile is the mean of its recordings' embeddings
//! after each is scaled to unit length, scaled to unit length again; similarity is the cosine.
//!
//! The decision ([`enrolled_winner`]): the model names one of its trained singers (or
//! `unknown`) as before; when, among all profiles (the trained singers' and the enrolled
//! ones'), the closest to the recording is an enrolled singer's and its similarity reaches the
//! threshold, that enrolled singer is the answer instead. The trained singers' profiles and the
//! threshold come from the model's calibration ([`OpenSetCalibration`], written by
//! `singerid eval-open`) on its own singers only: profiles from their training recordings,
//! validation recordings scored against every profile (same singer: genuine, other: impostor),
//! and the threshold at the operating point where false accepts and false rejects are equally
//! frequent (the EER), or at a chosen impostor acceptance.
//!
//! An embedding model (a siamese network trained with the contrastive loss) has no trained
//! class output, so it names singers by profiles alone ([`answer_by_profiles`]): the closest
//! profile wins when it reaches the threshold, and every clip is named after its closest
//! profile. Its results then carry cosine similarities where a classifier's carry
//! probabilities (`confidence`, `top[].probability`, `clips[].probability`).

use std::path::Path;

use serde::{Deserialize, Serialize};
use singerid_infer::FileResult;
use singerid_infer::identify::{Ranked, UNKNOWN};

use crate::error::LibraryError;

/// The file in a model folder that holds its calibrated enrolment threshold.
pub const CALIBRATION_FILE: &str = "open_set.json";

/// `v` scaled to unit length (zero stays zero).
pub fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter().map(|x| x / norm).collect()
    } else {
        vec![0.0; v.len()]
    }
}

/// Cosine similarity, `a·b / (|a| |b|)`, in [-1, 1]
/// ([`singerid_eval::verification::cosine_similarity`]); 0 when either is zero or the lengths
/// differ (a recording analysed by another model).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    singerid_eval::verification::cosine_similarity(a, b).unwrap_or(0.0) as f32
}

/// A singer's profile from its recordings' embeddings: the unit-length mean of their unit
/// vectors (each recording counts once, whatever its length). None when there are none.
pub fn profile_of<'a>(embeddings: impl IntoIterator<Item = &'a [f32]>) -> Option<Vec<f32>> {
    let mut sum: Option<Vec<f32>> = None;
    for e in embeddings {
        let u = unit(e);
        match &mut sum {
            None => sum = Some(u),
            Some(s) if s.len() == u.len() => s.iter_mut().zip(&u).for_each(|(s, u)| *s += u),
            Some(_) => {}
        }
    }
    sum.map(|s| unit(&s))
}

/// An enrolled singer's profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The singer's name.
    pub name: String,
    /// Unit-length profile.
    pub embedding: Vec<f32>,
}

/// A singer and a recording's similarity to its profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileMatch {
    /// The singer.
    pub singer: String,
    /// Cosine similarity of the recording to the singer's profile.
    pub similarity: f32,
}

/// A file's answer when enrolled singers take part: the model's result (same JSON fields as
/// `identify --format json`) with `singer` possibly an enrolled name, plus the closest
/// enrolled singers and the closest trained singer's profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenSetResult {
    /// The model's result, its `singer` replaced by an enrolled singer when one wins.
    #[serde(flatten)]
    pub file: FileResult,
    /// `model` (a trained singer, or `unknown`) or `enrolled`; for an embedding model,
    /// `profile` (a trained singer's profile or `unknown`) or `enrolled`.
    pub decided_by: &'static str,
    /// Whether the answer came from profiles alone (an embedding model): then `confidence`,
    /// `top[].probability` and `clips[].probability` are cosine similarities.
    pub by_profiles: bool,
    /// The model's own answer (a trained singer or `unknown`), whoever decided.
    pub model_singer: String,
    /// Why the model's own answer is `unknown`, if it is.
    pub model_unknown_reason: Option<String>,
    /// The closest enrolled singers, most similar first.
    pub enrolled: Vec<ProfileMatch>,
    /// The trained singer whose profile is closest (None when the model's calibration has no
    /// profiles).
    pub closest_trained: Option<ProfileMatch>,
    /// The similarity an enrolled singer must reach to win (None: not calibrated, never wins).
    pub enrol_threshold: Option<f32>,
}

/// The decision rule: among every profile, trained and enrolled, the one closest to
/// `embedding` wins if it is an enrolled singer's and its similarity reaches `threshold`;
/// otherwise (None) the model's own answer stands. Without a threshold nothing wins.
pub fn enrolled_winner<'a>(
    embedding: &[f32],
    trained: &[Profile],
    enrolled: &'a [Profile],
    threshold: Option<f32>,
) -> Option<(&'a Profile, f32)> {
    let threshold = threshold?;
    let best_trained = trained
        .iter()
        .map(|p| cosine(embedding, &p.embedding))
        .fold(f32::NEG_INFINITY, f32::max);
    enrolled
        .iter()
        .map(|p| (p, cosine(embedding, &p.embedding)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.name.cmp(&a.0.name)))
        .filter(|&(_, s)| s > best_trained && s >= threshold)
}

/// `profiles` by their cosine similarity to `embedding`, most similar first (ties by name).
fn rank<'a>(
    embedding: &[f32],
    profiles: impl IntoIterator<Item = &'a Profile>,
) -> Vec<ProfileMatch> {
    let mut list: Vec<ProfileMatch> = profiles
        .into_iter()
        .map(|p| ProfileMatch {
            singer: p.name.clone(),
            similarity: cosine(embedding, &p.embedding),
        })
        .collect();
    list.sort_by(|a, b| {
        b.similarity
            .total_cmp(&a.similarity)
            .then(a.singer.cmp(&b.singer))
    });
    list
}

/// A file's answer from profiles alone, for an embedding model whose class output is
/// untrained: the closest of `profiles` is the answer when its cosine similarity reaches
/// `threshold` (else `unknown`, saying why), each clip is named after its closest profile, and
/// the vote fields count the clips whose closest profile is the file's. `confidence` and the
/// `probability` fields become cosine similarities; `top` lists the three closest profiles. A
/// file without a voice stays `unknown`.
pub fn answer_by_profiles(
    mut file: FileResult,
    profiles: &[&Profile],
    threshold: Option<f32>,
) -> FileResult {
    let ranked = |embedding: &[f32]| -> Vec<Ranked> {
        rank(embedding, profiles.iter().copied())
            .into_iter()
            .map(|m| Ranked {
                singer: m.singer,
                probability: m.similarity,
            })
            .collect()
    };
    let mut top = ranked(&file.embedding);
    top.truncate(3);
    let best = top.first().cloned();
    for clip in &mut file.clips {
        let nearest = ranked(&clip.embedding).into_iter().next();
        (clip.singer, clip.probability) = match nearest {
            Some(r) if !clip.embedding.is_empty() => (r.singer, r.probability),
            _ => (UNKNOWN.to_owned(), 0.0),
        };
    }
    let best_name = best.as_ref().map_or(UNKNOWN, |b| b.singer.as_str());
    file.counted = file.clips.len();
    file.votes = match best {
        Some(_) => file.clips.iter().filter(|c| c.singer == best_name).count(),
        None => 0,
    };
    file.vote_share = if file.counted > 0 {
        file.votes as f64 / file.counted as f64
    } else {
        0.0
    };
    file.confident_vote = false;
    file.best_guess = best_name.to_owned();
    file.confidence = best.as_ref().map_or(0.0, |b| b.probability);
    file.top = top;
    let no_voice = file
        .unknown_reason
        .as_deref()
        .is_some_and(|r| r.starts_with("no voice"));
    if !no_voice {
        (file.singer, file.unknown_reason) = match (&best, threshold) {
            (Some(b), Some(t)) if b.probability >= t => (b.singer.clone(), None),
            (Some(b), Some(t)) => (
                UNKNOWN.to_owned(),
                Some(format!(
                    "no singer's profile is close enough: {} {:.3} is below the threshold {t:.3}",
                    b.singer, b.probability
                )),
            ),
            _ => (
                UNKNOWN.to_owned(),
                Some(
                    "an embedding model names singers by their profiles, and this one has no \
                     calibration (trained singers' profiles and threshold): run `singerid \
                     eval-open --model <its folder> --write-model`"
                        .to_owned(),
                ),
            ),
        };
    }
    file
}

/// Applies the enrolled singers to a model's answer by [`enrolled_winner`], unless no voice
/// was found. Lists the `top_k` closest enrolled singers. With `by_profiles` (an embedding
/// model) the answer comes from [`answer_by_profiles`] over the trained and enrolled profiles
/// instead, and the model's own answer from the trained profiles alone.
pub fn decide(
    file: FileResult,
    trained: &[Profile],
    enrolled: &[Profile],
    threshold: Option<f32>,
    top_k: usize,
    by_profiles: bool,
) -> OpenSetResult {
    let ranked = |profiles: &[Profile]| rank(&file.embedding, profiles);
    let mut closest = ranked(enrolled);
    closest.truncate(top_k);
    let closest_trained = ranked(trained).into_iter().next();
    if by_profiles {
        let own = answer_by_profiles(file.clone(), &trained.iter().collect::<Vec<_>>(), threshold);
        let all: Vec<&Profile> = trained.iter().chain(enrolled).collect();
        let file = answer_by_profiles(file, &all, threshold);
        let decided_by = if enrolled.iter().any(|p| p.name == file.singer) {
            "enrolled"
        } else {
            "profile"
        };
        return OpenSetResult {
            file,
            decided_by,
            by_profiles,
            model_singer: own.singer,
            model_unknown_reason: own.unknown_reason,
            enrolled: closest,
            closest_trained,
            enrol_threshold: threshold,
        };
    }
    let no_voice = file
        .unknown_reason
        .as_deref()
        .is_some_and(|r| r.starts_with("no voice"));
    let winner = (!no_voice)
        .then(|| enrolled_winner(&file.embedding, trained, enrolled, threshold))
        .flatten()
        .map(|(p, _)| p.name.clone());
    let mut file = file;
    let model_singer = file.singer.clone();
    let model_unknown_reason = file.unknown_reason.clone();
    let decided_by = match winner {
        Some(name) => {
            file.singer = name;
            file.unknown_reason = None;
            "enrolled"
        }
        None => "model",
    };
    OpenSetResult {
        file,
        decided_by,
        by_profiles,
        model_singer,
        model_unknown_reason,
        enrolled: closest,
        closest_trained,
        enrol_threshold: threshold,
    }
}

/// The lowest threshold that accepts at most `target_false_accept` of the `impostor` scores
/// (a score is accepted when it is at least the threshold). None without impostors.
pub fn threshold_for(impostor: &[f32], target_false_accept: f64) -> Option<f32> {
    let mut sorted: Vec<f32> = impostor.iter().copied().filter(|s| s.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(|a, b| b.total_cmp(a));
    let allowed = (target_false_accept.clamp(0.0, 1.0) * sorted.len() as f64).floor() as usize;
    // Accept the `allowed` highest impostors and reject the next one: the threshold sits just
    // above it.
    Some(match sorted.get(allowed) {
        Some(&s) => s.next_up(),
        None => sorted[sorted.len() - 1],
    })
}

/// A model's open-set calibration, as stored in its folder's [`CALIBRATION_FILE`]: the
/// enrolment threshold and its trained singers' profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenSetCalibration {
    /// Cosine similarity an enrolled profile must reach.
    pub threshold: f32,
    /// The impostor acceptance rate it was chosen for; None: the calibration trials' EER
    /// operating point.
    pub target_false_accept: Option<f64>,
    /// Impostor and genuine pairs it was calibrated on.
    pub impostor_pairs: usize,
    /// Genuine pairs.
    pub genuine_pairs: usize,
    /// Share of genuine pairs it accepts.
    pub genuine_accept: f64,
    /// Verification equal error rate over the same pairs.
    pub eer: f64,
    /// The data and splits it came from.
    pub data: String,
    /// Each trained singer's profile (unit length), from the calibration's profile split.
    pub profiles: std::collections::BTreeMap<String, Vec<f32>>,
}

impl OpenSetCalibration {
    /// Reads `dir/open_set.json`; None when the model folder has none.
    ///
    /// # Errors
    /// A file that exists but does not parse.
    pub fn read(dir: &Path) -> Result<Option<Self>, LibraryError> {
        let path = dir.join(CALIBRATION_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| LibraryError::io(&path, e))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| LibraryError::Invalid(format!("{}: {e}", path.display())))
    }

    /// Writes `dir/open_set.json`.
    ///
    /// # Errors
    /// An unwritable folder.
    pub fn write(&self, dir: &Path) -> Result<(), LibraryError> {
        let path = dir.join(CALIBRATION_FILE);
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        std::fs::write(&path, text + "\n").map_err(|e| LibraryError::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use singerid_infer::identify::UNKNOWN;

    use super::*;

    fn file(singer: &str, embedding: Vec<f32>, reason: Option<&str>) -> FileResult {
        FileResult {
            path: PathBuf::from("x.wav"),
            singer: singer.into(),
            unknown_reason: reason.map(Into::into),
            best_guess: "a".into(),
            confidence: 0.5,
            voice_level_db: -20.0,
            flatness: Some(0.01),
            vote_share: 1.0,
            votes: 1,
            counted: 1,
            confident_vote: true,
            top: Vec::new(),
            clips: Vec::new(),
            duration_s: 3.0,
            embedding,
        }
    }

    #[test]
    fn cosine_and_profiles() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 1.0]) - 0.5_f32.sqrt()).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 1.0]), 0.0);
        // Each recording counts once, whatever its scale: (1,0) and (0,10) -> (1,1)/sqrt 2.
        let p = profile_of([[1.0_f32, 0.0].as_slice(), [0.0, 10.0].as_slice()]).expect("one");
        assert!((p[0] - 0.5_f32.sqrt()).abs() < 1e-6 && (p[1] - p[0]).abs() < 1e-6);
        assert!(profile_of(std::iter::empty::<&[f32]>()).is_none());
    }

    /// The closest profile wins when it is enrolled and reaches the threshold, even over a
    /// confident model answer or a low-confidence `unknown`; below the threshold, behind a
    /// trained singer's profile, without a calibration, or when no voice was found, the
    /// model's answer stands. The enrolled list is ordered by similarity.
    #[test]
    fn enrolled_singers_win_only_when_closest_and_above_the_threshold() {
        let enrolled = [
            Profile {
                name: "near".into(),
                embedding: unit(&[1.0, 0.1]),
            },
            Profile {
                name: "far".into(),
                embedding: unit(&[0.0, 1.0]),
            },
        ];
        let trained = [Profile {
            name: "a".into(),
            embedding: unit(&[1.0, 0.5]),
        }];
        let x = || file("a", vec![1.0, 0.0], None);
        let s = cosine(&[1.0, 0.0], &enrolled[0].embedding);
        let r = decide(x(), &trained, &enrolled, Some(s), 5, false);
        assert_eq!((r.file.singer.as_str(), r.decided_by), ("near", "enrolled"));
        assert_eq!(r.enrolled[0].singer, "near");
        assert_eq!(r.enrolled[1].singer, "far");
        assert_eq!(
            r.closest_trained.as_ref().map(|m| m.singer.as_str()),
            Some("a")
        );
        let r = decide(x(), &trained, &enrolled, Some(s.next_up()), 5, false);
        assert_eq!((r.file.singer.as_str(), r.decided_by), ("a", "model"));
        // A trained profile closer than every enrolled one keeps the model's answer.
        let closer = [Profile {
            name: "a".into(),
            embedding: unit(&[1.0, 0.0]),
        }];
        let r = decide(x(), &closer, &enrolled, Some(0.0), 5, false);
        assert_eq!(r.decided_by, "model");
        let low = decide(
            file(UNKNOWN, vec![1.0, 0.0], Some("low confidence: 0.2")),
            &trained,
            &enrolled,
            Some(0.5),
            1,
            false,
        );
        assert_eq!(low.file.singer, "near");
        assert_eq!(low.file.unknown_reason, None);
        assert_eq!(low.enrolled.len(), 1);
        let silent = decide(
            file(UNKNOWN, vec![1.0, 0.0], Some("no voice found: silent")),
            &trained,
            &enrolled,
            Some(0.5),
            5,
            false,
        );
        assert_eq!(
            (silent.file.singer.as_str(), silent.decided_by),
            (UNKNOWN, "model")
        );
        let uncalibrated = decide(x(), &trained, &enrolled, None, 5, false);
        assert_eq!(uncalibrated.decided_by, "model");
    }

    /// An embedding model answers by profiles: the closest of the trained and enrolled
    /// profiles when it reaches the threshold (clips named after their own closest profile,
    /// similarities in place of probabilities), `unknown` below it or without a calibration,
    /// and `unknown` (no voice) whatever the profiles say.
    #[test]
    fn embedding_models_answer_by_profiles() {
        use singerid_infer::identify::ClipLine;
        let trained = [
            Profile {
                name: "a".into(),
                embedding: unit(&[1.0, 0.0]),
            },
            Profile {
                name: "b".into(),
                embedding: unit(&[0.0, 1.0]),
            },
        ];
        let enrolled = [Profile {
            name: "e".into(),
            embedding: unit(&[1.0, 1.0]),
        }];
        let clip = |index: usize, embedding: Vec<f32>| ClipLine {
            index,
            start_s: 3.0 * index as f64,
            end_s: 3.0 * (index + 1) as f64,
            singer: "untrained head".into(),
            probability: 0.99,
            embedding,
        };
        // The file lies between a and e, nearer e; its clips point at a, e and b.
        let mut x = file("untrained head", vec![0.8, 0.6], None);
        x.clips = vec![
            clip(0, vec![1.0, 0.05]),
            clip(1, vec![0.7, 0.7]),
            clip(2, vec![0.0, 1.0]),
        ];
        let r = decide(x.clone(), &trained, &enrolled, Some(0.9), 5, true);
        assert!(r.by_profiles);
        assert_eq!((r.file.singer.as_str(), r.decided_by), ("e", "enrolled"));
        let e_sim = cosine(&[0.8, 0.6], &unit(&[1.0, 1.0]));
        assert!((r.file.confidence - e_sim).abs() < 1e-6);
        let names: Vec<&str> = r.file.top.iter().map(|t| t.singer.as_str()).collect();
        assert_eq!(names, ["e", "a", "b"]);
        let clips: Vec<&str> = r.file.clips.iter().map(|c| c.singer.as_str()).collect();
        assert_eq!(clips, ["a", "e", "b"]);
        assert_eq!((r.file.votes, r.file.counted), (1, 3));
        // The model's own answer is among the trained profiles only: a, at 0.8 below 0.9.
        assert_eq!(r.model_singer, UNKNOWN);
        let own = decide(x.clone(), &trained, &enrolled, Some(0.7), 5, true);
        assert_eq!(
            (own.file.singer.as_str(), own.model_singer.as_str()),
            ("e", "a")
        );
        // Below the threshold: unknown, saying which profile came closest.
        let low = decide(x.clone(), &trained, &enrolled, Some(0.995), 5, true);
        assert_eq!(low.file.singer, UNKNOWN);
        assert_eq!(low.file.best_guess, "e");
        assert!(
            low.file
                .unknown_reason
                .as_deref()
                .is_some_and(|r| r.contains("below the threshold"))
        );
        // No calibration: unknown, saying how to calibrate.
        let none = decide(x.clone(), &trained, &enrolled, None, 5, true);
        assert_eq!(none.file.singer, UNKNOWN);
        assert!(
            none.file
                .unknown_reason
                .as_deref()
                .is_some_and(|r| r.contains("eval-open"))
        );
        // No voice stays unknown for that reason.
        x.singer = UNKNOWN.into();
        x.unknown_reason = Some("no voice found: silent".into());
        let silent = decide(x, &trained, &enrolled, Some(0.0), 5, true);
        assert_eq!(silent.file.singer, UNKNOWN);
        assert_eq!(
            silent.file.unknown_reason.as_deref(),
            Some("no voice found: silent")
        );
    }

    /// 10 impostor scores 0.0 .. 0.9: a 10 % target accepts exactly the highest (0.9), 0 %
    /// none, 100 % all.
    #[test]
    fn threshold_accepts_the_target_share() {
        let impostor: Vec<f32> = (0..10).map(|i| i as f32 / 10.0).collect();
        let accepted = |t: f32| impostor.iter().filter(|&&s| s >= t).count();
        assert_eq!(accepted(threshold_for(&impostor, 0.1).expect("t")), 1);
        assert_eq!(accepted(threshold_for(&impostor, 0.0).expect("t")), 0);
        assert_eq!(accepted(threshold_for(&impostor, 0.15).expect("t")), 1);
        assert_eq!(accepted(threshold_for(&impostor, 1.0).expect("t")), 10);
        assert_eq!(threshold_for(&[], 0.1), None);
    }
}
