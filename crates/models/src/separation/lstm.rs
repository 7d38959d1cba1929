//! A multi-layer, optionally bidirectional LSTM with PyTorch (`torch.nn.LSTM`) semantics and
//! parameter layout, sequence-first like PyTorch's default `batch_first=False`.
//!
//! Hochreiter & Schmidhuber (1997), "Long Short-Term Memory", Neural Computation 9(8); the
//! equations are those of the `torch.nn.LSTM` documentation (PyTorch 2.x). For each step, with
//! `a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh` split into gates in PyTorch's row order
//! i | f | g | o: `i = σ(a_i)`, `f = σ(a_f)`, `g = tanh(a_g)`, `o = σ(a_o)`,
//! `c_t = f ⊙ c_{t-1} + i ⊙ g`, `h_t = o ⊙ tanh(c_t)`, zero initial state. Layer `k > 0` reads
//! layer `k - 1`'s output (both directions concatenated, forward first) after dropout, which
//! only acts on an autodiff device.
//!
//! Why not `burn::nn::Lstm` / `BiLstm`: they use the same gate equations and both biases, but
//! keep each gate as its own pair of `Linear` layers (`[in, H]` row layout), so a PyTorch
//! `weight_ih_l0` `[4H, in]` has to be cut into four transposed blocks per direction, and their
//! forward runs eight small matmuls per step; and neither stacks layers. Here every direction
//! keeps PyTorch's tensors one to one (`weight_ih [4H, in]`, `weight_hh [4H, H]`, `bias_ih`,
//! `bias_hh`), the input projection of all steps is one matmul before the loop, and the loop
//! does one `[batch, H] x [H, 4H]` matmul per step. The unit tests check this layer against
//! `burn::nn::Lstm` loaded with the cut-up weights.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Initializer};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor};

/// [`TorchLstm`] configuration (the arguments of `torch.nn.LSTM`).
#[derive(Config, Debug)]
pub struct TorchLstmConfig {
    /// Input features per step (`input_size`).
    pub d_input: usize,
    /// Hidden units H per direction (`hidden_size`).
    pub d_hidden: usize,
    /// Stacked layers (`num_layers`), at least 1.
    #[config(default = 1)]
    pub num_layers: usize,
    /// Whether each layer also runs the sequence backwards (`bidirectional`).
    #[config(default = false)]
    pub bidirectional: bool,
    /// Dropout probability on the output of every layer but the last (`dropout`), in `[0, 1)`.
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// One direction of one layer: PyTorch's `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`,
/// `bias_hh_l{k}` (with a `_reverse` suffix for the backward direction).
#[derive(Module, Debug)]
pub struct LstmDirection {
    /// `[4H, d_input]`, rows i | f | g | o.
    pub weight_ih: Param<Tensor<2>>,
    /// `[4H, H]`, rows i | f | g | o.
    pub weight_hh: Param<Tensor<2>>,
    /// `[4H]`.
    pub bias_ih: Param<Tensor<1>>,
    /// `[4H]`.
    pub bias_hh: Param<Tensor<1>>,
}

/// One layer: the forward direction and, when bidirectional, the reverse one.
#[derive(Module, Debug)]
pub struct LstmLayer {
    /// PyTorch's `*_l{k}` tensors.
    pub forward: LstmDirection,
    /// PyTorch's `*_l{k}_reverse` tensors.
    pub reverse: Option<LstmDirection>,
}

/// PyTorch-exact stacked LSTM; see the module docs.
///
/// Mirrors <https://github.com/pytorch/pytorch/blob/v2.5.0/torch/nn/modules/rnn.py> (`LSTM`).
#[derive(Module, Debug)]
pub struct TorchLstm {
    /// The layers, input side first.
    pub layers: Vec<LstmLayer>,
    /// Between layers (PyTorch's `dropout`).
    pub dropout: Dropout,
}

impl TorchLstmConfig {
    /// Builds the LSTM with PyTorch's initialisation: every tensor uniform in `±1/sqrt(H)`.
    ///
    /// # Panics
    /// If a size is zero or `dropout` is outside `[0, 1)`.
    pub fn init(&self, device: &Device) -> TorchLstm {
        assert!(
            self.d_input > 0 && self.d_hidden > 0 && self.num_layers > 0,
            "TorchLstm needs d_input, d_hidden and num_layers > 0, got {self:?}"
        );
        assert!(
            (0.0..1.0).contains(&self.dropout),
            "TorchLstm dropout must be in [0, 1), got {}",
            self.dropout
        );
        let directions = if self.bidirectional { 2 } else { 1 };
        let layers = (0..self.num_layers)
            .map(|k| {
                let d_input = if k == 0 {
                    self.d_input
                } else {
                    directions * self.d_hidden
                };
                LstmLayer {
                    forward: self.init_direction(d_input, device),
                    reverse: self
                        .bidirectional
                        .then(|| self.init_direction(d_input, device)),
                }
            })
            .collect();
        TorchLstm {
            layers,
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }

    fn init_direction(&self, d_input: usize, device: &Device) -> LstmDirection {
        let gates = 4 * self.d_hidden;
        let bound = 1.0 / (self.d_hidden as f64).sqrt();
        let uniform = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        LstmDirection {
            weight_ih: uniform.init([gates, d_input], device),
            weight_hh: uniform.init([gates, self.d_hidden], device),
            bias_ih: uniform.init([gates], device),
            bias_hh: uniform.init([gates], device),
        }
    }
}

impl LstmDirection {
    /// Hidden units H.
    pub fn d_hidden(&self) -> usize {
        self.weight_hh.dims()[1]
    }

