//! [`ListingOrder`]: the order artists and albums are visited in before the shuffle.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// The order in which artists and albums are visited before the shuffle.
///
/// The generator's stream runs on from one artist to the next, so this order
/// decides every album's side, not just the order of the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingOrder {
    /// By Unicode code point, as Python's `sorted()` and Rust's `str` ordering:
    /// digits, then upper case, then `_`, then lower case.
    #[default]
    CodePoint,
    /// ASCII letters compared as upper case, ties broken by code point:
    /// Python's `sorted(names, key=lambda s: (s.upper(), s))` for ASCII names.
    /// This is the order NTFS stores a folder in, so the order `os.listdir`
    /// returns on Windows (`_` sorts after the letters).
    CaseFolded,
}

impl ListingOrder {
    pub(super) fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Self::CodePoint => a.cmp(b),
            Self::CaseFolded => a
                .chars()
                .map(|c| c.to_ascii_uppercase())
                .cmp(b.chars().map(|c| c.to_ascii_uppercase()))
                .then_with(|| a.cmp(b)),
        }
    }

    pub(super) fn sort(self, names: &mut [&str]) {
        names.sort_by(|a, b| self.compare(a, b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_orders_sort_as_python() {
        // sorted(...) and sorted(..., key=lambda s: (s.upper(), s)) in Python.
        let names = ["B_sides", "Bad", "abc", "Abd", "1999"];
        let mut code_point = names.to_vec();
        ListingOrder::CodePoint.sort(&mut code_point);
        assert_eq!(code_point, ["1999", "Abd", "B_sides", "Bad", "abc"]);
        let mut folded = names.to_vec();
        ListingOrder::CaseFolded.sort(&mut folded);
        assert_eq!(folded, ["1999", "abc", "Abd", "Bad", "B_sides"]);
    }
}
