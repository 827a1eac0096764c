//! The dashboard's presentation: view models and the HTML they render into (askama
//! templates compiled into the binary), the job log renderer ([`log`]), the pipeline graph's
//! layout ([`graph`]) and the stylesheet and script ([`assets`]). Pure: the server reads its
//! state, fills the view models and serves what comes out; nothing here does IO.

pub mod assets;
pub mod format;
pub mod graph;
pub mod log;
pub mod views;

pub use askama::Template;
