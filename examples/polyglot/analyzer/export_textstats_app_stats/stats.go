// Package export_textstats_app_stats implements `textstats:app/stats` (Go): it asks the
// tokenizer for the words and counts them.
package export_textstats_app_stats

import (
	"sort"

	"wit_component/textstats_app_stats"
	"wit_component/textstats_app_tokens"
)

// Analyze counts the words of text and returns the limit most frequent, most frequent
// first; ties keep the order in which the words first appear.
func Analyze(text string, limit uint32) textstats_app_stats.Summary {
	tokens := textstats_app_tokens.Tokenize(text)
	counts := map[string]uint32{}
	var order []string
	for _, token := range tokens {
		if counts[token.Word] == 0 {
			order = append(order, token.Word)
		}
		counts[token.Word]++
	}
	top := make([]textstats_app_stats.WordCount, 0, len(order))
	for _, word := range order {
		top = append(top, textstats_app_stats.WordCount{Word: word, Count: counts[word]})
	}
	sort.SliceStable(top, func(i, j int) bool { return top[i].Count > top[j].Count })
	if uint32(len(top)) > limit {
		top = top[:limit]
	}
	return textstats_app_stats.Summary{
		Words:  uint32(len(tokens)),
		Unique: uint32(len(order)),
		Top:    top,
	}
}
