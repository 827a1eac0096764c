//! Differential test: the job set `gantry lint --json` predicts against the one gitlab-ci-local
//! lists (`--list-json`), on every configuration gitlab-ci-local can list offline: a few corpus
//! projects (../shared/corpus) and every conformance case (../shared/conformance/cases).
//!
//! gitlab-ci-local is a second opinion, not the reference: where the two differ, GitLab's
//! documentation decides. Each difference must be in [`KNOWN`], with the docs sentence that
//! says GitLab does what gantry does; any other difference fails the test, and so does a known
//! one that no longer shows up (it would mean gantry now agrees with gitlab-ci-local where the
//! docs say otherwise, or that the entry is stale).
//!
//! Needs `GANTRY_GCL` (the wrapper scripts/install-peers.sh writes). Without it, or without
//! ../shared, the test fails when `CI=true` and skips with a printed reason otherwise.
//! The gantry binary is `GANTRY_BIN`, else the one cargo built for this test.

use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one gantry or gitlab-ci-local invocation may take.
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(60);

/// Corpus projects that gitlab-ci-local 4.75.1 lists offline as they are (with JSON schema
/// validation off). The others stop it: non-local includes it cannot fetch (gitlab,
/// gitlab-runner, gitlab-shell, omnibus-gitlab, glib, gnome-shell, mutter, libadwaita, librsvg,
/// mesa, NetworkManager, pipewire, weston, xserver); js-yaml's "deficient indentation"
/// (cryptsetup); `needs:` written as one mapping (qemu, "must be an array"); an empty `needs`
/// entry after `!reference` (xen); a variable on the right of `=~` (libvirt-python); a
/// `needs:parallel:matrix` it cannot resolve (dav1d).
const CORPUS_PROJECTS: &[&str] = &["airshipper", "fdroidserver", "gnutls", "openmw", "u-boot"];

/// Which tool has a job the other lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    /// gantry creates the job; gitlab-ci-local does not.
    GantryOnly,
    /// gitlab-ci-local creates the job; gantry does not.
    GclOnly,
}

/// A difference that is explained: GitLab's documentation says gantry is right.
struct Known {
    /// `corpus/<project>` or `conformance/<case>`.
    config: &'static str,
    /// The job name as the side that has it spells it.
    job: &'static str,
    side: Side,
    /// The docs page that decides it.
    url: &'static str,
    /// What the page says, paraphrased.
    docs: &'static str,
}

