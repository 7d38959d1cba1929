//! `singerid melody`: the CREPE pitch track of audio files as CSV and PNG, and the FGNL
//! authors' melody contour (`singerid_infer::melody` does the work; this parses and prints).

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ValueEnum;
use serde::Serialize;
use singerid_infer::melody::{CREPE_BATCH_SIZE, hop_for_step_ms};
use singerid_infer::melody_cache::MelodyCache;
use singerid_infer::{CrepeChoice, MelodyFile, MelodyOptions, load_crepe_model, melody_files};
use singerid_models::pitch::{Decoder, PitchRange};

use crate::args::{ChannelArg, DeviceArgs, GlobalArgs, OutputFormat};
use crate::commands::print_summary;
use crate::logging;

/// Arguments of `singerid melody`.
#[derive(Debug, clap::Args)]
pub struct MelodyArgs {
    /// Audio files, or folders searched recursively (mp3, wav, flac, ogg, oga, m4a, mp4,
    /// aac).
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// Output folder: `<DIR>/<input file stem>.f0.csv` (`time_s,f0_hz,confidence`, one row
    /// per frame), `<stem>.png` (the f0 over the file's log-mel) and, with --authors,
    /// `<stem>.contour.csv` (`frame,bin`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The CREPE network: `tiny` (shipped in models/crepe-tiny), `full` (models/crepe-full,
    /// 89 MB, made once by the conversion command that `--model full` prints when it is
    /// missing; the FGNL authors' choice), or a CREPE model folder [default: tiny; full with
    /// --authors].
    #[arg(long, value_name = "tiny|full|DIR")]
    pub model: Option<String>,
    /// Milliseconds between frames (frames are centred: `1 + samples / hop` of them, hop =
    /// 16 x MS samples at 16 kHz) [default: 10; 32 with --authors].
    #[arg(long, value_name = "MS")]
    pub step_ms: Option<f64>,
    /// How the 360 activations of a frame become f0 [default: crepe-viterbi].
    #[arg(long, value_enum)]
    pub decoder: Option<DecoderArg>,
    /// Frames whose confidence (CREPE's activation) is below this get f0 = 0 in the CSV and no
    /// line in the picture. The contour (--authors) ignores it, as the authors did.
    #[arg(long, value_name = "P", default_value_t = 0.5)]
    pub voicing_threshold: f32,
    /// What is analysed: `mixture` is the file's channel mix at 16 kHz; `separated` is the
    /// voice separated from it by --separator.
    #[arg(long, value_enum, default_value_t = MelodyVocalsArg::Mixture)]
    pub vocals: MelodyVocalsArg,
    /// The channel analysed (with --vocals mixture): `mix` (the mean of the channels), or one
    /// of them, e.g. MIR-1K's `right` for the clean voice. A separator is always given the mix.
    #[arg(long, value_enum, default_value_t = ChannelArg::Mix)]
    pub channel: ChannelArg,
    /// With --vocals separated: the separator folder (or a `train-separator` run folder)
    /// [default: the shipped models/open_unmix-mir1k].
    #[arg(long, value_name = "DIR", env = "SINGERID_SEPARATOR")]
    pub separator: Option<PathBuf>,
    /// The FGNL authors' recipe (`tools/extract_melody.py`): CREPE full, a 32 ms step (the
    /// log-mel's hop, so the contour has one frame per log-mel frame), the CREPE package's
    /// Viterbi, and the one-hot contour's row per frame written to `<stem>.contour.csv`.
    /// --model, --step-ms and --decoder still override it.
    #[arg(long)]
    pub authors: bool,
    /// Frames per network call (bounds memory: about 1 GB for 32 frames of the full model).
    #[arg(long, value_name = "N", default_value_t = NonZeroUsize::new(CREPE_BATCH_SIZE).unwrap_or(NonZeroUsize::MIN))]
    pub batch_size: NonZeroUsize,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// The feature cache folder whose `melody/` keeps every pitch track computed, keyed by the
    /// audio's bytes, the vocal source, the CREPE weights, the step, the decoder and the pitch
    /// range: a file is run through CREPE once [default: the platform's cache folder,
    /// ~/.cache/singerid/features on Linux ($XDG_CACHE_HOME/singerid/features when set)].
    #[arg(
        long = "cache",
        value_name = "DIR",
        env = "SINGERID_FEATURES_DIR",
        default_value_os_t = singerid_library::paths::default_cache(),
        hide_default_value = true
    )]
    pub cache: PathBuf,

    /// Run CREPE on every file even when its track is cached (the cache is not written).
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// The decoders, for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DecoderArg {
    /// The CREPE package's Viterbi (`crepe.predict(.., viterbi=True)`, what the FGNL authors
    /// used): an HMM over the per-frame argmax bins, then the local average around the path;
    /// all bins allowed.
    CrepeViterbi,
    /// torchcrepe's Viterbi: an HMM over the softmax of the activations, the path's bin
    /// centres; 50-2006 Hz.
    Viterbi,
    /// torchcrepe's weighted argmax: the sigmoid-weighted average around the argmax;
    /// 50-2006 Hz.
    WeightedArgmax,
    /// The CREPE package's default (`viterbi=False`): the activation-weighted average around
    /// the argmax; all bins allowed.
    LocalAverage,
}

