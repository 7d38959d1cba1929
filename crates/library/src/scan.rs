//! `scan`: identify every audio file under some folders into the database, incrementally.
//!
//! A file is skipped when the database already has the model's analysis of it: first by path,
//! size and modification time (no reading), then by content hash (BLAKE3) for a file that was
//! touched but not changed. The others go through [`singerid_infer::identify`] in chunks, and
//! each chunk's results are written in one transaction as soon as it is decided, so an
//! interrupted scan keeps what it finished and the next scan resumes from there. A changed
//! file's old analysis is replaced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

use rayon::prelude::*;
use serde::Serialize;
use singerid_data::Progress;
use singerid_infer::identify::Failure;
use singerid_infer::{FileResult, IdentifyOptions};
use singerid_train::Bundle;

use crate::db::{Library, ModelRow, store_analysis};
use crate::error::LibraryError;

/// Files identified per transaction: an interrupted scan loses at most this many files' work.
pub const FILES_PER_CHUNK: usize = 16;

/// What a scan did.
#[derive(Debug, Clone, Serialize)]
pub struct ScanSummary {
    /// The database.
    pub db: PathBuf,
    /// The model's folder name.
    pub model: String,
    /// Audio files found under the inputs.
    pub found: usize,
    /// Files the database already had (same content, same model): skipped.
    pub unchanged: usize,
    /// Files identified and stored by this scan.
    pub analysed: usize,
    /// Of those, files that were in the database with other content (re-done).
    pub changed: usize,
    /// Files that could not be identified, with why.
    pub failures: Vec<Failure>,
    /// Seconds of audio analysed by this scan.
    pub audio_seconds: f64,
    /// Wall time, seconds.
    pub wall_seconds: f64,
    /// Recordings in the database after the scan, and those with this model's analysis.
    pub total_recordings: usize,
    /// Analyses by this model after the scan.
    pub total_analysed: usize,
}

/// A file waiting to be identified.
#[derive(Debug, Clone)]
struct Pending {
    hash: String,
    size: i64,
    modified_ns: i64,
    changed: bool,
}

