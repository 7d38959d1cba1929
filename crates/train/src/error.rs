//! The error type of `singerid-train`.

/// Errors from training, checkpoints and trained-model bundles.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file could not be parsed or written.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A training run that cannot start or resume here: another run's folder, a corrupt or
    /// mismatched checkpoint, clip sets that do not fit the run.
    #[error("{path}: {message}")]
    Run {
        /// The run folder or the file in it.
        path: std::path::PathBuf,
        /// What is wrong, and what to do.
        message: String,
    },
    /// A trained-model bundle that cannot be used (wrong format or version, class names that
    /// do not fit the model).
    #[error("{path}: {message}")]
    Bundle {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An experiment that cannot be set up (bad config, empty split, melody model).
    #[error("{message}")]
    Experiment {
        /// What is wrong, and how to fix it.
        message: String,
    },
    /// A melody input that cannot be made (no CREPE model, features that do not fit it, a
    /// signal CREPE cannot take).
    #[error("{0}")]
    Melody(String),
    /// Training pairs that cannot be drawn from the clips given (siamese training).
    #[error("{message}")]
    Pairs {
        /// What is missing, and what to do.
        message: String,
    },
    /// A path given as a model that is not a model folder.
    #[error(
        "{path} {what}; a model is a folder holding model.safetensors, config.json and \
         singerid.json (a training run's best/ folder, or one under models/)"
    )]
    NotAModel {
        /// The path given.
        path: std::path::PathBuf,
        /// What it is instead.
        what: String,
    },
    /// An error from the models crate (checkpoint loading, config validation).
    #[error(transparent)]
    Model(#[from] singerid_models::ModelError),
    /// An error from the data crate (datasets, feature cache, clips).
    #[error(transparent)]
    Data(#[from] singerid_data::DataError),
    /// An error from scoring (validation metrics).
    #[error(transparent)]
    Eval(#[from] singerid_eval::Error),
}

impl Error {
    /// A closure turning an I/O error on `path` into [`Error::Io`], for `map_err`.
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_owned(),
            source,
        }
    }
}
