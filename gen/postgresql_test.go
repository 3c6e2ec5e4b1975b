package gen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgpoolgen/schema"
	"pgpoolgen/schema/postgres"
)

// pgSpec is a small spec for the backends' files: a pgpool host and three backends.
type pgSpec struct {
	pg, pgpool string // versions
	preset     string // "debian" or "source"
	native     bool
	mode       string   // another cluster.mode, roles as it takes them
	postgresql string   // lines of [postgresql]
	extra      string   // more tables (pool users, [replication], [parameters])
	addresses  []string // of pgpool1, pg1, pg2, pg3; 192.0.2.10-13 when nil
}

func (s pgSpec) toml() string {
	var b strings.Builder
	mode := "streaming_replication"
	roles := []string{"primary", "standby", "standby"}
	if s.native {
		mode, roles = "native_replication", []string{"backend", "backend", "backend"}
	}
	switch s.mode {
	case "":
	case "logical_replication", "slony":
		mode = s.mode
	default:
		mode, roles = s.mode, []string{"backend", "backend", "backend"}
	}
	if s.preset == "" {
		s.preset = "debian"
	}
	if s.pgpool == "" {
		s.pgpool = "4.3"
	}
	addrs := s.addresses
	if addrs == nil {
		addrs = []string{"192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"}
	}
	fmt.Fprintf(&b, "[cluster]\nname = \"pg\"\nmode = %q\npgpool_version = %q\npostgresql_version = %q\n\n[layout]\npreset = %q\n\n[install]\nmethod = \"none\"\n", mode, s.pgpool, s.pg, s.preset)
	if s.postgresql != "" {
		fmt.Fprintf(&b, "\n[postgresql]\n%s\n", s.postgresql)
	}
	fmt.Fprintf(&b, "\n[[host]]\nname = \"pgpool1\"\naddress = %q\nroles = [\"pgpool\"]\nssh_key = %q\n", addrs[0], sshKeyLine("pg@pgpool1"))
	for i, role := range roles {
		name := fmt.Sprintf("pg%d", i+1)
		fmt.Fprintf(&b, "\n[[host]]\nname = %q\naddress = %q\nroles = [%q]\nssh_key = %q\n", name, addrs[i+1], role, sshKeyLine("pg@"+name))
	}
	b.WriteString("\n[[pcp_user]]\nname = \"pgpool\"\npassword_env = \"PCP_PASSWORD\"\n\n[[hba]]\naddress = \"192.0.2.0/24\"\nmethod = \"md5\"\n")
	b.WriteString(s.extra)
	return b.String()
}

func (s pgSpec) load(t *testing.T) *schema.Cluster {
	t.Helper()
	c, err := schema.Load("cluster.toml", []byte(s.toml()), haEnv)
	if err != nil {
		t.Fatalf("%v\n%s", err, s.toml())
	}
	return c
}

// backend is the cluster's backend of that name.
func backend(t *testing.T, c *schema.Cluster, name string) *schema.Host {
	t.Helper()
	for _, h := range c.Backends {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("no backend %s", name)
	return nil
}

// settingLines reads a settings file as name → value, failing on a line that is neither a
// comment, blank, nor name = value, and on a name set twice.
func settingLines(t *testing.T, data []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, value, ok := strings.Cut(l, " = ")
		if !ok || !pgConfLine.MatchString(l) {
			t.Fatalf("%q is not a postgresql.conf line pgpoolgen writes", l)
		}
		if _, dup := out[name]; dup {
			t.Fatalf("%s is set twice", name)
		}
		out[name] = value
	}
	return out
}

