//! `wasi:config/store` (`0.2.0-rc.1`, and `0.2.0-draft`): the values a guest reads with `get`
//! and `get-all`, from `[config]` in `wcomp.toml`, `--config key=value` and `--config-env
//! PREFIX` (every environment variable `PREFIX_KEY`, read as `key`). A value marked secret
//! (`--config-env` values always are) is never written to a log: only its key is.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

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

/// The `wasi:config/store` functions of `0.2.0-rc.1` (what wasmtime 48 serves and wcomp's
/// scaffolds use). `0.2.0-draft`, what earlier SDKs built against, differs in its version
/// alone, so [`add_to_linker`] defines its functions with the same types.
mod rc1 {
    wasmtime::component::bindgen!({
        inline: "
            package wasi:config@0.2.0-rc.1;
            interface store {
                variant error { upstream(string), io(string) }
                get: func(key: string) -> result<option<string>, error>;
                get-all: func() -> result<list<tuple<string, string>>, error>;
            }
            world imports { import store; }
        ",
        world: "imports",
        imports: { default: trappable },
    });
}

use rc1::wasi::config::store::Error as ConfigError;

/// The values guests of a session read, by key.
pub type ConfigValues = std::collections::BTreeMap<String, String>;

/// What the bindings read.
pub struct ConfigView<'a>(pub &'a ConfigValues);

/// The host state that carries a [`ConfigView`].
pub trait ConfigHost: Send + 'static {
    fn config(&mut self) -> ConfigView<'_>;
}

struct HasConfig;
impl wasmtime::component::HasData for HasConfig {
    type Data<'a> = ConfigView<'a>;
}

impl ConfigView<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn all(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }
}

impl rc1::wasi::config::store::Host for ConfigView<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, ConfigError>> {
        Ok(Ok(ConfigView::get(self, &key)))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, ConfigError>> {
        Ok(Ok(self.all()))
    }
}

/// Whether `component` imports `wasi:config`.
pub fn imported(engine: &wasmtime::Engine, component: &wasmtime::component::Component) -> bool {
    component
        .component_type()
        .imports(engine)
        .any(|(name, _)| name.starts_with("wasi:config/"))
}

/// Adds `wasi:config/store` in both releases.
pub fn add_to_linker<T: ConfigHost>(
    linker: &mut wasmtime::component::Linker<T>,
) -> anyhow::Result<()> {
    fn view<T: ConfigHost>(host: &mut T) -> ConfigView<'_> {
        host.config()
    }
    rc1::wasi::config::store::add_to_linker::<T, HasConfig>(linker, view::<T>)?;
    let mut draft = linker.instance("wasi:config/store@0.2.0-draft")?;
    draft.func_wrap(
        "get",
        |mut cx: wasmtime::StoreContextMut<'_, T>, (key,): (String,)| {
            Ok((Ok::<_, ConfigError>(cx.data_mut().config().get(&key)),))
        },
    )?;
    draft.func_wrap(
        "get-all",
        |mut cx: wasmtime::StoreContextMut<'_, T>, (): ()| {
            Ok((Ok::<_, ConfigError>(cx.data_mut().config().all()),))
        },
    )?;
    Ok(())
}