/// Scans `inputs` (files or folders, searched recursively) into `library` with `bundle`
/// (loaded from `model_dir`). `on_file` sees every file stored, as it is stored.
///
/// # Errors
/// Database errors (which stop the scan; what was committed stays). Unreadable or undecodable
/// files are [`ScanSummary::failures`], never errors.
pub fn scan(
    library: &mut Library,
    bundle: &Bundle,
    model_dir: &Path,
    inputs: &[PathBuf],
    options: &IdentifyOptions,
    progress: &dyn Progress,
    on_file: &mut dyn FnMut(&FileResult),
) -> Result<ScanSummary, LibraryError> {
    let started = Instant::now();
    let model = library.register_model(bundle, model_dir)?;
    // An embedding model's class output is untrained: its stored answers come from the trained
    // singers' profiles of its calibration instead (enrolled singers take part only in
    // `identify --db`, as they do for classifiers).
    let by_profiles = if singerid_infer::is_embedding_model(bundle) {
        let (trained, _) = crate::enrol::profiles(library, model.id)?;
        Some((trained, library.enrol_threshold(model.id)?))
    } else {
        None
    };
    let (files, problems) = singerid_data::tree::audio_files(inputs);
    let mut failures: Vec<Failure> = problems
        .iter()
        .map(|p| Failure {
            path: p.path().map(Path::to_path_buf).unwrap_or_default(),
            error: p.to_string(),
        })
        .collect();
    if files.is_empty() && failures.is_empty() {
        for input in inputs {
            failures.push(Failure {
                path: input.clone(),
                error: format!(
                    "no audio files ({}) found",
                    singerid_data::AUDIO_EXTENSIONS.join(", ")
                ),
            });
        }
    }
    let files: Vec<PathBuf> = files
        .into_iter()
        .map(|f| std::fs::canonicalize(&f).unwrap_or(f))
        .collect();
    let found = files.len();

    // Which files need work: stat everything, hash only what changed or is new.
    let mut unchanged = 0;
    let mut to_hash = Vec::new();
    for path in &files {
        let Some((size, modified_ns)) = stat(path) else {
            failures.push(Failure {
                path: path.clone(),
                error: "cannot read the file's size and modification time".into(),
            });
            continue;
        };
        let stored = library.recording_by_path(path)?;
        if let Some((id, hash, s, m)) = &stored
            && (*s, *m) == (size, modified_ns)
            && library.analysed(*id, model.id, hash)?
        {
            unchanged += 1;
            continue;
        }
        to_hash.push((path.clone(), size, modified_ns, stored));
    }
    progress.start("hash", Some(to_hash.len() as u64));
    let hashed: Vec<_> = to_hash
        .into_par_iter()
        .map(|(path, size, modified_ns, stored)| {
            let hash = content_hash(&path);
            progress.advance(1);
            (path, size, modified_ns, stored, hash)
        })
        .collect();
    progress.finish();
    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    let mut order = Vec::new();
    for (path, size, modified_ns, stored, hash) in hashed {
        let hash = match hash {
            Ok(hash) => hash,
            Err(error) => {
                failures.push(Failure { path, error });
                continue;
            }
        };
        if let Some((id, old_hash, _, _)) = &stored
            && *old_hash == hash
            && library.analysed(*id, model.id, &hash)?
        {
            library.touch_recording(*id, size, modified_ns)?;
            unchanged += 1;
            continue;
        }
        let changed = stored.as_ref().is_some_and(|(_, old, _, _)| *old != hash);
        order.push(path.clone());
        pending.insert(
            path,
            Pending {
                hash,
                size,
                modified_ns,
                changed,
            },
        );
    }

    let mut analysed = 0;
    let mut changed = 0;
    let mut audio_seconds = 0.0;
    let mut write_error = None;
    let chunked = IdentifyOptions {
        files_per_chunk: options.files_per_chunk.clamp(1, FILES_PER_CHUNK),
        // Results are stored as each chunk is decided; keeping them all would grow with the
        // library.
        keep_files: false,
        ..*options
    };
    if !order.is_empty() {
        let found = singerid_infer::identify(bundle, &order, &chunked, progress, &mut |chunk| {
            if write_error.is_some() {
                return;
            }
            let answered: Vec<FileResult>;
            let chunk = match &by_profiles {
                Some((trained, threshold)) => {
                    let profiles: Vec<&crate::open_set::Profile> = trained.iter().collect();
                    answered = chunk
                        .iter()
                        .map(|f| {
                            crate::open_set::answer_by_profiles(f.clone(), &profiles, *threshold)
                        })
                        .collect();
                    answered.as_slice()
                }
                None => chunk,
            };
            match store_chunk(library, &model, chunk, &pending) {
                Ok(()) => {
                    for file in chunk {
                        analysed += 1;
                        audio_seconds += file.duration_s;
                        if pending.get(&file.path).is_some_and(|p| p.changed) {
                            changed += 1;
                        }
                        on_file(file);
                    }
                }
                Err(e) => write_error = Some(e),
            }
        });
        failures.extend(found.failures);
    }
    if let Some(e) = write_error {
        return Err(e);
    }
    let (total_recordings, total_analysed, _) = library.counts(model.id)?;
    Ok(ScanSummary {
        db: library.path().to_path_buf(),
        model: model.name,
        found,
        unchanged,
        analysed,
        changed,
        failures,
        audio_seconds,
        wall_seconds: started.elapsed().as_secs_f64(),
        total_recordings,
        total_analysed,
    })
}

/// Writes one chunk of results in one transaction.
fn store_chunk(
    library: &mut Library,
    model: &ModelRow,
    chunk: &[FileResult],
    pending: &HashMap<PathBuf, Pending>,
) -> Result<(), LibraryError> {
    let path = library.path().to_path_buf();
    let tx = library.transaction()?;
    for file in chunk {
        let Some(p) = pending.get(&file.path) else {
            continue;
        };
        store_analysis(&tx, model.id, file, &p.hash, p.size, p.modified_ns)
            .map_err(|e| LibraryError::sql(&path, e))?;
    }
    tx.commit().map_err(|e| LibraryError::sql(&path, e))
}

/// Size in bytes and modification time in nanoseconds since the epoch.
fn stat(path: &Path) -> Option<(i64, i64)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    Some((meta.len() as i64, modified))
}

/// BLAKE3 of the file's bytes, hex.
///
/// # Errors
/// The reason the file cannot be read, as text.
pub fn content_hash(path: &Path) -> Result<String, String> {
    let mut hasher = blake3::Hasher::new();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    hasher
        .update_reader(file)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(hasher.finalize().to_hex().to_string())
}
