//! What gantry's container registry decides without touching storage or the network, after
//! the OCI distribution specification v1.1 (and Docker's schema 2, which clients still
//! push): which repository names, tags and digests are valid, what a manifest refers to,
//! how a chunked upload's range continues, what a token scope grants, and the spec's error
//! codes with their HTTP statuses. The server's registry routes call these; every rule has
//! its unit test here.

pub mod digest;
pub mod error;
pub mod manifest;
pub mod name;
pub mod scope;
pub mod upload;

pub use digest::Digest;
pub use error::{Code, RegistryError};
pub use manifest::{Descriptor, Manifest, MediaKind};
pub use name::Reference;
