// Package conf reads pgpool.conf as pgpool-II's own parser does, with positions, checks its
// settings against a pgpool-II series, and formats settings. It is what `pgpoolgen lint`
// runs on a hand-written pgpool.conf.
package conf

import (
	"fmt"
	"unicode/utf8"

	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/text"
)

// Limits on what Parse reads: pgpool.conf samples are about 50 kB and 1,100 lines.
const (
	MaxFileSize     = 1 << 20 // bytes per file
	MaxLines        = 20000   // lines per file
	MaxIncludeDepth = 10      // pgpool-II's own limit (ParseConfigFile, depth > 10)
	MaxFiles        = 64      // files read through include, the top one counted
)

// A Pos is a place in a file. Line and Col start at 1; Col counts characters.
type Pos struct{ Line, Col int }

// Kind is the token a value was written as, which matters to 3.1-3.5, whose parser takes a
// number only bare.
type Kind int

// The kinds of token in pgpool.conf, as pool_config.l names them.
const (
	KindEOF     Kind = iota
	KindEOL          // a line feed
	KindKey          // a name: letter or _ then letters, digits, _
	KindString       // '...' (Value holds what is between the quotes)
	KindBare         // a bare word with -._:/ in it (UNQUOTED_STRING)
	KindInteger      // 12, -3, 0x1f; from 4.2 with a unit: 30s
	KindReal         // 1.5, .5e3
	KindEquals       // =
	KindError        // any other character: pgpool-II's POOL_PARSE_ERROR
)

var kindNames = [...]string{"the end of the file", "the end of the line", "a name", "a quoted string",
	"a bare word", "a number", "a number", "'='", "a character pgpool.conf has no use for"}

func (k Kind) String() string { return kindNames[k] }

// A Setting is one name = value line as pgpool-II takes it.
type Setting struct {
	File     string // the file it was read from, as given (an included file's path joined to its includer's folder)
	Name     string
	NamePos  Pos
	Value    string // as pgpool-II stores it: the text between the quotes, backslashes kept
	ValuePos Pos
	Kind     Kind // how the value was written
}

// A Severity says whether a Diagnostic stops pgpool-II (or makes it ignore a setting) or only
// deserves a look.
type Severity int