    /// Runs the sequence from a zero state, forwards or (`reverse`) from the last step to the
    /// first; the state for step `t` is written at position `t` either way.
    ///
    /// # Shapes
    /// - `x`: `[frames, batch, d_input]`
    /// - output: `[frames, batch, H]`
    ///
    /// # Panics
    /// If the feature count differs from `weight_ih`'s or the sequence is empty.
    pub fn forward(&self, x: Tensor<3>, reverse: bool) -> Tensor<3> {
        let [frames, batch, features] = x.dims();
        let [gates, d_input] = self.weight_ih.dims();
        let units = gates / 4;
        assert!(
            features == d_input && frames > 0,
            "LstmDirection expects [frames > 0, batch, {d_input}], got {:?}",
            x.dims()
        );

        // Both biases sit outside every product: add them once, to the input projection.
        let bias = (self.bias_ih.val() + self.bias_hh.val()).unsqueeze::<2>(); // [1, 4H]
        let projected = x
            .reshape([frames * batch, d_input])
            .matmul(self.weight_ih.val().transpose())
            .add(bias)
            .reshape([frames, batch, gates]); // [frames, batch, 4H]
        let steps = projected.chunk(frames, 0);
        let recurrent = self.weight_hh.val().transpose(); // [H, 4H]

        let order: Vec<usize> = if reverse {
            (0..frames).rev().collect()
        } else {
            (0..frames).collect()
        };
        let mut states: Vec<Option<Tensor<2>>> = vec![None; frames];
        let mut state: Option<(Tensor<2>, Tensor<2>)> = None; // (h, c)
        for t in order {
            let a = steps[t].clone().reshape([batch, gates]); // [batch, 4H]
            let a = match &state {
                Some((h, _)) => a + h.clone().matmul(recurrent.clone()),
                None => a, // h_0 = 0
            };
            let sig = sigmoid(a.clone());
            let i = sig.clone().slice([0..batch, 0..units]);
            let f = sig.clone().slice([0..batch, units..2 * units]);
            let o = sig.slice([0..batch, 3 * units..gates]);
            let g = tanh(a.slice([0..batch, 2 * units..3 * units]));
            let c = match state {
                Some((_, c)) => f * c + i * g,
                None => i * g, // c_0 = 0
            };
            let h = o * tanh(c.clone());
            states[t] = Some(h.clone());
            state = Some((h, c));
        }
        let states: Vec<Tensor<2>> = states.into_iter().flatten().collect();
        Tensor::stack(states, 0) // [frames, batch, H]
    }
}

impl TorchLstm {
    /// Input features the first layer expects.
    pub fn d_input(&self) -> usize {
        self.layers[0].forward.weight_ih.dims()[1]
    }

    /// Output features per step: H, or 2H when bidirectional.
    pub fn d_output(&self) -> usize {
        let layer = &self.layers[0];
        layer.forward.d_hidden() * if layer.reverse.is_some() { 2 } else { 1 }
    }

