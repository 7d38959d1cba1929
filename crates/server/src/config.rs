//! What the server is started with: the database, the model, the address, and the limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use singerid_infer::DeviceChoice;

use crate::error::ServerError;

/// Bytes in a mebibyte.
pub const MIB: u64 = 1024 * 1024;

/// How the server is started.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The library database (created with its folder if missing). Enrolment uploads are kept
    /// beside it, in `<db>.uploads/`, because the library refers to its recordings by path.
    pub db: PathBuf,
    /// The model folder (see [`singerid_infer::load_model`]).
    pub model: PathBuf,
    /// Where the model runs.
    pub device: DeviceChoice,
    /// Where to listen; port 0 takes any free port.
    pub addr: SocketAddr,
    /// The limits every request is held to.
    pub limits: Limits,
    /// A file served at `/test/fixture` for the page's self-test (`/?selftest=1`), which
    /// uploads it as a user would. None (the default, and always from the CLI): no such route.
    pub self_test_file: Option<PathBuf>,
}

/// The limits every request is held to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// The largest upload, bytes, for all files of one request together (default 100 MiB).
    /// Larger uploads are answered 413 as soon as they pass it.
    pub max_upload_bytes: u64,
    /// The longest audio accepted, seconds (default 600). Longer files are answered 413.
    pub max_seconds: f64,
    /// Inference jobs (identify, enrol) run at once (default 2, one per core of the reference
    /// machine; each job also uses the rayon pool inside the model).
    pub max_concurrent: usize,
    /// Requests that may wait for an inference slot beyond those running (default 32); more
    /// are answered 503 at once.
    pub max_queue: usize,
    /// How long a request waits for a slot before it is answered 503 (default 60 s).
    pub queue_wait: Duration,
    /// Files in one enrolment request (default 20).
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_upload_bytes: 100 * MIB,
            max_seconds: 600.0,
            max_concurrent: 2,
            max_queue: 32,
            queue_wait: Duration::from_secs(60),
            max_files: 20,
        }
    }
}

impl Limits {
    /// Checks that every limit lets something through.
    ///
    /// # Errors
    /// [`ServerError::Config`] naming the limit.
    pub fn validate(&self) -> Result<(), ServerError> {
        let fail = |what: &str| Err(ServerError::Config(what.to_owned()));
        if self.max_upload_bytes == 0 {
            return fail("the upload limit must be at least 1 byte");
        }
        if !(self.max_seconds.is_finite() && self.max_seconds > 0.0) {
            return fail("the audio length limit must be a positive number of seconds");
        }
        if self.max_concurrent == 0 {
            return fail("at least one inference job must be allowed at once");
        }
        if self.max_files == 0 {
            return fail("an enrolment request must allow at least one file");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_that_let_nothing_through_are_refused() {
        assert!(Limits::default().validate().is_ok());
        for bad in [
            Limits {
                max_upload_bytes: 0,
                ..Limits::default()
            },
            Limits {
                max_seconds: f64::NAN,
                ..Limits::default()
            },
            Limits {
                max_seconds: 0.0,
                ..Limits::default()
            },
            Limits {
                max_concurrent: 0,
                ..Limits::default()
            },
            Limits {
                max_files: 0,
                ..Limits::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
