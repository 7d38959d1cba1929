//! The separation report of `singerid separate --eval`: per-clip BSS Eval v3 scores of the
//! singing voice for several systems on the same clips (the separator, the ideal ratio mask as
//! the upper bound, the mixture itself as the floor), their GNSDR / GSIR / GSAR, written as
//! `report.md`, `report.json`, `clips.csv` and `sdr.png` (per-clip NSDR of each system, sorted).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::plot::sorted_series_png;
use crate::separation::{BssEvalError, ClipScores, Global, Permutation, bss_eval_sources};

/// Scores of one voice estimate, dB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VoiceScores {
    /// SDR of the estimate against the voice.
    pub sdr: f64,
    /// SIR (the accompaniment is the interference).
    pub sir: f64,
    /// SAR.
    pub sar: f64,
    /// SDR minus the mixture's SDR.
    pub nsdr: f64,
}

/// BSS Eval v3 of a voice estimate with the voice and the accompaniment as references
/// (`mir_eval.separation.bss_eval_sources([voice, accompaniment], [estimate, ...])`, source 0:
/// a source's scores depend only on its own estimate), and its NSDR.
///
/// # Errors
/// As [`bss_eval_sources`]: a silent voice or estimate, lengths that differ.
pub fn voice_scores(
    voice: &[f64],
    accompaniment: &[f64],
    estimate: &[f64],
) -> Result<VoiceScores, BssEvalError> {
    let mixture: Vec<f64> = voice
        .iter()
        .zip(accompaniment)
        .map(|(v, a)| v + a)
        .collect();
    let references = [voice, accompaniment];
    let scored = bss_eval_sources(&references, &[estimate, &mixture[..]], Permutation::Fixed)?;
    let floor = bss_eval_sources(
        &references,
        &[&mixture[..], &mixture[..]],
        Permutation::Fixed,
    )?;
    Ok(VoiceScores {
        sdr: scored.sdr[0],
        sir: scored.sir[0],
        sar: scored.sar[0],
        nsdr: scored.sdr[0] - floor.sdr[0],
    })
}

/// One clip's scores, one entry per system (in [`SeparationReport::systems`] order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClipRow {
    /// The clip, as the dataset names it.
    pub path: PathBuf,
    /// Its length in samples (its weight in the global means).
    pub samples: usize,
    /// Scores per system.
    pub scores: Vec<VoiceScores>,
}

/// A clip that could not be scored, and why (e.g. a silent voice).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SkippedClip {
    /// The clip.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// The global scores of one system.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SystemSummary {
    /// Length-weighted mean NSDR, dB.
    pub gnsdr: f64,
    /// Length-weighted mean SIR, dB.
    pub gsir: f64,
    /// Length-weighted mean SAR, dB.
    pub gsar: f64,
    /// Plain mean SDR, dB.
    pub mean_sdr: f64,
}

/// Everything `separate --eval` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeparationReport {
    /// What was separated and by what (free-form: data, split, model, command).
    pub meta: serde_json::Value,
    /// System names, e.g. `["separator", "ideal ratio mask", "mixture"]`.
    pub systems: Vec<String>,
    /// Scored clips.
    pub clips: Vec<ClipRow>,
    /// Clips left out.
    pub skipped: Vec<SkippedClip>,
}

impl SeparationReport {
    /// GNSDR / GSIR / GSAR and mean SDR per system, in [`Self::systems`] order.
    ///
    /// # Errors
    /// [`Error::NoSamples`] when no clip was scored.
    pub fn summaries(&self) -> Result<Vec<SystemSummary>, Error> {
        if self.clips.is_empty() {
            return Err(Error::NoSamples);
        }
        (0..self.systems.len())
            .map(|k| {
                let clips: Vec<ClipScores> = self
                    .clips
                    .iter()
                    .map(|c| ClipScores {
                        samples: c.samples,
                        nsdr: c.scores[k].nsdr,
                        sir: c.scores[k].sir,
                        sar: c.scores[k].sar,
                    })
                    .collect();
                let Global { gnsdr, gsir, gsar } =
                    Global::from_clips(&clips).map_err(|_| Error::NoSamples)?;
                let mean_sdr = self.clips.iter().map(|c| c.scores[k].sdr).sum::<f64>()
                    / self.clips.len() as f64;
                Ok(SystemSummary {
                    gnsdr,
                    gsir,
                    gsar,
                    mean_sdr,
                })
            })
            .collect()
    }

    /// The markdown table of [`Self::summaries`].
    ///
    /// # Errors
    /// As [`Self::summaries`].
    pub fn table(&self) -> Result<String, Error> {
        let mut out = String::from(
            "| system | GNSDR (dB) | GSIR (dB) | GSAR (dB) | mean SDR (dB) |\n|---|---|---|---|---|\n",
        );
        for (name, s) in self.systems.iter().zip(self.summaries()?) {
            let _ = writeln!(
                out,
                "| {name} | {:.2} | {:.2} | {:.2} | {:.2} |",
                s.gnsdr, s.gsir, s.gsar, s.mean_sdr
            );
        }
        Ok(out)
    }

