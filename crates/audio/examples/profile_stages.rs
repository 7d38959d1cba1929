//! Prints the time of each stage of `features_from_file` on the files given (fgnl preset).
//! A development aid; the side-by-side benchmark is `bench/librosa_vs_singerid.py`.

use std::path::Path;
use std::time::Instant;

use singerid_audio::db::apply_db;
use singerid_audio::decode::decode_mono;
use singerid_audio::resample::resample;
use singerid_audio::{FeatureConfig, Signal, melspectrogram};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = FeatureConfig::default();
    for arg in std::env::args().skip(1) {
        let path = Path::new(&arg);
        let t = Instant::now();
        let mono = decode_mono(path, config.channel)?;
        let t_decode = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let samples = resample(&mono.samples, mono.sample_rate_hz, config.sample_rate_hz)?;
        let t_resample = t.elapsed().as_secs_f64();
        let signal = Signal {
            samples,
            sample_rate_hz: config.sample_rate_hz,
        };
        let t = Instant::now();
        let mut mel = melspectrogram(&signal, &config)?;
        let t_mel = t.elapsed().as_secs_f64();
        let t = Instant::now();
        apply_db(&mut mel.data, config.db, config.top_db);
        let t_db = t.elapsed().as_secs_f64();
        println!(
            "{arg}: decode+mix {t_decode:.3} resample {t_resample:.3} stft+mel {t_mel:.3} dB {t_db:.3} total {:.3}",
            t_decode + t_resample + t_mel + t_db
        );
    }
    Ok(())
}
