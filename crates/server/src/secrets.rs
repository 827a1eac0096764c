//! Secrets at rest: CI/CD variable values are sealed with AES-256-GCM under the server key
//! (a random 96-bit nonce stored before each ciphertext). The key is 32 random bytes in
//! `<data dir>/secret.key` (mode 0600), created at first start, or `GANTRY_SECRET_KEY`
//! (64 hex digits) so that replicas share it.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Loading the key or opening a sealed value failed.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The key file could not be read or written.
    #[error("server key {path}")]
    KeyFile {
        /// The key file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key is not 32 bytes (64 hex digits).
    #[error("the server key must be 64 hex digits")]
    BadKey,
    /// A sealed value does not open with this key (wrong key or corrupt data).
    #[error("a sealed value does not open with the server key")]
    Open,
}

/// Seals and opens secrets with the server key.
#[derive(Clone)]
pub struct Secrets {
    cipher: Aes256Gcm,
    /// A digest of the key, from which keys for other purposes are derived.
    root: [u8; 32],
}

const NONCE_LEN: usize = 12;

impl Secrets {
    /// The key from `GANTRY_SECRET_KEY`, else from the key file in `data_dir` (made if missing).
    pub fn load(data_dir: &Path) -> Result<Self, SecretsError> {
        if let Ok(hex_key) = std::env::var("GANTRY_SECRET_KEY") {
            return Self::from_hex(hex_key.trim());
        }
        let path = data_dir.join("secret.key");
        let failed = |source| SecretsError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_hex(text.trim()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                let text = hex::encode(key);
                write_private(&path, text.as_bytes()).map_err(failed)?;
                Self::from_hex(&text)
            }
            Err(e) => Err(failed(e)),
        }
    }

    fn from_hex(text: &str) -> Result<Self, SecretsError> {
        let bytes = hex::decode(text).map_err(|_| SecretsError::BadKey)?;
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| SecretsError::BadKey)?;
        let root = Sha256::new()
            .chain_update(b"gantry key derivation\0")
            .chain_update(&bytes)
            .finalize()
            .into();
        Ok(Secrets { cipher, root })
    }

    /// Seals a value: nonce followed by ciphertext and tag.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), plain)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// A 32-byte key for `purpose` (registry tokens, ...), derived from the server key: the
    /// same on every replica that shares the key, different for every purpose.
    pub fn derive_key(&self, purpose: &str) -> Vec<u8> {
        Sha256::new()
            .chain_update(self.root)
            .chain_update(purpose.as_bytes())
            .finalize()
            .to_vec()
    }

    /// Opens a value sealed by [`Secrets::seal`] with the same key.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SecretsError> {
        if sealed.len() < NONCE_LEN {
            return Err(SecretsError::Open);
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretsError::Open)?;
        self.cipher
            .decrypt(&Nonce::from(nonce), data)
            .map_err(|_| SecretsError::Open)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_the_same_key_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Secrets::load(dir.path()).expect("key");
        let sealed = secrets.seal(b"hunter2-hunter2");
        assert!(
            !sealed.windows(7).any(|w| w == b"hunter2"),
            "the value is not in clear"
        );
        assert_eq!(secrets.open(&sealed).expect("open"), b"hunter2-hunter2");
        let again = Secrets::load(dir.path()).expect("same key file");
        assert_eq!(again.open(&sealed).expect("open"), b"hunter2-hunter2");
        let other = Secrets::from_hex(&"11".repeat(32)).expect("key");
        assert!(other.open(&sealed).is_err());
        let mut corrupt = sealed.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        assert!(secrets.open(&corrupt).is_err());
    }
}