// TestPGSettingsShapes checks the settings file of PostgreSQL 9.6, 12 and 15 shapes: every line,
// exactly, for each choice that changes one.
func TestPGSettingsShapes(t *testing.T) {
	base := func(wal, enc string) map[string]string {
		return map[string]string{"listen_addresses": "'192.0.2.12,localhost'", "port": "5432", "wal_level": wal,
			"max_wal_senders": "4", "max_replication_slots": "4", "hot_standby": "on", "wal_log_hints": "on", "password_encryption": enc,
			"tcp_keepalives_idle": "60", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "6"}
	}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(out, kv[i])
			} else {
				out[kv[i]] = kv[i+1]
			}
		}
		return out
	}
	// idle_in_transaction_session_timeout from 9.6, tcp_user_timeout from 12.
	v96 := func(enc string) map[string]string {
		return with(base("replica", enc), "idle_in_transaction_session_timeout", "600000")
	}
	v10 := with(v96("scram-sha-256"), "max_wal_senders", "10", "max_replication_slots", "10")
	v12 := with(v10, "tcp_user_timeout", "30000")
	for _, tc := range []struct {
		name string
		spec pgSpec
		want map[string]string
	}{
		{"9.6 source pgpool 4.1 slots", pgSpec{pg: "9.6", pgpool: "4.1", preset: "source"}, v96("on")},
		{"9.5 hot_standby", pgSpec{pg: "9.5", pgpool: "4.1"}, base("hot_standby", "on")},
		{"9.6 sync first 2", pgSpec{pg: "9.6", pgpool: "4.1", postgresql: "synchronous = \"first\"\nsynchronous_count = 2"},
			with(v96("on"), "synchronous_standby_names", `'2 ("pg1", "pg2", "pg3")'`)},
		{"9.5 sync first", pgSpec{pg: "9.5", pgpool: "4.1", postgresql: "synchronous = \"first\""},
			with(base("hot_standby", "on"), "synchronous_standby_names", `'"pg1", "pg2", "pg3"'`)},
		{"9.6 no slots", pgSpec{pg: "9.6", pgpool: "4.1", postgresql: "replication_slots = false\nwal_keep_mb = 1000"},
			with(v96("on"), "wal_keep_segments", "63")},
		{"12 sync first, no slots", pgSpec{pg: "12", postgresql: "synchronous = \"first\"\nreplication_slots = false"},
			with(v12, "synchronous_standby_names", `'FIRST 1 ("pg1", "pg2", "pg3")'`, "wal_keep_segments", "64")},
		{"11 md5", pgSpec{pg: "11", postgresql: "hba_method = \"md5\""}, with(v10, "password_encryption", "md5")},
		{"12 md5", pgSpec{pg: "12", postgresql: "hba_method = \"md5\""}, with(v12, "password_encryption", "md5")},
		{"15 debian", pgSpec{pg: "15"}, v12},
		{"15 sync any 2, checksums", pgSpec{pg: "15", postgresql: "synchronous = \"any\"\nsynchronous_count = 2\ndata_checksums = true"},
			with(v12, "synchronous_standby_names", `'ANY 2 ("pg1", "pg2", "pg3")'`, "wal_log_hints", "")},
		{"15 no slots", pgSpec{pg: "15", postgresql: "replication_slots = false\nwal_keep_mb = 2048"},
			with(v12, "wal_keep_size", "2048")},
		{"15 native", pgSpec{pg: "15", native: true},
			with(v12, "hot_standby", "", "wal_log_hints", "")},
		{"15 trust", pgSpec{pg: "15", postgresql: "hba_method = \"trust\""}, with(v12, "password_encryption", "md5")},
		{"15 pgpool 3.7", pgSpec{pg: "15", pgpool: "3.7"}, with(v12, "password_encryption", "md5")},
		{"9.3 no slots", pgSpec{pg: "9.3", pgpool: "3.7"},
			with(base("hot_standby", "on"), "max_replication_slots", "", "wal_log_hints", "", "wal_keep_segments", "64")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.spec.load(t)
			got := settingLines(t, pgSettings(c, backend(t, c, "pg2")))
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %s, want %s", k, got[k], v)
				}
			}
			for k, v := range got {
				if _, ok := tc.want[k]; !ok {
					t.Errorf("%s = %s is written, and not expected", k, v)
				}
			}
		})
	}
}

