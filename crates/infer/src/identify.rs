//! Naming the singer of audio files: audio -> log-mel (the bundle's feature config) -> clips of
//! the bundle's length -> model -> the paper's song vote per file.
//!
//! Every full clip is kept, whatever the training rule for the last clip (a short file must
//! still give its one clip). The vote follows Kuo et al. (AAAI 2021): clips with top probability
//! > 0.5 vote, all clips when none does, ties to the lowest class.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use singerid_audio::{LogMel, Signal, load, log_mel};
use singerid_data::clip::LastClip;
use singerid_data::{Progress, Recording};
use singerid_eval::Predictions;
use singerid_eval::vote::{ClipDecision, vote};
use singerid_train::{Bundle, ClipSet, predict};

/// How identification runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentifyOptions {
    /// Clips per forward pass.
    pub batch_size: usize,
    /// Files decoded and classified together (bounds memory on large folders).
    pub files_per_chunk: usize,
    /// How many singers each file's ranking lists.
    pub top_k: usize,
    /// Whether [`Identification::files`] keeps every result; false when the caller takes them
    /// from `on_chunk` (a library scan), so memory stays bounded by one chunk.
    pub keep_files: bool,
}

impl Default for IdentifyOptions {
    fn default() -> Self {
        Self {
            batch_size: 32,
            files_per_chunk: 64,
            top_k: 3,
            keep_files: true,
        }
    }
}

/// One singer and a probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// The singer.
    pub singer: String,
    /// Mean clip probability.
    pub probability: f32,
}

/// One clip of a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipLine {
    /// Clip index within the file.
    pub index: usize,
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
    /// The clip's most probable singer.
    pub singer: String,
    /// Its probability.
    pub probability: f32,
    /// The model's embedding of the clip (not printed; the library stores it).
    #[serde(skip)]
    pub embedding: Vec<f32>,
}

/// A file's vocal source is quieter than this where it is loudest ([`Signal::active_level_db`],
/// dB re full scale): no voice is found and the answer is `unknown`.
pub const NO_VOICE_DB: f32 = -50.0;

/// A file whose input (the channel, or the mix a separator is given) has a median spectral
/// flatness ([`Signal::median_flatness`]) above this is noise-like: no voice is found and the
/// answer is `unknown`.
pub const NOISE_FLATNESS: f32 = 0.3;

/// The answer when the evidence is too weak to name a singer.
pub const UNKNOWN: &str = "unknown";

/// The decision for one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileResult {
    /// The file.
    pub path: PathBuf,
    /// The vote's winner, or [`UNKNOWN`] (see `unknown_reason`).
    pub singer: String,
    /// Why the answer is `unknown`: no voice found, or a confidence below the model's
    /// calibrated threshold. None when a singer is named.
    pub unknown_reason: Option<String>,
    /// The vote's winner even when the answer is `unknown`.
    pub best_guess: String,
    /// The winner's mean clip probability.
    pub confidence: f32,
    /// The vocal source's level where it is loudest, dB re full scale.
    pub voice_level_db: f32,
    /// The input's median spectral flatness (None: silent).
    pub flatness: Option<f32>,
    /// Votes for the winner / votes counted.
    pub vote_share: f64,
    /// Votes for the winner.
    pub votes: usize,
    /// Votes counted.
    pub counted: usize,
    /// Whether the counted votes are the confident clips (false: no clip was above 0.5, all
    /// voted).
    pub confident_vote: bool,
    /// The leading singers: the vote's winner first, then by votes, then by mean clip
    /// probability (each with its mean clip probability).
    pub top: Vec<Ranked>,
    /// Every clip, in time order.
    pub clips: Vec<ClipLine>,
    /// Seconds of audio analysed (the log-mel's frames).
    pub duration_s: f64,
    /// The file's embedding: the mean of its clips' embeddings (not printed; enrolment and
    /// the library's similarity search use it).
    #[serde(skip)]
    pub embedding: Vec<f32>,
}

/// A file that could not be identified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// The file or folder.
    pub path: PathBuf,
    /// Why.
    pub error: String,
}

/// What [`identify`] found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Identification {
    /// One result per identified file, in input order.
    pub files: Vec<FileResult>,
    /// Inputs that could not be read or identified.
    pub failures: Vec<Failure>,
}

