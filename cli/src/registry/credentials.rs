//! Credentials for a registry, as every OCI tool reads them: given on the command line
//! (`--username` with `--password-stdin`), else the Docker config (`$DOCKER_CONFIG/config.json`
//! or `~/.docker/config.json`, its `auths` and credential helpers), else none.

use oci_client::secrets::RegistryAuth;

/// Where credentials come from.
#[derive(Debug, Clone, Default)]
pub enum Credentials {
    /// The Docker config, or anonymous when it has nothing for the registry.
    #[default]
    DockerConfig,
    /// Given explicitly.
    Basic { username: String, password: String },
}

impl Credentials {
    /// The authentication to use with `registry` (`host[:port]`).
    pub fn auth_for(&self, registry: &str) -> anyhow::Result<RegistryAuth> {
        match self {
            Self::Basic { username, password } => {
                Ok(RegistryAuth::Basic(username.clone(), password.clone()))
            }
            Self::DockerConfig => {
                use docker_credential::{CredentialRetrievalError as E, DockerCredential};
                match docker_credential::get_credential(registry) {
                    Ok(DockerCredential::UsernamePassword(user, secret)) => {
                        Ok(RegistryAuth::Basic(user, secret))
                    }
                    Ok(DockerCredential::IdentityToken(token)) => Ok(RegistryAuth::Bearer(token)),
                    Err(E::NoCredentialConfigured | E::ConfigNotFound | E::ConfigReadError) => {
                        Ok(RegistryAuth::Anonymous)
                    }
                    Err(err) => Err(anyhow::Error::new(err).context(format!(
                        "cannot read the credentials for `{registry}` from the Docker config"
                    ))),
                }
            }
        }
    }
}
