package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// realProgram finds a program of Debian's pgpool2 package. CI installs it, so there a missing
// program fails the test; elsewhere the test is skipped.
func realProgram(t *testing.T, name string) string {
	t.Helper()
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; .ci/run installs Debian's pgpool2", name)
	}
	t.Skipf("%s is not installed (apt-get install pgpool2)", name)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestPcpConfMatchesPgMD5 builds a bundle with pcp users whose passwords come from the
// environment and checks each pcp.conf line against what Debian's pg_md5 prints.
func TestPcpConfMatchesPgMD5(t *testing.T) {
	pgmd5 := realProgram(t, "pg_md5")
	passwords := map[string]string{
		"pgpool2": "pass-pgpool2", // the source document's (S9)
		"alice":   "a much longer pass phrase with spaces",
		"bob":     `quo"tes'and\backslash$(x)`,
		"carol":   "ünïcödé-pässwörd",
		"dave":    strings.Repeat("x", 128), // pg_md5's limit
	}
	spec := `
[cluster]
name = "md5"
mode = "streaming_replication"
pgpool_version = "4.3"
postgresql_version = "15"
[layout]
preset = "debian"
[[host]]
name = "p"
address = "127.0.0.1"
roles = ["pgpool", "primary"]
[[hba]]
address = "127.0.0.1/32"
method = "trust"
`
	names := []string{"alice", "bob", "carol", "dave", "pgpool2"}
	for _, n := range names {
		spec += "[[pcp_user]]\nname = \"" + n + "\"\npassword_env = \"PCP_" + strings.ToUpper(n) + "\"\n"
		t.Setenv("PCP_"+strings.ToUpper(n), passwords[n])
	}
	dir := t.TempDir()
	specFile := filepath.Join(dir, "cluster.toml")
	if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr strings.Builder
	if code := run([]string{"build", specFile, "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(out, "hosts/p/files/etc/pgpool2/pcp.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(names) {
		t.Fatalf("pcp.conf has %d user lines, want %d:\n%s", len(lines), len(names), data)
	}
	for i, n := range names {
		out, err := exec.Command(pgmd5, passwords[n]).Output()
		if err != nil {
			t.Fatalf("pg_md5: %v", err)
		}
		want := n + ":" + strings.TrimSpace(string(out))
		if lines[i] != want {
			t.Errorf("pcp.conf line %d = %q, pg_md5 gives %q", i, lines[i], want)
		}
	}
	if lines[len(lines)-1] != "pgpool2:80e4b055b928d76dc7bdbc2dbedb9307" {
		t.Errorf("the source document's line is %q, want pgpool2:80e4b055b928d76dc7bdbc2dbedb9307", lines[len(lines)-1])
	}
}

// TestPoolPasswdMatchesPgMD5 checks pool_passwd entries against what Debian's pg_md5 -m writes.
func TestPoolPasswdMatchesPgMD5(t *testing.T) {
	pgmd5 := realProgram(t, "pg_md5")
	t.Setenv("APP_PASSWORD", "app-secret")
	caseDir := filepath.Join(goldenDir, "debian-streaming")
	out := filepath.Join(t.TempDir(), "out")
	build(t, caseDir, out)
	got, err := os.ReadFile(filepath.Join(out, "hosts/pgpool1/merge/etc/pgpool2/pool_passwd"))
	if err != nil {
		t.Fatal(err)
	}
	// pg_md5 -m writes pool_passwd beside the pgpool.conf that -f names.
	dir := t.TempDir()
	conf, err := os.ReadFile(filepath.Join(out, "hosts/pgpool1/files/etc/pgpool2/pgpool.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pgpool.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pgmd5, "-m", "-u", "app", "-f", filepath.Join(dir, "pgpool.conf"), "app-secret").CombinedOutput(); err != nil {
		t.Fatalf("pg_md5 -m: %v\n%s", err, out)
	}
	want, err := os.ReadFile(filepath.Join(dir, "pool_passwd"))
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(want))
	if !strings.Contains(string(got), line+"\n") {
		t.Errorf("pool_passwd holds\n%s\npg_md5 -m writes %q", got, line)
	}
}