// TestPGSettingsInFacts renders the settings file for every PostgreSQL version, both modes,
// slots on and off and each synchronous choice the version has, and checks that every name
// written is a setting of that version in schema/postgres's table.
func TestPGSettingsInFacts(t *testing.T) {
	checked := 0
	for _, v := range postgres.Versions {
		var variants []string
		variants = append(variants, "", "replication_slots = false")
		if v.AtLeast(postgres.Version{Major: 9, Minor: 1}) {
			variants = append(variants, `synchronous = "first"`)
		}
		if v.AtLeast(postgres.Version{Major: 10}) {
			variants = append(variants, `synchronous = "any"`)
		}
		for _, native := range []bool{false, true} {
			for _, pgLines := range variants {
				if native && pgLines != "" {
					continue
				}
				if pgLines == "replication_slots = false" && !v.AtLeast(postgres.Version{Major: 9, Minor: 4}) {
					pgLines = "" // no slots before 9.4 anyway
				}
				c := pgSpec{pg: v.String(), pgpool: "4.1", native: native, postgresql: pgLines}.load(t)
				for name := range settingLines(t, pgSettings(c, c.Backends[0])) {
					s := postgres.Lookup(name)
					if s == nil || !s.In(v) {
						t.Errorf("PostgreSQL %s (%q, native %v): %s is written, and the facts table says %s has no such setting", v, pgLines, native, name, v)
					}
					checked++
				}
			}
		}
	}
	if checked < 200 {
		t.Fatalf("checked %d settings, want over 200", checked)
	}
}

// TestBackendFilesPlaces checks where each layout puts the files, with what mode and owner.
func TestBackendFilesPlaces(t *testing.T) {
	type place struct {
		dest    string
		install Install
		mode    string
		owner   string
	}
	for _, tc := range []struct {
		spec pgSpec
		want []place
		// include is the Merge block's directive line, or "" when there is none
		include string
	}{
		{pgSpec{pg: "15"}, []place{
			{"/etc/postgresql/15/main/conf.d/pgpoolgen-pg.conf", Replace, "0644", "postgres:postgres"},
			{"/etc/postgresql/15/main/pg_hba.conf", Merge, "0640", "postgres:postgres"},
		}, ""},
		{pgSpec{pg: "9.2", pgpool: "3.6"}, []place{
			{"/etc/postgresql/9.2/main/conf.d/pgpoolgen-pg.conf", Replace, "0644", "postgres:postgres"},
			{"/etc/postgresql/9.2/main/postgresql.conf", Merge, "0600", "postgres:postgres"},
			{"/etc/postgresql/9.2/main/pg_hba.conf", Merge, "0640", "postgres:postgres"},
		}, "include = '/etc/postgresql/9.2/main/conf.d/pgpoolgen-pg.conf'"},
		{pgSpec{pg: "12", preset: "source"}, []place{
			{"/etc/pgpoolgen/pg/postgresql.conf", Replace, "0644", "root:root"},
			{"/usr/local/pgsql/data/postgresql.conf", Merge, "0600", "postgres:postgres"},
			{"/usr/local/pgsql/data/pg_hba.conf", Merge, "0640", "postgres:postgres"},
		}, "include_if_exists = '/etc/pgpoolgen/pg/postgresql.conf'"},
	} {
		c := tc.spec.load(t)
		files := backendFiles(c, backend(t, c, "pg1"))
		var got []place
		for _, f := range files {
			got = append(got, place{f.Dest, f.Install, modeString(f.Mode), f.Owner + ":" + f.Group})
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("PostgreSQL %s %s: files\n%v, want\n%v", tc.spec.pg, tc.spec.preset, got, tc.want)
		}
		for _, f := range files {
			if f.Install != Merge {
				continue
			}
			lines := strings.Split(strings.TrimSuffix(string(f.Data), "\n"), "\n")
			if lines[0] != blockBegin(c) || lines[len(lines)-1] != blockEnd(c) {
				t.Errorf("%s: not a marked block:\n%s", f.Dest, f.Data)
			}
			if strings.HasSuffix(f.Dest, "/postgresql.conf") && !slices.Contains(lines, tc.include) {
				t.Errorf("%s has no line %q:\n%s", f.Dest, tc.include, f.Data)
			}
		}
		// The settings differ (listen_addresses).
		other := backendFiles(c, backend(t, c, "pg2"))
		if string(other[0].Data) == string(files[0].Data) {
			t.Errorf("pg1 and pg2 have the same settings file")
		}
		// Blocks that a base backup copies with the data directory are the same on every
		// backend, so that a copy is harmless and the next setup run changes nothing.
		for i := 1; i < len(files); i++ {
			if string(other[i].Data) != string(files[i].Data) {
				t.Errorf("%s differs between backends:\n%s\n%s", files[i].Dest, files[i].Data, other[i].Data)
			}
		}
	}
}

