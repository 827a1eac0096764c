//! A job's variables as its processes see them: file-type variables written to files in the
//! tmp dir, the variable holding the file's path as the job sees it.

use crate::job::JobSpec;
use std::path::Path;

/// The environment of `spec`: file variables are written under `spec.tmp_dir` and point to
/// the same file under `tmp_in_job` (the tmp dir's path where the scripts run).
pub(crate) fn prepare_env(spec: &JobSpec, tmp_in_job: &Path) -> std::io::Result<Vec<(String, String)>> {
    std::fs::create_dir_all(&spec.tmp_dir)?;
    let mut env = Vec::with_capacity(spec.variables.len());
    for var in &spec.variables {
        if var.file {
            std::fs::write(spec.tmp_dir.join(&var.name), &var.value)?;
            let path = tmp_in_job.join(&var.name);
            env.push((var.name.clone(), path.to_string_lossy().into_owned()));
        } else {
            env.push((var.name.clone(), var.value.clone()));
        }
    }
    Ok(env)
}

/// File variables do not outlive their job (the tmp dir is reused by the slot's next job,
/// as gitlab-runner's `cleanup_file_variables` stage removes them).
pub(crate) fn remove_file_variables(spec: &JobSpec) {
    for var in spec.variables.iter().filter(|v| v.file) {
        let _ = std::fs::remove_file(spec.tmp_dir.join(&var.name));
    }
}

/// Writes a file the slot's previous job may have left, in place: writing over it and then
/// cutting it to length, not truncating it first (ext4 flushes a file truncated to zero and
/// rewritten when it is closed, a disk write per job for nothing).
pub(crate) fn rewrite(path: &Path, text: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let text = text.as_ref();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    file.write_all(text)?;
    file.set_len(text.len() as u64)
}
