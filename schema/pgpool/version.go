// Package pgpool holds what pgpoolgen knows about pgpool-II itself: its release series, the
// pgpool.conf parameters each series accepts, how each series' sample pgpool.conf groups them,
// and the pool_hba.conf methods it knows. The facts come from pgpool-II's own source; the
// tables are embedded so that the binary needs nothing beside it.
package pgpool

import (
	"fmt"
	"strconv"
	"strings"
)

// A Version is a pgpool-II release series, such as 4.3. Minor releases (4.3.5) do not change
// the configuration format, so pgpoolgen targets series.
type Version struct{ Major, Minor int }

// Series lists every pgpool-II series pgpoolgen can target, oldest first.
var Series = []Version{V31, V32, V33, V34, V35, V36, V37, V40, V41, V42, V43, V44, V45, V46, V47}

// ParseVersion reads "major.minor". It accepts any well-formed pair; Known says whether
// pgpoolgen can target it.
func ParseVersion(s string) (Version, error) {
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return Version{}, fmt.Errorf("%q is not of the form major.minor", s)
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 || strings.ContainsAny(s, "+- ") {
		return Version{}, fmt.Errorf("%q is not of the form major.minor", s)
	}
	return Version{a, b}, nil
}

// MustVersion is ParseVersion for constants.
func MustVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// IsZero reports whether v is unset (used for "still accepted" in the parameter table).
func (v Version) IsZero() bool { return v == Version{} }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	return v.Minor < w.Minor
}

// AtLeast reports whether v is w or newer.
func (v Version) AtLeast(w Version) bool { return !v.Less(w) }

// Known reports whether v is one of Series.
func (v Version) Known() bool {
	for _, s := range Series {
		if s == v {
			return true
		}
	}
	return false
}

// SeriesList is Series as "3.1, 3.2, …, 4.7", for error messages.
func SeriesList() string {
	var b strings.Builder
	for i, s := range Series {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// MaxBackends is MAX_NUM_BACKENDS, the same in every series: backend ids are 0..127.
const MaxBackends = 128
