//! Differential test of `gantry run`: small shell pipelines run by gantry (`--report`) and by
//! gitlab-ci-local (shell executor, `--shell-isolation`), compared job by job on the final
//! status and on the marker lines the job printed.
//!
//! Scripts print markers with a split literal (`echo "m=v""al"`), so the echoed command line
//! (`$ echo "m=v""al"`) is not itself a marker; only lines starting with `m=` are compared.
//! gitlab-ci-local is a second opinion, not the reference: every difference must be in
//! [`KNOWN`] with the docs.gitlab.com sentence that says GitLab does what gantry does. Any other
//! difference fails the test, and so does a known one that no longer shows up. When jobs start
//! is not compared (gitlab-ci-local starts jobs in waves).
//!
//! Needs `GANTRY_GCL` (the wrapper scripts/install-peers.sh writes); without it the test fails
//! when `CI=true` and skips with a printed reason otherwise. The gantry binary is `GANTRY_BIN`,
//! else the one cargo built for this test.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::peer::{git, gitlab_spelling, run, tail};

/// How long one gantry or gitlab-ci-local run of a pipeline may take.
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(120);

/// The pipelines, each after a `### <name> [K=V ...]` line (the pipeline variables: `--var`
/// for gantry, `--variable` for gitlab-ci-local). Every script marks what it did with `m=`
/// lines; `$SCRATCH` is a directory private to each tool's run, for state a retry must see.
const PIPELINES: &str = r#"
### when-after-failure
stages: [build, test, cleanup, report]
compile: {stage: build, script: ['echo "m=c""ompile"', 'exit 1']}
sibling: {stage: build, script: ['echo "m=s""ibling"']}
unit: {stage: test, script: ['echo "m=u""nit"']}
collect: {stage: test, when: always, script: ['echo "m=c""ollect"']}
rollback: {stage: cleanup, when: on_failure, script: ['echo "m=r""ollback"']}
publish: {stage: report, script: ['echo "m=p""ublish"']}
final: {stage: report, when: always, script: ['echo "m=f""inal"']}
### needs-dag
stages: [build, test, deploy]
build-a: {stage: build, script: ['echo "m=b""uild-a"']}
build-b: {stage: build, script: ['echo "m=b""uild-b"', 'exit 4']}
test-a: {stage: test, needs: [build-a], script: ['echo "m=t""est-a"']}
test-b: {stage: test, needs: [build-b], script: ['echo "m=t""est-b"']}
test-b-failed: {stage: test, needs: [build-b], when: on_failure, script: ['echo "m=t""est-b-failed"']}
lint: {stage: deploy, needs: [], script: ['echo "m=l""int"']}
deploy-a: {stage: deploy, needs: [test-a], script: ['echo "m=d""eploy-a"']}
deploy-all: {stage: deploy, script: ['echo "m=d""eploy-all"']}
optional:
  stage: deploy
  needs: [{job: test-a}, {job: missing, optional: true}]
  script: ['echo "m=o""ptional"']
