//! The clips of a list of recordings, held in memory and served as batches.
//!
//! A [`ClipSet`] keeps each recording's whole log-mel matrix (mel-major, as the feature cache
//! stores it) and the list of its clips: non-overlapping windows of `clip_frames` frames from
//! frame 0 ([`singerid_data::clip::clip_ranges`]; [`LastClip::Drop`] drops the last full clip as
//! the authors did). Each clip's label is the index of its recording's singer in the class list,
//! or `None` when the singer is not one of the classes (an unknown singer is kept and reported,
//! never silently dropped). [`ClipSet::batch`] copies clips into a `[batch, 1, mels, frames]`
//! tensor.
//!
//! MIR-1K's 767 recordings take about 100 MB this way; artist20 at 16 kHz about 1.5 GB.

use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use serde::{Deserialize, Serialize};
use singerid_audio::LogMel;
use singerid_data::clip::{ClipLength, LastClip, clip_ranges};
use singerid_data::{FeatureCache, Recording, song_key};
use singerid_models::ModelError;

use crate::Error;

/// Training-time augmentation of the clips a [`ClipSet`] serves
/// ([`ClipSet::batch_augmented`]); everything off by default (the papers trained without it).
///
/// - `random_offsets`: each clip is cut at a uniformly random frame of its recording instead of
///   its fixed non-overlapping slot, so an epoch still has as many clips per recording but sees
///   other windows (and the frames a fixed grid never covers, such as the tail).
/// - SpecAugment-style masks (Park et al., 2019): `time_masks` bands of 0 to `time_mask_frames`
///   frames and `freq_masks` bands of 0 to `freq_mask_bands` mel bands, each placed uniformly
///   and filled with the clip's mean value (the features are in dB, so 0 would be loud).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Augment {
    /// Cut training clips at random frames.
    #[serde(default)]
    pub random_offsets: bool,
    /// Time masks per clip.
    #[serde(default)]
    pub time_masks: usize,
    /// Longest time mask, in frames.
    #[serde(default)]
    pub time_mask_frames: usize,
    /// Frequency masks per clip.
    #[serde(default)]
    pub freq_masks: usize,
    /// Widest frequency mask, in mel bands.
    #[serde(default)]
    pub freq_mask_bands: usize,
}

impl Augment {
    /// Whether it changes nothing.
    pub fn is_off(&self) -> bool {
        !self.random_offsets
            && (self.time_masks == 0 || self.time_mask_frames == 0)
            && (self.freq_masks == 0 || self.freq_mask_bands == 0)
    }

    /// Masks `clip` (mel-major `[n_mels][frames]`) in place.
    fn mask(&self, clip: &mut [f32], n_mels: usize, frames: usize, rng: &mut impl Rng) {
        if clip.is_empty() {
            return;
        }
        let mean = (clip.iter().map(|&v| f64::from(v)).sum::<f64>() / clip.len() as f64) as f32;
        for _ in 0..self.time_masks {
            let width = rng.random_range(0..=self.time_mask_frames.min(frames));
            let start = rng.random_range(0..=frames - width);
            for m in 0..n_mels {
                clip[m * frames + start..m * frames + start + width].fill(mean);
            }
        }
        for _ in 0..self.freq_masks {
            let width = rng.random_range(0..=self.freq_mask_bands.min(n_mels));
            let start = rng.random_range(0..=n_mels - width);
            clip[start * frames..(start + width) * frames].fill(mean);
        }
    }
}

/// One recording held by a [`ClipSet`].
#[derive(Debug, Clone)]
struct Source {
    recording: Recording,
    song: String,
    label: Option<usize>,
    mel: LogMel,
    /// The melody contour's bin per mel frame, once [`ClipSet::attach_melody`] gave it.
    melody: Option<Vec<u16>>,
}

/// One clip: which recording, which clip of it, where it starts.
#[derive(Debug, Clone, Copy)]
struct ClipRef {
    source: usize,
    clip_index: usize,
    start_frame: usize,
}

/// The clips of a list of recordings; see the module docs.
#[derive(Debug, Clone)]
pub struct ClipSet {
    classes: Vec<String>,
    clip_frames: usize,
    last: LastClip,
    n_mels: usize,
    seconds_per_frame: f64,
    sources: Vec<Source>,
    clips: Vec<ClipRef>,
    /// Whether every source has a melody contour (batches then carry the melody input).
    melody: bool,
}

