//! The paper's experiment grid and its Table 1.
//!
//! Kuo, Wei and Lin (AAAI 2021), Table 1: for every model, the **Average** and the **Best** test
//! F1 over three independent runs (seeds), at the frame (clip) level and at the song level, for
//! 3 s, 5 s and 10 s clips, in the *original audio* (mixture) and *vocal-only* settings, with
//! the parameter count. [`Grid`] enumerates the runs ([`Cell`]s); each finished run leaves a
//! [`CellResult`]; [`table_markdown`] lays the results out as the paper does, leaving a dash
//! where a run is missing.
//!
//! The paper's "F1" is scikit-learn's weighted F1 (the authors' `classification_report`
//! weighted average); the table shows it, and a second table shows macro F1, which is the fairer
//! figure on unbalanced data such as MIR-1K.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The audio the model hears: the mixture, or the singing voice alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    /// The paper's "original audio file": the full mix.
    Mixture,
    /// The paper's "vocal-only": separated vocals (on MIR-1K, the right channel).
    VocalOnly,
}

impl Setting {
    /// Both settings, in the table's order.
    pub const ALL: [Setting; 2] = [Setting::Mixture, Setting::VocalOnly];

    /// `mixture` or `vocal_only`, as used in run folder names.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Mixture => "mixture",
            Setting::VocalOnly => "vocal_only",
        }
    }

    /// The column heading of the paper's table.
    pub fn heading(self) -> &'static str {
        match self {
            Setting::Mixture => "Original audio",
            Setting::VocalOnly => "Vocal-only",
        }
    }
}

/// One run of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The model's registry name (e.g. `crnn_fgnl`).
    pub model: String,
    /// Clip length in seconds (3, 5 or 10 in the paper).
    pub clip_seconds: f64,
    /// Mixture or vocal-only.
    pub setting: Setting,
    /// Seed of the split (album split) and of the initialisation and shuffling.
    pub seed: u64,
}

impl Cell {
    /// A folder name that identifies the run, e.g. `crnn_fgnl-3s-mixture-seed0`.
    pub fn run_name(&self) -> String {
        format!(
            "{}-{}s-{}-seed{}",
            self.model,
            format_seconds(self.clip_seconds),
            self.setting.name(),
            self.seed
        )
    }
}

/// The grid: every combination of its lists, models outermost, seeds innermost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Models, in table row order.
    pub models: Vec<String>,
    /// Clip lengths in seconds, in column order.
    pub clip_seconds: Vec<f64>,
    /// Settings, in column-group order.
    pub settings: Vec<Setting>,
    /// Seeds (the paper: 0, 21, 42).
    pub seeds: Vec<u64>,
}

impl Grid {
    /// Every run of the grid, in the order they are run.
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for model in &self.models {
            for &setting in &self.settings {
                for &clip_seconds in &self.clip_seconds {
                    for &seed in &self.seeds {
                        cells.push(Cell {
                            model: model.clone(),
                            clip_seconds,
                            setting,
                            seed,
                        });
                    }
                }
            }
        }
        cells
    }
}

/// The test scores of one finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// The run.
    pub cell: Cell,
    /// The model's parameter count (Keras' count).
    pub params: usize,
    /// Frame (clip) level weighted F1.
    pub frame_weighted_f1: f64,
    /// Frame level macro F1.
    pub frame_macro_f1: f64,
    /// Song level weighted F1 (the paper's vote).
    pub song_weighted_f1: f64,
    /// Song level macro F1.
    pub song_macro_f1: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Epoch whose checkpoint was evaluated.
    pub best_epoch: usize,
    /// Which split was scored (`test`, or `val` when the data has no test part).
    pub scored_split: String,
}

/// Which F1 a table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    /// Weighted F1, the paper's figure.
    Weighted,
    /// Macro F1.
    Macro,
}

impl Score {
    fn frame(self, r: &CellResult) -> f64 {
        match self {
            Score::Weighted => r.frame_weighted_f1,
            Score::Macro => r.frame_macro_f1,
        }
    }

    fn song(self, r: &CellResult) -> f64 {
        match self {
            Score::Weighted => r.song_weighted_f1,
            Score::Macro => r.song_macro_f1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Score::Weighted => "weighted F1",
            Score::Macro => "macro F1",
        }
    }
}

fn format_seconds(seconds: f64) -> String {
    if seconds.fract() == 0.0 {
        format!("{seconds:.0}")
    } else {
        format!("{seconds}")
    }
}

fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Average and best over seeds of one statistic; `None` when no run finished.
fn average_and_best(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let best = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((mean, best))
}

/// The paper's Table 1 for `grid` from the finished `results`, as a markdown table: one row
/// pair (Average, Best) per model; column groups Original audio / Vocal-only, each with Frame
/// and Song level, each with one column per clip length; then the parameter count. Cells with
/// no finished run show `–`; cells averaged over fewer seeds than the grid has say how many,
/// e.g. `0.52 (2/3)`.
pub fn table_markdown<'a>(grid: &Grid, results: &'a [CellResult], score: Score) -> String {
    // (model, setting, clip ms) -> scores over seeds
    type Key<'a> = (&'a str, Setting, u64);
    let key = |c: &'a Cell| -> Key<'a> {
        (
            c.model.as_str(),
            c.setting,
            (c.clip_seconds * 1000.0).round() as u64,
        )
    };
    let mut frame: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    let mut song: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    let mut params: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        frame.entry(key(&r.cell)).or_default().push(score.frame(r));
        song.entry(key(&r.cell)).or_default().push(score.song(r));
        params.insert(r.cell.model.as_str(), r.params);
    }
    let seeds = grid.seeds.len();
    let clips: Vec<String> = grid
        .clip_seconds
        .iter()
        .map(|s| format!("{}s", format_seconds(*s)))
        .collect();

    let mut out = String::new();
    let mut header = String::from("| Model | Type |");
    let mut rule = String::from("|---|---|");
    for setting in &grid.settings {
        for level in ["Frame", "Song"] {
            for clip in &clips {
                let _ = write!(header, " {} {level} {clip} |", setting.heading());
                rule.push_str("---:|");
            }
        }
    }
    header.push_str(" #Parameters |");
    rule.push_str("---:|");
    let _ = writeln!(out, "{header}\n{rule}");

    for model in &grid.models {
        for (row, pick) in [("Average", 0usize), ("Best", 1)] {
            let name = if pick == 0 { model.as_str() } else { "" };
            let _ = write!(out, "| {name} | {row} |");
            for &setting in &grid.settings {
                for table in [&frame, &song] {
                    for &clip in &grid.clip_seconds {
                        let k = (model.as_str(), setting, (clip * 1000.0).round() as u64);
                        let values = table.get(&k).map(Vec::as_slice).unwrap_or(&[]);
                        match average_and_best(values) {
                            Some((mean, best)) => {
                                let v = if pick == 0 { mean } else { best };
                                if values.len() < seeds {
                                    let _ = write!(out, " {v:.2} ({}/{seeds}) |", values.len());
                                } else {
                                    let _ = write!(out, " {v:.2} |");
                                }
                            }
                            None => out.push_str(" – |"),
                        }
                    }
                }
            }
            let p = if pick == 0 {
                params
                    .get(model.as_str())
                    .map_or("–".into(), |p| group_thousands(*p))
            } else {
                String::new()
            };
            let _ = writeln!(out, " {p} |");
        }
    }
    let _ = writeln!(
        out,
        "\nTest {} over {seeds} seed(s) ({}); Average = mean over seeds, Best = maximum.",
        score.name(),
        grid.seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}

/// File name of a finished cell's scores inside its run folder.
pub const RESULT_FILE: &str = "result.json";

/// Reads the scores of a finished cell from its run folder, `None` when it has not finished.
///
/// # Errors
/// [`Error::Json`] for a file that is not a cell result (delete it to rerun the cell),
/// [`Error::Io`] for one that cannot be read.
pub fn read_cell_result(run_dir: &Path) -> Result<Option<CellResult>, Error> {
    let path = run_dir.join(RESULT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Json {
                message: format!("not a cell result ({e}); delete it to rerun the cell"),
                path,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&path)(e)),
    }
}

/// Writes a finished cell's scores into its run folder (atomically).
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn write_cell_result(run_dir: &Path, result: &CellResult) -> Result<(), Error> {
    write_json(&run_dir.join(RESULT_FILE), result)
}

