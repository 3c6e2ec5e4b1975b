package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplain: pgpoolgen explain prints, for every golden case, the sections of the README.md
// that build writes (the golden bundle's), headings and tables in plain text; it writes nothing
// and prints no password; on a wrong spec it fails as check does, and on a wrong command line
// with status 2.
func TestExplain(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			caseDir, err := filepath.Abs(filepath.Join(goldenDir, name))
			if err != nil {
				t.Fatal(err)
			}
			env := readEnv(t, caseDir)
			empty := t.TempDir()
			if err := os.Chdir(empty); err != nil {
				t.Fatal(err)
			}
			defer os.Chdir(cwd)
			code, stdout, stderr := diffRun(t, caseDir, "explain", filepath.Join(caseDir, "cluster.toml"))
			if code != 0 || strings.Contains(stderr, "error") { // warnings are printed as by check
				t.Fatalf("explain: exit %d\n%s", code, stderr)
			}
			readme, err := os.ReadFile(filepath.Join(caseDir, "bundle", "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(readme), "\n") {
				if title, ok := strings.CutPrefix(line, "## "); ok && title != "Picture" {
					if !strings.Contains(stdout, "\n"+title+"\n"+strings.Repeat("-", len(title))+"\n") {
						t.Errorf("explain has no section %q", title)
					}
				}
			}
			if strings.Contains(stdout, "```") || strings.Contains(stdout, "flowchart") {
				t.Error("explain prints Markdown or the Mermaid picture")
			}
			for k, v := range env {
				if strings.Contains(k, "PASSWORD") && strings.Contains(stdout, v) {
					t.Errorf("explain prints the password of %s", k)
				}
			}
			if left, _ := os.ReadDir(empty); len(left) > 0 {
				t.Errorf("explain wrote %v", left)
			}
		})
	}

	spec := filepath.Join(goldenDir, "errors", "watchdog-port-backend.toml")
	var checkOut, checkErr bytes.Buffer
	want := run([]string{"check", spec}, &checkOut, &checkErr)
	code, stdout, stderr := diffRun(t, goldenDir, "explain", spec)
	if code != 1 || want != 1 || stdout != "" || stderr != strings.ReplaceAll(checkErr.String(), "pgpoolgen check:", "pgpoolgen explain:") {
		t.Errorf("explain of a wrong spec: exit %d, stdout %q, stderr\n%s\nwant 1 and what check prints:\n%s", code, stdout, stderr, checkErr.String())
	}
	for _, args := range [][]string{{"explain"}, {"explain", spec, spec}, {"explain", "--bogus", spec}} {
		if code, _, _ := diffRun(t, goldenDir, args...); code != 2 {
			t.Errorf("pgpoolgen %q: exit %d, want 2", args, code)
		}
	}
}