/// The known differences. Filled from the conformance cases' `gcl` notes (each case cites the
/// docs) and from gitlab-ci-local's listings; to be confirmed against gantry's output.
const KNOWN: &[Known] = &[
    // 01: gitlab-ci-local squeezes runs of non-alphanumerics in CI_COMMIT_REF_SLUG.
    Known {
        config: "conformance/01-ref-slug-no-squeeze",
        job: "squeezed-slug-in-rules",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/variables/predefined_variables/",
        docs: "CI_COMMIT_REF_SLUG is CI_COMMIT_REF_NAME lowercased, shortened to 63 bytes, with \
               everything except 0-9 and a-z replaced with `-`: each character, no squeezing.",
    },
    // 03: gitlab-ci-local has no tag pipelines; it runs the checked-out branch.
    Known {
        config: "conformance/03-tag-pipeline",
        job: "branch-only",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/variables/predefined_variables/",
        docs: "CI_COMMIT_BRANCH is available in branch pipelines only, not in pipelines for tags; \
               CI_COMMIT_TAG is set only in pipelines for tags.",
    },
    Known {
        config: "conformance/03-tag-pipeline",
        job: "tag-only",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/yaml/#only--except",
        docs: "`only: tags` adds the job when the pipeline runs for a Git tag.",
    },
    Known {
        config: "conformance/03-tag-pipeline",
        job: "tag-rule",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/variables/predefined_variables/",
        docs: "CI_COMMIT_TAG is the commit tag name, available only in pipelines for tags, so a \
               `rules:if: $CI_COMMIT_TAG` job is created in a tag pipeline.",
    },
    // 04: gitlab-ci-local ignores only/except.
    Known {
        config: "conformance/04-only-except-combined",
        job: "*",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/#only--except",
        docs: "`only` and `except` decide whether a job is added to the pipeline: refs are \
               matched as regular expressions, all `only` keys must match, any `except` key \
               excludes the job.",
    },
    // 09: GitLab creates no pipeline that would hold only .pre/.post jobs.
    Known {
        config: "conformance/09-only-pre-post-not-created",
        job: "*",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/#stage-pre",
        docs: "If a pipeline contains only jobs in the .pre or .post stages, it does not run. \
               There must be at least one other job in a different stage.",
    },
    // 34: gitlab-ci-local names matrix jobs `build: [aws,app]` (no space after the comma) and
    // refuses `dependencies: [build: [gcp, db]]`.
    Known {
        config: "conformance/34-parallel-matrix-needs",
        job: "*",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/yaml/#parallelmatrix",
        docs: "parallel:matrix jobs are named after the job and the variable values, as in \
               `build: [aws, app]`, with a comma and a space between the values.",
    },
    // 35: gitlab-ci-local names parallel jobs `unit tests: [1/3]`.
    Known {
        config: "conformance/35-parallel-count-node-index",
        job: "*",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/yaml/#parallel",
        docs: "Parallel jobs are named sequentially from `job_name 1/N` to `job_name N/N`.",
    },
    Known {
        config: "conformance/35-parallel-count-node-index",
        job: "*",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/#parallel",
        docs: "Parallel jobs are named sequentially from `job_name 1/N` to `job_name N/N`.",
    },
    // 37: gitlab-ci-local ignores rules:changes:compare_to and diffs against origin/main.
    Known {
        config: "conformance/37-rules-changes-push",
        job: "compared-to-main",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/#ruleschangescompare_to",
        docs: "rules:changes:compare_to names the ref to compare against for changed files; \
               compared with the pipeline's own branch, a push has no changes.",
    },
    // 38: in a scheduled pipeline there is no push event, and only/except apply.
    Known {
        config: "conformance/38-rules-changes-scheduled",
        job: "changes-without-push-event",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/yaml/#ruleschanges",
        docs: "rules:changes always evaluates to true in pipelines with no Git push event, such \
               as scheduled pipelines, unless compare_to is set.",
    },
    Known {
        config: "conformance/38-rules-changes-scheduled",
        job: "except-schedules",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/#only--except",
        docs: "`except: schedules` keeps the job out of scheduled pipelines.",
    },
    // 40: gitlab-ci-local does not match a regex pattern held in a variable when it uses `\d`.
    Known {
        config: "conformance/40-rules-if-expressions",
        job: "regex-from-variable",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/jobs/job_rules/#store-a-regular-expression-in-a-variable",
        docs: "The right side of `=~` can be a variable that holds a regular expression \
               (`/pattern/`), matched with RE2 syntax, where `\\d` is a digit.",
    },
];

/// One configuration and the pipeline context both tools get.
struct Subject {
    /// `corpus/<project>` or `conformance/<case>`.
    name: String,
    dir: PathBuf,
    context: Context,
}

/// The subset of a conformance case's `context` the job set depends on.
#[derive(Default)]
struct Context {
    git_ref: String,
    tag: bool,
    default_branch: String,
    source: String,
    variables: Vec<(String, String)>,
    head_commit_changes: Vec<(String, String)>,
}

