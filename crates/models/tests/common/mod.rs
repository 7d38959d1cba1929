//! Helpers shared by the oracle tests (each test file includes this module).

/// Worst absolute difference between `ours` and `theirs`; panics naming `stage` and the worst
/// element when it is above `tolerance` or when any of ours is not finite.
pub fn worst_difference(stage: &str, ours: &[f32], theirs: &[f32], tolerance: f32) -> f32 {
    assert_eq!(ours.len(), theirs.len(), "{stage}: length");
    let (worst, at) = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .enumerate()
        .fold(
            (0.0f32, 0),
            |(w, i), (j, d)| if d > w { (d, j) } else { (w, i) },
        );
    assert!(
        worst <= tolerance && ours.iter().all(|v| v.is_finite()),
        "{stage}: worst |burn - PyTorch| = {worst:e} at flat index {at} (burn {}, PyTorch {}), \
         tolerance {tolerance:e}",
        ours[at],
        theirs[at]
    );
    worst
}
