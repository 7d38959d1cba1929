//! Enrolment: a new singer from a few recordings, without retraining, and identification that
//! chooses among the model's singers and the enrolled ones.
//!
//! Enrolling scans the recordings into the database first (so they are analysed once, with the
//! model), links them to the singer and recomputes the singer's profile from every recording
//! linked to it ([`crate::open_set::profile_of`]). Enrolling the same name again adds
//! recordings.

use std::path::{Path, PathBuf};

use rusqlite::params;
use serde::Serialize;
use singerid_data::Progress;
use singerid_infer::identify::{Failure, UNKNOWN};
use singerid_infer::{FileResult, IdentifyOptions};
use singerid_train::Bundle;

use crate::db::{Library, from_blob, now, to_blob};
use crate::error::LibraryError;
use crate::open_set::{OpenSetResult, Profile, decide, profile_of};
use crate::scan::{ScanSummary, scan};

/// What an enrolment did.
#[derive(Debug, Clone, Serialize)]
pub struct EnrolSummary {
    /// The singer.
    pub singer: String,
    /// Whether the singer was new.
    pub new_singer: bool,
    /// Recordings linked to the singer now.
    pub recordings: usize,
    /// Recordings this enrolment added.
    pub added: usize,
    /// The scan of the given files.
    pub scan: ScanSummary,
    /// The model's enrolment threshold (None: not calibrated, so enrolled singers are listed
    /// but never chosen).
    pub enrol_threshold: Option<f32>,
}

/// Checks a singer name: not empty, not `unknown`, printable, at most 100 characters.
///
/// # Errors
/// [`LibraryError::Invalid`] saying what is wrong.
pub fn check_name(name: &str) -> Result<(), LibraryError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(LibraryError::Invalid(
            "a singer's name cannot be empty".into(),
        ));
    }
    if trimmed != name {
        return Err(LibraryError::Invalid(format!(
            "{name:?}: a singer's name cannot start or end with spaces"
        )));
    }
    if name.eq_ignore_ascii_case(UNKNOWN) {
        return Err(LibraryError::Invalid(format!(
            "{name:?} is the answer for no singer; choose another name"
        )));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(LibraryError::Invalid(format!(
            "{name:?}: a singer's name has at most 100 printable characters"
        )));
    }
    Ok(())
}

