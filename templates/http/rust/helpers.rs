{{#config}}
/// The configuration value `greeting` (`wasi:config/store`), or the default greeting when the
/// host has none.
fn greeting() -> String {
    match wasi::config::store::get("greeting") {
        Ok(Some(greeting)) => format!("{greeting}\n"),
        _ => "Hello from Rust!\n".to_owned(),
    }
}
{{/config}}
{{#keyvalue}}
{{#config}}

{{/config}}
/// The `wasi:keyvalue` bucket `/visits` counts in, by the name the host grants it under.
const BUCKET: &str = "default";
{{/keyvalue}}
