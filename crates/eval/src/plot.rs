//! PNG plots for reports: confusion matrices, 2-D embedding maps and learning curves.
//!
//! Drawn with `plotters` into an RGB buffer and encoded with `png`. Text uses DejaVu Sans,
//! embedded from `assets/DejaVuSans.ttf` (Bitstream Vera license, `assets/DejaVuSans-LICENSE.txt`)
//! and registered with plotters' `ab_glyph` font table, so plots render the same on any machine,
//! with or without system fonts.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform, register_font};

use crate::Error;
use crate::report::CurvePoint;

/// The embedded font.
const FONT_TTF: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name the font is registered under.
const FONT: &str = "sans-serif";

/// Registers the embedded font once; `false` if it could not be parsed (a build defect).
fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_TTF).is_ok())
}

fn plot_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.to_owned(),
        source: std::io::Error::other(format!("drawing the plot: {message}")),
    }
}

/// Draws into an RGB canvas of `width x height` with `draw` and writes it as a PNG to `path`.
fn render_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<(), Error> {
    if !font_ready() {
        return Err(plot_error(path, "the embedded font could not be loaded"));
    }
    let mut rgb = vec![255_u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
        draw(&root).map_err(|e| plot_error(path, e))?;
        root.present().map_err(|e| plot_error(path, e))?;
    }
    write_png(path, width, height, &rgb)
}

/// Encodes an 8-bit RGB buffer as a PNG file.
fn write_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| plot_error(path, format!("PNG header: {e}")))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| plot_error(path, format!("PNG data: {e}")))?;
    writer
        .finish()
        .map_err(|e| plot_error(path, format!("PNG end: {e}")))
}

/// `n` distinguishable colours: hues spread around the circle, alternating two lightnesses.
pub fn palette(n: usize) -> Vec<RGBColor> {
    (0..n)
        .map(|i| {
            let hue = i as f64 / n.max(1) as f64;
            let lightness = if i % 2 == 0 { 0.42 } else { 0.58 };
            let HSLColor(h, s, l) = HSLColor(hue, 0.75, lightness);
            let rgb = HSLColor(h, s, l).to_backend_color().rgb;
            RGBColor(rgb.0, rgb.1, rgb.2)
        })
        .collect()
}

/// Approximate width in pixels of `text` at `size` px (DejaVu Sans averages ~0.6 em).
fn text_width(text: &str, size: f64) -> i32 {
    (text.chars().count() as f64 * size * 0.6).ceil() as i32
}

