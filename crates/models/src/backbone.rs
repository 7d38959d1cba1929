//! The convolutional front end of every model: per input branch, an input batch-norm over the
//! mel axis and four conv blocks; the branches are joined on channels (mel first).
//!
//! Two pool schedules exist: Nasrullah & Zhao (2019)'s CRNN (`CRNN2D`, pools (2,2), (4,2), (4,2),
//! (4,2), the mel axis collapsing to 1) and the FGNL authors' backbone (Kuo et al., AAAI 2021,
//! Fig. 3: no pooling in block 1, then (2,2) three times, leaving a 16-bin map for the attention).

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::blocks::{ConvBlock, ConvBlockConfig, InputNorm, InputNormConfig};

/// The backbone's hyper-parameters (shared by every branch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackboneConfig {
    /// Mel bins of the input.
    pub mels: usize,
    /// Filters of each conv block.
    pub filters: Vec<usize>,
    /// Max-pool (= stride) of each block, `[mels, frames]`; `None`: no pooling.
    pub pools: Vec<Option<[usize; 2]>>,
    /// Conv kernel size (square, 'same').
    pub kernel_size: usize,
    /// Dropout rate after each block.
    pub dropout: f64,
    /// Batch-norm epsilon (Keras 1e-3).
    pub bn_epsilon: f64,
    /// burn batch-norm momentum (`1 - keras_momentum` = 0.01).
    pub bn_momentum: f64,
}

impl BackboneConfig {
    /// Nasrullah & Zhao's CRNN: 64/128/128/128 filters, pools (2,2), (4,2), (4,2), (4,2).
    pub fn nasrullah(mels: usize) -> Self {
        Self {
            mels,
            filters: vec![64, 128, 128, 128],
            pools: vec![Some([2, 2]), Some([4, 2]), Some([4, 2]), Some([4, 2])],
            kernel_size: 3,
            dropout: 0.1,
            bn_epsilon: 1e-3,
            bn_momentum: 0.01,
        }
    }

    /// The FGNL authors' backbone: same filters, no pool in block 1, then (2,2) three times.
    pub fn fgnl(mels: usize) -> Self {
        Self {
            pools: vec![None, Some([2, 2]), Some([2, 2]), Some([2, 2])],
            ..Self::nasrullah(mels)
        }
    }

    /// Channels of the last block of one branch.
    pub fn channels_out(&self) -> usize {
        self.filters.last().copied().unwrap_or(1)
    }

    /// Channels of the block before the last one (X3) of one branch.
    pub fn channels_previous(&self) -> usize {
        match self.filters.len() {
            0 | 1 => 1,
            n => self.filters[n - 2],
        }
    }

    /// Total downsampling `[mels, frames]` of the whole stack.
    pub fn downsampling(&self) -> [usize; 2] {
        self.pools
            .iter()
            .flatten()
            .fold([1, 1], |[a, b], [p, q]| [a * p, b * q])
    }

    /// Mel bins left after the last block (floor at each pool, as Keras does).
    pub fn mels_out(&self) -> usize {
        self.pools
            .iter()
            .flatten()
            .fold(self.mels, |m, [p, _]| m / p)
    }

    /// Frames left after the last block for `frames` input frames.
    pub fn frames_out(&self, frames: usize) -> usize {
        self.pools.iter().flatten().fold(frames, |t, [_, q]| t / q)
    }

    /// Builds one branch.
    pub fn init_branch(&self, device: &Device) -> Branch {
        let mut channels_in = 1;
        let blocks = self
            .filters
            .iter()
            .zip(&self.pools)
            .map(|(&filters, &pool)| {
                let block = ConvBlockConfig::new(channels_in, filters)
                    .with_pool(pool)
                    .with_kernel_size(self.kernel_size)
                    .with_dropout(self.dropout)
                    .with_bn_epsilon(self.bn_epsilon)
                    .with_bn_momentum(self.bn_momentum)
                    .init(device);
                channels_in = filters;
                block
            })
            .collect();
        Branch {
            input_norm: InputNormConfig::new(self.mels)
                .with_epsilon(self.bn_epsilon)
                .with_momentum(self.bn_momentum)
                .init(device),
            blocks,
        }
    }
}

/// One input branch: input batch-norm and the conv blocks.
#[derive(Module, Debug)]
pub struct Branch {
    /// Batch-norm over mel bins.
    pub input_norm: InputNorm,
    /// The conv blocks in order.
    pub blocks: Vec<ConvBlock>,
}

impl Branch {
    /// Runs the branch, returning the normalised input and every block output.
    ///
    /// # Shapes
    /// - `x`: `[batch, 1, mels, frames]`
    /// - output: (`[batch, 1, mels, frames]`, block `i`: `[batch, filters_i, mels_i, frames_i]`)
    pub fn forward_all(&self, x: Tensor<4>) -> (Tensor<4>, Vec<Tensor<4>>) {
        let normalised = self.input_norm.forward(x);
        let mut outputs: Vec<Tensor<4>> = Vec::with_capacity(self.blocks.len());
        let mut x = normalised.clone();
        for block in &self.blocks {
            x = block.forward(x);
            outputs.push(x.clone());
        }
        (normalised, outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_of_both_schedules() {
        let crnn = BackboneConfig::nasrullah(128);
        assert_eq!(crnn.mels_out(), 1);
        assert_eq!(crnn.frames_out(157), 9);
        assert_eq!(crnn.frames_out(94), 5);
        assert_eq!(crnn.frames_out(313), 19);
        let fgnl = BackboneConfig::fgnl(128);
        assert_eq!(fgnl.mels_out(), 16);
        assert_eq!(fgnl.frames_out(157), 19);
        assert_eq!(fgnl.downsampling(), [8, 8]);
    }

    #[test]
    fn branch_shapes() {
        let device = Device::default();
        let branch = BackboneConfig::nasrullah(128).init_branch(&device);
        let (normalised, outputs) = branch.forward_all(Tensor::zeros([2, 1, 128, 20], &device));
        assert_eq!(normalised.dims(), [2, 1, 128, 20]);
        let dims: Vec<_> = outputs.iter().map(|o| o.dims()).collect();
        assert_eq!(
            dims,
            vec![
                [2, 64, 64, 10],
                [2, 128, 16, 5],
                [2, 128, 4, 2],
                [2, 128, 1, 1]
            ]
        );
    }
}