    /// Runs every layer from a zero state and returns the last layer's states (PyTorch's
    /// `output`, the first element of `LSTM.forward`'s result).
    ///
    /// # Shapes
    /// - `x`: `[frames, batch, d_input]`
    /// - output: `[frames, batch, H]`, or `[frames, batch, 2H]` when bidirectional (forward
    ///   direction first)
    ///
    /// # Panics
    /// If the feature count differs from the first layer's or the sequence is empty.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let last = self.layers.len() - 1;
        let mut x = x;
        for (k, layer) in self.layers.iter().enumerate() {
            let forward = layer.forward.forward(x.clone(), false); // [frames, batch, H]
            x = match &layer.reverse {
                Some(reverse) => {
                    let backward = reverse.forward(x, true); // [frames, batch, H]
                    Tensor::cat(vec![forward, backward], 2) // [frames, batch, 2H]
                }
                None => forward,
            };
            if k < last {
                x = self.dropout.forward(x);
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::nn::{GateController, LstmConfig};
    use burn::tensor::{Distribution, TensorData, Tolerance};

    /// One unit, one input, constant weights: rows i | f | g | o of `W_ih` = [1, 0.5, -1, 2],
    /// `W_hh` = [0.5, -1, 1, 0.25], `b_ih` = [0.1, 0.2, 0.3, 0.4], `b_hh` = [-0.1, 0, 0.1, 0].
    fn constant_direction(device: &Device) -> LstmDirection {
        let col = |v: [f32; 4]| Tensor::<2>::from_floats([[v[0]], [v[1]], [v[2]], [v[3]]], device);
        LstmDirection {
            weight_ih: Param::from_tensor(col([1.0, 0.5, -1.0, 2.0])),
            weight_hh: Param::from_tensor(col([0.5, -1.0, 1.0, 0.25])),
            bias_ih: Param::from_tensor(Tensor::from_floats([0.1, 0.2, 0.3, 0.4], device)),
            bias_hh: Param::from_tensor(Tensor::from_floats([-0.1, 0.0, 0.1, 0.0], device)),
        }
    }

    /// Two steps by hand, x = [1, -1], h_0 = c_0 = 0.
    ///
    /// step 1: a = W_ih·1 + b = [1.0, 0.7, -0.6, 2.4]; c_1 = σ(1.0)·tanh(-0.6),
    /// h_1 = σ(2.4)·tanh(c_1).
    /// step 2: a = -W_ih + b + W_hh·h_1 = [-1.0 + 0.5 h_1, -0.3 - h_1, 1.4 + h_1, -1.6 + 0.25 h_1];
    /// c_2 = σ(a_f) c_1 + σ(a_i) tanh(a_g), h_2 = σ(a_o) tanh(c_2).
    /// Reversed, the same two steps run on [-1, 1] and land at positions 1 then 0.
    /// With gate order i | g | f | o (or Keras' i | f | c | o with a shared bias) the numbers
    /// differ.
    #[test]
    fn hand_computed_two_steps_both_directions() {
        let device = Device::default();
        let lstm = constant_direction(&device);
        let s = |v: f64| 1.0 / (1.0 + (-v).exp());
        let run = |x1: f64, x2: f64| {
            let w = [1.0, 0.5, -1.0, 2.0];
            let u = [0.5, -1.0, 1.0, 0.25];
            let b = [0.0, 0.2, 0.4, 0.4];
            let a1: Vec<f64> = (0..4).map(|k| w[k] * x1 + b[k]).collect();
            let c1 = s(a1[0]) * a1[2].tanh();
            let h1 = s(a1[3]) * c1.tanh();
            let a2: Vec<f64> = (0..4).map(|k| w[k] * x2 + b[k] + u[k] * h1).collect();
            let c2 = s(a2[1]) * c1 + s(a2[0]) * a2[2].tanh();
            let h2 = s(a2[3]) * c2.tanh();
            (h1 as f32, h2 as f32)
        };
        let x = Tensor::<3>::from_floats([[[1.0]], [[-1.0]]], &device); // [2, 1, 1]

        let (h1, h2) = run(1.0, -1.0);
        lstm.forward(x.clone(), false)
            .into_data()
            .assert_approx_eq::<f32>(
                &TensorData::from([[[h1]], [[h2]]]),
                Tolerance::absolute(1e-6),
            );
        let (r1, r2) = run(-1.0, 1.0);
        lstm.forward(x, true).into_data().assert_approx_eq::<f32>(
            &TensorData::from([[[r2]], [[r1]]]),
            Tolerance::absolute(1e-6),
        );
    }

    /// burn's own `Lstm` (one `GateController` per gate, `[in, H]` row-layout `Linear`s) loaded
    /// with this layer's PyTorch-layout tensors cut into gate blocks is an independent oracle
    /// for the gate order and both biases.
    #[test]
    fn matches_burn_lstm_with_pytorch_weights_mapped() {
        let device = Device::default();
        let (d_input, units, batch, frames) = (3, 4, 2, 5);
        let ours = TorchLstmConfig::new(d_input, units).init(&device).layers[0]
            .forward
            .clone();
        let mut theirs = LstmConfig::new(d_input, units, true).init(&device);
        // PyTorch row block k (gate i, f, g, o) -> burn's gate, transposed to its [in, H].
        let block = |w: &Param<Tensor<2>>, k: usize| {
            let cols = w.dims()[1];
            Param::from_tensor(
                w.val()
                    .slice([k * units..(k + 1) * units, 0..cols])
                    .transpose(),
            )
        };
        let bias = |b: &Param<Tensor<1>>, k: usize| {
            Some(Param::from_tensor(
                b.val().slice(k * units..(k + 1) * units),
            ))
        };
        let set = |gate: &mut GateController, k: usize| {
            gate.input_transform.weight = block(&ours.weight_ih, k);
            gate.input_transform.bias = bias(&ours.bias_ih, k);
            gate.hidden_transform.weight = block(&ours.weight_hh, k);
            gate.hidden_transform.bias = bias(&ours.bias_hh, k);
        };
        set(&mut theirs.input_gate, 0);
        set(theirs.forget_gate.as_mut().expect("forget gate"), 1);
        set(&mut theirs.cell_gate, 2);
        set(&mut theirs.output_gate, 3);

        let x = Tensor::<3>::random(
            [frames, batch, d_input],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let expected = theirs
            .forward(x.clone().swap_dims(0, 1), None)
            .0
            .swap_dims(0, 1);
        ours.forward(x.clone(), false)
            .into_data()
            .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-5));

        theirs.reverse = true;
        let expected = theirs
            .forward(x.clone().swap_dims(0, 1), None)
            .0
            .swap_dims(0, 1);
        ours.forward(x, true)
            .into_data()
            .assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn output_shapes() {
        let device = Device::default();
        let bi = TorchLstmConfig::new(6, 4)
            .with_num_layers(3)
            .with_bidirectional(true)
            .with_dropout(0.4)
            .init(&device);
        assert_eq!(
            bi.forward(Tensor::ones([5, 3, 6], &device)).dims(),
            [5, 3, 8]
        );
        assert_eq!(bi.layers[1].forward.weight_ih.dims(), [16, 8]);
        assert_eq!(bi.d_output(), 8);
        let uni = TorchLstmConfig::new(6, 4).with_num_layers(2).init(&device);
        assert_eq!(
            uni.forward(Tensor::ones([1, 2, 6], &device)).dims(),
            [1, 2, 4]
        );
        assert!(uni.layers[1].reverse.is_none());
    }

    #[test]
    #[should_panic(expected = "LstmDirection expects [frames > 0, batch, 6]")]
    fn wrong_feature_count_panics() {
        let device = Device::default();
        let lstm = TorchLstmConfig::new(6, 4).init(&device);
        let _ = lstm.forward(Tensor::ones([5, 3, 7], &device));
    }

    #[test]
    fn gradients_reach_every_direction() {
        let device = Device::default().autodiff();
        let lstm = TorchLstmConfig::new(3, 2)
            .with_num_layers(2)
            .with_bidirectional(true)
            .init(&device);
        let x = Tensor::<3>::random([4, 2, 3], Distribution::Normal(0.0, 1.0), &device);
        let grads = lstm.forward(x).sum().backward();
        for layer in &lstm.layers {
            for direction in [Some(&layer.forward), layer.reverse.as_ref()]
                .into_iter()
                .flatten()
            {
                assert!(direction.weight_ih.grad(&grads).is_some());
                assert!(direction.weight_hh.grad(&grads).is_some());
                assert!(direction.bias_hh.grad(&grads).is_some());
            }
        }
    }
}
