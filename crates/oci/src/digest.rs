//! Content digests (`algorithm:hex`): parsed and checked as the spec's grammar says, and
//! computed for sha256 and sha512 (what registries must and may support).

use crate::error::{Code, RegistryError};
use sha2::Digest as _;
use std::fmt;

/// A digest's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// `sha256`: 64 lowercase hex characters.
    Sha256,
    /// `sha512`: 128 lowercase hex characters.
    Sha512,
}

impl Algorithm {
    fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A valid digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses `algorithm:hex`; `DIGEST_INVALID` for anything else (an unknown algorithm, a
    /// wrong length, uppercase or non-hex characters).
    pub fn parse(text: &str) -> Result<Digest, RegistryError> {
        let invalid = || RegistryError::new(Code::DigestInvalid, format!("`{text}` is not a valid digest"));
        let (algorithm, hex) = text.split_once(':').ok_or_else(invalid)?;
        let algorithm = match algorithm {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => {
                return Err(RegistryError::new(
                    Code::DigestInvalid,
                    format!("`{text}`: the digest algorithm `{algorithm}` is not supported (sha256, sha512)"),
                ));
            }
        };
        let lower_hex = hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if hex.len() != algorithm.hex_len() || !lower_hex {
            return Err(invalid());
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Digest {
        Digest {
            algorithm: Algorithm::Sha256,
            hex: hex::encode(sha2::Sha256::digest(bytes)),
        }
    }

    /// The digest's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// A hasher of this digest's algorithm, to check streamed content against it.
    pub fn hasher(&self) -> Hasher {
        Hasher::new(self.algorithm)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

/// Digests content fed in pieces.
#[derive(Clone)]
pub enum Hasher {
    /// sha256.
    Sha256(sha2::Sha256),
    /// sha512.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds more content.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest {
                algorithm: Algorithm::Sha256,
                hex: hex::encode(h.finalize()),
            },
            Hasher::Sha512(h) => Digest {
                algorithm: Algorithm::Sha512,
                hex: hex::encode(h.finalize()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digests_parse_only_in_the_spec_grammar() {
        let d = Digest::parse(EMPTY).expect("valid");
        assert_eq!(d.to_string(), EMPTY);
        assert_eq!(d, Digest::sha256(b""));
        for bad in [
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:../../etc/passwd",
        ] {
            let e = Digest::parse(bad).expect_err(bad);
            assert_eq!(e.code, Code::DigestInvalid, "{bad}");
        }
        assert!(Digest::parse(&format!("sha512:{}", "a".repeat(128))).is_ok());
    }

    #[test]
    fn a_hasher_fed_in_pieces_gives_the_whole_content_digest() {
        let mut h = Digest::parse(EMPTY).expect("valid").hasher();
        h.update(b"hello ");
        h.update(b"world");
        assert_eq!(h.finish(), Digest::sha256(b"hello world"));
        let mut h = Hasher::new(Algorithm::Sha512);
        h.update(b"x");
        assert_eq!(h.finish().hex().len(), 128);
    }
}
