package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"pgpoolgen/gen/fixture"
	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
)

// initSeries are the oldest and the newest series that have the mode, and, for a watchdog, the
// oldest with one (3.2).
func initSeries(m *schema.ModeInfo, watchdog bool) []pgpool.Version {
	var first, last pgpool.Version
	for _, v := range pgpool.Series {
		if !m.In(v) || watchdog && !v.AtLeast(pgpool.V32) {
			continue
		}
		if first.IsZero() {
			first = v
		}
		last = v
	}
	if first == last {
		return []pgpool.Version{first}
	}
	return []pgpool.Version{first, last}
}

// keyFileRE finds the key files a spec names.
var keyFileRE = regexp.MustCompile(`(?m)^ssh_key_file = "(keys/[a-z0-9]+\.pub)"$`)

// initAndBuild runs pgpoolgen init with args into a new folder, gives it the key files the spec
// names (made-up ed25519 keys, one per host) and the pcp password, and builds it. It returns
// the spec and build's standard error.
func initAndBuild(t *testing.T, args ...string) (spec, buildErr string) {
	t.Helper()
	return initAnd(t, "build", args...)
}

// initAnd is initAndBuild with build or check, which validates and renders the bundle as build
// does and writes nothing (the writer's fsyncs are most of a build's time).
func initAnd(t *testing.T, command string, args ...string) (spec, buildErr string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.toml")
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"init", "-o", file}, args...), &stdout, &stderr); code != exitOK {
		t.Fatalf("pgpoolgen init %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	spec = string(data)
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range keyFileRE.FindAllStringSubmatch(spec, -1) {
		if err := os.WriteFile(filepath.Join(dir, m[1]), []byte(fixture.SSHKey("init "+m[1])+" postgres@host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PCP_PASSWORD", "pcp-secret")
	stdout.Reset()
	stderr.Reset()
	cmd := []string{"build", file, "-o", filepath.Join(dir, "out")}
	if command == "check" {
		cmd = []string{"check", file}
	}
	if code := run(cmd, &stdout, &stderr); code != exitOK {
		t.Fatalf("pgpoolgen init %s, then %s: exit %d\n%s\nthe spec:\n%s", strings.Join(args, " "), command, code, stderr.String(), spec)
	}
	return spec, stderr.String()
}

// documentedWarnings are the warnings a starter spec may get, as docs/spec.md ([watchdog]) and
// the README describe them: no quorum before 3.5.
var documentedWarnings = []string{
	"has no quorum",
	"does not fail over a frozen server", // every series' newest release from 4.2 (docs/spec.md)
}

// TestInitBuilds: for every mode, layout, a few backend counts, one pgpool host and three (the
// watchdog), and the oldest and newest series that have the mode, the spec init writes builds
// (or checks, as build does) once its key files and secret exist, with no warning but those
// documented.
func TestInitBuilds(t *testing.T) {
	builds := 0
	for i := range schema.Modes {
		m := &schema.Modes[i]
		for _, p := range schema.Presets {
			for _, pgpools := range []int{1, 3} {
				for _, v := range initSeries(m, pgpools > 1) {
					for _, backends := range []int{1, 2, 5} {
						args := []string{"--mode", m.Name, "--layout", p.Name, "--pgpool-version", v.String(),
							"--backends", strconv.Itoa(backends), "--pgpool-hosts", strconv.Itoa(pgpools)}
						// Written to disk with two backends; checked, which renders the same
						// bundle in memory, with the others.
						command := "check"
						if backends == 2 {
							command = "build"
						}
						spec, warnings := initAnd(t, command, args...)
						builds++
						for _, w := range strings.Split(strings.TrimSpace(warnings), "\n") {
							if w == "" || !strings.Contains(w, "warning:") {
								continue
							}
							documented := false
							for _, d := range documentedWarnings {
								documented = documented || strings.Contains(w, d)
							}
							if !documented {
								t.Errorf("init %s: build warns: %s", strings.Join(args, " "), w)
							}
						}
						c := loadSpec(t, spec)
						if c.Mode != m.Mode || c.Layout.Preset != p.Name || c.Pgpool != v || len(c.Backends) != backends || (c.Watchdog != nil) != (pgpools > 1) {
							t.Errorf("init %s: the spec loads as mode %s, preset %s, pgpool-II %s, %d backends, watchdog %v", strings.Join(args, " "), c.Mode, c.Layout.Preset, c.Pgpool, len(c.Backends), c.Watchdog != nil)
						}
						// Right for the mode: tables of features the mode lacks are not written.
						if !m.Has(schema.FeatRecovery) && strings.Contains(spec, "[recovery]") || !m.Has(schema.FeatSRCheck) && strings.Contains(spec, "[sr_check]") {
							t.Errorf("init %s: the spec names a table the mode has not:\n%s", strings.Join(args, " "), spec)
						}
						// A key file exactly for each host that logs in to others.
						keyed := map[string]bool{}
						for _, e := range c.Trust {
							keyed[e.From.Name] = true
						}
						for _, h := range c.Hosts {
							if (h.SSHKey != nil) != keyed[h.Name] {
								t.Errorf("init %s: host %s has a key %v, logs in to others %v", strings.Join(args, " "), h.Name, h.SSHKey != nil, keyed[h.Name])
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d specs built or checked", builds)
}

// loadSpec loads a starter spec with stand-in keys and secret, to look at the cluster it says.
func loadSpec(t *testing.T, spec string) *schema.Cluster {
	t.Helper()
	c, err := schema.Load("cluster.toml", []byte(spec), schema.Env{
		LookupEnv: func(string) (string, bool) { return "x", true },
		ReadFile:  func(name string) ([]byte, error) { return []byte(fixture.SSHKey(name)), nil },
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, spec)
	}
	return c
}

// TestInitDefaults: without flags, streaming replication, three backends, one pgpool host,
// Debian's layout, the newest series, PostgreSQL 15; slony's newest series is its own.
func TestInitDefaults(t *testing.T) {
	spec, _ := initAndBuild(t)
	c := loadSpec(t, spec)
	newest := pgpool.Series[len(pgpool.Series)-1]
	if c.Mode != schema.Streaming || len(c.Backends) != 3 || len(c.Hosts) != 4 || c.Layout.Preset != "debian" || c.Pgpool != newest || c.PostgreSQL.String() != "15" {
		t.Errorf("defaults: mode %s, %d backends of %d hosts, preset %s, pgpool-II %s, PostgreSQL %s", c.Mode, len(c.Backends), len(c.Hosts), c.Layout.Preset, c.Pgpool, c.PostgreSQL)
	}
	spec, _ = initAndBuild(t, "--mode", "slony")
	if c := loadSpec(t, spec); c.Pgpool != pgpool.V46 {
		t.Errorf("slony's default series %s, want 4.6, the newest with slony", c.Pgpool)
	}
	// An alias names the mode; the spec has its name.
	spec, _ = initAndBuild(t, "--mode", "master_slave")
	if !strings.Contains(spec, "mode = \"streaming_replication\"\n") {
		t.Errorf("--mode master_slave: the spec does not name streaming_replication:\n%s", spec)
	}
}

// TestInitDeterministic: the same flags give the same bytes, whatever the folder, environment
// and time zone, to standard output and to -o alike.
func TestInitDeterministic(t *testing.T) {
	args := []string{"init", "--mode", "native_replication", "--backends", "4", "--pgpool-hosts", "3", "--layout", "rhel"}
	var first bytes.Buffer
	if code := run(args, &first, &bytes.Buffer{}); code != exitOK {
		t.Fatal(code)
	}
	t.Setenv("TZ", "Asia/Kathmandu")
	t.Setenv("LANG", "de_DE.UTF-8")
	t.Setenv("PCP_PASSWORD", "other")
	t.Chdir(t.TempDir())
	var second bytes.Buffer
	if code := run(args, &second, &bytes.Buffer{}); code != exitOK {
		t.Fatal(code)
	}
	if first.String() != second.String() {
		t.Errorf("two runs differ:\n%s\n---\n%s", first.String(), second.String())
	}
	file := filepath.Join(t.TempDir(), "cluster.toml")
	if code := run(append(args, "-o", file), &bytes.Buffer{}, &bytes.Buffer{}); code != exitOK {
		t.Fatal(code)
	}
	if data, _ := os.ReadFile(file); string(data) != first.String() {
		t.Errorf("-o wrote other bytes than standard output got:\n%s", data)
	}
}

// TestInitErrors: each bad flag is refused with a message that says what is right, exit 2,
// and nothing written.
func TestInitErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "taken.toml")
	if err := os.WriteFile(existing, []byte("# the operator's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.toml")
	if err := os.Symlink(existing, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "multi_master"}, `--mode: unknown mode "multi_master"; use one of streaming_replication, native_replication, logical_replication, slony, snapshot_isolation, raw`},
		{[]string{"--layout", "ubuntu"}, `--layout: unknown layout "ubuntu"; use one of source, debian, rhel`},
		{[]string{"--pgpool-version", "4.8"}, `--pgpool-version: "4.8" is not a pgpool-II series pgpoolgen knows; use one of 3.1, 3.2`},
		{[]string{"--pgpool-version", "4.3.5"}, `--pgpool-version: "4.3.5" is not a pgpool-II series`},
		{[]string{"--mode", "slony", "--pgpool-version", "4.7"}, "--pgpool-version: pgpool-II 4.7 has no slony mode (pgpool-II 3.1-4.6 has)"},
		{[]string{"--mode", "snapshot_isolation", "--pgpool-version", "4.1"}, "pgpool-II 4.1 has no snapshot_isolation mode (pgpool-II 4.2-4.7 has)"},
		{[]string{"--backends", "0"}, "--backends: 0 is out of range; pgpool-II takes 1 to 128 backends"},
		{[]string{"--backends", "129"}, "--backends: 129 is out of range"},
		{[]string{"--backends", "many"}, `invalid argument "many" for "--backends"`},
		{[]string{"--pgpool-hosts", "0"}, "--pgpool-hosts: 0 is out of range; the starter spec has 1 to 9"},
		{[]string{"--pgpool-hosts", "10"}, "--pgpool-hosts: 10 is out of range"},
		{[]string{"--postgresql-version", "15\nx"}, `--postgresql-version: "15\nx" is not a PostgreSQL major version`},
		// The loader's own checks, with the key they are about.
		{[]string{"--postgresql-version", "99"}, `cluster.postgresql_version: "99" is not a PostgreSQL version pgpoolgen supports`},
		{[]string{"--mode", "logical_replication", "--postgresql-version", "9.6"}, "would not build:\n  "},
		{[]string{"--pgpool-version", "3.1", "--pgpool-hosts", "3"}, "watchdog: pgpool-II 3.1 has no watchdog (it came in 3.2)"},
		{[]string{"--force"}, "--force replaces the file -o names; give -o"},
		{[]string{"extra"}, `takes no arguments, got "extra"`},
		{[]string{"-o", existing}, "taken.toml exists; give --force to replace it"},
		{[]string{"-o", link, "--force"}, "link.toml is not a regular file"},
		{[]string{"-o", filepath.Join(dir, "missing", "c.toml")}, "no such file or directory"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"init"}, tc.args...), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) || stdout.Len() > 0 {
			t.Errorf("init %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, stdout.String(), stderr.String(), tc.want)
		}
	}
	if data, _ := os.ReadFile(existing); string(data) != "# the operator's\n" {
		t.Errorf("the existing file was changed: %q", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the folder holds %d entries after the refusals, want the file and the link", len(entries))
	}
	// --force replaces a regular file.
	var stderr bytes.Buffer
	if code := run([]string{"init", "-o", existing, "--force"}, &bytes.Buffer{}, &stderr); code != exitOK {
		t.Fatalf("init -o existing --force: exit %d\n%s", code, stderr.String())
	}
	if data, _ := os.ReadFile(existing); !strings.HasPrefix(string(data), "# A starter spec for pgpoolgen") {
		t.Errorf("--force did not replace the file: %q", data)
	}
}