impl DecoderArg {
    /// The decoder and the pitch range its package uses.
    fn resolve(self) -> (Decoder, PitchRange) {
        match self {
            Self::CrepeViterbi => (Decoder::CrepeViterbi, PitchRange::all()),
            Self::Viterbi => (Decoder::Viterbi, PitchRange::default()),
            Self::WeightedArgmax => (Decoder::WeightedArgmax, PitchRange::default()),
            Self::LocalAverage => (Decoder::LocalAverage, PitchRange::all()),
        }
    }
}

/// The vocal sources of `melody`, for clap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MelodyVocalsArg {
    /// The file's channel mix.
    Mixture,
    /// The voice separated from the channel mix.
    Separated,
}

#[derive(Serialize)]
struct Summary<'a> {
    model: &'a Path,
    separator: Option<&'a Path>,
    step_ms: f64,
    decoder: Decoder,
    voicing_threshold: f32,
    files: &'a [MelodyFile],
}

/// Runs the command; `Ok(true)` when every input gave its melody.
///
/// # Errors
/// No CREPE model (with the command that makes `full`); no separator; invalid options.
pub fn run(args: &MelodyArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let preset = if args.authors {
        MelodyOptions::authors()
    } else {
        MelodyOptions::default()
    };
    let (decoder, range) = match args.decoder {
        Some(d) => d.resolve(),
        None => (preset.decoder, preset.range),
    };
    let hop_length = match args.step_ms {
        Some(ms) => hop_for_step_ms(ms)?,
        None => preset.hop_length,
    };
    if !(0.0..=1.0).contains(&args.voicing_threshold) {
        bail!(
            "--voicing-threshold must be in 0..1 (a CREPE activation), got {}",
            args.voicing_threshold
        );
    }
    let options = MelodyOptions {
        hop_length,
        decoder,
        range,
        voicing_threshold: args.voicing_threshold,
        batch_size: args.batch_size.get(),
        ..preset
    };
    let choice = match args.model.as_deref() {
        None if args.authors => CrepeChoice::Full,
        None => CrepeChoice::Tiny,
        Some(arg) => CrepeChoice::from_arg(arg),
    };
    let (crepe, model_dir) = load_crepe_model(&choice, args.device.device)?;
    let separator = match (args.vocals, &args.separator) {
        (MelodyVocalsArg::Mixture, _) => None,
        (MelodyVocalsArg::Separated, _) if args.channel != ChannelArg::Mix => {
            bail!(
                "--vocals separated separates the channel mix; --channel {} does not apply to it",
                singerid_audio::Channel::from(args.channel).name()
            )
        }
        (MelodyVocalsArg::Separated, dir) => Some(
            singerid_infer::load_separator(dir.as_deref(), args.device.device)
                .context("loading the separator for --vocals separated")?,
        ),
    };
    let device = args.device.device.device()?;
    let bar = logging::Bar::new(global.quiet, 200);
    let cache = MelodyCache::in_features_cache(&args.cache);
    let files = melody_files(
        &crepe,
        &device,
        separator.as_ref().map(|(s, _)| s),
        &args.inputs,
        &args.out,
        &options,
        args.channel.into(),
        (!args.no_cache).then_some((&cache, model_dir.as_path())),
        &bar,
    );
    let step_ms = options.step_s() * 1000.0;
    print_summary(
        args.format,
        &Summary {
            model: &model_dir,
            separator: separator.as_ref().map(|(_, dir)| dir.as_path()),
            step_ms,
            decoder,
            voicing_threshold: options.voicing_threshold,
            files: &files,
        },
        || {
            let mut text = String::new();
            for f in &files {
                match (&f.f0_csv, &f.error) {
                    (Some(csv), None) => {
                        let median = f
                            .median_f0_hz
                            .map_or_else(|| "-".to_owned(), |hz| format!("{hz:.1} Hz"));
                        text += &format!(
                            "{}: {:.1} s, {} frames of {step_ms} ms, {:.0} % voiced, median f0 \
                             {median}{} -> {}\n",
                            f.input.display(),
                            f.seconds,
                            f.frames,
                            100.0 * f.voiced_frames as f64 / f.frames.max(1) as f64,
                            if f.cached { " (cached track)" } else { "" },
                            csv.display()
                        );
                    }
                    (_, Some(error)) => text += &format!("{}: error: {error}\n", f.input.display()),
                    _ => {}
                }
            }
            text
        },
    )?;
    let failed = files.iter().filter(|f| f.error.is_some()).count();
    if failed > 0 {
        tracing::error!("{failed} of {} inputs failed", files.len());
    }
    Ok(failed == 0)
}
