//! `singerid demo`: the README's first command. Evaluates the shipped model on the MIR-1K
//! validation songs (the paper's frame and song level scores, with a full report) and names the
//! singer of a few of those songs' clips, on CPU, in a couple of minutes.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::{Context, bail};
use singerid_data::split::Split;
use singerid_data::{Dataset, song_key};

use crate::args::{CacheArgs, DeviceArgs, GlobalArgs, ModelArgs, OutputFormat};
use crate::commands::eval::{self, EvalArgs};
use crate::commands::identify::{self, IdentifyArgs, IdentifyFormat};

/// Arguments of `singerid demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub model: ModelArgs,

    /// The MIR-1K manifest (with its train/val split column).
    #[arg(
        long,
        value_name = "CSV",
        default_value = "../shared/data/mir1k/metadata.csv"
    )]
    pub data: PathBuf,

    /// How many validation songs to identify: the first clip of each of the first N validation
    /// songs, in manifest order (not chosen by hand).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub identify: usize,

    /// Where the evaluation report and the feature cache go.
    #[arg(long, value_name = "DIR", default_value = "target/demo")]
    pub out: PathBuf,

    #[command(flatten)]
    pub device: DeviceArgs,
}

/// Runs the demo; `Ok(true)` when both steps succeeded for every file.
///
/// # Errors
/// A missing model or dataset, or a failure of `eval`.
pub fn run(args: &DemoArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let model = args.model.path()?;
    if !args.data.is_file() {
        bail!(
            "no MIR-1K manifest at {} (the repository expects ../shared beside it, or pass --data)",
            args.data.display()
        );
    }
    println!(
        "== 1/2: singerid eval --model {} --data {} --split val\n",
        model.display(),
        args.data.display()
    );
    let eval_args = EvalArgs {
        model: ModelArgs {
            model: Some(model.clone()),
        },
        data: Some(args.data.clone()),
        split: Some("val".into()),
        cache: CacheArgs {
            dir: args.out.join("features"),
            jobs: None,
        },
        channel: None,
        out: args.out.join("eval"),
        batch_size: NonZeroUsize::new(32).context("batch size")?,
        device: args.device,
        embedding: false,
        format: OutputFormat::Text,
    };
    let eval_ok = eval::run(&eval_args, global)?;

    let dataset = Dataset::open(&args.data)
        .with_context(|| format!("reading the dataset {}", args.data.display()))?;
    let mut songs = BTreeSet::new();
    let chosen: Vec<(PathBuf, String)> = dataset
        .recordings
        .iter()
        .filter(|r| r.split_role() == Some(Split::Val) && songs.insert(song_key(r)))
        .map(|r| (r.abs_path.clone(), r.singer.clone()))
        .take(args.identify)
        .collect();
    let inputs: Vec<PathBuf> = chosen.iter().map(|(path, _)| path.clone()).collect();
    if inputs.is_empty() {
        return Ok(eval_ok);
    }
    println!(
        "\n== 2/2: singerid identify --model {} <the first clip of the first {} validation songs>\n",
        model.display(),
        inputs.len()
    );
    let identify_args = IdentifyArgs {
        inputs,
        model: ModelArgs {
            model: Some(model.clone()),
        },
        db: None,
        format: IdentifyFormat::Text,
        batch_size: NonZeroUsize::new(32).context("batch size")?,
        device: args.device,
    };
    let identify_ok = identify::run(&identify_args, global)?;
    println!("\nThe singers the manifest gives for these files, to check the answers against:");
    for (path, singer) in &chosen {
        println!("  {}: {singer}", path.display());
    }
    println!(
        "\nFull report: {} (report.md, confusion matrices, t-SNE)",
        args.out.join("eval").display()
    );
    Ok(eval_ok && identify_ok)
}
