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