impl ClipSet {
    /// Loads the features of `recordings` from `cache` and slices them into clips.
    ///
    /// Returns the set and the problems met, one line each naming the file: a recording whose
    /// features are not in the cache (run `singerid features` with the same config), whose
    /// feature file cannot be read, that is shorter than one clip, or whose mel band count
    /// differs from the first recording's. Those recordings are left out; the others are kept.
    ///
    /// # Parameters
    /// - `classes`: class names in class-index order; a singer not in it gets label `None`.
    /// - `clip_frames`: clip length in frames, at least 1.
    /// - `last`: keep or drop each recording's last full clip.
    ///
    /// # Errors
    /// [`Error::Model`] (an invalid config) when `clip_frames` is 0.
    pub fn from_cache(
        recordings: &[Recording],
        cache: &FeatureCache,
        classes: &[String],
        clip_frames: usize,
        last: LastClip,
    ) -> Result<(ClipSet, Vec<String>), Error> {
        let config = cache.config();
        let seconds_per_frame = config.hop_length as f64 / f64::from(config.sample_rate_hz);
        let mut problems = Vec::new();
        let mut items = Vec::with_capacity(recordings.len());
        for recording in recordings {
            match cache.get(recording) {
                Ok(Some(mel)) => items.push((recording.clone(), mel)),
                Ok(None) => problems.push(format!(
                    "{}: no features in the cache {} for this feature config; run `singerid \
                     features` on the dataset first",
                    recording.abs_path.display(),
                    cache.dir().display()
                )),
                Err(err) => problems.push(format!("{}: {err}", recording.abs_path.display())),
            }
        }
        let (set, more) = Self::build(
            items,
            classes,
            clip_frames,
            last,
            seconds_per_frame,
            Some(config.n_mels),
        )?;
        problems.extend(more);
        Ok((set, problems))
    }

    /// Builds a set from features computed elsewhere (files outside any dataset, as `identify`
    /// reads them). Recordings shorter than one clip, or with another mel band count than the
    /// first one, contribute no clips.
    ///
    /// `clip_frames` must be at least 1; 0 is treated as 1.
    pub fn from_features(
        items: Vec<(Recording, LogMel)>,
        classes: &[String],
        clip_frames: usize,
        last: LastClip,
        seconds_per_frame: f64,
    ) -> ClipSet {
        match Self::build(
            items,
            classes,
            clip_frames.max(1),
            last,
            seconds_per_frame,
            None,
        ) {
            Ok((set, _)) => set,
            // Unreachable: `build` fails only on a zero clip length, excluded above.
            Err(_) => ClipSet::empty(classes, clip_frames.max(1), last, seconds_per_frame),
        }
    }

    fn empty(classes: &[String], clip_frames: usize, last: LastClip, spf: f64) -> ClipSet {
        ClipSet {
            classes: classes.to_vec(),
            clip_frames,
            last,
            n_mels: 0,
            seconds_per_frame: spf,
            sources: Vec::new(),
            clips: Vec::new(),
            melody: false,
        }
    }

    fn build(
        items: Vec<(Recording, LogMel)>,
        classes: &[String],
        clip_frames: usize,
        last: LastClip,
        seconds_per_frame: f64,
        n_mels: Option<usize>,
    ) -> Result<(ClipSet, Vec<String>), Error> {
        let length = ClipLength::new(clip_frames)
            .map_err(|e| Error::Model(ModelError::InvalidConfig(format!("clip length: {e}"))))?;
        let mut set = ClipSet::empty(classes, clip_frames, last, seconds_per_frame);
        set.n_mels = n_mels.unwrap_or(0);
        let mut problems = Vec::new();
        for (recording, mel) in items {
            if set.n_mels == 0 {
                set.n_mels = mel.n_mels;
            }
            if mel.n_mels != set.n_mels || mel.data.len() != mel.n_mels * mel.n_frames {
                problems.push(format!(
                    "{}: features have {} mel bands and {} values for {} frames, expected {} \
                     bands; skipped",
                    recording.abs_path.display(),
                    mel.n_mels,
                    mel.data.len(),
                    mel.n_frames,
                    set.n_mels
                ));
                continue;
            }
            let ranges = clip_ranges(mel.n_frames, length, last);
            if ranges.is_empty() {
                problems.push(format!(
                    "{}: {} frames give no clip of {clip_frames} frames{}; skipped",
                    recording.abs_path.display(),
                    mel.n_frames,
                    if last == LastClip::Drop {
                        " once the last clip is dropped"
                    } else {
                        ""
                    }
                ));
                continue;
            }
            let source = set.sources.len();
            for (clip_index, range) in ranges.into_iter().enumerate() {
                set.clips.push(ClipRef {
                    source,
                    clip_index,
                    start_frame: range.start,
                });
            }
            let label = classes.iter().position(|c| *c == recording.singer);
            set.sources.push(Source {
                song: song_key(&recording),
                recording,
                label,
                mel,
                melody: None,
            });
        }
        Ok((set, problems))
    }

