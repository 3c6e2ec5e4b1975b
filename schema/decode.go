package schema

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/text"
)

// A decoder turns the generic tree the TOML library returns into typed values, one key at a
// time, so that it can match keys exactly (the library matches struct fields without regard to
// case), report every problem with its position, and go on after the first.
type decoder struct {
	file string
	pos  *positions
	errs ErrorList
}

// add records a problem. Its message may quote the spec or another library's words (an ssh
// key's text, say), so it is made visible here, once, for every way it is shown.
func (d *decoder) add(pos Pos, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Pos: pos, Path: path, Msg: text.Visible(fmt.Sprintf(format, args...))})
}

// atKey reports a problem with the key at path; atValue one with its value.
func (d *decoder) atKey(path, format string, args ...any) {
	d.add(d.pos.keyPos(path), path, format, args...)
}

func (d *decoder) atValue(path, format string, args ...any) {
	d.add(d.pos.valuePos(path), path, format, args...)
}

// A table is one TOML table being decoded. Every key read through it is remembered, so that
// finish can report the keys nobody asked for.
type table struct {
	d    *decoder
	path string
	m    map[string]any // nil when the table is absent
	// keys are the keys the table takes (tableKeys); nil for [parameters], which takes any
	// pgpool.conf parameter and checks each name itself.
	keys []string
	read []string // the keys a reader asked for
}

func (d *decoder) root(m map[string]any) *table { return &table{d: d, m: m, keys: tableKeys[""]} }

func (t *table) at(key string) string { return joinKey(t.path, key) }

// present reports whether the table was written in the spec.
func (t *table) present() bool { return t.m != nil }

func (t *table) get(key string) (any, bool) {
	if t.keys != nil && !contains(t.keys, key) {
		panic(fmt.Sprintf("schema: %s reads %s, which tableKeys does not list", tableName(t.path), key))
	}
	t.read = append(t.read, key)
	v, ok := t.m[key]
	return v, ok
}

// has reports whether key was written, without reading it.
func (t *table) has(key string) bool {
	_, ok := t.m[key]
	return ok
}

// tomlType names the TOML type of a decoded value, as a user would call it.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("%T", v)
}

func (t *table) wrongType(key string, v any, want string) {
	hint := ""
	switch x := v.(type) {
	case string:
		if _, err := strconv.ParseInt(x, 10, 64); err == nil && strings.Contains(want, "integer") {
			hint = ": write the number without quotes, " + x
		}
	case float64:
		if strings.Contains(want, "string") {
			hint = fmt.Sprintf(`: write it in quotes, "%v"`, x)
		}
	}
	t.d.atValue(t.at(key), "is %s; want %s%s", tomlType(v), want, hint)
}

// str reads a string. ok is false when the key is absent or of the wrong type.
func (t *table) str(key string) (s string, ok bool) {
	v, ok := t.get(key)
	if !ok {
		return "", false
	}
	if s, ok = v.(string); !ok {
		t.wrongType(key, v, "a string")
	}
	return s, ok
}

// integer reads an integer within [lo, hi].
func (t *table) integer(key string, lo, hi int64) (n int, ok bool) {
	v, ok := t.get(key)
	if !ok {
		return 0, false
	}
	i, ok := v.(int64)
	if !ok {
		t.wrongType(key, v, "an integer")
		return 0, false
	}
	if i < lo || i > hi {
		t.d.atValue(t.at(key), "%d is out of range: want %d to %d", i, lo, hi)
		return 0, false
	}
	return int(i), true
}

// number reads an integer or a float within [lo, hi].
func (t *table) number(key string, lo, hi float64) (f float64, ok bool) {
	v, ok := t.get(key)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		t.wrongType(key, v, "a number")
		return 0, false
	}
	if math.IsNaN(f) || f < lo || f > hi {
		t.d.atValue(t.at(key), "%s is out of range: want %s to %s", fmtFloat(f), fmtFloat(lo), fmtFloat(hi))
		return 0, false
	}
	return f, true
}

