//! What the `bench` commands share to run a Python peer on the same sentences: a
//! temporary folder with the peer's script (built into the binary) and the sentences as
//! one JSON string a line.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};

/// The peer's files; the folder goes when this is dropped.
pub(super) struct PeerFiles {
    /// The folder, for the peer's output files.
    pub dir: tempfile::TempDir,
    /// The script.
    pub script: PathBuf,
    /// The sentences, one JSON string a line.
    pub input: PathBuf,
}

/// Writes the script `name` with `source` and the sentences into a new temporary folder.
pub(super) fn peer_files(name: &str, source: &str, sentences: &[String]) -> Result<PeerFiles> {
    let dir = tempfile::tempdir().context("cannot make a temporary folder for the peer")?;
    let script = dir.path().join(name);
    std::fs::write(&script, source)
        .with_context(|| format!("cannot write {}", script.display()))?;
    let input = dir.path().join("sentences.jsonl");
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(&input)
            .with_context(|| format!("cannot write {}", input.display()))?,
    );
    for s in sentences {
        serde_json::to_writer(&mut f, s)?;
        f.write_all(b"\n")?;
    }
    f.flush()
        .with_context(|| format!("cannot write {}", input.display()))?;
    Ok(PeerFiles { dir, script, input })
}
