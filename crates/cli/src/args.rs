//! Command-line arguments: the top-level parser, global options, and the typed mirrors of the
//! library enums that clap needs (`ValueEnum`); library crates never see clap types.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use singerid_audio::{Channel, DbScale, FeatureConfig, MelNorm, MelScale, PadMode, Preset};
use singerid_data::CacheOptions;
use singerid_infer::DeviceChoice;

use crate::commands::{features::FeaturesArgs, presets::PresetsArgs};

/// singerid: singer identification from audio (reproducing the FGNL singer-ID paper).
///
/// Results go to stdout; progress and logs go to stderr. Exit status: 0 on success, 2 when
/// anything failed.
#[derive(Debug, Parser)]
#[command(name = "singerid", version, about, long_about)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute log-mel features for every audio file of a dataset into a feature cache.
    ///
    /// The dataset is an artist20-style tree (`<root>/<artist>/<album>/<song>.<ext>`, deeper
    /// trees use the last three path components) or a manifest CSV
    /// (`path,singer[,album][,song][,split]`, paths relative to the CSV's folder). Files are
    /// processed in parallel; each is stored as `<out>/features/<k[..2]>/<key>.safetensors`
    /// (tensor `mel`, f32 [n_mels, n_frames]) where the key hashes the audio bytes, the feature
    /// config and the feature algorithm version, so reruns skip finished files, an interrupted
    /// run resumes, and a changed config never reuses old features. `<out>/index.jsonl` lists
    /// recording -> feature file; the resolved config is written to `<out>/config.json` before
    /// work starts. A bad file is reported on one line and counted; the others go on. Prints a
    /// summary (files, ok, cached, failed, audio minutes, frames, wall time, throughput).
    Features(FeaturesArgs),
    /// Print every feature preset with all its values.
    Presets(PresetsArgs),
    /// Train a model on a dataset and keep the best validation epoch as a bundle.
    ///
    /// Fills the feature cache (as `singerid features`), divides the recordings into train /
    /// validation / test (manifest column, album split or song split; songs never straddle two
    /// sides), makes the classes the sorted singers of the training part, cuts every recording
    /// into non-overlapping clips, and trains with Adam on softmax cross-entropy, validating
    /// after every epoch. The epoch with the best validation weighted F1 is saved to
    /// `<out>/best/` (the bundle `eval` and `identify` load); training stops after --epochs,
    /// after --patience epochs without improvement, or before an epoch that would overrun
    /// --time-budget. Killing it at any moment is safe: rerunning the same command resumes
    /// after the last completed epoch and gives the same result as an unbroken run. The CPU
    /// backend uses one thread per core; set RAYON_NUM_THREADS to use fewer.
    Train(crate::commands::train::TrainArgs),
    /// Train the Open-Unmix vocal separator on stereo stems (left = accompaniment, right =
    /// voice, as MIR-1K's files), keeping the epoch of best validation GNSDR.
    ///
    /// Each step draws random crops of a clip's voice and (with probability --remix) another
    /// clip's accompaniment, with random gains, and fits the network's vocal magnitude to the
    /// voice's by mean squared error (Open-Unmix's recipe). After every epoch the validation
    /// clips are separated whole and scored by GNSDR (BSS Eval v3). Killing it is safe:
    /// rerunning the same command resumes after the last completed epoch.
    TrainSeparator(crate::commands::train_separator::TrainSeparatorArgs),
    /// Score a trained model on a dataset split as the FGNL paper does, and write a report.
    ///
    /// Loads the bundle, computes missing features into the cache with the bundle's feature
    /// config (--channel overrides only the channel, e.g. to score a mixture model on MIR-1K's
    /// vocals), cuts the split's recordings into the bundle's clips, and scores them at the
    /// frame (clip) level and at the song level (the paper's vote: clips whose top probability
    /// is above 0.5 vote, all clips when none is). Prints accuracy, macro F1 and weighted F1 (the
    /// paper's F1) for both levels; clips of singers the model does not know are counted and
    /// listed, not scored. Writes <out>/report.md, report.json, predictions.csv,
    /// confusion_frame.png, confusion_song.png, tsne.png and tsne.csv.
    Eval(crate::commands::eval::EvalArgs),
    /// Name the singer of audio files (or of every audio file in folders) with a trained model.
    ///
    /// Each file is cut into the bundle's clips; each clip is classified and the file's singer
    /// is the paper's vote over its clips. Prints per file the singer, the vote share (votes for
    /// the winner / votes counted), the top 3 singers by mean probability and a per-clip
    /// timeline. Files that cannot be decoded or are shorter than one clip get one error line
    /// each; the others go on, and the exit status is 2 if any failed.
    Identify(crate::commands::identify::IdentifyArgs),
    /// Write the embedding of every recording and clip of audio files (or of every audio file in
    /// folders) with a trained model: a safetensors file plus a CSV index.
    ///
    /// Files go through identify's path (the model's vocal source and features, every full
    /// clip); a clip's embedding is the model's embedding layer (a classifier's penultimate
    /// layer, a CRNN's last GRU state, a siamese network's output), a recording's the mean of
    /// its clips'. Writes --out (f32 tensors `recordings` and `clips`) and, beside it with the
    /// extension .csv, the index `path,tensor,row,clip_index,start_s,end_s`. Files that cannot
    /// be decoded or are shorter than one clip get one error line each; the others go on, and
    /// the exit status is 2 if any failed.
    Embed(crate::commands::embed::EmbedArgs),
    /// Fold several trained models of one configuration (seeds) into one model whose logits
    /// are the mean of theirs, and calibrate its `unknown` threshold on the validation split.
    ///
    /// The members must have been trained the same way (model kind, classes, features, clip
    /// length, separator, data partition); today only mel_stats_linear models fold exactly
    /// into one model. Prints the folded model's validation clip and song accuracy. This is how
    /// the shipped default model was made (its README says the command).
    Ensemble(crate::commands::ensemble::EnsembleArgs),
    /// Identify every audio file under folders into the library database, incrementally.
    ///
    /// A file the database already has (same path, size and time, or same content) with the
    /// same model is skipped; a changed file is redone; results are committed 16 files at a
    /// time, so an interrupted scan resumes where it stopped. Stores per file the decision,
    /// the embedding and every clip. Bad files get one error line each and the exit status is
    /// 2; a summary ends the run.
    Scan(crate::commands::scan::ScanArgs),
    /// Add a singer the model was not trained on, from a few of their recordings (no
    /// retraining); `identify --db` then names them.
    ///
    /// The recordings are scanned into the library and the singer's profile is the mean of
    /// their (unit-length) embeddings. `identify --db` answers an enrolled singer when a file's
    /// cosine similarity to the profile reaches the model's calibrated threshold
    /// (`eval-open`). Enrolling a name again adds recordings; --forget removes the singer.
    Enrol(crate::commands::enrol::EnrolArgs),
    /// List the singers the library knows for the model: trained and enrolled.
    Singers(crate::commands::singers::SingersArgs),
    /// List the library's recordings and singers that sound closest to a file, a stored
    /// recording (#ID) or a singer, by cosine distance between embeddings.
    Similar(crate::commands::similar::SimilarArgs),
    /// The open-set evaluation: enrol singers the model never saw from some songs, identify
    /// their other songs; report top-1, false accepts of never-enrolled singers, EER and the
    /// known singers' accuracy with and without them; calibrate the enrolment threshold.
    EvalOpen(crate::commands::eval_open::EvalOpenArgs),
    /// Serve the HTTP API and the web page over a library database: identify an uploaded song,
    /// enrol singers, list singers, find similar recordings (docs/server.md).
    Serve(crate::commands::serve::ServeArgs),
    /// Run the paper's experiment grid (models x clip lengths x settings x seeds) and write its
    /// Table 1.
    ///
    /// Each cell trains like `singerid train` into `<out>/runs/<cell>/`, evaluates the best
    /// validation checkpoint on the test part (validation when the data has none) with a full
    /// report, and updates `<out>/table.md`: Average and Best F1 over seeds, frame and song
    /// level, per clip length, original audio and vocal-only, with parameter counts, as in the
    /// FGNL paper's Table 1. Rerunning the same command skips finished cells and resumes the
    /// unfinished one.
    Reproduce(crate::commands::reproduce::ReproduceArgs),
    /// Split audio files into vocals and accompaniment with the Open-Unmix separator, or score
    /// a separator on a dataset split (--eval).
    ///
    /// Each channel is resampled to the separator's rate (16 kHz for the shipped one),
    /// separated (STFT, network, Wiener mask on the complex mixture, inverse STFT) and
    /// resampled back, so the stems have the input's rate, channels and length; a mono
    /// separator takes the channels one by one, a stereo one (an imported umxhq) together.
    /// Files are separated while they decode, 54 seconds at a time with 3 seconds of context on
    /// each side, and the stems written as they come, so memory does not grow with the file;
    /// the stems appear only once the whole file decoded. A bad file gets one error line; the
    /// others go on and the exit status is 2. With --eval DATA: BSS Eval v3 (mir_eval-exact) SDR / SIR /
    /// SAR per clip and GNSDR / GSIR / GSAR of the separator, the ideal ratio mask (upper
    /// bound) and the mixture itself, written as a report.
    Separate(crate::commands::separate::SeparateArgs),
    /// Turn a PyTorch Open-Unmix state dict (your own, or the `vocals` model of umxhq / umxl,
    /// converted to safetensors) into a separator folder for `separate --model` and `train
    /// --vocals separated --separator`.
    ///
    /// The network's sizes (channels, hidden size, layers, bandwidth) are read from the
    /// tensors' shapes; every key must be known, present and of the right shape, or the import
    /// names the ones that are not. A stereo network separates stereo files jointly; a mono
    /// file is given to it on both channels.
    ImportSeparator(crate::commands::import_separator::ImportSeparatorArgs),
    /// Track the melody (f0) of audio files with CREPE, and write the FGNL authors' melody
    /// contour (--authors).
    ///
    /// Each file is decoded to 16 kHz mono (the channel mix, or with --vocals separated the
    /// voice the separator finds in it), cut into centred 64 ms frames every --step-ms, and
    /// each frame's 360 pitch activations (20 cents apart, 32 Hz to 2 kHz) are decoded into f0
    /// and a confidence (--decoder). Writes `<out>/<stem>.f0.csv` (`time_s,f0_hz,confidence`,
    /// f0 = 0 where the confidence is below --voicing-threshold) and `<out>/<stem>.png` (the
    /// f0 drawn over the file's log-mel on its own mel axis, the first 5 minutes); with
    /// --authors also `<stem>.contour.csv`, the row of the authors' one-hot `[128, frames]`
    /// contour for every frame. Files are processed one after another; a bad file gets one
    /// error line and the others go on; the exit status is 2 if any input failed, including
    /// a folder with no audio. Outputs appear only when complete.
    Melody(crate::commands::melody::MelodyArgs),
    /// The demo: evaluate the shipped default model on the MIR-1K validation songs (frame and
    /// song level F1, report with confusion matrices and t-SNE in `target/demo/eval/`), name the
    /// singer of the first clip of the first validation songs (manifest order), and list the
    /// manifest's singers for them. Run from the repository root with `../shared` beside it.
    Demo(crate::commands::demo::DemoArgs),
}