/// The whole `table.md`: `header` (the data, split and training options), the weighted-F1 and
/// macro-F1 tables, and the list of runs.
pub fn table_document(header: &str, grid: &Grid, results: &[CellResult]) -> String {
    let scored: std::collections::BTreeSet<&str> =
        results.iter().map(|r| r.scored_split.as_str()).collect();
    let mut text = format!(
        "# Table 1 (singerid reproduce)\n\n{header} Scored on: {}. {} of {} runs finished.\n\n\
         ## F1 (weighted, the paper's figure)\n\n",
        scored.into_iter().collect::<Vec<_>>().join(", "),
        results.len(),
        grid.cells().len(),
    );
    text.push_str(&table_markdown(grid, results, Score::Weighted));
    text.push_str("\n## Macro F1\n\n");
    text.push_str(&table_markdown(grid, results, Score::Macro));
    text.push_str(
        "\nParameter counts are Keras' count (batch-norm statistics included) for this data's \
         number of singers; the paper's are for artist20's 20.\n",
    );
    text.push_str("\n## Runs\n\n| run | epochs | best epoch | scored on |\n|---|---:|---:|---|\n");
    for r in results {
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} |",
            r.cell.run_name(),
            r.epochs,
            r.best_epoch,
            r.scored_split
        );
    }
    text
}

/// Rewrites `<out>/table.md` ([`table_document`]) and `<out>/results.json` (the grid and every
/// result), atomically.
///
/// # Errors
/// [`Error::Io`] when a file cannot be written.
pub fn write_table_files(
    out: &Path,
    header: &str,
    grid: &Grid,
    results: &[CellResult],
) -> Result<(), Error> {
    let table = out.join("table.md");
    singerid_data::atomic::write_atomic(&table, table_document(header, grid, results).as_bytes())
        .map_err(Error::io(&table))?;
    #[derive(Serialize)]
    struct ResultsFile<'a> {
        grid: &'a Grid,
        results: &'a [CellResult],
    }
    write_json(&out.join("results.json"), &ResultsFile { grid, results })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Error::Json {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    singerid_data::atomic::write_atomic(path, (json + "\n").as_bytes()).map_err(Error::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(model: &str, clip: f64, setting: Setting, seed: u64, f: f64) -> CellResult {
        CellResult {
            cell: Cell {
                model: model.to_owned(),
                clip_seconds: clip,
                setting,
                seed,
            },
            params: 394_516,
            frame_weighted_f1: f,
            frame_macro_f1: f / 2.0,
            song_weighted_f1: f + 0.1,
            song_macro_f1: f,
            epochs: 3,
            best_epoch: 2,
            scored_split: "test".into(),
        }
    }

    #[test]
    fn cells_cover_the_grid_and_names_are_unique() {
        let grid = Grid {
            models: vec!["crnn".into(), "crnn_fgnl".into()],
            clip_seconds: vec![3.0, 5.0, 10.0],
            settings: Setting::ALL.to_vec(),
            seeds: vec![0, 21, 42],
        };
        let cells = grid.cells();
        assert_eq!(cells.len(), 2 * 3 * 2 * 3);
        let names: std::collections::BTreeSet<_> = cells.iter().map(Cell::run_name).collect();
        assert_eq!(names.len(), cells.len());
        assert_eq!(cells[0].run_name(), "crnn-3s-mixture-seed0");
    }

    #[test]
    fn table_averages_and_takes_the_best_over_seeds() {
        let grid = Grid {
            models: vec!["crnn".into()],
            clip_seconds: vec![3.0],
            settings: vec![Setting::Mixture],
            seeds: vec![0, 21],
        };
        let results = [
            result("crnn", 3.0, Setting::Mixture, 0, 0.40),
            result("crnn", 3.0, Setting::Mixture, 21, 0.50),
        ];
        let table = table_markdown(&grid, &results, Score::Weighted);
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(
            rows[0],
            "| Model | Type | Original audio Frame 3s | Original audio Song 3s | #Parameters |"
        );
        assert_eq!(rows[2], "| crnn | Average | 0.45 | 0.55 | 394,516 |");
        assert_eq!(rows[3], "|  | Best | 0.50 | 0.60 |  |");
        let macro_table = table_markdown(&grid, &results, Score::Macro);
        assert!(macro_table.contains("| crnn | Average | 0.23 | 0.45 | 394,516 |"));
    }

    #[test]
    fn missing_runs_show_a_dash_and_partial_seeds_are_flagged() {
        let grid = Grid {
            models: vec!["crnn".into(), "crnn_fgnl".into()],
            clip_seconds: vec![3.0],
            settings: vec![Setting::Mixture],
            seeds: vec![0, 21],
        };
        let results = [result("crnn", 3.0, Setting::Mixture, 0, 0.40)];
        let table = table_markdown(&grid, &results, Score::Weighted);
        assert!(table.contains("| crnn | Average | 0.40 (1/2) | 0.50 (1/2) | 394,516 |"));
        assert!(table.contains("| crnn_fgnl | Average | – | – | – |"));
    }
}