// Severities, lowest first.
const (
	Warning Severity = iota
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// A Diagnostic is one finding. It prints as
//
//	pgpool.conf:12:1: delegate_ip: error: "delegate_ip" is not a parameter of pgpool-II 4.3: …
//
// Name is the setting's name, or "" for a problem of the file itself (a syntax error). Msg
// never quotes a value of a setting whose name holds "pass": a password stays out of output.
type Diagnostic struct {
	File     string
	Pos      Pos
	Name     string
	Severity Severity
	Msg      string
}

func (d Diagnostic) String() string {
	s := text.Visible(d.File)
	if d.Pos.Line > 0 {
		s += fmt.Sprintf(":%d:%d", d.Pos.Line, d.Pos.Col)
	}
	s += ": "
	if d.Name != "" {
		s += text.Visible(d.Name) + ": "
	}
	return s + d.Severity.String() + ": " + text.Visible(d.Msg)
}

// A token is one lexeme of pool_config.l.
type token struct {
	kind Kind
	text string
	pos  Pos
	off  int
}

// lexer is pool_config.l's scanner rule for rule: at each place the longest match wins, and
// of equally long ones the rule written first (so "on" is a name, as in flex).
type lexer struct {
	src   []byte
	off   int
	line  int
	col   int
	units bool // 4.2+: an integer may carry unit letters (INTEGER ... {UNIT_LETTER}*)
}

func isLetter(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
func isDigit(c byte) bool         { return c >= '0' && c <= '9' }
func isLetterOrDigit(c byte) bool { return isLetter(c) || isDigit(c) }
func isHex(c byte) bool           { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// advance moves over n bytes, keeping the line and the column (in characters).
func (l *lexer) advance(n int) {
	for i := 0; i < n; i++ {
		c := l.src[l.off]
		l.off++
		if c == '\n' {
			l.line++
			l.col = 1
		} else if c < 0x80 || c >= 0xc0 {
			l.col++ // a UTF-8 continuation byte does not start a character
		}
	}
}

func (l *lexer) next() token {
	for {
		s := l.src[l.off:]
		if len(s) == 0 {
			return token{kind: KindEOF, pos: Pos{l.line, l.col}, off: l.off}
		}
		pos, off := Pos{l.line, l.col}, l.off
		switch c := s[0]; {
		case c == '\n':
			l.advance(1)
			return token{kind: KindEOL, text: "\n", pos: pos, off: off}
		case c == ' ' || c == '\t' || c == '\r':
			l.advance(1)
			continue
		case c == '#':
			// #.*$ needs a line feed after it: flex's $ is trailing context, so a comment on a
			// last line without one is not a comment but a '#' that matches only '.'.
			n := 0
			for n < len(s) && s[n] != '\n' {
				n++
			}
			if n < len(s) {
				l.advance(n)
				continue
			}
		}
		kind, n := KindError, 1
		try := func(k Kind, m int) {
			if m > n || m == n && k < kind {
				kind, n = k, m
			}
		}
		try(KindKey, matchKey(s))
		try(KindString, matchString(s))
		try(KindBare, matchBare(s))
		try(KindInteger, matchInteger(s, l.units))
		try(KindReal, matchReal(s))
		if s[0] == '=' {
			try(KindEquals, 1)
		}
		if kind == KindError {
			// One character, whole: '.' in flex's 8-bit mode matches a byte, but a position
			// counts characters.
			if _, w := utf8.DecodeRune(s); w > 1 {
				n = w
			}
		}
		text := string(s[:n])
		l.advance(n)
		return token{kind: kind, text: text, pos: pos, off: off}
	}
}

func matchKey(s []byte) int {
	if !isLetter(s[0]) {
		return 0
	}
	n := 1
	for n < len(s) && isLetterOrDigit(s[n]) {
		n++
	}
	return n
}

func matchBare(s []byte) int {
	if !isLetter(s[0]) {
		return 0
	}
	n := 1
	for n < len(s) && (isLetterOrDigit(s[n]) || s[n] == '-' || s[n] == '.' || s[n] == '_' || s[n] == ':' || s[n] == '/') {
		n++
	}
	return n
}

// matchString is \'([^'\n]|\\.)*\' run as the automaton it is: a backslash is either a plain
// character or the start of a two-character escape, so \' ends the string on one path and
// goes on on the other, and the longest closed path wins.
func matchString(s []byte) int {
	if s[0] != '\'' {
		return 0
	}
	inside, escaped := true, false
	best := 0
	for i := 1; i < len(s) && (inside || escaped); i++ {
		c := s[i]
		ni, ne := false, false
		if inside {
			switch c {
			case '\'':
				best = i + 1
			case '\n':
			default:
				ni = true
				if c == '\\' {
					ne = true
				}
			}
		}
		if escaped && c != '\n' {
			ni = true
		}
		inside, escaped = ni, ne
	}
	return best
}

func matchInteger(s []byte, units bool) int {
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i = 1
	}
	best := 0
	// {DIGIT}+
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j > i {
		best = j
	}
	// 0x{HEXDIGIT}+
	if i+2 < len(s) && s[i] == '0' && s[i+1] == 'x' && isHex(s[i+2]) {
		k := i + 2
		for k < len(s) && isHex(s[k]) {
			k++
		}
		best = max(best, k)
	}
	if best == 0 || !units {
		return best
	}
	// The unit letters follow either form; "0x" alone is 0 with the unit x.
	ends := []int{best}
	if j > i && j != best {
		ends = append(ends, j)
	}
	for _, e := range ends {
		for e < len(s) && (s[e] >= 'a' && s[e] <= 'z' || s[e] >= 'A' && s[e] <= 'Z') {
			e++
		}
		best = max(best, e)
	}
	return best
}

func matchReal(s []byte) int {
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i = 1
	}
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i >= len(s) || s[i] != '.' {
		return 0
	}
	i++
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j {
			i = k
		}
	}
	return i
}

// Parse reads one file as pgpool-II of series v does: its settings in the order they stand,
// and each place where pgpool-II stops with a syntax error or reads otherwise than the line
// seems to say. It follows no include directive (Lint does): from 4.3 one is returned as a
// Setting named include, where it stands.
func Parse(file string, src []byte, v pgpool.Version) ([]Setting, []Diagnostic) {
	if d, ok := bounded(file, src); !ok {
		return nil, []Diagnostic{d}
	}
	var settings []Setting
	add := func(s Setting) { settings = append(settings, s) }
	return settings, parse(file, src, v, add, add)
}