/// Identifies the singer of every audio file named by `inputs` (files, or folders searched
/// recursively) with `bundle` (loaded on the device it runs on).
///
/// Files are handled in chunks of [`IdentifyOptions::files_per_chunk`]; `on_chunk` receives each
/// chunk's results as soon as they are decided (for streaming output), and `progress` counts
/// files. Per-file problems (unreadable, not audio, shorter than one clip) are
/// [`Identification::failures`], logged as errors, and never stop the run.
pub fn identify(
    bundle: &Bundle,
    inputs: &[PathBuf],
    options: &IdentifyOptions,
    progress: &dyn Progress,
    on_chunk: &mut dyn FnMut(&[FileResult]),
) -> Identification {
    let meta = &bundle.meta;
    let config = meta.features;
    let seconds_per_frame = config.hop_length as f64 / f64::from(config.sample_rate_hz);
    let clip_seconds = meta.clip_frames as f64 * seconds_per_frame;

    let (files, problems) = singerid_data::tree::audio_files(inputs);
    let mut out = Identification::default();
    for problem in problems {
        tracing::error!("{problem}");
        out.failures.push(Failure {
            path: problem.path().map(Path::to_path_buf).unwrap_or_default(),
            error: problem.to_string(),
        });
    }
    if files.is_empty() && out.failures.is_empty() {
        for input in inputs {
            let error = format!(
                "no audio files ({}) found",
                singerid_data::AUDIO_EXTENSIONS.join(", ")
            );
            tracing::error!("{}: {error}", input.display());
            out.failures.push(Failure {
                path: input.clone(),
                error,
            });
        }
    }
    progress.start("identify", Some(files.len() as u64));
    for chunk in files.chunks(options.files_per_chunk.max(1)) {
        let features: Vec<(PathBuf, Analysed)> = chunk
            .par_iter()
            .map(|path| {
                // The vocal source: the bundle's separator on the channel mix, or the channel.
                // Flatness is measured on the input (a separator makes noise peaky), the level
                // on the vocal source.
                let result = (|| {
                    let input = match &bundle.separator {
                        Some(_) => load(path, &singerid_train::vocals::mix_of(&config))?,
                        None => load(path, &config)?,
                    };
                    let flatness = input.median_flatness();
                    let signal: Signal = match &bundle.separator {
                        Some(separator) => {
                            singerid_train::vocals::separate_signal(&input, separator, path)?
                        }
                        None => input,
                    };
                    let voice = Voice {
                        level_db: signal.active_level_db(),
                        flatness,
                        duration_s: 0.0,
                    };
                    let mel = log_mel(&signal, &config)?;
                    // A melody model's contour is computed below, one file at a time (CREPE
                    // already uses every core).
                    let signal = bundle.melody.is_some().then_some(signal);
                    Ok::<_, singerid_audio::AudioError>((mel, voice, signal))
                })()
                .map_err(|e| e.to_string());
                progress.advance(1);
                (path.clone(), result)
            })
            .collect();
        let mut items = Vec::new();
        let mut voices = Vec::new();
        let mut contours = Vec::new();
        for (path, result) in features {
            let error = match result {
                Ok((mel, mut voice, signal)) if mel.n_frames >= meta.clip_frames => {
                    if let (Some(melody), Some(signal)) = (&bundle.melody, signal) {
                        let quiet = singerid_data::Silent;
                        match melody.contour_of_signal(&signal, mel.n_frames, &quiet, "melody") {
                            Ok(bins) => contours.push(Ok(bins)),
                            Err(e) => {
                                let error = format!("melody: {e}");
                                tracing::error!("{}: {error}", path.display());
                                out.failures.push(Failure { path, error });
                                continue;
                            }
                        }
                    }
                    voice.duration_s = mel.n_frames as f64 * seconds_per_frame;
                    items.push((recording_for(&path), mel));
                    voices.push(voice);
                    continue;
                }
                Ok((mel, _, _)) => format!(
                    "too short: {:.2} s of audio, one clip needs {:.2} s ({} frames)",
                    mel.n_frames as f64 * seconds_per_frame,
                    clip_seconds,
                    meta.clip_frames
                ),
                Err(err) => err,
            };
            tracing::error!("{}: {error}", path.display());
            out.failures.push(Failure { path, error });
        }
        if items.is_empty() {
            continue;
        }
        let order: Vec<PathBuf> = items.iter().map(|(r, _)| r.abs_path.clone()).collect();
        let mut set = ClipSet::from_features(
            items,
            &meta.classes,
            meta.clip_frames,
            LastClip::Keep,
            seconds_per_frame,
        );
        if bundle.melody.is_some() {
            // Every item has its contour of its own frame count: nothing is left out here.
            for problem in set.attach_melody(contours) {
                tracing::error!("{problem}");
            }
        }
        let predictions = predict(&*bundle.model, &set, options.batch_size.max(1));
        let results = decide(
            &order,
            &voices,
            &predictions,
            options.top_k,
            meta.unknown_below,
        );
        on_chunk(&results);
        if options.keep_files {
            out.files.extend(results);
        }
    }
    progress.finish();
    out
}

