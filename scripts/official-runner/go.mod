// Wrapper module for building the unmodified official gitlab-runner from the Go module
// proxy (scripts/official-runner.sh copies it to .cache/official-runner and builds there).
// gitlab-runner's release tags (v17.x, v18.x, ...) are not valid Go module versions (its
// module path has no /vN suffix), so the proxy serves only pseudo-versions; this is the one
// it served on 2026-12-06.
module gantry.invalid/official-runner

go 1.26

require gitlab.com/gitlab-org/gitlab-runner v1.11.1-0.20260903214710-fc1f1862bd91
