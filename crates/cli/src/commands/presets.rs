//! `singerid presets`: every feature preset with all its values.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use singerid_audio::{FeatureConfig, Preset};

use crate::args::{OutputFormat, json_name};

#[derive(Debug, clap::Args)]
pub struct PresetsArgs {
    /// Output format: an aligned table, or a JSON object `{preset: config}` whose configs are
    /// exactly what `config.json` in a feature folder holds.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// Prints the presets to stdout.
///
/// # Errors
/// When stdout cannot be written.
pub fn run(args: &PresetsArgs) -> anyhow::Result<()> {
    let text = match args.format {
        OutputFormat::Json => json(),
        OutputFormat::Text => table(),
    }?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .context("writing to stdout")?;
    Ok(())
}

fn json() -> anyhow::Result<String> {
    let presets: BTreeMap<&str, FeatureConfig> = Preset::ALL
        .iter()
        .map(|preset| (preset.name(), preset.config()))
        .collect();
    let mut text = serde_json::to_string_pretty(&presets).context("serialising presets")?;
    text.push('\n');
    Ok(text)
}

/// One field of a config, for the table.
struct Row {
    /// The field's name in config.json.
    field: &'static str,
    /// The command-line flag that overrides it.
    flag: &'static str,
    /// Its value, as typed on the command line.
    value: String,
}

/// Every field of `config`. The destructuring has no `..`, so a new field fails to compile until
/// it is listed here.
fn rows(config: &FeatureConfig) -> Vec<Row> {
    let FeatureConfig {
        sample_rate_hz,
        n_fft,
        hop_length,
        n_mels,
        fmin_hz,
        fmax_hz,
        pad_mode,
        mel_scale,
        mel_norm,
        db,
        top_db,
        channel,
    } = config;
    let rows = vec![
        (
            "sample_rate_hz",
            "--sample-rate",
            sample_rate_hz.to_string(),
        ),
        ("n_fft", "--n-fft", n_fft.to_string()),
        ("hop_length", "--hop-length", hop_length.to_string()),
        ("n_mels", "--n-mels", n_mels.to_string()),
        ("fmin_hz", "--fmin", fmin_hz.to_string()),
        (
            "fmax_hz",
            "--fmax",
            fmax_hz.map_or_else(|| "nyquist".to_owned(), |hz| hz.to_string()),
        ),
        ("db", "--db", json_name(db)),
        (
            "top_db",
            "--top-db",
            top_db.map_or_else(|| "none".to_owned(), |db| db.to_string()),
        ),
        ("pad_mode", "--pad-mode", json_name(pad_mode)),
        ("mel_scale", "--mel-scale", json_name(mel_scale)),
        ("mel_norm", "--mel-norm", json_name(mel_norm)),
        ("channel", "--channel", json_name(channel)),
    ];
    rows.into_iter()
        .map(|(field, flag, value)| Row { field, flag, value })
        .collect()
}

fn table() -> anyhow::Result<String> {
    let columns: Vec<(&str, Vec<Row>)> = Preset::ALL
        .iter()
        .map(|preset| (preset.name(), rows(&preset.config())))
        .collect();
    let labels: Vec<String> = rows(&FeatureConfig::default())
        .into_iter()
        .map(|row| format!("{} ({})", row.field, row.flag))
        .collect();
    let label_width = labels.iter().map(String::len).max().unwrap_or(0);
    let widths: Vec<usize> = columns
        .iter()
        .map(|(name, rows)| {
            rows.iter()
                .map(|row| row.value.len())
                .chain([name.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();

    let mut out = format!("{:label_width$}", "field (flag)");
    for ((name, _), width) in columns.iter().zip(&widths) {
        out.push_str(&format!("  {name:width$}"));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    for (row, label) in labels.iter().enumerate() {
        out.push_str(&format!("{label:label_width$}"));
        for ((_, rows), width) in columns.iter().zip(&widths) {
            out.push_str(&format!("  {:width$}", rows[row].value));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out.push_str(&format!(
        "\nfeature algorithm version {}; override any field of a preset with its flag \
         (`singerid features --help`).\n",
        singerid_audio::FEATURE_ALGORITHM_VERSION
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_every_field_of_every_preset() {
        let text = table().expect("table");
        let header = text.lines().next().expect("header");
        for preset in Preset::ALL {
            assert!(header.contains(preset.name()), "{header}");
        }
        // 1 header + 12 fields, then the note.
        let field_lines: Vec<&str> = text.lines().skip(1).take_while(|l| !l.is_empty()).collect();
        assert_eq!(field_lines.len(), 12);
        let sample_rate = field_lines[0];
        for rate in ["16000", "12000", "22050"] {
            assert!(sample_rate.contains(rate), "{sample_rate}");
        }
    }

    #[test]
    fn json_round_trips_to_the_presets() {
        let parsed: BTreeMap<String, FeatureConfig> =
            serde_json::from_str(&json().expect("json")).expect("parse");
        assert_eq!(parsed.len(), Preset::ALL.len());
        for preset in Preset::ALL {
            assert_eq!(parsed[preset.name()], preset.config());
        }
    }
}
