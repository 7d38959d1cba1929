//! A GRU layer with Keras (TF2) semantics: gates in Keras column order z | r | h,
//! `reset_after = True`, sigmoid recurrent activation, tanh activation, zero initial state.
//!
//! Cho et al. (2014), "Learning Phrase Representations using RNN Encoder-Decoder", arXiv
//! 1406.1078v1 (the reset-after form); Keras `GRUCell` as used by Nasrullah & Zhao (2019) and
//! Kuo et al. (2021). For each step, with `a = x_t W + b_x` and `g = h_{t-1} R + b_h`:
//! `z = σ(a_z + g_z)`, `r = σ(a_r + g_r)`, `ĥ = tanh(a_h + r ⊙ g_h)`,
//! `h_t = z ⊙ h_{t-1} + (1 - z) ⊙ ĥ`.
//!
//! Why not `burn::nn::Gru`: its parameters are split into three gate controllers with separate
//! input/hidden Linear layers, so importing a Keras `(in, 3U)` kernel and `(2, 3U)` bias means
//! splitting and re-laying out every tensor; and its forward multiplies each timestep's input by
//! three gate matrices inside the loop (6 small matmuls per step). Here the input projection of
//! all timesteps is one `[batch * frames, in] x [in, 3U]` matmul before the loop, the loop does
//! two `[batch, U]` matmuls per step, and the parameters keep Keras' layout one to one.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor};

use super::keras_init::{GLOROT_UNIFORM, zero_bias};

/// [`KerasGru`] configuration.
#[derive(Config, Debug)]
pub struct KerasGruConfig {
    /// Input features per step.
    pub d_input: usize,
    /// Units U (hidden size).
    #[config(default = 32)]
    pub units: usize,
}

/// Keras-exact GRU; see the module docs.
#[derive(Module, Debug)]
pub struct KerasGru {
    /// Keras `kernel`: `[d_input, 3U]`, columns z | r | h.
    pub kernel: Param<Tensor<2>>,
    /// Keras `recurrent_kernel`: `[U, 3U]`, columns z | r | h.
    pub recurrent_kernel: Param<Tensor<2>>,
    /// Keras `bias[0]`: the input-side bias `[3U]`.
    pub input_bias: Param<Tensor<1>>,
    /// Keras `bias[1]`: the recurrent-side bias `[3U]` (inside the reset product for h).
    pub recurrent_bias: Param<Tensor<1>>,
}

impl KerasGruConfig {
    /// Builds the layer with Keras initialisation: glorot-uniform kernel, orthogonal recurrent
    /// kernel, zero biases.
    pub fn init(&self, device: &Device) -> KerasGru {
        let gates = 3 * self.units;
        KerasGru {
            kernel: GLOROT_UNIFORM.init_with(
                [self.d_input, gates],
                Some(self.d_input),
                Some(gates),
                device,
            ),
            recurrent_kernel: Initializer::Orthogonal { gain: 1.0 }
                .init([self.units, gates], device),
            input_bias: zero_bias(gates, device),
            recurrent_bias: zero_bias(gates, device),
        }
    }
}

impl KerasGru {
    /// Number of units U.
    pub fn units(&self) -> usize {
        self.recurrent_kernel.dims()[0]
    }