// hbaRules reads the lines of a pg_hba block that are rules, with their words.
func hbaRules(t *testing.T, data []byte) [][]string {
	t.Helper()
	var out [][]string
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if !pgHBALine.MatchString(l) {
			t.Fatalf("%q is not a pg_hba.conf line pgpoolgen writes", l)
		}
		out = append(out, strings.Fields(l))
	}
	return out
}

// TestPGHBA checks the rules of the pg_hba.conf block, in order, for each shape.
func TestPGHBA(t *testing.T) {
	v6 := []string{"2001:db8::10", "2001:db8::11", "pg2.example.com", "192.0.2.13"}
	for _, tc := range []struct {
		name string
		spec pgSpec
		want []string // the rules, words joined by one space
		// comment must appear in the block
		comment string
	}{
		{"pgpool 4.3 scram", pgSpec{pg: "15", extra: `
[[pool_user]]
name = "app"
password_env = "APP"
[[pool_user]]
name = "web"
[[pool_user]]
name = "app2"
md5 = "md5c3c2d9b8e15a3c6e1bb5b2c8f5d7a9e1"
[replication]
rewind_user = "rw"
`}, []string{
			"local all postgres peer",
			"host replication repl 192.0.2.11/32 scram-sha-256",
			"host replication repl 192.0.2.12/32 scram-sha-256",
			"host replication repl 192.0.2.13/32 scram-sha-256",
			"host postgres rw 192.0.2.11/32 scram-sha-256",
			"host postgres rw 192.0.2.12/32 scram-sha-256",
			"host postgres rw 192.0.2.13/32 scram-sha-256",
			"host postgres pgpool 192.0.2.10/32 scram-sha-256",
			"host postgres,template1 postgres 192.0.2.10/32 scram-sha-256",
			"host all app,app2 192.0.2.10/32 md5",
			"host all web 192.0.2.10/32 scram-sha-256",
			"host postgres repl,pgpool,postgres,rw,web 127.0.0.1/32 scram-sha-256",
			"host postgres repl,pgpool,postgres,rw,web ::1/128 scram-sha-256",
		}, "so are their\n# passwords on the server"},
		{"4.7 recovery_database, separate sr user, IPv6 and DNS", pgSpec{pg: "17", pgpool: "4.7", addresses: v6, extra: `
[health_check]
database = "hc"
[sr_check]
user = "srmon"
[recovery]
user = "rec"
[parameters]
recovery_database = "recdb"
`}, []string{
			"local all postgres peer",
			"host replication repl 2001:db8::11/128 scram-sha-256",
			"host replication repl pg2.example.com scram-sha-256",
			"host replication repl 192.0.2.13/32 scram-sha-256",
			"host postgres rewind 2001:db8::11/128 scram-sha-256",
			"host postgres rewind pg2.example.com scram-sha-256",
			"host postgres rewind 192.0.2.13/32 scram-sha-256",
			"host hc,postgres pgpool,srmon 2001:db8::10/128 scram-sha-256",
			"host postgres,template1,recdb rec 2001:db8::10/128 scram-sha-256",
			"host postgres repl,pgpool,srmon,rec,rewind 127.0.0.1/32 scram-sha-256",
			"host postgres repl,pgpool,srmon,rec,rewind ::1/128 scram-sha-256",
		}, ""},
		{"names that are pg_hba keywords stay names", pgSpec{pg: "15", addresses: []string{"samenet", "192.0.2.11", "samehost", "192.0.2.13"}, extra: `
[replication]
user = "all"
rewind_user = "replication"
[health_check]
database = "replication"
[sr_check]
database = "sameuser"
[recovery]
user = "samerole"
`}, []string{
			"local all postgres peer",
			`host replication "all" 192.0.2.11/32 scram-sha-256`,
			`host replication "all" "samehost" scram-sha-256`,
			`host replication "all" 192.0.2.13/32 scram-sha-256`,
			`host postgres "replication" 192.0.2.11/32 scram-sha-256`,
			`host postgres "replication" "samehost" scram-sha-256`,
			`host postgres "replication" 192.0.2.13/32 scram-sha-256`,
			`host "replication","sameuser" pgpool "samenet" scram-sha-256`,
			`host postgres,template1 "samerole" "samenet" scram-sha-256`,
			`host postgres "all",pgpool,"samerole","replication" 127.0.0.1/32 scram-sha-256`,
			`host postgres "all",pgpool,"samerole","replication" ::1/128 scram-sha-256`,
		}, ""},
		{"pgpool 3.6 md5: no lines for pgpool's own users", pgSpec{pg: "9.6", pgpool: "3.6", native: true}, []string{
			"local all postgres peer",
			"host replication repl 192.0.2.11/32 md5",
			"host replication repl 192.0.2.12/32 md5",
			"host replication repl 192.0.2.13/32 md5",
			"host postgres repl 127.0.0.1/32 md5",
			"host postgres repl ::1/128 md5",
		}, "# pgpool-II 3.6 sends no password for its health check (pgpool) and online recovery (postgres), since"},
		{"pgpool 3.6 trust", pgSpec{pg: "9.4", pgpool: "3.6", postgresql: `hba_method = "trust"`}, []string{
			"local all postgres peer",
			"host replication repl 192.0.2.11/32 trust",
			"host replication repl 192.0.2.12/32 trust",
			"host replication repl 192.0.2.13/32 trust",
			"host postgres pgpool 192.0.2.10/32 trust",
			"host postgres,template1 postgres 192.0.2.10/32 trust",
			"host postgres repl 127.0.0.1/32 trust",
			"host postgres repl ::1/128 trust",
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.spec.load(t)
			data := pgHBA(c)
			var got []string
			for _, r := range hbaRules(t, data) {
				got = append(got, strings.Join(r, " "))
				if r[len(r)-1] == "trust" && c.PG.HBAMethod != "trust" {
					t.Errorf("trust without hba_method = \"trust\": %v", r)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("rules:\n%s\nwant:\n%s\nblock:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), data)
			}
			if !strings.Contains(string(data), tc.comment) {
				t.Errorf("no %q in\n%s", tc.comment, data)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if lines[0] != blockBegin(c) || lines[len(lines)-1] != blockEnd(c) {
				t.Errorf("not a marked block:\n%s", data)
			}
		})
	}
}

// confEscapes are values that need postgresql.conf's escapes, with how confString writes them;
// TestSettingsOnRealPostgres has postgres read them back.
var confEscapes = []struct{ value, quoted string }{
	{`it's`, `'it''s'`},
	{`a\b`, `'a\\b'`},
	{"a\nb\tc", `'a\nb\tc'`},
	{"a\x01b", `'a\001b'`},
	{`ANY 1 ("pg-1", "pg.2")`, `'ANY 1 ("pg-1", "pg.2")'`},
}

// TestConfString checks that confString writes each value as one postgresql.conf string.
func TestConfString(t *testing.T) {
	for _, e := range confEscapes {
		if got := confString(e.value); got != e.quoted {
			t.Errorf("confString(%q) = %s, want %s", e.value, got, e.quoted)
		}
	}
}

const realPostgres = "/usr/lib/postgresql/15/bin/postgres"

// TestSettingsOnRealPostgres gives Debian's PostgreSQL 15 the settings file of each PostgreSQL
// 15 shape, included from a throwaway data directory's postgresql.conf as the bundle includes
// it, and asks postgres -C (which reads the configuration and exits, starting no server) for
// every setting: a name 15 does not know, a value it refuses or a syntax error fails the run,
// and the value it prints must be the one written. Two broken files prove that it would.
func TestSettingsOnRealPostgres(t *testing.T) {
	if _, err := os.Stat(realPostgres); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; .ci/run installs Debian's postgresql-15", realPostgres)
		}
		t.Skipf("%s is missing (apt-get install postgresql-15): the settings are not checked against a real PostgreSQL", realPostgres)
	}
	dir, err := os.MkdirTemp("", "pgpoolgen-postgres-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// As root, initdb and postgres refuse to run: they run as the postgres account, which must
	// own the folder.
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"runuser", "-u", "postgres", "--"}
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			t.Fatalf("chown postgres %s: %v\n%s", dir, err, out)
		}
	}
	run := func(args ...string) (string, error) {
		all := append(append([]string{}, asUser...), args...)
		cmd := exec.Command(all[0], all[1:]...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C"}
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	data := filepath.Join(dir, "data")
	if out, err := run(filepath.Join(filepath.Dir(realPostgres), "initdb"), "-N", "-D", data); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	include := filepath.Join(dir, "pgpoolgen.conf")
	conf, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(conf, "include_if_exists = '%s'\n", include)
	if err2 := conf.Close(); err == nil {
		err = err2
	}
	if err != nil {
		t.Fatal(err)
	}
	write := func(text string) {
		if err := os.WriteFile(include, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// pgpoolgen writes values as postgres -C prints them back, but for quotes.
	printed := func(v string) string { return strings.Trim(v, "'") }

	names := map[string]bool{}
	for _, s := range []pgSpec{
		{pg: "15"},
		{pg: "15", postgresql: "synchronous = \"any\"\nsynchronous_count = 2\nreplication_slots = false\nwal_keep_mb = 512"},
		{pg: "15", postgresql: "synchronous = \"first\"\nhba_method = \"md5\"\ndata_checksums = true", addresses: []string{"2001:db8::10", "2001:db8::11", "pg2.example.com", "192.0.2.13"}},
		{pg: "15", native: true},
		{pg: "15", mode: "snapshot_isolation"},
		{pg: "15", mode: "logical_replication"},
	} {
		c := s.load(t)
		file := pgSettings(c, backend(t, c, "pg2"))
		write(string(file))
		failed := false
		for name, value := range settingLines(t, file) {
			names[name] = true
			out, err := run(realPostgres, "-C", name, "-D", data)
			if err != nil {
				t.Errorf("postgres -C %s: %v\n%s", name, err, out)
				failed = true
				continue
			}
			if out != printed(value) {
				t.Errorf("postgres -C %s printed %q; the file says %s", name, out, value)
				failed = true
			}
		}
		if failed {
			t.Logf("the settings file:\n%s", file)
		}
	}
	// Every setting the facts table gives 15 was written by one of the shapes above.
	for _, s := range postgres.Settings {
		if s.In(postgres.Version{Major: 15}) && !names[s.Name] {
			t.Errorf("no PostgreSQL 15 shape writes %s", s.Name)
		}
	}
	// confString's escapes read back as the value.
	for _, e := range confEscapes {
		write("listen_addresses = " + e.quoted + "\n")
		if out, err := run(realPostgres, "-C", "listen_addresses", "-D", data); err != nil || out != e.value {
			t.Errorf("postgres -C listen_addresses read %s as %q (%v), want %q", e.quoted, out, err, e.value)
		}
	}
	// The check can fail: a name 15 does not have, and a value it refuses.
	for _, bad := range []string{"wal_keep_segments = 64\n", "password_encryption = on\n"} {
		write(bad)
		if out, err := run(realPostgres, "-C", "port", "-D", data); err == nil {
			t.Errorf("postgres -C took %q: %s", bad, out)
		}
	}
}

// TestSetupMergesAuthorizedKeysOnly checks that setup.sh merges the authorized_keys block from
// the bundle's authorized_keys file, not from another Merge file of the host (the
// postgresql.conf and pg_hba.conf blocks sort after it in the source layout).
func TestSetupMergesAuthorizedKeysOnly(t *testing.T) {
	for _, preset := range []string{"source", "debian"} {
		c := pgSpec{pg: "15", preset: preset}.load(t)
		want := "block=$(cat -- \"$here\"/'merge" + c.Layout.Home + "/.ssh/authorized_keys' && printf x)\nmerge_block '" + c.Layout.Home + "/.ssh/authorized_keys'"
		for _, f := range Generate(c).Files {
			if f.Install == Run && f.Host == "pg1" && !strings.Contains(string(f.Data), want) {
				t.Errorf("%s: setup.sh does not merge authorized_keys from its own block; want\n%s", preset, want)
			}
		}
	}
}
