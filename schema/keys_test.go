package schema

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"pgpoolgen/schema/pgpool"
)

// A keySpec is a valid spec as sections of key = value lines, to which a test sets or removes
// one key: streaming replication on pgpool-II 4.4 and PostgreSQL 15, Debian's layout, one
// pgpool host and three backends (two pgpool hosts and two backends with a watchdog: there
// are four usable keys in golden/errors/keys).
type keySpec struct {
	sections []*section
}

type section struct {
	header string // "cluster", "host[2]"; the document's own keys have ""
	lines  []kv
}

type kv struct{ key, value string }

func newKeySpec(pgpools int) *keySpec {
	s := &keySpec{}
	add := func(header string, kvs ...string) {
		sec := &section{header: header}
		for i := 0; i < len(kvs); i += 2 {
			sec.lines = append(sec.lines, kv{kvs[i], kvs[i+1]})
		}
		s.sections = append(s.sections, sec)
	}
	add("cluster", "name", `"main"`, "mode", `"streaming_replication"`, "pgpool_version", `"4.4"`, "postgresql_version", `"15"`)
	add("layout", "preset", `"debian"`)
	keys := []string{"pgpool", "node2", "node0", "node1"}
	for i, key := range keys {
		role := `["standby"]`
		switch {
		case i < pgpools:
			role = `["pgpool"]`
		case i == pgpools:
			role = `["primary"]`
		}
		add(fmt.Sprintf("host[%d]", i), "name", fmt.Sprintf(`"h%d"`, i), "address", fmt.Sprintf(`"192.0.2.%d"`, i+1),
			"roles", role, "ssh_key_file", `"keys/`+key+`.pub"`)
	}
	add("pcp_user[0]", "name", `"pgpool"`, "md5", `"5ebe2294ecd0e0f08eab7690d2a6ee69"`)
	add("hba[0]", "address", `"192.0.2.0/24"`, "method", `"md5"`)
	return s
}

// section returns the section with header, made (in SpecTables' order) when missing.
func (s *keySpec) section(header string) *section {
	for _, sec := range s.sections {
		if sec.header == header {
			return sec
		}
	}
	sec := &section{header: header}
	name, _, _ := strings.Cut(header, "[")
	order := func(h string) int {
		n, _, _ := strings.Cut(h, "[")
		for i, k := range SpecTables[0].Keys {
			if k.Name == n {
				return i
			}
		}
		return -1
	}
	i := 0
	for i < len(s.sections) && order(s.sections[i].header) <= order(name) {
		i++
	}
	s.sections = append(s.sections[:i], append([]*section{sec}, s.sections[i:]...)...)
	return sec
}

// set writes key = value into the section at header, in place of the key's line if it has one.
func (s *keySpec) set(header, key, value string) *keySpec {
	sec := s.section(header)
	for i := range sec.lines {
		if sec.lines[i].key == key {
			sec.lines[i].value = value
			return s
		}
	}
	sec.lines = append(sec.lines, kv{key, value})
	return s
}

// remove takes the key out of the section at header; a key of the document removes the
// sections of its table.
func (s *keySpec) remove(header, key string) *keySpec {
	var out []*section
	for _, sec := range s.sections {
		name, _, _ := strings.Cut(sec.header, "[")
		if header == "" && name == key {
			continue
		}
		if sec.header == header {
			var lines []kv
			for _, l := range sec.lines {
				if l.key != key {
					lines = append(lines, l)
				}
			}
			sec.lines = lines
		}
		out = append(out, sec)
	}
	s.sections = out
	return s
}

