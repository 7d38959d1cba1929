//! Multi-label binary cross-entropy on sigmoid outputs, computed from logits: the objective of
//! music auto-tagging, where every tag is an independent yes / no (Choi, Fazekas, Sandler and
//! Cho, "Convolutional Recurrent Neural Networks for Music Classification", ICASSP 2017, Sec. 3:
//! sigmoid outputs, binary cross-entropy).
//!
//! For a logit `x` and a target `y ∈ [0, 1]` (usually 0 or 1):
//!
//! `ℓ(x, y) = -y log σ(x) - (1 - y) log(1 - σ(x)) = (1 - y) x - log σ(x)`
//!
//! (using `log(1 - σ(x)) = log σ(x) - x`), with `log σ` evaluated stably (burn's `log_sigmoid`:
//! `-log(1 + e⁻ˣ)` for `x >= 0`, `x - log(1 + eˣ)` below), so no logit overflows and
//! `∂ℓ/∂x = σ(x) - y` everywhere, `x = 0` included. The loss is the mean over every
//! `(sample, tag)` cell, as PyTorch's `BCEWithLogitsLoss()` and Keras' `binary_crossentropy`
//! averaged over tags and batch. Keras computes it on probabilities clipped to
//! `[1e-7, 1 - 1e-7]`, so the authors' loss saturates near 16.1 per cell where this one keeps
//! growing linearly in `|x|`.

use burn::tensor::Tensor;
use burn::tensor::activation::log_sigmoid;

/// The tag vocabulary of a multi-label run: every tag of `tags` (one list per recording),
/// sorted and without repeats; the model's output `k` is the vocabulary's `k`-th tag.
pub fn tag_vocabulary<'a>(tags: impl IntoIterator<Item = &'a [String]>) -> Vec<String> {
    let set: std::collections::BTreeSet<&String> = tags.into_iter().flatten().collect();
    set.into_iter().cloned().collect()
}

/// The multi-hot target of a recording with `tags`: 1 at each of its tags' positions in the
/// sorted `vocabulary`, 0 elsewhere (tags outside the vocabulary are not targets).
pub fn multi_hot(tags: &[String], vocabulary: &[String]) -> Vec<f32> {
    let mut target = vec![0.0; vocabulary.len()];
    for tag in tags {
        if let Ok(k) = vocabulary.binary_search(tag) {
            target[k] = 1.0;
        }
    }
    target
}

/// The mean binary cross-entropy of sigmoid(`logits`) against `targets`; see the module docs.
///
/// # Shapes
///
/// - `logits`: `[batch, tags]`, before the sigmoid.
/// - `targets`: `[batch, tags]`, 1 where the tag applies, 0 where not (soft values in
///   `[0, 1]` are allowed).
/// - output: `[1]`.
///
/// # Panics
///
/// If the shapes differ.
pub fn multilabel_bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    assert_eq!(
        logits.dims(),
        targets.dims(),
        "multi-label BCE: targets must have the logits' shape [batch, tags]"
    );
    let not_targets = targets.neg() + 1.0; // 1 - y
    let per_cell = not_targets * logits.clone() - log_sigmoid(logits); // [batch, tags]
    per_cell.mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar::<f32>()
    }

    /// logits `[[0, 2], [-3, 1]]`, targets `[[1, 0], [0, 1]]`:
    ///
    /// - `x = 0, y = 1`: `-log σ(0) = ln 2 = 0.693147`
    /// - `x = 2, y = 0`: `2 - log σ(2) = 2 + ln(1 + e⁻²) = 2 + 0.126928 = 2.126928`
    /// - `x = -3, y = 0`: `-3 + ln(1 + e³) = -3 + 3.048587 = 0.048587`
    /// - `x = 1, y = 1`: `ln(1 + e⁻¹) = 0.313262`
    ///
    /// mean = 3.181924 / 4 = 0.795481.
    #[test]
    fn hand_worked_mean() {
        let device = Device::default();
        let logits = Tensor::<2>::from_floats([[0.0, 2.0], [-3.0, 1.0]], &device);
        let targets = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 1.0]], &device);
        let loss = scalar(multilabel_bce_with_logits(logits, targets));
        assert!((loss - 0.795_481).abs() < 1e-5, "{loss}");
    }

    /// Logits of ±100 (where `e¹⁰⁰` overflows f32): a confident right answer costs ~0, a
    /// confident wrong one exactly `|x|`.
    #[test]
    fn large_logits_stay_finite() {
        let device = Device::default();
        let logits = Tensor::<2>::from_floats([[100.0, -100.0, 100.0, -100.0]], &device);
        let targets = Tensor::<2>::from_floats([[1.0, 0.0, 0.0, 1.0]], &device);
        let loss = scalar(multilabel_bce_with_logits(logits, targets));
        assert!(
            (loss - 50.0).abs() < 1e-4,
            "(0 + 0 + 100 + 100) / 4, got {loss}"
        );
    }

    /// `∂ mean ℓ / ∂x = (σ(x) - y) / cells`: x = [0, 2, -100], y = [1, 0, 1] gives
    /// `[(0.5 - 1), σ(2), (0 - 1)] / 3 = [-0.166667, 0.293599, -0.333333]`.
    #[test]
    fn gradient_is_sigmoid_minus_target() {
        let device = Device::default().autodiff();
        let logits = Tensor::<2>::from_floats([[0.0, 2.0, -100.0]], &device).require_grad();
        let targets = Tensor::<2>::from_floats([[1.0, 0.0, 1.0]], &device);
        let grads = multilabel_bce_with_logits(logits.clone(), targets).backward();
        let grad = logits
            .grad(&grads)
            .expect("gradient")
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32");
        let sigmoid_2 = 1.0 / (1.0 + (-2.0_f32).exp());
        let want = [-0.5 / 3.0, sigmoid_2 / 3.0, -1.0 / 3.0];
        for (g, w) in grad.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "got {grad:?}, want {want:?}");
        }
    }

    #[test]
    fn vocabulary_is_sorted_and_targets_are_multi_hot() {
        let owned = |tags: &[&str]| tags.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        let recordings = [
            owned(&["rock", "female"]),
            owned(&[]),
            owned(&["female", "live"]),
        ];
        let vocabulary = tag_vocabulary(recordings.iter().map(Vec::as_slice));
        assert_eq!(vocabulary, ["female", "live", "rock"]);
        assert_eq!(multi_hot(&recordings[0], &vocabulary), [1.0, 0.0, 1.0]);
        assert_eq!(multi_hot(&recordings[1], &vocabulary), [0.0, 0.0, 0.0]);
        // A tag unknown to the vocabulary (only in validation data) is no target.
        assert_eq!(
            multi_hot(&owned(&["jazz", "live"]), &vocabulary),
            [0.0, 1.0, 0.0]
        );
    }

    #[test]
    #[should_panic(expected = "targets must have the logits' shape")]
    fn mismatched_shapes_panic() {
        let device = Device::default();
        let _ = multilabel_bce_with_logits(
            Tensor::zeros([2, 3], &device),
            Tensor::zeros([2, 2], &device),
        );
    }
}
