package pgpool

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// params.tsv is a copy of the team's reference table (shared/reference/pgpool-params.tsv):
// one row per parameter name form accepted by any series from 3.1 to 4.7.
//
//go:embed params.tsv
var paramsTSV string

// A Param is one accepted name form of a pgpool.conf parameter.
type Param struct {
	Name    string // "port", or "backend_portN" for an indexed parameter
	Type    string // bool, int, double, string, list, enum; indexed ones have Indexed set
	Indexed bool   // the name takes a numeric suffix: backend_port0, backend_port1, …
	Default string
	First   Version // first series that accepts the name
	Last    Version // last series that accepts it; zero while it is still accepted
	Values  string  // "min..max" or "a|b|c"
	// RenamedTo and RenamedIn say what the name became and from which series, if it was renamed.
	RenamedTo string
	RenamedIn Version
	// renamedFrom is the table's renamed_from cell, read by Spelling (spelling.go).
	renamedFrom string
	// Sep separates the items of a list parameter: ',' for most, ';' for query lists.
	Sep string
	// Group is the section of the sample pgpool.conf it is in ("WATCHDOG").
	Group string
	// types and values hold what the notes column says changed between series: the
	// parameter's type, or its allowed values. Type and Values are the newest.
	types, values []span
	// Gaps lists series inside First..Last that do not accept the name after all, with the
	// table's note saying why (ssl_ca_cert_dir is lost in 3.4's later releases).
	Gaps map[Version]string
}

// A span is a value that holds for the series from..to.
type span struct {
	from, to Version
	val      string
}

func spanIn(spans []span, v Version, dflt string) string {
	for _, s := range spans {
		if v.AtLeast(s.from) && s.to.AtLeast(v) {
			return s.val
		}
	}
	return dflt
}

// TypeIn is the parameter's type in series v.
func (p *Param) TypeIn(v Version) string { return spanIn(p.types, v, p.Type) }

// ValuesIn is what the parameter accepts in series v: "min..max", "a|b|c", or "".
func (p *Param) ValuesIn(v Version) string { return spanIn(p.values, v, p.Values) }

// In reports whether series v accepts the name.
func (p *Param) In(v Version) bool {
	if _, gap := p.Gaps[v]; gap {
		return false
	}
	return v.AtLeast(p.First) && (p.Last.IsZero() || p.Last.AtLeast(v))
}

// Range describes the series that accept the name, such as "3.1 to 4.1" or "4.2 and later".
func (p *Param) Range() string {
	if p.Last.IsZero() {
		return p.First.String() + " and later"
	}
	if p.First == p.Last {
		return p.First.String() + " only"
	}
	return p.First.String() + " to " + p.Last.String()
}

var (
	params     []*Param
	paramIndex = map[string]*Param{}
	// renameRE takes the new name and its series out of a renamed_to cell such as
	// "follow_primary_command (4.2)" or "backend_clustering_mode = native_replication (4.2)".
	renameRE = regexp.MustCompile(`^([a-zA-Z_]+)[^(]*(?:\((\d+\.\d+)\))?`)
	// spanRE reads one "X in 3.2-4.0" or "X in 4.1" of the notes column.
	spanRE = regexp.MustCompile(`^(.+) in (\d+\.\d+)(?:-(\d+\.\d+))?$`)
	sepRE  = regexp.MustCompile(`list separator '(.)'`)
	// gapRE finds "not accepted in 3.4; why" in the notes column.
	gapRE = regexp.MustCompile(`not accepted in (\d+\.\d+); ([^;]*)`)
)

func init() {
	lines := strings.Split(strings.TrimRight(paramsTSV, "\n"), "\n")
	for _, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) < 12 {
			panic("params.tsv: short row: " + line)
		}
		p := &Param{Name: f[0], Type: f[1], Default: f[2], First: MustVersion(f[3]), Values: f[6], renamedFrom: f[7], Group: f[9]}
		if f[4] != "" {
			p.Last = MustVersion(f[4])
		}
		if t, ok := strings.CutPrefix(p.Type, "indexed-"); ok {
			p.Type, p.Indexed = t, true
		}
		if m := renameRE.FindStringSubmatch(f[8]); f[8] != "" && m != nil {
			p.RenamedTo = m[1]
			if m[2] != "" {
				p.RenamedIn = MustVersion(m[2])
			}
		}
		p.types, p.values = notesSpans(f[10], "type:"), notesSpans(f[10], "values:")
		p.Sep = ","
		if m := sepRE.FindStringSubmatch(f[10]); m != nil {
			p.Sep = m[1]
		}
		for _, m := range gapRE.FindAllStringSubmatch(f[10], -1) {
			if p.Gaps == nil {
				p.Gaps = map[Version]string{}
			}
			p.Gaps[MustVersion(m[1])] = m[2]
		}
		params = append(params, p)
		paramIndex[p.Name] = p
	}
	loadLayout()
}

// notesSpans reads the notes column's "label X in a-b; Y in c-d" runs, such as
// "type: bool in 3.2-4.0; enum in 4.1-4.7".
func notesSpans(notes, label string) []span {
	var out []span
	in := false
	for _, seg := range strings.Split(notes, "; ") {
		if rest, ok := strings.CutPrefix(seg, label+" "); ok {
			in, seg = true, rest
		}
		if !in {
			continue
		}
		m := spanRE.FindStringSubmatch(seg)
		if m == nil {
			in = false
			continue
		}
		to := m[3]
		if to == "" {
			to = m[2]
		}
		out = append(out, span{MustVersion(m[2]), MustVersion(to), m[1]})
	}
	return out
}

