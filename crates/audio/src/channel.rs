//! Channel selection and downmix: from the decoded channels to one mono signal.
//!
//! `mix` reproduces librosa's `to_mono` (`np.mean(y, axis=0)` in `float32`): the channels are
//! summed in order in `f32` and divided by the channel count, so a stereo mix is
//! `(L + R) / 2` rounded once per step exactly as numpy does.

use std::path::Path;

use crate::error::AudioError;
use crate::preset::Channel;

/// Reduces `channels` (planar, equal lengths) to one signal according to `channel`.
///
/// `path` is only used in the error.
///
/// # Errors
///
/// [`AudioError::ChannelUnavailable`] when `left`/`right`/`side` is asked of a mono file,
/// `right` of a file without a second channel, or `mid`/`side` of a file that is not mono or
/// stereo; [`AudioError::NoSamples`] when there are no channels at all.
pub fn select_channel(
    channels: Vec<Vec<f32>>,
    channel: Channel,
    path: &Path,
) -> Result<Vec<f32>, AudioError> {
    if channels.is_empty() {
        return Err(AudioError::NoSamples {
            path: path.to_path_buf(),
        });
    }
    let mut out = Vec::with_capacity(channels[0].len());
    select_channel_into(&channels, channel, path, &mut out)?;
    Ok(out)
}

/// Appends the selection of `planes` (one slice per channel, equal lengths) to `out`: the
/// streaming form of [`select_channel`], used while decoding so no planar copy of the whole
/// file is kept. The arithmetic is per sample, so appending packet by packet gives exactly
/// the same values as [`select_channel`] on the whole file.
///
/// # Errors
///
/// As [`select_channel`].
pub fn select_channel_into<P: AsRef<[f32]>>(
    planes: &[P],
    channel: Channel,
    path: &Path,
    out: &mut Vec<f32>,
) -> Result<(), AudioError> {
    let n_channels = planes.len();
    let unavailable = || AudioError::ChannelUnavailable {
        path: path.to_path_buf(),
        channel,
        channels: n_channels,
    };
    let plane = |c: usize| planes[c].as_ref();
    match (channel, n_channels) {
        (_, 0) => {
            return Err(AudioError::NoSamples {
                path: path.to_path_buf(),
            });
        }
        (Channel::Mix | Channel::Mid, 1) => out.extend_from_slice(plane(0)),
        (Channel::Left | Channel::Right | Channel::Side, 1) => return Err(unavailable()),
        (Channel::Left, _) => out.extend_from_slice(plane(0)),
        (Channel::Right, _) => out.extend_from_slice(plane(1)),
        (Channel::Mix, _) => {
            // numpy's mean over axis 0 in float32: sum the channels in order, then divide.
            let start = out.len();
            out.extend_from_slice(plane(0));
            let mixed = &mut out[start..];
            for c in 1..n_channels {
                for (s, x) in mixed.iter_mut().zip(plane(c)) {
                    *s += x;
                }
            }
            let n = n_channels as f32;
            mixed.iter_mut().for_each(|s| *s /= n);
        }
        (Channel::Mid | Channel::Side, 2) => {
            let sign = if channel == Channel::Mid { 1.0 } else { -1.0 };
            out.extend(
                plane(0)
                    .iter()
                    .zip(plane(1))
                    .map(|(l, r)| (l + sign * r) / 2.0),
            );
        }
        (Channel::Mid | Channel::Side, _) => return Err(unavailable()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stereo() -> Vec<Vec<f32>> {
        vec![vec![1.0, 0.5, -0.25], vec![0.0, 0.25, 0.75]]
    }

    #[test]
    fn stereo_choices_worked_by_hand() {
        let path = Path::new("x.wav");
        let pick = |c| select_channel(stereo(), c, path).expect("stereo has every channel");
        assert_eq!(pick(Channel::Left), vec![1.0, 0.5, -0.25]);
        assert_eq!(pick(Channel::Right), vec![0.0, 0.25, 0.75]);
        // (L + R) / 2 and (L - R) / 2, all exact in binary.
        assert_eq!(pick(Channel::Mix), vec![0.5, 0.375, 0.25]);
        assert_eq!(pick(Channel::Mid), vec![0.5, 0.375, 0.25]);
        assert_eq!(pick(Channel::Side), vec![0.5, 0.125, -0.5]);
    }

    #[test]
    fn mono_gives_itself_for_mix_and_mid_and_errors_otherwise() {
        let path = Path::new("mono.wav");
        for c in [Channel::Mix, Channel::Mid] {
            let out = select_channel(vec![vec![0.1, 0.2]], c, path).expect("mono mix");
            assert_eq!(out, vec![0.1, 0.2]);
        }
        for c in [Channel::Left, Channel::Right, Channel::Side] {
            let err = select_channel(vec![vec![0.1, 0.2]], c, path).expect_err("mono only");
            assert!(matches!(
                err,
                AudioError::ChannelUnavailable { channels: 1, .. }
            ));
            assert!(err.to_string().contains("mono.wav"), "{err}");
        }
    }

    #[test]
    fn three_channels_mix_is_the_mean_and_side_is_an_error() {
        let path = Path::new("x.wav");
        let three = vec![vec![3.0], vec![6.0], vec![0.0]];
        assert_eq!(
            select_channel(three.clone(), Channel::Mix, path).expect("mix"),
            vec![3.0]
        );
        assert!(select_channel(three, Channel::Side, path).is_err());
    }

    /// Appending packet by packet gives exactly the whole-file result.
    #[test]
    fn streaming_selection_equals_whole_file() {
        let path = Path::new("x.wav");
        let left: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin()).collect();
        let right: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.11).cos() * 0.3).collect();
        for channel in Channel::ALL {
            let whole = select_channel(vec![left.clone(), right.clone()], channel, path)
                .expect("stereo has every channel");
            let mut streamed = Vec::new();
            for (l, r) in left.chunks(77).zip(right.chunks(77)) {
                select_channel_into(&[l, r], channel, path, &mut streamed).expect("stereo");
            }
            assert_eq!(streamed, whole, "{channel}");
        }
    }
}
