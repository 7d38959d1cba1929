//! Balanced, song-disjoint clip pairs for training a siamese embedding with the contrastive
//! loss ([`crate::objective::contrastive`]).
//!
//! Lee et al. (ICLR 2018 submission, Sec. 3.5) draw "pairs of chopped samples from the same
//! singer or different ones … randomly … in a 1 : 1 ratio", and show that embeddings pick up a
//! "song effect". A [`PairSampler`] therefore pairs clips of **different songs** wherever it
//! can, so that "same" can only be learned from the voice:
//!
//! - **Balance.** Pair `2i` is a same-singer pair and pair `2i + 1` a different-singer pair,
//!   so every even-sized batch taken in order is exactly half and half.
//! - **Same-singer pair.** The anchor is drawn uniformly from the clips whose singer has at
//!   least two clips; the partner uniformly from that singer's clips of *other* songs. A singer
//!   with a single song (but at least two clips) falls back to another clip of that song (never
//!   the anchor itself): such pairs still teach "same singer", but with the song shared. They
//!   are counted ([`PairSampler::single_song_singers`]) and warned about once; drop those
//!   singers' clips beforehand for a strictly song-disjoint set. Singers with one clip never
//!   anchor a same pair.
//! - **Different-singer pair.** The anchor is drawn uniformly from all clips that have a valid
//!   partner; the partner uniformly from the clips of other singers *and* other songs (song
//!   keys are compared across singers, so two singers' versions of one song, as in DAMP, never
//!   form a pair).
//! - **Determinism.** The pairs depend only on the clip list (its order included) and the seed
//!   (ChaCha8); singer and song keys only need `Eq + Hash`, and hash order never matters.
//!
//! Drawing clips uniformly weights singers by their clip counts, like the classifier's batches.

use std::collections::HashMap;
use std::hash::Hash;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Error;

/// Two clips (indices into the sampler's clip list) and whether one singer sings both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClipPair {
    /// The anchor clip.
    pub first: usize,
    /// The partner clip.
    pub second: usize,
    /// `true` for a same-singer pair.
    pub same: bool,
}

/// Draws balanced, song-disjoint pairs from labelled clips; see the module docs.
#[derive(Debug, Clone)]
pub struct PairSampler {
    /// Dense singer id of each clip.
    singer: Vec<usize>,
    /// Dense song id of each clip.
    song: Vec<usize>,
    /// Each singer's clips, grouped in contiguous blocks by song.
    by_singer: Vec<Vec<usize>>,
    /// Per clip: its position in `by_singer` and the `[start, end)` of its song's block there.
    position: Vec<usize>,
    block: Vec<(usize, usize)>,
    /// Clips that can anchor a same-singer pair.
    same_anchors: Vec<usize>,
    /// Clips that can anchor a different-singer pair.
    different_anchors: Vec<usize>,
    /// Singers with two or more clips, all of one song.
    single_song_singers: usize,
}

