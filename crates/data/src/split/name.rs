//! [`SplitName`]: the name a manifest's `split` column gives a recording's split.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Split;
use crate::error::DataError;

/// The name of a split as a manifest's `split` column writes it: one of the partition's roles
/// (`train`, `val`, `test`) or any name a user chose (`openset`, `enrol`, ...).
///
/// Normalised on construction: surrounding whitespace is trimmed and the role names, read as
/// [`Split::parse_column`] reads them (ASCII case ignored, `validation` for `val`), take their
/// canonical spelling. Other names are kept as written, case included.
///
/// Serialised as the plain string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SplitName(String);

impl SplitName {
    /// Reads a split name.
    ///
    /// # Errors
    ///
    /// [`DataError::EmptySplitName`] when `value` is empty or only whitespace.
    pub fn new(value: &str) -> Result<Self, DataError> {
        let name = value.trim();
        if name.is_empty() {
            return Err(DataError::EmptySplitName);
        }
        Ok(match Split::parse_column(name) {
            Ok(role) => Self::from(role),
            Err(_) => Self(name.to_owned()),
        })
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The partition role this name stands for, or `None` for any other name.
    pub fn role(&self) -> Option<Split> {
        Split::parse_column(&self.0).ok()
    }
}

impl From<Split> for SplitName {
    fn from(role: Split) -> Self {
        Self(role.as_str().to_owned())
    }
}

impl From<SplitName> for String {
    fn from(name: SplitName) -> Self {
        name.0
    }
}

impl TryFrom<String> for SplitName {
    type Error = DataError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl FromStr for SplitName {
    type Err = DataError;

    /// Same as [`SplitName::new`].
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::new(value)
    }
}

impl Borrow<str> for SplitName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SplitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_canonical_and_other_names_kept() {
        for (text, want, role) in [
            ("train", "train", Some(Split::Train)),
            (" VALIDATION ", "val", Some(Split::Val)),
            ("Test", "test", Some(Split::Test)),
            (" openset", "openset", None),
            ("Enrol", "Enrol", None),
        ] {
            let name = SplitName::new(text).expect(text);
            assert_eq!((name.as_str(), name.role()), (want, role), "{text:?}");
        }
        assert!(matches!(
            SplitName::new("  "),
            Err(DataError::EmptySplitName)
        ));
    }

    #[test]
    fn serde_is_the_plain_normalised_string() {
        let name: SplitName = serde_json::from_str(r#""validation""#).expect("json");
        assert_eq!(name, SplitName::from(Split::Val));
        assert_eq!(serde_json::to_string(&name).expect("json"), r#""val""#);
        assert!(serde_json::from_str::<SplitName>(r#""""#).is_err());
    }
}
