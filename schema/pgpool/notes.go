package pgpool

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// notes holds the parameter table's notes column by name, read on first use: params.go keeps
// only what its own callers need of it.
var (
	notesOnce sync.Once
	notes     map[string]string
	unitRE    = regexp.MustCompile(`(?:^|; )unit (B|kB|MB|ms|s|min)\b`)
	indexRE   = regexp.MustCompile(`(?:^|; )index 0\.\.(\d+)`)
	md5RE     = regexp.MustCompile(`(\d+\.\d+)\+ rejects md5 format`)
)

func noteOf(name string) string {
	notesOnce.Do(func() {
		notes = map[string]string{}
		lines := strings.Split(strings.TrimRight(paramsTSV, "\n"), "\n")
		for _, line := range lines[1:] {
			f := strings.Split(line, "\t")
			notes[f[0]] = f[10]
		}
	})
	return notes[name]
}

// DefaultIn is the parameter's compiled default in series v, as the table writes it: a pair of single
// quotes for the empty string, (null) for unset.
func (p *Param) DefaultIn(v Version) string {
	return spanIn(notesSpans(noteOf(p.Name), "default:"), v, p.Default)
}

// Unit is the base unit of an integer parameter that takes one (s, ms, min, B, kB, MB), or "".
// From 4.2 such a value may carry a unit suffix (1min); before, it is a bare number of them.
func (p *Param) Unit() string {
	if m := unitRE.FindStringSubmatch(noteOf(p.Name)); m != nil {
		return m[1]
	}
	return ""
}

// MaxIndex is the highest index an indexed parameter takes (127 for backends, 255 for
// heartbeat interfaces), or -1 for a parameter without an index.
func (p *Param) MaxIndex() int {
	if !p.Indexed {
		return -1
	}
	if m := indexRE.FindStringSubmatch(noteOf(p.Name)); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return MaxBackends - 1
}

// MD5RejectedFrom is the first series that refuses a password parameter's value in pg_md5's
// md5 form (recovery_password and wd_lifecheck_password from 4.2), or zero.
func (p *Param) MD5RejectedFrom() Version {
	if m := md5RE.FindStringSubmatch(noteOf(p.Name)); m != nil {
		return MustVersion(m[1])
	}
	return Version{}
}
