//! CPython's `random` module, the parts the authors' split used: `seed(int)`,
//! `getrandbits` and `shuffle` (unchanged since Python 3.2).
//!
//! The generator is MT19937 (M. Matsumoto and T. Nishimura, "Mersenne Twister:
//! a 623-dimensionally equidistributed uniform pseudo-random number
//! generator", ACM TOMACS 8(1), 1998), seeded with `init_by_array` over the
//! 32-bit words of the seed, least significant first, as CPython's
//! `random_seed` does for an integer. Verified against CPython 3.11 by the
//! tests below (`tools/split_reference.py`).

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

pub(super) struct PythonRandom {
    state: [u32; N],
    index: usize,
}

impl PythonRandom {
    /// `random.seed(seed)` for a non-negative integer seed.
    pub(super) fn seed(seed: u64) -> Self {
        let low = seed as u32; // the low 32-bit word, truncation intended
        let high = (seed >> 32) as u32;
        // CPython uses as many words as the integer needs, and one for 0.
        if high == 0 {
            Self::from_key(&[low])
        } else {
            Self::from_key(&[low, high])
        }
    }

    /// MT19937 `init_genrand`.
    fn from_u32(s: u32) -> Self {
        let mut state = [0_u32; N];
        state[0] = s;
        for i in 1..N {
            let prev = state[i - 1];
            state[i] = 1_812_433_253_u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Self { state, index: N }
    }

    /// MT19937 `init_by_array`; `key` is never empty.
    fn from_key(key: &[u32]) -> Self {
        let mut g = Self::from_u32(19_650_218);
        let mt = &mut g.state;
        let mut i = 1_usize;
        let mut j = 0_usize;
        for _ in 0..N.max(key.len()) {
            let prev = mt[i - 1];
            mt[i] = (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1];
            mt[i] =
                (mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = UPPER_MASK; // non-zero initial state is assured
        g
    }

    /// The next raw 32-bit output (`genrand_uint32`).
    pub(super) fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        let mt = &mut self.state;
        for k in 0..N {
            let y = (mt[k] & UPPER_MASK) | (mt[(k + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            mt[k] = mt[(k + M) % N] ^ (y >> 1) ^ mag;
        }
        self.index = 0;
    }

    /// `random.getrandbits(k)` for `1 <= k <= 64`: 32-bit words, least
    /// significant first, the last one cut to the remaining bits.
    pub(super) fn getrandbits(&mut self, k: u32) -> u64 {
        debug_assert!((1..=64).contains(&k));
        if k <= 32 {
            return u64::from(self.next_u32() >> (32 - k));
        }
        let low = u64::from(self.next_u32());
        let high = u64::from(self.next_u32() >> (64 - k));
        low | (high << 32)
    }

    /// `random._randbelow(n)` for `n >= 1`: rejection sampling on
    /// `getrandbits(n.bit_length())`.
    pub(super) fn randbelow(&mut self, n: u64) -> u64 {
        let k = u64::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// `random.shuffle(x)`: Fisher-Yates from the end,
    /// `for i in reversed(range(1, len(x))): j = randbelow(i + 1); swap`.
    pub(super) fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            // `i + 1 <= x.len()`, far below 2^64; `j <= i`.
            let j = self.randbelow(i as u64 + 1) as usize;
            x.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Reference values: `python3 tools/split_reference.py` (CPython 3.11.7).

    use super::*;

    #[test]
    fn mt19937_matches_cpython_getrandbits_32() {
        let expected: [(u64, [u32; 8]); 4] = [
            (
                0,
                [
                    3626764237, 1654615998, 3255389356, 3823568514, 1806341205, 173879092,
                    1112038970, 4146640122,
                ],
            ),
            (
                21,
                [
                    708452615, 1795269057, 2962526392, 1795425522, 2727303991, 1207989654,
                    2057720845, 3621853979,
                ],
            ),
            (
                42,
                [
                    2746317213, 478163327, 107420369, 3184935163, 1181241943, 1051802512,
                    958682846, 599310825,
                ],
            ),
            (
                (1 << 40) + 5,
                [
                    2166296868, 2220160828, 1153647273, 2850991874, 3976222944, 117802120,
                    2280452553, 3257480346,
                ],
            ),
        ];
        for (seed, words) in expected {
            let mut rng = PythonRandom::seed(seed);
            let got: Vec<u32> = (0..8).map(|_| rng.next_u32()).collect();
            assert_eq!(got, words, "seed {seed}");
        }
    }

    #[test]
    fn mt19937_twists_past_the_first_624_words() {
        // 2000 draws cross three twists; outputs must stay distinct from the first block.
        let mut rng = PythonRandom::seed(42);
        let words: Vec<u32> = (0..2000).map(|_| rng.next_u32()).collect();
        assert_ne!(words[..624], words[624..1248]);
        assert_eq!(words[0], 2746317213);
    }

    #[test]
    fn shuffle_matches_cpython_random_shuffle() {
        // `random.seed(s)`, then `random.shuffle(list(range(n)))` for n = 0..=12 in turn.
        let expected: [(u64, [&[usize]; 13]); 3] = [
            (
                0,
                [
                    &[],
                    &[0],
                    &[0, 1],
                    &[2, 0, 1],
                    &[0, 1, 3, 2],
                    &[0, 4, 1, 2, 3],
                    &[2, 0, 3, 5, 1, 4],
                    &[1, 5, 3, 2, 4, 0, 6],
                    &[3, 7, 1, 2, 6, 5, 0, 4],
                    &[0, 7, 8, 3, 1, 4, 2, 6, 5],
                    &[4, 1, 2, 6, 3, 5, 7, 9, 8, 0],
                    &[2, 9, 0, 8, 6, 4, 7, 1, 10, 3, 5],
                    &[10, 6, 3, 9, 4, 2, 0, 7, 8, 5, 11, 1],
                ],
            ),
            (
                21,
                [
                    &[],
                    &[0],
                    &[1, 0],
                    &[0, 2, 1],
                    &[3, 0, 1, 2],
                    &[4, 0, 2, 1, 3],
                    &[4, 1, 3, 2, 5, 0],
                    &[3, 6, 2, 4, 5, 1, 0],
                    &[2, 1, 0, 7, 4, 3, 5, 6],
                    &[1, 4, 3, 6, 2, 0, 5, 7, 8],
                    &[5, 8, 6, 3, 2, 4, 9, 7, 0, 1],
                    &[10, 4, 8, 6, 5, 1, 9, 3, 7, 0, 2],
                    &[0, 11, 1, 10, 7, 9, 4, 2, 5, 3, 6, 8],
                ],
            ),
            (
                42,
                [
                    &[],
                    &[0],
                    &[1, 0],
                    &[2, 1, 0],
                    &[3, 2, 0, 1],
                    &[3, 1, 2, 4, 0],
                    &[1, 2, 3, 4, 5, 0],
                    &[5, 3, 2, 1, 0, 6, 4],
                    &[5, 1, 6, 0, 2, 4, 7, 3],
                    &[7, 8, 3, 0, 2, 6, 1, 4, 5],
                    &[9, 6, 7, 3, 0, 2, 4, 8, 5, 1],
                    &[9, 0, 3, 2, 7, 5, 10, 4, 8, 1, 6],
                    &[7, 2, 5, 8, 6, 10, 9, 4, 3, 0, 1, 11],
                ],
            ),
        ];
        for (seed, lists) in expected {
            let mut rng = PythonRandom::seed(seed);
            for (n, want) in lists.iter().enumerate() {
                let mut xs: Vec<usize> = (0..n).collect();
                rng.shuffle(&mut xs);
                assert_eq!(&xs, want, "seed {seed}, n {n}");
            }
        }
    }

    #[test]
    fn getrandbits_wider_than_32_matches_cpython() {
        // random.seed(5); getrandbits(40), getrandbits(64), getrandbits(33).
        let mut rng = PythonRandom::seed(5);
        assert_eq!(rng.getrandbits(40), 281_848_216_645);
        assert_eq!(rng.getrandbits(64), 6_613_812_840_851_947_673);
        assert_eq!(rng.getrandbits(33), 7_710_297_655);
    }

    #[test]
    fn randbelow_never_reaches_its_bound() {
        let mut rng = PythonRandom::seed(7);
        for n in [1_u64, 2, 3, 5, 8, 1000, (1 << 33) + 1] {
            for _ in 0..200 {
                assert!(rng.randbelow(n) < n);
            }
        }
    }
}