func (s *keySpec) String() string {
	var b strings.Builder
	for _, sec := range s.sections {
		switch name, _, indexed := strings.Cut(sec.header, "["); {
		case sec.header == "":
		case indexed:
			fmt.Fprintf(&b, "[[%s]]\n", name)
		default:
			fmt.Fprintf(&b, "[%s]\n", name)
		}
		for _, l := range sec.lines {
			fmt.Fprintf(&b, "%s = %s\n", l.key, l.value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// loadKeys loads a spec beside golden/errors/keys and returns the model and the errors.
func loadKeys(t *testing.T, s *keySpec) (*Cluster, ErrorList) {
	t.Helper()
	c, err := Load(filepath.Join("..", "golden", "errors", "keys.toml"), []byte(s.String()), testEnv)
	if err == nil {
		return c, nil
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Load returned %T, want an ErrorList: %v", err, err)
	}
	return nil, list
}

// at returns the messages of the errors at path.
func at(list ErrorList, path string) []string {
	var msgs []string
	for _, e := range list {
		if e.Path == path {
			msgs = append(msgs, e.Msg)
		}
	}
	return msgs
}

// keyCase is one key of SpecTables with where a test writes it: the section header, the key
// path of its errors, and the spec around it.
type keyCase struct {
	table *Table
	key   *Key
	// header is the section the key goes in ("host[2]": a backend, "pcp_user[0]"), path
	// where its errors stand.
	header, path string
	spec         func() *keySpec
}

// keyContext is what a key needs around it to be taken at all, or to show its default: keys
// that work only with another's value. Values are TOML; "" removes the key.
var keyContext = map[string][]kv{
	"postgresql.wal_keep_mb":       {{"replication_slots", "false"}},
	"postgresql.synchronous_count": {{"synchronous", `"first"`}},
	"hba[].options":                {{"method", `"pam"`}},
	// A password in the spec shows what allow_plain_password's default refuses.
	"pcp_user[].allow_plain_password":  {{"md5", ""}, {"password", `"pw"`}},
	"pool_user[].allow_plain_password": {{"md5", ""}, {"password", `"pw"`}},
}

func keyCases(t *testing.T) []keyCase {
	t.Helper()
	var cases []keyCase
	for _, tb := range SpecTables[1:] {
		if tb.Open {
			continue
		}
		for i := range tb.Keys {
			k := &tb.Keys[i]
			header := tb.Name
			switch tb.Name {
			case "host":
				header = "host[1]" // a backend: the primary
			case "pcp_user", "pool_user", "hba":
				header = tb.Name + "[0]"
			}
			// The watchdog's keys need two pgpool hosts; a host's are on a pgpool host.
			pgpools := 1
			if tb.Name == "watchdog" || tb.Name == "host" && (k.Name == "heartbeat_addresses" || k.Name == "interface") {
				pgpools = 2
			}
			if pgpools == 2 && tb.Name == "host" {
				header = "host[0]"
			}
			path := header + "." + k.Name
			ctx := keyContext[tb.Path(k.Name)]
			isPoolUser := tb.Name == "pool_user"
			spec := func() *keySpec {
				s := newKeySpec(pgpools)
				if isPoolUser {
					s.set(header, "name", `"app"`).set(header, "md5", `"md5`+strings.Repeat("0", 32)+`"`)
				}
				for _, c := range ctx {
					if c.value == "" {
						s.remove(header, c.key)
					} else {
						s.set(header, c.key, c.value)
					}
				}
				return s
			}
			cases = append(cases, keyCase{table: tb, key: k, header: header, path: path, spec: spec})
		}
	}
	return cases
}

// tomlValue writes v as a TOML value.
func tomlValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(x)
	}
	panic(fmt.Sprintf("tomlValue(%T)", v))
}

// otherValue is a valid value of the key other than its default, to show the key is read.
func otherValue(k *Key) string {
	switch d := k.Default.(type) {
	case bool:
		return strconv.FormatBool(!d)
	case int64:
		if float64(d) != k.Range.Lo {
			return tomlValue(int64(k.Range.Lo))
		}
		return tomlValue(d + 1)
	case float64:
		return tomlValue(d + 1)
	case string:
		for i := len(k.Enum) - 1; i >= 0; i-- { // hba.type: "local" takes no address
			if k.Enum[i] != d {
				return strconv.Quote(k.Enum[i])
			}
		}
		switch d {
		case "*":
			return `"localhost"`
		case "localhost":
			return `"*"`
		case "":
			return `"pamservice=pgpool"`
		}
		return strconv.Quote(d + "x")
	}
	panic(fmt.Sprintf("otherValue(%s)", k.Name))
}

// outcome is what a spec loads to, for comparing two: the model without its warnings (whose
// positions move with the lines), or the errors' paths and messages.
type outcome struct {
	c    *Cluster
	errs []string
}

func load2(t *testing.T, s *keySpec) outcome {
	t.Helper()
	c, errs := loadKeys(t, s)
	if errs != nil {
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Path+": "+e.Msg)
		}
		return outcome{errs: msgs}
	}
	c.Warnings = nil
	return outcome{c: c}
}

