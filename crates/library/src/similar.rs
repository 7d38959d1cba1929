//! "Sings like": the recordings and singers of the library nearest to a file, a stored
//! recording or a singer, by cosine distance (`1 - cosine similarity`) between embeddings.
//!
//! A recording is its stored embedding (the mean of its clips'). A singer is its enrolled
//! profile, or, for a trained singer, the profile of the library's recordings the model named
//! that singer ([`crate::open_set::profile_of`]). The search is exact: one pass over the
//! model's analyses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use singerid_data::Progress;
use singerid_infer::IdentifyOptions;
use singerid_infer::identify::UNKNOWN;
use singerid_train::Bundle;

use crate::db::{AnalysisRow, Library};
use crate::enrol::profiles;
use crate::error::LibraryError;
use crate::open_set::{cosine, profile_of};

/// What to search around.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// An audio file (analysed now unless the library has it).
    File(PathBuf),
    /// A stored recording, by id.
    Recording(i64),
    /// A singer (trained or enrolled), by name.
    Singer(String),
}

/// One neighbour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Neighbour {
    /// The recording's id (None for singers).
    pub id: Option<i64>,
    /// The recording's path or the singer's name.
    pub name: String,
    /// For a recording, the singer the model named; for a singer, `trained` or `enrolled`.
    pub detail: String,
    /// Cosine distance, `1 - cosine similarity`, in [0, 2].
    pub distance: f32,
}

/// The answer of [`similar`].
#[derive(Debug, Clone, Serialize)]
pub struct Similar {
    /// The query, as text.
    pub query: String,
    /// The nearest recordings, nearest first.
    pub recordings: Vec<Neighbour>,
    /// The nearest singers, nearest first.
    pub singers: Vec<Neighbour>,
    /// Recordings searched.
    pub searched: usize,
}

/// The `k` recordings and `k` singers nearest to `query`.
///
/// # Errors
/// An unknown recording or singer, a singer without a profile or recordings, a file that cannot
/// be analysed, or a database error.
#[allow(clippy::too_many_arguments)]
pub fn similar(
    library: &mut Library,
    bundle: &Bundle,
    model_dir: &Path,
    query: &Query,
    k: usize,
    options: &IdentifyOptions,
    progress: &dyn Progress,
) -> Result<Similar, LibraryError> {
    let model = library.register_model(bundle, model_dir)?;
    let analyses = library.analyses(model.id)?;
    let singers = singer_profiles(library, model.id, &analyses)?;
    let (text, embedding, exclude_recording, exclude_singer) =
        match query {
            Query::Recording(id) => {
                let row = analyses
                    .iter()
                    .find(|a| a.recording_id == *id)
                    .ok_or_else(|| {
                        LibraryError::Invalid(format!(
                            "no recording {id} analysed by this model in the library"
                        ))
                    })?;
                (
                    row.path.display().to_string(),
                    row.embedding.clone(),
                    Some(*id),
                    None,
                )
            }
            Query::Singer(name) => {
                let (_, profile) = singers.get(name.as_str()).ok_or_else(|| {
                let known: Vec<&str> = singers.keys().map(String::as_str).collect();
                LibraryError::Invalid(format!(
                    "no singer {name:?} with a profile (enrolled, or named by the model on some \
                     scanned recording); known: {}",
                    if known.is_empty() { "none".into() } else { known.join(", ") }
                ))
            })?;
                (name.clone(), profile.clone(), None, Some(name.clone()))
            }
            Query::File(path) => {
                let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                let stored = analyses.iter().find(|a| a.path == canonical);
                match stored {
                    Some(row) => (
                        path.display().to_string(),
                        row.embedding.clone(),
                        Some(row.recording_id),
                        None,
                    ),
                    None => {
                        let found = singerid_infer::identify(
                            bundle,
                            std::slice::from_ref(path),
                            options,
                            progress,
                            &mut |_| {},
                        );
                        let file = found.files.into_iter().next().ok_or_else(|| {
                            LibraryError::Invalid(
                                found
                                    .failures
                                    .first()
                                    .map(|f| format!("{}: {}", f.path.display(), f.error))
                                    .unwrap_or_else(|| format!("{}: not analysed", path.display())),
                            )
                        })?;
                        (path.display().to_string(), file.embedding, None, None)
                    }
                }
            }
        };
    let candidates: Vec<(usize, &[f32])> = analyses
        .iter()
        .enumerate()
        .filter(|(_, a)| Some(a.recording_id) != exclude_recording)
        .map(|(i, a)| (i, a.embedding.as_slice()))
        .collect();
    let recordings: Vec<Neighbour> = exact_nearest(&embedding, &candidates, k)
        .into_iter()
        .map(|(i, distance)| {
            let a = &analyses[i];
            Neighbour {
                id: Some(a.recording_id),
                name: a.path.display().to_string(),
                detail: a.singer.clone(),
                distance,
            }
        })
        .collect();
    let mut singer_list: Vec<Neighbour> = singers
        .iter()
        .filter(|(name, _)| Some(name.as_str()) != exclude_singer.as_deref())
        .map(|(name, (kind, profile))| Neighbour {
            id: None,
            name: name.clone(),
            detail: (*kind).to_owned(),
            distance: 1.0 - cosine(&embedding, profile),
        })
        .collect();
    singer_list.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.name.cmp(&b.name)));
    singer_list.truncate(k);
    Ok(Similar {
        query: text,
        recordings,
        singers: singer_list,
        searched: analyses.len(),
    })
}

/// The `k` candidates nearest to `query` by cosine distance (`1 - cosine similarity`), nearest
/// first (ties by key): one pass over every candidate, exact.
pub fn exact_nearest<K: Copy + Ord>(
    query: &[f32],
    candidates: &[(K, &[f32])],
    k: usize,
) -> Vec<(K, f32)> {
    let mut scored: Vec<(K, f32)> = candidates
        .iter()
        .map(|&(key, e)| (key, 1.0 - cosine(query, e)))
        .collect();
    let by = |a: &(K, f32), b: &(K, f32)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
    if k < scored.len() {
        scored.select_nth_unstable_by(k, by);
        scored.truncate(k);
    }
    scored.sort_by(by);
    scored
}

/// Every singer with a profile: the enrolled ones, the trained ones with a calibrated profile,
/// and each other trained singer the model named on at least one library recording (the
/// profile of those recordings).
///
/// # Errors
/// A database error.
pub fn singer_profiles(
    library: &Library,
    model_id: i64,
    analyses: &[AnalysisRow],
) -> Result<BTreeMap<String, (&'static str, Vec<f32>)>, LibraryError> {
    let mut out = BTreeMap::new();
    let mut by_singer: BTreeMap<&str, Vec<&[f32]>> = BTreeMap::new();
    for a in analyses {
        if a.singer != UNKNOWN {
            by_singer.entry(&a.singer).or_default().push(&a.embedding);
        }
    }
    for (name, embeddings) in by_singer {
        if let Some(profile) = profile_of(embeddings) {
            out.insert(name.to_owned(), ("trained", profile));
        }
    }
    let (trained, enrolled) = profiles(library, model_id)?;
    for p in trained {
        out.insert(p.name, ("trained", p.embedding));
    }
    for p in enrolled {
        out.insert(p.name, ("enrolled", p.embedding));
    }
    Ok(out)
}
