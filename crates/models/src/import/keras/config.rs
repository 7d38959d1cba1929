//! The singerid configuration encoded in a Keras graph: which [`ModelConfig`] (kind, classes,
//! backbone, attention) and which [`FgnlConfig`] it describes, refusing what singerid does not
//! implement.

use serde_json::Value;

use super::KerasGraph;
use crate::attention::{Attention, FgnlConfig, KeySources, Reweighting, Smoothing, SoftmaxOver};
use crate::backbone::BackboneConfig;
use crate::error::ModelError;
use crate::model::{Inputs, ModelConfig, ModelKind};

impl KerasGraph {
    /// The FGNL configuration and channel count C encoded in the graph.
    ///
    /// # Errors
    /// [`ModelError::KerasGraph`] for a graph without FGNL or with behaviour singerid does not
    /// implement (a roll other than shifts 0..K on the channel axis, an unknown softmax axis).
    pub fn fgnl_config(&self) -> Result<(FgnlConfig, usize), ModelError> {
        let roles = self
            .roles
            .fgnl
            .as_ref()
            .ok_or_else(|| self.error("the graph has no FGNL layer".into()))?;
        let reduced = self.config_usize(&roles.theta.conv1x1, "filters")?;
        let channels = self.config_usize(&roles.w_z, "filters")?;
        if reduced == 0 || channels % reduced != 0 {
            return Err(self.error(format!(
                "θ has {reduced} filters, which does not divide C = {channels}"
            )));
        }
        for (k, shift) in roles.per_shift.iter().enumerate() {
            let kwargs = &self.layer(&shift.roll)?.call_kwargs;
            let (s, axis) = (
                kwargs.get("shift").and_then(Value::as_i64),
                kwargs.get("axis").and_then(Value::as_i64),
            );
            if shift.shift != k as i64 || s != Some(k as i64) || axis != Some(2) {
                return Err(self.error(format!(
                    "roll {:?} is shift {s:?} on axis {axis:?}; singerid implements shift k on \
                     the channel axis (2) for k = 0..K",
                    shift.roll
                )));
            }
        }
        if roles.per_shift.len() != reduced {
            return Err(self.error(format!(
                "{} roll shifts for {reduced} reduced channels; singerid uses K = C/m",
                roles.per_shift.len()
            )));
        }
        let softmax_over = match roles.per_shift.first() {
            Some(s) => match self
                .layer(&s.softmax)?
                .config
                .get("axis")
                .and_then(Value::as_i64)
            {
                Some(1) => SoftmaxOver::Queries,
                Some(2) | Some(-1) => SoftmaxOver::Keys,
                other => {
                    return Err(self.error(format!("unsupported FGNL softmax axis {other:?}")));
                }
            },
            None => return Err(self.error("FGNL without roll shifts".into())),
        };
        let key_sources = match roles.phi.parts.len() {
            1 => KeySources::Current,
            2 => KeySources::CurrentAndPrevious,
            n => return Err(self.error(format!("FGNL over {n} layers is not supported"))),
        };
        let smoothing = match roles.theta.gauss {
            Some(_) => Smoothing::Gaussian,
            None => Smoothing::Off,
        };
        let (reweighting, hidden) = match &roles.mose {
            Some(m) => (
                Reweighting::Mose,
                self.config_usize(&m.conv_1to16, "filters")?,
            ),
            None => (Reweighting::Off, 16),
        };
        let config = FgnlConfig::new()
            .with_reduction(channels / reduced)
            .with_softmax_over(softmax_over)
            .with_key_sources(key_sources)
            .with_smoothing(smoothing)
            .with_reweighting(reweighting)
            .with_excitation_hidden(hidden);
        Ok((config, channels))
    }

