//! The text-analysis fixture several language tests share: an `acme:text` analyzer and
//! reporter written in different languages, and what their composition answers.

pub const GO_ANALYZER: &str = r#"package export_acme_text_stats

import (
	"strings"
	"unicode/utf8"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
	"wit_component/acme_text_stats"
)

func Analyze(text string) acme_text_stats.Summary {
	words := strings.Fields(text)
	longest := witTypes.None[string]()
	best := 0
	lengths := make([]uint32, 0, len(words))
	for _, word := range words {
		n := utf8.RuneCountInString(word)
		lengths = append(lengths, uint32(n))
		if n > best {
			best = n
			longest = witTypes.Some(word)
		}
	}
	return acme_text_stats.Summary{Words: uint32(len(words)), Longest: longest, Lengths: lengths}
}
"#;

pub const RUST_REPORTER_BODY: &str = r#"let summary = acme::text::stats::analyze(&text);
        let Some(longest) = summary.longest else {
            return Err("no words".to_owned());
        };
        let lengths: Vec<String> = summary.lengths.iter().map(u32::to_string).collect();
        Ok(format!("{} words, longest: {longest}, lengths: {}", summary.words, lengths.join(",")))"#;

/// What both compositions answer, whichever language sits on which side.
pub const RENDERED: &str = "ok(\"4 words, longest: Hello, lengths: 5,5,3,5\")\n";
