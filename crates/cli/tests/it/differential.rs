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
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::peer::{git, gitlab_spelling, run, tail};

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

/// Configurations gitlab-ci-local refuses, with its reason; they are skipped while it still
/// refuses them (and compared like the others once it does not).
const GCL_CANNOT_LIST: &[(&str, &str)] = &[(
    "conformance/34-parallel-matrix-needs",
    "it cannot resolve `dependencies: [build: [gcp, db]]` (\"cannot be found\"), which GitLab \
     documents at https://docs.gitlab.com/ci/jobs/job_control/#fetch-artifacts-from-a-parallelmatrix-job",
)];

/// How gitlab-ci-local spells generated job names differently from GitLab. Its names are
/// rewritten to GitLab's before comparing, so a spelling difference is not a job difference.
/// Each rule: (what it rewrites, the docs page, what the page says).
const GCL_NAMING: &[(&str, &str, &str)] = &[
    (
        "`job: [a,b]` (parallel:matrix, no space after the comma) becomes `job: [a, b]`",
        "https://docs.gitlab.com/ci/yaml/#parallelmatrix",
        "matrix jobs are named after the job and the variable values, as in \
         `deploystacks: [aws, monitoring]`, a comma and a space between the values",
    ),
    (
        "`job: [i/N]` (parallel: N) becomes `job i/N`",
        "https://docs.gitlab.com/ci/yaml/#parallel",
        "parallel jobs are named sequentially from `job_name 1/N` to `job_name N/N`",
    ),
];

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