    /// The singerid config of the model in this graph (kind, classes, backbone, attention).
    ///
    /// # Errors
    /// [`ModelError::KerasGraph`] for graphs singerid cannot represent.
    pub fn model_config(&self) -> Result<ModelConfig, ModelError> {
        let r = &self.roles;
        let branch = r
            .branches
            .first()
            .filter(|b| !b.blocks.is_empty())
            .ok_or_else(|| self.error("no conv branch in the roles".into()))?;
        let inputs = match r.branches.len() {
            1 => Inputs::Mel,
            2 => Inputs::MelAndMelody,
            n => return Err(self.error(format!("{n} input branches are not supported"))),
        };
        let input_shape = self
            .layer(&branch.input)?
            .config
            .get("batch_input_shape")
            .and_then(Value::as_array)
            .and_then(|a| a.get(1))
            .and_then(Value::as_u64)
            .ok_or_else(|| self.error(format!("input {:?} has no mel size", branch.input)))?;
        let first = &branch.blocks[0];
        let kernel = self.config_pair(&first.conv, "kernel_size")?;
        if kernel[0] != kernel[1] {
            return Err(self.error(format!("non-square conv kernel {kernel:?}")));
        }
        let mut filters = Vec::new();
        let mut pools = Vec::new();
        for block in &branch.blocks {
            filters.push(self.config_usize(&block.conv, "filters")?);
            pools.push(match &block.pool {
                Some(pool) => {
                    let size = self.config_pair(pool, "pool_size")?;
                    if self.config_pair(pool, "strides")? != size {
                        return Err(self.error(format!("pool {pool:?} has stride != size")));
                    }
                    Some(size)
                }
                None => None,
            });
        }
        let backbone = BackboneConfig {
            mels: input_shape as usize,
            filters,
            pools,
            kernel_size: kernel[0],
            dropout: self.config_f64(&first.output, "rate")?,
            bn_epsilon: self.config_f64(&first.bn, "epsilon")?,
            bn_momentum: 1.0 - self.config_f64(&first.bn, "momentum")?,
        };
        let gru_seq = r
            .gru_seq
            .as_deref()
            .ok_or_else(|| self.error("no gru_seq role".into()))?;
        let gru = self.layer(gru_seq)?;
        let reset_after = gru.config.get("reset_after").and_then(Value::as_bool);
        let recurrent = gru
            .config
            .get("recurrent_activation")
            .and_then(Value::as_str);
        if reset_after != Some(true) || recurrent != Some("sigmoid") {
            return Err(self.error(format!(
                "GRU {gru_seq:?} has reset_after {reset_after:?} and recurrent activation \
                 {recurrent:?}; singerid implements reset_after=True with sigmoid"
            )));
        }
        let gru_units = self.config_usize(gru_seq, "units")?;
        let dense = r
            .logits_dense
            .as_deref()
            .ok_or_else(|| self.error("no logits_dense role".into()))?;
        let n_classes = self.config_usize(dense, "units")?;
        let head_dropout = match self.layer(dense)?.inbound.first() {
            Some(name) if self.layer(name)?.class == "Dropout" => self.config_f64(name, "rate")?,
            _ => 0.0,
        };
        let attention = match &r.fgnl {
            Some(_) => Attention::Fgnl(self.fgnl_config()?.0),
            None => Attention::Off,
        };
        let fgnl_backbone = backbone.pools.first() == Some(&None);
        let kind = match (&attention, inputs, fgnl_backbone) {
            (Attention::Off, Inputs::Mel, false) => ModelKind::Crnn,
            (Attention::Off, Inputs::MelAndMelody, _) => ModelKind::Crnnm,
            (Attention::Off, Inputs::Mel, true) => ModelKind::FgnlBackbone,
            (Attention::Fgnl(c), Inputs::Mel, _) if c.key_sources == KeySources::Current => {
                ModelKind::CrnnFgnlLight
            }
            (Attention::Fgnl(_), Inputs::Mel, _) => ModelKind::CrnnFgnl,
            (_, Inputs::MelAndMelody, _) => ModelKind::CrnnmFgnl,
            (Attention::NonLocal(_), Inputs::Mel, _) => ModelKind::CrnnNl,
        };
        let config = ModelConfig {
            kind,
            n_classes,
            inputs,
            backbone,
            attention,
            gru_units,
            head_dropout,
            // Training-loss regularisers are not in the layer graph: the named model's.
            dense_l2: ModelConfig::new(kind, n_classes).dense_l2,
            dense_activity_l1: ModelConfig::new(kind, n_classes).dense_activity_l1,
        };
        config.validate()?;
        Ok(config)
    }
}