// TestKeyDefaults proves each default of SpecTables against the loader: a spec that writes
// the key with its default loads to the same model as one without it, and one that writes
// another value does not (so the key is read at all).
func TestKeyDefaults(t *testing.T) {
	n := 0
	for _, kc := range keyCases(t) {
		if kc.key.Default == nil {
			continue
		}
		n++
		base := load2(t, kc.spec())
		same := load2(t, kc.spec().set(kc.header, kc.key.Name, tomlValue(kc.key.Default)))
		if !reflect.DeepEqual(base, same) {
			t.Errorf("%s: SpecTables says the default is %s, but the loader's is another value%s", kc.path, tomlValue(kc.key.Default), strings.Join(append([]string{""}, same.errs...), "\n\t"))
		}
		other := otherValue(kc.key)
		if o := load2(t, kc.spec().set(kc.header, kc.key.Name, other)); o.errs != nil && base.errs == nil {
			t.Errorf("%s = %s, the test's other value, is refused: %v", kc.path, other, o.errs)
		} else if reflect.DeepEqual(base, o) {
			t.Errorf("%s = %s loads to the same model as the default %s: the test shows nothing", kc.path, other, tomlValue(kc.key.Default))
		}
	}
	if n < 30 {
		t.Errorf("%d keys with a default, want at least 30", n)
	}
}

// TestKeyEnums proves each Enum: every value is taken (no error at the key), and a wrong value
// is refused with a message that lists them all.
func TestKeyEnums(t *testing.T) {
	n := 0
	for _, kc := range keyCases(t) {
		if kc.key.Enum == nil {
			continue
		}
		n++
		wrap := func(v string) string { return v }
		path := kc.path
		if kc.key.Type == TStrings {
			wrap = func(v string) string { return "[" + v + "]" }
			path += "[0]"
		}
		for _, v := range kc.key.Enum {
			s := kc.spec().set(kc.header, kc.key.Name, wrap(strconv.Quote(v)))
			for _, c := range enumContext[kc.table.Path(kc.key.Name)+" = "+v] {
				s.set(c.header, c.key, c.value)
			}
			if _, errs := loadKeys(t, s); len(at(errs, path)) > 0 {
				t.Errorf("%s = %q is in SpecTables' enum, but the loader refuses it: %v", kc.path, v, at(errs, path))
			}
		}
		wrong := "9.9" // not a version either
		_, errs := loadKeys(t, kc.spec().set(kc.header, kc.key.Name, wrap(strconv.Quote(wrong))))
		msgs := at(errs, path)
		if len(msgs) != 1 {
			t.Errorf("%s = %q: got errors %q, want one that lists the values", kc.path, wrong, msgs)
			continue
		}
		if kc.key.Type == TStringOrInteger {
			// parsePGVersion's message gives the two runs of versions.
			e := kc.key.Enum
			if want := fmt.Sprintf("from %q to %q or from %q to %q", e[0], e[6], e[7], e[len(e)-1]); !strings.Contains(msgs[0], want) {
				t.Errorf("%s = %q: the loader's message does not say %s, as SpecTables' enum does: %s", kc.path, wrong, want, msgs[0])
			}
			continue
		}
		for _, v := range kc.key.Enum {
			if !strings.Contains(msgs[0], v) {
				t.Errorf("%s = %q: the loader's message does not list %q, which SpecTables has: %s", kc.path, wrong, v, msgs[0])
			}
		}
	}
	if n < 10 {
		t.Errorf("%d keys with an enum, want at least 10", n)
	}
}

// enumContext is what a value of an enum needs around it to be taken, by "path = value".
var enumContext = map[string][]struct{ header, key, value string }{
	"layout.preset = source": {{"install", "method", `"none"`}}, // else a source tarball
	"host[].roles = backend": {{"cluster", "mode", `"native_replication"`}},
	"hba[].type = hostssl":   {{"parameters", "ssl", "true"}},
	"hba[].method = cert":    {{"hba[0]", "type", `"hostssl"`}, {"parameters", "ssl", "true"}},
}

