//! Where an expression reads the values of CI/CD variables from.
//!
//! The planner implements [`Variables`] over its expanded variable set; tests use maps.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

/// Looks up CI/CD variable values by name.
///
/// Names are case-sensitive. A variable that is not defined returns `None`, which expressions
/// treat as `null`; a variable defined as the empty string returns `Some("")`.
pub trait Variables {
    /// Returns the value of the variable `name`, or `None` when it is not defined.
    fn get(&self, name: &str) -> Option<&str>;
}

impl<K, V, S> Variables for HashMap<K, V, S>
where
    K: Borrow<str> + Hash + Eq,
    V: AsRef<str>,
    S: BuildHasher,
{
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(AsRef::as_ref)
    }
}

impl<K, V> Variables for BTreeMap<K, V>
where
    K: Borrow<str> + Ord,
    V: AsRef<str>,
{
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(AsRef::as_ref)
    }
}

impl<T: Variables + ?Sized> Variables for &T {
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }
}

/// No variables at all: every variable is undefined.
impl Variables for () {
    fn get(&self, _name: &str) -> Option<&str> {
        None
    }
}
