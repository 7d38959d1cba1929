//! MoSE, the "modified squeeze-and-excitation" that re-weights the K FGNL responses.
//!
//! Kuo et al. (2021), AAAI, Eq. (8): squeeze each response by global average pooling to a scalar
//! `s_k`, then the same scalar MLP on every `s_k` (the authors' 1x1 convolutions 1 -> 16 with
//! ReLU and 16 -> 1), and a softmax over the K shifts: `ω = softmax_k(v)`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Tensor};

use crate::blocks::keras_init;

/// [`MoseHead`] configuration.
#[derive(Config, Debug)]
pub struct MoseConfig {
    /// Width of the hidden 1x1 convolution (the authors use 16).
    #[config(default = 16)]
    pub hidden: usize,
}

/// MoSE excitation: `[batch, K]` squeezed responses to `[batch, K]` weights summing to 1.
#[derive(Module, Debug)]
pub struct MoseHead {
    /// Keras `Conv2D(16, 1x1)` on each scalar `s_k`: weight `[1, hidden]`.
    pub expand: Linear,
    /// Keras `Conv2D(1, 1x1)`: weight `[hidden, 1]`.
    pub squeeze: Linear,
}

impl MoseConfig {
    /// Builds the head with Keras initialisation.
    pub fn init(&self, device: &Device) -> MoseHead {
        MoseHead {
            expand: keras_init::dense(1, self.hidden, device),
            squeeze: keras_init::dense(self.hidden, 1, device),
        }
    }
}

impl MoseHead {
    /// # Shapes
    /// - `squeezed`: `[batch, shifts]` (the mean of each response)
    /// - output: `[batch, shifts]`, softmax over shifts
    pub fn forward(&self, squeezed: Tensor<2>) -> Tensor<2> {
        let [batch, shifts] = squeezed.dims();
        let x = squeezed.reshape([batch * shifts, 1]); // one scalar per (sample, shift)
        let x = relu(self.expand.forward(x)); // [batch * shifts, hidden]
        let x = self.squeeze.forward(x); // [batch * shifts, 1]
        softmax(x.reshape([batch, shifts]), 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{TensorData, Tolerance};

    /// hidden 2; expand w = [1, -1], b = [0, 0]; squeeze w = [2, 3], b = 1.
    /// s = 1: u = relu([1, -1]) = [1, 0], v = 2 + 1 = 3. s = -2: u = [0, 2], v = 6 + 1 = 7.
    /// ω = softmax([3, 7]) = [1 / (1 + e⁴), e⁴ / (1 + e⁴)].
    #[test]
    fn hand_computed_weights() {
        let device = Device::default();
        let mut head = MoseConfig::new().with_hidden(2).init(&device);
        head.expand.weight = Param::from_tensor(Tensor::from_floats([[1.0, -1.0]], &device));
        head.squeeze.weight = Param::from_tensor(Tensor::from_floats([[2.0], [3.0]], &device));
        head.squeeze.bias = Some(Param::from_tensor(Tensor::from_floats([1.0], &device)));
        let w = head.forward(Tensor::from_floats([[1.0, -2.0]], &device));
        let e4 = 4f64.exp();
        w.into_data().assert_approx_eq::<f32>(
            &TensorData::from([[(1.0 / (1.0 + e4)) as f32, (e4 / (1.0 + e4)) as f32]]),
            Tolerance::absolute(1e-6),
        );
        assert_eq!(head.num_params(), 2 + 2 + 2 + 1);
    }
}
