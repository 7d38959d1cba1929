//! Writing a split list as CSV text.

use crate::error::DataError;

pub(super) fn csv_into_string(writer: csv::Writer<Vec<u8>>) -> Result<String, DataError> {
    let bytes = writer
        .into_inner()
        .map_err(|e| DataError::SplitCsv(csv::Error::from(e.into_error())))?;
    // Every field written is a `&str`, so the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
