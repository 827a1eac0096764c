//! End-to-end: real pipelines through `gantry run` in temporary git repositories, checked
//! through the JSON report (docs/run-report.md) and the files jobs leave behind.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn gantry() -> PathBuf {
    std::env::var_os("GANTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gantry")))
}

/// A temporary repository with one commit holding `files`.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new(files: &[(&str, &str)]) -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.commit(files);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .status()
            .expect("git")
            .success();
        assert!(ok, "git {args:?}");
    }

    /// Runs `gantry run ARGS --report` and returns the report and the exit code.
    fn run(&self, args: &[&str]) -> (Value, i32) {
        self.run_with(args, &[])
    }

    /// [`Repo::run`] with more environment variables for gantry (and so for its jobs).
    fn run_with(&self, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> (Value, i32) {
        let report = self.path().join(".report.json");
        let out = Command::new(gantry())
            .envs(env.iter().copied())
            .current_dir(self.path())
            .arg("run")
            .args(args)
            .arg("--report")
            .arg(&report)
            .stdin(Stdio::null())
            .output()
            .expect("run gantry");
        let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
            panic!("no report; stderr: {}", String::from_utf8_lossy(&out.stderr));
        });
        (
            serde_json::from_str(&text).expect("report JSON"),
            out.status.code().unwrap_or(-1),
        )
    }

    /// Writes the files over the work tree and commits everything as a new commit.
    fn commit(&self, files: &[(&str, &str)]) {
        for (path, text) in files {
            let full = self.path().join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(full, text).expect("write");
        }
        // Not what `gantry run` leaves in the work tree (its data dir, the report).
        self.git(&[
            "add",
            "-A",
            "--",
            ".",
            ":(exclude).gantry",
            ":(exclude).report.json",
        ]);
        self.git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "next",
        ]);
    }
}

mod kubernetes;

fn job<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["name"] == name)
        .unwrap_or_else(|| panic!("no job {name}: {report}"))
}

fn log(report: &Value, name: &str) -> String {
    job(report, name)["log"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn stages_run_in_order_and_a_failure_runs_only_on_failure_and_always_jobs() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "stages: [build, test, deploy]\n\
         build: {stage: build, script: ['echo built > out.txt']}\n\
         test: {stage: test, script: ['exit 3']}\n\
         deploy: {stage: deploy, script: [echo never]}\n\
         notify: {stage: deploy, when: on_failure, script: ['echo notif\"\"ied']}\n\
         cleanup: {stage: deploy, when: always, script: ['echo clea\"\"ned']}\n",
    )]);
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 1);
    assert_eq!(r["pipeline"]["status"], "failed");
    assert_eq!(job(&r, "build")["status"], "success");
    assert_eq!(job(&r, "test")["status"], "failed");
    assert_eq!(job(&r, "test")["exit_code"], 3);
    assert_eq!(job(&r, "deploy")["status"], "skipped");
    assert!(log(&r, "notify").contains("notified"));
    assert!(log(&r, "cleanup").contains("cleaned"));
    let test_log = log(&r, "test");
    for marker in [":get_sources\r", ":step_script\r"] {
        assert!(
            test_log.contains("section_start:") && test_log.contains(marker),
            "no {marker:?} section: {test_log}"
        );
    }
}

#[test]
fn allowed_exit_codes_retry_and_manual_jobs_follow_gitlab() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "allowed: {allow_failure: {exit_codes: [42]}, script: ['exit 42']}\n\
         not-allowed: {allow_failure: {exit_codes: [42]}, script: ['exit 1']}\n\
         retried: {retry: 2, script: ['exit 7']}\n\
         optional: {when: manual, script: [echo]}\n",
    )]);
    let (r, _) = repo.run(&[]);
    assert_eq!(job(&r, "allowed")["allow_failure"], true);
    assert_eq!(job(&r, "not-allowed")["allow_failure"], false);
    assert_eq!(job(&r, "retried")["attempts"], 3);
    assert_eq!(job(&r, "optional")["status"], "manual");
    assert_eq!(job(&r, "optional")["allow_failure"], true);
}

#[test]
fn timeout_fails_the_job_and_after_script_still_runs() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "slow:\n  timeout: 2 seconds\n  script: ['sleep 30']\n  after_script: ['echo \"after=$CI_JOB_STATUS\"']\n",
    )]);
    let (r, _) = repo.run(&[]);
    assert_eq!(job(&r, "slow")["status"], "failed");
    let log = log(&r, "slow");
    assert!(log.contains("execution took longer than 2 seconds"), "{log}");
    assert!(log.contains("after=failed"), "{log}");
    assert!(job(&r, "slow")["finished_s"].as_f64().expect("finished") < 20.0);
}

