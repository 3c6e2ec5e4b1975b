// Package text holds the one filter for free text, the characters pgpoolgen writes into no
// file and prints to no terminal as they are, and how a message names or escapes them. It is
// the lowest package: schema and schema/conf both use it.
package text

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Fault says whether s is free text: what pgpoolgen copies from the spec into a generated file
// without a character set of its own (the spec's file name, in the header comment of nearly
// every file, and the quoted values of pgpool.conf). Free text is valid UTF-8, without the
// characters that end a line or a comment, or that make text display other than it reads in
// a review:
//
//   - C0 controls (line feed, carriage return, tab, NUL, escape, …) and DEL;
//   - C1 controls, U+0080–U+009F (NEL among them, which some tools take as a line break);
//   - the line and paragraph separators U+2028 and U+2029;
//   - the bidirectional controls U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069;
//   - the byte order mark U+FEFF, which shows as nothing (and which pgpool-II reads as part
//     of the first name of a file that starts with it).
//
// It returns what the first such character is, for a message, or "" when s is fit.
func Fault(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Sprintf("a byte that is not UTF-8 (0x%02x)", s[i])
		}
		if !isText(r) {
			return RuneName(r)
		}
		i += n
	}
	return ""
}

func isText(r rune) bool {
	switch {
	case isControl(r), r == '\u2028', r == '\u2029', isBidi(r), r == '\ufeff':
		return false
	}
	return true
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f || r >= 0x80 && r <= 0x9f }

func isBidi(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// RuneName names a character for a message without writing it: a control character would act
// on the terminal, and a quote would be confusing.
func RuneName(r rune) string {
	switch {
	case r == '\n', r == '\r', r == '\u0085', r == '\u2028', r == '\u2029':
		return fmt.Sprintf("a line break (U+%04X)", r)
	case r == '\t':
		return "a tab"
	case r == ' ':
		return "a space"
	case isBidi(r):
		return fmt.Sprintf("a bidirectional control (U+%04X)", r)
	case isControl(r):
		return fmt.Sprintf("a control character (U+%04X)", r)
	case r == '\ufeff':
		return "a byte order mark (U+FEFF)"
	case r == '\'':
		return "a single quote (')"
	case r == '"':
		return `a double quote (")`
	case r == '`':
		return "a backtick (`)"
	}
	return "the character '" + string(r) + "'"
}

// Visible writes s for a terminal: every character Fault refuses becomes its Go escape (\n,
// \x00, \u202e; a byte that is not UTF-8 \xff), so that no message acts on the terminal or
// hides part of itself.
func Visible(s string) string {
	if Fault(s) == "" {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !isText(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