/// Options for every command.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// More log output on stderr: -v info, -vv debug, -vvv trace [default: warnings and errors].
    /// The RUST_LOG environment variable, when set, overrides this.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr, and no progress bar.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// How results are printed on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned text for people.
    #[default]
    Text,
    /// One JSON document for scripts.
    Json,
}

/// Mirror of [`Preset`] for clap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum PresetArg {
    /// FGNL (Kuo, Wei & Lin): 16 kHz, n_fft 2048, hop 512, 128 Slaney mels, fgnl_db.
    #[default]
    Fgnl,
    /// Nasrullah & Zhao's CRNN: as fgnl but power_db.
    Nasrullah,
    /// Choi et al.'s CRNN: 12 kHz, n_fft 512, hop 256, 96 mels, fgnl_db.
    Choi,
    /// ICLR 2018 singer-embedding submission: 22.05 kHz, n_fft 2048, hop 512, 96 mels, iclr2018_db.
    Iclr2018,
}

/// Mirror of [`Channel`] for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ChannelArg {
    /// Mean of all channels (the mixture for MIR-1K).
    Mix,
    /// The first channel only (MIR-1K: accompaniment).
    Left,
    /// The second channel only (MIR-1K: the singing voice).
    Right,
    /// (L + R) / 2 of a stereo file.
    Mid,
    /// (L - R) / 2 of a stereo file.
    Side,
}

