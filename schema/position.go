package schema

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Pos is a place in the spec file. Line and Col start at 1; Col counts characters.
// The zero Pos means "no place": the error is about the file as a whole.
type Pos struct{ Line, Col int }

// IsValid reports whether p names a place.
func (p Pos) IsValid() bool { return p.Line > 0 }

// positions maps key paths ("host[2].port", "parameters.port") to where the key and its value
// stand in the source. The TOML library keeps no usable positions (one per dotted key, so every
// element of an array of tables shares one), so positions come from this small scanner, run on
// source the library has already accepted: it never has to report a syntax error.
type positions struct {
	key   map[string]Pos
	value map[string]Pos
}

// keyPos returns where path was written, or else where its nearest written parent was.
func (p *positions) keyPos(path string) Pos {
	for path != "" {
		if pos, ok := p.key[path]; ok {
			return pos
		}
		path = parentPath(path)
	}
	return Pos{}
}

// valuePos returns where the value of path starts, falling back to the key.
func (p *positions) valuePos(path string) Pos {
	if pos, ok := p.value[path]; ok {
		return pos
	}
	return p.keyPos(path)
}

// parentPath drops the last element of a key path: host[2].port → host[2] → host.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := lastDot(path); i >= 0 {
		return path[:i]
	}
	return ""
}

// lastDot finds the last '.' outside double quotes.
func lastDot(path string) int {
	in := false
	at := -1
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '"':
			in = !in
		case '\\':
			if in {
				i++
			}
		case '.':
			if !in {
				at = i
			}
		}
	}
	return at
}

// joinKey appends a key to a path, quoting it when it is not a bare TOML key.
func joinKey(path, key string) string {
	if !isBareKey(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func isBareKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// scanPositions indexes the keys of a TOML document that has already been parsed successfully.
func scanPositions(src string) *positions {
	s := &scanner{src: src, line: 1, col: 1, pos: &positions{key: map[string]Pos{}, value: map[string]Pos{}}, arrays: map[string]int{}}
	s.document()
	return s.pos
}

type scanner struct {
	src       string
	i         int
	line, col int
	pos       *positions
	// arrays counts the elements of each array of tables seen so far, by resolved path.
	arrays map[string]int
}

func (s *scanner) eof() bool { return s.i >= len(s.src) }

func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.src[s.i]
}

func (s *scanner) here() Pos { return Pos{s.line, s.col} }

func (s *scanner) next() {
	if s.eof() {
		return
	}
	if s.src[s.i] == '\n' {
		s.i++
		s.line++
		s.col = 1
		return
	}
	_, n := utf8.DecodeRuneInString(s.src[s.i:])
	s.i += n
	s.col++
}

func (s *scanner) hasPrefix(p string) bool { return strings.HasPrefix(s.src[s.i:], p) }

func (s *scanner) skip(n int) {
	for ; n > 0; n-- {
		s.next()
	}
}

// space skips blanks and, if newlines is set, newlines and comments too.
func (s *scanner) space(newlines bool) {
	for !s.eof() {
		switch c := s.peek(); {
		case c == ' ' || c == '\t' || c == '\r':
			s.next()
		case newlines && c == '\n':
			s.next()
		case newlines && c == '#':
			for !s.eof() && s.peek() != '\n' {
				s.next()
			}
		default:
			return
		}
	}
}

func (s *scanner) document() {
	table := ""
	for {
		s.space(true)
		if s.eof() {
			return
		}
		if s.peek() == '[' {
			table = s.header()
			continue
		}
		s.keyValue(table)
	}
}

// header reads [a.b] or [[a.b]] and returns the resolved path of the table it opens.
func (s *scanner) header() string {
	array := s.hasPrefix("[[")
	if array {
		s.skip(2)
	} else {
		s.skip(1)
	}
	s.space(false)
	at := s.here()
	keys := s.dottedKey()
	s.space(false)
	if array {
		s.skip(2)
	} else {
		s.skip(1)
	}
	path := ""
	for i, k := range keys {
		path = joinKey(path, k)
		if i < len(keys)-1 {
			path = s.resolve(path)
			s.record(path, at) // an implicit table, [foo] of [foo.bar], is where first named
		}
	}
	if array {
		n := s.arrays[path]
		s.arrays[path] = n + 1
		s.record(path, at)
		path = indexPath(path, n)
	}
	s.record(path, at)
	return path
}

// resolve turns the path of an array of tables into the path of its last element, as TOML
// does for [a.b] after [[a]].
func (s *scanner) resolve(path string) string {
	if n, ok := s.arrays[path]; ok && n > 0 {
		return indexPath(path, n-1)
	}
	return path
}

func (s *scanner) record(path string, at Pos) {
	if _, ok := s.pos.key[path]; !ok {
		s.pos.key[path] = at
	}
}

// keyValue reads key = value inside table.
func (s *scanner) keyValue(table string) {
	at := s.here()
	keys := s.dottedKey()
	path := table
	for _, k := range keys {
		path = joinKey(path, k)
		s.record(path, at)
	}
	s.space(false)
	s.skip(1) // '='
	s.space(false)
	s.value(path)
}

func (s *scanner) dottedKey() []string {
	var keys []string
	for {
		keys = append(keys, s.simpleKey())
		s.space(false)
		if s.peek() != '.' {
			return keys
		}
		s.next()
		s.space(false)
	}
}

func (s *scanner) simpleKey() string {
	switch s.peek() {
	case '"':
		start := s.i
		s.next()
		for !s.eof() && s.peek() != '"' {
			if s.peek() == '\\' {
				s.next()
			}
			s.next()
		}
		s.next()
		if k, err := strconv.Unquote(s.src[start:s.i]); err == nil {
			return k
		}
		return s.src[start+1 : s.i-1]
	case '\'':
		s.next()
		start := s.i
		for !s.eof() && s.peek() != '\'' {
			s.next()
		}
		k := s.src[start:s.i]
		s.next()
		return k
	}
	start := s.i
	for !s.eof() && isBareKey(s.src[s.i:s.i+1]) {
		s.next()
	}
	return s.src[start:s.i]
}

// value skips one value, recording the positions of values inside arrays and inline tables.
func (s *scanner) value(path string) {
	s.pos.value[path] = s.here()
	switch {
	case s.hasPrefix(`"""`):
		s.skip(3)
		for !s.eof() && !s.hasPrefix(`"""`) {
			if s.peek() == '\\' {
				s.next()
			}
			s.next()
		}
		s.skip(3)
		for n := 0; n < 2 && s.peek() == '"'; n++ {
			s.next()
		}
	case s.hasPrefix(`'''`):
		s.skip(3)
		for !s.eof() && !s.hasPrefix(`'''`) {
			s.next()
		}
		s.skip(3)
		for n := 0; n < 2 && s.peek() == '\''; n++ {
			s.next()
		}
	case s.peek() == '"' || s.peek() == '\'':
		s.simpleKey() // the same lexical form as a quoted key
	case s.peek() == '[':
		s.next()
		for n := 0; ; n++ {
			s.space(true)
			if s.eof() || s.peek() == ']' {
				break
			}
			s.value(indexPath(path, n))
			s.space(true)
			if s.peek() == ',' {
				s.next()
			}
		}
		s.next()
	case s.peek() == '{':
		s.next()
		for {
			s.space(true)
			if s.eof() || s.peek() == '}' {
				break
			}
			s.keyValue(path)
			s.space(true)
			if s.peek() == ',' {
				s.next()
			}
		}
		s.next()
	default:
		for !s.eof() && !strings.ContainsRune(",]}#\n", rune(s.peek())) {
			s.next()
		}
	}
}
