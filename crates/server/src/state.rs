//! [`App`]: what every request shares.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use singerid_infer::{Bundle, IdentifyOptions};
use singerid_library::Library;
use singerid_library::db::ModelRow;

use crate::config::{Limits, ServerConfig};
use crate::error::{ApiError, ServerError};
use crate::slots::Slots;

/// The server's shared state: the model (loaded once), the database path and the limits.
#[derive(Debug)]
pub struct App {
    /// The model.
    pub bundle: Bundle,
    /// Its folder (the library keys rows by the folder's fingerprint).
    pub model_dir: PathBuf,
    /// The model's row in the database.
    pub model: ModelRow,
    /// The library database.
    pub db: PathBuf,
    /// Where enrolment uploads are kept (the library refers to recordings by path).
    pub uploads: PathBuf,
    /// The limits.
    pub limits: Limits,
    /// The inference slots.
    pub slots: Arc<Slots>,
    /// How identification runs.
    pub options: IdentifyOptions,
    /// The page's self-test file, if any.
    pub self_test_file: Option<PathBuf>,
}

impl App {
    /// Loads the model, opens the database (creating it) and registers the model in it.
    ///
    /// # Errors
    /// Invalid limits, an unloadable model, an unopenable database or uploads folder.
    pub fn load(config: &ServerConfig) -> Result<Arc<Self>, ServerError> {
        config.limits.validate()?;
        let bundle = singerid_infer::load_model(&config.model, config.device).map_err(|e| {
            ServerError::Model {
                path: config.model.clone(),
                source: e,
            }
        })?;
        // A tagger's classes are tags: the library and the page would show them as singers.
        if singerid_infer::is_tagging_model(&bundle) {
            return Err(ServerError::Model {
                path: config.model.clone(),
                source: singerid_infer::Error::TaggingModel(config.model.clone()),
            });
        }
        let mut library = Library::open(&config.db)?;
        let model = library.register_model(&bundle, &config.model)?;
        let uploads = uploads_dir(&config.db);
        std::fs::create_dir_all(&uploads).map_err(|e| ServerError::Io {
            what: format!("creating the uploads folder {}", uploads.display()),
            source: e,
        })?;
        Ok(Arc::new(Self {
            bundle,
            model_dir: config.model.clone(),
            model,
            db: config.db.clone(),
            uploads,
            limits: config.limits,
            slots: Slots::new(&config.limits),
            options: IdentifyOptions::default(),
            self_test_file: config.self_test_file.clone(),
        }))
    }

    /// A connection to the library, for one request (rusqlite connections are not `Sync`;
    /// opening one is cheap and WAL lets readers and one writer work at once).
    ///
    /// # Errors
    /// 500 when the database cannot be opened.
    pub fn library(&self) -> Result<Library, ApiError> {
        Library::open(&self.db).map_err(|e| ApiError::internal(e.to_string()))
    }
}

/// The folder beside the database that keeps enrolment uploads: `<db without extension>.uploads`.
pub fn uploads_dir(db: &Path) -> PathBuf {
    db.with_extension("uploads")
}
