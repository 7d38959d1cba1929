//! Embeddings -> 2-D for the map of the library: principal component analysis (PCA).
//!
//! PCA rather than t-SNE (`singerid_eval::tsne`): a library has a handful of singers, too few
//! for t-SNE's neighbourhoods, and PCA is deterministic, so the map does not move between
//! visits unless the library changes. The two leading components are found by power iteration
//! on `Xᵀ X` (X: the centred points), the second with the first projected out, which needs no
//! linear-algebra dependency; at the library's sizes (tens to thousands of points of a few
//! hundred dimensions) it takes milliseconds.

/// Power-iteration steps per component (it stops earlier once the direction is stable).
const MAX_ITERATIONS: usize = 500;

/// Change in the direction (Euclidean) below which the iteration has converged.
const TOLERANCE: f64 = 1e-10;

/// Points in 2-D.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// One `[x, y]` per input point, in input order.
    pub points: Vec<[f32; 2]>,
    /// The share of the total variance along each axis, in [0, 1].
    pub explained: [f32; 2],
}

/// Projects `points` onto their two principal components. Every point must have the first
/// point's length; others are placed at the origin. Fewer than two points, or points that do
/// not vary, all land at the origin.
pub fn pca_2d(points: &[Vec<f32>]) -> Projection {
    let dim = points.first().map_or(0, Vec::len);
    let rows: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].len() == dim)
        .collect();
    let mut origin = Projection {
        points: vec![[0.0, 0.0]; points.len()],
        explained: [0.0, 0.0],
    };
    if rows.len() < 2 || dim == 0 {
        return origin;
    }
    let n = rows.len() as f64;
    let mut mean = vec![0.0_f64; dim];
    for &i in &rows {
        for (m, &v) in mean.iter_mut().zip(&points[i]) {
            *m += f64::from(v) / n;
        }
    }
    let centred: Vec<Vec<f64>> = rows
        .iter()
        .map(|&i| {
            points[i]
                .iter()
                .zip(&mean)
                .map(|(&v, m)| f64::from(v) - m)
                .collect()
        })
        .collect();
    let total: f64 = centred.iter().flatten().map(|v| v * v).sum::<f64>() / n;
    if total <= 0.0 {
        return origin;
    }
    let mut components: Vec<Vec<f64>> = Vec::new();
    for axis in 0..2 {
        let Some(component) = leading_direction(&centred, &components) else {
            break;
        };
        let scores: Vec<f64> = centred.iter().map(|row| dot(row, &component)).collect();
        let variance = scores.iter().map(|s| s * s).sum::<f64>() / n;
        origin.explained[axis] = (variance / total) as f32;
        for (&i, s) in rows.iter().zip(&scores) {
            origin.points[i][axis] = *s as f32;
        }
        components.push(component);
    }
    origin
}

/// The unit direction of greatest variance of `rows` orthogonal to `previous`, signed so that
/// its largest entry is positive; None when nothing varies in the remaining directions.
fn leading_direction(rows: &[Vec<f64>], previous: &[Vec<f64>]) -> Option<Vec<f64>> {
    let dim = rows.first()?.len();
    // A fixed start with every entry different, so it is not orthogonal to the answer by
    // accident (the golden-ratio sequence).
    let mut v: Vec<f64> = (0..dim)
        .map(|j| 1.0 + ((j + 1) as f64 * 0.618_033_988_749_895).fract())
        .collect();
    orthogonalise(&mut v, previous);
    normalise(&mut v)?;
    for _ in 0..MAX_ITERATIONS {
        // w = Xᵀ (X v)
        let mut w = vec![0.0_f64; dim];
        for row in rows {
            let s = dot(row, &v);
            for (w, r) in w.iter_mut().zip(row) {
                *w += s * r;
            }
        }
        orthogonalise(&mut w, previous);
        normalise(&mut w)?;
        let change = w
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        v = w;
        if change < TOLERANCE {
            break;
        }
    }
    let largest = v
        .iter()
        .copied()
        .max_by(|a, b| a.abs().total_cmp(&b.abs()))
        .unwrap_or(0.0);
    if largest < 0.0 {
        v.iter_mut().for_each(|x| *x = -*x);
    }
    Some(v)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Removes from `v` its parts along the (unit) `directions`.
fn orthogonalise(v: &mut [f64], directions: &[Vec<f64>]) {
    for d in directions {
        let along = dot(v, d);
        v.iter_mut().zip(d).for_each(|(x, d)| *x -= along * d);
    }
}

/// Scales `v` to unit length; None when it is (numerically) zero.
fn normalise(v: &mut [f64]) -> Option<()> {
    let norm = dot(v, v).sqrt();
    if norm < 1e-12 {
        return None;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four points (±2, 0, 5) and (0, ±1, 5): mean (0, 0, 5); the variance is 8/4 = 2 along x
    /// and 2/4 = 0.5 along y, total 2.5, so the axes explain 0.8 and 0.2, and the points land
    /// at (±2, 0) and (0, ±1) (the sign makes the largest entry of each axis positive).
    #[test]
    fn a_cross_projects_onto_its_arms() {
        let points = vec![
            vec![2.0, 0.0, 5.0],
            vec![-2.0, 0.0, 5.0],
            vec![0.0, 1.0, 5.0],
            vec![0.0, -1.0, 5.0],
        ];
        let p = pca_2d(&points);
        let expected = [[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]];
        for (got, want) in p.points.iter().zip(expected) {
            assert!((got[0] - want[0]).abs() < 1e-5 && (got[1] - want[1]).abs() < 1e-5);
        }
        assert!((p.explained[0] - 0.8).abs() < 1e-6 && (p.explained[1] - 0.2).abs() < 1e-6);
    }

    /// Degenerate inputs land at the origin without NaN: nothing, one point, identical points,
    /// and a point of another length among good ones.
    #[test]
    fn degenerate_inputs_land_at_the_origin() {
        assert!(pca_2d(&[]).points.is_empty());
        assert_eq!(pca_2d(&[vec![1.0, 2.0]]).points, vec![[0.0, 0.0]]);
        let same = pca_2d(&[vec![1.0, 2.0], vec![1.0, 2.0]]);
        assert_eq!(same.points, vec![[0.0, 0.0]; 2]);
        let mixed = pca_2d(&[vec![1.0, 0.0], vec![-1.0, 0.0], vec![3.0]]);
        assert_eq!(mixed.points[2], [0.0, 0.0]);
        assert!((mixed.points[0][0].abs() - 1.0).abs() < 1e-6);
        assert!(mixed.points.iter().flatten().all(|v| v.is_finite()));
    }
}
