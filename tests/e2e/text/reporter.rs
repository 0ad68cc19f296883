wit_bindgen::generate!({ world: "reporter", path: "wit" });

use acme::text::stats::analyze;
use exports::acme::text::report::Guest;

struct Component;

impl Guest for Component {
    fn render(text: String) -> String {
        let summary = analyze(&text);
        format!("{} words, longest: {}", summary.words, summary.longest)
    }
}

export!(Component);
