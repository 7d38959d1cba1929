//! What the bench binaries (`src/bin/*`) share: their exit convention and the median they
//! report.

use std::process::ExitCode;

/// The process's exit: 0 on success, else the error chain on stderr and exit code 2.
pub fn exit(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// The median of timings (the upper one of the middle two for an even count).
///
/// # Panics
/// On an empty list.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
