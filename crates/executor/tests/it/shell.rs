//! The shell executor with real bash: file-type variables.

use gantry_executor::job::{JobOutcome, JobSpec, JobVariable};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[test]
fn a_file_variable_holds_the_path_of_its_value_and_is_gone_after_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let build_dir = dir.path().join("project");
    let tmp_dir = dir.path().join("project.tmp");
    std::fs::create_dir(&build_dir).unwrap();
    let spec = JobSpec {
        name: "job".into(),
        build_dir,
        tmp_dir: tmp_dir.clone(),
        before_script: vec![],
        script: vec![
            r#"echo "path=$KUBECONFIG""#.into(),
            r#"echo "content=$(cat "$KUBECONFIG")""#.into(),
        ],
        after_script: vec![],
        variables: vec![JobVariable {
            name: "KUBECONFIG".into(),
            value: "secret: yes".into(),
            file: true,
        }],
        timeout: Duration::from_secs(30),
        after_script_timeout: Duration::from_secs(30),
        log_limit: 1 << 20,
        container: None,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(gantry_executor::shell::run(&spec, &tx, &CancellationToken::new()));
    drop(tx);
    let mut log = Vec::new();
    while let Ok(line) = rx.try_recv() {
        log.push(line);
    }
    assert_eq!(outcome, JobOutcome::Success, "{log:?}");
    let path = tmp_dir.join("KUBECONFIG");
    assert!(log.contains(&format!("path={}", path.display())), "{log:?}");
    assert!(log.contains(&"content=secret: yes".to_owned()), "{log:?}");
    assert!(!path.exists(), "the file variable outlived its job");
}
