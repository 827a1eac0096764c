#!/usr/bin/env python3
"""Writes a trivial pipeline into a new git repository, for bench/run.sh.

usage: python3 bench/make_pipeline.py DIR JOBS [STAGES]

DIR gets a `.gitlab-ci.yml` with JOBS jobs spread evenly over STAGES stages (default 5), each
job `script: [true]`, committed on `main`. `origin/main` and `origin/HEAD` point at that commit
so that gitlab-ci-local finds the default branch without a remote (as the differential tests
do). Nothing else is in the repository, so neither tool has files to copy but the config.
"""

import os
import subprocess
import sys


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    repo = sys.argv[1]
    jobs = int(sys.argv[2])
    stages = int(sys.argv[3]) if len(sys.argv) == 4 else 5
    if jobs < 1 or stages < 1:
        sys.exit("make_pipeline.py: JOBS and STAGES must be at least 1")
    os.makedirs(repo)
    lines = ["stages: [" + ", ".join(f"s{s}" for s in range(stages)) + "]", ""]
    for i in range(jobs):
        # Job i goes to stage i * stages // jobs: equal blocks, in stage order.
        lines.append(f"job-{i:04d}: {{stage: s{i * stages // jobs}, script: ['true']}}")
    with open(os.path.join(repo, ".gitlab-ci.yml"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
             "-c", "commit.gpgsign=false", *args],
            cwd=repo, check=True, stdout=subprocess.DEVNULL,
        )

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", f"{jobs} trivial jobs in {stages} stages")
    git("update-ref", "refs/remotes/origin/main", "HEAD")
    git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")


if __name__ == "__main__":
    main()
