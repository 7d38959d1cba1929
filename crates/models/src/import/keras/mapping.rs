//! How each Keras layer's variables become burn tensors: the per-layer [`Mapping`] (which
//! variable goes to which burn field) and the layout conversions (HWIO -> OIHW, GRU bias rows,
//! 1x1 kernels as dense weights).

/// How one Keras layer's variables become burn tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// Conv2D: `kernel` HWIO -> OIHW `weight`, `bias`.
    Conv2d,
    /// DepthwiseConv2D: `depthwise_kernel` (kh, kw, C, 1) -> `kernel` [C, 1, kh, kw].
    Depthwise,
    /// BatchNormalization.
    BatchNorm,
    /// GRU with `reset_after=True`.
    Gru,
    /// Dense: `kernel` (in, out) -> `weight` [in, out], `bias`.
    Dense,
    /// A 1x1 Conv2D applied to one scalar per position (MoSE), kept as a burn Linear.
    PointwiseAsDense,
}

/// One variable conversion: Keras variable name, burn field, layout change.
pub(super) struct Variable {
    pub(super) keras: &'static str,
    pub(super) burn: &'static str,
    pub(super) layout: Layout,
}

#[derive(Clone, Copy)]
pub(super) enum Layout {
    Same,
    /// Permute axes (result axis i = source axis `axes[i]`).
    Permute4([usize; 4]),
    /// Row `r` of a 2-D tensor.
    Row(usize),
    /// Drop the two leading unit axes of a 1x1 kernel.
    DropLeading2,
}

impl Mapping {
    pub(super) fn variables(self) -> Vec<Variable> {
        let v = |keras, burn, layout| Variable {
            keras,
            burn,
            layout,
        };
        match self {
            Mapping::Conv2d => vec![
                v("kernel", "weight", Layout::Permute4([3, 2, 0, 1])),
                v("bias", "bias", Layout::Same),
            ],
            Mapping::Depthwise => vec![v(
                "depthwise_kernel",
                "kernel",
                Layout::Permute4([2, 3, 0, 1]),
            )],
            Mapping::BatchNorm => vec![
                v("gamma", "gamma", Layout::Same),
                v("beta", "beta", Layout::Same),
                v("moving_mean", "running_mean", Layout::Same),
                v("moving_variance", "running_var", Layout::Same),
            ],
            Mapping::Gru => vec![
                v("gru_cell/kernel", "kernel", Layout::Same),
                v(
                    "gru_cell/recurrent_kernel",
                    "recurrent_kernel",
                    Layout::Same,
                ),
                v("gru_cell/bias", "input_bias", Layout::Row(0)),
                v("gru_cell/bias", "recurrent_bias", Layout::Row(1)),
            ],
            Mapping::Dense => vec![
                v("kernel", "weight", Layout::Same),
                v("bias", "bias", Layout::Same),
            ],
            Mapping::PointwiseAsDense => vec![
                v("kernel", "weight", Layout::DropLeading2),
                v("bias", "bias", Layout::Same),
            ],
        }
    }
}

/// Converts one Keras tensor to the burn layout; `None` if its rank does not fit.
pub(super) fn convert(
    layout: Layout,
    shape: &[usize],
    values: &[f32],
) -> Option<(Vec<usize>, Vec<f32>)> {
    match layout {
        Layout::Same => Some((shape.to_vec(), values.to_vec())),
        Layout::Row(r) => match shape {
            [rows, cols] if r < *rows => {
                Some((vec![*cols], values[r * cols..(r + 1) * cols].to_vec()))
            }
            _ => None,
        },
        Layout::DropLeading2 => match shape {
            [1, 1, i, o] => Some((vec![*i, *o], values.to_vec())),
            _ => None,
        },
        Layout::Permute4(axes) => {
            let src: [usize; 4] = shape.try_into().ok()?;
            let dst = axes.map(|a| src[a]);
            let strides = [src[1] * src[2] * src[3], src[2] * src[3], src[3], 1];
            let mut out = Vec::with_capacity(values.len());
            for i0 in 0..dst[0] {
                for i1 in 0..dst[1] {
                    for i2 in 0..dst[2] {
                        for i3 in 0..dst[3] {
                            let idx = [i0, i1, i2, i3];
                            let mut offset = 0;
                            for (d, &a) in axes.iter().enumerate() {
                                offset += idx[d] * strides[a];
                            }
                            out.push(values[offset]);
                        }
                    }
                }
            }
            Some((dst.to_vec(), out))
        }
    }
}

/// The Keras-layout shape that converts to the burn shape `target`.
pub(super) fn keras_shape(layout: Layout, target: &[usize]) -> Vec<usize> {
    match (layout, target) {
        (Layout::Permute4(axes), [_, _, _, _]) => {
            let mut src = [0; 4];
            for (d, &a) in axes.iter().enumerate() {
                src[a] = target[d];
            }
            src.to_vec()
        }
        (Layout::Row(_), [n]) => vec![2, *n],
        (Layout::DropLeading2, [i, o]) => vec![1, 1, *i, *o],
        _ => target.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hwio_to_oihw() {
        // kernel[kh, kw, i, o] = 1000 kh + 100 kw + 10 i + o, shape (2, 3, 2, 2).
        let shape = [2, 3, 2, 2];
        let values: Vec<f32> = (0..2)
            .flat_map(|a| {
                (0..3).flat_map(move |b| {
                    (0..2).flat_map(move |c| {
                        (0..2).map(move |d| (1000 * a + 100 * b + 10 * c + d) as f32)
                    })
                })
            })
            .collect();
        let (s, v) = convert(Layout::Permute4([3, 2, 0, 1]), &shape, &values).expect("rank 4");
        assert_eq!(s, vec![2, 2, 2, 3]);
        // weight[o=1, i=0, kh=1, kw=2] = 1000 + 200 + 0 + 1.
        assert_eq!(v[(2 * 2 + 1) * 3 + 2], 1201.0);
        assert_eq!(
            keras_shape(Layout::Permute4([3, 2, 0, 1]), &s),
            shape.to_vec()
        );
    }

    #[test]
    fn gru_bias_rows() {
        let (s, v) =
            convert(Layout::Row(1), &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).expect("rank 2");
        assert_eq!((s, v), (vec![3], vec![4.0, 5.0, 6.0]));
        assert!(convert(Layout::Row(0), &[6], &[0.0; 6]).is_none());
    }
}
