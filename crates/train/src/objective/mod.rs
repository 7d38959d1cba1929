//! Training objectives beyond the softmax cross-entropy of [`crate::trainer`] (which uses
//! burn's `CrossEntropyLoss`):
//!
//! - [`contrastive`]: the contrastive loss of a siamese embedding (Hadsell et al. 2006; the
//!   squared-distance form of Lee et al. 2018 as an option), fed by [`crate::pairs`];
//! - [`multilabel`]: sigmoid + binary cross-entropy from logits, for multi-label tagging, with
//!   the tag vocabulary and multi-hot targets of a run.

pub mod contrastive;
pub mod multilabel;

pub use contrastive::{ContrastiveForm, ContrastiveLoss, ContrastiveLossConfig};
pub use multilabel::{multi_hot, multilabel_bce_with_logits, tag_vocabulary};