    /// Gives each recording its melody contour (the CRNNM models' second input): `contours`
    /// holds one result per recording, in [`ClipSet::recordings`] order, each the contour's bin
    /// per mel frame. A recording whose contour failed or has another frame count is left out
    /// with its clips; the returned problems say so, one line each. Batches then carry the
    /// one-hot melody input ([`ClipSet::inputs`]).
    pub fn attach_melody(&mut self, contours: Vec<Result<Vec<u16>, String>>) -> Vec<String> {
        let mut problems = Vec::new();
        let mut keep = Vec::with_capacity(self.sources.len());
        for (source, contour) in self.sources.iter_mut().zip(contours) {
            match contour {
                Ok(bins) if bins.len() == source.mel.n_frames => {
                    source.melody = Some(bins);
                    keep.push(true);
                }
                Ok(bins) => {
                    problems.push(format!(
                        "{}: the melody has {} frames, the features {}; skipped",
                        source.recording.abs_path.display(),
                        bins.len(),
                        source.mel.n_frames
                    ));
                    keep.push(false);
                }
                Err(message) => {
                    problems.push(format!("{message}; skipped"));
                    keep.push(false);
                }
            }
        }
        keep.resize(self.sources.len(), false);
        let mut new_index = Vec::with_capacity(keep.len());
        let mut next = 0;
        for &k in &keep {
            new_index.push(next);
            next += usize::from(k);
        }
        self.clips.retain(|c| keep[c.source]);
        for clip in &mut self.clips {
            clip.source = new_index[clip.source];
        }
        let mut index = 0;
        self.sources.retain(|_| {
            index += 1;
            keep[index - 1]
        });
        self.melody = true;
        problems
    }

    /// Whether batches carry the melody input ([`ClipSet::attach_melody`]).
    pub fn has_melody(&self) -> bool {
        self.melody
    }

    /// The clips at `indices` as the model's inputs: the log-mel batch of [`ClipSet::batch`]
    /// and, when the set has melody contours, their one-hot `[batch, 1, n_mels, clip_frames]`
    /// batch (1 at each frame's contour bin, 0 elsewhere).
    ///
    /// # Panics
    /// If an index is out of range (indices come from `0..len()`).
    pub fn inputs(&self, indices: &[usize], device: &Device) -> (Tensor<4>, Option<Tensor<4>>) {
        let starts: Vec<(usize, usize)> = indices
            .iter()
            .map(|&i| (self.clips[i].source, self.clips[i].start_frame))
            .collect();
        (
            self.batch(indices, device),
            self.melody_batch(&starts, device),
        )
    }