/// Mirror of [`DbScale`] for clap.
#[allow(
    clippy::enum_variant_names,
    reason = "mirrors DbScale's variant names one to one"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum DbArg {
    /// librosa power_to_db: 10 log10(max(P, 1e-10)), clipped top_db below the maximum.
    PowerDb,
    /// librosa amplitude_to_db on the power mel: 20 log10(max(P, 1e-5)), clipped top_db below the maximum (FGNL code).
    FgnlDb,
    /// Power dB clipped below -60 dB and offset into 0..=60 (ICLR 2018 singer-embedding submission).
    Iclr2018Db,
}

/// Mirror of [`PadMode`] for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum PadModeArg {
    /// Zeros (librosa >= 0.10).
    Constant,
    /// Mirror without repeating the edge sample (librosa < 0.10).
    Reflect,
}

/// Mirror of [`MelScale`] for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum MelScaleArg {
    /// Slaney's Auditory Toolbox scale (librosa default).
    Slaney,
    /// HTK: 2595 log10(1 + f / 700).
    Htk,
}

/// Mirror of [`MelNorm`] for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum MelNormArg {
    /// Slaney area normalisation (librosa default).
    Slaney,
    /// Unit-peak triangles.
    None,
}

/// Generates the two exhaustive conversions between a library enum and its clap mirror, so
/// adding a variant on either side fails to compile until both agree.
macro_rules! mirror {
    ($arg:ident <=> $lib:ident { $($variant:ident),+ $(,)? }) => {
        impl From<$arg> for $lib {
            fn from(value: $arg) -> Self {
                match value {
                    $($arg::$variant => $lib::$variant,)+
                }
            }
        }
        impl From<$lib> for $arg {
            fn from(value: $lib) -> Self {
                match value {
                    $($lib::$variant => $arg::$variant,)+
                }
            }
        }
    };
}

