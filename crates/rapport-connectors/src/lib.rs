//! rapport's sources of messages. For now: [`import`], which reads CSV and JSONL exports
//! into [`rapport_core::NewMessage`]s, row by row, reporting each bad row with its line.
#![deny(missing_docs)]

pub mod import;
