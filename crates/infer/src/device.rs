//! The one place that turns a user's device choice into a burn [`Device`]. Every command that
//! runs a model (train, eval, identify, reproduce) takes a [`DeviceChoice`] from the command
//! line and passes the device down; no library picks one itself.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Where models run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    /// The CPU, through burn-flex (threads: `RAYON_NUM_THREADS`, default one per core).
    #[default]
    Cpu,
    /// The first CUDA GPU (needs a build with `--features cuda`).
    Cuda,
    /// The default wgpu adapter (needs a build with `--features wgpu`).
    Wgpu,
}

impl DeviceChoice {
    /// Every choice, compiled in or not.
    pub const ALL: [DeviceChoice; 3] = [DeviceChoice::Cpu, DeviceChoice::Cuda, DeviceChoice::Wgpu];

    /// `cpu`, `cuda` or `wgpu`.
    pub const fn name(self) -> &'static str {
        match self {
            DeviceChoice::Cpu => "cpu",
            DeviceChoice::Cuda => "cuda",
            DeviceChoice::Wgpu => "wgpu",
        }
    }

    /// Whether this build can run on it.
    pub const fn is_compiled_in(self) -> bool {
        match self {
            DeviceChoice::Cpu => true,
            DeviceChoice::Cuda => cfg!(feature = "cuda"),
            DeviceChoice::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    /// The choices this build can run on.
    pub fn available() -> Vec<DeviceChoice> {
        Self::ALL
            .into_iter()
            .filter(|d| d.is_compiled_in())
            .collect()
    }

    /// The burn device (inference mode; the trainer adds autodiff itself).
    ///
    /// # Errors
    /// [`Error::DeviceNotBuilt`] when this build lacks the backend.
    pub fn device(self) -> Result<Device, Error> {
        match self {
            DeviceChoice::Cpu => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            DeviceChoice::Cuda => probe(self, Device::cuda(0)),
            #[cfg(feature = "wgpu")]
            DeviceChoice::Wgpu => {
                probe(self, Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
            }
            #[allow(unreachable_patterns, reason = "reached when a GPU feature is off")]
            other => Err(Error::DeviceNotBuilt {
                device: other.name(),
                available: Self::available()
                    .iter()
                    .map(|d| d.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// Runs a one-element tensor round trip on a GPU device, so that a missing driver or GPU is an
/// [`Error::DeviceUnavailable`] here rather than a panic inside the backend (cudarc panics
/// when it cannot load libcuda) at the first model call. The panic hook is silenced for the
/// probe and the backend's first panic message is kept as the reason.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
fn probe(choice: DeviceChoice, device: Device) -> Result<Device, Error> {
    use std::sync::{Arc, Mutex};
    let first: Arc<Mutex<Option<String>>> = Arc::default();
    let hook = std::panic::take_hook();
    let seen = Arc::clone(&first);
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| info.to_string());
        if let Ok(mut slot) = seen.lock() {
            slot.get_or_insert(message);
        }
    }));
    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        burn::tensor::Tensor::<1>::zeros([1], &device).into_data()
    }));
    std::panic::set_hook(hook);
    match answer {
        Ok(_) => Ok(device),
        Err(_) => {
            let reason = first
                .lock()
                .ok()
                .and_then(|slot| slot.clone())
                .unwrap_or_else(|| "the backend panicked".to_owned());
            // cudarc's message lists every library name it tried; its first clause says it.
            let reason = reason.split(" - ").next().unwrap_or(&reason).to_owned();
            Err(Error::DeviceUnavailable {
                device: choice.name(),
                reason,
            })
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| Error::UnknownDevice(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_always_available_and_names_round_trip() {
        assert!(DeviceChoice::available().contains(&DeviceChoice::Cpu));
        for choice in DeviceChoice::ALL {
            assert_eq!(choice.name().parse::<DeviceChoice>().ok(), Some(choice));
        }
        assert!("tpu".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn a_device_not_built_in_is_refused_with_the_available_ones() {
        assert!(DeviceChoice::Cpu.device().is_ok());
        for choice in DeviceChoice::ALL {
            match choice.device() {
                Ok(_) => assert!(choice.is_compiled_in()),
                // A GPU backend built in, on a machine without that GPU.
                Err(Error::DeviceUnavailable { device, .. }) => {
                    assert!(choice.is_compiled_in() && device == choice.name());
                }
                Err(err) => {
                    assert!(!choice.is_compiled_in());
                    let text = err.to_string();
                    assert!(
                        text.contains(choice.name()) && text.contains("cpu"),
                        "{text}"
                    );
                }
            }
        }
    }
}
