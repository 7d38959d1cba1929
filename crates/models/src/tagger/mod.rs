//! Choi et al.'s music taggers (Choi, Fazekas, Sandler & Cho, "Convolutional recurrent neural
//! networks for music classification", ICASSP 2017, arXiv:1609.04243) on a 96-mel log-mel
//! input, each at the paper's parameter budgets (0.1M, 0.25M, 0.5M, 1M, 3M) chosen by a
//! [`Budget`] config field over one builder per structure. They output logits; the trainer
//! applies a softmax (singers) or a sigmoid (tags).
//!
//! - [`k1c2`]: 1-D kernels over time, fully-connected summary (`choi_k1c2`);
//! - [`k2c2`]: fully 2-D convolutional (`choi_k2c2`);
//! - [`crnn`]: 2-D convolutions and a two-layer GRU (`choi_crnn`);
//! - [`budget`]: the budgets and the shared `Conv -> BN -> ELU` layer.

pub mod budget;
pub mod crnn;
pub mod k1c2;
pub mod k2c2;

pub use budget::Budget;
pub use crnn::{ChoiCrnn, ChoiCrnnConfig};
pub use k1c2::{K1c2, K1c2Config};
pub use k2c2::{K2c2, K2c2Config};
