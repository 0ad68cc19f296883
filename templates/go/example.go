// Package {{package}} implements the `text` interface that the `{{world}}` world in
// wit/world.wit exports. The binding packages (files starting with "Code generated") are
// rewritten by `wcomp build`.
package {{package}}

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Describe says how many words and characters input holds.
func Describe(input string) string {
	words := len(strings.Fields(input))
	characters := utf8.RuneCountInString(input)
	return strconv.Itoa(words) + " words, " + strconv.Itoa(characters) + " characters"
}