#[test]
fn parallel_and_matrix_jobs_get_gitlab_names_and_node_variables() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "shard:\n  parallel: 2\n  script: ['echo \"node=$CI_NODE_INDEX/$CI_NODE_TOTAL\"']\n\
         deploy:\n  parallel:\n    matrix:\n      - CLOUD: [aws, gcp]\n  script: ['echo \"cloud=$CLOUD\"']\n",
    )]);
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 0);
    assert!(log(&r, "shard 2/2").contains("node=2/2"));
    assert!(log(&r, "deploy: [gcp]").contains("cloud=gcp"));
}

#[test]
fn pipeline_variables_win_over_job_variables_and_dollar_dollar_is_literal() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "variables: {G: global}\nshow:\n  variables: {J: job, P: from-job, D: 'cost $$5'}\n  script: ['echo \"[$G][$J][$P][$D]\"']\n",
    )]);
    let (r, _) = repo.run(&["--var", "P=from-pipeline"]);
    assert!(
        log(&r, "show").contains("[global][job][from-pipeline][cost $5]"),
        "{}",
        log(&r, "show")
    );
}

#[test]
fn git_strategies_decide_what_a_job_finds_in_its_build_slot() {
    // https://docs.gitlab.com/ci/runners/configure_runners/#git-strategy: fetch "re-uses the
    // project workspace" and undoes the last job's changes; clone starts from scratch; none
    // "re-uses the project workspace, but skips all Git operations"; empty leaves it empty.
    let repo = Repo::new(&[
        ("tracked.txt", "original\n"),
        (
            ".gitlab-ci.yml",
            "stages: [one, two, three, four, five]\n\
             dirty: {stage: one, script: ['echo changed > tracked.txt', 'touch junk', 'mkdir -p out && touch out/x', 'git config user.name dirty-job', 'echo \"dir=$CI_PROJECT_DIR\"']}\n\
             fetch: {stage: two, script: ['cat tracked.txt', 'test ! -e junk && test ! -e out && echo clean', 'git config user.name || echo no-name', 'git status --porcelain | wc -l', 'echo \"dir=$CI_PROJECT_DIR slot=$CI_CONCURRENT_ID\"', 'touch left-by-fetch']}\n\
             none: {stage: three, variables: {GIT_STRATEGY: none}, script: ['test -e left-by-fetch && echo sees-leftovers']}\n\
             clone: {stage: four, variables: {GIT_STRATEGY: clone}, script: ['test ! -e left-by-fetch && cat tracked.txt']}\n\
             empty: {stage: five, variables: {GIT_STRATEGY: empty}, script: ['echo \"entries=$(ls -A | wc -l)\"']}\n",
        ),
    ]);
    let (r, code) = repo.run(&["--concurrency", "1"]);
    assert_eq!(code, 0, "{r}");
    let dir = |job: &str| {
        log(&r, job)
            .lines()
            .find_map(|l| {
                l.strip_prefix("dir=")
                    .map(|d| d.split(' ').next().unwrap_or_default().to_owned())
            })
            .unwrap_or_default()
    };
    assert!(!dir("dirty").is_empty(), "{}", log(&r, "dirty"));
    assert_eq!(dir("dirty"), dir("fetch"), "one slot at concurrency 1");
    let fetch = log(&r, "fetch");
    for line in ["original", "clean", "no-name", "slot=0"] {
        assert!(fetch.lines().any(|l| l.contains(line)), "{line} missing: {fetch}");
    }
    assert!(
        fetch.lines().any(|l| l.trim() == "0"),
        "git status not clean: {fetch}"
    );
    assert!(fetch.contains("cleaned ("), "{fetch}");
    assert!(log(&r, "none").contains("sees-leftovers"), "{}", log(&r, "none"));
    assert!(log(&r, "clone").contains("original"), "{}", log(&r, "clone"));
    assert!(log(&r, "empty").contains("entries=0"), "{}", log(&r, "empty"));
}

