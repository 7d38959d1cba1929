//! Scoring a tagging model (`singerid train --objective multilabel`) on a split of a dataset the
//! way music auto-tagging is scored (Choi, Fazekas, Sandler and Cho, "Convolutional Recurrent
//! Neural Networks for Music Classification", ICASSP 2017, Sec. 3: AUC-ROC), with a report
//! folder.
//!
//! The split is chosen as [`crate::evaluate_split`] chooses it (by default the model's own
//! partition). Each clip's scores are the sigmoid of the model's logits, one per tag
//! ([`singerid_train::predict_tags`]); a recording's scores are the mean of its clips'. The
//! truth is the tags the dataset lists for each recording (a manifest's `tags` column): a
//! recording without tags is a negative for every tag, and tags the model does not know are
//! listed, not scored. [`singerid_eval::tagging::evaluate_tagging`] computes, at both levels,
//! every tag's AUC, the macro mean over the tags that have positives and negatives there (with
//! how many were left out) and the micro AUC, scikit-learn's `roc_auc_score` definitions.
//!
//! Files: `<out>/tagging_report.json` ([`TaggingEvaluation`], stable key order), `report.md`
//! and `scores.csv` (one row per recording: its path, its tags, its mean score for each tag).

use std::path::PathBuf;

use serde::Serialize;
use singerid_data::Progress;
use singerid_eval::tagging::TagEvaluation;

use crate::Bundle;
use crate::error::Error;
use crate::evaluate::{EvalRequest, SplitCounts};
use crate::evaluate_embedding::{csv_field, write, write_json};

/// The result of [`evaluate_tagging`].
#[derive(Debug, Clone, Serialize)]
pub struct TaggingEvaluation {
    /// The model's registry name.
    pub model: String,
    /// The model folder.
    pub model_dir: PathBuf,
    /// The model's vocal source.
    pub vocals: String,
    /// The dataset, the split and its counts.
    #[serde(flatten)]
    pub counts: SplitCounts,
    /// Clips scored.
    pub clips: usize,
    /// The scores: per tag, macro and micro AUC-ROC over clips and over recordings.
    pub scores: TagEvaluation,
    /// The JSON report.
    pub report_json: PathBuf,
    /// The Markdown report.
    pub report_md: PathBuf,
    /// The recordings' mean scores.
    pub scores_csv: PathBuf,
    /// The command line.
    pub command: String,
}

/// Predicts the split `request` names with the tagging model `bundle`, scores its tags and
/// writes the report; see the module docs.
///
/// # Errors
/// As [`crate::predict_split`]; [`Error::Evaluation`] when `bundle` is not a tagging model, or when
/// no AUC is defined (no clip carries a tag of the model, or every clip carries them all);
/// [`Error::Eval`] for NaN scores; [`Error::Io`] for an unwritable report.
pub fn evaluate_tagging(
    bundle: &Bundle,
    request: &EvalRequest,
    progress: &dyn Progress,
) -> Result<TaggingEvaluation, Error> {
    if !crate::is_tagging_model(bundle) {
        return Err(Error::Evaluation(format!(
            "{} was not trained with --objective multilabel; its classes are singers, not tags",
            request.model_dir.display()
        )));
    }
    let split = request.predict(bundle, progress)?;
    let scores = singerid_eval::tagging::evaluate_tagging(&split.predictions, &split.tags)?;
    if scores.clip.macro_auc.is_none() && scores.clip.micro_auc.is_none() {
        return Err(Error::Evaluation(format!(
            "no AUC-ROC is defined on split `{}` of {}: none of its {} clips carries a tag of \
             the model ({}), or every clip carries them all; evaluate on recordings with and \
             without the tags (a manifest's `tags` column)",
            split.split,
            split.data.display(),
            split.predictions.clips.len(),
            scores.tags.join(", ")
        )));
    }
    std::fs::create_dir_all(&request.out).map_err(|e| Error::Io {
        path: request.out.clone(),
        source: e,
    })?;
    let evaluation = TaggingEvaluation {
        model: bundle.model.name().to_owned(),
        model_dir: request.model_dir.clone(),
        vocals: bundle.vocals(),
        counts: split.counts(),
        clips: split.predictions.clips.len(),
        scores,
        report_json: request.out.join("tagging_report.json"),
        report_md: request.out.join("report.md"),
        scores_csv: request.out.join("scores.csv"),
        command: request.command.clone(),
    };
    write_json(&evaluation.report_json, &evaluation)?;
    write(&evaluation.report_md, &markdown(&evaluation))?;
    let mut csv = format!(
        "recording,tags,{}\n",
        evaluation
            .scores
            .tags
            .iter()
            .map(|t| csv_field(t))
            .collect::<Vec<_>>()
            .join(",")
    );
    for recording in split.predictions.by_recording() {
        let tags = split
            .tags
            .get(recording.recording)
            .map_or_else(String::new, |t| t.join(";"));
        let n = recording.clips.len() as f64;
        let means = (0..evaluation.scores.tags.len()).map(|k| {
            let sum: f64 = recording.clips.iter().map(|c| f64::from(c.probs[k])).sum();
            // Shortest text that reads back as the same f64: the scores are exact.
            format!("{}", sum / n)
        });
        csv.push_str(&format!(
            "{},{},{}\n",
            csv_field(recording.recording),
            csv_field(&tags),
            means.collect::<Vec<_>>().join(",")
        ));
    }
    write(&evaluation.scores_csv, &csv)?;
    Ok(evaluation)
}

