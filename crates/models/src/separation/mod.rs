//! Source separation: models that estimate one source (e.g. the vocals) from a mixture's
//! magnitude spectrogram, so singer identification can run on the voice alone.
//!
//! - [`open_unmix`]: [`OpenUnmix`] and [`OpenUnmixConfig`] (Stöter et al. 2019, `openunmix`
//!   1.3.0), presets `umxhq` / `umxl` / `umxse`.
//! - [`lstm`]: [`TorchLstm`], a stacked (bi)directional LSTM with PyTorch's layout.
//! - [`import`]: loading a PyTorch Open-Unmix state dict saved as safetensors.
//! - [`separator`]: [`Separator`], audio in, vocals and accompaniment out (STFT, network,
//!   mask, inverse STFT), saved as a folder.
//!
//! Data flows: mixture magnitude `[batch, channels, bins, frames]` -> [`OpenUnmix::forward`]
//! -> target magnitude, same shape. [`Separator`] wraps it between the STFT and its inverse.

pub mod import;
pub mod lstm;
pub mod open_unmix;
pub mod separator;

pub use import::{StateDict, StateTensor, load_open_unmix, load_open_unmix_with};
pub use lstm::{TorchLstm, TorchLstmConfig};
pub use open_unmix::{OpenUnmix, OpenUnmixConfig};
pub use separator::{MaskKind, Separator, SeparatorConfig, SeparatorFile, Stems, save_separator};