func (t *table) boolean(key string) (b bool, ok bool) {
	v, ok := t.get(key)
	if !ok {
		return false, false
	}
	if b, ok = v.(bool); !ok {
		t.wrongType(key, v, "true or false")
	}
	return b, ok
}

// strings reads an array of strings.
func (t *table) strings(key string) ([]string, bool) {
	v, ok := t.get(key)
	if !ok {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		t.wrongType(key, v, "an array of strings")
		return nil, false
	}
	out := make([]string, 0, len(arr))
	good := true
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			t.d.atValue(indexPath(t.at(key), i), "is %s; want a string", tomlType(e))
			good = false
			continue
		}
		out = append(out, s)
	}
	return out, good
}

// sub reads a table; it returns an absent table, never nil, when the key is missing or wrong.
func (t *table) sub(key string) *table {
	s := &table{d: t.d, path: t.at(key), keys: tableKeys[key]}
	v, ok := t.get(key)
	if !ok {
		return s
	}
	if m, ok := v.(map[string]any); ok {
		s.m = m
	} else {
		t.d.atKey(t.at(key), "is %s; want a table: write %s", tomlType(v), tableName(t.at(key)))
	}
	return s
}

// list reads an array of tables: [[key]] sections, or an array of inline tables.
func (t *table) list(key string) []*table {
	v, ok := t.get(key)
	if !ok {
		return nil
	}
	var ms []map[string]any
	switch x := v.(type) {
	case []map[string]any:
		ms = x
	case []any:
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				t.d.atValue(indexPath(t.at(key), i), "is %s; want a table", tomlType(e))
				return nil
			}
			ms = append(ms, m)
		}
	default:
		t.d.atKey(t.at(key), "is %s; want an array of tables: write [[%s]] sections", tomlType(v), t.at(key))
		return nil
	}
	out := make([]*table, len(ms))
	for i, m := range ms {
		out[i] = &table{d: t.d, path: indexPath(t.at(key), i), m: m, keys: tableKeys[key]}
	}
	return out
}

// require reports that a key the table must have is missing.
func (t *table) require(key, what string) {
	// An absent table was reported by its parent; a key written in another case is reported
	// by finish.
	if t.path != "" && !t.present() || t.hasFold(key) {
		return
	}
	if !t.has(key) {
		if t.path == "" {
			t.d.add(Pos{}, key, "is missing: %s", what)
			return
		}
		t.d.atKey(t.path, "%q is missing: %s", key, what)
	}
}

// hasFold reports whether key was written in another case.
func (t *table) hasFold(key string) bool {
	for k := range t.m {
		if k != key && strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// finish reports every key of the table that it does not take, with the known key it most
// likely meant.
func (t *table) finish() {
	known := append([]string(nil), t.keys...)
	if t.keys == nil {
		known = append(known, t.read...)
	}
	sort.Strings(known)
	for _, key := range sortedKeys(t.m) {
		if contains(known, key) {
			if !contains(t.read, key) {
				// Never silently ignored: a reader that skips a key it takes is a bug.
				t.d.atKey(t.at(key), "pgpoolgen did not read this key, which is a bug in pgpoolgen; please report it")
			}
			continue
		}
		msg := "unknown key"
		if t.path != "" {
			msg = "unknown key in " + tableName(t.path)
		}
		if s := foldMatch(key, known); s != "" {
			msg = fmt.Sprintf("keys are case-sensitive; write %q", s)
		} else if s := pgpool.Closest(key, known); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += "; known keys are " + strings.Join(dedup(known), ", ")
		}
		t.d.atKey(t.at(key), "%s", msg)
	}
}

// sortedKeys returns the keys of m in order, so that nothing depends on map order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tableName writes a table's path as its TOML header: [pgpool], or [[host]] for host[2].
func tableName(path string) string {
	if i := strings.LastIndexByte(path, '['); i > 0 && strings.HasSuffix(path, "]") {
		return "[[" + path[:i] + "]]"
	}
	return "[" + path + "]"
}

func foldMatch(key string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return ""
}

func dedup(sorted []string) []string {
	var out []string
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func fmtFloat(f float64) string {
	return fmt.Sprint(f)
}