### manual-jobs
stages: [build, gate, deploy]
build: {stage: build, script: ['echo "m=b""uild"']}
optional-manual: {stage: build, when: manual, script: ['echo "m=o""ptional-manual"']}
delayed: {stage: build, when: delayed, start_in: 1 second, script: ['echo "m=d""elayed"']}
after-optional: {stage: gate, script: ['echo "m=a""fter-optional"']}
blocking-manual: {stage: gate, when: manual, allow_failure: false, script: ['echo "m=b""locking"']}
deploy: {stage: deploy, script: ['echo "m=d""eploy"']}
cleanup: {stage: deploy, when: always, script: ['echo "m=c""leanup"']}
### needs-on-manual
stages: [build, test]
build-manual: {stage: build, when: manual, script: ['echo "m=b""uild-manual"']}
needs-manual: {stage: test, needs: [build-manual], script: ['echo "m=n""eeds-manual"']}
independent: {stage: test, script: ['echo "m=i""ndependent"']}
### allow-failure-exit-codes
stages: [test, next]
allowed: {stage: test, allow_failure: true, script: ['echo "m=a""llowed"', 'exit 1']}
allowed-code: {stage: test, allow_failure: {exit_codes: [42, 43]}, script: ['echo "m=a""llowed-code"', 'exit 42']}
other-code: {stage: test, allow_failure: {exit_codes: [42]}, script: ['echo "m=o""ther-code"', 'exit 1']}
next-on-success: {stage: next, script: ['echo "m=n""ext-on-success"']}
next-on-failure: {stage: next, when: on_failure, script: ['echo "m=n""ext-on-failure"']}
### allowed-failures-only
stages: [test, next]
allowed: {stage: test, allow_failure: true, script: ['echo "m=a""llowed"', 'exit 1']}
allowed-code: {stage: test, allow_failure: {exit_codes: 42}, script: ['echo "m=a""llowed-code"', 'exit 42']}
next-on-success: {stage: next, script: ['echo "m=n""ext-on-success"']}
next-on-failure: {stage: next, when: on_failure, script: ['echo "m=n""ext-on-failure"']}
### retry-succeeds
stages: [test, next]
flaky:
  stage: test
  retry: 1
  script:
    - echo "m=a""ttempt"
    - if [ ! -e "$SCRATCH/flaky" ]; then touch "$SCRATCH/flaky"; exit 1; fi
    - echo "m=p""assed"
next-on-success: {stage: next, script: ['echo "m=n""ext-on-success"']}
next-on-failure: {stage: next, when: on_failure, script: ['echo "m=n""ext-on-failure"']}
### retry-exhausted
always-fails: {retry: 2, script: ['echo "m=a""lways-fails"', 'exit 2']}
code-not-listed: {retry: {max: 2, exit_codes: [3]}, script: ['echo "m=c""ode-not-listed"', 'exit 4']}
### parallel-matrix
stages: [build, test]
shard: {stage: build, parallel: 3, script: ['echo "m=$CI_NODE_INDEX/$CI_NODE_TOTAL"']}
deploy:
  stage: build
  parallel: {matrix: [{PROVIDER: [aws, gcp], STACK: [app, db]}, {PROVIDER: ovh}]}
  script: ['echo "m=${PROVIDER}-${STACK}-${CI_NODE_INDEX}/${CI_NODE_TOTAL}"']