/// Enrols `name` from the audio files under `inputs`.
///
/// # Errors
/// A bad name, a name that is one of the model's trained singers, no recording that could be
/// analysed, or a database error.
pub fn enrol(
    library: &mut Library,
    bundle: &Bundle,
    model_dir: &Path,
    name: &str,
    inputs: &[PathBuf],
    options: &IdentifyOptions,
    progress: &dyn Progress,
) -> Result<EnrolSummary, LibraryError> {
    check_name(name)?;
    if bundle.meta.classes.iter().any(|c| c == name) {
        return Err(LibraryError::Invalid(format!(
            "{name:?} is one of the model's trained singers; it needs no enrolment"
        )));
    }
    let mut paths = Vec::new();
    let summary = scan(
        library,
        bundle,
        model_dir,
        inputs,
        options,
        progress,
        &mut |_| {},
    )?;
    let model = library.register_model(bundle, model_dir)?;
    // The recordings to link: every audio file under the inputs that now has an analysis.
    let (files, _) = singerid_data::tree::audio_files(inputs);
    for file in files {
        let file = std::fs::canonicalize(&file).unwrap_or(file);
        if let Some((id, hash, _, _)) = library.recording_by_path(&file)?
            && library.analysed(id, model.id, &hash)?
        {
            paths.push(id);
        }
    }
    if paths.is_empty() {
        let why: Vec<String> = summary
            .failures
            .iter()
            .map(|f: &Failure| format!("{}: {}", f.path.display(), f.error))
            .collect();
        return Err(LibraryError::Invalid(format!(
            "no recording of {name:?} could be analysed{}",
            if why.is_empty() {
                String::new()
            } else {
                format!(" ({})", why.join("; "))
            }
        )));
    }
    let db = library.path().to_path_buf();
    let tx = library.transaction()?;
    let result = (|| {
        let existing: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, kind FROM singers WHERE model_id = ?1 AND name = ?2",
                params![model.id, name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        let (singer_id, new_singer) = match existing {
            Some((id, _)) => (id, false),
            None => {
                tx.execute(
                    "INSERT INTO singers (model_id, name, kind, created_at)
                     VALUES (?1, ?2, 'enrolled', ?3)",
                    params![model.id, name, now()],
                )?;
                (tx.last_insert_rowid(), true)
            }
        };
        let mut added = 0;
        for id in &paths {
            added += tx.execute(
                "INSERT OR IGNORE INTO enrolments (singer_id, recording_id) VALUES (?1, ?2)",
                params![singer_id, id],
            )?;
        }
        let embeddings: Vec<Vec<f32>> = {
            let mut stmt = tx.prepare(
                "SELECT a.embedding FROM enrolments e
                 JOIN analyses a ON a.recording_id = e.recording_id AND a.model_id = ?2
                 WHERE e.singer_id = ?1",
            )?;
            stmt.query_map(params![singer_id, model.id], |r| {
                Ok(from_blob(&r.get::<_, Vec<u8>>(0)?))
            })?
            .collect::<Result<_, _>>()?
        };
        let profile = profile_of(embeddings.iter().map(Vec::as_slice)).unwrap_or_default();
        tx.execute(
            "UPDATE singers SET profile = ?2 WHERE id = ?1",
            params![singer_id, to_blob(&profile)],
        )?;
        Ok::<_, rusqlite::Error>((new_singer, added, embeddings.len()))
    })();
    let (new_singer, added, recordings) = result.map_err(|e| LibraryError::sql(&db, e))?;
    tx.commit().map_err(|e| LibraryError::sql(&db, e))?;
    Ok(EnrolSummary {
        singer: name.to_owned(),
        new_singer,
        recordings,
        added,
        scan: summary,
        enrol_threshold: library.enrol_threshold(model.id)?,
    })
}

/// Removes an enrolled singer (its recordings stay in the library).
///
/// # Errors
/// An unknown or trained singer, or a database error.
pub fn forget(
    library: &mut Library,
    bundle: &Bundle,
    model_dir: &Path,
    name: &str,
) -> Result<(), LibraryError> {
    let model = library.register_model(bundle, model_dir)?;
    let db = library.path().to_path_buf();
    let tx = library.transaction()?;
    let n = tx
        .execute(
            "DELETE FROM singers WHERE model_id = ?1 AND name = ?2 AND kind = 'enrolled'",
            params![model.id, name],
        )
        .map_err(|e| LibraryError::sql(&db, e))?;
    if n == 0 {
        return Err(LibraryError::Invalid(format!(
            "no enrolled singer {name:?} for this model"
        )));
    }
    tx.commit().map_err(|e| LibraryError::sql(&db, e))
}

/// The profiles of the model's singers in `library`: (trained, enrolled). Trained singers
/// have one when the model's calibration was stored.
///
/// # Errors
/// A database error.
pub fn profiles(
    library: &Library,
    model_id: i64,
) -> Result<(Vec<Profile>, Vec<Profile>), LibraryError> {
    let (mut trained, mut enrolled) = (Vec::new(), Vec::new());
    for s in library.singers(model_id)? {
        let Some(embedding) = s.profile.filter(|p| !p.is_empty()) else {
            continue;
        };
        let profile = Profile {
            name: s.name,
            embedding,
        };
        if s.kind == "enrolled" {
            enrolled.push(profile);
        } else {
            trained.push(profile);
        }
    }
    Ok((trained, enrolled))
}

/// What [`identify_open`] found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenIdentification {
    /// One result per identified file, in input order.
    pub files: Vec<OpenSetResult>,
    /// Inputs that could not be identified.
    pub failures: Vec<Failure>,
}

/// Identifies `inputs` choosing among the model's singers and those enrolled in `library`
/// (read only: nothing is written). `on_chunk` streams results as they are decided.
///
/// # Errors
/// A database error.
pub fn identify_open(
    library: &mut Library,
    bundle: &Bundle,
    model_dir: &Path,
    inputs: &[PathBuf],
    options: &IdentifyOptions,
    progress: &dyn Progress,
    on_chunk: &mut dyn FnMut(&[OpenSetResult]),
) -> Result<OpenIdentification, LibraryError> {
    let model = library.register_model(bundle, model_dir)?;
    let (trained, enrolled) = profiles(library, model.id)?;
    let threshold = library.enrol_threshold(model.id)?;
    let by_profiles = singerid_infer::is_embedding_model(bundle);
    let mut out = OpenIdentification::default();
    // The decided results are collected here; identify need not keep its own copies.
    let inner = IdentifyOptions {
        keep_files: false,
        ..*options
    };
    let found = singerid_infer::identify(bundle, inputs, &inner, progress, &mut |chunk| {
        let decided: Vec<OpenSetResult> = chunk
            .iter()
            .cloned()
            .map(|f: FileResult| {
                decide(
                    f,
                    &trained,
                    &enrolled,
                    threshold,
                    options.top_k,
                    by_profiles,
                )
            })
            .collect();
        on_chunk(&decided);
        out.files.extend(decided);
    });
    out.failures = found.failures;
    Ok(out)
}