    /// Writes `report.md`, `report.json`, `clips.csv` and `sdr.png` into `dir` (created).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file; [`Error::NoSamples`] when no clip was scored.
    pub fn write(&self, dir: &Path, extra_markdown: &str) -> Result<(), Error> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let summaries = self.summaries()?;
        let json = serde_json::json!({
            "meta": self.meta,
            "systems": self.systems.iter().zip(&summaries).map(|(n, s)| serde_json::json!({
                "system": n, "gnsdr_db": s.gnsdr, "gsir_db": s.gsir, "gsar_db": s.gsar,
                "mean_sdr_db": s.mean_sdr,
            })).collect::<Vec<_>>(),
            "clips": self.clips,
            "skipped": self.skipped,
        });
        let path = dir.join("report.json");
        let text = serde_json::to_string_pretty(&json).expect("reports serialise");
        std::fs::write(&path, text + "\n").map_err(io(&path))?;

        let mut csv = String::from("path,samples");
        for name in &self.systems {
            let key = name.replace(' ', "_");
            let _ = write!(csv, ",{key}_sdr,{key}_sir,{key}_sar,{key}_nsdr");
        }
        csv.push('\n');
        for clip in &self.clips {
            let _ = write!(csv, "{},{}", clip.path.display(), clip.samples);
            for s in &clip.scores {
                let _ = write!(csv, ",{:.4},{:.4},{:.4},{:.4}", s.sdr, s.sir, s.sar, s.nsdr);
            }
            csv.push('\n');
        }
        let path = dir.join("clips.csv");
        std::fs::write(&path, csv).map_err(io(&path))?;

        let series: Vec<(&str, Vec<f64>)> = self
            .systems
            .iter()
            .enumerate()
            .map(|(k, name)| {
                (
                    name.as_str(),
                    self.clips.iter().map(|c| c.scores[k].nsdr).collect(),
                )
            })
            .collect();
        sorted_series_png(&dir.join("sdr.png"), "NSDR per clip", "NSDR (dB)", &series)?;

        let mut md = String::from("# Singing-voice separation report\n\n");
        let _ = writeln!(
            md,
            "Scores of the separated voice against the true voice, BSS Eval v3 \
             (mir_eval-exact), {} clips scored, {} left out. GNSDR / GSIR / GSAR are means \
             weighted by clip length; NSDR = SDR(estimate) - SDR(mixture).\n",
            self.clips.len(),
            self.skipped.len()
        );
        md.push_str(&self.table()?);
        let _ = writeln!(
            md,
            "\n![NSDR per clip](sdr.png)\n\nPer-clip scores: `clips.csv`; everything: \
             `report.json`.\n"
        );
        md.push_str(extra_markdown);
        if !self.skipped.is_empty() {
            md.push_str("\n## Clips left out\n\n");
            for s in &self.skipped {
                let _ = writeln!(md, "- `{}`: {}", s.path.display(), s.reason);
            }
        }
        let _ = writeln!(
            md,
            "\n```json\n{}\n```",
            serde_json::to_string_pretty(&self.meta).expect("JSON")
        );
        let path = dir.join("report.md");
        std::fs::write(&path, md).map_err(io(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    /// The mixture's own NSDR is 0 by definition; a perfect estimate beats it.
    #[test]
    fn mixture_has_zero_nsdr_and_a_better_estimate_gains() {
        let voice = noise(3000, 1);
        let rest = noise(3000, 2);
        let mixture: Vec<f64> = voice.iter().zip(&rest).map(|(v, a)| v + a).collect();
        let floor = voice_scores(&voice, &rest, &mixture).expect("scores");
        assert!(floor.nsdr.abs() < 1e-9, "{floor:?}");
        let close: Vec<f64> = voice.iter().zip(&rest).map(|(v, a)| v + 0.05 * a).collect();
        let better = voice_scores(&voice, &rest, &close).expect("scores");
        assert!(better.nsdr > 10.0, "{better:?}");
        assert!(better.sir > floor.sir);
    }

    #[test]
    fn report_files_are_written() {
        let voice = noise(2000, 3);
        let rest = noise(2000, 4);
        let half: Vec<f64> = voice.iter().zip(&rest).map(|(v, a)| v + 0.5 * a).collect();
        let mixture: Vec<f64> = voice.iter().zip(&rest).map(|(v, a)| v + a).collect();
        let report = SeparationReport {
            meta: serde_json::json!({"data": "test"}),
            systems: vec!["separator".into(), "mixture".into()],
            clips: vec![ClipRow {
                path: "a/b.wav".into(),
                samples: 2000,
                scores: vec![
                    voice_scores(&voice, &rest, &half).expect("scores"),
                    voice_scores(&voice, &rest, &mixture).expect("scores"),
                ],
            }],
            skipped: vec![],
        };
        let dir = tempfile::tempdir().expect("tempdir");
        report.write(dir.path(), "").expect("writes");
        for file in ["report.md", "report.json", "clips.csv", "sdr.png"] {
            assert!(dir.path().join(file).is_file(), "{file}");
        }
        let md = std::fs::read_to_string(dir.path().join("report.md")).expect("md");
        assert!(md.contains("| separator |"), "{md}");
        assert!(report.summaries().expect("summaries")[0].gnsdr > 5.0);
    }
}