#[test]
fn gantry_and_gitlab_ci_local_list_the_same_jobs_except_documented_differences() {
    let Some(gcl) = required_path(
        "GANTRY_GCL",
        "the gitlab-ci-local wrapper (bash scripts/install-peers.sh)",
    ) else {
        return;
    };
    let shared = workspace_root().join("../shared");
    if !shared.join("conformance/cases").is_dir() || !shared.join("corpus").is_dir() {
        skip_or_fail(&format!(
            "{} has no corpus/ and conformance/cases/",
            shared.display()
        ));
        return;
    }
    let gantry = std::env::var_os("GANTRY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gantry")));

    let subjects = subjects(&shared);
    let results: Vec<(String, Result<Difference, String>)> = std::thread::scope(|scope| {
        let halves: Vec<_> = subjects
            .chunks(subjects.len().div_ceil(2))
            .map(|chunk| {
                let (gcl, gantry) = (&gcl, &gantry);
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|s| (s.name.clone(), compare(s, gcl, gantry)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves
            .into_iter()
            .flat_map(|h| h.join().expect("a comparison thread panicked"))
            .collect()
    });

    let mut problems = Vec::new();
    let mut seen_known = BTreeSet::new();
    for (name, result) in &results {
        match result {
            Err(error) => problems.push(format!("{name}: {error}")),
            Ok(difference) => {
                for (side, job) in difference.entries() {
                    match KNOWN
                        .iter()
                        .position(|k| k.config == name && k.side == side && (k.job == job || k.job == "*"))
                    {
                        Some(index) => {
                            seen_known.insert(index);
                        }
                        None => problems.push(format!("{name}: unexplained: `{job}` {}", describe(side))),
                    }
                }
            }
        }
    }
    for (index, known) in KNOWN.iter().enumerate() {
        if !seen_known.contains(&index) {
            problems.push(format!(
                "{}: known difference not seen: `{}` {} (if gantry now agrees with gitlab-ci-local, \
                 check it against {}; if the entry is stale, remove it)",
                known.config,
                known.job,
                describe(known.side),
                known.url
            ));
        }
    }
    println!("differential: compared {} configurations", results.len());
    assert!(
        problems.is_empty(),
        "gantry and gitlab-ci-local disagree beyond the documented differences in KNOWN \
         (crates/cli/tests/it/differential.rs); each entry there needs the docs sentence that \
         says GitLab does what gantry does:\n  {}",
        problems.join("\n  ")
    );
}

/// The jobs only one side has.
struct Difference {
    gantry_only: BTreeSet<String>,
    gcl_only: BTreeSet<String>,
}

impl Difference {
    fn entries(&self) -> impl Iterator<Item = (Side, &str)> {
        let gantry = self.gantry_only.iter().map(|j| (Side::GantryOnly, j.as_str()));
        gantry.chain(self.gcl_only.iter().map(|j| (Side::GclOnly, j.as_str())))
    }
}

fn describe(side: Side) -> &'static str {
    match side {
        Side::GantryOnly => "is created by gantry only",
        Side::GclOnly => "is created by gitlab-ci-local only",
    }
}

fn compare(subject: &Subject, gcl: &Path, gantry: &Path) -> Result<Difference, String> {
    let temp = tempfile::Builder::new()
        .prefix("gantry-differential-")
        .tempdir()
        .map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let repo = temp.path().join("repo");
    make_repo(subject, &repo)?;
    let gcl_jobs = gcl_jobs(gcl, &repo, &subject.context, temp.path())?;
    let gantry_jobs = gantry_jobs(gantry, &repo, &subject.context)?;
    Ok(Difference {
        gantry_only: gantry_jobs.difference(&gcl_jobs).cloned().collect(),
        gcl_only: gcl_jobs.difference(&gantry_jobs).cloned().collect(),
    })
}

/// Jobs gitlab-ci-local lists, without the `when: never` ones (`--list-json` includes those).
fn gcl_jobs(gcl: &Path, repo: &Path, context: &Context, home: &Path) -> Result<BTreeSet<String>, String> {
    let mut command = Command::new(gcl);
    command
        .current_dir(repo)
        .args(["--list-json", "--json-schema-validation=false", "--home"])
        .arg(home.join("gcl-home"));
    if context.source != "push" {
        command
            .arg("--variable")
            .arg(format!("CI_PIPELINE_SOURCE={}", context.source));
    }
    for (key, value) in &context.variables {
        command.arg("--variable").arg(format!("{key}={value}"));
    }
    let output = run(command)?;
    if !output.success {
        return Err(format!("gitlab-ci-local failed: {}", tail(&output.stderr)));
    }
    // Warnings come first on stdout; the JSON array starts on its own line.
    let json_start = output
        .stdout
        .find("\n[")
        .map(|i| i + 1)
        .or_else(|| output.stdout.starts_with('[').then_some(0));
    let jobs: Value = json_start
        .and_then(|start| serde_json::from_str(&output.stdout[start..]).ok())
        .ok_or_else(|| format!("gitlab-ci-local printed no JSON list: {}", tail(&output.stdout)))?;
    Ok(jobs
        .as_array()
        .into_iter()
        .flatten()
        .filter(|job| job["when"] != "never")
        .filter_map(|job| job["name"].as_str().map(str::to_string))
        .collect())
}

/// Jobs `gantry lint --json` predicts; none when it says no pipeline is created.
fn gantry_jobs(gantry: &Path, repo: &Path, context: &Context) -> Result<BTreeSet<String>, String> {
    let mut command = Command::new(gantry);
    command
        .current_dir(repo)
        .args(["lint", "--json"])
        .args(context_flags(context));
    let output = run(command)?;
    let lint: Value = serde_json::from_str(&output.stdout).map_err(|e| {
        format!(
            "gantry lint --json printed no JSON ({e}): {}",
            tail(&output.stderr)
        )
    })?;
    Ok(lint["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|job| job["name"].as_str().map(str::to_string))
        .collect())
}

/// The flags ../shared/conformance/run_cases.py passes to gantry for a context.
fn context_flags(context: &Context) -> Vec<String> {
    let mut flags = vec![
        "--ref".to_string(),
        context.git_ref.clone(),
        "--source".to_string(),
        context.source.clone(),
        "--default-branch".to_string(),
        context.default_branch.clone(),
    ];
    if context.tag {
        flags.push("--tag".to_string());
    }
    for (key, value) in &context.variables {
        flags.extend(["--var".to_string(), format!("{key}={value}")]);
    }
    for (path, _) in &context.head_commit_changes {
        flags.extend(["--changed".to_string(), path.clone()]);
    }
    flags
}

/// Builds the repository as run_cases.py's `make_repo` does, plus what gitlab-ci-local reads
/// the default branch and the push's changes from: `origin/<default branch>` at the base
/// commit and `origin/HEAD` pointing at it.
fn make_repo(subject: &Subject, repo: &Path) -> Result<(), String> {
    copy_dir(&subject.dir, repo).map_err(|e| format!("cannot copy {}: {e}", subject.dir.display()))?;
    let context = &subject.context;
    let branch = if context.tag {
        &context.default_branch
    } else {
        &context.git_ref
    };
    git(repo, &["init", "-q", "-b", branch])?;
    git(repo, &["add", "-A"])?;
    git(repo, &["commit", "-q", "-m", "base commit"])?;
    let origin = format!("refs/remotes/origin/{}", context.default_branch);
    git(repo, &["update-ref", &origin, "HEAD"])?;
    git(repo, &["symbolic-ref", "refs/remotes/origin/HEAD", &origin])?;
    if !context.head_commit_changes.is_empty() {
        for (path, text) in &context.head_commit_changes {
            let full = repo.join(path);
            if let Some(parent) = full.parent() {
                fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            fs::write(&full, text).map_err(|e| format!("cannot write {}: {e}", full.display()))?;
        }
        git(repo, &["add", "-A"])?;
        git(repo, &["commit", "-q", "-m", "pushed commit"])?;
    }
    if context.tag {
        git(repo, &["tag", &context.git_ref])?;
    }
    Ok(())
}

fn git(repo: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(repo)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "expected.json" || name == ".git" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Every corpus project in [`CORPUS_PROJECTS`] (push to `main`) and every conformance case.
fn subjects(shared: &Path) -> Vec<Subject> {
    let mut subjects: Vec<Subject> = CORPUS_PROJECTS
        .iter()
        .map(|project| Subject {
            name: format!("corpus/{project}"),
            dir: shared.join("corpus").join(project),
            context: Context {
                git_ref: "main".to_string(),
                default_branch: "main".to_string(),
                source: "push".to_string(),
                ..Context::default()
            },
        })
        .collect();
    let cases = shared.join("conformance/cases");
    let mut case_dirs: Vec<PathBuf> = fs::read_dir(&cases)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", cases.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("expected.json").is_file())
        .collect();
    case_dirs.sort();
    for dir in case_dirs {
        let text = fs::read_to_string(dir.join("expected.json")).unwrap_or_default();
        let expected: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: bad expected.json: {e}", dir.display()));
        let name = format!(
            "conformance/{}",
            dir.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
        );
        subjects.push(Subject {
            name,
            dir,
            context: context_of(&expected["context"]),
        });
    }
    subjects
}

fn context_of(context: &Value) -> Context {
    let text = |key: &str, default: &str| context[key].as_str().unwrap_or(default).to_string();
    let pairs = |key: &str| -> Vec<(String, String)> {
        context[key]
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    Context {
        git_ref: text("ref", "main"),
        tag: context["ref_type"] == "tag",
        default_branch: text("default_branch", "main"),
        source: text("pipeline_source", "push"),
        variables: pairs("pipeline_variables"),
        head_commit_changes: pairs("head_commit_changes"),
    }
}

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs a command with no stdin, killing it after [`INVOCATION_TIMEOUT`].
fn run(mut command: Command) -> Result<Output, String> {
    let shown = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    // Readers on their own threads, so a full pipe cannot stall the child.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + INVOCATION_TIMEOUT;
    let status = loop {
        match child
            .try_wait()
            .map_err(|e| format!("cannot wait for {shown}: {e}"))?
        {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{shown} took longer than {}s",
                    INVOCATION_TIMEOUT.as_secs()
                ));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    Ok(Output {
        success: status.success(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("at "))
        .collect();
    lines[lines.len().saturating_sub(4)..].join(" | ")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The path in env var `name`, or `None` after skipping (or failing, in CI) when it is unset.
fn required_path(name: &str, what: &str) -> Option<PathBuf> {
    match std::env::var_os(name) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "{name}={} does not exist", path.display());
            Some(path)
        }
        None => {
            skip_or_fail(&format!("{name} is not set ({what})"));
            None
        }
    }
}

fn skip_or_fail(reason: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "differential test cannot run in CI: {reason}"
    );
    println!("differential: skipped: {reason}");
}