mirror!(PresetArg <=> Preset { Fgnl, Nasrullah, Choi, Iclr2018 });
mirror!(ChannelArg <=> Channel { Mix, Left, Right, Mid, Side });
mirror!(DbArg <=> DbScale { PowerDb, FgnlDb, Iclr2018Db });
mirror!(PadModeArg <=> PadMode { Constant, Reflect });
mirror!(MelScaleArg <=> MelScale { Slaney, Htk });
mirror!(MelNormArg <=> MelNorm { Slaney, None });

/// A dB floor below the maximum, or none (`--top-db none`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TopDb {
    /// Keep everything.
    Unlimited,
    /// Clip this many dB below the recording's maximum.
    Db(f32),
}

impl FromStr for TopDb {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("none") {
            return Ok(TopDb::Unlimited);
        }
        s.parse::<f32>()
            .map(TopDb::Db)
            .map_err(|_| format!("`{s}` is neither a number of dB nor `none`"))
    }
}

/// An upper mel edge in Hz, or the Nyquist frequency (`--fmax nyquist`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fmax {
    /// `sample_rate / 2`.
    Nyquist,
    /// This many Hz.
    Hz(f32),
}

impl FromStr for Fmax {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("nyquist") {
            return Ok(Fmax::Nyquist);
        }
        s.parse::<f32>()
            .map(Fmax::Hz)
            .map_err(|_| format!("`{s}` is neither a frequency in Hz nor `nyquist`"))
    }
}

/// The help line of an override flag: what it sets, then each preset's value.
fn override_help(what: &str, value: impl Fn(&FeatureConfig) -> String) -> String {
    let defaults: Vec<String> = Preset::ALL
        .iter()
        .map(|preset| format!("{} {}", preset.name(), value(&preset.config())))
        .collect();
    format!("{what} [default: the preset's: {}]", defaults.join(", "))
}