half-fails: {stage: build, parallel: 2, script: ['echo "m=h""alf-$CI_NODE_INDEX"', 'test "$CI_NODE_INDEX" = 1']}
after-shards: {stage: test, needs: [shard], script: ['echo "m=a""fter-shards"']}
### artifacts-dependencies
stages: [build, test]
build-one:
  stage: build
  script: ['mkdir -p out', 'echo one > out/one.txt', 'echo skip > out/skip.log']
  artifacts: {paths: [out/], exclude: [out/*.log]}
build-two: {stage: build, script: ['mkdir -p two', 'echo two > two/two.txt'], artifacts: {paths: [two/]}}
failing-build:
  stage: build
  allow_failure: true
  script: ['mkdir -p fail', 'echo f > fail/report.txt', 'exit 1']
  artifacts: {when: on_failure, paths: [fail/]}
passing-build:
  stage: build
  script: ['mkdir -p okf', 'echo x > okf/x.txt']
  artifacts: {when: on_failure, paths: [okf/]}
untracked: {stage: build, script: ['echo u > untracked.txt'], artifacts: {untracked: true}}
all-deps: {stage: test, script: ['echo "m=$(find out two fail okf -type f 2>/dev/null | sort | xargs)"']}
only-two:
  stage: test
  dependencies: [build-two]
  script: ['echo "m=$(find out two -type f 2>/dev/null | sort | xargs)"']
no-deps: {stage: test, dependencies: [], script: ['echo "m=$(find out two -type f 2>/dev/null | wc -l)"']}
read-untracked: {stage: test, needs: [untracked], script: ['echo "m=$(cat untracked.txt || echo none)"']}
needs-without-artifacts:
  stage: test
  needs: [{job: build-one, artifacts: false}, build-two]
  script: ['echo "m=$(find out two -type f 2>/dev/null | sort | xargs)"']
### dotenv-variables PIPE=from-cli BOTH=from-cli CLI=cli
stages: [build, test]
variables:
  GLOBAL: global
  OVERRIDDEN: global
  PIPE: from-yaml
  NESTED: "n-$GLOBAL"
  LITERAL: "cost $$5"
  RAW: {value: "raw-$GLOBAL", expand: false}
produce:
  stage: build
  script: ['printf "DOTENV_ONLY=from-dotenv\nPIPE=from-dotenv\nJOBVAR=from-dotenv\n" > build.env']
  artifacts: {reports: {dotenv: build.env}}
consume:
  stage: test
  variables: {OVERRIDDEN: job, JOBVAR: job, BOTH: job, REF: "$GLOBAL-ref"}
  script:
    - echo "m=GLOBAL=$GLOBAL OVERRIDDEN=$OVERRIDDEN NESTED=$NESTED REF=$REF"
    - echo "m=LITERAL=$LITERAL RAW=$RAW"
    - echo "m=BOTH=$BOTH CLI=$CLI"
    - echo "m=DOTENV_ONLY=$DOTENV_ONLY JOBVAR=$JOBVAR"
pipeline-over-dotenv: {stage: test, script: ['echo "m=PIPE=$PIPE"']}
needs-dotenv: {stage: test, needs: [produce], script: ['echo "m=DOTENV_ONLY=$DOTENV_ONLY"']}
no-dotenv: {stage: test, dependencies: [], script: ['echo "m=DOTENV_ONLY=${DOTENV_ONLY:-unset}"']}
### cache
stages: [one, two, three]
.read: {script: ['echo "m=$(cat c/f.txt 2>/dev/null || echo none)"']}
fill: {stage: one, cache: {key: shared, paths: [c/]}, script: ['mkdir -p c', 'echo filled > c/f.txt']}
fail-writer:
  stage: one
  allow_failure: true
  cache: {key: fail, paths: [c/]}
  script: ['mkdir -p c', 'echo written > c/f.txt', 'exit 1']
always-writer:
  stage: one
  allow_failure: true
  cache: {key: always, paths: [c/], when: always}
  script: ['mkdir -p c', 'echo written > c/f.txt', 'exit 1']
read-pull:
  extends: .read
  stage: two
  cache: {key: shared, policy: pull, paths: [c/]}
  after_script: ['echo changed > c/f.txt']
other-key: {extends: .read, stage: two, cache: {key: other, paths: [c/]}}
read-fail: {extends: .read, stage: two, cache: {key: fail, policy: pull, paths: [c/]}}
read-always: {extends: .read, stage: two, cache: {key: always, policy: pull, paths: [c/]}}
read-again: {extends: .read, stage: three, cache: {key: shared, policy: pull, paths: [c/]}}
### after-script
variables: {G: global}
default:
  after_script: ['echo "m=default-after-$CI_JOB_STATUS"']
script-fails:
  script: ['echo "m=s""cript"', 'false', 'echo "m=n""ever"']
  after_script: ['echo "m=after-$CI_JOB_STATUS"']
after-fails:
  script: ['echo "m=s""cript"']
  after_script: ['echo "m=after-$CI_JOB_STATUS"', 'exit 9', 'echo "m=n""ever"']
before-fails: {before_script: ['echo "m=b""efore"', 'exit 5'], script: ['echo "m=n""ever"']}
multi-line:
  script:
    - |
      echo "m=l""ine1"
      false
      echo "m=l""ine2"
    - echo "m=n""ext-command"
pipefail: {script: ['false | true', 'echo "m=p""ipefail-passed"']}
no-inherit: {inherit: {default: false, variables: false}, script: ['echo "m=G=${G:-unset}"']}
folded:
  script:
    - >
      echo "m=f""olded"
      && echo "m=s""ame-line"
shell-state:
  before_script: ['export FROM_BEFORE=before', 'mkdir -p sub && cd sub']
  script: ['echo "m=from-before-$FROM_BEFORE cwd-$(basename "$PWD")"', 'export FROM_SCRIPT=script']
  # Where it starts: the project directory (whatever each tool names it), not `sub`.
  after_script: ['echo "m=after-${FROM_BEFORE:-unset}-${FROM_SCRIPT:-unset}-$([ "$PWD" = "$CI_PROJECT_DIR" ] && echo project-dir || basename "$PWD")"']
files-for-after-script:
  script: ['echo kept > kept.txt', 'mkdir -p sub && echo kept > sub/kept.txt']
  after_script: ['echo "m=kept:$(cat kept.txt sub/kept.txt 2>/dev/null | xargs)"']
### rules-only-except DEPLOY=yes
on-main: {rules: [{if: '$CI_COMMIT_BRANCH == "main"'}], script: ['echo "m=o""n-main"']}
rules-manual: {rules: [{if: '$CI_COMMIT_BRANCH == "main"', when: manual}], script: ['echo "m=r""ules-manual"']}
rules-never:
  rules: [{if: '$CI_COMMIT_BRANCH == "main"', when: never}, {when: always}]
  script: ['echo "m=r""ules-never"']
rules-variables:
  rules: [{if: '$DEPLOY == "yes"', variables: {TARGET: prod}}]
  script: ['echo "m=target-$TARGET"']
only-tags: {only: [tags], script: ['echo "m=o""nly-tags"']}
except-main: {except: [main], script: ['echo "m=e""xcept-main"']}
"#;

/// One pipeline of [`PIPELINES`].
struct Case {
    name: &'static str,
    vars: Vec<(&'static str, &'static str)>,
    yaml: String,
}

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in PIPELINES.lines() {
        if let Some(header) = line.strip_prefix("### ") {
            let mut words = header.split_whitespace();
            let name = words.next().expect("a pipeline name after ###");
            let vars = words.map(|w| w.split_once('=').expect("K=V")).collect();
            cases.push(Case {
                name,
                vars,
                yaml: String::new(),
            });
        } else if let Some(case) = cases.last_mut() {
            case.yaml.push_str(line);
            case.yaml.push('\n');
        }
    }
    cases
}

/// The known differences, each decided by GitLab's docs in gantry's favour: what gantry and
/// gitlab-ci-local do with the job (as [`Outcome::describe`] prints it; the `(exit code)` row
/// compares the tools' exit codes) and the key of the [`DOCS`] entry that decides it.
///
/// What gitlab-ci-local 4.75.1 does in each case: once an `on_success` job of an earlier stage
/// is skipped it starts no later job (`when`); it runs the stages after a blocking manual job;
/// it refuses a pipeline where a job needs a manual job it was not told to play (`--manual`);
/// it fails a job whose exit code `allow_failure:exit_codes` does not list, then treats it as
/// allowed when it decides the later stages and its exit code; it has no `retry`; it ignores
/// `artifacts:when` and `artifacts:untracked` in shell mode; it lets a dotenv value override a
/// `--variable`; its `after_script` does not see the files the script wrote (with
/// `--shell-isolation`); it ignores `only`/`except`.
const KNOWN: &str = "
| pipeline | job | gantry | gitlab-ci-local | docs |
|---|---|---|---|---|
| when-after-failure | final | success: m=final | not run | when |
| when-after-failure | rollback | success: m=rollback | not run | when |
| manual-jobs | cleanup | not run (created) | success: m=cleanup | blocking-manual |
| manual-jobs | deploy | not run (created) | success: m=deploy | blocking-manual |
| needs-on-manual | independent | success: m=independent | not run | optional-manual |
| needs-on-manual | (exit code) | exit 0 | exit 1 | optional-manual |
| allow-failure-exit-codes | next-on-failure | success: m=next-on-failure | not run | exit-codes |
| allow-failure-exit-codes | next-on-success | not run (skipped) | success: m=next-on-success | exit-codes |
| allow-failure-exit-codes | (exit code) | exit 1 | exit 0 | exit-codes |
| retry-succeeds | flaky | success: m=attempt, m=attempt, m=passed | failed: m=attempt | retry |
| retry-succeeds | next-on-failure | not run (skipped) | success: m=next-on-failure | retry |
| retry-succeeds | next-on-success | success: m=next-on-success | not run | retry |
| retry-succeeds | (exit code) | exit 0 | exit 1 | retry |
| retry-exhausted | always-fails | failed: m=always-fails, m=always-fails, m=always-fails | failed: m=always-fails | retry |
| artifacts-dependencies | all-deps | success: m=fail/report.txt out/one.txt two/two.txt | success: m=okf/x.txt out/one.txt two/two.txt | artifacts-when |
| artifacts-dependencies | read-untracked | success: m=u | success: m=none | artifacts-untracked |
| dotenv-variables | pipeline-over-dotenv | success: m=PIPE=from-cli | success: m=PIPE=from-dotenv | precedence |
| after-script | files-for-after-script | success: m=kept:kept kept | success: m=kept: | after-script |
| rules-only-except | except-main | not created | success: m=except-main | only-except |
| rules-only-except | only-tags | not created | success: m=only-tags | only-except |
";

/// The docs that decide [`KNOWN`]: key, docs.gitlab.com page, what it says (paraphrased).
const DOCS: &str = "
| key | page | what it says |
|---|---|---|
| when | https://docs.gitlab.com/ci/yaml/#when | `on_failure` runs the job when at least one job in an earlier stage fails; `always` runs it regardless of the status of jobs in earlier stages. |
| blocking-manual | https://docs.gitlab.com/ci/jobs/job_control/#types-of-manual-jobs | A blocking manual job (`allow_failure: false`) stops the pipeline at the stage where the job is defined; to let the pipeline continue, run the manual job. The pipeline shows as blocked. |
| optional-manual | https://docs.gitlab.com/ci/jobs/job_control/#types-of-manual-jobs | A manual job does not run unless a user starts it and shows as skipped when the pipeline starts; an optional one (`allow_failure: true`, the default outside `rules`) does not contribute to the pipeline's status: the pipeline is created and its other jobs run. |
| exit-codes | https://docs.gitlab.com/ci/yaml/#allow_failureexit_codes | With `allow_failure:exit_codes` the job is allowed to fail only for the listed exit codes; any other exit code is a failure that is not allowed (later `on_success` jobs are skipped, `on_failure` jobs run, the pipeline fails). |
| retry | https://docs.gitlab.com/ci/yaml/#retry | `retry` is how many times a job is retried if it fails (0 to 2): a failed job is processed again up to that many times, until it succeeds or reaches the maximum. |
| artifacts-when | https://docs.gitlab.com/ci/yaml/#artifactswhen | `artifacts:when: on_failure` uploads artifacts only when the job fails. |
| artifacts-untracked | https://docs.gitlab.com/ci/yaml/#artifactsuntracked | `artifacts:untracked: true` adds all Git untracked files as artifacts. |
| precedence | https://docs.gitlab.com/ci/variables/#cicd-variable-precedence | Pipeline variables take precedence over variables from dotenv reports, which take precedence over job and top-level (default) variables. |
| after-script | https://docs.gitlab.com/ci/yaml/#after_script | `after_script` runs in a new shell, so it loses exported variables and changes outside the working tree; it runs before artifacts and caches are uploaded, in the same build directory, so the files the script wrote are there. |
| only-except | https://docs.gitlab.com/ci/yaml/deprecated_keywords/#onlyrefs--exceptrefs | `only`/`except` match refs: `tags` matches only pipelines for tags, and a branch name in `except` keeps the job out of that branch's pipelines. |
";

/// The rows of a `| a | b | ... |` table, without its header and separator lines.
fn table_rows(table: &'static str) -> Vec<Vec<&'static str>> {
    let rows = table.lines().filter(|l| l.starts_with("| ")).skip(1);
    rows.map(|row| row.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect()
}

/// One row of [`KNOWN`].
struct Known {
    pipeline: &'static str,
    job: &'static str,
    gantry: &'static str,
    gcl: &'static str,
    url: &'static str,
    docs: &'static str,
}

fn known() -> Vec<Known> {
    let docs = table_rows(DOCS);
    let rows = table_rows(KNOWN).into_iter();
    rows.map(|row| {
        let [pipeline, job, gantry, gcl, key] = row[..] else {
            panic!("KNOWN row without five cells: {row:?}");
        };
        let doc = docs.iter().find(|d| d[0] == key);
        let Some(&[_, url, docs]) = doc.map(Vec::as_slice) else {
            panic!("KNOWN row without a DOCS entry `{key}`: {row:?}");
        };
        Known {
            pipeline,
            job,
            gantry,
            gcl,
            url,
            docs,
        }
    })
    .collect()
}

/// What one tool did with one job: a status class both tools share, how the tool itself put
/// it, and the marker lines of every attempt.
#[derive(Clone, PartialEq, Eq)]
struct Outcome {
    /// `success`, `failed`, `failed (allowed)`, `not run`, or `exit N` for the exit code row.
    class: String,
    /// The class, with gantry's own status when the job did not run.
    shown: String,
    markers: Vec<String>,
}

impl Outcome {
    fn not_run(shown: &str) -> Outcome {
        Outcome {
            class: "not run".to_string(),
            shown: shown.to_string(),
            markers: Vec::new(),
        }
    }

    fn describe(&self) -> String {
        if self.markers.is_empty() {
            self.shown.clone()
        } else {
            format!("{}: {}", self.shown, self.markers.join(", "))
        }
    }

    fn agrees_with(&self, other: &Outcome) -> bool {
        self.class == other.class && self.markers == other.markers
    }
}

/// The marker lines of a log, in order.
fn markers(log: &str) -> Vec<String> {
    log.lines()
        .filter(|line| line.starts_with("m="))
        .map(str::to_string)
        .collect()
}

/// One job (or the exit code row) the two tools did not handle alike.
struct Disagreement {
    pipeline: &'static str,
    job: String,
    gantry: String,
    gcl: String,
}

#[test]
fn gantry_run_and_gitlab_ci_local_agree_on_job_outcomes_except_documented_differences() {
    let Some(gcl) = std::env::var_os("GANTRY_GCL").map(PathBuf::from) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "differential_run cannot run in CI: GANTRY_GCL is not set (the gitlab-ci-local \
             wrapper scripts/install-peers.sh writes)"
        );
        println!("differential_run: skipped: GANTRY_GCL is not set (bash scripts/install-peers.sh)");
        return;
    };
    assert!(gcl.is_file(), "GANTRY_GCL={} does not exist", gcl.display());
    let gantry = std::env::var_os("GANTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gantry")));

    let started = Instant::now();
    // Two workers: the machine has two cores, and gitlab-ci-local spends most of its time in
    // Node's start-up and rsync, so two pipelines at once halve the wall time.
    let cases = cases();
    let results: Vec<(&Case, Result<Vec<Disagreement>, String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = cases
            .chunks(cases.len().div_ceil(2))
            .map(|chunk| {
                let (gcl, gantry) = (&gcl, &gantry);
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|case| (case, compare(case, gantry, gcl)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a comparison thread panicked"))
            .collect()
    });

    let known = known();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (case, result) in &results {
        let disagreements = match result {
            Ok(d) => d,
            Err(error) => {
                problems.push(format!("{}: {error}", case.name));
                continue;
            }
        };
        for d in disagreements {
            let found = known.iter().position(|k| {
                k.pipeline == d.pipeline && k.job == d.job && k.gantry == d.gantry && k.gcl == d.gcl
            });
            match found {
                Some(index) => {
                    seen.insert(index);
                    println!(
                        "differential_run: {} / {}: known: gantry `{}`, gitlab-ci-local `{}`",
                        d.pipeline, d.job, d.gantry, d.gcl
                    );
                }
                None => problems.push(format!(
                    "{} / {}: unexplained: gantry `{}`, gitlab-ci-local `{}`",
                    d.pipeline, d.job, d.gantry, d.gcl
                )),
            }
        }
    }
    for (index, k) in known.iter().enumerate() {
        if !seen.contains(&index) {
            problems.push(format!(
                "{} / {}: known difference not seen (gantry `{}`, gitlab-ci-local `{}`); if gantry \
                 changed, check it against {}: \"{}\"; if the entry is stale, remove it",
                k.pipeline, k.job, k.gantry, k.gcl, k.url, k.docs
            ));
        }
    }
    println!(
        "differential_run: compared {} pipelines in {:.1}s",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        problems.is_empty(),
        "gantry run and gitlab-ci-local disagree beyond the documented differences in KNOWN \
         (crates/cli/tests/it/differential_run.rs); each entry needs the docs sentence \
         that says GitLab does what gantry does:\n  {}",
        problems.join("\n  ")
    );
}

/// Runs one pipeline with both tools and lists the jobs they handled differently.
fn compare(case: &Case, gantry: &Path, gcl: &Path) -> Result<Vec<Disagreement>, String> {
    let temp = tempfile::Builder::new()
        .prefix("gantry-differential-run-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let repo = temp.path().join("repo");
    make_repo(&repo, &case.yaml)?;
    let (gantry_code, gantry_jobs) = run_gantry(gantry, case, &repo, temp.path())?;
    let (gcl_code, gcl_jobs) = run_gcl(gcl, case, &repo, temp.path())?;

    let names: BTreeSet<&String> = gantry_jobs.keys().chain(gcl_jobs.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        let g = gantry_jobs
            .get(name)
            .cloned()
            .unwrap_or_else(|| Outcome::not_run("not created"));
        let c = gcl_jobs
            .get(name)
            .cloned()
            .unwrap_or_else(|| Outcome::not_run("not run"));
        if !g.agrees_with(&c) {
            out.push(Disagreement {
                pipeline: case.name,
                job: name.clone(),
                gantry: g.describe(),
                gcl: c.describe(),
            });
        }
    }
    if gantry_code != gcl_code {
        out.push(Disagreement {
            pipeline: case.name,
            job: "(exit code)".to_string(),
            gantry: format!("exit {gantry_code}"),
            gcl: format!("exit {gcl_code}"),
        });
    }
    Ok(out)
}

/// `gantry run --report`: the exit code and every created job's outcome.
fn run_gantry(
    gantry: &Path,
    case: &Case,
    repo: &Path,
    temp: &Path,
) -> Result<(i32, BTreeMap<String, Outcome>), String> {
    let scratch = temp.join("scratch-gantry");
    fs::create_dir_all(&scratch).map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let report = temp.join("report.json");
    let mut command = Command::new(gantry);
    command
        .current_dir(repo)
        .arg("run")
        .arg("--report")
        .arg(&report)
        .arg("--data-dir")
        .arg(temp.join("gantry-data"))
        .arg("--var")
        .arg(format!("SCRATCH={}", scratch.display()));
    for (key, value) in &case.vars {
        command.arg("--var").arg(format!("{key}={value}"));
    }
    let output = run(command, INVOCATION_TIMEOUT)?;
    let text = fs::read_to_string(&report)
        .map_err(|e| format!("gantry wrote no report ({e}): {}", tail(&output.stderr)))?;
    let report: Value = serde_json::from_str(&text).map_err(|e| format!("gantry's report: {e}"))?;
    let mut jobs = BTreeMap::new();
    for job in report["jobs"].as_array().into_iter().flatten() {
        let name = job["name"].as_str().unwrap_or_default().to_string();
        let status = job["status"].as_str().unwrap_or_default();
        let class = match status {
            "success" => "success",
            "failed" if job["allow_failure"] == true => "failed (allowed)",
            "failed" => "failed",
            _ => "not run",
        };
        let shown = if class == "not run" {
            format!("not run ({status})")
        } else {
            class.to_string()
        };
        let outcome = Outcome {
            class: class.to_string(),
            shown,
            markers: markers(job["log"].as_str().unwrap_or_default()),
        };
        jobs.insert(name, outcome);
    }
    Ok((output.code, jobs))
}

/// gitlab-ci-local in shell mode: the exit code and the outcome of every job it started (its
/// summary says PASS, WARN ... pre_script for an allowed failure, or FAIL; its per-job logs are
/// `.gitlab-ci-local/output/<safe name>.log`).
fn run_gcl(
    gcl: &Path,
    case: &Case,
    repo: &Path,
    temp: &Path,
) -> Result<(i32, BTreeMap<String, Outcome>), String> {
    let scratch = temp.join("scratch-gcl");
    fs::create_dir_all(&scratch).map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    let mut command = Command::new(gcl);
    command
        .current_dir(repo)
        .args(["--shell-isolation", "--no-color"])
        .arg("--json-schema-validation=false")
        .arg("--home")
        .arg(temp.join("gcl-home"))
        .arg("--variable")
        .arg(format!("SCRATCH={}", scratch.display()));
    for (key, value) in &case.vars {
        command.arg("--variable").arg(format!("{key}={value}"));
    }
    let output = run(command, INVOCATION_TIMEOUT)?;
    let mut jobs = BTreeMap::new();
    for line in output.stdout.lines() {
        let (class, rest) = if let Some(rest) = line.strip_prefix(" PASS ") {
            ("success", rest)
        } else if let Some(rest) = line.strip_prefix(" FAIL ") {
            ("failed", rest)
        } else if let Some(rest) = line.strip_prefix(" WARN ") {
            // `WARN name after_script` only says the after_script failed; the job's own line
            // is PASS or FAIL.
            match rest.trim_end().strip_suffix("pre_script") {
                Some(rest) => ("failed (allowed)", rest),
                None => continue,
            }
        } else {
            continue;
        };
        let gcl_name = rest.trim();
        let log_path = repo
            .join(".gitlab-ci-local/output")
            .join(format!("{}.log", safe_name(gcl_name)));
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        let outcome = Outcome {
            class: class.to_string(),
            shown: class.to_string(),
            markers: markers(&log),
        };
        jobs.insert(gitlab_spelling(gcl_name), outcome);
    }
    if jobs.is_empty() && output.code != 0 {
        println!(
            "differential_run: {}: gitlab-ci-local ran no job: {}",
            case.name,
            tail(&format!("{}\n{}", output.stdout, output.stderr))
        );
    }
    Ok((output.code, jobs))
}

/// gitlab-ci-local's file name for a job (`Utils.safeDockerString`): every run of characters
/// other than `[A-Za-z0-9_-]` replaced by its unpadded base64url encoding.
fn safe_name(name: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            out.push_str(&base64url(run.as_bytes()));
            run.clear();
            out.push(c);
        } else {
            run.push(c);
        }
    }
    out.push_str(&base64url(run.as_bytes()));
    out
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// A repository with the pipeline committed on `main`, and `origin/main` (with `origin/HEAD`)
/// at that commit so that gitlab-ci-local finds the default branch without a remote.
fn make_repo(repo: &Path, yaml: &str) -> Result<(), String> {
    fs::create_dir_all(repo).map_err(|e| format!("cannot create {}: {e}", repo.display()))?;
    fs::write(repo.join(".gitlab-ci.yml"), yaml.trim_start()).map_err(|e| format!("cannot write: {e}"))?;
    git(repo, &["init", "-q", "-b", "main"])?;
    git(repo, &["add", "-A"])?;
    git(repo, &["commit", "-q", "-m", "pipeline"])?;
    let origin = "refs/remotes/origin/main";
    git(repo, &["update-ref", origin, "HEAD"])?;
    git(repo, &["symbolic-ref", "refs/remotes/origin/HEAD", origin])
}
