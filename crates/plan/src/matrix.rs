//! `parallel:` expansion into job instances, with GitLab's generated names.

use gantry_config::model::{Job, NeedMatrix, Parallel};

/// One instance of a (possibly parallel) job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// The instance's name.
    pub name: String,
    /// `CI_NODE_INDEX`/`CI_NODE_TOTAL`, for parallel jobs.
    pub node: Option<(u32, u32)>,
    /// Matrix variables, in the order written.
    pub matrix: Vec<(String, String)>,
}

/// The most instances one job may have.
pub const MAX_INSTANCES: usize = 200;

/// Expands a job into its instances: `job 1/N` for `parallel: N`, `job: [v1, v2]` for a matrix.
pub fn instances(job: &Job) -> Vec<Instance> {
    match &job.parallel {
        None => vec![Instance {
            name: job.name.clone(),
            node: None,
            matrix: Vec::new(),
        }],
        Some(Parallel::Count(n)) => (1..=*n)
            .map(|i| Instance {
                name: format!("{} {i}/{n}", job.name),
                node: Some((i, *n)),
                matrix: Vec::new(),
            })
            .collect(),
        Some(Parallel::Matrix(rows)) => {
            let combos: Vec<Vec<(String, String)>> = rows.iter().flat_map(combinations).collect();
            let total = combos.len() as u32;
            combos
                .into_iter()
                .enumerate()
                .map(|(i, vars)| Instance {
                    name: matrix_name(&job.name, &vars),
                    node: Some((i as u32 + 1, total)),
                    matrix: vars,
                })
                .collect()
        }
    }
}

/// `name: [v1, v2]`.
pub fn matrix_name(name: &str, vars: &[(String, String)]) -> String {
    let values: Vec<&str> = vars.iter().map(|(_, v)| v.as_str()).collect();
    format!("{name}: [{}]", values.join(", "))
}

/// Every combination of one matrix row, in GitLab's order (the first variable varies slowest).
pub fn combinations(row: &NeedMatrix) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (name, values) in row {
        let mut next = Vec::with_capacity(out.len() * values.len());
        for prefix in &out {
            for v in values {
                let mut combo = prefix.clone();
                combo.push((name.clone(), v.clone()));
                next.push(combo);
            }
        }
        out = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_vary_the_last_variable_fastest() {
        let mut row = NeedMatrix::new();
        row.insert("P".into(), vec!["aws".into(), "gcp".into()]);
        row.insert("S".into(), vec!["a".into(), "b".into()]);
        let names: Vec<String> = combinations(&row)
            .iter()
            .map(|c| matrix_name("deploy", c))
            .collect();
        assert_eq!(
            names,
            [
                "deploy: [aws, a]",
                "deploy: [aws, b]",
                "deploy: [gcp, a]",
                "deploy: [gcp, b]"
            ]
        );
    }
}
