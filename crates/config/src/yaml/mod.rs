//! YAML as GitLab reads it: a tree of [`Node`]s with positions, built from granit-parser (a lenient, libyaml-compatible YAML parser) events.
//!
//! GitLab loads YAML with Ruby's Psych, and some of its behaviour is not the YAML spec's:
//! `<<` merge keys override keys written before them, duplicate keys keep the last value,
//! anchors may be redefined, plain scalars follow YAML 1.1 (`yes`/`on` are booleans).
//! This module reproduces that, keeps `!reference` tags, and bounds depth and alias expansion.

mod load;
mod node;
mod scalar;

pub use load::{LoadLimits, load};
pub use node::{Entry, Map, Node, Value};