// rangeRefusal is the loader's message for a value beyond a key's range, where it is not "out of
// range".
var rangeRefusal = map[string]string{
	"health_check.period": "0 turns health checking off",
	// parsePGVersion: 9 and 19 are no version at all.
	"cluster.postgresql_version": "is not a PostgreSQL version pgpoolgen supports",
}

// TestKeyRanges proves each Range: its bounds are taken, and one below and one above are
// refused as out of range.
func TestKeyRanges(t *testing.T) {
	n := 0
	for _, kc := range keyCases(t) {
		r := kc.key.Range
		if r == nil {
			continue
		}
		n++
		for _, v := range []float64{r.Lo, r.Hi} {
			lit := strconv.FormatFloat(v, 'f', -1, 64)
			_, errs := loadKeys(t, kc.spec().set(kc.header, kc.key.Name, lit))
			for _, m := range at(errs, kc.path) {
				if strings.Contains(m, "out of range") || strings.Contains(m, rangeRefusal[kc.path]) && rangeRefusal[kc.path] != "" {
					t.Errorf("%s = %s is within SpecTables' range %s to %s, but the loader refuses it: %s", kc.path, lit, fmtFloat(r.Lo), fmtFloat(r.Hi), m)
				}
			}
		}
		for _, v := range []float64{r.Lo - 1, r.Hi + 1} {
			lit := strconv.FormatFloat(v, 'f', -1, 64)
			_, errs := loadKeys(t, kc.spec().set(kc.header, kc.key.Name, lit))
			want := fmt.Sprintf("%s is out of range: want %d to %d", lit, int64(r.Lo), int64(r.Hi))
			if kc.key.Type == TNumber {
				want = fmt.Sprintf("%s is out of range: want %s to %s", fmtFloat(v), fmtFloat(r.Lo), fmtFloat(r.Hi))
			}
			if special, ok := rangeRefusal[kc.path]; ok && (v == 0 || kc.key.Type == TStringOrInteger) {
				want = special
			}
			found := false
			for _, m := range at(errs, kc.path) {
				found = found || strings.Contains(m, want)
			}
			if !found {
				t.Errorf("%s = %s is outside SpecTables' range %s to %s: got %q, want an error with %q", kc.path, lit, fmtFloat(r.Lo), fmtFloat(r.Hi), at(errs, kc.path), want)
			}
		}
	}
	if n < 20 {
		t.Errorf("%d keys with a range, want at least 20", n)
	}
}

// TestKeyItems proves MinItems and MaxItems: the bounds are taken, one item fewer or more is
// refused.
func TestKeyItems(t *testing.T) {
	items := func(kc keyCase, n int) string {
		var list []string
		for i := 0; i < n; i++ {
			if kc.key.Name == "roles" {
				list = append(list, []string{`"primary"`, `"pgpool"`}[i%2])
			} else {
				list = append(list, fmt.Sprintf(`"192.0.2.%d"`, 101+i))
			}
		}
		return "[" + strings.Join(list, ", ") + "]"
	}
	n := 0
	for _, kc := range keyCases(t) {
		if kc.key.MinItems == 0 && kc.key.MaxItems == 0 {
			continue
		}
		n++
		check := func(count int, want bool) {
			_, errs := loadKeys(t, kc.spec().set(kc.header, kc.key.Name, items(kc, count)))
			if got := len(at(errs, kc.path)) == 0; got != want {
				t.Errorf("%s with %d items: errors %q; SpecTables says %d to %d items", kc.path, count, at(errs, kc.path), kc.key.MinItems, kc.key.MaxItems)
			}
		}
		check(kc.key.MinItems, true)
		check(kc.key.MinItems-1, false)
		if kc.key.MaxItems > 0 {
			check(kc.key.MaxItems, true)
			check(kc.key.MaxItems+1, false)
		}
	}
	if n != 2 {
		t.Errorf("%d keys with bounds on their items, want 2 (roles, heartbeat_addresses)", n)
	}
}

