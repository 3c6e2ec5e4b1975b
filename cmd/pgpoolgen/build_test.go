package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// buildBinary compiles pgpoolgen once for the tests that run it as a separate process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pgpoolgen")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestDeterministic builds every golden case twice, once in process and once as a separate
// process started from another folder with another environment, locale, time zone and umask,
// and requires the same bytes and modes.
func TestDeterministic(t *testing.T) {
	bin := buildBinary(t)
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			caseDir, err := filepath.Abs(filepath.Join(goldenDir, name))
			if err != nil {
				t.Fatal(err)
			}
			first := filepath.Join(t.TempDir(), "out")
			old := syscall.Umask(0)
			build(t, caseDir, first)
			syscall.Umask(old)

			elsewhere := t.TempDir()
			second := filepath.Join(t.TempDir(), "bundle")
			cmd := exec.Command("/bin/sh", "-c", `umask 077; exec "$0" build "$1" -o "$2"`,
				bin, filepath.Join(caseDir, "cluster.toml"), second)
			cmd.Dir = elsewhere
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + elsewhere, "TZ=Pacific/Chatham",
				"LANG=tr_TR.UTF-8", "LC_ALL=tr_TR.UTF-8", "TMPDIR=" + elsewhere}
			for k, v := range readEnv(t, caseDir) {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("second build: %v\n%s", err, out)
			}
			a, b := readTree(t, first), readTree(t, second)
			if diff := cmp.Diff(a.files, b.files); diff != "" {
				t.Errorf("bundles differ (-in process +separate process):\n%s", diff)
			}
			if diff := cmp.Diff(a.modes, b.modes); diff != "" {
				t.Errorf("modes differ (-in process +separate process):\n%s", diff)
			}
			for p, data := range a.files {
				for _, leak := range []string{caseDir, elsewhere, os.TempDir() + "/"} {
					if strings.Contains(data, leak) {
						t.Errorf("%s contains the build machine's path %s", p, leak)
					}
				}
			}
		})
	}
}