#[test]
fn a_build_directory_a_job_replaced_by_a_link_is_not_followed_by_the_next_job() {
    // The link's target looks like a checkout (`.git` in it), so a cleaning that followed the
    // link would sync it and delete what it holds.
    let outside = tempfile::tempdir().expect("outside");
    std::fs::write(outside.path().join("keep.txt"), "precious").expect("write");
    std::fs::create_dir(outside.path().join(".git")).expect("mkdir");
    let repo = Repo::new(&[
        ("tracked.txt", "original\n"),
        (
            ".gitlab-ci.yml",
            "stages: [one, two]\n\
             link: {stage: one, script: ['cd .. && rm -rf \"$CI_PROJECT_DIR\" && ln -s \"$OUTSIDE\" \"$CI_PROJECT_DIR\"']}\n\
             next: {stage: two, script: ['cat tracked.txt']}\n",
        ),
    ]);
    let var = format!("OUTSIDE={}", outside.path().display());
    let (r, code) = repo.run(&["--concurrency", "1", "--var", &var]);
    assert_eq!(code, 0, "{r}");
    assert!(log(&r, "next").contains("original"), "{}", log(&r, "next"));
    assert_eq!(
        std::fs::read_to_string(outside.path().join("keep.txt")).expect("still there"),
        "precious"
    );
    assert!(
        !outside.path().join("tracked.txt").exists(),
        "nothing was copied through the link"
    );
}

#[test]
fn jobs_running_at_the_same_time_get_their_own_build_slots() {
    // Each waits until the other has started, so both run at once.
    let wait = |me: &str, other: &str| {
        format!(
            "['touch $CI_BUILDS_DIR/../{me}-started', 'for i in $(seq 200); do test -e $CI_BUILDS_DIR/../{other}-started && break; sleep 0.05; done', 'test -e $CI_BUILDS_DIR/../{other}-started', 'echo \"slot=$CI_CONCURRENT_ID dir=$CI_PROJECT_DIR\"']"
        )
    };
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        &format!(
            "a: {{script: {}}}\nb: {{script: {}}}\n",
            wait("a", "b"),
            wait("b", "a")
        ),
    )]);
    let (r, code) = repo.run(&["--concurrency", "2"]);
    assert_eq!(code, 0, "{r}");
    let line = |job: &str| {
        log(&r, job)
            .lines()
            .find(|l| l.starts_with("slot="))
            .unwrap_or_default()
            .to_owned()
    };
    let (a, b) = (line("a"), line("b"));
    assert!(!a.is_empty() && !b.is_empty(), "{r}");
    assert_ne!(a, b);
    let mut slots = [&a, &b].map(|l| l.split(' ').next().unwrap_or_default().to_owned());
    slots.sort();
    assert_eq!(slots, ["slot=0", "slot=1"]);
}

#[test]
fn resource_group_runs_jobs_one_at_a_time() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        ".d: {resource_group: prod, script: ['mkdir lock-$CI_PIPELINE_ID-x 2>/dev/null && sleep 1 && rmdir lock-$CI_PIPELINE_ID-x']}\n\
         a: {extends: .d, variables: {GIT_STRATEGY: none}}\n\
         b: {extends: .d, variables: {GIT_STRATEGY: none}}\n",
    )]);
    let (r, code) = repo.run(&["--concurrency", "2"]);
    assert_eq!(code, 0, "{r}");
    let (a, b) = (job(&r, "a"), job(&r, "b"));
    let overlap = a["started_s"].as_f64() < b["finished_s"].as_f64()
        && b["started_s"].as_f64() < a["finished_s"].as_f64();
    assert!(!overlap, "jobs of one resource group overlapped: {r}");
}

#[test]
fn a_daemon_forked_by_a_job_does_not_outlive_it() {
    let marker = format!("gantry-daemon-test-{}", std::process::id());
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        &format!(
            "fork:\n  script: ['bash -c \"exec -a {marker} sleep 300\" &', 'sleep 0.5', 'pgrep -f {marker} && echo daemon-running']\n"
        ),
    )]);
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 0, "{r}");
    assert!(
        log(&r, "fork").contains("daemon-running"),
        "the daemon never started: {}",
        log(&r, "fork")
    );
    let left = Command::new("pgrep")
        .args(["-f", &marker])
        .output()
        .expect("pgrep");
    assert!(
        left.stdout.is_empty(),
        "processes left behind: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

#[test]
fn huge_output_is_cut_at_the_log_limit_and_the_job_still_succeeds() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "loud:\n  script: ['head -c 20000000 /dev/zero | tr \"\\\\0\" a | fold -w 100', 'echo fini\"\"shed >&2']\n",
    )]);
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 0);
    let log = log(&r, "loud");
    assert!(log.len() < 5 << 20, "log is {} bytes", log.len());
    assert!(log.contains("exceeded limit"), "no notice in the log");
}

