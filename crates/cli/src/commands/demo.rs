//! `singerid demo`: the README's first command. Evaluates the shipped model on the MIR-1K
//! validation songs (the paper's frame and song level scores, with a full report) and names the
//! singer of a few of those songs' clips, on CPU, in a couple of minutes.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::{Context, bail};
use singerid_data::Dataset;
use singerid_data::split::Split;

use crate::args::{CacheArgs, DeviceArgs, GlobalArgs, OutputFormat};
use crate::commands::eval::{self, EvalArgs};
use crate::commands::identify::{self, IdentifyArgs, IdentifyFormat};

/// Arguments of `singerid demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The trained model bundle (the one shipped in this repository: CRNN_FGNL trained on the
    /// MIR-1K pool's train split; see its README.md).
    #[arg(long, value_name = "DIR", default_value = "models/crnn_fgnl-mir1k")]
    pub model: PathBuf,

    /// The MIR-1K manifest (with its train/val split column).
    #[arg(
        long,
        value_name = "CSV",
        default_value = "../shared/data/mir1k/metadata.csv"
    )]
    pub data: PathBuf,

    /// How many validation recordings to identify (one per singer, first singers by name).
    #[arg(long, value_name = "N", default_value_t = 3)]
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
    if !args.model.is_dir() {
        bail!(
            "no model bundle at {} (run from the repository root, or pass --model)",
            args.model.display()
        );
    }
    if !args.data.is_file() {
        bail!(
            "no MIR-1K manifest at {} (the repository expects ../shared beside it, or pass --data)",
            args.data.display()
        );
    }
    println!(
        "== 1/2: singerid eval --model {} --data {} --split val\n",
        args.model.display(),
        args.data.display()
    );
    let eval_args = EvalArgs {
        model: args.model.clone(),
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
        format: OutputFormat::Text,
    };
    let eval_ok = eval::run(&eval_args, global)?;

    let dataset = Dataset::open(&args.data)
        .with_context(|| format!("reading the dataset {}", args.data.display()))?;
    let mut first_of_singer: BTreeMap<&str, PathBuf> = BTreeMap::new();
    for r in dataset
        .recordings
        .iter()
        .filter(|r| r.split_role() == Some(Split::Val))
    {
        first_of_singer
            .entry(r.singer.as_str())
            .or_insert_with(|| r.abs_path.clone());
    }
    let inputs: Vec<PathBuf> = first_of_singer.into_values().take(args.identify).collect();
    if inputs.is_empty() {
        return Ok(eval_ok);
    }
    println!(
        "\n== 2/2: singerid identify --model {} <{} validation recordings>\n",
        args.model.display(),
        inputs.len()
    );
    let identify_args = IdentifyArgs {
        inputs,
        model: args.model.clone(),
        format: IdentifyFormat::Text,
        batch_size: NonZeroUsize::new(32).context("batch size")?,
        device: args.device,
    };
    let identify_ok = identify::run(&identify_args, global)?;
    println!(
        "\nFull report: {} (report.md, confusion matrices, t-SNE)",
        args.out.join("eval").display()
    );
    Ok(eval_ok && identify_ok)
}