impl PairSampler {
    /// A sampler over `clips`, one `(singer, song)` key per clip; pair indices refer to this
    /// list.
    ///
    /// # Errors
    ///
    /// [`Error::Pairs`] when no same-singer pair exists (no singer has two clips) or no
    /// different-singer pair exists (one singer only, or every other singer's clips share the
    /// anchor's songs).
    pub fn new<S: Eq + Hash, G: Eq + Hash>(clips: &[(S, G)]) -> Result<Self, Error> {
        let singer = dense_ids(clips.iter().map(|(s, _)| s));
        let song = dense_ids(clips.iter().map(|(_, g)| g));
        let n_singers = singer.iter().max().map_or(0, |&s| s + 1);
        let n_songs = song.iter().max().map_or(0, |&g| g + 1);

        // Each singer's clips, stably grouped by song (first-appearance order of songs).
        let mut by_singer: Vec<Vec<usize>> = vec![Vec::new(); n_singers];
        for clip in 0..clips.len() {
            by_singer[singer[clip]].push(clip);
        }
        let mut position = vec![0; clips.len()];
        let mut block = vec![(0, 0); clips.len()];
        let mut single_song_singers = 0;
        for own in &mut by_singer {
            own.sort_by_key(|&clip| song[clip]);
            let mut start = 0;
            while start < own.len() {
                let this_song = song[own[start]];
                let end = start + own[start..].partition_point(|&c| song[c] == this_song);
                for (offset, &clip) in own[start..end].iter().enumerate() {
                    position[clip] = start + offset;
                    block[clip] = (start, end);
                }
                start = end;
            }
            if own.len() >= 2 && block[own[0]] == (0, own.len()) {
                single_song_singers += 1;
            }
        }

        let same_anchors: Vec<usize> = (0..clips.len())
            .filter(|&c| by_singer[singer[c]].len() >= 2)
            .collect();
        // Valid different partners of c: all clips, minus c's singer's, minus other singers'
        // clips of c's song.
        let mut song_total = vec![0_usize; n_songs];
        for &g in &song {
            song_total[g] += 1;
        }
        let different_anchors: Vec<usize> = (0..clips.len())
            .filter(|&c| {
                let (start, end) = block[c];
                let same_song_elsewhere = song_total[song[c]] - (end - start);
                clips.len() - by_singer[singer[c]].len() - same_song_elsewhere > 0
            })
            .collect();

        if same_anchors.is_empty() {
            return Err(Error::Pairs {
                message: format!(
                    "no same-singer pair can be formed: none of the {n_singers} singers has two \
                     clips ({} clips); use longer recordings or shorter clips",
                    clips.len()
                ),
            });
        }
        if different_anchors.is_empty() {
            return Err(Error::Pairs {
                message: format!(
                    "no different-singer pair of different songs can be formed ({n_singers} \
                     singer(s), {n_songs} song(s)); the clips need at least two singers"
                ),
            });
        }
        if single_song_singers > 0 {
            tracing::warn!(
                "{single_song_singers} of {n_singers} singers have clips of one song only; their \
                 same-singer pairs share that song (the 'song effect'); leave those singers out \
                 for strictly song-disjoint pairs"
            );
        }
        Ok(Self {
            singer,
            song,
            by_singer,
            position,
            block,
            same_anchors,
            different_anchors,
            single_song_singers,
        })
    }

    /// The number of clips.
    pub fn len(&self) -> usize {
        self.singer.len()
    }

    /// Whether there are no clips (never, for a constructed sampler).
    pub fn is_empty(&self) -> bool {
        self.singer.is_empty()
    }

    /// Singers with two or more clips that all come from one song: their same-singer pairs
    /// share the song.
    pub fn single_song_singers(&self) -> usize {
        self.single_song_singers
    }

    /// `n_pairs` pairs, alternating same (even index) and different (odd index), drawn with a
    /// ChaCha8 generator seeded with `seed`: the same clips, seed and `n_pairs` give the same
    /// pairs, and a longer draw extends a shorter one.
    pub fn sample(&self, n_pairs: usize, seed: u64) -> Vec<ClipPair> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n_pairs)
            .map(|i| {
                if i % 2 == 0 {
                    self.same_pair(&mut rng)
                } else {
                    self.different_pair(&mut rng)
                }
            })
            .collect()
    }

    fn same_pair(&self, rng: &mut impl Rng) -> ClipPair {
        let first = self.same_anchors[rng.random_range(0..self.same_anchors.len())];
        let own = &self.by_singer[self.singer[first]];
        let (start, end) = self.block[first];
        let index = if end - start < own.len() {
            // Uniform over the singer's clips outside the anchor's song block.
            let r = rng.random_range(0..own.len() - (end - start));
            if r < start { r } else { r + (end - start) }
        } else {
            // One song only: uniform over the singer's other clips.
            let r = rng.random_range(0..own.len() - 1);
            if r < self.position[first] { r } else { r + 1 }
        };
        ClipPair {
            first,
            second: own[index],
            same: true,
        }
    }

    fn different_pair(&self, rng: &mut impl Rng) -> ClipPair {
        let first = self.different_anchors[rng.random_range(0..self.different_anchors.len())];
        // Rejection from all clips: every anchor has a valid partner (checked in `new`), and
        // the expected number of draws is `clips / valid partners`.
        loop {
            let second = rng.random_range(0..self.singer.len());
            if self.singer[second] != self.singer[first] && self.song[second] != self.song[first] {
                return ClipPair {
                    first,
                    second,
                    same: false,
                };
            }
        }
    }
}

