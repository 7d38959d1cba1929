//! Writing a split list as CSV text.

use super::SplitError;

pub(super) fn csv_into_string(writer: csv::Writer<Vec<u8>>) -> Result<String, SplitError> {
    let bytes = writer
        .into_inner()
        .map_err(|e| SplitError::Csv(csv::Error::from(e.into_error())))?;
    // Every field written is a `&str`, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
