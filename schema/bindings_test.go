package schema

import (
	"os"
	"strings"
	"testing"

	"pgpoolgen/schema/pgpool"
)

// specDoc reads docs/spec.md.
func specDoc(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

// docTable returns the rows of the first table after the heading, without its two header lines.
func docTable(t *testing.T, lines []string, heading string) []string {
	t.Helper()
	for i, l := range lines {
		if l != heading {
			continue
		}
		var rows []string
		for _, r := range lines[i+1:] {
			switch {
			case strings.HasPrefix(r, "#"):
				return rows[min(2, len(rows)):]
			case strings.HasPrefix(r, "|"):
				rows = append(rows, r)
			case len(rows) > 0:
				return rows[2:]
			}
		}
		return rows[min(2, len(rows)):]
	}
	t.Fatalf("docs/spec.md has no heading %q", heading)
	return nil
}

// TestSpecDocSetsItself checks docs/spec.md's table of the parameters pgpoolgen sets itself
// against Bindings: one row per name of each parameter (oldest first), with the spec key or the
// reason [parameters] may not set it. Secrets are documented as secrets instead.
func TestSpecDocSetsItself(t *testing.T) {
	var want []string
	for _, b := range Bindings {
		if isSecret(b.Record) {
			continue
		}
		what := b.Why
		if b.Key != "" {
			what = "`" + b.Key + "`"
		}
		for _, name := range pgpool.Spellings(b.Record) {
			want = append(want, "| `"+name+"` | "+what+" |")
		}
	}
	got := docTable(t, specDoc(t), "### Parameters pgpoolgen sets itself")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("docs/spec.md, \"Parameters pgpoolgen sets itself\", differs from schema.Bindings; write it as:\n%s", strings.Join(want, "\n"))
	}
}

// TestSpecDocNeeds checks the "Needs pgpool-II X+" of every spec key in docs/spec.md against
// the first series that has the key's parameter (Bindings and params.tsv).
func TestSpecDocNeeds(t *testing.T) {
	lines := specDoc(t)
	perKey := map[string]int{}
	for _, b := range Bindings {
		perKey[b.Key]++
	}
	for _, b := range Bindings {
		if b.Key == "" || perKey[b.Key] > 1 {
			continue // cluster.mode sets four parameters, documented in its own table
		}
		table, leaf, _ := strings.Cut(b.Key, ".")
		heading := "## [" + table + "]"
		if table == "host[]" {
			heading = "## [[host]]"
		}
		var row string
		for _, r := range docTable(t, lines, heading) {
			if strings.HasPrefix(r, "| `"+leaf+"` |") {
				row = r
			}
		}
		if row == "" {
			t.Errorf("docs/spec.md %s has no row for %s", heading, leaf)
			continue
		}
		since := pgpool.Since(b.Record)
		needs := "Needs pgpool-II " + since.String() + "+"
		switch {
		case since != pgpool.Series[0] && !strings.Contains(row, needs):
			t.Errorf("docs/spec.md %s, %s: %s has %s from %s on, but the row does not say %q", heading, leaf, b.Key, b.Record, since, needs)
		case since == pgpool.Series[0] && strings.Contains(row, "Needs pgpool-II"):
			t.Errorf("docs/spec.md %s, %s: every series has %s, but the row says it needs a later one", heading, leaf, b.Record)
		}
	}
}

// TestBindingRecords checks that every binding names a parameter of params.tsv by its newest
// name, and that no parameter has two bindings: a misspelt record would be written nowhere.
func TestBindingRecords(t *testing.T) {
	seen := map[string]bool{}
	for _, b := range Bindings {
		for _, rec := range []string{b.Record, b.Unless} {
			if rec != "" && (pgpool.Since(rec).IsZero() || pgpool.Record(rec) != rec) {
				t.Errorf("binding %s: %q is not the newest name of a parameter in params.tsv", b.Record, rec)
			}
		}
		if seen[b.Record] {
			t.Errorf("%s has two bindings", b.Record)
		}
		seen[b.Record] = true
		if (b.Key == "") == (b.Why == "") && !isSecret(b.Record) {
			t.Errorf("binding %s: give exactly one of Key and Why", b.Record)
		}
	}
}

