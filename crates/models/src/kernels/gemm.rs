//! A bounds-checked matrix product over strided row-major views, on the `gemm` crate (the
//! same crate burn-flex's matmul runs on).
//!
//! The point of the strides: a row stride smaller than the row length lets rows overlap, so
//! a 1-D convolution over a time-major signal is one product with no im2col copy (row `t` of
//! the "column" matrix starts `stride · channels` floats after row `t - 1`; see
//! [`crate::pitch::cpu`]). This is the workspace's only `unsafe`: `gemm::gemm` takes raw
//! pointers, and [`matmul`] checks every index it can touch before handing them over.

/// A row-major `rows x cols` view of `data`: element `(r, c)` is `data[r * row_stride + c]`.
/// Rows may overlap (`row_stride < cols`) in an operand, not in the destination.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// The floats the view reads.
    pub data: &'a [f32],
    /// Floats from the start of one row to the start of the next.
    pub row_stride: usize,
}

/// `dst = a · b` (or `dst += a · b` with `accumulate`), `a` `m x k`, `b` `k x n`, `dst` `m x n`
/// with row stride `dst_stride`, single-threaded (callers parallelise over independent
/// products).
///
/// # Panics
/// If a view is too short for its shape, or the destination's rows overlap
/// (`dst_stride < n`).
#[allow(unsafe_code)]
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    [m, k, n]: [usize; 3],
    a: View<'_>,
    b: View<'_>,
    dst: &mut [f32],
    dst_stride: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    let needed = |rows: usize, stride: usize, cols: usize| (rows - 1) * stride + cols;
    assert!(
        dst_stride >= n && dst.len() >= needed(m, dst_stride, n),
        "matmul: destination too short or overlapping"
    );
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(dst_stride).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    assert!(
        a.data.len() >= needed(m, a.row_stride, k),
        "matmul: left operand too short for {m} x {k}"
    );
    assert!(
        b.data.len() >= needed(k, b.row_stride, n),
        "matmul: right operand too short for {k} x {n}"
    );
    let stride = |s: usize| isize::try_from(s).expect("a stride that fits isize");
    // SAFETY: the asserts above put every element `gemm` reads (`a[r·sa + c]` for r < m,
    // c < k; `b[r·sb + c]` for r < k, c < n) and writes (`dst[r·sd + c]` for r < m, c < n)
    // inside its slice; `dst` is borrowed mutably, so it aliases neither operand, and its
    // rows do not overlap (`dst_stride >= n`), so no element is written twice.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            stride(dst_stride),
            accumulate,
            a.data.as_ptr(),
            1,
            stride(a.row_stride),
            b.data.as_ptr(),
            1,
            stride(b.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive([m, k, n]: [usize; 3], a: &[f32], sa: usize, b: &[f32], sb: usize) -> Vec<f32> {
        let mut out = vec![0.0f32; m * n];
        for r in 0..m {
            for c in 0..n {
                out[r * n + c] = (0..k).map(|i| a[r * sa + i] * b[i * sb + c]).sum();
            }
        }
        out
    }

    #[test]
    fn overlapping_rows_equal_the_explicit_product() {
        // a: 5 x 4 with row stride 2 over 12 floats (rows overlap, as a strided conv's).
        let a: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 2.0).collect();
        let b: Vec<f32> = (0..4 * 3).map(|i| (i % 5) as f32 - 1.5).collect();
        let mut dst = vec![9.0f32; 5 * 3];
        matmul(
            [5, 4, 3],
            View {
                data: &a,
                row_stride: 2,
            },
            View {
                data: &b,
                row_stride: 3,
            },
            &mut dst,
            3,
            false,
        );
        assert_eq!(dst, naive([5, 4, 3], &a, 2, &b, 3));
        // Accumulating adds the same product again.
        let once = dst.clone();
        let view_a = View {
            data: &a,
            row_stride: 2,
        };
        let view_b = View {
            data: &b,
            row_stride: 3,
        };
        matmul([5, 4, 3], view_a, view_b, &mut dst, 3, true);
        let twice: Vec<f32> = once.iter().map(|v| 2.0 * v).collect();
        assert_eq!(dst, twice);
    }

    #[test]
    #[should_panic(expected = "left operand too short")]
    fn a_short_operand_is_refused() {
        let a = [0.0f32; 7];
        let b = [0.0f32; 4];
        let mut dst = [0.0f32; 4];
        matmul(
            [2, 2, 2],
            View {
                data: &a[..3],
                row_stride: 2,
            },
            View {
                data: &b,
                row_stride: 2,
            },
            &mut dst,
            2,
            false,
        );
    }
}
