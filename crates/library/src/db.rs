//! The database file: opening it, its schema and migrations, and the rows every command shares
//! (models, recordings, analyses, singers, settings).
//!
//! The schema version is SQLite's `user_version`; [`MIGRATIONS`] holds one SQL script per
//! version, applied in order inside one transaction each, so a database written by an older
//! singerid is brought up to date when it is opened, and a newer one is refused.
//!
//! Rows are keyed by the model that produced them: embeddings of different models live in
//! different spaces, so a singer enrolled with one model is only compared with files analysed
//! by the same model (its fingerprint, [`ModelFingerprint`]).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use singerid_infer::FileResult;
use singerid_train::Bundle;

use crate::error::LibraryError;
use crate::open_set::OpenSetCalibration;

/// One SQL script per schema version: `MIGRATIONS[i]` takes a database from version `i` to
/// `i + 1`.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        classes TEXT NOT NULL,
        added_at INTEGER NOT NULL
    );
    CREATE TABLE recordings (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        modified_ns INTEGER NOT NULL,
        duration_s REAL
    );
    CREATE INDEX recordings_by_hash ON recordings(content_hash);
    CREATE TABLE analyses (
        recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        singer TEXT NOT NULL,
        best_guess TEXT NOT NULL,
        confidence REAL NOT NULL,
        result_json TEXT NOT NULL,
        embedding BLOB NOT NULL,
        analysed_at INTEGER NOT NULL,
        PRIMARY KEY (recording_id, model_id)
    );
    CREATE TABLE clips (
        recording_id INTEGER NOT NULL,
        model_id INTEGER NOT NULL,
        clip_index INTEGER NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        singer TEXT NOT NULL,
        probability REAL NOT NULL,
        embedding BLOB NOT NULL,
        PRIMARY KEY (recording_id, model_id, clip_index),
        FOREIGN KEY (recording_id, model_id) REFERENCES analyses(recording_id, model_id)
            ON DELETE CASCADE
    );
    CREATE TABLE singers (
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('trained', 'enrolled')),
        profile BLOB,
        created_at INTEGER NOT NULL,
        UNIQUE (model_id, name)
    );
    CREATE TABLE enrolments (
        singer_id INTEGER NOT NULL REFERENCES singers(id) ON DELETE CASCADE,
        recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
        PRIMARY KEY (singer_id, recording_id)
    );
    CREATE TABLE settings (
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (model_id, key)
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The settings key of a model's enrolment threshold (cosine similarity).
pub const ENROL_THRESHOLD: &str = "enrol_threshold";

/// The library database.
#[derive(Debug)]
pub struct Library {
    conn: Connection,
    path: PathBuf,
}

/// A model as the database knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    /// Row id.
    pub id: i64,
    /// The model folder's fingerprint ([`ModelFingerprint`]).
    pub fingerprint: String,
    /// The folder's name.
    pub name: String,
}

/// A stored analysis of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRow {
    /// The recording's row id.
    pub recording_id: i64,
    /// Its path.
    pub path: PathBuf,
    /// The singer the scan named (or `unknown`).
    pub singer: String,
    /// Its confidence.
    pub confidence: f32,
    /// Seconds of audio.
    pub duration_s: f64,
    /// The recording's embedding (mean over clips).
    pub embedding: Vec<f32>,
}

/// A singer: one of the model's classes, or enrolled.
#[derive(Debug, Clone, PartialEq)]
pub struct SingerRow {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `trained` or `enrolled`.
    pub kind: String,
    /// The profile (unit length): enrolled singers', and trained singers' from the model's
    /// calibration; None otherwise.
    pub profile: Option<Vec<f32>>,
    /// Recordings enrolled for it.
    pub recordings: usize,
}

/// The singers of a model as `singerid singers` and `GET /api/singers` show them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SingerListing {
    /// The model's folder name.
    pub model: String,
    /// Its enrolment threshold (None: enrolled singers are listed but never chosen).
    pub enrol_threshold: Option<f32>,
    /// Trained singers, then enrolled ones, by name.
    pub singers: Vec<ListedSinger>,
}

/// One singer of a [`SingerListing`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ListedSinger {
    /// The name.
    pub name: String,
    /// `trained` or `enrolled`.
    pub kind: String,
    /// Recordings enrolled for it.
    pub enrolled_recordings: usize,
}

/// What identifies a model folder: a BLAKE3 hash over its weight and config files (and its
/// separator's), so that retraining into the same folder counts as a new model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFingerprint(pub String);