/// The name serde gives `value` (what config.json holds), e.g. `fgnl_db`.
pub fn json_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(err) => format!("<{err}>"),
    }
}

/// A feature preset plus a command-line override for every [`FeatureConfig`] field.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Feature config (a preset, then per-field overrides)")]
pub struct FeatureConfigArgs {
    /// Named feature configuration to start from; the flags below override single fields
    /// (`singerid presets` lists every value).
    #[arg(long, value_enum, default_value_t = PresetArg::Fgnl)]
    pub preset: PresetArg,
    #[arg(long, value_name = "HZ", help = override_help(
        "Sample rate the audio is resampled to before the STFT, in Hz",
        |c| c.sample_rate_hz.to_string()))]
    pub sample_rate: Option<u32>,
    #[arg(long, value_name = "SAMPLES", help = override_help(
        "FFT size and Hann window length, in samples", |c| c.n_fft.to_string()))]
    pub n_fft: Option<usize>,
    #[arg(long, value_name = "SAMPLES", help = override_help(
        "Hop between STFT frames, in samples", |c| c.hop_length.to_string()))]
    pub hop_length: Option<usize>,
    #[arg(long, value_name = "N", help = override_help(
        "Number of mel bands", |c| c.n_mels.to_string()))]
    pub n_mels: Option<usize>,
    #[arg(long, value_name = "HZ", help = override_help(
        "Lowest mel filter edge, in Hz", |c| c.fmin_hz.to_string()))]
    pub fmin: Option<f32>,
    #[arg(long, value_name = "HZ|nyquist", help = override_help(
        "Highest mel filter edge, in Hz, or `nyquist` for sample_rate / 2",
        |c| c.fmax_hz.map_or_else(|| "nyquist".to_owned(), |f| f.to_string())))]
    pub fmax: Option<Fmax>,
    #[arg(long, value_enum, help = override_help(
        "dB convention applied to the mel power spectrogram", |c| json_name(&c.db)))]
    pub db: Option<DbArg>,
    #[arg(long, value_name = "DB|none", help = override_help(
        "Dynamic range kept below each recording's maximum, in dB, or `none` (ignored by iclr2018_db)",
        |c| c.top_db.map_or_else(|| "none".to_owned(), |db| db.to_string())))]
    pub top_db: Option<TopDb>,
    #[arg(long, value_enum, help = override_help(
        "Padding at both ends of the centred STFT", |c| json_name(&c.pad_mode)))]
    pub pad_mode: Option<PadModeArg>,
    #[arg(long, value_enum, help = override_help(
        "Frequency scale of the mel filterbank", |c| json_name(&c.mel_scale)))]
    pub mel_scale: Option<MelScaleArg>,
    #[arg(long, value_enum, help = override_help(
        "Normalisation of the mel filters", |c| json_name(&c.mel_norm)))]
    pub mel_norm: Option<MelNormArg>,
    #[arg(long, value_enum, help = override_help(
        "Channel selection or downmix; for MIR-1K `right` is the vocal-only setting and `mix` the mixture",
        |c| json_name(&c.channel)))]
    pub channel: Option<ChannelArg>,
}

impl FeatureConfigArgs {
    /// The preset's config with every given override applied. Validation is the library's job
    /// (`FeatureConfig::validate`), done when the config is used.
    pub fn resolve(&self) -> FeatureConfig {
        let mut config = Preset::from(self.preset).config();
        if let Some(rate) = self.sample_rate {
            config.sample_rate_hz = rate;
        }
        if let Some(n_fft) = self.n_fft {
            config.n_fft = n_fft;
        }
        if let Some(hop) = self.hop_length {
            config.hop_length = hop;
        }
        if let Some(n_mels) = self.n_mels {
            config.n_mels = n_mels;
        }
        if let Some(fmin) = self.fmin {
            config.fmin_hz = fmin;
        }
        if let Some(fmax) = self.fmax {
            config.fmax_hz = match fmax {
                Fmax::Nyquist => None,
                Fmax::Hz(hz) => Some(hz),
            };
        }
        if let Some(db) = self.db {
            config.db = db.into();
        }
        if let Some(top_db) = self.top_db {
            config.top_db = match top_db {
                TopDb::Unlimited => None,
                TopDb::Db(db) => Some(db),
            };
        }
        if let Some(pad_mode) = self.pad_mode {
            config.pad_mode = pad_mode.into();
        }
        if let Some(mel_scale) = self.mel_scale {
            config.mel_scale = mel_scale.into();
        }
        if let Some(mel_norm) = self.mel_norm {
            config.mel_norm = mel_norm.into();
        }
        if let Some(channel) = self.channel {
            config.channel = channel.into();
        }
        config
    }
}