impl TaggingEvaluation {
    /// The dataset, split and counts in one line.
    pub fn data_summary(&self) -> String {
        format!("{}, {} clips", self.counts.describe(), self.clips)
    }
}

/// An AUC for a table: `0.8125`, or `n/a` where undefined (one class only).
pub fn auc_cell(auc: Option<f64>) -> String {
    auc.map_or_else(|| "n/a".to_owned(), |a| format!("{a:.4}"))
}

/// `report.md`: the averages, then every tag.
pub fn markdown(e: &TaggingEvaluation) -> String {
    let s = &e.scores;
    let mut out = format!(
        "# Tagging evaluation: {}\n\n- model: `{}` ({}, {} tags, {})\n- data: {}\n- command: \
         `{}`\n\n\
         Scores are the sigmoid outputs; a recording's are the mean of its clips'. The macro AUC \
         averages the tags that have both positives and negatives at that level.\n\n\
         ## AUC-ROC\n\n| level | samples | macro AUC | tags averaged | micro AUC |\n\
         |---|---|---|---|---|\n",
        e.model,
        e.model_dir.display(),
        e.model,
        s.tags.len(),
        e.vocals,
        e.data_summary(),
        e.command
    );
    for (name, level) in [("clip", &s.clip), ("recording", &s.recording)] {
        out.push_str(&format!(
            "| {name} | {} | {} | {} of {} | {} |\n",
            level.samples,
            auc_cell(level.macro_auc),
            level.tags_scored,
            level.per_tag.len(),
            auc_cell(level.micro_auc)
        ));
    }
    out.push_str(
        "\n## Per tag\n\n| tag | recordings with it | clips with it | AUC (clips) | AUC \
         (recordings) |\n|---|---|---|---|---|\n",
    );
    for (clip, recording) in s.clip.per_tag.iter().zip(&s.recording.per_tag) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            clip.tag,
            recording.positives,
            clip.positives,
            auc_cell(clip.auc),
            auc_cell(recording.auc)
        ));
    }
    if !s.unknown_tags.is_empty() {
        let listed: Vec<String> = s
            .unknown_tags
            .iter()
            .map(|u| {
                let noun = if u.recordings == 1 {
                    "recording"
                } else {
                    "recordings"
                };
                format!("`{}` ({} {noun})", u.tag, u.recordings)
            })
            .collect();
        out.push_str(&format!(
            "\nTags of these recordings the model does not know (not scored): {}.\n",
            listed.join(", ")
        ));
    }
    out
}
