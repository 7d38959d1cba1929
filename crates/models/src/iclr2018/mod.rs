//! The ICLR-2018 singer-identification models (Anonymous, "Learning audio features for singer
//! identification and embedding", ICLR 2018 submission): CNN and ResNeXt front ends, a global
//! time aggregation ([`crate::aggregation`]) and a dense head, on the `iclr2018` feature preset
//! (22.05 kHz, 96 mels, hop 512, 256-frame clips).
//!
//! - [`network`]: the Fig. 1 builder [`Iclr2018Config`] / [`Iclr2018Net`] (stages, pools,
//!   reshape, aggregation, dense layers);
//! - [`cnn`]: the vanilla block and the presets `iclr_cnn`, `iclr_cnn_deep`;
//! - [`resnext`]: the grouped bottleneck block and the presets `iclr_resnext`,
//!   `iclr_resnext_deep`, and Table 2's siamese twin `iclr_resnext_siamese` (16-d linear
//!   embedding output);
//! - [`conv_unit`]: `Conv -> ReLU -> BN`, the paper's convolution.

pub mod cnn;
pub mod conv_unit;
pub mod network;
pub mod resnext;

pub use network::{Block, Iclr2018Config, Iclr2018Kind, Iclr2018Net, Stage};
