//! A channel's secret (app password, access token, webhook secret), read from the
//! environment variable or the file its `[[channel]]` names. A file must be readable by
//! its owner only (mode 0600 or stricter): a secret others can read is refused.

use std::path::Path;

use rapport_core::channel::ChannelConfig;

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The environment variable is not set.
    #[error(
        "channel {channel:?}: the environment variable {var} is not set; export it with the \
         channel's secret before starting rapport"
    )]
    MissingEnv {
        /// The channel.
        channel: String,
        /// The variable.
        var: String,
    },
    /// The file could not be read.
    #[error("channel {channel:?}: cannot read the credentials file {path}: {cause}")]
    File {
        /// The channel.
        channel: String,
        /// The file.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// Others may read the file.
    #[error(
        "channel {channel:?}: the credentials file {path} can be read by others (mode {mode:o}); \
         run `chmod 600 {path}`"
    )]
    Exposed {
        /// The channel.
        channel: String,
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The secret is empty.
    #[error("channel {channel:?}: the secret is empty; put the channel's secret there")]
    Empty {
        /// The channel.
        channel: String,
    },
}

/// The channel's secret; `None` when it names neither a variable nor a file.
pub fn secret(channel: &ChannelConfig) -> Result<Option<String>, CredentialsError> {
    let value = if let Some(var) = &channel.credentials_env {
        match std::env::var(var) {
            Ok(v) => v,
            Err(_) => {
                return Err(CredentialsError::MissingEnv {
                    channel: channel.name.clone(),
                    var: var.clone(),
                });
            }
        }
    } else if let Some(path) = &channel.credentials_file {
        read_private(&channel.name, path)?
    } else {
        return Ok(None);
    };
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(CredentialsError::Empty {
            channel: channel.name.clone(),
        });
    }
    Ok(Some(value))
}

fn read_private(channel: &str, path: &Path) -> Result<String, CredentialsError> {
    let file_err = |cause| CredentialsError::File {
        channel: channel.to_owned(),
        path: path.display().to_string(),
        cause,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(file_err)?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(CredentialsError::Exposed {
                channel: channel.to_owned(),
                path: path.display().to_string(),
                mode,
            });
        }
    }
    std::fs::read_to_string(path).map_err(file_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(file: &Path) -> ChannelConfig {
        serde_json::from_value(serde_json::json!({
            "name": "hook", "kind": "webhook", "credentials_file": file
        }))
        .unwrap()
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = secret(&channel(&path)).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(secret(&channel(&path)).unwrap().as_deref(), Some("s3cret"));
    }
}
