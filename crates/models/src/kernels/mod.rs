//! CPU kernels for the conv block (convolution, and ELU + batch-norm + max-pool fused), as
//! burn-flex custom operations with their own backward passes (issue #4).
//!
//! On burn-flex the block `conv -> ELU -> batch-norm -> max-pool` spends more time in the
//! element-wise layers than in the convolution (see `bench/RESULTS.md`, "CPU speed"): the ELU is
//! four tensor ops, the training batch-norm half a dozen, each one a full pass over (and a fresh
//! allocation of) the largest activation of the network, and burn-flex's max-pool walks every
//! window with general dilation/padding bounds. The kernels here do the same arithmetic in two
//! passes per direction:
//!
//! - [`elu_batch_norm`]: `BatchNorm(ELU(x))`, training (batch statistics, running-stat update,
//!   custom backward) and inference (moving statistics: one pass); [`elu_batch_norm_pool`] adds
//!   the block's max-pool to the same op, so the full-size normalised map is never stored.
//! - [`conv::conv2d`]: 'same' convolution with stride 1 as im2col + gemm, forward and backward
//!   (burn-flex's own backward is three times its forward).
//! - [`gemm::matmul`]: a bounds-checked product over strided row-major views (rows may
//!   overlap), the workspace's one `unsafe` call; CREPE's CPU pass runs on it.
//! - [`batch_norm::eval_affine`]: a trained batch norm folded into one affine map per channel.
//! - [`max_pool`]: max-pooling with stride = kernel and no padding (the backbone's only kind),
//!   with the argmax kept for the backward pass.
//!
//! Each runs only where the tensor lives on burn-flex (plain or `Autodiff<Flex>`) in f32; on any
//! other backend (CUDA, WGPU) or dtype they fall back to the composed burn ops, which compute the
//! same function. Parallelism: plain `std::thread::scope` over channels/planes, with as many
//! threads as burn-flex's rayon pool (`RAYON_NUM_THREADS`, else the available cores).

pub mod batch_norm;
pub mod conv;
mod elu_batch_norm;
pub mod gemm;
mod math;
mod max_pool;
pub(crate) mod parallel;

pub use elu_batch_norm::{elu_batch_norm, elu_batch_norm_pool};
pub use max_pool::max_pool;

/// A tensor on the autodiff-over-flex backend.
type AutodiffFlexTensor = <burn::backend::Autodiff<burn::backend::Flex> as burn::backend::BackendTypes>::FloatTensorPrimitive;

/// Puts the output `y` of a fused forward kernel on the autodiff graph: with `op`'s backward
/// and `state` when any of `parents` needs a gradient, as a plain leaf otherwise. The one
/// registration every kernel here uses.
fn record<O, const N: usize>(
    op: O,
    parents: [burn::backend::autodiff::ops::NodeGuard; N],
    state: O::State,
    y: burn::backend::flex::FlexTensor,
) -> AutodiffFlexTensor
where
    O: burn::backend::autodiff::ops::Backward<burn::backend::Flex, N>,
{
    use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
    use burn::backend::autodiff::ops::OpsKind;
    match op
        .prepare::<NoCheckpointing>(parents)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(state, y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}
