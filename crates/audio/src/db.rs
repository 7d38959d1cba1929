//! Decibel conversion of a mel power spectrogram: the three conventions of the papers.
//!
//! All three work in `f32` in the same order of operations as librosa does on a `float32`
//! array, and all clips are relative to the maximum of the *whole* array given (the whole
//! recording: clips are cut afterwards, so a quiet clip keeps its level relative to the song).
//!
//! # References
//!
//! - librosa 0.11 `librosa.power_to_db`, `librosa.amplitude_to_db`.
//! - Lee, Chang, Choi, Lee, "Singer identification and embedding", ICLR 2018 workshop,
//!   Sec. 3 ("values below -60 dB are clipped ... an offset is added ... between 0 and 60").

use crate::preset::DbScale;

/// librosa's default `amin` for `power_to_db`, in power units (`1e-10`, i.e. -100 dB).
pub const POWER_AMIN: f32 = 1e-10;
/// librosa's default `amin` for `amplitude_to_db`, in amplitude units (`1e-5`, i.e. -100 dB).
pub const AMPLITUDE_AMIN: f32 = 1e-5;
/// Dynamic range of the ICLR 2018 convention, in dB.
pub const ICLR2018_RANGE_DB: f32 = 60.0;

/// `power_to_db(S, ref=1.0, amin=amin, top_db=top_db)` in place:
/// `10 * log10(max(S, amin))`, then, if `top_db` is `Some`, `max(x, max(x) - top_db)`.
///
/// `amin > 0` (librosa default `1e-10`); `top_db >= 0` in dB (librosa default 80), `None`
/// keeps the full range. Both are the caller's to check
/// ([`FeatureConfig::validate`](crate::FeatureConfig::validate)).
pub fn power_to_db(values: &mut [f32], amin: f32, top_db: Option<f32>) {
    for v in values.iter_mut() {
        *v = 10.0 * v.max(amin).log10();
    }
    clip_to_top_db(values, top_db);
}

/// `amplitude_to_db(S, ref=1.0, amin=1e-5, top_db=top_db)` in place, librosa's exact path:
/// `power_to_db(S ** 2, ref=1.0, amin=1e-10, top_db)`, which is `20 * log10(max(S, 1e-5))`.
///
/// Applied to a *power* mel spectrogram this doubles its dB values: the FGNL and Hsieh
/// code ran it that way (see [`DbScale::FgnlDb`]).
pub fn amplitude_to_db(values: &mut [f32], top_db: Option<f32>) {
    for v in values.iter_mut() {
        *v *= *v;
    }
    power_to_db(values, AMPLITUDE_AMIN * AMPLITUDE_AMIN, top_db);
}

/// The ICLR 2018 convention in place: power dB relative to the maximum, clipped at -60 dB,
/// then offset by +60 into `0..=60` (librosa `power_to_db(S, ref=np.max, top_db=60) + 60`).
pub fn iclr2018_db(values: &mut [f32]) {
    let max_power = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let ref_db = 10.0 * max_power.max(POWER_AMIN).log10();
    for v in values.iter_mut() {
        *v = 10.0 * v.max(POWER_AMIN).log10() - ref_db;
    }
    clip_to_top_db(values, Some(ICLR2018_RANGE_DB));
    for v in values.iter_mut() {
        *v += ICLR2018_RANGE_DB;
    }
}

/// Applies the convention `scale` to mel power `values` in place; `top_db` as in
/// [`FeatureConfig::top_db`](crate::FeatureConfig::top_db).
pub fn apply_db(values: &mut [f32], scale: DbScale, top_db: Option<f32>) {
    match scale {
        DbScale::PowerDb => power_to_db(values, POWER_AMIN, top_db),
        DbScale::FgnlDb => amplitude_to_db(values, top_db),
        DbScale::Iclr2018Db => iclr2018_db(values),
    }
}

fn clip_to_top_db(values: &mut [f32], top_db: Option<f32>) {
    let Some(top_db) = top_db else { return };
    let floor = values.iter().copied().fold(f32::NEG_INFINITY, f32::max) - top_db;
    for v in values.iter_mut() {
        *v = v.max(floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: 10 log10 of 1, 0.1, 1e-3, 0 -> 0, -10, -30, -100 (amin); top_db 25 floors at -25.
    #[test]
    fn power_to_db_worked_by_hand() {
        let mut x = [1.0_f32, 0.1, 1e-3, 0.0];
        power_to_db(&mut x, POWER_AMIN, None);
        for (a, b) in x.iter().zip([0.0, -10.0, -30.0, -100.0]) {
            assert!((a - b).abs() < 1e-5, "{x:?}");
        }
        let mut y = [1.0_f32, 0.1, 1e-3, 0.0];
        power_to_db(&mut y, POWER_AMIN, Some(25.0));
        assert_eq!(y[2], -25.0);
        assert_eq!(y[3], -25.0);
    }

    /// amplitude_to_db doubles: power 0.1 -> -20 dB, 1e-6 -> -100 dB (amin 1e-5).
    #[test]
    fn amplitude_to_db_doubles_power_db() {
        let mut x = [10.0_f32, 0.1, 1e-6, 0.0];
        amplitude_to_db(&mut x, None);
        for (a, b) in x.iter().zip([20.0, -20.0, -100.0, -100.0]) {
            assert!((a - b).abs() < 1e-4, "{x:?}");
        }
    }

    /// ICLR 2018: max power 100 -> 60; 1 (-20 dB re max) -> 40; 1e-6 (-80 dB) -> 0 (clipped).
    #[test]
    fn iclr2018_worked_by_hand() {
        let mut x = [100.0_f32, 1.0, 1e-6, 0.0];
        iclr2018_db(&mut x);
        for (a, b) in x.iter().zip([60.0, 40.0, 0.0, 0.0]) {
            assert!((a - b).abs() < 1e-4, "{x:?}");
        }
    }

    /// Property: every convention with top_db keeps values within [max - top_db, max] and
    /// finite, over a grid of dynamic ranges including silence.
    #[test]
    fn db_within_top_db_of_max() {
        for decades in [0_i32, 1, 5, 12, 30] {
            let values: Vec<f32> = (0..200)
                .map(|i| 10.0_f32.powf(-(i as f32) * decades as f32 / 200.0) * 3.0)
                .chain([0.0, 0.0])
                .collect();
            for (scale, top_db) in [
                (DbScale::PowerDb, 80.0_f32),
                (DbScale::FgnlDb, 80.0),
                (DbScale::PowerDb, 10.0),
                (DbScale::Iclr2018Db, ICLR2018_RANGE_DB),
            ] {
                let mut x = values.clone();
                apply_db(&mut x, scale, Some(top_db));
                let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                assert!(
                    x.iter()
                        .all(|v| v.is_finite() && *v >= max - top_db && *v <= max),
                    "{scale:?}"
                );
            }
        }
        for scale in [DbScale::PowerDb, DbScale::FgnlDb, DbScale::Iclr2018Db] {
            let mut silence = vec![0.0_f32; 10];
            apply_db(&mut silence, scale, Some(80.0));
            assert!(silence.iter().all(|v| v.is_finite()), "{scale:?}");
        }
    }
}
