#!/usr/bin/env bash
# Tries to build the unmodified official gitlab-runner from the Go module proxy, with the
# wrapper module in scripts/official-runner/, into .cache/official-runner/gitlab-runner.
#
# On 2026-12-06 it cannot be built here: the proxy refuses (403 "This module version is
# not available") ten modules the runner imports, all hosted on gitlab.com:
#   gitlab.com/ajwalker/phrasestream, gitlab.com/gitlab-org/fleeting/fleeting (and its
#   metrics/prometheus), gitlab.com/gitlab-org/fleeting/nesting,
#   gitlab.com/gitlab-org/fleeting/taskscaler (and its metrics/prometheus),
#   gitlab.com/gitlab-org/gitlab-runner/helpers/runner_wrapper/api,
#   gitlab.com/gitlab-org/labkit/v2, gitlab.com/gitlab-org/moa, gitlab.com/gitlab-org/step-runner
# and every released tag of gitlab-runner itself (v17.5.0, v18.3.0, ...) is refused as a
# version. The interop test therefore uses an independent client of the protocol, the
# `gitlab-runner` crate (crates/cli/tests/it/server/interop.rs).
#
# Prints the modules the proxy refused and exits 1 when the build fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/.cache/official-runner"
mkdir -p "$out/module"
cp "$root/scripts/official-runner/go.mod" "$out/module/go.mod"
cd "$out/module"
log="$out/build.log"
if GOFLAGS=-mod=mod go build -o "$out/gitlab-runner" gitlab.com/gitlab-org/gitlab-runner >"$log" 2>&1; then
    "$out/gitlab-runner" --version
    exit 0
fi
echo "official-runner: the build failed; the proxy refused these modules:" >&2
grep -o 'proxy.golang.org/[^ ]*: 403' "$log" | sed 's,proxy.golang.org/,  ,; s,/@v/, ,; s,\.\(zip\|mod\|info\): 403,,' | sort -u >&2 || true
echo "official-runner: the whole log is in $log" >&2
exit 1