// TestKeyRequired proves Required: a spec without the key is refused with "is missing", and a
// spec of the required keys alone loads (raw mode, where no host logs in elsewhere) but for
// two keys that are required in one case only.
func TestKeyRequired(t *testing.T) {
	for _, tb := range SpecTables {
		for _, k := range tb.Keys {
			if !k.Required {
				continue
			}
			header, path, want := tb.Name, tb.Name, fmt.Sprintf("%q is missing", k.Name)
			switch tb.Name {
			case "":
				path, want = k.Name, "is missing"
			case "host", "pcp_user", "pool_user", "hba":
				header = tb.Name + "[0]"
				path = header
			}
			s := newKeySpec(1)
			if tb.Name == "pool_user" {
				s.set(header, "name", `"app"`)
			}
			_, errs := loadKeys(t, s.remove(header, k.Name))
			found := false
			for _, m := range at(errs, path) {
				found = found || strings.HasPrefix(m, want)
			}
			if !found {
				t.Errorf("%s: a spec without it got %q at %s, want %q", tb.Path(k.Name), at(errs, path), path, want)
			}
		}
	}
	// The spec of the required keys: each table with a required key, each of its required
	// keys, the array tables once.
	s := &keySpec{}
	values := map[string]string{"cluster.name": `"main"`, "cluster.mode": `"raw"`, "cluster.pgpool_version": `"4.4"`,
		"cluster.postgresql_version": "15", "layout.preset": `"debian"`, "host[0].name": `"h0"`, "host[0].address": `"192.0.2.1"`,
		"host[0].roles": `["pgpool", "backend"]`, "pcp_user[0].name": `"pgpool"`, "hba[0].method": `"trust"`}
	for _, k := range SpecTables[0].Keys {
		if !k.Required {
			continue
		}
		header := k.Name
		if k.Type == TTables {
			header += "[0]"
		}
		for _, sub := range SpecTable(k.Name).Keys {
			if sub.Required {
				v, ok := values[header+"."+sub.Name]
				if !ok {
					t.Fatalf("no value for the required key %s", header+"."+sub.Name)
				}
				s.set(header, sub.Name, v)
			}
		}
	}
	s.set("pcp_user[0]", "md5", `"5ebe2294ecd0e0f08eab7690d2a6ee69"`) // one of four password sources
	s.set("hba[0]", "type", `"local"`)                                // else an address
	if _, errs := loadKeys(t, s); errs != nil {
		t.Errorf("the spec of the required keys does not load: something else is required\n%v\n%s", errs, s)
	}
}

// TestKeysRead: the loader reads every key of SpecTables (a key it does not read is reported
// as pgpoolgen's bug) and takes no other (get panics on a key tableKeys lacks).
func TestKeysRead(t *testing.T) {
	for _, kc := range keyCases(t) {
		v := `"x"`
		switch kc.key.Type {
		case TInteger, TNumber, TStringOrInteger:
			v = "1"
		case TBoolean:
			v = "true"
		case TStrings:
			v = `["x"]`
		}
		_, errs := loadKeys(t, kc.spec().set(kc.header, kc.key.Name, v))
		for _, m := range at(errs, kc.path) {
			if strings.Contains(m, "did not read this key") || strings.Contains(m, "unknown key") {
				t.Errorf("%s: %s", kc.path, m)
			}
		}
	}
	lay := SpecTable("layout")
	var paths []string
	for _, k := range lay.Keys[3:] {
		paths = append(paths, k.Name)
	}
	if got, want := strings.Join(paths, " "), strings.Join((&Layout{}).pathKeys(), " "); got != want {
		t.Errorf("SpecTables' layout paths are %s; the loader's are %s", got, want)
	}
}

