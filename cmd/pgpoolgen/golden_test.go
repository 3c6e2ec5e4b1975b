package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgpoolgen/gen/fixture"
)

// update rewrites the golden bundles and error texts from what the program produces now; the
// specs are never rewritten. Read every changed line before committing: a golden file claims
// the bundle is right for its pgpool-II version.
var update = flag.Bool("update", false, "rewrite golden files")

const goldenDir = "../../golden"

// goldenCases lists the golden cases (see gen/fixture).
func goldenCases(t *testing.T) []string {
	t.Helper()
	cases, err := fixture.List(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 4 {
		t.Fatalf("found %d golden cases in %s, want at least 4", len(cases), goldenDir)
	}
	return cases
}

// readEnv reads a case's test.env.
func readEnv(t *testing.T, dir string) map[string]string {
	t.Helper()
	env, err := fixture.Env(dir)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// tree is a folder read into memory: slash path → content, and path → permission bits.
type tree struct {
	files map[string]string
	modes map[string]fs.FileMode
}

func readTree(t *testing.T, root string) tree {
	t.Helper()
	tr := tree{files: map[string]string{}, modes: map[string]fs.FileMode{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			tr.modes[rel+"/"] = info.Mode().Perm()
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		tr.files[rel] = string(data)
		tr.modes[rel] = info.Mode().Perm()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// build runs "pgpoolgen build" in process with the case's environment.
func build(t *testing.T, caseDir, out string) {
	t.Helper()
	for k, v := range readEnv(t, caseDir) {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"build", filepath.Join(caseDir, "cluster.toml"), "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("pgpoolgen build %s: exit %d\n%s", caseDir, code, stderr.String())
	}
}

func TestGolden(t *testing.T) {
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			caseDir := filepath.Join(goldenDir, name)
			out := filepath.Join(t.TempDir(), "out")
			build(t, caseDir, out)
			got := readTree(t, out)
			want := filepath.Join(caseDir, "bundle")
			if *update {
				if err := os.RemoveAll(want); err != nil {
					t.Fatal(err)
				}
				for p, data := range got.files {
					dst := filepath.Join(want, filepath.FromSlash(p))
					if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(dst, []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			wantTree := readTree(t, want)
			if diff := cmp.Diff(keys(wantTree.files), keys(got.files)); diff != "" {
				t.Errorf("bundle files differ (-want +got):\n%s", diff)
			}
			for _, p := range keys(got.files) {
				if w, ok := wantTree.files[p]; ok {
					if diff := cmp.Diff(strings.Split(w, "\n"), strings.Split(got.files[p], "\n")); diff != "" {
						t.Errorf("%s differs (-want +got):\n%s", p, diff)
					}
				}
			}
			// Git keeps no file modes but the executable bit, so the modes are checked
			// against the golden manifest, which records them.
			checkModes(t, got, wantTree.files["manifest.json"])
			for _, f := range keys(got.files) {
				if f != "manifest.json" && !strings.HasSuffix(got.files[f], "\n") {
					t.Errorf("%s does not end in a newline", f)
				}
			}
		})
	}
}

// checkModes compares the modes of the written files with those in the manifest, and checks
// that the manifest lists every file but itself.
func checkModes(t *testing.T, got tree, manifestJSON string) {
	t.Helper()
	var m struct {
		Files []struct {
			Path string `json:"path"`
			Mode string `json:"mode"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(manifestJSON), &m); err != nil {
		t.Fatalf("golden manifest.json: %v", err)
	}
	listed := map[string]string{}
	for _, f := range m.Files {
		listed[f.Path] = f.Mode
	}
	for p, mode := range got.modes {
		switch {
		case strings.HasSuffix(p, "/"):
			if mode != 0o755 {
				t.Errorf("folder %s has mode %04o, want 0755", p, mode)
			}
		case p == "manifest.json":
			if mode != 0o644 {
				t.Errorf("manifest.json has mode %04o, want 0644", mode)
			}
		case listed[p] == "":
			t.Errorf("%s is not in manifest.json", p)
		case modeString(mode) != listed[p]:
			t.Errorf("%s has mode %s, manifest says %s", p, modeString(mode), listed[p])
		}
	}
	for p := range listed {
		if _, ok := got.files[p]; !ok {
			t.Errorf("manifest.json lists %s, which the bundle lacks", p)
		}
	}
}

func modeString(m fs.FileMode) string { return fmt.Sprintf("%04o", m.Perm()) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