/// A row-normalised confusion matrix as a heat map, class names on both axes and each cell's
/// value written in it.
///
/// # Parameters
///
/// - `matrix`: `matrix[t][p]`, fraction of true class `t` predicted as `p` (rows sum to 1, or
///   0 for a class without samples), one row and column per name in `classes`.
/// - `title`: the caption, e.g. `"Frame-level confusion (row-normalised)"`.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if `matrix` is not `classes.len()` square; [`Error::Io`] naming
/// `path` if drawing or writing fails.
pub fn confusion_png(
    path: &Path,
    title: &str,
    classes: &[String],
    matrix: &[Vec<f64>],
) -> Result<(), Error> {
    let n = classes.len();
    if let Some(bad) = std::iter::once(matrix.len())
        .chain(matrix.iter().map(Vec::len))
        .find(|&len| len != n)
    {
        return Err(Error::LengthMismatch {
            what: "confusion matrix size vs classes",
            left: bad,
            right: n,
        });
    }
    let cell = (640 / n.max(1)).clamp(14, 110) as i32;
    let label_size = f64::from(cell).clamp(10.0, 16.0);
    let longest = classes
        .iter()
        .map(|c| text_width(c, label_size))
        .max()
        .unwrap_or(0);
    let (left, top) = (longest + 60, 60);
    let grid = cell * n as i32;
    let width = (left + grid + 40).max(480);
    let height = (top + grid + longest + 60).max(400);
    render_png(path, (width as u32, height as u32), |root| {
        let font = |size: f64| (FONT, size).into_font();
        let centre = Pos::new(HPos::Center, VPos::Center);
        root.draw(&Text::new(
            title.to_owned(),
            (width / 2, 25),
            font(20.0).color(&BLACK).pos(centre),
        ))
        .map_err(|e| e.to_string())?;
        for (t, row) in matrix.iter().enumerate() {
            for (p, &value) in row.iter().enumerate() {
                let (x, y) = (left + p as i32 * cell, top + t as i32 * cell);
                let shade = (255.0 * (1.0 - value.clamp(0.0, 1.0) * 0.85)) as u8;
                let fill = RGBColor(shade, shade, 255);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    fill.filled(),
                ))
                .map_err(|e| e.to_string())?;
                // Empty cells stay blank so the non-zero ones stand out.
                if cell >= 24 && value > 0.0 {
                    let ink = if value > 0.55 { WHITE } else { BLACK };
                    let size = (f64::from(cell) * 0.32).clamp(8.0, 15.0);
                    root.draw(&Text::new(
                        format!("{value:.2}"),
                        (x + cell / 2, y + cell / 2),
                        font(size).color(&ink).pos(centre),
                    ))
                    .map_err(|e| e.to_string())?;
                }
            }
        }
        root.draw(&Rectangle::new(
            [(left, top), (left + grid, top + grid)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| e.to_string())?;
        for (i, name) in classes.iter().enumerate() {
            let middle = i as i32 * cell + cell / 2;
            root.draw(&Text::new(
                name.clone(),
                (left - 6, top + middle),
                font(label_size)
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(|e| e.to_string())?;
            root.draw(&Text::new(
                name.clone(),
                (left + middle, top + grid + 6),
                font(label_size)
                    .transform(FontTransform::Rotate90)
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(|e| e.to_string())?;
        }
        root.draw(&Text::new(
            "true singer".to_owned(),
            (16, top + grid / 2),
            font(16.0)
                .transform(FontTransform::Rotate270)
                .color(&BLACK)
                .pos(centre),
        ))
        .map_err(|e| e.to_string())?;
        root.draw(&Text::new(
            "predicted singer".to_owned(),
            (left + grid / 2, height - 20),
            font(16.0).color(&BLACK).pos(centre),
        ))
        .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// A 2-D scatter plot of labelled points (a t-SNE map), one colour per group, with a legend.
///
/// # Parameters
///
/// - `points`: the map coordinates.
/// - `groups`: the group index of each point, each `< names.len()`.
/// - `names`: group names for the legend, e.g. singers.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if `points` and `groups` differ in length,
/// [`Error::LabelOutOfRange`] for a group without a name, [`Error::Io`] naming `path` if
/// drawing or writing fails.
pub fn scatter_png(
    path: &Path,
    title: &str,
    points: &[[f64; 2]],
    groups: &[usize],
    names: &[String],
) -> Result<(), Error> {
    if points.len() != groups.len() {
        return Err(Error::LengthMismatch {
            what: "map points vs their groups",
            left: points.len(),
            right: groups.len(),
        });
    }
    if let Some((position, &label)) = groups.iter().enumerate().find(|(_, g)| **g >= names.len()) {
        return Err(Error::LabelOutOfRange {
            which: "point groups",
            label,
            position,
            n_classes: names.len(),
        });
    }
    let (lo, hi) = bounds(points.iter().flat_map(|p| p.iter().copied()));
    let colours = palette(names.len());
    let legend_size = 14.0;
    let legend_width = names
        .iter()
        .map(|n| text_width(n, legend_size))
        .max()
        .unwrap_or(0)
        + 50;
    let rows_per_column = 40;
    let legend_columns = names.len().div_ceil(rows_per_column).max(1) as i32;
    let plot_side = 800;
    let width = plot_side + legend_width * legend_columns;
    render_png(path, (width as u32, plot_side as u32), |root| {
        let (plot, legend) = root.split_horizontally(plot_side);
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, (FONT, 20.0))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("t-SNE 1")
            .y_desc("t-SNE 2")
            .label_style((FONT, 13.0))
            .axis_desc_style((FONT, 15.0))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| e.to_string())?;
        for (group, colour) in colours.iter().enumerate() {
            let series = points
                .iter()
                .zip(groups)
                .filter(|(_, g)| **g == group)
                .map(|(p, _)| Circle::new((p[0], p[1]), 4, colour.mix(0.8).filled()));
            chart.draw_series(series).map_err(|e| e.to_string())?;
        }
        let font = (FONT, legend_size).into_font();
        legend
            .draw(&Text::new(
                "singer".to_owned(),
                (10, 24),
                font.clone().color(&BLACK),
            ))
            .map_err(|e| e.to_string())?;
        for (i, (name, colour)) in names.iter().zip(&colours).enumerate() {
            let column = (i / rows_per_column) as i32;
            let row = (i % rows_per_column) as i32;
            let (x, y) = (10 + column * legend_width, 50 + row * 18);
            legend
                .draw(&Circle::new((x + 6, y), 5, colour.filled()))
                .map_err(|e| e.to_string())?;
            legend
                .draw(&Text::new(
                    name.clone(),
                    (x + 16, y),
                    font.clone()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// Learning curves: losses (left) and train accuracy / validation weighted F1 (right) per epoch.
/// Non-finite values are left out of the lines.
///
/// # Errors
///
/// [`Error::NoSamples`] for an empty curve, [`Error::Io`] naming `path` if drawing or writing
/// fails.
pub fn learning_curve_png(path: &Path, curve: &[CurvePoint]) -> Result<(), Error> {
    if curve.is_empty() {
        return Err(Error::NoSamples);
    }
    let first = curve.iter().map(|c| c.epoch).min().unwrap_or(0) as f64;
    let last = (curve.iter().map(|c| c.epoch).max().unwrap_or(0) as f64).max(first + 1.0);
    let losses = curve.iter().flat_map(|c| [c.train_loss, c.val_loss]);
    let (_, loss_hi) = bounds(losses.chain([0.0]));
    render_png(path, (1200, 500), |root| {
        let (left, right) = root.split_horizontally(600);
        type Line = (&'static str, RGBColor, fn(&CurvePoint) -> f64);
        let panels: [(_, &str, &str, f64, [Line; 2]); 2] = [
            (
                left,
                "Loss",
                "cross-entropy",
                loss_hi,
                [
                    ("train loss", BLUE, |c| c.train_loss),
                    ("validation loss", RED, |c| c.val_loss),
                ],
            ),
            (
                right,
                "Accuracy and F1",
                "score",
                1.0,
                [
                    ("train accuracy", BLUE, |c| c.train_accuracy),
                    ("validation weighted F1", RED, |c| c.val_weighted_f1),
                ],
            ),
        ];
        for (area, caption, y_desc, y_hi, lines) in panels {
            let mut chart = ChartBuilder::on(&area)
                .caption(caption, (FONT, 20.0))
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(60)
                .build_cartesian_2d(first..last, 0.0..y_hi)
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(y_desc)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .x_labels(curve.len().clamp(2, 12))
                .light_line_style(WHITE.mix(0.0))
                .label_style((FONT, 13.0))
                .axis_desc_style((FONT, 15.0))
                .draw()
                .map_err(|e| e.to_string())?;
            for (name, colour, value) in lines {
                let data: Vec<(f64, f64)> = curve
                    .iter()
                    .map(|c| (c.epoch as f64, value(c)))
                    .filter(|(_, v)| v.is_finite())
                    .collect();
                chart
                    .draw_series(LineSeries::new(data.clone(), colour.stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                    });
                chart
                    .draw_series(data.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
                    .map_err(|e| e.to_string())?;
            }
            chart
                .configure_series_labels()
                .label_font((FONT, 13.0))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// The range of the finite values with a 5 % margin; `-1..1` when there are none or they are
/// all equal.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !(lo.is_finite() && hi.is_finite()) || hi - lo < 1e-12 {
        let mid = if lo.is_finite() { lo } else { 0.0 };
        return (mid - 1.0, mid + 1.0);
    }
    let margin = (hi - lo) * 0.05;
    (lo - margin, hi + margin)
}

/// Each series' values sorted in ascending order and drawn against their rank (a "per-clip"
/// distribution plot: one line per system, the higher the better for dB scores).
///
/// # Errors
/// [`Error::NoSamples`] when every series is empty; [`Error::Io`] when the file cannot be
/// written.
pub fn sorted_series_png(
    path: &Path,
    title: &str,
    y_desc: &str,
    series: &[(&str, Vec<f64>)],
) -> Result<(), Error> {
    let longest = series.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    if longest == 0 {
        return Err(Error::NoSamples);
    }
    let (lo, hi) = bounds(series.iter().flat_map(|(_, v)| v.iter().copied()));
    let colours = palette(series.len());
    render_png(path, (900, 500), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20.0))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..(longest as f64), lo..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("clips, sorted by score")
            .y_desc(y_desc)
            .label_style((FONT, 13.0))
            .axis_desc_style((FONT, 15.0))
            .draw()
            .map_err(|e| e.to_string())?;
        for ((name, values), colour) in series.iter().zip(colours) {
            let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            sorted.sort_by(f64::total_cmp);
            let data: Vec<(f64, f64)> = sorted
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i as f64, v))
                .collect();
            chart
                .draw_series(LineSeries::new(data, colour.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 13.0))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// matplotlib's "magma" colour map through five of its colours, linearly interpolated:
/// black (0) -> purple -> red -> orange -> pale yellow (1).
fn magma(x: f32) -> RGBColor {
    const STOPS: [[f32; 3]; 5] = [
        [0.0, 0.0, 4.0],
        [81.0, 18.0, 124.0],
        [183.0, 55.0, 121.0],
        [252.0, 137.0, 97.0],
        [252.0, 253.0, 191.0],
    ];
    let position = x.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (position.floor() as usize).min(STOPS.len() - 2);
    let t = position - i as f32;
    let channel = |c: usize| (STOPS[i][c] + t * (STOPS[i + 1][c] - STOPS[i][c])).round() as u8;
    RGBColor(channel(0), channel(1), channel(2))
}

/// One spectrogram panel for [`spectrograms_png`]: dB values, bins-major
/// (`db[f * frames + t]`, low frequencies first).
#[derive(Debug, Clone, Copy)]
pub struct SpectrogramPanel<'a> {
    /// The panel's caption.
    pub title: &'a str,
    /// `bins * frames` values in dB.
    pub db: &'a [f32],
    /// Frequency bins.
    pub bins: usize,
    /// Frames.
    pub frames: usize,
    /// A line drawn over the panel in [`OVERLAY_COLOUR`] (e.g. a pitch contour): one
    /// fractional bin per frame (0.0 is the lowest bin's row, `bins - 1` the highest); NaN
    /// leaves a gap. None draws nothing.
    pub overlay: Option<&'a [f32]>,
}

/// The overlay line's colour: cyan, which magma (black, purple, red, orange, pale yellow)
/// never comes near.
pub const OVERLAY_COLOUR: RGBColor = RGBColor(0, 230, 255);

/// Spectrograms stacked vertically, one pixel per (frame, bin), low frequencies at the bottom,
/// all panels on one colour scale from `floor_db` to the loudest value (dark = quiet), each
/// panel's overlay (if any) drawn over it as a 2-pixel line.
///
/// # Errors
/// [`Error::NoSamples`] for no panels or an empty one; [`Error::LengthMismatch`] when a
/// panel's values are not `bins * frames` or its overlay not `frames` long; [`Error::Io`]
/// when the file cannot be written.
pub fn spectrograms_png(
    path: &Path,
    panels: &[SpectrogramPanel<'_>],
    floor_db: f32,
) -> Result<(), Error> {
    if panels.is_empty() || panels.iter().any(|p| p.bins == 0 || p.frames == 0) {
        return Err(Error::NoSamples);
    }
    for panel in panels {
        if panel.db.len() != panel.bins * panel.frames {
            return Err(Error::LengthMismatch {
                what: "spectrogram values vs bins x frames",
                left: panel.db.len(),
                right: panel.bins * panel.frames,
            });
        }
        if let Some(overlay) = panel.overlay.filter(|o| o.len() != panel.frames) {
            return Err(Error::LengthMismatch {
                what: "spectrogram overlay vs frames",
                left: overlay.len(),
                right: panel.frames,
            });
        }
    }
    let top = panels
        .iter()
        .flat_map(|p| p.db.iter().copied())
        .filter(|v| v.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    let caption = 28;
    let width = panels.iter().map(|p| p.frames).max().unwrap_or(1) as u32 + 20;
    let height: u32 = panels
        .iter()
        .map(|p| (p.bins + caption) as u32)
        .sum::<u32>()
        + 10;
    render_png(path, (width, height), |root| {
        let mut y0 = 0_i32;
        for panel in panels {
            root.draw(&Text::new(
                panel.title.to_owned(),
                (10, y0 + 6),
                (FONT, 16.0).into_font(),
            ))
            .map_err(|e| e.to_string())?;
            let base = y0 + caption as i32;
            for f in 0..panel.bins {
                for t in 0..panel.frames {
                    let v = panel.db[f * panel.frames + t];
                    let x = ((v - floor_db) / (top - floor_db).max(1e-6)).clamp(0.0, 1.0);
                    let colour = magma(x);
                    let y = base + (panel.bins - 1 - f) as i32;
                    root.draw_pixel((10 + t as i32, y), &colour)
                        .map_err(|e| e.to_string())?;
                }
            }
            if let Some(overlay) = panel.overlay {
                let top_row = (panel.bins - 1) as f32;
                // One polyline per run of defined frames.
                for run in overlay_runs(overlay) {
                    let mut points: Vec<(i32, i32)> = run
                        .map(|t| {
                            let row = overlay[t].clamp(0.0, top_row);
                            (10 + t as i32, base + (top_row - row).round() as i32)
                        })
                        .collect();
                    if let [(x, y)] = points[..] {
                        points.push((x + 1, y)); // a lone frame: a short dash
                    }
                    let line = PathElement::new(points, OVERLAY_COLOUR.stroke_width(2));
                    root.draw(&line).map_err(|e| e.to_string())?;
                }
            }
            y0 = base + panel.bins as i32;
        }
        Ok(())
    })
}

/// The maximal runs of consecutive finite values of `overlay`, as index ranges.
fn overlay_runs(overlay: &[f32]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (t, v) in overlay.iter().enumerate() {
        match (v.is_finite(), start) {
            (true, None) => start = Some(t),
            (false, Some(s)) => {
                runs.push(s..t);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push(s..overlay.len());
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_runs_split_at_gaps() {
        let nan = f32::NAN;
        assert_eq!(
            overlay_runs(&[nan, 1.0, 2.0, nan, nan, 3.0, f32::INFINITY, 4.0]),
            [1..3, 5..6, 7..8]
        );
        assert!(overlay_runs(&[nan, nan]).is_empty());
    }

    /// A contour over a flat spectrogram: the overlay's colour appears in its row, and a
    /// wrongly sized overlay is refused.
    #[test]
    fn overlay_is_drawn_where_it_says() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.png");
        let (bins, frames) = (40, 60);
        let db = vec![-60.0_f32; bins * frames];
        let line: Vec<f32> = (0..frames)
            .map(|t| if t < 30 { 10.0 } else { f32::NAN })
            .collect();
        let panel = SpectrogramPanel {
            title: "x",
            db: &db,
            bins,
            frames,
            overlay: Some(&line),
        };
        spectrograms_png(&path, &[panel], -80.0).expect("drawn");
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(&path).expect("png"),
        ));
        let mut reader = decoder.read_info().expect("header");
        let mut rgb = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut rgb).expect("pixels");
        let width = info.width as usize;
        let pixel = |x: usize, y: usize| &rgb[(y * width + x) * 3..(y * width + x) * 3 + 3];
        let cyan = [OVERLAY_COLOUR.0, OVERLAY_COLOUR.1, OVERLAY_COLOUR.2];
        // Row 10 of a 40-bin panel whose bins start 28 pixels down: y = 28 + 39 - 10.
        assert_eq!(pixel(10 + 15, 28 + 29), cyan);
        assert_ne!(pixel(10 + 45, 28 + 29), cyan);
        let short = SpectrogramPanel {
            overlay: Some(&line[..10]),
            ..panel
        };
        assert!(spectrograms_png(&path, &[short], -80.0).is_err());
    }
}
