//! Clip slicing: non-overlapping, fixed-length windows over a song's log-mel
//! matrix, the "frames" the papers train and score on.
//!
//! A song's features are a mel-major matrix `[n_mels][n_frames]` (row `m` holds
//! mel band `m` over time). Clips start at frame 0 and follow one another
//! without gap or overlap: clip `i` covers frames `[i * L, (i + 1) * L)`. A tail
//! shorter than `L` is dropped. Nasrullah & Zhao's `slice_songs`
//! (`src/utility.py`, reused by the FGNL authors) also drops the last *full*
//! clip of every song (`for j in range(slices - 1)`, i.e. `floor(n / L) - 1`
//! clips); [`LastClip::Drop`] reproduces that, [`LastClip::Keep`] (the
//! default) does not.
//!
//! [`ClipLength::from_seconds`] turns the papers' 3, 5 and 10 s into 94, 157
//! and 313 frames at 16 kHz with hop 512.

use std::num::NonZeroUsize;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// The clip lengths of the FGNL paper, in seconds (Table 1).
pub const PAPER_CLIP_SECONDS: [f64; 3] = [3.0, 5.0, 10.0];

/// A clip length in feature frames (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "usize", into = "usize")]
pub struct ClipLength(NonZeroUsize);

impl ClipLength {
    /// A clip of `frames` frames.
    ///
    /// # Errors
    ///
    /// [`DataError::ZeroClipLength`] if `frames == 0`.
    pub fn new(frames: usize) -> Result<Self, DataError> {
        NonZeroUsize::new(frames)
            .map(Self)
            .ok_or(DataError::ZeroClipLength)
    }

    /// The clip length of a `seconds`-long excerpt, as the papers counted it:
    /// the number of frames a centred STFT (librosa's `center=True`) yields for
    /// that many samples, `1 + floor(round(seconds * sample_rate_hz) / hop_length)`.
    ///
    /// At 16 kHz and hop 512 this gives 3 s -> 94, 5 s -> 157 and 10 s -> 313
    /// frames (the FGNL paper's clips), and 1 s -> 32, 6 s -> 188 and 29.12 s ->
    /// 911, matching the table in the FGNL authors' `main.py`. (That table also
    /// lists 20 s -> 628, which no formula gives; this one gives 626.) Rounding
    /// to `round` or `ceil` of `seconds * sr / hop` instead would give 156 or
    /// 910 frames where the authors used 157 and 911.
    ///
    /// # Parameters
    ///
    /// - `seconds`: clip duration, positive and finite.
    /// - `sample_rate_hz`: feature sample rate in Hz (the papers: 16000), positive.
    /// - `hop_length`: STFT hop in samples (the papers: 512), positive.
    ///
    /// # Errors
    ///
    /// [`DataError::InvalidClipSeconds`] or [`DataError::InvalidFraming`] for
    /// out-of-range arguments.
    pub fn from_seconds(
        seconds: f64,
        sample_rate_hz: u32,
        hop_length: usize,
    ) -> Result<Self, DataError> {
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(DataError::InvalidClipSeconds { seconds });
        }
        if sample_rate_hz == 0 || hop_length == 0 {
            return Err(DataError::InvalidFraming {
                sample_rate_hz,
                hop_length,
            });
        }
        // Round to whole samples first so that 29.12 s * 16 kHz is 465920, not 465919.99...
        let samples = (seconds * f64::from(sample_rate_hz)).round();
        if samples >= usize::MAX as f64 {
            return Err(DataError::InvalidClipSeconds { seconds });
        }
        // `samples` is a non-negative integer below usize::MAX: the cast is exact.
        Self::new(1 + samples as usize / hop_length)
    }

    /// The length in frames.
    pub const fn frames(self) -> usize {
        self.0.get()
    }
}

impl TryFrom<usize> for ClipLength {
    type Error = DataError;

    fn try_from(frames: usize) -> Result<Self, Self::Error> {
        Self::new(frames)
    }
}

impl From<ClipLength> for usize {
    fn from(length: ClipLength) -> Self {
        length.frames()
    }
}

