package schema

import (
	"path/filepath"
	"strings"
	"testing"
)

// wdKeys are distinct public keys of golden/errors/keys, for the pgpool hosts.
var wdKeys = []string{"pgpool", "node0", "node1", "node2"}

// wdSpec is a streaming cluster of n pgpool hosts in front of a primary, for series v, with
// extra lines in [watchdog].
func wdSpec(v string, n int, watchdog string) string {
	var b strings.Builder
	b.WriteString("[cluster]\nname = \"wd\"\nmode = \"streaming_replication\"\npgpool_version = \"" + v + "\"\npostgresql_version = \"15\"\n\n[layout]\npreset = \"debian\"\n")
	b.WriteString("\n[watchdog]\n" + watchdog + "\n")
	for i := 1; i <= n; i++ {
		b.WriteString("\n[[host]]\nname = \"pgpool" + string(rune('0'+i)) + "\"\naddress = \"192.0.2." + string(rune('0'+i)) + "\"\nroles = [\"pgpool\"]\nssh_key_file = \"keys/" + wdKeys[i-1] + ".pub\"\n")
	}
	b.WriteString("\n[[host]]\nname = \"pg1\"\naddress = \"192.0.2.11\"\nroles = [\"primary\"]\n")
	b.WriteString("\n[[pcp_user]]\nname = \"pgpool\"\nmd5 = \"5ebe2294ecd0e0f08eab7690d2a6ee69\"\n\n[[hba]]\naddress = \"192.0.2.0/24\"\nmethod = \"md5\"\n")
	return b.String()
}

// TestWatchdogEvenWarning: the quorum each series really has (e2e/versions saw a lone node of
// two or three on each build) is a warning, once, where it may surprise: no quorum before 3.5,
// exactly half a quorum in 3.5-4.0, exactly half no quorum from 4.1 without half votes.
func TestWatchdogEvenWarning(t *testing.T) {
	for _, tc := range []struct {
		v        string
		n        int
		watchdog string
		want     string
	}{
		{"4.3", 2, "", "2 pgpool hosts: the watchdog has a quorum only while more than half of them, 2, see each other, so losing 1 stops failover and the virtual IP; add a pgpool host, or set watchdog.half_votes = true"},
		{"4.3", 4, "", "4 pgpool hosts: the watchdog has a quorum only while more than half of them, 3, see each other, so losing 2"},
		{"4.0", 2, "", "2 pgpool hosts: pgpool-II 4.0 counts exactly half of them, 1, as a quorum, so two halves cut apart may both fail over"},
		{"3.5", 4, "", "pgpool-II 3.5 counts exactly half of them, 2, as a quorum"},
		{"3.4", 3, "", "pgpool-II 3.4's watchdog has no quorum (3.5 brought one): a pgpool host cut off from the others takes the virtual IP too"},
		{"4.3", 2, "half_votes = true", ""},
		{"4.3", 3, "", ""},
		{"4.0", 3, "", ""},
	} {
		c, err := Load(filepath.Join("..", "golden", "errors", "wd.toml"), []byte(wdSpec(tc.v, tc.n, tc.watchdog)), testEnv)
		if err != nil {
			t.Fatalf("%s, %d pgpool hosts: %v", tc.v, tc.n, err)
		}
		var got []string
		for _, w := range c.Warnings {
			if strings.HasPrefix(w.Path, "watchdog") { // not the series' other warnings
				got = append(got, w.Warning())
			}
		}
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s, %d pgpool hosts, %q: warned %q", tc.v, tc.n, tc.watchdog, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want) || !strings.Contains(got[0], "wd.toml:") || !strings.Contains(got[0], ": warning: ")):
			t.Errorf("%s, %d pgpool hosts: warnings %q, want one with %q", tc.v, tc.n, got, tc.want)
		}
		if len(c.Watchdog.Nodes) != tc.n || c.Watchdog.Nodes[tc.n-1].WatchdogID != tc.n-1 {
			t.Errorf("%s: watchdog nodes %v", tc.v, c.Watchdog.Nodes)
		}
	}
}
