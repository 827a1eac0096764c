//! Deep merge of YAML maps, as GitLab merges included files and `extends` parents.
//!
//! Maps merge key by key, recursively; anything else (lists included) is replaced whole.
//! Keys keep the position they first had (Ruby's `Hash#deep_merge!`).

use crate::yaml::{Map, Value};

/// Merges `over` into `base`; values of `over` win.
pub(crate) fn deep_merge(base: &mut Map, over: Map) {
    for (key, entry) in over {
        match base.get_mut(&key) {
            Some(existing) => match (&mut existing.value.value, entry.value.value) {
                (Value::Map(b), Value::Map(o)) => deep_merge(b, o),
                (slot, value) => {
                    *slot = value;
                    existing.value.span = entry.value.span;
                    existing.key_span = entry.key_span;
                }
            },
            None => {
                base.insert(key, entry);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{LoadLimits, load};

    fn map(text: &str) -> Map {
        let docs = load(text, Default::default(), &LoadLimits::default(), &mut Vec::new()).unwrap();
        docs[0].as_map().unwrap().clone()
    }

    #[test]
    fn maps_merge_recursively_and_lists_are_replaced() {
        let mut base = map("a: {x: 1, y: [1, 2]}\nb: 1\n");
        deep_merge(&mut base, map("a: {y: [3], z: 2}\nc: 3\n"));
        let keys: Vec<_> = base.keys().cloned().collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let a = base["a"].value.as_map().unwrap();
        assert_eq!(a.keys().cloned().collect::<Vec<_>>(), ["x", "y", "z"]);
        assert_eq!(a["y"].value.as_seq().unwrap().len(), 1);
    }
}
