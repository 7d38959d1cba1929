//! A minimal fork-join over disjoint work items, sized like burn-flex's rayon pool.

use std::sync::OnceLock;

/// Worker threads: `RAYON_NUM_THREADS` when set (the knob that also sizes burn-flex's pool),
/// else the available cores.
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// Runs `work` on every group of `groups` (one group per thread; the current thread takes the
/// first). Groups are disjoint by construction, so `work` may write through them freely.
pub fn run_groups<T: Send>(groups: Vec<T>, work: impl Fn(T) + Sync) {
    let mut groups = groups.into_iter();
    let Some(first) = groups.next() else {
        return;
    };
    std::thread::scope(|scope| {
        for group in groups {
            let work = &work;
            scope.spawn(move || work(group));
        }
        work(first);
    });
}

/// Splits `buf` into `plane`-sized blocks (block `i` of an NCHW tensor is batch `i / channels`,
/// channel `i % channels`) and deals them to threads by channel, so that every channel's blocks
/// land on one thread. Items: `(channel, block index, block)`.
pub fn blocks_by_channel<'a, T>(
    buf: &'a mut [T],
    plane: usize,
    channels: usize,
) -> Vec<Vec<(usize, usize, &'a mut [T])>> {
    let n_threads = threads().clamp(1, channels.max(1));
    let mut groups: Vec<Vec<(usize, usize, &'a mut [T])>> =
        (0..n_threads).map(|_| Vec::new()).collect();
    for (i, block) in buf.chunks_mut(plane.max(1)).enumerate() {
        let c = i % channels;
        groups[c * n_threads / channels].push((c, i, block));
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// Per-thread groups of paired blocks: `(block index, block of a, block of b)`.
pub type PairedGroups<'a, A, B> = Vec<Vec<(usize, &'a mut [A], &'a mut [B])>>;

/// Splits two buffers into blocks of `plane_a` and `plane_b` elements pairwise and deals the pairs
/// to threads in contiguous runs. Items: `(block index, block of a, block of b)`.
pub fn paired_blocks<'a, A, B>(
    a: &'a mut [A],
    plane_a: usize,
    b: &'a mut [B],
    plane_b: usize,
) -> PairedGroups<'a, A, B> {
    let blocks = a.len().checked_div(plane_a).unwrap_or(0);
    let n_threads = threads().clamp(1, blocks.max(1));
    let mut groups: PairedGroups<'a, A, B> = (0..n_threads).map(|_| Vec::new()).collect();
    for (i, (block_a, block_b)) in a
        .chunks_mut(plane_a.max(1))
        .zip(b.chunks_mut(plane_b.max(1)))
        .enumerate()
    {
        groups[i * n_threads / blocks.max(1)].push((i, block_a, block_b));
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// Splits `buf` into `plane`-sized blocks and deals them to threads in contiguous runs. Items:
/// `(block index, block)`.
pub fn blocks<T>(buf: &mut [T], plane: usize) -> Vec<Vec<(usize, &mut [T])>> {
    let count = buf.len().checked_div(plane).unwrap_or(0);
    let n_threads = threads().clamp(1, count.max(1));
    let mut groups: Vec<Vec<(usize, &mut [T])>> = (0..n_threads).map(|_| Vec::new()).collect();
    for (i, block) in buf.chunks_mut(plane.max(1)).enumerate() {
        groups[i * n_threads / count.max(1)].push((i, block));
    }
    groups.retain(|g| !g.is_empty());
    groups
}
