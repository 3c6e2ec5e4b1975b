package schema

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"pgpoolgen/schema/text"
)

// An Error is one problem in a spec. It prints as
//
//	cluster.toml:14:8: host[2].port: 70000 is out of range: a port is 1024 to 65535
//
// and without the line and column when the problem has no place in the file (a missing
// [cluster] table, say).
type Error struct {
	File string
	Pos  Pos
	Path string // the key path, such as host[2].port; empty for the document itself
	Msg  string // what is wrong and what would be right
}

// Error writes the error on one line. Characters that could act on a terminal or hide text
// (see text.Fault) are written as Go escapes, wherever they come from: a file name, a key.
func (e *Error) Error() string { return e.line("") }

// Warning writes a warning the same way, marked as one: the build goes on.
func (e *Error) Warning() string { return e.line("warning: ") }

func (e *Error) line(kind string) string {
	var b strings.Builder
	b.WriteString(text.Visible(e.File))
	if e.Pos.IsValid() {
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, e.Pos.Col)
	}
	b.WriteString(": ")
	b.WriteString(kind)
	if e.Path != "" {
		b.WriteString(text.Visible(e.Path))
		b.WriteString(": ")
	}
	b.WriteString(text.Visible(e.Msg))
	return b.String()
}

// An ErrorList is every problem found in a spec. Load returns one, sorted by position, rather
// than stopping at the first: a user fixes them all in one pass.
type ErrorList []*Error

// Error lists the problems one per line, the first MaxReported of them, then a line that
// counts the rest: past a hundred, more lines help nobody fix the spec.
func (l ErrorList) Error() string {
	lines := make([]string, 0, min(len(l), MaxReported+1))
	for i, e := range l {
		if i == MaxReported {
			more := "problems"
			if len(l)-i == 1 {
				more = "problem"
			}
			lines = append(lines, fmt.Sprintf("... and %d more %s", len(l)-i, more))
			break
		}
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

// sort orders the list by position, problems without one first, and drops exact repeats.
func (l *ErrorList) sort() {
	s := *l
	sort.SliceStable(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		return a.Path < b.Path
	})
	out := s[:0]
	for i, e := range s {
		if i > 0 && e.Error() == s[i-1].Error() {
			continue
		}
		out = append(out, e)
	}
	*l = out
}

// err returns the list as an error, or nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// syntaxRules rewrite the TOML library's syntax errors so that they keep what was expected and
// drop what was found: the library quotes the source text it stopped at, and on a password
// line that text is the password. The first rule that matches decides; the replacement keeps
// only the library's own words.
var syntaxRules = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`^(expected .*?),? but (?:got|found) .*$`), "$1"},
	{regexp.MustCompile(`^[Ii]nvalid (integer|float) .*?: (.+)$`), "invalid $1: $2"},
	{regexp.MustCompile(`^[Ii]nvalid (float|datetime|duration)(?: value)?: .*$`), "invalid $1"},
	{regexp.MustCompile(`^not an? (binary|octal|hexadecimal) number: .*$`), "not a $1 number"},
	{regexp.MustCompile(`^.* is out of (?:the safe )?(?:range for )?(\w+)(?: range)?$`), "a number out of range for $1"},
	{regexp.MustCompile(`^TOML files cannot contain control characters.*$`), "TOML files cannot contain control characters"},
	{regexp.MustCompile(`^invalid UTF-8 byte.*$`), "the file is not UTF-8 here"},
	{regexp.MustCompile(`^(?:invalid escape|Escaped character).*$`), `invalid escape in a string (use \\ for a backslash)`},
	// Key names are not secrets, and say which key is meant.
	{regexp.MustCompile(`^(Key '[^']*' (?:has already been defined|was already created.*)|"[^"]*" is not a table)$`), "$1"},
	// Messages with no source text in them: kept as they are.
	{regexp.MustCompile(`^[^"'0-9]*$`), "$0"},
	{regexp.MustCompile(`^unexpected (EOF; expected .*|'[=.]'.*|'""""""'|"''''''")$`), "$0"},
}

// syntaxMessage returns what the library's syntax error says, without source text.
func syntaxMessage(msg string) string {
	for _, r := range syntaxRules {
		if r.re.MatchString(msg) {
			return r.re.ReplaceAllString(msg, r.repl)
		}
	}
	return "the file is not valid TOML here"
}
