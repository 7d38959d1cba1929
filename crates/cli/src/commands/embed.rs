//! `singerid embed`: one embedding per recording and per clip of audio files, from any trained
//! model's embedding layer, written as safetensors plus a CSV index
//! (`singerid_infer::embed` and `write_embeddings` do the work; this prints a summary).

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use singerid_infer::IdentifyOptions;
use singerid_infer::identify::Failure;

use crate::args::{DeviceArgs, GlobalArgs, ModelArgs, OutputFormat};
use crate::logging;

#[derive(Debug, clap::Args)]
pub struct EmbedArgs {
    /// Audio files, or folders searched recursively for audio files (mp3, wav, flac, ogg,
    /// oga, m4a, mp4, aac).
    #[arg(required = true, value_name = "PATH")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub model: ModelArgs,

    /// The safetensors file to write (f32 tensors `recordings` [files, dim] and `clips`
    /// [clips, dim]); its CSV index (`path,tensor,row,clip_index,start_s,end_s`) is written
    /// beside it with the extension `.csv`. Both are replaced atomically.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Clips per forward pass.
    #[arg(long, value_name = "N", default_value = "32")]
    pub batch_size: NonZeroUsize,

    #[command(flatten)]
    pub device: DeviceArgs,

    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// The stdout summary.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    model: &'a Path,
    model_name: &'a str,
    vocals: String,
    dim: usize,
    recordings: usize,
    clips: usize,
    tensors: &'a Path,
    index: &'a Path,
    failures: &'a [Failure],
}

/// Runs the command; `Ok(true)` when every file was embedded.
///
/// # Errors
/// Fatal problems only: an unreadable model, a model without an embedding, unwritable output
/// files.
pub fn run(args: &EmbedArgs, global: &GlobalArgs) -> anyhow::Result<bool> {
    let model = args.model.path()?;
    let bundle = singerid_infer::load_model(&model, args.device.device)
        .with_context(|| format!("loading the model {}", model.display()))?;
    let options = IdentifyOptions {
        batch_size: args.batch_size.get(),
        ..IdentifyOptions::default()
    };
    let progress = logging::Bar::new(global.quiet, 8);
    let found = singerid_infer::embed(&bundle, &args.inputs, &options, &progress)
        .with_context(|| format!("embedding with {}", model.display()))?;
    let files = if found.recordings.is_empty() {
        None
    } else {
        Some(
            singerid_infer::write_embeddings(&found, &bundle, &model, &args.out)
                .with_context(|| format!("writing {}", args.out.display()))?,
        )
    };
    let index = singerid_infer::embed::index_path(&args.out);
    let summary = Summary {
        model: &model,
        model_name: &found.model,
        vocals: bundle.vocals(),
        dim: found.dim,
        recordings: found.recordings.len(),
        clips: found.clips.len(),
        tensors: &args.out,
        index: &index,
        failures: &found.failures,
    };
    super::print_summary(args.format, &summary, || {
        render_text(&summary, files.is_some())
    })?;
    if !found.failures.is_empty() {
        tracing::error!(
            "{} of {} files could not be embedded",
            found.failures.len(),
            found.failures.len() + found.recordings.len()
        );
    }
    Ok(found.failures.is_empty() && files.is_some())
}

fn render_text(s: &Summary<'_>, written: bool) -> String {
    let mut out = format!(
        "embed: {} ({}, {})\n  {} recordings, {} clips, {}-d embeddings\n",
        s.model.display(),
        s.model_name,
        s.vocals,
        s.recordings,
        s.clips,
        s.dim
    );
    if written {
        out.push_str(&format!(
            "  tensors   {}\n  index     {}\n",
            s.tensors.display(),
            s.index.display()
        ));
    } else {
        out.push_str("  nothing embedded: no file written\n");
    }
    if !s.failures.is_empty() {
        out.push_str(&format!("  failed    {} files\n", s.failures.len()));
    }
    out
}
