//! Times singerid's feature extraction on audio files, one file at a time, single-threaded,
//! stage by stage (decode with channel mix, resample, STFT + mel, dB) and end to end through
//! `singerid_audio::features_from_file`. Driven by `bench/librosa_vs_singerid.py`, which runs
//! librosa on the same files in the same session; see bench/RESULTS.md.
//!
//! Usage: `features [--preset fgnl] [--repeat 3] [--json] FILE...`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use singerid_audio::db::apply_db;
use singerid_audio::decode::decode_mono;
use singerid_audio::resample::resample;
use singerid_audio::{Preset, Signal, features_from_file, melspectrogram};

/// Time singerid's audio front end on files.
#[derive(Parser, Debug)]
struct Args {
    /// Feature preset.
    #[arg(long, default_value = "fgnl")]
    preset: String,
    /// Runs per file; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Print one JSON object per file instead of text.
    #[arg(long)]
    json: bool,
    /// Audio files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Clone, Copy, Default)]
struct Timing {
    decode: f64,
    resample: f64,
    stft_mel: f64,
    db: f64,
    end_to_end: f64,
}

impl Timing {
    fn min(self, other: Timing) -> Timing {
        Timing {
            decode: self.decode.min(other.decode),
            resample: self.resample.min(other.resample),
            stft_mel: self.stft_mel.min(other.stft_mel),
            db: self.db.min(other.db),
            end_to_end: self.end_to_end.min(other.end_to_end),
        }
    }
}

fn main() -> ExitCode {
    singerid_bench::exit(run())
}

fn run() -> Result<()> {
    let args = Args::parse();
    let Some(preset) = Preset::ALL.into_iter().find(|p| p.name() == args.preset) else {
        bail!(
            "unknown preset {:?}; use one of fgnl, nasrullah, choi, iclr2018",
            args.preset
        );
    };
    let config = preset.config();
    for path in &args.files {
        let mut best = Timing {
            decode: f64::INFINITY,
            resample: f64::INFINITY,
            stft_mel: f64::INFINITY,
            db: f64::INFINITY,
            end_to_end: f64::INFINITY,
        };
        let mut audio_s = 0.0;
        let mut shape = (0, 0);
        for _ in 0..args.repeat.max(1) {
            let mut t = Timing::default();
            let start = Instant::now();
            let mono = decode_mono(path, config.channel)
                .with_context(|| format!("decoding {}", path.display()))?;
            t.decode = start.elapsed().as_secs_f64();
            let rate = mono.sample_rate_hz;
            audio_s = mono.samples.len() as f64 / f64::from(rate);
            let mono = mono.samples;
            let start = Instant::now();
            let samples = resample(&mono, rate, config.sample_rate_hz)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("resampling {}", path.display()))?;
            t.resample = start.elapsed().as_secs_f64();
            let signal = Signal {
                samples,
                sample_rate_hz: config.sample_rate_hz,
            };
            let start = Instant::now();
            let mut mel = melspectrogram(&signal, &config)?;
            t.stft_mel = start.elapsed().as_secs_f64();
            let start = Instant::now();
            apply_db(&mut mel.data, config.db, config.top_db);
            t.db = start.elapsed().as_secs_f64();

            let start = Instant::now();
            let features = features_from_file(path, &config)?;
            t.end_to_end = start.elapsed().as_secs_f64();
            if features.data != mel.data {
                bail!(
                    "staged and end-to-end features differ for {}",
                    path.display()
                );
            }
            shape = (features.n_mels, features.n_frames);
            best = best.min(t);
        }
        if args.json {
            let report = serde_json::json!({
                "file": path.display().to_string(),
                "preset": preset.name(),
                "audio_s": audio_s,
                "n_mels": shape.0,
                "n_frames": shape.1,
                "seconds": {
                    "decode": best.decode,
                    "resample": best.resample,
                    "stft_mel": best.stft_mel,
                    "db": best.db,
                    "end_to_end": best.end_to_end,
                },
            });
            println!("{report}");
        } else {
            println!(
                "{}: {audio_s:.1} s audio -> {} x {} in {:.3} s ({:.0} s/s): decode+mix {:.3}, resample {:.3}, stft+mel {:.3}, dB {:.3}",
                path.display(),
                shape.0,
                shape.1,
                best.end_to_end,
                audio_s / best.end_to_end,
                best.decode,
                best.resample,
                best.stft_mel,
                best.db
            );
        }
    }
    Ok(())
}
