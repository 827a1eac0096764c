//! Tests of the whole language: the table in `test_data/cases.txt` and property tests.

mod cases;
mod properties;
