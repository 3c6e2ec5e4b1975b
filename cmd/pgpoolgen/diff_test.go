package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// diffRun runs "pgpoolgen ARGS..." in process with the golden case's environment.
func diffRun(t *testing.T, caseDir string, args ...string) (int, string, string) {
	t.Helper()
	for k, v := range readEnv(t, caseDir) {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestDiffSharedHunk edits the same line of every host's setup.sh in a built bundle: diff
// shows it once, with the four hosts, and build --check agrees.
func TestDiffSharedHunk(t *testing.T) {
	caseDir := filepath.Join(goldenDir, "seed-master-slave")
	spec := filepath.Join(caseDir, "cluster.toml")
	out := filepath.Join(t.TempDir(), "out")
	build(t, caseDir, out)
	for _, args := range [][]string{{"diff", spec, "-o", out}, {"build", spec, "--check", "-o", out}, {"diff", spec, "-o", out, "--stat"}} {
		if code, stdout, stderr := diffRun(t, caseDir, args...); code != 0 || stdout != "" || stderr != "" {
			t.Fatalf("%v on an unchanged bundle: exit %d, stdout %q, stderr %q; want 0 and nothing", args, code, stdout, stderr)
		}
	}
	hosts := []string{"master", "pgpool", "slave1", "slave2"}
	for _, h := range hosts {
		p := filepath.Join(out, "hosts", h, "setup.sh")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		edited := regexp.MustCompile(`(?m)^# problem MESSAGE: records a reason to stop, once.$`).ReplaceAll(data, []byte("# problem MESSAGE: records a reason to stop."))
		if bytes.Equal(edited, data) {
			t.Fatalf("%s lacks the line to edit", p)
		}
		if err := os.WriteFile(p, edited, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, _ := diffRun(t, caseDir, "diff", spec, "-o", out)
	if code != 1 {
		t.Fatalf("diff: exit %d, want 1\n%s", code, stdout)
	}
	// The hosts in spec order (pgpool is the spec's first), not in the order of their paths.
	want := "# the same change in 4 hosts: pgpool, master, slave1, slave2\n" +
		"--- a/hosts/*/setup.sh\n+++ b/hosts/*/setup.sh\n" +
		"@@ -"
	if !strings.HasPrefix(stdout, want) {
		t.Fatalf("diff does not start with the shared hunk %q:\n%s", want, stdout)
	}
	if n := strings.Count(stdout, "\n@@ "); n != 1 {
		t.Errorf("diff has %d hunks, want the one shared hunk:\n%s", n, stdout)
	}
	if n := strings.Count(stdout, "\n-# problem MESSAGE: records a reason to stop.\n+# problem MESSAGE: records a reason to stop, once.\n"); n != 1 {
		t.Errorf("diff shows the change %d times, want once:\n%s", n, stdout)
	}
	if code, stdout2, _ := diffRun(t, caseDir, "build", spec, "--check", "-o", out); code != 1 || stdout2 != stdout {
		t.Errorf("build --check: exit %d and\n%s\nwant exit 1 and diff's output", code, stdout2)
	}
	code, stat, _ := diffRun(t, caseDir, "diff", spec, "-o", out, "--stat")
	wantStat := "hosts/master/setup.sh +1 -1\nhosts/pgpool/setup.sh +1 -1\nhosts/slave1/setup.sh +1 -1\nhosts/slave2/setup.sh +1 -1\n4 files differ, +4 -4\n"
	if code != 1 || stat != wantStat {
		t.Errorf("diff --stat: exit %d and\n%s\nwant 1 and\n%s", code, stat, wantStat)
	}
}

// TestDiffSharedAcrossContext: a template line edited in every pgpool host's escalation.sh,
// whose lines after it (the table of the other pgpool hosts) differ from host to host, is one
// shared change too, shown with the first host's context.
func TestDiffSharedAcrossContext(t *testing.T) {
	caseDir := filepath.Join(goldenDir, "watchdog-4.3")
	spec := filepath.Join(caseDir, "cluster.toml")
	out := filepath.Join(t.TempDir(), "out")
	build(t, caseDir, out)
	const line = "PEER_NAME=() PEER_HOST=() PEER_IF=()\n"
	for _, h := range []string{"pgpool1", "pgpool2", "pgpool3"} {
		p := filepath.Join(out, "hosts", h, "files/etc/pgpool2/escalation.sh")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("\n"+line)) {
			t.Fatalf("%s lacks the line to edit", p)
		}
		if err := os.WriteFile(p, bytes.Replace(data, []byte("\n"+line), []byte("\nPEER_NAME=()\n"), 1), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, _ := diffRun(t, caseDir, "diff", spec, "-o", out)
	want := "# the same change in 3 hosts: pgpool1, pgpool2, pgpool3\n" +
		"--- a/hosts/*/files/etc/pgpool2/escalation.sh\n+++ b/hosts/*/files/etc/pgpool2/escalation.sh\n"
	if code != 1 || !strings.HasPrefix(stdout, want) || strings.Count(stdout, "\n@@ ") != 1 || !strings.Contains(stdout, "(lines and context of pgpool1)") ||
		!strings.Contains(stdout, "\n-PEER_NAME=()\n+"+line) {
		t.Errorf("diff: exit %d and\n%s\nwant exit 1 and one hunk for the three hosts, after %q", code, stdout, want)
	}
}

// TestDiffReportsEachKind removes a file, adds one, changes a mode: each is reported, exit 1,
// and nothing in the folder changes.
func TestDiffReportsEachKind(t *testing.T) {
	caseDir := filepath.Join(goldenDir, "seed-master-slave")
	spec := filepath.Join(caseDir, "cluster.toml")
	for _, tc := range []struct {
		name   string
		break_ func(out string) error
		want   string
	}{
		{"missing", func(out string) error { return os.Remove(filepath.Join(out, "trust.txt")) },
			"--- /dev/null\n+++ b/trust.txt\nnew file mode 0644\n@@ -0,0 +1,15 @@\n"},
		{"extra", func(out string) error {
			return os.WriteFile(filepath.Join(out, "hosts", "master", "notes"), []byte("x\n"), 0o644)
		},
			"--- a/hosts/master/notes\n+++ /dev/null\nonly in the folder, and not listed in its manifest.json"},
		{"mode", func(out string) error { return os.Chmod(filepath.Join(out, "hosts", "pgpool", "setup.sh"), 0o700) },
			"--- a/hosts/pgpool/setup.sh\n+++ b/hosts/pgpool/setup.sh\nold mode 0700\nnew mode 0755\n"},
		{"folder mode", func(out string) error { return os.Chmod(filepath.Join(out, "hosts", "pgpool"), 0o700) },
			"--- a/hosts/pgpool/\n+++ b/hosts/pgpool/\nold mode 0700\nnew mode 0755\n"},
		{"out mode", func(out string) error { return os.Chmod(out, 0o750) },
			"--- a/./\n+++ b/./\nold mode 0750\nnew mode 0755\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			build(t, caseDir, out)
			if err := tc.break_(out); err != nil {
				t.Fatal(err)
			}
			before := readTree(t, out)
			code, stdout, stderr := diffRun(t, caseDir, "diff", spec, "-o", out)
			if code != 1 || !strings.Contains(stdout, tc.want) {
				t.Errorf("diff: exit %d, stdout\n%s\nstderr %s\nwant exit 1 and %q", code, stdout, stderr, tc.want)
			}
			after := readTree(t, out)
			if len(before.files) != len(after.files) {
				t.Errorf("diff changed the folder")
			}
		})
	}
}

// TestDiffErrors: a spec error and an unreadable folder exit 2, apart from differences (1).
func TestDiffErrors(t *testing.T) {
	caseDir := filepath.Join(goldenDir, "seed-master-slave")
	dir := t.TempDir()
	bad := filepath.Join(dir, "cluster.toml")
	src, err := os.ReadFile(filepath.Join(caseDir, "cluster.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, append(src, []byte("\nnot_a_key = 1\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := diffRun(t, caseDir, "diff", bad, "-o", filepath.Join(dir, "out"))
	if code != 2 || stdout != "" || !strings.Contains(stderr, "not_a_key") || !strings.Contains(stderr, "cluster.toml:") {
		t.Errorf("diff of a bad spec: exit %d, stdout %q, stderr %q; want 2 and the spec's problem", code, stdout, stderr)
	}
	notBundle := filepath.Join(dir, "mine")
	if err := os.MkdirAll(notBundle, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notBundle, "a"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = diffRun(t, caseDir, "build", filepath.Join(caseDir, "cluster.toml"), "--check", "-o", notBundle)
	if code != 2 || !strings.Contains(stderr, "has no manifest.json") {
		t.Errorf("build --check on a folder pgpoolgen did not write: exit %d, stderr %q; want 2", code, stderr)
	}
}
