//! Uploads: the `file` fields of a multipart request -> temporary files with the original
//! extension (the decoder's hint, and what the library's file search looks for) -> a probe
//! that decodes them once to check they are audio and not too long.
//!
//! Every answer, errors included, is sent after the request body was read to its end (up to
//! [`DRAIN_EXTRA_BYTES`] beyond the limit, discarded): a server that answers and closes while
//! the client is still sending makes the client's TCP stack see a reset instead of the answer.
//! Only a body whose declared length is beyond that is refused unread.

use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, header};
use singerid_audio::AudioError;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;

use crate::config::{Limits, MIB};
use crate::error::ApiError;

/// Bytes read and discarded after a request is known to be refused, so that the client sees
/// the answer (see the module doc).
pub const DRAIN_EXTRA_BYTES: u64 = 32 * MIB;

/// Allowance for the multipart framing (boundaries, part headers) around the files.
pub const MULTIPART_OVERHEAD_BYTES: u64 = 64 * 1024;

/// The longest an upload may take to arrive; a slower client is answered 408, so it cannot
/// hold a queue place for ever.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// The multipart field that carries a file.
pub const FILE_FIELD: &str = "file";

/// One uploaded file, in a temporary file (deleted when this is dropped).
#[derive(Debug)]
pub struct Upload {
    /// The file's name as the client sent it (its last path component), for answers.
    pub name: String,
    /// The temporary file, named with the original extension.
    pub file: NamedTempFile,
    /// Its size.
    pub bytes: u64,
}

impl Upload {
    /// The temporary file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// `text` with the temporary path replaced by the upload's name (decoder messages name the
    /// file they read).
    pub fn in_words(&self, text: &str) -> String {
        text.replace(&self.path().display().to_string(), &self.name)
    }

    /// Decodes the file once, without keeping the samples, to check that it is audio no longer
    /// than `max_seconds`. Returns its length in seconds.
    ///
    /// # Errors
    /// 415 with the decoder's reason when it is not (complete) audio; 413 when it is longer than
    /// `max_seconds` (decoding stops there); 500 when the file cannot be read.
    pub fn probe(&self, max_seconds: f64) -> Result<f64, ApiError> {
        let mut frames: u64 = 0;
        let mut too_long = false;
        let decoded = singerid_audio::decode::decode_stream(self.path(), |planes, rate_hz| {
            frames += planes.first().map_or(0, Vec::len) as u64;
            if rate_hz > 0 && frames as f64 / f64::from(rate_hz) > max_seconds {
                too_long = true;
                return Err(AudioError::Decode {
                    path: self.path().to_path_buf(),
                    reason: "longer than the limit".into(),
                });
            }
            Ok(())
        });
        match decoded {
            _ if too_long => Err(ApiError::too_large(format!(
                "{}: longer than {max_seconds} s, the longest audio this server accepts \
                 (--max-seconds)",
                self.name
            ))),
            Ok(rate_hz) if rate_hz > 0 => Ok(frames as f64 / f64::from(rate_hz)),
            Ok(_) => Err(ApiError::unsupported(format!(
                "{}: the stream has no sample rate",
                self.name
            ))),
            Err(e @ AudioError::Io { .. }) => {
                Err(ApiError::internal(self.in_words(&e.to_string())))
            }
            Err(e) => Err(ApiError::unsupported(self.in_words(&e.to_string()))),
        }
    }
}

/// Receives the `file` fields of a multipart request (at most `max_files`, together at most
/// `limits.max_upload_bytes`) into temporary files in `dir`. Other fields are ignored.
///
/// # Errors
/// 413 for too many bytes; 415 for a body that is not multipart or a file whose name and type
/// are not audio; 400 for a malformed body, too many files or none; 408 when the upload takes
/// longer than [`UPLOAD_TIMEOUT`].
pub async fn receive(
    request: Request,
    limits: &Limits,
    dir: &Path,
    max_files: usize,
) -> Result<Vec<Upload>, ApiError> {
    tokio::time::timeout(
        UPLOAD_TIMEOUT,
        receive_files(request, limits, dir, max_files),
    )
    .await
    .unwrap_or_else(|_| {
        Err(ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            format!(
                "the upload took longer than {} s; send it again",
                UPLOAD_TIMEOUT.as_secs()
            ),
        ))
    })
}

async fn receive_files(
    request: Request,
    limits: &Limits,
    dir: &Path,
    max_files: usize,
) -> Result<Vec<Upload>, ApiError> {
    let (parts, mut body) = request.into_parts();
    let drain_cap = limits.max_upload_bytes + MULTIPART_OVERHEAD_BYTES + DRAIN_EXTRA_BYTES;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > drain_cap) {
        return Err(too_large(limits));
    }
    match multipart_type(&parts.headers) {
        Some(true) => {}
        Some(false) => {
            drain(&mut body, drain_cap).await;
            return Err(ApiError::bad_request(
                "the multipart/form-data content type has no boundary",
            ));
        }
        None => {
            drain(&mut body, drain_cap).await;
            return Err(ApiError::unsupported(
                "send the audio as multipart/form-data in a field named `file` (curl -F \
                 file=@song.mp3)",
            ));
        }
    }
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), &())
        .await
        .map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut uploads = Vec::new();
    let mut budget = Budget {
        received: 0,
        max: limits.max_upload_bytes,
        drained: 0,
        drain_cap,
    };
    let mut first_error: Option<ApiError> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                first_error.get_or_insert_with(|| {
                    ApiError::bad_request(format!("malformed multipart body: {e}"))
                });
                break;
            }
        };
        let wanted = first_error.is_none() && field.name() == Some(FILE_FIELD);
        if wanted && uploads.len() == max_files {
            first_error = Some(ApiError::bad_request(format!(
                "at most {max_files} files per request"
            )));
        }
        if first_error.is_some() || !wanted {
            if !budget.discard(&mut field).await {
                break;
            }
            continue;
        }
        match save(&mut field, dir, &mut budget, limits).await {
            Ok(upload) => uploads.push(upload),
            Err(e) => {
                first_error = Some(e);
                if !budget.discard(&mut field).await {
                    break;
                }
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if uploads.is_empty() {
        return Err(ApiError::bad_request(
            "no file: send the audio in a multipart field named `file` (curl -F \
             file=@song.mp3)",
        ));
    }
    Ok(uploads)
}

/// Bytes received and discarded so far, against their limits.
struct Budget {
    received: u64,
    max: u64,
    drained: u64,
    drain_cap: u64,
}

impl Budget {
    /// Reads the rest of `field` and throws it away; false when the drain cap was reached or the
    /// body failed (stop reading: the connection is closed after the answer).
    async fn discard(&mut self, field: &mut Field<'_>) -> bool {
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    self.drained += chunk.len() as u64;
                    if self.drained > self.drain_cap {
                        return false;
                    }
                }
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }
}

