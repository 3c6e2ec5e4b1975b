package schema

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Free text is what pgpoolgen copies from the spec into a generated file without a character
// set of its own: the spec's file name, in the header comment of nearly every file, and the
// quoted values of pgpool.conf. textFault is the one filter all of it passes: valid UTF-8,
// and none of the characters that end a line or a comment, or that make text display other
// than it reads in a review:
//
//   - C0 controls (line feed, carriage return, tab, NUL, escape, …) and DEL;
//   - C1 controls, U+0080–U+009F (NEL among them, which some tools take as a line break);
//   - the line and paragraph separators U+2028 and U+2029;
//   - the bidirectional controls U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069.
//
// It returns what the first such character is, for a message, or "" when s is fit.
func textFault(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Sprintf("a byte that is not UTF-8 (0x%02x)", s[i])
		}
		if !isTextRune(r) {
			return runeName(r)
		}
		i += n
	}
	return ""
}

func isTextRune(r rune) bool {
	switch {
	case r < ' ', r == 0x7f, r >= 0x80 && r <= 0x9f:
		return false
	case r == '\u2028', r == '\u2029':
		return false
	case r == '\u061c', r == '\u200e', r == '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return false
	}
	return true
}

// runeName names a character for a message without writing it: a control character would act
// on the terminal, and a quote would be confusing.
func runeName(r rune) string {
	switch {
	case r == '\n', r == '\r', r == '\u0085', r == '\u2028', r == '\u2029':
		return fmt.Sprintf("a line break (U+%04X)", r)
	case r == '\t':
		return "a tab"
	case r == ' ':
		return "a space"
	case r == '\u061c', r == '\u200e', r == '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return fmt.Sprintf("a bidirectional control (U+%04X)", r)
	case r < ' ', r == 0x7f, r >= 0x80 && r <= 0x9f:
		return fmt.Sprintf("a control character (U+%04X)", r)
	case r == '\'':
		return "a single quote (')"
	case r == '"':
		return `a double quote (")`
	case r == '`':
		return "a backtick (`)"
	}
	return "the character '" + string(r) + "'"
}

// maxSpecName bounds the spec's file name, which every generated file repeats: NAME_MAX, what
// a Linux file system allows anyway.
const maxSpecName = 255

// specName returns the spec's file name as generated files name it, or an error saying why it
// cannot be written there.
func specName(file string) (string, *Error) {
	const why = "it is written into the header comment of the generated files: rename the file to one without control, line-break or bidirectional characters"
	name := filepath.Base(file)
	msg := ""
	switch {
	case len(name) > maxSpecName:
		msg = fmt.Sprintf("the spec's file name is %d bytes long, more than the %d a file name has; %s", len(name), maxSpecName, why)
	case textFault(name) != "":
		msg = fmt.Sprintf("the spec's file name holds %s; %s", textFault(name), why)
	default:
		return name, nil
	}
	return "", &Error{File: file, Msg: msg}
}

// Visible writes s for a terminal: every character textFault refuses becomes its Go escape,
// so that no message acts on the terminal or hides part of itself.
func Visible(s string) string {
	if textFault(s) == "" {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !isTextRune(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