// TestSpellings checks the rename chains read from params.tsv (pgpool-facts.md §13).
func TestSpellings(t *testing.T) {
	for _, tc := range []struct{ record, series, want string }{
		{"unix_socket_directories", "4.3", "socket_dir"},
		{"unix_socket_directories", "4.4", "unix_socket_directories"},
		{"work_dir", "4.6", "logdir"},
		{"work_dir", "4.7", "work_dir"}, // 4.7 also takes logdir: the new name wins
		{"follow_primary_command", "4.1", "follow_master_command"},
		{"follow_primary_command", "4.2", "follow_primary_command"},
		{"health_check_max_retries", "3.1", ""},
		{"health_check_max_retries", "3.2", "health_check_max_retries"},
		{"backend_clustering_mode", "4.1", ""}, // not a rename: three switches became one
		{"listen_addresses", "3.1", "listen_addresses"},
		{"ssl_ca_cert_dir", "3.4", ""}, // a gap in the table
	} {
		if got := pgpool.Spelling(tc.record, pgpool.MustVersion(tc.series)); got != tc.want {
			t.Errorf("Spelling(%s, %s) = %q, want %q", tc.record, tc.series, got, tc.want)
		}
	}
	for name, want := range map[string]string{"logdir": "work_dir", "socket_dir": "unix_socket_directories",
		"follow_master_command": "follow_primary_command", "backend_port3": "backend_portN",
		"master_slave_mode": "master_slave_mode", "allow_inet_domain_socket": "allow_inet_domain_socket", "no_such": ""} {
		if got := pgpool.Record(name); got != want {
			t.Errorf("Record(%s) = %q, want %q", name, got, want)
		}
	}
}

// TestModesIn checks which series have each mode (pgpool-facts.md §2) as the descriptor and
// params.tsv answer it.
func TestModesIn(t *testing.T) {
	want := map[string][2]string{ // first and last series
		"streaming_replication": {"3.1", "4.7"}, "native_replication": {"3.1", "4.7"}, "raw": {"3.1", "4.7"},
		"logical_replication": {"3.7", "4.7"}, "slony": {"3.1", "4.6"}, "snapshot_isolation": {"4.2", "4.7"},
	}
	for _, m := range Modes {
		var got, wanted []string
		for _, v := range pgpool.Series {
			if m.In(v) {
				got = append(got, v.String())
			}
			r := want[m.Name]
			if !v.Less(pgpool.MustVersion(r[0])) && !pgpool.MustVersion(r[1]).Less(v) {
				wanted = append(wanted, v.String())
			}
		}
		if strings.Join(got, " ") != strings.Join(wanted, " ") {
			t.Errorf("mode %s is in %v, want %v", m.Name, got, wanted)
		}
	}
}

// TestModesInSeries checks that a mode a series lacks is refused with the series that have it.
func TestModesInSeries(t *testing.T) {
	for _, tc := range []struct{ mode, series, want string }{
		{"slony", "4.7", "pgpool-II 4.7 has no slony mode (pgpool-II 3.1-4.6 has)"},
		{"logical_replication", "3.6", "pgpool-II 3.6 has no logical_replication mode (pgpool-II 3.7-4.7 has)"},
		{"snapshot_isolation", "4.1", "pgpool-II 4.1 has no snapshot_isolation mode (pgpool-II 4.2-4.7 has)"},
	} {
		src := "[cluster]\nmode = \"" + tc.mode + "\"\npgpool_version = \"" + tc.series + "\"\n"
		_, err := Load("cluster.toml", []byte(src), Env{})
		if err == nil || !strings.Contains(err.Error(), "cluster.mode: "+tc.want) {
			t.Errorf("mode %s on %s: got %v, want an error with %q", tc.mode, tc.series, err, tc.want)
		}
	}
}