/// The known differences, each decided by GitLab's docs in gantry's favour. Taken from the
/// conformance cases (their `docs` and `gcl` notes) and gitlab-ci-local's listings; the five
/// corpus projects agree once names are spelled alike (see [`GCL_NAMING`]).
const KNOWN: &[Known] = &[
    Known {
        config: "conformance/01-ref-slug-no-squeeze",
        job: "slug-in-rules",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/variables/predefined_variables/",
        docs: "CI_COMMIT_REF_SLUG is CI_COMMIT_REF_NAME lowercased, shortened to 63 bytes, with everything except 0-9 and a-z replaced with `-` (one `-` per character: gitlab-ci-local squeezes runs).",
    },
    Known {
        config: "conformance/01-ref-slug-no-squeeze",
        job: "squeezed-slug-in-rules",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/variables/predefined_variables/",
        docs: "CI_COMMIT_REF_SLUG is CI_COMMIT_REF_NAME lowercased, shortened to 63 bytes, with everything except 0-9 and a-z replaced with `-` (one `-` per character: gitlab-ci-local squeezes runs).",
    },
    Known {
        config: "conformance/03-tag-pipeline",
        job: "rules-semver-tag",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/jobs/job_rules/#common-if-clauses-with-predefined-variables",
        docs: "gitlab-ci-local has no tag pipelines (it runs the checked-out branch). `if: $CI_COMMIT_TAG` matches tag pipelines; CI_COMMIT_TAG is set only in pipelines for tags.",
    },
    Known {
        config: "conformance/03-tag-pipeline",
        job: "except-tags",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/deprecated_keywords/#onlyrefs--exceptrefs",
        docs: "gitlab-ci-local has no tag pipelines (it runs the checked-out branch). `tags` matches when the Git reference for the pipeline is a tag, so `except: tags` keeps the job out.",
    },
    Known {
        config: "conformance/03-tag-pipeline",
        job: "only-branches",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/deprecated_keywords/#onlyrefs--exceptrefs",
        docs: "gitlab-ci-local has no tag pipelines (it runs the checked-out branch). `branches` matches when the Git reference for the pipeline is a branch, so `only: branches` keeps the job out of a tag pipeline.",
    },
    Known {
        config: "conformance/03-tag-pipeline",
        job: "rules-branch",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/variables/predefined_variables/",
        docs: "gitlab-ci-local has no tag pipelines (it runs the checked-out branch). CI_COMMIT_BRANCH is not available in tag pipelines, so `if: $CI_COMMIT_BRANCH` does not match.",
    },
    Known {
        config: "conformance/03-tag-pipeline",
        job: "rules-default-branch",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/variables/predefined_variables/",
        docs: "gitlab-ci-local has no tag pipelines (it runs the checked-out branch). CI_COMMIT_BRANCH is not available in tag pipelines, so it never equals CI_DEFAULT_BRANCH there.",
    },
    Known {
        config: "conformance/04-only-except-combined",
        job: "only-other-ref",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/deprecated_keywords/#onlyrefs--exceptrefs",
        docs: "gitlab-ci-local ignores only/except. only/except take branch names and regular expressions matched against the ref; a job whose `only` matches no ref is not added.",
    },
    Known {
        config: "conformance/04-only-except-combined",
        job: "only-refs-but-not-variables",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/jobs/job_control/#combine-multiple-keywords-with-only-or-except",
        docs: "gitlab-ci-local ignores only/except. With several keys, `only` includes the job only if every key has a matching condition.",
    },
    Known {
        config: "conformance/04-only-except-combined",
        job: "only-variables-but-not-refs",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/jobs/job_control/#combine-multiple-keywords-with-only-or-except",
        docs: "gitlab-ci-local ignores only/except. With several keys, `only` includes the job only if every key has a matching condition.",
    },
    Known {
        config: "conformance/04-only-except-combined",
        job: "except-variable-defined",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/deprecated_keywords/#onlyvariables--exceptvariables",
        docs: "gitlab-ci-local ignores only/except. `except: variables` takes variable expressions; a matching one excludes the job.",
    },
    Known {
        config: "conformance/04-only-except-combined",
        job: "except-any-key",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/jobs/job_control/#combine-multiple-keywords-with-only-or-except",
        docs: "gitlab-ci-local ignores only/except. `except` excludes the job if any of its keys has a matching condition.",
    },
    Known {
        config: "conformance/04-only-except-combined",
        job: "only-and-except-both-match",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/jobs/job_control/#combine-multiple-keywords-with-only-or-except",
        docs: "gitlab-ci-local ignores only/except. When both match, `except` wins: it excludes the job if any key matches.",
    },
    Known {
        config: "conformance/09-only-pre-post-not-created",
        job: "validate",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/#stage-pre",
        docs: "If a pipeline contains only jobs in the .pre or .post stages, it does not run; there must be at least one job in another stage.",
    },
    Known {
        config: "conformance/09-only-pre-post-not-created",
        job: "notify",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/#stage-pre",
        docs: "If a pipeline contains only jobs in the .pre or .post stages, it does not run; there must be at least one job in another stage.",
    },
    Known {
        config: "conformance/37-rules-changes-push",
        job: "compared-to-main",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/#ruleschangescompare_to",
        docs: "compare_to names the ref to compare against for rules:changes (gitlab-ci-local ignores it and diffs against origin/main); a branch with no changes relative to it does not run the job.",
    },
    Known {
        config: "conformance/38-rules-changes-scheduled",
        job: "changes-without-push-event",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/yaml/#ruleschanges",
        docs: "When there is no Git push event (scheduled pipelines have none), rules:changes always evaluates to true.",
    },
    Known {
        config: "conformance/38-rules-changes-scheduled",
        job: "except-schedules",
        side: Side::GclOnly,
        url: "https://docs.gitlab.com/ci/yaml/deprecated_keywords/#onlyrefs--exceptrefs",
        docs: "`schedules` matches scheduled pipelines, so `except: schedules` keeps the job out (gitlab-ci-local ignores except).",
    },
    Known {
        config: "conformance/40-rules-if-expressions",
        job: "regex-from-variable",
        side: Side::GantryOnly,
        url: "https://docs.gitlab.com/ci/jobs/job_rules/#store-a-regular-expression-in-a-variable",
        docs: "A variable on the right side of `=~` is evaluated as a regular expression (RE2 syntax, where `\\d` is a digit); gitlab-ci-local fails to match `\\d` from a variable.",
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
    /// Whether the pipeline runs for an empty commit on top of the tree, so that neither tool
    /// sees changed files (gantry's default is the files the HEAD commit changed,
    /// gitlab-ci-local's the diff against `origin/<default branch>`). The corpus projects use
    /// it; the conformance cases are built exactly as run_cases.py builds them.
    empty_pipeline_commit: bool,
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
            Err(error)
                if error.starts_with("gitlab-ci-local failed")
                    && GCL_CANNOT_LIST.iter().any(|(config, _)| config == name) =>
            {
                println!(
                    "differential: {name}: not compared: gitlab-ci-local {}",
                    error_reason(name)
                );
            }
            Err(error) => problems.push(format!("{name}: {error}")),
            Ok(difference) => {
                for (side, job) in difference.entries() {
                    match KNOWN
                        .iter()
                        .position(|k| k.config == name && k.side == side && k.job == job)
                    {
                        Some(index) => {
                            println!("differential: {name}: known: `{job}` {}", describe(side));
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
                 check it against {}: \"{}\"; if the entry is stale, remove it)",
                known.config,
                known.job,
                describe(known.side),
                known.url,
                known.docs
            ));
        }
    }
    println!("differential: compared {} configurations", results.len());
    for (rule, url, docs) in GCL_NAMING {
        println!("differential: gitlab-ci-local names rewritten: {rule} ({url}: {docs})");
    }
    assert!(
        problems.is_empty(),
        "gantry and gitlab-ci-local disagree beyond the documented differences in KNOWN \
         (crates/cli/tests/it/differential.rs); each entry there needs the docs sentence that \
         says GitLab does what gantry does:\n  {}",
        problems.join("\n  ")
    );
}

fn error_reason(name: &str) -> &'static str {
    GCL_CANNOT_LIST
        .iter()
        .find(|(config, _)| *config == name)
        .map_or("", |(_, reason)| reason)
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
    let output = run(command, INVOCATION_TIMEOUT)?;
    if !output.success() {
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
        .filter_map(|job| job["name"].as_str().map(gitlab_spelling))
        .collect())
}

/// Jobs `gantry lint --json` predicts; none when it says no pipeline is created.
fn gantry_jobs(gantry: &Path, repo: &Path, context: &Context) -> Result<BTreeSet<String>, String> {
    let mut command = Command::new(gantry);
    command
        .current_dir(repo)
        .args(["lint", "--json"])
        .args(context_flags(context));
    let output = run(command, INVOCATION_TIMEOUT)?;
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
    if context.empty_pipeline_commit {
        git(repo, &["commit", "-q", "--allow-empty", "-m", "pipeline commit"])?;
    }
    if context.tag {
        git(repo, &["tag", &context.git_ref])?;
    }
    Ok(())
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
                empty_pipeline_commit: true,
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
        empty_pipeline_commit: false,
    }
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