// parse reads one file's settings in order, handing each to add (and each include directive
// of 4.3+ to inc, where it stands, its Value the file named), as ParseConfigFile does: a name, an optional
// '=', and the next token whatever it is as the value. Where pgpool-II stops with "syntax
// error in configuration file" the diagnostic is an error and parse goes on at the next
// line, so that every such place is found at once. Where pgpool-II reads on but takes
// something other than what the line seems to say (a value left out, a bare /tmp, two
// values), the diagnostic says so.
func parse(file string, src []byte, v pgpool.Version, add, inc func(Setting)) []Diagnostic {
	var diags []Diagnostic
	errAt := func(pos Pos, name, format string, args ...any) {
		diags = append(diags, Diagnostic{File: file, Pos: pos, Name: name, Severity: Error, Msg: fmt.Sprintf(format, args...)})
	}
	l := &lexer{src: src, line: 1, col: 1, units: v.AtLeast(pgpool.Version{Major: 4, Minor: 2})}
	if len(src) >= 3 && src[0] == 0xef && src[1] == 0xbb && src[2] == 0xbf {
		// An editor's UTF-8 byte order mark: three letters to flex, so part of the first name.
		errAt(Pos{1, 1}, "", "the file starts with a byte order mark, which pgpool-II reads as part of the first name: save it without one")
	}
	// skipLine moves past the rest of the line after a problem.
	skipLine := func() {
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance(1)
		}
	}
	includes := v.AtLeast(pgpool.Version{Major: 4, Minor: 3})
	var peeked *token
	for {
		var t token
		if peeked != nil {
			t, peeked = *peeked, nil
		} else {
			t = l.next()
		}
		if t.kind == KindEOF {
			break
		}
		if t.kind == KindEOL {
			continue
		}
		if t.kind == KindBare {
			errAt(t.pos, "", "syntax error: a name holds only letters, digits and _, and this one has -.:/ in it; pgpool-II does not start with this file")
			skipLine()
			continue
		}
		if t.kind != KindKey {
			errAt(t.pos, "", "syntax error: a line starts with %s where pgpool-II wants a parameter name; pgpool-II does not start with this file", t.kind)
			skipLine()
			continue
		}
		name := t.text
		val := l.next()
		if val.kind == KindEquals {
			val = l.next()
		}
		s := Setting{File: file, Name: name, NamePos: t.pos, ValuePos: val.pos, Kind: val.kind, Value: val.text}
		switch val.kind {
		case KindEOL, KindEOF:
			errAt(t.pos, name, "no value: write %s = 'value' (pgpool-II takes the line feed as the value)", name)
			s.Value = ""
			if includes && name == "include" {
				continue
			}
			add(s)
			continue
		case KindEquals:
			errAt(val.pos, name, "a second '=': write %s = 'value'", name)
			skipLine()
			continue
		case KindError:
			errAt(val.pos, name, "a bare value starts with a letter and holds only letters, digits and -._:/; put this one in single quotes")
			skipLine()
			continue
		case KindString:
			s.Value = val.text[1 : len(val.text)-1]
		}
		// What pgpool-II reads next must end the line or start the next setting.
		after := l.next()
		switch after.kind {
		case KindEOL, KindEOF:
		case KindString:
			if val.kind == KindString && after.off == val.off+len(val.text) {
				errAt(val.pos, name, "'' inside quotes: pgpool-II %s's parser has no escape for a quote, so a value cannot hold one", v)
			} else {
				errAt(after.pos, name, "%s after the value: quote the whole value, one per line", after.kind)
			}
			skipLine()
			continue
		case KindKey:
			if val.kind == KindInteger && after.off == val.off+len(val.text) {
				errAt(after.pos, name, "a unit after the number: pgpool-II %s takes the number alone and reads the unit as another setting (unit suffixes came in 4.2); write a bare number", v)
				skipLine()
				continue
			}
			if Secret(name) {
				// The word is part of a password: it is no name to print.
				errAt(after.pos, name, "a second word after the value: quote a value that holds spaces")
				skipLine()
				continue
			}
			// pgpool-II reads on: the word starts a second setting, with whatever follows it
			// as that one's value.
			errAt(after.pos, name, "a second word after the value: pgpool-II reads it as another setting; quote a value that holds spaces, and write one setting per line")
			peeked = &after
		default:
			errAt(after.pos, name, "%s after the value: quote a value that holds spaces, and write one setting per line", after.kind)
			skipLine()
			continue
		}
		if includes && name == "include" {
			inc(s)
		} else {
			add(s)
		}
		if after.kind == KindEOF {
			break
		}
	}
	return diags
}