    /// Runs the sequence from a zero state.
    ///
    /// Returns every state (Keras `return_sequences=True`) and the last one (the default).
    ///
    /// # Shapes
    /// - `x`: `[batch, frames, d_input]`
    /// - output: (`[batch, frames, U]`, `[batch, U]`)
    ///
    /// # Panics
    /// If the feature count differs from the kernel's or the sequence is empty.
    pub fn forward(&self, x: Tensor<3>) -> (Tensor<3>, Tensor<2>) {
        let [batch, frames, features] = x.dims();
        let [d_input, gates] = self.kernel.dims();
        let units = gates / 3;
        assert!(
            features == d_input && frames > 0,
            "KerasGru expects [batch, frames > 0, {d_input}], got {:?}",
            x.dims()
        );

        let recurrent_bias = self.recurrent_bias.val();
        // z and r add both biases outside any product: fold b_h(z, r) into the input side once.
        let zr_bias = recurrent_bias.clone().slice(0..2 * units);
        let h_bias = recurrent_bias.slice(2 * units..gates).unsqueeze::<2>(); // [1, U]
        let input_bias = self.input_bias.val()
            + Tensor::cat(vec![zr_bias, Tensor::zeros([units], &x.device())], 0);

        // The input projection of every step in one matmul.
        let projected = x
            .reshape([batch * frames, d_input])
            .matmul(self.kernel.val())
            .add(input_bias.unsqueeze())
            .reshape([batch, frames, gates]); // [batch, frames, 3U]
        let projected_zr = projected.clone().slice([0..batch, 0..frames, 0..2 * units]);
        let projected_h = projected.slice([0..batch, 0..frames, 2 * units..gates]);
        let steps_zr = projected_zr.chunk(frames, 1);
        let steps_h = projected_h.chunk(frames, 1);

        let recurrent = self.recurrent_kernel.val();
        let recurrent_zr = recurrent.clone().slice([0..units, 0..2 * units]); // [U, 2U]
        let recurrent_h = recurrent.slice([0..units, 2 * units..gates]); // [U, U]

        let mut states = Vec::with_capacity(frames);
        let mut state: Option<Tensor<2>> = None;
        for (a_zr, a_h) in steps_zr.into_iter().zip(steps_h) {
            let a_zr = a_zr.reshape([batch, 2 * units]);
            let a_h = a_h.reshape([batch, units]);
            let next = match state {
                // h_0 = 0: the recurrent products vanish, only b_h(h) remains.
                None => {
                    let zr = sigmoid(a_zr);
                    let z = zr.clone().slice([0..batch, 0..units]);
                    let r = zr.slice([0..batch, units..2 * units]);
                    let candidate = tanh(a_h + r * h_bias.clone());
                    candidate.clone() - z * candidate
                }
                Some(h) => {
                    let zr = sigmoid(a_zr + h.clone().matmul(recurrent_zr.clone()));
                    let z = zr.clone().slice([0..batch, 0..units]);
                    let r = zr.slice([0..batch, units..2 * units]);
                    let g_h = h.clone().matmul(recurrent_h.clone()) + h_bias.clone();
                    let candidate = tanh(a_h + r * g_h);
                    // z h + (1 - z) ĥ = ĥ + z (h - ĥ)
                    candidate.clone() + z * (h - candidate)
                }
            };
            states.push(next.clone());
            state = Some(next);
        }
        let last = states[frames - 1].clone();
        (Tensor::stack(states, 1), last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{TensorData, Tolerance};

    fn constant_gru(device: &Device) -> KerasGru {
        // One unit, one input: W = [wz, wr, wh] = [0.5, -1, 2], R = [1, 0.5, -1],
        // b_x = [0.1, 0.2, 0.3], b_h = [-0.1, 0.4, 0.5].
        let mut gru = KerasGruConfig::new(1).with_units(1).init(device);
        gru.kernel = Param::from_tensor(Tensor::from_floats([[0.5, -1.0, 2.0]], device));
        gru.recurrent_kernel = Param::from_tensor(Tensor::from_floats([[1.0, 0.5, -1.0]], device));
        gru.input_bias = Param::from_tensor(Tensor::from_floats([0.1, 0.2, 0.3], device));
        gru.recurrent_bias = Param::from_tensor(Tensor::from_floats([-0.1, 0.4, 0.5], device));
        gru
    }

    /// Two steps by hand (x = 1, then x = -1), h_0 = 0:
    ///
    /// step 1: a = [0.6, -0.8, 2.3], g = b_h = [-0.1, 0.4, 0.5];
    /// z = σ(0.5), r = σ(-0.4), ĥ = tanh(2.3 + r·0.5), h_1 = (1 - z) ĥ.
    ///
    /// step 2: a = [-0.4, 1.2, -1.7], g = h_1·[1, 0.5, -1] + b_h;
    /// z = σ(-0.4 + g_z), r = σ(1.2 + g_r), ĥ = tanh(-1.7 + r·g_h), h_2 = z h_1 + (1 - z) ĥ.
    /// With reset-before (r applied to h before R) or gate order r|z|h the numbers differ.
    #[test]
    fn hand_computed_two_steps() {
        let device = Device::default();
        let gru = constant_gru(&device);
        let s = |v: f64| 1.0 / (1.0 + (-v).exp());
        let z1 = s(0.5);
        let r1 = s(-0.4);
        let h1 = (1.0 - z1) * (2.3 + r1 * 0.5).tanh();
        let (gz, gr, gh) = (h1 - 0.1, 0.5 * h1 + 0.4, -h1 + 0.5);
        let z2 = s(-0.4 + gz);
        let r2 = s(1.2 + gr);
        let h2 = z2 * h1 + (1.0 - z2) * (-1.7 + r2 * gh).tanh();

        let x = Tensor::<3>::from_floats([[[1.0], [-1.0]]], &device);
        let (sequence, last) = gru.forward(x);
        sequence.into_data().assert_approx_eq::<f32>(
            &TensorData::from([[[h1 as f32], [h2 as f32]]]),
            Tolerance::absolute(1e-6),
        );
        last.into_data()
            .assert_approx_eq::<f32>(&TensorData::from([[h2 as f32]]), Tolerance::absolute(1e-6));
    }

    #[test]
    fn output_shapes() {
        let device = Device::default();
        let gru = KerasGruConfig::new(6).with_units(4).init(&device);
        let (sequence, last) = gru.forward(Tensor::ones([3, 5, 6], &device));
        assert_eq!(sequence.dims(), [3, 5, 4]);
        assert_eq!(last.dims(), [3, 4]);
        assert_eq!(gru.num_params(), 6 * 12 + 4 * 12 + 2 * 12);
    }

    #[test]
    #[should_panic(expected = "KerasGru expects")]
    fn wrong_feature_count_panics() {
        let device = Device::default();
        let gru = KerasGruConfig::new(6).init(&device);
        let _ = gru.forward(Tensor::ones([3, 5, 7], &device));
    }

    #[test]
    fn gradients_reach_every_parameter() {
        let device = Device::default().autodiff();
        let gru = KerasGruConfig::new(3).with_units(2).init(&device);
        let x = Tensor::<3>::random([2, 4, 3], burn::tensor::Distribution::Default, &device);
        let (_, last) = gru.forward(x);
        let grads = last.sum().backward();
        for grad in [
            gru.kernel
                .val()
                .grad(&grads)
                .map(|g| g.abs().sum().into_scalar::<f32>()),
            gru.recurrent_kernel
                .val()
                .grad(&grads)
                .map(|g| g.abs().sum().into_scalar::<f32>()),
        ] {
            assert!(grad.is_some_and(|g| g > 0.0));
        }
        for grad in [
            gru.input_bias
                .val()
                .grad(&grads)
                .map(|g| g.abs().sum().into_scalar::<f32>()),
            gru.recurrent_bias
                .val()
                .grad(&grads)
                .map(|g| g.abs().sum().into_scalar::<f32>()),
        ] {
            assert!(grad.is_some_and(|g| g > 0.0));
        }
    }
}
