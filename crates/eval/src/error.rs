//! The error type of `singerid-eval`.

/// Errors from scoring, reports and plots.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two inputs that must pair up one to one have different lengths.
    #[error("{what}: {left} vs {right} entries; they must pair up one to one")]
    LengthMismatch {
        /// Which inputs, e.g. `"y_true vs y_pred"`.
        what: &'static str,
        /// Length of the first.
        left: usize,
        /// Length of the second.
        right: usize,
    },
    /// A class index at or above the number of classes.
    #[error(
        "{which} holds class {label} at position {position}, but there are only {n_classes} classes"
    )]
    LabelOutOfRange {
        /// `"y_true"` or `"y_pred"`.
        which: &'static str,
        /// The offending label.
        label: usize,
        /// Its index in the input.
        position: usize,
        /// The number of classes.
        n_classes: usize,
    },
    /// Zero classes.
    #[error("the number of classes must be at least 1")]
    NoClasses,
    /// Nothing to evaluate.
    #[error("no samples to evaluate: the label lists are empty")]
    NoSamples,
    /// A score that is NaN or infinite (scikit-learn rejects those too).
    #[error("{what} holds a non-finite value ({value}) at position {position}")]
    NonFinite {
        /// Which input, e.g. `"scores"`.
        what: &'static str,
        /// The value.
        value: f64,
        /// Its index in the input.
        position: usize,
    },
    /// A ranking score (ROC, AUC, EER) over labels of one class only: undefined.
    #[error(
        "{what}: only one class present ({positives} positive of {samples} samples); ROC AUC \
         and EER need both positives and negatives"
    )]
    SingleClass {
        /// Which labels, e.g. `"tag 3"` or `"pairs"`.
        what: String,
        /// Positive labels.
        positives: usize,
        /// All labels.
        samples: usize,
    },
    /// An embedding whose norm is zero, so its cosine similarity is undefined.
    #[error("{which} embedding {position} has norm 0; cosine similarity is undefined for it")]
    ZeroNorm {
        /// Which set, e.g. `"query"`.
        which: &'static str,
        /// Its index in that set.
        position: usize,
    },
    /// A parameter outside its valid range.
    #[error("{name}: {message}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The value given and the valid range.
        message: String,
    },
    /// The clips of one song carry different true classes.
    #[error("song {song} has clips labelled with class {first} and with class {second}")]
    ConflictingSongLabels {
        /// The song key, as `Debug` prints it.
        song: String,
        /// The class of its first clip.
        first: usize,
        /// The first different class found.
        second: usize,
    },
    /// A song whose clips carry no usable prediction (every probability row empty or NaN).
    #[error("song {song} has no clip with a usable prediction (empty or NaN probability rows)")]
    NoUsableClip {
        /// The song key, as `Debug` prints it.
        song: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Separation scores that cannot be computed (see [`crate::separation::BssEvalError`]).
    #[error(transparent)]
    Separation(#[from] crate::separation::BssEvalError),
    /// A JSON file could not be parsed or written.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
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
