//! Integration tests of gantry-deploy against the real control plane of gantry-testenv.

mod deploy;