/// The feature cache, shared by every command that computes features.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Feature cache")]
pub struct CacheArgs {
    /// Feature cache folder: one safetensors file per recording and config, keyed by a hash of
    /// the audio bytes and the config (reruns skip what is there; shared safely between runs)
    /// [default: the platform's cache folder, ~/.cache/singerid/features on Linux
    /// ($XDG_CACHE_HOME/singerid/features when set)].
    #[arg(
        long = "cache",
        visible_alias = "out",
        value_name = "DIR",
        env = "SINGERID_FEATURES_DIR",
        default_value_os_t = singerid_library::paths::default_cache(),
        hide_default_value = true
    )]
    pub dir: PathBuf,

    /// Worker threads for decoding and feature extraction [default: one per CPU core].
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
}

impl CacheArgs {
    /// The library's options, waiting up to `lock_wait` for another run filling the folder.
    pub fn options(&self, lock_wait: std::time::Duration) -> CacheOptions {
        CacheOptions {
            dir: self.dir.clone(),
            jobs: self.jobs,
            lock_wait,
        }
    }
}

/// The trained model a command uses.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ModelArgs {
    /// The trained model: a model folder (`model.safetensors`, `config.json`, `singerid.json`),
    /// or a training run folder (its `best/` model is used) [default: the shipped model,
    /// models/mel_stats_linear-separated-mir1k: log-mel statistics and softmax regression on
    /// vocals separated by models/open_unmix-mir1k (MIR-1K singers, research-only; see its
    /// README.md)].
    #[arg(long, value_name = "DIR", env = "SINGERID_MODEL")]
    pub model: Option<PathBuf>,
}

impl ModelArgs {
    /// The model folder given (a training run folder resolved to its `best/`, so that files
    /// kept beside the model, such as `open_set.json`, and the library's fingerprint of it are
    /// the same whichever of the two a user names), or the shipped model's.
    ///
    /// # Errors
    /// No folder given and the shipped model not found; a path that is not a model folder.
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        match &self.model {
            Some(path) => Ok(singerid_train::bundle::resolve_dir(path)?),
            None => Ok(singerid_infer::default_model()?),
        }
    }
}

/// The library database.
#[derive(Clone, Debug, clap::Args)]
pub struct DbArgs {
    /// The library database (SQLite; created with its folder if missing)
    /// [default: the platform's data folder, ~/.local/share/singerid/library.sqlite on Linux].
    #[arg(long, value_name = "PATH", env = "SINGERID_DB")]
    pub db: Option<PathBuf>,
}

impl DbArgs {
    /// The database given, or the default one.
    pub fn path(&self) -> PathBuf {
        self.db
            .clone()
            .unwrap_or_else(singerid_library::paths::default_db)
    }

    /// Opens the database.
    ///
    /// # Errors
    /// See [`singerid_library::Library::open`].
    pub fn open(&self) -> anyhow::Result<singerid_library::Library> {
        let path = self.path();
        Ok(singerid_library::Library::open(&path)?)
    }
}

/// What every library command takes: the database, the model, the output format, the device.
#[derive(Debug, clap::Args)]
pub struct LibraryArgs {
    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    #[command(flatten)]
    pub device: DeviceArgs,
}

impl LibraryArgs {
    /// Loads the model and opens the database: (bundle, model folder, library).
    ///
    /// # Errors
    /// An unreadable model or database; a tagging model (`--objective multilabel`), whose
    /// outputs are tags, not the singers a library names.
    pub fn open(
        &self,
    ) -> anyhow::Result<(singerid_infer::Bundle, PathBuf, singerid_library::Library)> {
        let model = self.model.path()?;
        let bundle = singerid_infer::load_model(&model, self.device.device)
            .with_context(|| format!("loading the model {}", model.display()))?;
        if singerid_infer::is_tagging_model(&bundle) {
            return Err(singerid_infer::Error::TaggingModel(model).into());
        }
        Ok((bundle, model, self.db.open()?))
    }
}

