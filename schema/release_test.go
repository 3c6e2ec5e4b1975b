package schema

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"pgpoolgen/schema/pgpool"
)

// releaseSpec is baseSpec for series v, naming release rel (none when ""), with extra added
// at the end (a [parameters] table, say).
func releaseSpec(v, rel, extra string) string {
	cluster := `pgpool_version = "` + v + `"`
	if rel != "" {
		cluster += "\npgpool_release = \"" + rel + `"`
	}
	return strings.Replace(baseSpec, `pgpool_version = "4.4"`, cluster, 1) + extra
}

// cluster.pgpool_release applies lint --release's rule to [parameters]: a name that came in a
// later minor release than the one named is refused where it is written, with the release
// that adds it. Without the key the branch tip's names are taken, as before.
func TestPgpoolReleaseParameters(t *testing.T) {
	for _, tc := range []struct {
		v, rel, params, want string
	}{
		{"4.3", "4.3.5", "notice_per_node_statement = true\n",
			"errors/r.toml:41:1: parameters.notice_per_node_statement: notice_per_node_statement came in 4.3.12; pgpool-II 4.3.5 skips it without a word: remove it or raise cluster.pgpool_release to 4.3.12 or later"},
		{"4.3", "4.3.12", "notice_per_node_statement = true\n", ""},
		{"4.3", "", "notice_per_node_statement = true\n", ""},
		{"4.4", "4.4.8", "notice_per_node_statement = true\n", "came in 4.4.9"},
		{"4.5", "4.5.0", "notice_per_node_statement = true\n", ""}, // in 4.5.0 already
		{"4.3", "4.3.0", "health_check_test = false\n", "health_check_test came in 4.3.1"},
		{"4.0", "4.0.3", "ssl_ciphers = \"HIGH\"\n", "ssl_ciphers came in 4.0.4"},
		// The names the release reads stay accepted; only the one it lacks is reported.
		{"4.3", "4.3.5", "notice_per_node_statement = true\nlog_statement = true\n", "parameters.notice_per_node_statement:"},
		// ssl_ca_cert_dir: 3.4's tip lost it, 3.4.0-3.4.22 read it.
		{"3.4", "3.4.22", "ssl_ca_cert_dir = \"/etc/ssl\"\n", ""},
		{"3.4", "3.4.23", "ssl_ca_cert_dir = \"/etc/ssl\"\n", "is not accepted by pgpool-II 3.4"},
		{"3.4", "", "ssl_ca_cert_dir = \"/etc/ssl\"\n", "is not accepted by pgpool-II 3.4"},
	} {
		pg := "15"
		if tc.v < "4.0" {
			pg = "9.6"
		}
		src := strings.Replace(releaseSpec(tc.v, tc.rel, "\n[parameters]\n"+tc.params), `postgresql_version = "15"`, `postgresql_version = "`+pg+`"`, 1)
		got := load(t, "r.toml", src)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) || strings.Count(got, "\n") > 0 {
			t.Errorf("%s, release %q, %q: got %q, want one error containing %q", tc.v, tc.rel, tc.params, got, tc.want)
		}
	}
}

// A parameter pgpoolgen itself writes is held to the same rule: pcp_socket_dir came in
// 3.5.4, and pgpoolgen always writes it. The error stands at the spec key that sets it when the
// spec writes that key, else at pgpool_release.
func TestPgpoolReleaseBindings(t *testing.T) {
	spec := func(rel, layout string) string {
		s := strings.Replace(releaseSpec("3.5", rel, ""), `postgresql_version = "15"`, `postgresql_version = "9.6"`, 1)
		return strings.Replace(s, `preset = "debian"`, `preset = "debian"`+layout, 1)
	}
	got := load(t, "r.toml", spec("3.5.3", ""))
	want := "errors/r.toml:5:1: cluster.pgpool_release: pgpoolgen writes pcp_socket_dir (from layout.pcp_socket_dir), which came in 3.5.4; pgpool-II 3.5.3 would skip it without a word: raise cluster.pgpool_release to 3.5.4 or later"
	if !strings.HasSuffix(got, want) || strings.Contains(got, "\n") {
		t.Errorf("3.5.3: got %q, want %q", got, want)
	}
	got = load(t, "r.toml", spec("3.5.3", "\npcp_socket_dir = \"/run/pcp\""))
	if !strings.Contains(got, "r.toml:10:1: layout.pcp_socket_dir: pgpoolgen writes pcp_socket_dir") {
		t.Errorf("3.5.3 with layout.pcp_socket_dir: got %q, want the error at that key", got)
	}
	for _, rel := range []string{"3.5.4", "3.5.28", ""} {
		if got := load(t, "r.toml", spec(rel, "")); got != "" {
			t.Errorf("release %q: got %q, want no error", rel, got)
		}
	}
}

