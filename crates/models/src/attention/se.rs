//! Squeeze-and-excitation over the K FGNL responses, the "with SE" ablation of Kuo et al.
//! (2021), AAAI, Table 3.
//!
//! Hu, Shen & Sun (2018), "Squeeze-and-Excitation Networks", CVPR, Eq. (3):
//! `ω = σ(W₂ relu(W₁ s))`, fully connected across the K squeezed responses, sigmoid gating
//! (weights do not sum to 1). The authors publish no SE code; Hu et al.'s bottleneck `K / r`
//! with r = 16 would leave no unit for K = 4 or 8, so the hidden width is a config field whose
//! default (16) matches MoSE's hidden width.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor};

use crate::blocks::keras_init;

/// [`SeHead`] configuration.
#[derive(Config, Debug)]
pub struct SeConfig {
    /// Hidden width of the excitation MLP.
    #[config(default = 16)]
    pub hidden: usize,
}

/// SE excitation: `[batch, K]` squeezed responses to `[batch, K]` gates in (0, 1).
#[derive(Module, Debug)]
pub struct SeHead {
    /// `W₁`: `[K, hidden]`.
    pub reduce: Linear,
    /// `W₂`: `[hidden, K]`.
    pub expand: Linear,
}

impl SeConfig {
    /// Builds the head for `shifts` responses.
    pub fn init(&self, shifts: usize, device: &Device) -> SeHead {
        SeHead {
            reduce: keras_init::dense(shifts, self.hidden, device),
            expand: keras_init::dense(self.hidden, shifts, device),
        }
    }
}

impl SeHead {
    /// # Shapes
    /// - `squeezed`: `[batch, shifts]`
    /// - output: `[batch, shifts]`
    pub fn forward(&self, squeezed: Tensor<2>) -> Tensor<2> {
        let x = relu(self.reduce.forward(squeezed)); // [batch, hidden]
        sigmoid(self.expand.forward(x)) // [batch, shifts]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_are_in_unit_interval() {
        let device = Device::default();
        let head = SeConfig::new().init(4, &device);
        let w = head.forward(Tensor::from_floats([[1.0, -2.0, 3.0, 0.5]], &device));
        assert_eq!(w.dims(), [1, 4]);
        let v = w.into_data().try_to_vec::<f32>().expect("f32");
        assert!(v.iter().all(|x| *x > 0.0 && *x < 1.0));
        // Zero biases and no input: relu(0) = 0, σ(0) = 1/2.
        let w = head.forward(Tensor::zeros([1, 4], &device));
        assert!(
            w.into_data()
                .try_to_vec::<f32>()
                .expect("f32")
                .iter()
                .all(|x| *x == 0.5)
        );
    }
}