/// Where models run.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct DeviceArgs {
    /// Where the model runs: cpu (burn-flex; threads from RAYON_NUM_THREADS, default one per
    /// core), cuda or wgpu (only in builds with `--features cuda` / `--features wgpu`).
    #[arg(long, value_name = "DEVICE", default_value = "cpu", value_parser = parse_device)]
    pub device: DeviceChoice,
}

fn parse_device(s: &str) -> Result<DeviceChoice, String> {
    let choice: DeviceChoice = s
        .parse()
        .map_err(|e: singerid_infer::Error| e.to_string())?;
    choice.device().map(|_| choice).map_err(|e| e.to_string())
}

/// A model name, checked against the registry of models singerid knows.
pub fn parse_model(s: &str) -> Result<String, String> {
    singerid_models::registry::get(s)
        .map(|entry| entry.name.to_owned())
        .map_err(|e| e.to_string())
}

/// A JSON object given on the command line.
pub fn parse_json_object(s: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_str(s) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "expected a JSON object like '{{\"l2\": 0.001}}', got {other}"
        )),
        Err(e) => Err(format!(
            "not JSON ({e}); quote it for the shell: '{{\"l2\": 0.001}}'"
        )),
    }
}

/// `--help` text listing every registered model with its one-line summary.
pub fn model_help(what: &str) -> String {
    let lines: Vec<String> = singerid_models::registry::entries()
        .iter()
        .map(|e| {
            let melody = if e.uses_melody() {
                " (also takes the CREPE melody contour: see --crepe)"
            } else {
                ""
            };
            format!("  {}: {}{melody}", e.name, e.summary)
        })
        .collect();
    format!("{what}:\n{}", lines.join("\n"))
}

/// The command line as typed (arguments quoted when they hold spaces), for reports.
pub fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.contains(char::is_whitespace) {
                format!("'{a}'")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_parser_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn cli_value_names_equal_the_json_names() {
        for channel in Channel::ALL {
            let arg = ChannelArg::from(channel);
            let value = arg.to_possible_value().expect("not skipped");
            assert_eq!(value.get_name(), json_name(&channel));
            assert_eq!(value.get_name(), channel.name());
        }
        for preset in Preset::ALL {
            let value = PresetArg::from(preset)
                .to_possible_value()
                .expect("not skipped");
            assert_eq!(value.get_name(), preset.name());
        }
        for db in [DbScale::PowerDb, DbScale::FgnlDb, DbScale::Iclr2018Db] {
            let value = DbArg::from(db).to_possible_value().expect("not skipped");
            assert_eq!(value.get_name(), json_name(&db));
        }
        let value = MelNormArg::None.to_possible_value().expect("not skipped");
        assert_eq!(value.get_name(), json_name(&MelNorm::None));
    }

    #[test]
    fn overrides_replace_only_their_field() {
        let args = Args::try_parse_from([
            "singerid",
            "features",
            "x",
            "--preset",
            "choi",
            "--channel",
            "right",
            "--top-db",
            "none",
            "--fmax",
            "5000",
            "--hop-length",
            "128",
        ])
        .expect("parse");
        let Command::Features(features) = args.command else {
            panic!("features expected");
        };
        let config = features.config.resolve();
        assert_eq!(
            config,
            FeatureConfig {
                channel: Channel::Right,
                top_db: None,
                fmax_hz: Some(5000.0),
                hop_length: 128,
                ..Preset::Choi.config()
            }
        );
    }

    #[test]
    fn bad_values_are_rejected_by_the_parser() {
        for bad in [
            ["--channel", "center"],
            ["--top-db", "loud"],
            ["--preset", "FGNL_v2"],
            ["--n-mels", "-3"],
        ] {
            let argv = ["singerid", "features", "x", bad[0], bad[1]];
            assert!(Args::try_parse_from(argv).is_err(), "{bad:?}");
        }
    }
}
