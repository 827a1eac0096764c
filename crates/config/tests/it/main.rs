//! Integration tests of configuration resolving, built into one test binary.

mod hostile;
