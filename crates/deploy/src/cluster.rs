//! The connection to the cluster: the kubeconfig (a file, `KUBECONFIG`, `~/.kube/config` or the
//! in-cluster service account, as kubectl finds it), the client, and the API resource of each
//! kind found by discovery (cached for one deployment).

use crate::DeployError;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{ApiCapabilities, Scope};
use kube::{Client, Config};
use std::collections::HashMap;
use std::path::Path;

/// A client and what it learned about the cluster's kinds.
pub(crate) struct Cluster {
    pub(crate) client: Client,
    /// The namespace of the kubeconfig's context (`default` when it names none).
    pub(crate) default_namespace: String,
    /// The API server's URL, for messages.
    pub(crate) url: String,
    kinds: HashMap<(String, String), (ApiResource, bool)>,
}

impl Cluster {
    /// Connects as kubectl would: `kubeconfig` when given, else `KUBECONFIG` or
    /// `~/.kube/config`, else the pod's service account; `context` picks a context.
    pub(crate) async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
    ) -> Result<Cluster, DeployError> {
        let options = KubeConfigOptions {
            context: context.map(str::to_owned),
            ..KubeConfigOptions::default()
        };
        let bad = |e: &dyn std::fmt::Display| DeployError::Kubeconfig(e.to_string());
        let config = match (kubeconfig, context) {
            (Some(path), _) => {
                let file = Kubeconfig::read_from(path)
                    .map_err(|e| DeployError::Kubeconfig(format!("{}: {e}", path.display())))?;
                Config::from_custom_kubeconfig(file, &options)
                    .await
                    .map_err(|e| bad(&e))?
            }
            (None, Some(_)) => Config::from_kubeconfig(&options).await.map_err(|e| bad(&e))?,
            (None, None) => Config::infer().await.map_err(|e| bad(&e))?,
        };
        let url = config.cluster_url.to_string();
        let default_namespace = config.default_namespace.clone();
        let client = Client::try_from(config).map_err(|e| bad(&e))?;
        Ok(Cluster {
            client,
            default_namespace,
            url,
            kinds: HashMap::new(),
        })
    }

    /// The API resource of `api_version`/`kind` and whether it is namespaced, or `None` when
    /// the cluster does not serve that kind.
    pub(crate) async fn kind(
        &mut self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<(ApiResource, bool)>, DeployError> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = self.kinds.get(&key) {
            return Ok(Some(found.clone()));
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        match kube::discovery::pinned_kind(&self.client, &gvk).await {
            Ok((resource, ApiCapabilities { scope, .. })) => {
                let found = (resource, scope == Scope::Namespaced);
                self.kinds.insert(key, found.clone());
                Ok(Some(found))
            }
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(kube::Error::Discovery(_)) => Ok(None),
            Err(e) => Err(DeployError::Cluster(format!(
                "cannot look up {kind} ({api_version}) on {}: {e}",
                self.url
            ))),
        }
    }
}