#[test]
fn invalid_configuration_is_reported_as_error_with_positions() {
    let repo = Repo::new(&[(".gitlab-ci.yml", "job:\n  script: [echo]\n  stage: nowhere\n")]);
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 1);
    assert_eq!(r["pipeline"]["status"], "error");
    let errors = r["pipeline"]["errors"].to_string();
    assert!(
        errors.contains(".gitlab-ci.yml:3:10") && errors.contains("unknown-stage"),
        "{errors}"
    );
}

#[test]
fn run_job_with_needs_runs_exactly_what_it_needs() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "stages: [a, b, c]\none: {stage: a, script: [echo]}\nother: {stage: a, script: [echo]}\n\
         two: {stage: b, needs: [one], script: [echo]}\nthree: {stage: c, script: [echo]}\n",
    )]);
    let (r, _) = repo.run(&["two", "--needs"]);
    let names: Vec<&str> = r["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["name"].as_str())
        .collect();
    assert_eq!(names, ["one", "two"]);
}

#[test]
fn artifacts_and_dotenv_reach_later_jobs_by_stage_needs_and_dependencies() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "stages: [build, test]\n\
         build:\n  stage: build\n  script: ['mkdir -p out', 'echo payload > out/a.txt', 'echo \"VERSION=1.2.3\" > build.env']\n  artifacts:\n    paths: [out/]\n    reports: {dotenv: build.env}\n\
         other:\n  stage: build\n  script: ['mkdir -p out', 'echo other > out/b.txt']\n  artifacts: {paths: [out/b.txt]}\n\
         by-stage:\n  stage: test\n  script: ['cat out/a.txt out/b.txt', 'echo \"v=$VERSION\"']\n\
         by-needs:\n  stage: test\n  needs: [build]\n  script: ['test ! -e out/b.txt && echo no-b', 'cat out/a.txt']\n\
         no-artifacts:\n  stage: test\n  dependencies: []\n  script: ['test ! -e out && echo clean', 'echo \"v=[$VERSION]\"']\n",
    )]);
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 0, "{r}");
    let stage = log(&r, "by-stage");
    assert!(
        stage.contains("payload") && stage.contains("other") && stage.contains("v=1.2.3"),
        "{stage}"
    );
    let needs = log(&r, "by-needs");
    assert!(needs.contains("no-b") && needs.contains("payload"), "{needs}");
    let none = log(&r, "no-artifacts");
    assert!(none.contains("clean") && none.contains("v=[]"), "{none}");
}

#[test]
fn cache_is_pushed_by_one_job_and_pulled_by_a_later_one() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "stages: [one, two]\n\
         fill:\n  stage: one\n  cache: {key: deps-$CI_COMMIT_REF_SLUG, paths: [vendor/], policy: push}\n  script: ['mkdir -p vendor', 'echo cached > vendor/lib.txt']\n\
         use:\n  stage: two\n  cache: {key: deps-$CI_COMMIT_REF_SLUG, paths: [vendor/], policy: pull}\n  script: ['cat vendor/lib.txt']\n",
    )]);
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 0, "{r}");
    assert!(
        log(&r, "use").contains("Restored cache `deps-main`"),
        "{}",
        log(&r, "use")
    );
    assert!(log(&r, "use").contains("\ncached\n"));
}

#[test]
fn a_corrupt_cache_is_a_warning_and_the_job_goes_on() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "job:\n  cache: {key: k, paths: [x/]}\n  script: ['echo ran-anyway']\n",
    )]);
    let archive = repo.path().join(".gantry/cache/k/cache.zip");
    std::fs::create_dir_all(archive.parent().expect("parent")).expect("mkdir");
    std::fs::write(&archive, b"PK\x03\x04 this is not a zip").expect("write");
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 0, "{r}");
    let log = log(&r, "job");
    assert!(log.contains("ran-anyway") && log.contains("WARNING"), "{log}");
}