/// What to do with the last full clip of a song.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LastClip {
    /// Keep every full clip: `floor(n_frames / L)` clips.
    #[default]
    Keep,
    /// Drop the last full clip, as the authors' `slice_songs` did:
    /// `max(floor(n_frames / L) - 1, 0)` clips. For exact reproduction only.
    Drop,
}

/// The number of clips of `clip_len` frames in `n_frames` frames:
/// `floor(n_frames / L)`, minus one (never below zero) with [`LastClip::Drop`].
pub fn clip_count(n_frames: usize, clip_len: ClipLength, last: LastClip) -> usize {
    let full = n_frames / clip_len.frames();
    match last {
        LastClip::Keep => full,
        LastClip::Drop => full.saturating_sub(1),
    }
}

/// The frame ranges of a song's clips, in order: clip `i` is
/// `i * L .. (i + 1) * L`.
///
/// # Parameters
///
/// - `n_frames`: the song's frame count (0 gives no clips).
/// - `clip_len`: `L`, the clip length in frames.
/// - `last`: whether to keep the last full clip (see [`LastClip`]).
pub fn clip_ranges(n_frames: usize, clip_len: ClipLength, last: LastClip) -> Vec<Range<usize>> {
    let len = clip_len.frames();
    (0..clip_count(n_frames, clip_len, last))
        .map(|i| i * len..(i + 1) * len)
        .collect()
}

/// A borrowed clip of a mel-major `[n_mels][n_frames]` matrix: no copy until
/// [`ClipView::to_vec`] or [`ClipView::copy_into`].
#[derive(Debug, Clone)]
pub struct ClipView<'a> {
    mel: &'a [f32],
    n_mels: usize,
    n_frames: usize,
    frames: Range<usize>,
}

impl<'a> ClipView<'a> {
    /// The song frames this clip covers.
    pub fn frames(&self) -> Range<usize> {
        self.frames.clone()
    }

    /// The number of mel bands.
    pub const fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// The clip length in frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Always `false`: a clip holds at least one frame.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The clip's mel rows, band 0 first, each `len()` frames long.
    pub fn rows(&self) -> impl Iterator<Item = &'a [f32]> + 'a {
        let (mel, n_frames) = (self.mel, self.n_frames);
        let Range { start, end } = self.frames;
        (0..self.n_mels).map(move |m| &mel[m * n_frames + start..m * n_frames + end])
    }

    /// Copies the clip, mel-major `[n_mels][len()]`, into `out`.
    ///
    /// # Errors
    ///
    /// [`DataError::ClipBufferSize`] unless `out.len() == n_mels * len()`.
    pub fn copy_into(&self, out: &mut [f32]) -> Result<(), DataError> {
        let expected = self.n_mels * self.len();
        if out.len() != expected {
            return Err(DataError::ClipBufferSize {
                expected,
                found: out.len(),
            });
        }
        for (dst, row) in out.chunks_exact_mut(self.len()).zip(self.rows()) {
            dst.copy_from_slice(row);
        }
        Ok(())
    }

    /// The clip as a new mel-major `[n_mels][len()]` vector.
    pub fn to_vec(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.n_mels * self.len());
        for row in self.rows() {
            out.extend_from_slice(row);
        }
        out
    }
}

/// The clips of one song as borrowed views, in order (see [`clip_ranges`]).
///
/// # Parameters
///
/// - `mel`: the song's features, mel-major `[n_mels][n_frames]`
///   (`mel[m * n_frames + t]`), e.g. from the feature cache.
/// - `n_mels`: mel bands, positive (the papers: 128).
/// - `n_frames`: frames; a song shorter than one clip gives no clips.
/// - `clip_len`, `last`: as for [`clip_ranges`].
///
/// # Errors
///
/// [`DataError::ClipShapeMismatch`] if `n_mels == 0` or
/// `mel.len() != n_mels * n_frames`.
pub fn clip_views(
    mel: &[f32],
    n_mels: usize,
    n_frames: usize,
    clip_len: ClipLength,
    last: LastClip,
) -> Result<impl ExactSizeIterator<Item = ClipView<'_>>, DataError> {
    if n_mels == 0 || n_mels.checked_mul(n_frames) != Some(mel.len()) {
        return Err(DataError::ClipShapeMismatch {
            len: mel.len(),
            n_mels,
            n_frames,
        });
    }
    Ok(clip_ranges(n_frames, clip_len, last)
        .into_iter()
        .map(move |frames| ClipView {
            mel,
            n_mels,
            n_frames,
            frames,
        }))
}

