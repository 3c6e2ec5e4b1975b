package pgpool

import (
	"fmt"
	"strconv"
	"strings"
)

// A Release is one pgpool-II minor release, such as 4.3.5.
type Release struct {
	Version     // its series
	Patch   int // 5 in 4.3.5
}

// MaxPatch bounds a release's patch number: the longest series of
// ../shared/pgpool-builds/README.md ended at 3.5.28 and 3.6.28.
const MaxPatch = 99

// ParseRelease reads "major.minor.patch", written as pgpool-II writes it: digits without
// leading zeros, the patch at most MaxPatch.
func ParseRelease(s string) (Release, error) {
	bad := fmt.Errorf("%q is not a release of the form major.minor.patch, such as 4.3.5", s)
	i := strings.LastIndexByte(s, '.')
	if i < 0 || strings.Count(s, ".") != 2 || len(s) > 16 {
		return Release{}, bad
	}
	v, err := ParseVersion(s[:i])
	p, err2 := strconv.Atoi(s[i+1:])
	if err != nil || err2 != nil || p < 0 || strings.ContainsAny(s[i+1:], "+- ") {
		return Release{}, bad
	}
	if p > MaxPatch {
		return Release{}, fmt.Errorf("%q: no pgpool-II series has a patch release above %d", s, MaxPatch)
	}
	r := Release{v, p}
	if r.String() != s {
		return Release{}, fmt.Errorf("%q has a leading zero; pgpool-II writes it %q", s, r.String())
	}
	return r, nil
}

func (r Release) String() string { return fmt.Sprintf("%d.%d.%d", r.Major, r.Minor, r.Patch) }

// Less reports whether r is older than s.
func (r Release) Less(s Release) bool {
	if r.Version != s.Version {
		return r.Version.Less(s.Version)
	}
	return r.Patch < s.Patch
}

// backports lists the parameters that a minor release added to (or, with last, took from) a
// series after its .0 release: the parameter table's first and last columns are series and
// say nothing of them. One row per name and series; a series without a row has the name in
// every release the table says it has it. The releases are the first (or last) tags of
// pgpool-II's repository whose config parser knows the name (src/config/pool_config.l up to
// 3.5, src/config/pool_config_variables.c from 3.6), checked against the real builds (see
// ../shared/pgpool-builds/README.md: Debian 12's 4.3.5 answers `config variable
// "notice_per_node_statement" not found`).
var backports = []struct {
	name        string
	first, last string // first release that reads the name, last one that does ("" for none)
}{
	{"pcp_socket_dir", "3.5.4", ""},
	{"ssl_ciphers", "3.4.23", ""},
	{"ssl_ciphers", "3.5.20", ""},
	{"ssl_ciphers", "3.6.16", ""},
	{"ssl_ciphers", "3.7.9", ""},
	{"ssl_ciphers", "4.0.4", ""},
	{"ssl_prefer_server_ciphers", "3.4.23", ""},
	{"ssl_prefer_server_ciphers", "3.5.20", ""},
	{"ssl_prefer_server_ciphers", "3.6.16", ""},
	{"ssl_prefer_server_ciphers", "3.7.9", ""},
	{"ssl_prefer_server_ciphers", "4.0.4", ""},
	{"health_check_test", "3.7.23", ""},
	{"health_check_test", "4.0.18", ""},
	{"health_check_test", "4.1.11", ""},
	{"health_check_test", "4.2.8", ""},
	{"health_check_test", "4.3.1", ""},
	{"notice_per_node_statement", "4.1.22", ""},
	{"notice_per_node_statement", "4.2.19", ""},
	{"notice_per_node_statement", "4.3.12", ""},
	{"notice_per_node_statement", "4.4.9", ""},
	{"wd_no_show_node_removal_timeout", "4.3.1", ""},
	{"wd_listen_address", "4.7.1", ""},
	{"wd_listen_port", "4.7.1", ""},
	{"wd_heartbeat_listen_addresses", "4.7.1", ""},
	{"wd_heartbeat_listen_port", "4.7.1", ""},
	// 3.4.23 overwrote its key block with a second ssl_ca_cert block (commit 3f8d1f0e6): the
	// table's gap for 3.4 is the tip's, and 3.4.0-3.4.22 still read the name.
	{"ssl_ca_cert_dir", "3.4.0", "3.4.22"},
}