    /// The one-hot melody of clips given as (source, first frame), or `None` without melody.
    fn melody_batch(&self, starts: &[(usize, usize)], device: &Device) -> Option<Tensor<4>> {
        if !self.melody {
            return None;
        }
        let per_clip = self.n_mels * self.clip_frames;
        let mut values = vec![0.0f32; starts.len() * per_clip];
        for (b, &(source, start)) in starts.iter().enumerate() {
            let bins = self.sources[source].melody.as_deref().unwrap_or_default();
            for t in 0..self.clip_frames {
                let bin = usize::from(bins.get(start + t).copied().unwrap_or(0));
                if bin < self.n_mels {
                    values[b * per_clip + bin * self.clip_frames + t] = 1.0;
                }
            }
        }
        let shape = [starts.len(), 1, self.n_mels, self.clip_frames];
        Some(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// The number of clips.
    pub fn len(&self) -> usize {
        self.clips.len()
    }

    /// Whether the set holds no clip.
    pub fn is_empty(&self) -> bool {
        self.clips.is_empty()
    }

    /// The class names, in class-index order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Clip length in frames.
    pub fn clip_frames(&self) -> usize {
        self.clip_frames
    }

    /// Whether the last full clip of each recording was dropped.
    pub fn last_clip(&self) -> LastClip {
        self.last
    }

    /// Mel bands of every clip (0 for an empty set built without a cache).
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Seconds per frame (hop / sample rate).
    pub fn seconds_per_frame(&self) -> f64 {
        self.seconds_per_frame
    }

    /// The recordings that contribute clips, in order.
    pub fn recordings(&self) -> impl Iterator<Item = &Recording> {
        self.sources.iter().map(|s| &s.recording)
    }

    /// Each recording's frame count, in [`ClipSet::recordings`] order.
    pub fn frame_counts(&self) -> Vec<usize> {
        self.sources.iter().map(|s| s.mel.n_frames).collect()
    }

    /// The number of recordings that contribute clips.
    pub fn recording_count(&self) -> usize {
        self.sources.len()
    }

    /// The number of distinct songs ([`song_key`]).
    pub fn song_count(&self) -> usize {
        let mut songs: Vec<&str> = self.sources.iter().map(|s| s.song.as_str()).collect();
        songs.sort_unstable();
        songs.dedup();
        songs.len()
    }

    /// The number of clips with no label (singer not among the classes).
    pub fn unlabelled_count(&self) -> usize {
        self.clips
            .iter()
            .filter(|c| self.sources[c.source].label.is_none())
            .count()
    }

    fn source(&self, i: usize) -> Option<&Source> {
        self.clips.get(i).map(|c| &self.sources[c.source])
    }

    /// Clip `i`'s class index, or `None` when its singer is not a class or `i` is out of range.
    pub fn label(&self, i: usize) -> Option<usize> {
        self.source(i).and_then(|s| s.label)
    }

    /// Clip `i`'s recording.
    pub fn recording(&self, i: usize) -> Option<&Recording> {
        self.source(i).map(|s| &s.recording)
    }

    /// Clip `i`'s song key ([`song_key`]).
    pub fn song(&self, i: usize) -> Option<&str> {
        self.source(i).map(|s| s.song.as_str())
    }

    /// Clip `i`'s singer as named in the dataset.
    pub fn singer(&self, i: usize) -> Option<&str> {
        self.source(i).map(|s| s.recording.singer.as_str())
    }

    /// Clip `i`'s index within its recording (0, 1, ...).
    pub fn clip_index(&self, i: usize) -> Option<usize> {
        self.clips.get(i).map(|c| c.clip_index)
    }

    /// Clip `i`'s first frame within its recording.
    pub fn start_frame(&self, i: usize) -> Option<usize> {
        self.clips.get(i).map(|c| c.start_frame)
    }

    /// Clip `i`'s values, mel-major `[n_mels][clip_frames]`.
    pub fn clip_values(&self, i: usize) -> Option<Vec<f32>> {
        let clip = self.clips.get(i)?;
        let mel = &self.sources[clip.source].mel;
        let mut out = Vec::with_capacity(self.n_mels * self.clip_frames);
        for m in 0..self.n_mels {
            let row = m * mel.n_frames + clip.start_frame;
            out.extend_from_slice(mel.data.get(row..row + self.clip_frames)?);
        }
        Some(out)
    }

    /// The clips at `indices` as one `[indices.len(), 1, n_mels, clip_frames]` tensor.
    ///
    /// # Panics
    /// If an index is out of range (indices come from `0..len()`).
    pub fn batch(&self, indices: &[usize], device: &Device) -> Tensor<4> {
        let mut values = Vec::with_capacity(indices.len() * self.n_mels * self.clip_frames);
        for &i in indices {
            let clip = self.clips[i];
            self.push_clip(&mut values, clip.source, clip.start_frame);
        }
        let shape = [indices.len(), 1, self.n_mels, self.clip_frames];
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// As [`ClipSet::inputs`], with `augment` applied to each clip, drawing from `rng`: a
    /// random offset moves the melody's window with the log-mel's; masks apply to the log-mel
    /// only.
    ///
    /// # Panics
    /// If an index is out of range (indices come from `0..len()`).
    pub fn batch_augmented(
        &self,
        indices: &[usize],
        augment: &Augment,
        rng: &mut impl Rng,
        device: &Device,
    ) -> (Tensor<4>, Option<Tensor<4>>) {
        let per_clip = self.n_mels * self.clip_frames;
        let mut values = Vec::with_capacity(indices.len() * per_clip);
        let mut starts = Vec::with_capacity(indices.len());
        for &i in indices {
            let clip = self.clips[i];
            let start = if augment.random_offsets {
                let frames = self.sources[clip.source].mel.n_frames;
                rng.random_range(0..=frames.saturating_sub(self.clip_frames))
            } else {
                clip.start_frame
            };
            let at = values.len();
            self.push_clip(&mut values, clip.source, start);
            augment.mask(&mut values[at..], self.n_mels, self.clip_frames, rng);
            starts.push((clip.source, start));
        }
        let shape = [indices.len(), 1, self.n_mels, self.clip_frames];
        (
            Tensor::from_data(TensorData::new(values, shape), device),
            self.melody_batch(&starts, device),
        )
    }

    /// Appends the clip of `source` starting at `start`, mel-major.
    fn push_clip(&self, values: &mut Vec<f32>, source: usize, start: usize) {
        let mel = &self.sources[source].mel;
        for m in 0..self.n_mels {
            let row = m * mel.n_frames + start;
            values.extend_from_slice(&mel.data[row..row + self.clip_frames]);
        }
    }

    /// The number of labelled clips of each class, in class-index order.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for clip in &self.clips {
            if let Some(label) = self.sources[clip.source].label {
                counts[label] += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Two recordings of 3 mel bands whose value at (band m, frame t) is `1000 r + 100 m + t`,
    /// so every value says where it came from; clips of 4 frames.
    fn set() -> ClipSet {
        let items = (0..2)
            .map(|r| {
                let (n_mels, n_frames) = (3, 10 + r);
                let data = (0..n_mels * n_frames)
                    .map(|i| (1000 * r + 100 * (i / n_frames) + i % n_frames) as f32)
                    .collect();
                let recording = Recording {
                    path: format!("s{r}.wav").into(),
                    abs_path: format!("/x/s{r}.wav").into(),
                    singer: format!("singer{r}"),
                    album: None,
                    song: format!("song{r}"),
                    split: None,
                    tags: Vec::new(),
                };
                (
                    recording,
                    LogMel {
                        n_mels,
                        n_frames,
                        data,
                    },
                )
            })
            .collect();
        let classes = vec!["singer0".to_owned(), "singer1".to_owned()];
        ClipSet::from_features(items, &classes, 4, LastClip::Keep, 0.032)
    }

    fn values(set: &ClipSet, augment: &Augment, seed: u64) -> Vec<f32> {
        let indices: Vec<usize> = (0..set.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (batch, melody) = set.batch_augmented(&indices, augment, &mut rng, &Device::default());
        assert!(melody.is_none());
        batch.into_data().try_to_vec::<f32>().expect("f32 batch")
    }

    #[test]
    fn no_augmentation_serves_the_grid() {
        let set = set();
        let indices: Vec<usize> = (0..set.len()).collect();
        let plain = set.batch(&indices, &Device::default());
        assert_eq!(
            values(&set, &Augment::default(), 1),
            plain.into_data().try_to_vec::<f32>().expect("f32 batch")
        );
        assert_eq!(set.class_counts(), vec![2, 2]);
    }

    #[test]
    fn random_offsets_cut_contiguous_windows_of_the_same_recording() {
        let set = set();
        let augment = Augment {
            random_offsets: true,
            ..Augment::default()
        };
        let mut starts = std::collections::BTreeSet::new();
        for seed in 0..20 {
            for (i, clip) in values(&set, &augment, seed).chunks(12).enumerate() {
                let recording = set.clips[i].source as f32;
                let start = clip[0] - 1000.0 * recording;
                for m in 0..3 {
                    for t in 0..4 {
                        let expected = 1000.0 * recording + 100.0 * m as f32 + start + t as f32;
                        assert_eq!(clip[m * 4 + t], expected, "clip {i}, band {m}, frame {t}");
                    }
                }
                assert!(start + 4.0 <= 10.0 + recording);
                starts.insert(start as usize);
            }
        }
        // Windows start off the grid (0, 4) too, and the last frames are reachable.
        assert!(starts.len() > 4, "{starts:?}");
        assert!(starts.contains(&6) || starts.contains(&7), "{starts:?}");
    }

    #[test]
    fn masks_fill_bands_with_the_clip_mean_and_vary_by_seed() {
        let set = set();
        let augment = Augment {
            time_masks: 1,
            time_mask_frames: 4,
            freq_masks: 1,
            freq_mask_bands: 3,
            ..Augment::default()
        };
        let plain = values(&set, &Augment::default(), 0);
        let mut changed = 0;
        for seed in 0..10 {
            let masked = values(&set, &augment, seed);
            for (clip, original) in masked.chunks(12).zip(plain.chunks(12)) {
                let mean = original.iter().sum::<f32>() / 12.0;
                for (v, o) in clip.iter().zip(original) {
                    assert!(
                        v == o || (v - mean).abs() < 1e-3,
                        "{v} is neither {o} nor {mean}"
                    );
                }
                changed += clip.iter().zip(original).filter(|(v, o)| v != o).count();
            }
        }
        assert!(changed > 0);
    }
    /// Melody contours become one-hot columns aligned with the log-mel's frames, also under
    /// random offsets (recording r's contour at frame t is bin (t + r) % 3, so a column says
    /// which frame it came from); a recording whose contour failed is left out with its clips.
    #[test]
    fn melody_contours_batch_as_one_hot_frames_of_the_same_window() {
        let contour = |r: usize, frames: usize| -> Vec<u16> {
            (0..frames).map(|t| ((t + r) % 3) as u16).collect()
        };
        let mut set = set();
        assert!(!set.has_melody());
        let indices: Vec<usize> = (0..set.len()).collect();
        assert!(set.inputs(&indices, &Device::default()).1.is_none());
        let problems = set.attach_melody(vec![Ok(contour(0, 10)), Ok(contour(1, 11))]);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(set.has_melody());
        let augment = Augment {
            random_offsets: true,
            ..Augment::default()
        };
        for seed in 0..10 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (mel, melody) =
                set.batch_augmented(&indices, &augment, &mut rng, &Device::default());
            let mel = mel.into_data().try_to_vec::<f32>().expect("f32");
            let melody = melody.expect("melody batch");
            assert_eq!(melody.dims(), [4, 1, 3, 4]);
            let melody = melody.into_data().try_to_vec::<f32>().expect("f32");
            for (b, (clip, hot)) in mel.chunks(12).zip(melody.chunks(12)).enumerate() {
                let r = set.clips[b].source;
                let start = (clip[0] - 1000.0 * r as f32) as usize;
                for t in 0..4 {
                    let column: Vec<f32> = (0..3).map(|m| hot[m * 4 + t]).collect();
                    let mut expected = vec![0.0; 3];
                    expected[(start + t + r) % 3] = 1.0;
                    assert_eq!(column, expected, "clip {b}, frame {t}");
                }
            }
        }

        let mut set = self::set();
        let problems = set.attach_melody(vec![Err("a.wav: melody: no".into()), Ok(contour(1, 11))]);
        assert_eq!(problems.len(), 1);
        assert_eq!(set.recording_count(), 1);
        assert_eq!(set.len(), 2);
        assert_eq!(set.singer(0), Some("singer1"));
        let (_, melody) = set.inputs(&[0, 1], &Device::default());
        assert_eq!(melody.expect("melody").dims(), [2, 1, 3, 4]);
        let mut set = self::set();
        assert_eq!(
            set.attach_melody(vec![Ok(contour(0, 9)), Ok(contour(1, 11))])
                .len(),
            1
        );
        assert_eq!(set.recording_count(), 1);
    }
}