/// The clips of one song, copied: each mel-major `[n_mels][clip_len]`.
///
/// Same as collecting [`clip_views`] with [`ClipView::to_vec`].
///
/// # Errors
///
/// As [`clip_views`].
pub fn slice_clips(
    mel: &[f32],
    n_mels: usize,
    n_frames: usize,
    clip_len: ClipLength,
    last: LastClip,
) -> Result<Vec<Vec<f32>>, DataError> {
    Ok(clip_views(mel, n_mels, n_frames, clip_len, last)?
        .map(|clip| clip.to_vec())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(frames: usize) -> ClipLength {
        ClipLength::new(frames).expect("non-zero")
    }

    /// A `[n_mels][n_frames]` matrix whose value names its position: `m * 10_000 + t`.
    fn labelled(n_mels: usize, n_frames: usize) -> Vec<f32> {
        (0..n_mels)
            .flat_map(|m| (0..n_frames).map(move |t| (m * 10_000 + t) as f32))
            .collect()
    }

    #[test]
    fn paper_clip_lengths_in_frames() {
        // The FGNL paper's 3, 5, 10 s at 16 kHz / hop 512, and the other rows of
        // the table in the authors' main.py.
        let frames = |s| {
            ClipLength::from_seconds(s, 16_000, 512)
                .expect("valid")
                .frames()
        };
        let paper: Vec<usize> = PAPER_CLIP_SECONDS.iter().map(|&s| frames(s)).collect();
        assert_eq!(paper, [94, 157, 313]);
        assert_eq!(frames(1.0), 32);
        assert_eq!(frames(6.0), 188);
        assert_eq!(frames(29.12), 911);
        // 1 + floor(320000 / 512) = 1 + 625.
        assert_eq!(frames(20.0), 626);
        // Librosa's frame count of a centred STFT: 1 + floor(n_samples / hop).
        assert_eq!(
            ClipLength::from_seconds(1.0, 22_050, 512)
                .expect("valid")
                .frames(),
            44
        );
    }

    #[test]
    fn from_seconds_rejects_bad_arguments() {
        for seconds in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                ClipLength::from_seconds(seconds, 16_000, 512),
                Err(DataError::InvalidClipSeconds { .. })
            ));
        }
        assert!(matches!(
            ClipLength::from_seconds(3.0, 0, 512),
            Err(DataError::InvalidFraming { .. })
        ));
        assert!(matches!(
            ClipLength::from_seconds(3.0, 16_000, 0),
            Err(DataError::InvalidFraming { .. })
        ));
        assert!(matches!(ClipLength::new(0), Err(DataError::ZeroClipLength)));
    }

    #[test]
    fn clip_length_serde_is_a_plain_number_and_rejects_zero() {
        assert_eq!(serde_json::to_string(&len(157)).expect("json"), "157");
        let back: ClipLength = serde_json::from_str("94").expect("json");
        assert_eq!(back.frames(), 94);
        assert!(serde_json::from_str::<ClipLength>("0").is_err());
        assert_eq!(
            serde_json::to_string(&LastClip::Drop).expect("json"),
            r#""drop""#
        );
    }

    #[test]
    fn worked_example_ten_frames_in_clips_of_three() {
        // floor(10 / 3) = 3 clips; the authors' rule keeps 3 - 1 = 2.
        assert_eq!(clip_ranges(10, len(3), LastClip::Keep), [0..3, 3..6, 6..9]);
        assert_eq!(clip_ranges(10, len(3), LastClip::Drop), [0..3, 3..6]);
        // A song shorter than one clip has none, with either rule.
        assert!(clip_ranges(2, len(3), LastClip::Keep).is_empty());
        assert!(clip_ranges(2, len(3), LastClip::Drop).is_empty());
        // Exactly one clip: kept, or dropped by the authors' rule.
        let single = clip_ranges(3, len(3), LastClip::Keep);
        assert_eq!((single.len(), single.first()), (1, Some(&(0..3))));
        assert!(clip_ranges(3, len(3), LastClip::Drop).is_empty());
    }

    #[test]
    fn clip_ranges_properties_over_a_grid() {
        for clip_frames in [1, 2, 3, 7, 94, 157, 313] {
            let clip_len = len(clip_frames);
            for n_frames in (0..=1000).chain([9_999, 10_000, 10_001]) {
                for last in [LastClip::Keep, LastClip::Drop] {
                    let ranges = clip_ranges(n_frames, clip_len, last);
                    let full = n_frames / clip_frames;
                    let want = match last {
                        LastClip::Keep => full,
                        LastClip::Drop => full.saturating_sub(1),
                    };
                    assert_eq!(ranges.len(), want, "n {n_frames} L {clip_frames} {last:?}");
                    assert_eq!(clip_count(n_frames, clip_len, last), want);
                    let mut expected_start = 0;
                    for r in &ranges {
                        assert_eq!(r.len(), clip_frames, "stated length");
                        assert_eq!(r.start, expected_start, "from frame 0, no gap, no overlap");
                        assert!(r.end <= n_frames, "inside the song");
                        expected_start = r.end;
                    }
                    // Keep leaves less than one clip unused; Drop at most two.
                    let unused = n_frames - expected_start;
                    match last {
                        LastClip::Keep => assert!(unused < clip_frames),
                        LastClip::Drop => assert!(unused < 2 * clip_frames),
                    }
                }
            }
        }
    }

    #[test]
    fn slice_clips_copies_the_right_values_mel_major() {
        let (n_mels, n_frames) = (4, 23);
        let mel = labelled(n_mels, n_frames);
        for last in [LastClip::Keep, LastClip::Drop] {
            let clips = slice_clips(&mel, n_mels, n_frames, len(5), last).expect("valid");
            assert_eq!(clips.len(), clip_count(n_frames, len(5), last));
            for (i, clip) in clips.iter().enumerate() {
                assert_eq!(clip.len(), n_mels * 5);
                for m in 0..n_mels {
                    for t in 0..5 {
                        let want = (m * 10_000 + i * 5 + t) as f32;
                        assert_eq!(clip[m * 5 + t], want, "clip {i} mel {m} frame {t}");
                    }
                }
            }
        }
    }

    #[test]
    fn clip_views_borrow_rows_and_copy_into_buffers() {
        let (n_mels, n_frames) = (3, 10);
        let mel = labelled(n_mels, n_frames);
        let views: Vec<ClipView<'_>> = clip_views(&mel, n_mels, n_frames, len(4), LastClip::Keep)
            .expect("valid")
            .collect();
        assert_eq!(views.len(), 2);
        let second = &views[1];
        assert_eq!(second.frames(), 4..8);
        assert_eq!(
            (second.n_mels(), second.len(), second.is_empty()),
            (3, 4, false)
        );
        let rows: Vec<&[f32]> = second.rows().collect();
        assert_eq!(rows[2], [20_004.0, 20_005.0, 20_006.0, 20_007.0]);
        let mut buffer = vec![0.0; 12];
        second.copy_into(&mut buffer).expect("right size");
        assert_eq!(buffer, second.to_vec());
        assert_eq!(buffer[..4], [4.0, 5.0, 6.0, 7.0]);
        let mut wrong = vec![0.0; 11];
        assert!(matches!(
            second.copy_into(&mut wrong),
            Err(DataError::ClipBufferSize {
                expected: 12,
                found: 11
            })
        ));
    }

    #[test]
    fn slice_clips_rejects_a_matrix_of_the_wrong_size() {
        let mel = vec![0.0_f32; 30];
        assert!(matches!(
            slice_clips(&mel, 4, 8, len(2), LastClip::Keep),
            Err(DataError::ClipShapeMismatch {
                len: 30,
                n_mels: 4,
                n_frames: 8
            })
        ));
        assert!(matches!(
            slice_clips(&[], 0, 0, len(2), LastClip::Keep),
            Err(DataError::ClipShapeMismatch { .. })
        ));
        // A valid but too-short song: no clips, no error.
        let short = slice_clips(&mel, 3, 10, len(11), LastClip::Keep).expect("valid");
        assert!(short.is_empty());
    }
}
