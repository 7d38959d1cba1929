//! `singerid import-separator`: a PyTorch Open-Unmix state dict (e.g. the `vocals` model of
//! `umxhq` or `umxl`) as a separator folder for `separate --model` and
//! `train --vocals separated --separator` (`singerid_infer::import_separator`).

use std::path::PathBuf;

use serde::Serialize;
use singerid_infer::import_separator;

use crate::args::{GlobalArgs, OutputFormat};
use crate::commands::print_summary;

/// Arguments of `singerid import-separator`.
#[derive(Debug, clap::Args)]
pub struct ImportSeparatorArgs {
    /// The state dict as safetensors. Open-Unmix's downloads are PyTorch pickles
    /// (`vocals-<hash>.pth`); convert one with `python -c "import torch, safetensors.torch as
    /// s; s.save_file(torch.load('vocals-b62c91ce.pth', map_location='cpu'), 'vocals.safetensors')"`.
    #[arg(value_name = "FILE")]
    pub state_dict: PathBuf,
    /// The separator folder to write (`separator.json`, `model.safetensors`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The rate the network was trained at (Open-Unmix's pretrained models: 44100).
    #[arg(long, value_name = "HZ", default_value_t = 44100)]
    pub rate: u32,
    /// The STFT size it was trained with (umxhq, umxl: 4096); the network's bins must be
    /// n_fft / 2 + 1.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub n_fft: usize,
    /// The STFT hop (umxhq, umxl: 1024).
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub hop: usize,
    /// Summary format on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Serialize)]
struct Summary {
    separator: PathBuf,
    id: String,
    channels: usize,
    hidden_size: usize,
    layers: usize,
    bins: usize,
    bandwidth_bins: Option<usize>,
    rate: u32,
    n_fft: usize,
    hop: usize,
}

/// Runs the command.
///
/// # Errors
/// An unreadable or mismatched state dict; an unwritable folder.
pub fn run(args: &ImportSeparatorArgs, _global: &GlobalArgs) -> anyhow::Result<bool> {
    let separator = import_separator(&args.state_dict, args.rate, args.n_fft, args.hop, &args.out)?;
    let model = &separator.config().model;
    let summary = Summary {
        separator: args.out.clone(),
        id: separator.id(),
        channels: model.nb_channels,
        hidden_size: model.hidden_size,
        layers: model.nb_layers,
        bins: model.nb_bins,
        bandwidth_bins: model.max_bin,
        rate: args.rate,
        n_fft: args.n_fft,
        hop: args.hop,
    };
    print_summary(args.format, &summary, || {
        format!(
            "imported {} as {} (id {}): {} channel(s), hidden {}, {} LSTM layers, {} bins ({} \
             fed to the network), {} Hz, n_fft {}, hop {}\n",
            args.state_dict.display(),
            summary.separator.display(),
            summary.id,
            summary.channels,
            summary.hidden_size,
            summary.layers,
            summary.bins,
            summary.bandwidth_bins.unwrap_or(summary.bins),
            summary.rate,
            summary.n_fft,
            summary.hop
        )
    })?;
    Ok(true)
}