/// Streams one field into a temporary file, counting its bytes against the budget.
async fn save(
    field: &mut Field<'_>,
    dir: &Path,
    budget: &mut Budget,
    limits: &Limits,
) -> Result<Upload, ApiError> {
    let name = field
        .file_name()
        .map(base_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "upload".to_owned());
    let Some(extension) = audio_extension(&name, field.content_type()) else {
        return Err(ApiError::unsupported(format!(
            "{name} is not an audio file: its name does not end in {} and its type ({}) is not \
             an audio type",
            singerid_data::AUDIO_EXTENSIONS
                .iter()
                .map(|e| format!(".{e}"))
                .collect::<Vec<_>>()
                .join(", "),
            field.content_type().unwrap_or("none given")
        )));
    };
    let file = tempfile::Builder::new()
        .prefix("upload-")
        .suffix(&format!(".{extension}"))
        .tempfile_in(dir)
        .map_err(|e| ApiError::internal(format!("creating a temporary file: {e}")))?;
    let writer = file
        .as_file()
        .try_clone()
        .map_err(|e| ApiError::internal(format!("opening the temporary file: {e}")))?;
    let mut writer = tokio::fs::File::from_std(writer);
    let mut bytes = 0_u64;
    loop {
        let chunk = match field.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "{name}: the upload broke off: {e}"
                )));
            }
        };
        bytes += chunk.len() as u64;
        budget.received += chunk.len() as u64;
        if budget.received > budget.max {
            return Err(too_large(limits));
        }
        writer
            .write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal(format!("writing the temporary file: {e}")))?;
    }
    writer
        .flush()
        .await
        .map_err(|e| ApiError::internal(format!("writing the temporary file: {e}")))?;
    Ok(Upload { name, file, bytes })
}

fn too_large(limits: &Limits) -> ApiError {
    ApiError::too_large(format!(
        "the upload is larger than {:.0} MiB, the most this server accepts (--max-upload-mb)",
        limits.max_upload_bytes as f64 / MIB as f64
    ))
}

/// Whether the request says it is `multipart/form-data` (None: it does not), and whether that
/// type names its boundary.
fn multipart_type(headers: &HeaderMap) -> Option<bool> {
    let value = headers
        .get(header::CONTENT_TYPE)?
        .to_str()
        .ok()?
        .trim_start()
        .to_ascii_lowercase();
    value
        .starts_with("multipart/form-data")
        .then(|| value.contains("boundary="))
}

/// Reads and discards up to `cap` bytes of a body.
async fn drain(body: &mut Body, cap: u64) {
    let mut read = 0_u64;
    while read <= cap {
        match std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
            Some(Err(_)) | None => return,
        }
    }
}

/// The last component of a client's file name, without control characters, at most 200
/// characters.
fn base_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// The extension to save a file under: its own when it is an audio extension, else one for
/// its declared audio type; None when neither says audio.
fn audio_extension(name: &str, content_type: Option<&str>) -> Option<String> {
    let own = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .filter(|e| singerid_data::AUDIO_EXTENSIONS.contains(&e.as_str()));
    own.or_else(|| {
        let mime = content_type?.split(';').next()?.trim().to_ascii_lowercase();
        let extension = match mime.as_str() {
            "audio/mpeg" | "audio/mp3" => "mp3",
            "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => "wav",
            "audio/flac" | "audio/x-flac" => "flac",
            "audio/ogg" | "application/ogg" => "ogg",
            "audio/mp4" | "audio/x-m4a" | "audio/m4a" => "m4a",
            "audio/aac" | "audio/x-aac" => "aac",
            _ => return None,
        };
        Some(extension.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_comes_from_the_name_then_the_type() {
        assert_eq!(audio_extension("Song.MP3", None).as_deref(), Some("mp3"));
        assert_eq!(
            audio_extension("song", Some("audio/x-wav; charset=binary")).as_deref(),
            Some("wav")
        );
        assert_eq!(
            audio_extension("notes.txt", Some("audio/flac")).as_deref(),
            Some("flac")
        );
        assert_eq!(audio_extension("notes.txt", Some("text/plain")), None);
        assert_eq!(audio_extension("notes", None), None);
    }

    #[test]
    fn client_file_names_lose_their_folders_and_control_characters() {
        assert_eq!(base_name("C:\\music\\a.mp3"), "a.mp3");
        assert_eq!(base_name("../../etc/passwd"), "passwd");
        assert_eq!(base_name("a\u{0}b\n.wav"), "ab.wav");
        assert_eq!(base_name(&"x".repeat(500)).len(), 200);
    }
}
