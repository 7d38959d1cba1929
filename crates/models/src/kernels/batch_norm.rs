//! A trained batch norm in inference mode as one affine map per channel.

use burn::nn::BatchNorm;
use burn::tensor::{Tensor, TensorData};

/// The inference-time `BatchNorm(x)` as `scale ⊙ x + shift`, per channel, in f64:
/// `scale = gamma / sqrt(running_var + epsilon)`, `shift = beta - running_mean · scale`.
/// Used where a batch norm is folded into the arithmetic around it (CREPE's CPU pass, the
/// log-mel statistics model's seed average).
pub fn eval_affine(bn: &BatchNorm) -> (Vec<f64>, Vec<f64>) {
    let gamma = to_f64(bn.gamma.val());
    let beta = to_f64(bn.beta.val());
    let mean = to_f64(bn.running_mean.value());
    let var = to_f64(bn.running_var.value());
    let scale: Vec<f64> = gamma
        .iter()
        .zip(&var)
        .map(|(g, v)| g / (v + bn.epsilon).sqrt())
        .collect();
    let shift = beta
        .iter()
        .zip(&mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    (scale, shift)
}

fn to_f64(tensor: Tensor<1>) -> Vec<f64> {
    let data: TensorData = tensor.into_data().convert::<f64>();
    data.try_into_vec::<f64>()
        .expect("f64 values after convert")
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{Param, RunningState};
    use burn::nn::BatchNormConfig;
    use burn::tensor::Device;

    /// `scale ⊙ x + shift` equals the module's own forward on a plain (inference) device.
    #[test]
    fn equals_the_module_forward() {
        let device = Device::default();
        let mut bn = BatchNormConfig::new(3).with_epsilon(1e-3).init(&device);
        let floats = |v: [f32; 3]| Tensor::<1>::from_floats(v, &device);
        bn.gamma = Param::from_tensor(floats([0.5, 2.0, -1.0]));
        bn.beta = Param::from_tensor(floats([0.1, -0.2, 0.3]));
        bn.running_mean = RunningState::new(floats([1.0, -2.0, 0.5]));
        bn.running_var = RunningState::new(floats([4.0, 0.25, 1.0]));
        let x = [[1.0f32, 2.0, 3.0], [-1.0, 0.0, 0.5]];
        let expected = bn
            .forward(Tensor::<2>::from_floats(x, &device))
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 values");
        let (scale, shift) = eval_affine(&bn);
        for (i, (&xi, &e)) in x.as_flattened().iter().zip(&expected).enumerate() {
            let c = i % 3;
            let got = scale[c] * f64::from(xi) + shift[c];
            assert!(
                (got - f64::from(e)).abs() < 1e-5,
                "element {i}: {got} vs {e}"
            );
        }
    }
}