// TestRebuild checks the output folder rules: a second build replaces the first and drops the
// files it no longer writes; a folder holding anything else is refused and left untouched.
func TestRebuild(t *testing.T) {
	caseDir := filepath.Join(goldenDir, "seed-master-slave")
	out := filepath.Join(t.TempDir(), "out")
	build(t, caseDir, out)

	// A file the previous bundle listed but this one does not: it goes. Fake it by listing an
	// extra file in the manifest, as a bundle of an older spec would have.
	stale := filepath.Join(out, "hosts", "gone", "files", "etc", "old.conf")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(out, "manifest.json")
	m, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("old\n"))
	m = bytes.Replace(m, []byte(`"files": [`), []byte(`"files": [{"path": "hosts/gone/files/etc/old.conf", "sha256": "`+hex.EncodeToString(sum[:])+`"},`), 1)
	if err := os.WriteFile(manifest, m, 0o644); err != nil {
		t.Fatal(err)
	}
	build(t, caseDir, out)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale file of the previous bundle survived the rebuild: %v", err)
	}

	// A file pgpoolgen never wrote: the build is refused and nothing changes.
	foreign := filepath.Join(out, "hosts", "pgpool", "notes.txt")
	if err := os.WriteFile(foreign, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := readTree(t, out)
	var stdout, stderr bytes.Buffer
	t.Setenv("SEED_PCP_PASSWORD", "pass-pgpool2")
	code := run([]string{"build", filepath.Join(caseDir, "cluster.toml"), "-o", out}, &stdout, &stderr)
	if code != exitUsage {
		t.Errorf("build into a folder with a foreign file: exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr.String(), "hosts/pgpool/notes.txt") {
		t.Errorf("the error does not name the foreign file: %s", stderr.String())
	}
	if diff := cmp.Diff(before, readTree(t, out), cmp.AllowUnexported(tree{})); diff != "" {
		t.Errorf("a refused build changed the folder:\n%s", diff)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("a refused build left %d entries beside the output folder, want 1", len(entries))
	}

	// A folder that is not a bundle at all.
	plain := t.TempDir()
	if err := os.WriteFile(filepath.Join(plain, "cluster.toml"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"build", filepath.Join(caseDir, "cluster.toml"), "-o", plain}, &stdout, &stderr); code != exitUsage {
		t.Errorf("build into a user's folder: exit %d, want %d", code, exitUsage)
	}
	if _, err := os.Stat(filepath.Join(plain, "cluster.toml")); err != nil {
		t.Errorf("the user's file is gone: %v", err)
	}
}

// TestCommandLine checks exit statuses and help.
func TestCommandLine(t *testing.T) {
	t.Setenv("SEED_PCP_PASSWORD", "pass-pgpool2")
	spec := filepath.Join(goldenDir, "seed-replication", "cluster.toml")
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // a substring of stdout
		stderr string // a substring of stderr
	}{
		{nil, exitUsage, "", "Commands:"},
		{[]string{"--help"}, exitOK, "pgpoolgen COMMAND", ""},
		{[]string{"help"}, exitOK, "check", ""},
		{[]string{"help", "build"}, exitOK, "--output", ""},
		{[]string{"help", "build"}, exitOK, "--force", ""},
		{[]string{"build", "--help"}, exitOK, "Usage: pgpoolgen build", ""},
		{[]string{"check", "-h"}, exitOK, "Usage: pgpoolgen check", ""},
		{[]string{"help", "nope"}, exitUsage, "", `unknown command "nope"`},
		{[]string{"nope"}, exitUsage, "", `unknown command "nope"`},
		{[]string{"version"}, exitOK, "pgpoolgen ", ""},
		{[]string{"check"}, exitUsage, "", "want one spec file"},
		{[]string{"check", spec, spec}, exitUsage, "", "want one spec file"},
		{[]string{"check", "--bogus", spec}, exitUsage, "", "unknown flag: --bogus"},
		{[]string{"check", "/nonexistent/cluster.toml"}, exitUsage, "", "cannot read the spec"},
		{[]string{"check", spec}, exitOK, `cluster "seed-replication" is valid`, ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("pgpoolgen %q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}

// TestNoPasswordInOutput builds with a password in the environment and checks that it appears
// nowhere in the bundle nor in what pgpoolgen prints, also with --verbose.
func TestNoPasswordInOutput(t *testing.T) {
	const secret = "pass-pgpool2"
	t.Setenv("SEED_PCP_PASSWORD", secret)
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build", "-v", filepath.Join(goldenDir, "seed-master-slave", "cluster.toml"), "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("build: %d %s", code, stderr.String())
	}
	for p, data := range readTree(t, out).files {
		if strings.Contains(data, secret) {
			t.Errorf("%s holds the password", p)
		}
	}
	if strings.Contains(stdout.String()+stderr.String(), secret) {
		t.Errorf("the password was printed")
	}
}

// TestForce edits a file of a written bundle: build refuses and names it, build --force
// replaces it, and --force still refuses a file that no bundle listed.
func TestForce(t *testing.T) {
	caseDir := filepath.Join(goldenDir, "seed-master-slave")
	spec := filepath.Join(caseDir, "cluster.toml")
	out := filepath.Join(t.TempDir(), "out")
	build(t, caseDir, out)
	want := readTree(t, out)
	edited := filepath.Join(out, "hosts", "pgpool", "setup.sh")
	if err := os.WriteFile(edited, []byte("#!/bin/sh\n# my fix\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build", spec, "-o", out}, &stdout, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "hosts/pgpool/setup.sh") || !strings.Contains(stderr.String(), "--force") {
		t.Fatalf("build over an edited file: exit %d, stderr %q; want exit %d naming the file and --force", code, stderr.String(), exitUsage)
	}
	if data, _ := os.ReadFile(edited); !strings.Contains(string(data), "my fix") {
		t.Errorf("a refused build replaced the edited file")
	}

	foreign := filepath.Join(out, "hosts", "pgpool", "notes.txt")
	if err := os.WriteFile(foreign, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"build", spec, "-o", out, "--force"}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "hosts/pgpool/notes.txt") {
		t.Errorf("build --force over a foreign file: exit %d, stderr %q; want exit %d naming it", code, stderr.String(), exitUsage)
	}
	if err := os.Remove(foreign); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"build", spec, "-o", out, "--force"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("build --force over an edited file: exit %d, stderr %q", code, stderr.String())
	}
	if diff := cmp.Diff(want, readTree(t, out), cmp.AllowUnexported(tree{})); diff != "" {
		t.Errorf("build --force did not write the bundle:\n%s", diff)
	}
}

// TestBuildKilled starts the built binary replacing one bundle by another and SIGKILLs it
// after delays spread over a build's run: after every kill out/ must be exactly the old or
// the new bundle, and the next build must write its bundle and leave nothing beside out/.
func TestBuildKilled(t *testing.T) {
	bin := buildBinary(t)
	cases := []string{"debian-streaming", "wide-ipv6-native"}
	env := os.Environ()
	for _, c := range cases {
		for k, v := range readEnv(t, filepath.Join(goldenDir, c)) {
			env = append(env, k+"="+v)
		}
	}
	start := func(c, out string) *exec.Cmd {
		cmd := exec.Command(bin, "build", filepath.Join(goldenDir, c, "cluster.toml"), "-o", out)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	complete := func(c, out string) time.Duration {
		t.Helper()
		began := time.Now()
		cmd := start(c, out)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("build %s: %v", c, err)
		}
		return time.Since(began)
	}
	wants := map[string]tree{}
	for _, c := range cases {
		out := filepath.Join(t.TempDir(), "out")
		complete(c, out)
		wants[c] = readTree(t, out)
	}
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	took := complete(cases[0], out)
	const rounds = 30
	var outcomes [3]int // finished, killed leaving the old bundle, killed leaving the new one
	for i := range rounds {
		old, target := cases[i%2], cases[(i+1)%2]
		cmd := start(target, out)
		// Delays from 0 to the last build's run time, so that kills land in every phase; where
		// one lands is not asserted, only what it leaves.
		delay := took * time.Duration(i) / rounds
		time.Sleep(delay)
		cmd.Process.Kill()
		err := cmd.Wait()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		if _, err := os.Lstat(out); err != nil {
			t.Fatalf("round %d: killed after %v: out/ is gone: %v", i, delay, err)
		}
		got := readTree(t, out)
		isOld := cmp.Equal(got, wants[old], cmp.AllowUnexported(tree{}))
		isNew := cmp.Equal(got, wants[target], cmp.AllowUnexported(tree{}))
		switch {
		case err == nil:
			outcomes[0]++
			if !isNew {
				t.Fatalf("round %d: the build finished but out/ is not its bundle", i)
			}
		case isOld:
			outcomes[1]++
		case isNew:
			outcomes[2]++
		default:
			t.Fatalf("round %d: killed, and out/ is neither the old nor the new bundle", i)
		}
		// The next build recovers and finishes; the one after starts from its bundle.
		took = complete(target, out)
		if !cmp.Equal(readTree(t, out), wants[target], cmp.AllowUnexported(tree{})) {
			t.Fatalf("round %d: the build after a kill did not write its bundle", i)
		}
		if list, _ := os.ReadDir(parent); len(list) != 1 {
			t.Fatalf("round %d: the build after a kill left %d entries beside out/, want only out/", i, len(list))
		}
	}
	t.Logf("%d rounds, the last build took %v: %d finished, %d killed leaving the old bundle, %d killed leaving the new one",
		rounds, took, outcomes[0], outcomes[1], outcomes[2])
	if outcomes[0] == rounds {
		t.Errorf("no build was killed: the delays are too long for this machine")
	}
}

// TestWarningsDoNotStopTheBuild: a spec Load warns about (two pgpool hosts) builds, and the
// warning is on standard error with its file, line and key path.
func TestWarningsDoNotStopTheBuild(t *testing.T) {
	caseDir := t.TempDir()
	copyDir(t, filepath.Join(goldenDir, "watchdog-4.3"), caseDir, "cluster.toml", "keys", "pcp-password.txt")
	spec := filepath.Join(caseDir, "cluster.toml")
	src := readFile(t, spec)
	third := "\n[[host]]\nname = \"pgpool3\"\naddress = \"192.0.2.23\"\nroles = [\"pgpool\"]\nssh_key_file = \"keys/pgpool3.pub\"\nhost_key_file = \"keys/pgpool3.host.pub\"\ninterface = \"ens3\"\n"
	if !strings.Contains(src, third) {
		t.Fatalf("golden/watchdog-4.3 has no pgpool3 to remove")
	}
	if err := os.WriteFile(spec, []byte(strings.Replace(src, third, "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "out")
	if code := run([]string{"build", spec, "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, stderr.String())
	}
	want := spec + ":16:2: warning: watchdog: 2 pgpool hosts: the watchdog has a quorum only while more than half of them, 2, see each other"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant a line with\n%s", stderr.String(), want)
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Errorf("no bundle after a warning: %v", err)
	}
}