// Lookup finds the parameter record a pgpool.conf name refers to, whatever the series:
// "backend_port3" and "backend_portN" find backend_portN. It returns nil for a name no series
// knows.
func Lookup(name string) *Param {
	if p := paramIndex[name]; p != nil {
		return p
	}
	base := strings.TrimRight(name, "0123456789")
	if base != name {
		if p := paramIndex[base+"N"]; p != nil && p.Indexed {
			return p
		}
	}
	return nil
}

// Names lists every name form series v accepts (indexed ones ending in N), sorted.
func Names(v Version) []string { return append([]string(nil), names(v)...) }

// nameLists holds Names for each series asked about: Check needs it for every unknown
// parameter, and a spec may have thousands.
var nameLists sync.Map // Version → []string

func names(v Version) []string {
	if out, ok := nameLists.Load(v); ok {
		return out.([]string)
	}
	var out []string
	for _, p := range params {
		if p.In(v) {
			out = append(out, p.Name)
		}
	}
	sort.Strings(out)
	nameLists.Store(v, out)
	return out
}

// Check says whether series v accepts the parameter name, and if not, what to write instead.
// The message completes a sentence that begins with the name's key path.
func Check(name string, v Version) (*Param, error) {
	p := Lookup(name)
	if p == nil {
		msg := fmt.Sprintf("pgpool-II %s has no parameter %q", v, name)
		if s := Closest(name, names(v)); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return nil, fmt.Errorf("%s", msg)
	}
	if p.Indexed && strings.HasSuffix(name, "N") {
		return nil, fmt.Errorf("%q is an indexed parameter: write it with a backend or node number, such as %s0", name, strings.TrimSuffix(name, "N"))
	}
	if p.In(v) {
		return p, nil
	}
	if why, gap := p.Gaps[v]; gap {
		return nil, fmt.Errorf("%q is not accepted by pgpool-II %s: %s", name, v, why)
	}
	if v.Less(p.First) {
		msg := fmt.Sprintf("%q is not a parameter of pgpool-II %s: it exists in %s", name, v, p.Range())
		if old := predecessor(p, v); old != "" {
			msg += fmt.Sprintf("; in %s write %q", v, old)
		}
		return nil, fmt.Errorf("%s", msg)
	}
	msg := fmt.Sprintf("%q is not a parameter of pgpool-II %s: it exists in %s", name, v, p.Range())
	if p.RenamedTo != "" {
		msg += fmt.Sprintf("; it was renamed %q in %s", p.RenamedTo, p.RenamedIn)
	} else {
		msg += " and was removed without a successor"
	}
	return nil, fmt.Errorf("%s", msg)
}

// predecessor names the parameter that p was renamed from, if series v accepts that name.
func predecessor(p *Param, v Version) string {
	for _, q := range params {
		if q.RenamedTo == p.Name && q.In(v) {
			return q.Name
		}
	}
	return ""
}

// Closest returns the candidate nearest to s by edit distance, if it is near enough to be what
// the user meant; candidates are tried in order, so pass them sorted.
func Closest(s string, candidates []string) string {
	// Two edits for short names, more for long ones: num_init_childs is three from
	// num_init_children.
	best, bestD := "", 3+len(s)/12
	s = strings.ToLower(s)
	var rows []int
	for _, c := range candidates {
		// The distance is at least the difference in length (candidates are ASCII names, the
		// same length in lower case): most candidates need no more.
		if abs(len(c)-len(s)) >= bestD {
			continue
		}
		if d := distance(s, strings.ToLower(c), bestD, &rows); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func abs(n int) int { return max(n, -n) }

// distance is the Levenshtein distance between a and b, or bound when it is bound or more.
// rows is scratch space, kept between calls.
func distance(a, b string, bound int, rows *[]int) int {
	if cap(*rows) < 2*(len(b)+1) {
		*rows = make([]int, 2*(len(b)+1))
	}
	prev, cur := (*rows)[:len(b)+1], (*rows)[len(b)+1:2*(len(b)+1)]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		low := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			low = min(low, cur[j])
		}
		if low >= bound {
			return bound // every row after this one is at least as far
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], bound)
}

// IntRange reads the range of an integer parameter in series v ("min..max"). A range written
// with leading zeros (0000..0777) is octal, as pgpool-II's source writes a file mode.
func (p *Param) IntRange(v Version) (lo, hi int64, octal, ok bool) {
	a, b, found := strings.Cut(p.ValuesIn(v), "..")
	if !found {
		return 0, 0, false, false
	}
	base := 10
	if len(a) > 1 && strings.HasPrefix(a, "0") {
		base, octal = 8, true
	}
	lo, err1 := strconv.ParseInt(a, base, 64)
	hi, err2 := strconv.ParseInt(b, base, 64)
	return lo, hi, octal, err1 == nil && err2 == nil
}

// FloatRange reads the range of a double parameter in series v ("min..max").
func (p *Param) FloatRange(v Version) (lo, hi float64, ok bool) {
	a, b, found := strings.Cut(p.ValuesIn(v), "..")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseFloat(a, 64)
	hi, err2 := strconv.ParseFloat(b, 64)
	return lo, hi, err1 == nil && err2 == nil
}