// The key refuses what is not a release of the series, bounded, with what to write.
func TestPgpoolReleaseRefused(t *testing.T) {
	for rel, want := range map[string]string{
		"4.3":                            `"4.3" is not a release of the form major.minor.patch, such as 4.3.5`,
		"4.2.5":                          `4.2.5 is a release of pgpool-II 4.2, not of pgpool_version 4.3; write a 4.3 release (such as "4.3.5") or change pgpool_version`,
		"4.3.05":                         `"4.3.05" has a leading zero; pgpool-II writes it "4.3.5"`,
		"04.3.5":                         `has a leading zero; pgpool-II writes it "4.3.5"`,
		"4.3.100":                        `no pgpool-II series has a patch release above 99`,
		"4.3.5 ":                         `is not a release of the form`,
		"4.3.5-1":                        `is not a release of the form`,
		"4.3." + strings.Repeat("9", 40): `is not a release of the form`,
	} {
		got := load(t, "r.toml", releaseSpec("4.3", rel, ""))
		if !strings.Contains(got, "cluster.pgpool_release: ") || !strings.Contains(got, want) || strings.Contains(got, "\n") {
			t.Errorf("%q: got %q, want one error with %q", rel, got, want)
		}
	}
	if got := load(t, "r.toml", strings.Replace(releaseSpec("4.3", "", ""), `pgpool_version = "4.3"`, "pgpool_version = \"4.3\"\npgpool_release = 4.3", 1)); !strings.Contains(got, `cluster.pgpool_release: is a float; want a release in quotes, such as "4.3.5"`) {
		t.Errorf("float: got %q", got)
	}
	// A bad pgpool_version is reported once, not again through the release.
	if got := load(t, "r.toml", releaseSpec("4.9", "4.3.5", "")); strings.Count(got, "\n") != 0 || !strings.Contains(got, "cluster.pgpool_version") {
		t.Errorf("unknown series: got %q, want the one pgpool_version error", got)
	}
}

// Naming a release the bundle accepts changes nothing in what pgpool.conf sets.
func TestPgpoolReleaseSameBundle(t *testing.T) {
	params := "\n[parameters]\nnotice_per_node_statement = true\nnum_init_children = 8\n"
	without := mustLoad(t, "r.toml", releaseSpec("4.3", "", params))
	with := mustLoad(t, "r.toml", releaseSpec("4.3", "4.3.20", params))
	if !reflect.DeepEqual(without.Settings(nil), with.Settings(nil)) {
		t.Errorf("pgpool_release changed the settings:\n%v\n%v", without.Settings(nil), with.Settings(nil))
	}
}