// A ReleaseError says that a minor release does not read a name its series' tip reads: the
// name came in a later release of the series.
type ReleaseError struct {
	Release Release // the release asked about
	Added   Release // the first release of its series that reads the name
}

// Error completes a sentence that begins with the name.
func (e *ReleaseError) Error() string {
	return fmt.Sprintf("pgpool-II %s does not read it: it was added in %s", e.Release, e.Added)
}

// ReleaseCheck says whether release r reads the parameter name, as far as the minor releases
// of r's series differ from the series' tip; the series itself is Check's business. The
// error, a *ReleaseError, completes a sentence that begins with the name. A row with a last
// release needs no check here: the tip lacks the name, so Check refuses it outside the
// releases ReleaseReads admits.
func ReleaseCheck(name string, r Release) error {
	p := Lookup(name)
	if p == nil {
		return nil
	}
	for _, b := range backports {
		if b.name != p.Name || b.last != "" {
			continue
		}
		if first := mustRelease(b.first); first.Version == r.Version && r.Less(first) {
			return &ReleaseError{Release: r, Added: first}
		}
	}
	return nil
}

// ReleaseReads reports whether release r reads the name even though its series' tip does not
// (ssl_ca_cert_dir in 3.4.0-3.4.22).
func ReleaseReads(name string, r Release) bool {
	for _, b := range backports {
		if b.name == name && b.last != "" {
			first, last := mustRelease(b.first), mustRelease(b.last)
			if first.Version == r.Version && !r.Less(first) && !last.Less(r) {
				return true
			}
		}
	}
	return false
}

func mustRelease(s string) Release {
	r, err := ParseRelease(s)
	if err != nil {
		panic(err)
	}
	return r
}

// alarmRestarts are, for each series that has one, the first release whose health check
// waits without bound on a frozen server: one that accepts the connection (its kernel
// completes the handshake) and never answers, as a stopped or hung PostgreSQL does. pgpool-II's
// commit "Fix pool_signal" (abcff550b on master, January 2025, in 4.6.0; backported as
// d3adcacc5, 50fd155bb, 5ba5d2c65 and 15c0a5b16) gives every signal handler SA_RESTART,
// SIGALRM's too, which pool_signal had left without it. health_check_timeout's alarm then only
// sets health_check_timer_expired: connect_with_timeout's select() still fails with EINTR and
// sees it (select is never restarted), but the kernel restarts the read() of the server's
// answers (pool_read, src/utils/pool_stream.c, which tests the flag only on EINTR), so a try
// that got past connect() waits until the server answers or the connection breaks. The 4.0
// and 4.1 branches never got the change. Seen on the builds of ../shared/pgpool-builds
// (4.2.24, 4.3.20, 4.4.17, 4.5.12, 4.6.7, 4.7.2: no failure in 30 s) against Debian's 4.3.5
// and the 4.1.23 build (the check fails after 1 + 2·4 s); the releases are the first tags
// that hold the commit.
var alarmRestarts = []Release{{V42, 21}, {V43, 14}, {V44, 11}, {V45, 6}, {V46, 0}, {V47, 0}}

// FrozenServerUnbounded returns the first release of series v whose health check waits
// without bound on a frozen server (alarmRestarts), and false when no release of v does.
func FrozenServerUnbounded(v Version) (Release, bool) {
	for _, r := range alarmRestarts {
		if r.Version == v {
			return r, true
		}
	}
	return Release{}, false
}
