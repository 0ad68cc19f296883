//! `wasi:config/store@0.2.0-draft`: the values a guest reads with `get` and `get-all`, from
//! `[config]` in `wcomp.toml`, `--config key=value` and `--config-env PREFIX` (every
//! environment variable `PREFIX_KEY`, read as `key`). A value marked secret (`--config-env`
//! values always are) is never written to a log: only its key is.

use std::fmt;
use std::str::FromStr;

use std::path::PathBuf;

/// Errors in a keyvalue grant, a configuration value, or in opening the embedded store.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StateError {
    /// A `--kv` that is not `<bucket>[=<backend>]`.
    #[error("invalid keyvalue grant `{text}`: {reason}")]
    #[diagnostic(help(
        "write `--kv <bucket>` (the embedded store), `--kv <bucket>=memory`, or `--kv <bucket>=redis://<host>:<port>/<db>`"
    ))]
    Kv { text: String, reason: String },
    /// The embedded keyvalue store cannot be opened.
    #[error("cannot open the embedded keyvalue store `{}`: {reason}", path.display())]
    #[diagnostic(help(
        "the state directory must be writable: fix its permissions, or choose another with `--state-dir <dir>`"
    ))]
    StateDir { path: PathBuf, reason: String },
    /// A `--config` or `--config-env` that cannot be read.
    #[error("invalid configuration value `{text}`: {reason}")]
    #[diagnostic(help(
        "write `--config <key>=<value>`, or `--config-env <PREFIX>` for every variable `PREFIX_KEY`"
    ))]
    Config { text: String, reason: String },
}

/// One configuration value.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigValue {
    pub key: String,
    pub value: String,
    pub secret: bool,
}

impl fmt::Debug for ConfigValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.secret { &"***" } else { &self.value };
        f.debug_struct("ConfigValue")
            .field("key", &self.key)
            .field("value", value)
            .field("secret", &self.secret)
            .finish()
    }
}

impl ConfigValue {
    pub fn new(key: &str, value: &str, secret: bool) -> Result<Self, StateError> {
        if key.is_empty() || key.chars().any(char::is_control) {
            return Err(StateError::Config {
                text: key.to_owned(),
                reason: "a key must be non-empty text without control characters".into(),
            });
        }
        Ok(Self {
            key: key.to_owned(),
            value: value.to_owned(),
            secret,
        })
    }

    /// One line for `-v`: the key, and the value unless it is secret.
    pub fn describe(&self) -> String {
        if self.secret {
            format!("config: `{}` (secret, not shown)", self.key)
        } else {
            format!("config: `{}` = {:?}", self.key, self.value)
        }
    }
}

impl FromStr for ConfigValue {
    type Err = StateError;

    /// `key=value` (`--config`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Some((key, value)) = text.split_once('=') else {
            let key = text.to_owned();
            return Err(StateError::Config {
                text: key,
                reason: "missing `=<value>`".into(),
            });
        };
        Self::new(key, value, false)
    }
}

/// The values of environment variables named `PREFIX_KEY` (`--config-env PREFIX`), as
/// secret values keyed by `KEY` in lower case (`APP_DB_URL` gives `db_url`).
pub fn from_env(
    prefix: &str,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<ConfigValue>, StateError> {
    if prefix.is_empty() || prefix.contains('=') {
        return Err(StateError::Config {
            text: prefix.to_owned(),
            reason: "`--config-env` takes a prefix of variable names, such as `APP`".into(),
        });
    }
    let start = format!("{prefix}_");
    let mut values: Vec<ConfigValue> = vars
        .into_iter()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix(&start)?;
            (!key.is_empty()).then(|| ConfigValue {
                key: key.to_lowercase(),
                value,
                secret: true,
            })
        })
        .collect();
    values.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_environment() {
        let value: ConfigValue = "greeting=hello=world".parse().unwrap();
        assert_eq!(
            (value.key.as_str(), value.value.as_str()),
            ("greeting", "hello=world")
        );
        assert!("greeting".parse::<ConfigValue>().is_err());
        assert!("=x".parse::<ConfigValue>().is_err());
        let values = from_env(
            "APP",
            [
                ("APP_DB_URL".to_owned(), "postgres://x".to_owned()),
                ("APPLE".to_owned(), "no".to_owned()),
                ("APP_".to_owned(), "no".to_owned()),
            ],
        )
        .unwrap();
        assert_eq!(values.len(), 1);
        assert_eq!(values[0].key, "db_url");
        assert!(values[0].secret);
        assert!(!format!("{values:?}").contains("postgres"));
        assert!(!values[0].describe().contains("postgres"));
    }
}