impl ModelFingerprint {
    /// Hashes every file of `dir` and of `dir/separator` except the model card (`README.md`)
    /// and `open_set.json`, in name order.
    ///
    /// # Errors
    /// An unreadable folder or file.
    pub fn of(dir: &Path) -> Result<Self, LibraryError> {
        let mut hasher = blake3::Hasher::new();
        for folder in [dir.to_path_buf(), dir.join("separator")] {
            if !folder.is_dir() {
                continue;
            }
            let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
                .map_err(|e| LibraryError::io(&folder, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    !matches!(
                        p.file_name().and_then(|n| n.to_str()),
                        Some("README.md" | "open_set.json")
                    )
                })
                .collect();
            files.sort();
            for file in files {
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                hasher.update(name.as_bytes());
                hasher.update(&std::fs::read(&file).map_err(|e| LibraryError::io(&file, e))?);
            }
        }
        Ok(Self(hasher.finalize().to_hex().to_string()))
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An embedding as a little-endian f32 blob.
pub(crate) fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`to_blob`].
pub(crate) fn from_blob(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

impl Library {
    /// Opens (creating it and its folder if needed) the database at `path` and brings its
    /// schema up to date.
    ///
    /// # Errors
    /// An uncreatable folder, a file that is not a singerid database, or one written by a newer
    /// singerid.
    pub fn open(path: &Path) -> Result<Self, LibraryError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| LibraryError::io(parent, e))?;
        }
        let conn = Connection::open(path).map_err(|e| LibraryError::sql(path, e))?;
        let mut library = Self {
            conn,
            path: path.to_path_buf(),
        };
        library.configure()?;
        library.migrate()?;
        Ok(library)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> Result<(), LibraryError> {
        // WAL: readers (the server) never block on a scan's writes; a crash loses at most the
        // transaction in flight.
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
            )
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), LibraryError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if version > SCHEMA_VERSION {
            return Err(LibraryError::TooNew {
                path: self.path.clone(),
                version,
                supported: SCHEMA_VERSION,
            });
        }
        for (i, script) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let path = self.path.clone();
            let tx = self
                .conn
                .transaction()
                .map_err(|e| LibraryError::sql(&path, e))?;
            tx.execute_batch(script)
                .and_then(|()| tx.pragma_update(None, "user_version", i as i64 + 1))
                .and_then(|()| tx.commit())
                .map_err(|e| LibraryError::sql(&path, e))?;
        }
        Ok(())
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> LibraryError {
        LibraryError::sql(&self.path, e)
    }

    /// A write transaction.
    pub(crate) fn transaction(&mut self) -> Result<Transaction<'_>, LibraryError> {
        let path = self.path.clone();
        self.conn
            .transaction()
            .map_err(|e| LibraryError::sql(&path, e))
    }

    /// The model's row, added (with its classes as trained singers, and the enrolment threshold
    /// of its `open_set.json` when it has one) the first time it is seen.
    ///
    /// # Errors
    /// An unreadable model folder or a database error.
    pub fn register_model(
        &mut self,
        bundle: &Bundle,
        model_dir: &Path,
    ) -> Result<ModelRow, LibraryError> {
        let fingerprint = ModelFingerprint::of(model_dir)?.0;
        if let Some(row) = self.model_by_fingerprint(&fingerprint)? {
            return Ok(row);
        }
        let name = model_dir
            .canonicalize()
            .unwrap_or_else(|_| model_dir.to_path_buf())
            .file_name()
            .map_or_else(|| "model".to_owned(), |n| n.to_string_lossy().into_owned());
        let threshold = OpenSetCalibration::read(model_dir)?;
        let classes = serde_json::to_string(&bundle.meta.classes).unwrap_or_default();
        let kind = bundle.model.name();
        let path = self.path.clone();
        let tx = self.transaction()?;
        let id = (|| {
            tx.execute(
                "INSERT INTO models (fingerprint, name, path, kind, classes, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    fingerprint,
                    name,
                    model_dir.display().to_string(),
                    kind,
                    classes,
                    now()
                ],
            )?;
            let id = tx.last_insert_rowid();
            for class in &bundle.meta.classes {
                tx.execute(
                    "INSERT INTO singers (model_id, name, kind, created_at)
                     VALUES (?1, ?2, 'trained', ?3)",
                    params![id, class, now()],
                )?;
            }
            if let Some(calibration) = &threshold {
                write_calibration(&tx, id, calibration)?;
            }
            tx.commit()?;
            Ok(id)
        })()
        .map_err(|e| LibraryError::sql(&path, e))?;
        Ok(ModelRow {
            id,
            fingerprint,
            name,
        })
    }

    /// The model with this fingerprint, if the database has it.
    ///
    /// # Errors
    /// A database error.
    pub fn model_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> Result<Option<ModelRow>, LibraryError> {
        self.conn
            .query_row(
                "SELECT id, fingerprint, name FROM models WHERE fingerprint = ?1",
                [fingerprint],
                |r| {
                    Ok(ModelRow {
                        id: r.get(0)?,
                        fingerprint: r.get(1)?,
                        name: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// A model setting.
    ///
    /// # Errors
    /// A database error.
    pub fn setting(&self, model_id: i64, key: &str) -> Result<Option<String>, LibraryError> {
        self.conn
            .query_row(
                "SELECT value FROM settings WHERE model_id = ?1 AND key = ?2",
                params![model_id, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Sets a model setting.
    ///
    /// # Errors
    /// A database error.
    pub fn set_setting(&self, model_id: i64, key: &str, value: &str) -> Result<(), LibraryError> {
        self.conn
            .execute(
                "INSERT INTO settings (model_id, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
                params![model_id, key, value],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Stores a calibration for the model: its enrolment threshold and its trained singers'
    /// profiles.
    ///
    /// # Errors
    /// A database error.
    pub fn store_calibration(
        &mut self,
        model_id: i64,
        calibration: &OpenSetCalibration,
    ) -> Result<(), LibraryError> {
        let path = self.path.clone();
        let tx = self.transaction()?;
        write_calibration(&tx, model_id, calibration)
            .and_then(|()| tx.commit())
            .map_err(|e| LibraryError::sql(&path, e))
    }

    /// The model's enrolment threshold (cosine similarity), if calibrated.
    ///
    /// # Errors
    /// A database error or a stored value that is not a number.
    pub fn enrol_threshold(&self, model_id: i64) -> Result<Option<f32>, LibraryError> {
        match self.setting(model_id, ENROL_THRESHOLD)? {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                LibraryError::Invalid(format!(
                    "the stored {ENROL_THRESHOLD} {v:?} of model {model_id} is not a number"
                ))
            }),
        }
    }

    /// The stored recording at `path`: (id, content hash, size, modified ns).
    pub(crate) fn recording_by_path(
        &self,
        path: &Path,
    ) -> Result<Option<(i64, String, i64, i64)>, LibraryError> {
        self.conn
            .query_row(
                "SELECT id, content_hash, size_bytes, modified_ns FROM recordings WHERE path = ?1",
                [path.display().to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Whether the recording has an analysis by the model for this content.
    pub(crate) fn analysed(
        &self,
        recording_id: i64,
        model_id: i64,
        content_hash: &str,
    ) -> Result<bool, LibraryError> {
        self.conn
            .query_row(
                "SELECT 1 FROM analyses WHERE recording_id = ?1 AND model_id = ?2
                 AND content_hash = ?3",
                params![recording_id, model_id, content_hash],
                |_| Ok(()),
            )
            .optional()
            .map(|o| o.is_some())
            .map_err(|e| self.err(e))
    }

    /// Records that the file at `path` (unchanged content) now has this size and time.
    pub(crate) fn touch_recording(
        &self,
        id: i64,
        size: i64,
        modified_ns: i64,
    ) -> Result<(), LibraryError> {
        self.conn
            .execute(
                "UPDATE recordings SET size_bytes = ?2, modified_ns = ?3 WHERE id = ?1",
                params![id, size, modified_ns],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Every analysis by the model, in recording order.
    ///
    /// # Errors
    /// A database error.
    pub fn analyses(&self, model_id: i64) -> Result<Vec<AnalysisRow>, LibraryError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.path, a.singer, a.confidence, COALESCE(r.duration_s, 0), a.embedding
                 FROM analyses a JOIN recordings r ON r.id = a.recording_id
                 WHERE a.model_id = ?1 ORDER BY r.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([model_id], |r| {
                Ok(AnalysisRow {
                    recording_id: r.get(0)?,
                    path: PathBuf::from(r.get::<_, String>(1)?),
                    singer: r.get(2)?,
                    confidence: r.get(3)?,
                    duration_s: r.get(4)?,
                    embedding: from_blob(&r.get::<_, Vec<u8>>(5)?),
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Every singer of the model: its classes, then the enrolled ones, by name.
    ///
    /// # Errors
    /// A database error.
    pub fn singers(&self, model_id: i64) -> Result<Vec<SingerRow>, LibraryError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.name, s.kind, s.profile,
                        (SELECT COUNT(*) FROM enrolments e WHERE e.singer_id = s.id)
                 FROM singers s WHERE s.model_id = ?1 ORDER BY s.kind DESC, s.name",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_map([model_id], |r| {
            Ok(SingerRow {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                profile: r.get::<_, Option<Vec<u8>>>(3)?.map(|b| from_blob(&b)),
                recordings: r.get::<_, i64>(4)? as usize,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| self.err(e))
    }

    /// The model's singers and enrolment threshold.
    ///
    /// # Errors
    /// A database error.
    pub fn listing(&self, model: &ModelRow) -> Result<SingerListing, LibraryError> {
        Ok(SingerListing {
            model: model.name.clone(),
            enrol_threshold: self.enrol_threshold(model.id)?,
            singers: self
                .singers(model.id)?
                .into_iter()
                .map(|s| ListedSinger {
                    name: s.name,
                    kind: s.kind,
                    enrolled_recordings: s.recordings,
                })
                .collect(),
        })
    }

    /// Counts of the database's rows, for summaries: (recordings, analyses by the model,
    /// enrolled singers of the model).
    ///
    /// # Errors
    /// A database error.
    pub fn counts(&self, model_id: i64) -> Result<(usize, usize, usize), LibraryError> {
        let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<usize, LibraryError> {
            self.conn
                .query_row(sql, p, |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(|e| self.err(e))
        };
        Ok((
            count("SELECT COUNT(*) FROM recordings", &[])?,
            count(
                "SELECT COUNT(*) FROM analyses WHERE model_id = ?1",
                &[&model_id],
            )?,
            count(
                "SELECT COUNT(*) FROM singers WHERE model_id = ?1 AND kind = 'enrolled'",
                &[&model_id],
            )?,
        ))
    }
}

/// Writes the threshold and the trained singers' profiles of a calibration, inside `tx`.
fn write_calibration(
    tx: &Transaction<'_>,
    model_id: i64,
    calibration: &OpenSetCalibration,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO settings (model_id, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
        params![model_id, ENROL_THRESHOLD, calibration.threshold.to_string()],
    )?;
    for (name, profile) in &calibration.profiles {
        tx.execute(
            "UPDATE singers SET profile = ?3 WHERE model_id = ?1 AND name = ?2 AND kind = 'trained'",
            params![model_id, name, to_blob(profile)],
        )?;
    }
    Ok(())
}

/// Stores one file's analysis (the recording row, the analysis, its clips), replacing an older
/// one, inside `tx`. Returns the recording's id.
pub(crate) fn store_analysis(
    tx: &Transaction<'_>,
    model_id: i64,
    file: &FileResult,
    content_hash: &str,
    size: i64,
    modified_ns: i64,
) -> rusqlite::Result<i64> {
    let path = file.path.display().to_string();
    tx.execute(
        "INSERT INTO recordings (path, content_hash, size_bytes, modified_ns, duration_s)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (path) DO UPDATE SET content_hash = excluded.content_hash,
             size_bytes = excluded.size_bytes, modified_ns = excluded.modified_ns,
             duration_s = excluded.duration_s",
        params![path, content_hash, size, modified_ns, file.duration_s],
    )?;
    let recording_id: i64 =
        tx.query_row("SELECT id FROM recordings WHERE path = ?1", [&path], |r| {
            r.get(0)
        })?;
    tx.execute(
        "DELETE FROM analyses WHERE recording_id = ?1 AND model_id = ?2",
        params![recording_id, model_id],
    )?;
    tx.execute(
        "INSERT INTO analyses (recording_id, model_id, content_hash, singer, best_guess,
             confidence, result_json, embedding, analysed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            recording_id,
            model_id,
            content_hash,
            file.singer,
            file.best_guess,
            file.confidence,
            serde_json::to_string(file).unwrap_or_default(),
            to_blob(&file.embedding),
            now()
        ],
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO clips (recording_id, model_id, clip_index, start_s, end_s, singer,
             probability, embedding) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for clip in &file.clips {
        insert.execute(params![
            recording_id,
            model_id,
            clip.index as i64,
            clip.start_s,
            clip.end_s,
            clip.singer,
            clip.probability,
            to_blob(&clip.embedding)
        ])?;
    }
    Ok(recording_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip() {
        let v = [0.0_f32, -1.5, 3.25e-7, f32::MAX];
        assert_eq!(from_blob(&to_blob(&v)), v);
    }

    /// A new file gets the current schema; opening it again applies nothing; a file from a
    /// newer singerid is refused, and a file that is not a database says so.
    #[test]
    fn schema_is_versioned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/library.sqlite");
        let lib = Library::open(&path).expect("create");
        let version: i64 = lib
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        drop(lib);
        Library::open(&path).expect("reopen");
        let conn = Connection::open(&path).expect("raw");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("bump");
        drop(conn);
        let err = Library::open(&path).expect_err("too new");
        assert!(err.to_string().contains("newer"), "{err}");
        let junk = dir.path().join("junk.sqlite");
        std::fs::write(&junk, vec![b'x'; 4096]).expect("junk");
        let err = Library::open(&junk).expect_err("not a database");
        assert!(err.to_string().contains("not a singerid library"), "{err}");
    }
}
