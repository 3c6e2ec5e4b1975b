package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// secretRE finds passwords written in a spec: password = "…" and ldapbindpasswd=….
var secretRE = regexp.MustCompile(`(?:password\s*=\s*"|ldapbindpasswd=)([^"\s]+)`)

// Each golden/errors/NAME.toml is a bad spec; NAME.stderr is exactly what "pgpoolgen check"
// prints for it. The specs are checked from inside that folder, so messages name NAME.toml.
func TestErrors(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join(goldenDir, "errors"))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) < 25 {
		t.Fatalf("found %d bad specs in %s, want at least 25", len(specs), dir)
	}
	t.Chdir(dir)
	for _, spec := range specs {
		name := strings.TrimSuffix(filepath.Base(spec), ".toml")
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"check", name + ".toml"}, &stdout, &stderr)
			if code != exitSpec {
				t.Errorf("exit status %d, want %d", code, exitSpec)
			}
			if stdout.Len() > 0 {
				t.Errorf("printed on stdout: %q", stdout.String())
			}
			// No secret written in a bad spec may be echoed back.
			src, _ := os.ReadFile(name + ".toml")
			for _, m := range secretRE.FindAllStringSubmatch(string(src), -1) {
				if strings.Contains(stderr.String(), m[1]) {
					t.Errorf("stderr repeats the secret %q", m[1])
				}
			}
			wantFile := name + ".stderr"
			if *update {
				if err := os.WriteFile(wantFile, stderr.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(stderr.String(), "\n")); diff != "" {
				t.Errorf("stderr differs (-want +got):\n%s", diff)
			}

			// build must fail the same way and write nothing.
			out := filepath.Join(t.TempDir(), "out")
			stderr.Reset()
			if code := run([]string{"build", name + ".toml", "-o", out}, &stdout, &stderr); code != exitSpec {
				t.Errorf("build: exit status %d, want %d", code, exitSpec)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("build of a bad spec created %s", out)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
				t.Errorf("build of a bad spec left %d entries beside the output folder", len(entries))
			}
		})
	}
}
