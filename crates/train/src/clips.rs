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
use singerid_audio::LogMel;
use singerid_data::clip::{ClipLength, LastClip, clip_ranges};
use singerid_data::{FeatureCache, Recording, song_key};
use singerid_models::ModelError;

use crate::Error;

/// One recording held by a [`ClipSet`].
#[derive(Debug, Clone)]
struct Source {
    recording: Recording,
    song: String,
    label: Option<usize>,
    mel: LogMel,
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
            });
        }
        Ok((set, problems))
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
        let per_clip = self.n_mels * self.clip_frames;
        let mut values = Vec::with_capacity(indices.len() * per_clip);
        for &i in indices {
            let clip = self.clips[i];
            let mel = &self.sources[clip.source].mel;
            for m in 0..self.n_mels {
                let row = m * mel.n_frames + clip.start_frame;
                values.extend_from_slice(&mel.data[row..row + self.clip_frames]);
            }
        }
        let shape = [indices.len(), 1, self.n_mels, self.clip_frames];
        Tensor::from_data(TensorData::new(values, shape), device)
    }
}