#[test]
fn an_artifact_path_outside_the_project_is_refused_with_a_message() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "job:\n  script: ['echo hi']\n  artifacts: {paths: ['../../etc/passwd']}\n",
    )]);
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 0, "the job itself succeeded: {r}");
    let log = log(&r, "job");
    assert!(log.contains("../../etc/passwd"), "{log}");
    let stored = repo.path().join(".gantry/artifacts");
    let archived: Vec<_> = walk(&stored);
    assert!(
        archived.iter().all(|p| !p.to_string_lossy().contains("passwd")),
        "{archived:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn ctrl_c_cancels_running_jobs_runs_after_script_and_leaves_no_process() {
    let marker = format!("gantry-cancel-test-{}", std::process::id());
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        &format!(
            "long:\n  script: ['touch started', 'bash -c \"exec -a {marker} sleep 300\"']\n  after_script: ['echo \"after=$CI_JOB_STATUS\"']\n"
        ),
    )]);
    let report = repo.path().join(".report.json");
    let mut child = Command::new(gantry())
        .current_dir(repo.path())
        .args(["run", "--report"])
        .arg(&report)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn gantry");
    let name = repo.path().file_name().expect("name");
    let started = repo
        .path()
        .join(".gantry/builds/0/local")
        .join(name)
        .join("started");
    for _ in 0..200 {
        if started.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(started.exists(), "the job never started");
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(1));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(r["pipeline"]["status"], "canceled");
    assert_eq!(job(&r, "long")["status"], "canceled");
    assert!(log(&r, "long").contains("after=canceled"), "{}", log(&r, "long"));
    let left = Command::new("pgrep")
        .args(["-f", &marker])
        .output()
        .expect("pgrep");
    assert!(left.stdout.is_empty(), "processes left behind");
}

#[test]
fn binary_garbage_in_the_log_is_kept_as_text_and_the_job_succeeds() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "noise:\n  script: ['head -c 200000 /dev/urandom', 'echo', 'echo after-noi\"\"se']\n",
    )]);
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 0, "{r}");
    assert!(log(&r, "noise").contains("after-noise"));
}

#[test]
fn a_delayed_job_starts_after_its_delay_and_needs_empty_starts_at_once() {
    let repo = Repo::new(&[(
        ".gitlab-ci.yml",
        "stages: [one, two]\n\
         slow: {stage: one, script: ['sleep 1']}\n\
         eager: {stage: two, needs: [], script: [echo]}\n\
         later: {stage: two, when: delayed, start_in: 1 second, script: [echo]}\n",
    )]);
    let (r, code) = repo.run(&["--concurrency", "3"]);
    assert_eq!(code, 0, "{r}");
    let slow_end = job(&r, "slow")["finished_s"].as_f64().expect("slow finished");
    assert!(
        job(&r, "eager")["started_s"].as_f64().expect("eager") < slow_end,
        "needs: [] waited for the stage: {r}"
    );
    let later = job(&r, "later")["started_s"].as_f64().expect("later started");
    assert!(
        later >= slow_end + 0.9,
        "the delayed job did not wait its second: {r}"
    );
}

#[test]
fn every_job_gets_its_own_checkout_of_the_pipeline_commit_or_of_the_work_tree_with_dirty() {
    let repo = Repo::new(&[
        (
            ".gitlab-ci.yml",
            "stages: [one, two]\n\
             writer:\n  stage: one\n  script: ['echo changed >> tracked.txt', 'echo junk > new.txt', 'cat tracked.txt']\n\
             reader:\n  stage: two\n  script: ['cat tracked.txt', 'test ! -e new.txt && echo no-new', 'test \"$(git rev-parse HEAD)\" = \"$CI_COMMIT_SHA\" && echo at-commit', 'git status --porcelain | wc -l | sed \"s/^/dirty=/\"']\n",
        ),
        ("tracked.txt", "original\n"),
    ]);
    // An uncommitted change stays out of the jobs without --dirty.
    std::fs::write(repo.path().join("tracked.txt"), "uncommitted\n").expect("write");
    let (r, code) = repo.run(&[]);
    assert_eq!(code, 0, "{r}");
    assert!(log(&r, "writer").contains("changed"), "{r}");
    let reader = log(&r, "reader");
    assert!(
        reader.contains("original") && !reader.contains("changed") && !reader.contains("uncommitted"),
        "{reader}"
    );
    assert!(
        reader.contains("no-new") && reader.contains("at-commit"),
        "{reader}"
    );
    assert!(reader.contains("dirty=0"), "{reader}");

    // --dirty takes the work tree as it is, for every job.
    let (r, code) = repo.run(&["--dirty"]);
    assert_eq!(code, 0, "{r}");
    let reader = log(&r, "reader");
    assert!(
        reader.contains("uncommitted") && !reader.contains("changed"),
        "{reader}"
    );
}
