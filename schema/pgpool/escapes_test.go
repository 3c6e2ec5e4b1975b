package pgpool

import (
	"strings"
	"testing"
)

// TestEscapesIn pins the escapes each series passes (pgpool-facts.md §3): %r %R from 3.2,
// %N %S from 4.1, and the follow command's first ten.
func TestEscapesIn(t *testing.T) {
	for _, tc := range []struct {
		series           string
		failover, follow string
	}{
		{"3.1", "%d %h %p %D %m %H %M %P", "%d %h %p %D %m %H %M %P"},
		{"3.2", "%d %h %p %D %m %H %M %P %r %R", "%d %h %p %D %m %H %M %P %r %R"},
		{"4.0", "%d %h %p %D %m %H %M %P %r %R", "%d %h %p %D %m %H %M %P %r %R"},
		{"4.1", "%d %h %p %D %m %H %M %P %r %R %N %S", "%d %h %p %D %m %H %M %P %r %R"},
		{"4.7", "%d %h %p %D %m %H %M %P %r %R %N %S", "%d %h %p %D %m %H %M %P %r %R"},
	} {
		v := MustVersion(tc.series)
		if got := strings.Join(EscapesIn(v, -1), " "); got != tc.failover {
			t.Errorf("%s failover: %q, want %q", tc.series, got, tc.failover)
		}
		if got := strings.Join(EscapesIn(v, FollowEscapes), " "); got != tc.follow {
			t.Errorf("%s follow: %q, want %q", tc.series, got, tc.follow)
		}
	}
}
