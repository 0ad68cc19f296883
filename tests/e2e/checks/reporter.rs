wit_bindgen::generate!({ world: "reporter", path: "../wit" });

use acme::checks::stats::analyze;

struct Component;

impl Guest for Component {
    fn render(text: String) -> String {
        format!("{} words", analyze(&text))
    }
}

export!(Component);
