//! The dashboard's static files, compiled into the binary (gantry works offline: no CDN).
//! URLs carry a hash of the content, so browsers may cache them for good.

use std::sync::LazyLock;

/// A static file.
#[derive(Debug)]
pub struct Asset {
    /// Its name (`app.css`).
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

/// Every static file.
pub const ASSETS: [Asset; 2] = [
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/app.js"),
    },
];

/// The file called `name`.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// A short hash of all the assets (FNV-1a), the version in their URLs.
pub fn version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for a in &ASSETS {
            for b in a.body {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{:012x}", h & 0xffff_ffff_ffff)
    });
    &VERSION
}

/// The URL of the asset `name`, with the version.
pub fn url(name: &str) -> String {
    format!("/-/assets/{name}?v={}", version())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_found_by_name_and_urls_carry_the_version() {
        assert!(asset("app.js").is_some_and(|a| a.content_type.starts_with("text/javascript")));
        assert!(asset("nope.js").is_none());
        assert_eq!(url("app.css"), format!("/-/assets/app.css?v={}", version()));
        assert_eq!(version().len(), 12);
    }
}