/// One file's features and voice measures, or why it failed.
/// A file's log-mel, what its vocal source says of a voice, and (for a melody model) the
/// vocal signal its contour is computed from.
type Analysed = Result<(LogMel, Voice, Option<Signal>), String>;

/// What the vocal source says about a voice being there.
#[derive(Debug, Clone, Copy)]
struct Voice {
    level_db: f32,
    flatness: Option<f32>,
    /// Seconds of audio analysed.
    duration_s: f64,
}

impl Voice {
    /// Why no voice is found, or None.
    fn absent(self) -> Option<String> {
        // NaN (never produced) and -inf (digital silence) count as quiet.
        if self.level_db.is_nan() || self.level_db < NO_VOICE_DB {
            return Some(format!(
                "no voice found: the vocal source peaks at {:.0} dBFS, below {NO_VOICE_DB:.0}",
                self.level_db
            ));
        }
        match self.flatness {
            Some(f) if f > NOISE_FLATNESS => Some(format!(
                "no voice found: the input is noise-like (spectral flatness {f:.2}, above \
                 {NOISE_FLATNESS})"
            )),
            None => Some("no voice found: the input is silent".into()),
            _ => None,
        }
    }
}

/// A stand-in recording for a file outside any dataset: no singer (so no label), the file as
/// its own song.
fn recording_for(path: &Path) -> Recording {
    Recording {
        path: path.to_path_buf(),
        abs_path: path.to_path_buf(),
        singer: String::new(),
        album: None,
        song: path.display().to_string(),
        split: None,
        tags: Vec::new(),
    }
}