// TestFrozenServerWarning: a target whose health check cannot fail a frozen server over
// (pgpool-II's SA_RESTART on SIGALRM, from 4.2.21, 4.3.14, 4.4.11, 4.5.6 and 4.6.0) gets one
// warning saying so, at health_check.timeout where the spec sets it, else at the release or
// the series it names; earlier releases and series get none, and the build goes on.
func TestFrozenServerWarning(t *testing.T) {
	const what = "does not fail over a frozen server (stopped or hung while its kernel still accepts connections): health_check_timeout's alarm no longer ends a try that got past connect() (SIGALRM has SA_RESTART, pool_signal.c), and no setting bounds the wait; a killed server or a vanished host still fails over. Fence a frozen server from outside (kill it, or pcp_detach_node its node)"
	for _, tc := range []struct {
		v, rel, extra, want string
	}{
		{"4.7", "", "", "r.toml:4:1: warning: cluster.pgpool_version: pgpool-II 4.7 " + what},
		{"4.7", "4.7.2", "", "r.toml:5:1: warning: cluster.pgpool_release: pgpool-II 4.7.2 " + what},
		{"4.6", "4.6.0", "", "r.toml:5:1: warning: cluster.pgpool_release: pgpool-II 4.6.0 " + what},
		{"4.3", "", "", "r.toml:4:1: warning: cluster.pgpool_version: pgpool-II 4.3 from 4.3.14, which pgpoolgen assumes without cluster.pgpool_release, " + what + "; if the hosts run an earlier 4.3 release, name it in cluster.pgpool_release"},
		{"4.3", "4.3.20", "", "r.toml:5:1: warning: cluster.pgpool_release: pgpool-II 4.3.20 (like every 4.3 release from 4.3.14) " + what + ", or run a release before 4.3.14"},
		{"4.3", "4.3.14", "", "pgpool-II 4.3.14 (like every 4.3 release from 4.3.14)"},
		{"4.3", "4.3.13", "", ""},
		{"4.3", "4.3.5", "", ""}, // Debian 12's: its check failed a frozen server after 1 + 2·4 s
		{"4.2", "4.2.20", "", ""},
		{"4.2", "4.2.21", "", "pgpool-II 4.2.21 (like every 4.2 release from 4.2.21)"},
		{"4.4", "4.4.10", "", ""},
		{"4.4", "4.4.11", "", "pgpool-II 4.4.11 (like"},
		{"4.5", "4.5.5", "", ""},
		{"4.5", "", "", "pgpool-II 4.5 from 4.5.6, which"},
		{"4.1", "", "", ""},
		{"4.0", "", "", ""},
		// The key that does not hold is the place to warn, when the spec writes it.
		{"4.7", "4.7.2", "\n[health_check]\ntimeout = 2\n", "r.toml:41:1: warning: health_check.timeout: pgpool-II 4.7.2 " + what},
	} {
		src := releaseSpec(tc.v, tc.rel, tc.extra)
		c, err := Load(filepath.Join("..", "golden", "errors", "r.toml"), []byte(src), testEnv)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.v, tc.rel, err)
		}
		var got []string
		for _, w := range c.Warnings {
			got = append(got, w.Warning())
		}
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s, release %q: warned %q, want nothing", tc.v, tc.rel, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
			t.Errorf("%s, release %q: warnings %q, want one with\n%q", tc.v, tc.rel, got, tc.want)
		case tc.want != "" && strings.Contains(tc.want, what) && !strings.HasSuffix(got[0], tc.want):
			t.Errorf("%s, release %q: warning %q, want it to end with\n%q", tc.v, tc.rel, got[0], tc.want)
		}
	}
}

// Every series from 4.2 on has a first release in the frozen-server table: a series added to
// pgpool.Series without a row would silently get no warning, though every later branch has
// the change.
func TestFrozenServerTableCoversSeries(t *testing.T) {
	for _, v := range pgpool.Series {
		first, ok := pgpool.FrozenServerUnbounded(v)
		switch {
		case v.Less(pgpool.V42) && ok:
			t.Errorf("%s: first affected release %s, but the 4.0 and 4.1 branches never got the change", v, first)
		case !v.Less(pgpool.V42) && !ok:
			t.Errorf("%s: no first affected release", v)
		case ok && (first.Version != v || v.AtLeast(pgpool.V46) && first.Patch != 0):
			t.Errorf("%s: first affected release %s, want a %s release (.0 from 4.6, which branched after the change)", v, first, v)
		}
	}
}
