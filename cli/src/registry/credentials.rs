//! Credentials for a registry, as every OCI tool reads them: given on the command line
//! (`--username` with `--password-stdin`), else the Docker config (`$DOCKER_CONFIG/config.json`
//! or `~/.docker/config.json`, its `auths` and credential helpers), else none.

use oci_client::secrets::RegistryAuth;
use secrecy::{ExposeSecret as _, SecretString};

/// Where credentials come from. The password is kept as a secret: its `Debug` form (and so
/// anything that prints an `Access` under `-v`, or an error that carries one) shows
/// `[REDACTED]`, and it is exposed only to build the request's authentication.
#[derive(Debug, Clone, Default)]
pub enum Credentials {
    /// The Docker config, or anonymous when it has nothing for the registry.
    #[default]
    DockerConfig,
    /// Given explicitly.
    Basic {
        username: String,
        password: SecretString,
    },
}

impl Credentials {
    /// The authentication to use with `registry` (`host[:port]`).
    pub fn auth_for(&self, registry: &str) -> anyhow::Result<RegistryAuth> {
        match self {
            Self::Basic { username, password } => Ok(RegistryAuth::Basic(
                username.clone(),
                password.expose_secret().to_owned(),
            )),
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

    /// The user name given on the command line, if any.
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Basic { username, .. } => Some(username),
            Self::DockerConfig => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let credentials = Credentials::Basic {
            username: "ada".to_owned(),
            password: SecretString::from("hunter2-s3cret"),
        };
        for shown in [format!("{credentials:?}"), format!("{credentials:#?}")] {
            assert!(!shown.contains("hunter2-s3cret"), "{shown}");
            assert!(shown.contains("ada"), "{shown}");
        }
    }
}
