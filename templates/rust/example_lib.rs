//! The `{{crate_name}}` component: implements the `{{world}}` world in `wit/`.

wit_bindgen::generate!({ world: "{{world}}", path: "wit", generate_all });

use exports::example::{{package_module}}::text::Guest;

/// The type the world's exports are implemented on.
struct Component;

impl Guest for Component {
    fn describe(input: String) -> String {
        let words = input.split_whitespace().count();
        let characters = input.chars().count();
        format!("{words} words, {characters} characters")
    }
}

export!(Component);
