//! [`Split`]: the side of the train / validation / test split an item lies on, and the typed
//! value of a manifest's `split` column.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// Which side of the train / validation / test split an item lies on.
///
/// Serialised as `train`, `val` and `test`; `validation` is read as [`Split::Val`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training data.
    Train,
    /// Validation data (model selection, early stopping).
    #[serde(alias = "validation")]
    Val,
    /// Held-out test data.
    Test,
}

impl Split {
    /// The canonical name: `"train"`, `"val"` or `"test"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Val => "val",
            Self::Test => "test",
        }
    }

    /// Parses the `split` column of a manifest.
    ///
    /// Accepts `train`, `val`, `validation` and `test`, ignoring ASCII case and
    /// surrounding whitespace.
    ///
    /// # Errors
    ///
    /// [`DataError::UnknownSplit`] for any other value, the empty string included.
    pub fn parse_column(value: &str) -> Result<Self, DataError> {
        let name = value.trim();
        [
            ("train", Self::Train),
            ("val", Self::Val),
            ("validation", Self::Val),
            ("test", Self::Test),
        ]
        .into_iter()
        .find(|(known, _)| name.eq_ignore_ascii_case(known))
        .map(|(_, split)| split)
        .ok_or_else(|| DataError::UnknownSplit {
            value: value.to_owned(),
        })
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Split {
    type Err = DataError;

    /// Same as [`Split::parse_column`].
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse_column(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_column_parses_known_names_and_rejects_others() {
        for (text, want) in [
            ("train", Split::Train),
            ("val", Split::Val),
            ("validation", Split::Val),
            ("test", Split::Test),
            (" Test ", Split::Test),
            ("VALIDATION", Split::Val),
        ] {
            assert_eq!(text.parse::<Split>().expect(text), want);
        }
        for bad in ["", "dev", "training", "tst", "valid"] {
            let err = Split::parse_column(bad).expect_err(bad);
            assert!(matches!(err, DataError::UnknownSplit { .. }), "{bad}");
        }
    }

    #[test]
    fn split_serde_uses_snake_case_and_reads_validation() {
        assert_eq!(
            serde_json::to_string(&Split::Val).expect("json"),
            r#""val""#
        );
        let parsed: Split = serde_json::from_str(r#""validation""#).expect("alias");
        assert_eq!(parsed, Split::Val);
        assert!(serde_json::from_str::<Split>(r#""dev""#).is_err());
        assert_eq!(Split::Train.to_string(), "train");
    }
}