/// Dense ids `0, 1, …` in order of first appearance.
fn dense_ids<'a, K: Eq + Hash + 'a>(keys: impl Iterator<Item = &'a K>) -> Vec<usize> {
    let mut ids: HashMap<&K, usize> = HashMap::new();
    keys.map(|key| {
        let next = ids.len();
        *ids.entry(key).or_insert(next)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Singer "a": songs a1 (3 clips) and a2 (2); "b": b1 (2) and b2 (1); "c": c1 only
    /// (3 clips); "d": one clip.
    fn catalogue() -> Vec<(&'static str, &'static str)> {
        vec![
            ("a", "a1"),
            ("b", "b1"),
            ("a", "a1"),
            ("c", "c1"),
            ("a", "a2"),
            ("b", "b2"),
            ("a", "a1"),
            ("c", "c1"),
            ("b", "b1"),
            ("a", "a2"),
            ("d", "d1"),
            ("c", "c1"),
        ]
    }

    #[test]
    fn pairs_alternate_same_and_different_and_respect_songs() {
        let clips = catalogue();
        let sampler = PairSampler::new(&clips).expect("valid");
        assert_eq!(sampler.single_song_singers(), 1, "singer c");
        let pairs = sampler.sample(2000, 7);
        assert_eq!(pairs.len(), 2000);
        let same = pairs.iter().filter(|p| p.same).count();
        assert_eq!(same, 1000);
        for (i, p) in pairs.iter().enumerate() {
            let ((s1, g1), (s2, g2)) = (clips[p.first], clips[p.second]);
            assert_eq!(p.same, i % 2 == 0, "pair {i}");
            assert_ne!(p.first, p.second, "pair {i}");
            assert_eq!(p.same, s1 == s2, "pair {i}: {s1} vs {s2}");
            if s1 != "c" {
                assert_ne!(g1, g2, "pair {i}: {p:?} shares song {g1}");
            }
            assert!(s1 != "d" || !p.same, "d has one clip");
        }
    }

    /// Over many draws every valid partner shows up, and no invalid one: the block-skipping
    /// index map covers exactly the clips of the singer's other songs.
    #[test]
    fn every_valid_pair_is_drawn() {
        let clips = catalogue();
        let pairs = PairSampler::new(&clips).expect("valid").sample(20_000, 3);
        let drawn: HashSet<(usize, usize, bool)> =
            pairs.iter().map(|p| (p.first, p.second, p.same)).collect();
        let mut valid = HashSet::new();
        for (i, &(s1, g1)) in clips.iter().enumerate() {
            for (j, &(s2, g2)) in clips.iter().enumerate() {
                let single_song = s1 == "c";
                if i != j && s1 == s2 && (g1 != g2 || single_song) {
                    valid.insert((i, j, true));
                }
                if s1 != s2 && g1 != g2 {
                    valid.insert((i, j, false));
                }
            }
        }
        assert_eq!(drawn, valid);
    }

    #[test]
    fn same_seed_same_pairs() {
        let sampler = PairSampler::new(&catalogue()).expect("valid");
        assert_eq!(sampler.sample(300, 42), sampler.sample(300, 42));
        assert_ne!(sampler.sample(300, 42), sampler.sample(300, 43));
        // A longer draw extends a shorter one.
        assert_eq!(sampler.sample(300, 42)[..], sampler.sample(500, 42)[..300]);
        // Keys of another type, same structure: the same pairs (hashing never matters).
        let numbered: Vec<(u32, String)> = catalogue()
            .iter()
            .map(|(s, g)| (u32::from(s.as_bytes()[0]), g.to_uppercase()))
            .collect();
        let renamed = PairSampler::new(&numbered).expect("valid");
        assert_eq!(renamed.sample(300, 42), sampler.sample(300, 42));
    }

    /// Two singers who sang the same song (a cover, as in DAMP): their clips of it never pair.
    #[test]
    fn shared_songs_never_form_different_pairs() {
        let clips = [("a", "x"), ("a", "y"), ("b", "x"), ("b", "z")];
        let pairs = PairSampler::new(&clips).expect("valid").sample(400, 1);
        for p in pairs.iter().filter(|p| !p.same) {
            assert_ne!(clips[p.first].1, clips[p.second].1, "{p:?}");
        }
    }

    #[test]
    fn impossible_sets_are_errors() {
        let one_singer = [("a", "1"), ("a", "2")];
        assert!(matches!(
            PairSampler::new(&one_singer),
            Err(Error::Pairs { message }) if message.contains("at least two singers")
        ));
        let one_clip_each = [("a", "1"), ("b", "2")];
        assert!(matches!(
            PairSampler::new(&one_clip_each),
            Err(Error::Pairs { message }) if message.contains("none of the 2 singers has two")
        ));
        let empty: [(u8, u8); 0] = [];
        assert!(PairSampler::new(&empty).is_err());
    }
}