/// Groups clip predictions by file (in `order`) and applies the paper's vote to each.
/// `voices[i]` describes `order[i]`'s vocal source; `unknown_below` is the model's calibrated
/// confidence threshold.
fn decide(
    order: &[PathBuf],
    voices: &[Voice],
    p: &Predictions,
    top_k: usize,
    unknown_below: Option<f32>,
) -> Vec<FileResult> {
    let name = |class: usize| p.classes.get(class).cloned().unwrap_or_default();
    order
        .iter()
        .zip(voices)
        .filter_map(|(path, &voice)| {
            let key = path.display().to_string();
            let clips: Vec<_> = p.clips.iter().filter(|c| c.recording == key).collect();
            let decisions: Vec<ClipDecision> = clips
                .iter()
                .filter_map(|c| ClipDecision::from_probs(&c.probs))
                .collect();
            let winner = vote(&decisions)?;
            let confident: Vec<&ClipDecision> =
                decisions.iter().filter(|d| d.is_confident()).collect();
            let confident_vote = !confident.is_empty();
            let counted: Vec<usize> = if confident_vote {
                confident.iter().map(|d| d.class).collect()
            } else {
                decisions.iter().map(|d| d.class).collect()
            };
            let votes = counted.iter().filter(|&&c| c == winner).count();
            let mut mean = vec![0.0_f32; p.classes.len()];
            for c in &clips {
                for (m, v) in mean.iter_mut().zip(&c.probs) {
                    *m += v / clips.len() as f32;
                }
            }
            let confidence = mean.get(winner).copied().unwrap_or(0.0);
            // The ranking agrees with the decision: the vote's winner first, then by votes among
            // the counted clips, then by mean probability.
            let votes_for = |class: usize| counted.iter().filter(|&&c| c == class).count();
            let mut ranked: Vec<(usize, f32)> = mean.into_iter().enumerate().collect();
            ranked.sort_by(|a, b| {
                (b.0 == winner)
                    .cmp(&(a.0 == winner))
                    .then(votes_for(b.0).cmp(&votes_for(a.0)))
                    .then(b.1.total_cmp(&a.1))
                    .then(a.0.cmp(&b.0))
            });
            let top = ranked
                .into_iter()
                .take(top_k)
                .map(|(class, probability)| Ranked {
                    singer: name(class),
                    probability,
                })
                .collect();
            let clip_lines = clips
                .iter()
                .filter_map(|c| {
                    let d = ClipDecision::from_probs(&c.probs)?;
                    let start_s = c.start_frame as f64 * p.seconds_per_frame;
                    Some(ClipLine {
                        index: c.clip_index,
                        start_s,
                        end_s: start_s + p.clip_frames as f64 * p.seconds_per_frame,
                        singer: name(d.class),
                        probability: d.confidence,
                        embedding: c.embedding.clone(),
                    })
                })
                .collect();
            let unknown_reason = voice.absent().or_else(|| {
                unknown_below.filter(|&t| confidence < t).map(|t| {
                    format!(
                        "low confidence: {confidence:.2}, below the {t:.2} calibrated on validation"
                    )
                })
            });
            Some(FileResult {
                path: path.clone(),
                singer: if unknown_reason.is_some() {
                    UNKNOWN.to_owned()
                } else {
                    name(winner)
                },
                unknown_reason,
                best_guess: name(winner),
                confidence,
                voice_level_db: voice.level_db,
                flatness: voice.flatness,
                vote_share: votes as f64 / counted.len().max(1) as f64,
                votes,
                counted: counted.len(),
                confident_vote,
                top,
                clips: clip_lines,
                duration_s: voice.duration_s,
                embedding: singerid_eval::mean_embedding(&clips),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use singerid_eval::ClipPrediction;

    use super::*;

    const VOICED: Voice = Voice {
        level_db: -20.0,
        flatness: Some(0.02),
        duration_s: 10.0,
    };

    /// Issue 13: the ranking agrees with the vote. Two confident clips vote for `a` (0.51);
    /// two unconfident clips (0.5 is not above 0.5) lean to `c`, which so has the highest mean
    /// probability (0.495) but no vote. The answer is `a`, and `a` leads the top 3, then `c`
    /// and `b` (no votes: by mean probability).
    #[test]
    fn the_top_list_starts_with_the_votes_winner() {
        let probs = [
            [0.51, 0.0, 0.49],
            [0.51, 0.0, 0.49],
            [0.0, 0.5, 0.5],
            [0.0, 0.5, 0.5],
        ];
        let (path, predictions) = one_file(&probs);
        let results = decide(
            std::slice::from_ref(&path),
            &[VOICED],
            &predictions,
            3,
            None,
        );
        let r = &results[0];
        assert_eq!(r.singer, "a");
        assert_eq!((r.votes, r.counted, r.confident_vote), (2, 2, true));
        let order: Vec<&str> = r.top.iter().map(|t| t.singer.as_str()).collect();
        assert_eq!(order, ["a", "c", "b"]);
        assert!((r.top[1].probability - 0.495).abs() < 1e-6);
    }

    /// One file's clip predictions over classes "a", "b", "c", ... (as many as each row has).
    fn one_file<const N: usize>(probs: &[[f32; N]]) -> (PathBuf, Predictions) {
        let path = PathBuf::from("x.wav");
        let clips = probs
            .iter()
            .enumerate()
            .map(|(i, p)| ClipPrediction {
                recording: path.display().to_string(),
                song: path.display().to_string(),
                singer: String::new(),
                label: None,
                clip_index: i,
                start_frame: i * 94,
                probs: p.to_vec(),
                embedding: Vec::new(),
            })
            .collect();
        let predictions = Predictions {
            classes: (0..N)
                .map(|c| char::from(b'a' + c as u8).to_string())
                .collect(),
            clip_frames: 94,
            seconds_per_frame: 0.032,
            clips,
        };
        (path, predictions)
    }

    /// Issue 13: `unknown` when no voice is found (the level below NO_VOICE_DB, -inf for
    /// digital silence, or a noise-like spectrum) or when the winner's mean probability (here 0.6) is below the
    /// model's calibrated threshold; otherwise the winner, with the same best guess.
    #[test]
    fn weak_evidence_answers_unknown() {
        let (path, p) = one_file(&[[0.7, 0.3], [0.5, 0.5]]);
        let order = std::slice::from_ref(&path);
        let named = &decide(order, &[VOICED], &p, 2, Some(0.55))[0];
        assert_eq!(
            (named.singer.as_str(), named.unknown_reason.as_ref()),
            ("a", None)
        );
        assert!((named.confidence - 0.6).abs() < 1e-6);
        let unsure = &decide(order, &[VOICED], &p, 2, Some(0.65))[0];
        assert_eq!(unsure.singer, UNKNOWN);
        assert_eq!(unsure.best_guess, "a");
        assert!(
            unsure
                .unknown_reason
                .as_deref()
                .unwrap_or("")
                .contains("low confidence")
        );
        let quiet = |level_db| Voice { level_db, ..VOICED };
        let noise = Voice {
            flatness: Some(NOISE_FLATNESS + 0.1),
            ..VOICED
        };
        for voice in [quiet(f32::NEG_INFINITY), quiet(NO_VOICE_DB - 1.0), noise] {
            let silent = &decide(order, &[voice], &p, 2, None)[0];
            assert_eq!(silent.singer, UNKNOWN);
            assert!(
                silent
                    .unknown_reason
                    .as_deref()
                    .unwrap_or("")
                    .contains("no voice found")
            );
        }
    }
}
