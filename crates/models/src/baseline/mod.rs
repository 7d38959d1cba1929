//! Non-neural-network-paper baselines the project compares the CRNNs against.

pub mod mel_stats_linear;