// TestKeyOneOf proves OneOf: two of the keys are refused, one alone is taken, and none is
// refused only with OneOfRequired. An error about the one key's value (an unset variable, a
// missing file) is not about how many are given, and stands at that key.
func TestKeyOneOf(t *testing.T) {
	values := map[string]string{"password_env": `"PW"`, "password_file": `"pw.txt"`, "md5": `"5ebe2294ecd0e0f08eab7690d2a6ee69"`, "password": `"pw"`}
	n := 0
	for _, tb := range SpecTables {
		if tb.OneOf == nil {
			continue
		}
		n++
		header := tb.Name + "[0]"
		spec := func() *keySpec {
			s := newKeySpec(1)
			s.set(header, "name", `"app"`)
			for _, k := range tb.OneOf {
				s.remove(header, k)
			}
			return s
		}
		_, errs := loadKeys(t, spec())
		if got := len(at(errs, header)) > 0; got != tb.OneOfRequired {
			t.Errorf("%s with none of %v: errors %q; SpecTables says one is required: %v", header, tb.OneOf, at(errs, header), tb.OneOfRequired)
		}
		for i, k := range tb.OneOf {
			v, ok := values[k]
			if !ok {
				t.Fatalf("no value for %s", k)
			}
			_, errs := loadKeys(t, spec().set(header, k, v))
			if msgs := at(errs, header); len(msgs) > 0 {
				t.Errorf("%s with %s alone: %q", header, k, msgs)
			}
			other := tb.OneOf[(i+1)%len(tb.OneOf)]
			_, errs = loadKeys(t, spec().set(header, k, v).set(header, other, values[other]))
			found := false
			for _, e := range errs {
				found = found || strings.HasPrefix(e.Path, header+".") && strings.Contains(e.Msg, "takes one of")
			}
			if !found {
				t.Errorf("%s with %s and %s: got %v, want the error that it takes one of them", header, k, other, errs)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d tables with OneOf, want 2 (pcp_user, pool_user)", n)
	}
}

// TestKeyUnless proves Unless: the key is refused with its condition, and required without.
func TestKeyUnless(t *testing.T) {
	n := 0
	for _, kc := range keyCases(t) {
		c := kc.key.Unless
		if c == nil {
			continue
		}
		n++
		v := kc.spec() // the base spec gives the key, without the condition
		if _, errs := loadKeys(t, v); errs != nil {
			t.Fatalf("the base spec does not load: %v", errs)
		}
		_, errs := loadKeys(t, kc.spec().remove(kc.header, kc.key.Name))
		if len(at(errs, kc.header)) == 0 {
			t.Errorf("%s is missing without %s = %q: got %v, want an error at %s", kc.path, c.Key, c.Value, errs, kc.header)
		}
		with := kc.spec().set(kc.header, c.Key, strconv.Quote(c.Value))
		if _, errs := loadKeys(t, with); len(at(errs, kc.path)) == 0 {
			t.Errorf("%s with %s = %q: got %v, want it refused", kc.path, c.Key, c.Value, errs)
		}
		if _, errs := loadKeys(t, with.remove(kc.header, kc.key.Name)); errs != nil {
			t.Errorf("%s = %q without %s: %v", c.Key, c.Value, kc.key.Name, errs)
		}
	}
	if n != 1 {
		t.Errorf("%d keys with Unless, want 1 (hba.address)", n)
	}
}

// TestKeyNeeds proves Needs: the key is refused for the series before Since, and taken for
// Since itself.
func TestKeyNeeds(t *testing.T) {
	n := 0
	for _, kc := range keyCases(t) {
		if !kc.key.Needs {
			continue
		}
		n++
		since := Since(kc.table.Path(kc.key.Name))
		if since.IsZero() {
			t.Errorf("%s needs a series, but every series has what it sets", kc.path)
			continue
		}
		before := pgpool.Series[0]
		for _, v := range pgpool.Series {
			if v.Less(since) {
				before = v
			}
		}
		value := `"x"`
		switch {
		case kc.key.Enum != nil:
			value = strconv.Quote(kc.key.Enum[0])
		case kc.key.Type == TInteger:
			value = tomlValue(kc.key.Default)
		case kc.key.Type == TBoolean:
			value = "true"
		case kc.key.Type == TStrings:
			value = `["192.0.2.101"]`
		}
		for _, v := range []pgpool.Version{before, since} {
			s := kc.spec().set("cluster", "pgpool_version", strconv.Quote(v.String())).set(kc.header, kc.key.Name, value)
			_, errs := loadKeys(t, s)
			if refused := len(at(errs, kc.path)) > 0; refused != (v == before) {
				t.Errorf("%s = %s on pgpool-II %s: errors %q; SpecTables says it needs %s", kc.path, value, v, at(errs, kc.path), since)
			}
		}
	}
	if n < 10 {
		t.Errorf("%d keys that need a series, want at least 10", n)
	}
}
