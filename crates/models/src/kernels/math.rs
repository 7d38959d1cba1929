//! Branch-free scalar math that the compiler can inline and vectorise.

/// ELU with alpha = 1: `x` for `x > 0` (and NaN), `exp(x) - 1` otherwise, with
/// [`exp_nonpositive`].
#[inline(always)]
pub fn elu(x: f32) -> f32 {
    let e = exp_nonpositive(x.min(0.0)) - 1.0;
    if x > 0.0 || x.is_nan() { x } else { e }
}

/// `exp(x)` for `x <= 0` (larger inputs are not supported), within 2 ulp of `f32::exp`; inputs
/// below -87 (where `exp` is below f32's normal range) and NaN give `exp(-87)` ([`elu`] passes
/// NaN through itself).
///
/// Cody-Waite range reduction `x = n ln 2 + r`, `|r| <= ln 2 / 2`, then Cephes' degree-6
/// minimax polynomial for `exp(r)`, scaled by `2^n` through the exponent bits. Unlike a call to
/// `expf`, the whole function inlines into the element loops and vectorises.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.max(-87.0);
    // n = round(x log2 e): for x <= 0 the truncating cast of `x log2 e - 0.5` rounds to nearest
    // (ties up); `floor` would be a libm call on baseline x86-64 and stop the vectoriser.
    let n_int = (x * LOG2_E - 0.5) as i32;
    let n = n_int as f32;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5e-1;
    p = p * r * r + r + 1.0;
    // n is in [-126, 0]: 2^n is a normal float.
    let scale = f32::from_bits(((n_int + 127) as u32) << 23);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_within_two_ulp() {
        let mut x = 0.0f32;
        while x > -87.0 {
            let (got, want) = (exp_nonpositive(x), x.exp());
            let ulp = (got.to_bits() as i64 - want.to_bits() as i64).abs();
            assert!(ulp <= 2, "exp({x}) = {got}, std {want}");
            x -= 0.000_731;
        }
        assert!(exp_nonpositive(-1e30) >= 0.0);
    }

    #[test]
    fn elu_matches_definition() {
        assert!(elu(f32::NAN).is_nan());
        for x in [
            -100.0f32,
            -5.0,
            -0.5,
            -1e-8,
            0.0,
            1e-8,
            0.5,
            100.0,
            f32::MAX,
        ] {
            let want = if x > 0.0 { x } else { x.exp() - 1.0 };
            assert!((elu(x) - want).abs() <= 1e-6 * want.abs().max(1.0), "{x}");
        }
    }
}
