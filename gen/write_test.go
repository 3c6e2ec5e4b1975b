package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bundleA and bundleB are two small bundles that differ in content and in the files they have,
// so a swap from one to the other drops files, adds files and changes files.
func bundleA() *Bundle {
	return testBundle("a", map[string]string{
		"/etc/a.conf":      "a = 1\n",
		"/etc/deep/x.conf": "x\n",
	})
}

func bundleB() *Bundle {
	return testBundle("b", map[string]string{
		"/etc/a.conf": "a = 2\n",
		"/etc/b.conf": "b = 2\n",
	})
}

func testBundle(cluster string, replace map[string]string) *Bundle {
	b := &Bundle{Cluster: cluster}
	for dest, data := range replace {
		b.Files = append(b.Files, &File{Host: "pg1", Dest: dest, Mode: 0o640, Data: []byte(data)})
	}
	b.Files = append(b.Files,
		&File{Host: "pg1", Name: "setup.sh", Install: Run, Mode: 0o755, Data: []byte("#!/bin/sh\necho " + cluster + "\n")},
		&File{Name: "trust.txt", Install: Read, Mode: 0o644, Data: []byte("trust " + cluster + "\n")})
	sortFiles(b.Files)
	return b
}

// snapshot is a folder's whole content: each entry with its kind, mode and bytes. A missing
// folder is nil.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel+"/"] = info.Mode().String()
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = info.Mode().String() + " " + string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// want is the snapshot of b written into a fresh folder.
func want(t *testing.T, b *Bundle) map[string]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	if err := Write(out, b, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return snapshot(t, out)
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

// withHook runs f with stepHook stopping Write at the stop-th step (counting from 0; -1 never
// stops) and returns the steps seen.
func withHook(stop int, f func()) []string {
	var steps []string
	stepHook = func(step string) bool {
		steps = append(steps, step)
		return len(steps)-1 == stop
	}
	defer func() { stepHook = nil }()
	f()
	return steps
}

// withFallback runs f as on a system without renameat2(RENAME_EXCHANGE).
func withFallback(on bool, f func()) {
	if on {
		exchange = func(a, b string) error { return errNoExchange }
		defer func() { exchange = exchangeDirs }()
	}
	f()
}

// TestWriteKilled stops Write after each of its steps, as a kill would, first while it
// replaces bundle A by B, then again at each step of the next build's recovery, and checks every time that
// out/ is exactly A or exactly B (or, in the fallback swap, missing only between its two
// renames), and that one more uninterrupted build writes its bundle and leaves nothing else
// beside out/.
func TestWriteKilled(t *testing.T) {
	a, b := bundleA(), bundleB()
	wantA, wantB := want(t, a), want(t, b)
	for _, fallback := range []bool{false, true} {
		t.Run(fmt.Sprintf("fallback=%v", fallback), func(t *testing.T) {
			withFallback(fallback, func() {
				// The steps of replacing A by B.
				parent := t.TempDir()
				out := filepath.Join(parent, "out")
				if err := Write(out, a, WriteOptions{}); err != nil {
					t.Fatal(err)
				}
				var steps []string
				steps = withHook(-1, func() {
					if err := Write(out, b, WriteOptions{}); err != nil {
						t.Fatal(err)
					}
				})
				if len(steps) < 10 {
					t.Fatalf("only %d steps seen: %q", len(steps), steps)
				}
				first := 0
				if fallback {
					// Up to the swap, the fallback's steps are the exchange's, tested above.
					first = slices.Index(steps, "old bundle aside") - 1
					if first < 0 {
						t.Fatalf("the fallback has no step %q: %q", "old bundle aside", steps)
					}
				}
				// Kills of the next build are tried after the kills that leave each kind of
				// leftover: a file cut short, a whole staging folder, the aside folder, the old
				// bundle whole and partly removed. Trying them after every step takes minutes
				// on a loaded disk and finds nothing more.
				swapped := slices.Index(steps, "swapped")
				nested := map[int]bool{swapped - 3: true, swapped - 2: true, swapped - 1: true, swapped: true, swapped + 2: true, len(steps) - 2: true}
				for i := first; i < len(steps); i++ {
					killedAt(t, fallback, i, steps[i], a, b, wantA, wantB, nested[i])
				}
			})
		})
	}
}

// killedAt checks one kill at step i of replacing a by b, the next build, and if nested every
// kill of that build's recovery.
func killedAt(t *testing.T, fallback bool, i int, step string, a, b *Bundle, wantA, wantB map[string]string, nested bool) {
	t.Helper()
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	if err := Write(out, a, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	withHook(i, func() {
		if err := Write(out, b, WriteOptions{}); !errors.Is(err, errStopped) {
			t.Fatalf("killed at %q: Write returned %v", step, err)
		}
	})
	state := snapshot(t, out)
	missingOK := fallback && step == "old bundle aside"
	if !cmp.Equal(state, wantA) && !cmp.Equal(state, wantB) && !(missingOK && state == nil) {
		t.Fatalf("killed at %q: out/ is neither the old nor the new bundle:\n%v", step, state)
	}
	if state == nil {
		// The old bundle comes back before anything else happens.
		withHook(0, func() {
			if err := Write(out, b, WriteOptions{}); !errors.Is(err, errStopped) {
				t.Fatalf("killed at %q, then at recovery: Write returned %v", step, err)
			}
		})
		if got := snapshot(t, out); !cmp.Equal(got, wantA) {
			t.Fatalf("killed at %q: recovery did not put the old bundle back:\n%v", step, got)
		}
	}
	// The next build may itself be killed at any step of its recovery (after that, it is the
	// kill above from a clean start); the state before it is saved to redo it.
	saved := t.TempDir()
	copyTree(t, parent, saved)
	next := withHook(-1, func() {
		if err := Write(out, a, WriteOptions{}); err != nil {
			t.Fatalf("killed at %q: the next build failed: %v", step, err)
		}
	})
	checkClean(t, parent, wantA, "killed at "+step+", then a full build")
	if !nested {
		return
	}
	for j, step2 := range next {
		if j > 0 && next[j-1] == "recovered" {
			break
		}
		if err := os.RemoveAll(parent); err != nil {
			t.Fatal(err)
		}
		copyTree(t, saved, parent)
		withHook(j, func() {
			if err := Write(out, a, WriteOptions{}); !errors.Is(err, errStopped) {
				t.Fatalf("killed at %q, then at %q: Write returned %v", step, step2, err)
			}
		})
		state := snapshot(t, out)
		if !cmp.Equal(state, wantA) && !cmp.Equal(state, wantB) && !(fallback && state == nil && step2 == "old bundle aside") {
			t.Fatalf("killed at %q, then at %q: out/ is neither the old nor the new bundle:\n%v", step, step2, state)
		}
		if err := Write(out, b, WriteOptions{}); err != nil {
			t.Fatalf("killed at %q, then at %q: the next build failed: %v", step, step2, err)
		}
		checkClean(t, parent, wantB, "killed at "+step+", then at "+step2+", then a full build")
	}
}

func checkClean(t *testing.T, parent string, want map[string]string, what string) {
	t.Helper()
	if got := snapshot(t, filepath.Join(parent, "out")); !cmp.Equal(got, want) {
		t.Fatalf("%s: out/ is not the bundle built:\n%s", what, cmp.Diff(want, got))
	}
	if names := entries(t, parent); len(names) != 1 {
		t.Fatalf("%s: left %q beside out/", what, names)
	}
}

// copyTree copies the folder from into to (existing or not), keeping modes.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			return os.Chmod(dst, info.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			return err
		}
		return os.Chmod(dst, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestManifestStart checks the start partialManifest relies on.
func TestManifestStart(t *testing.T) {
	if m := string(bundleA().Manifest()); !strings.HasPrefix(m, manifestStart) {
		t.Errorf("manifest.json starts %q, want %q", m[:min(len(m), 40)], manifestStart)
	}
}

// TestLeftovers checks what the next build does with folders beside out/ that are not a clean
// kill's: the user's are refused untouched, and so is a leftover with a file edited other than
// the last one written.
func TestLeftovers(t *testing.T) {
	a := bundleA()
	for _, tc := range []struct {
		name   string
		make   func(t *testing.T, leftover string)
		refuse string // a substring of the error; "" when the leftover is removed
	}{
		{"empty", func(t *testing.T, l string) { mkdir(t, l) }, ""},
		{"only a cut manifest", func(t *testing.T, l string) {
			mkdir(t, l)
			writeFile(t, filepath.Join(l, ManifestName), manifestStart[:7])
		}, ""},
		{"the user's manifest.json alone", func(t *testing.T, l string) {
			mkdir(t, l)
			writeFile(t, filepath.Join(l, ManifestName), `{"mine": true}`)
		}, "did not write"},
		{"the user's file", func(t *testing.T, l string) {
			mkdir(t, l)
			writeFile(t, filepath.Join(l, "notes.txt"), "mine\n")
		}, "holds notes.txt"},
		{"a bundle with a foreign file", func(t *testing.T, l string) {
			if err := Write(l, a, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(l, "hosts", "notes.txt"), "mine\n")
		}, "hosts/notes.txt"},
		{"a bundle with its last file cut", func(t *testing.T, l string) {
			if err := Write(l, a, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(l, "trust.txt"), "tru")
		}, ""},
		{"a bundle with an earlier file edited", func(t *testing.T, l string) {
			if err := Write(l, a, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(l, "hosts", "pg1", "setup.sh"), "edited\n")
		}, "hosts/pg1/setup.sh"},
		{"a file", func(t *testing.T, l string) { writeFile(t, l, "x") }, "not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			if err := Write(out, a, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			leftover := filepath.Join(parent, ".out.new-123")
			tc.make(t, leftover)
			before := snapshot(t, leftover)
			err := Write(out, bundleB(), WriteOptions{})
			if tc.refuse == "" {
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				if names := entries(t, parent); len(names) != 1 {
					t.Errorf("left %q beside out/", names)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.refuse) || !strings.Contains(err.Error(), leftover) {
				t.Fatalf("Write: %v; want an error naming %s and %q", err, leftover, tc.refuse)
			}
			if after := snapshot(t, leftover); !cmp.Equal(before, after) {
				t.Errorf("the refused leftover changed: %s", cmp.Diff(before, after))
			}
		})
	}
	// A name that is not ours is never looked at.
	parent := t.TempDir()
	other := filepath.Join(parent, ".out.new-x1")
	mkdir(t, other)
	if err := Write(filepath.Join(parent, "out"), a, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a folder whose name only looks like ours was touched: %v", err)
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sum(data string) string {
	s := sha256.Sum256([]byte(data))
	return hex.EncodeToString(s[:])
}

// TestForgedManifest puts a manifest.json that pgpoolgen did not write beside the user's files:
// none of it makes them ours, and the folder is left as it was.
func TestForgedManifest(t *testing.T) {
	for _, tc := range []struct {
		name, manifest, refuse string
	}{
		{"no sha256", `{"format": 1, "files": [{"path": "notes.txt"}, {"path": "data/x"}]}`, "sha256"},
		{"another format", `{"format": 7, "files": [{"path": "notes.txt", "sha256": "` + sum("mine\n") + `"}, {"path": "data/x", "sha256": "` + sum("x\n") + `"}]}`, "format"},
		{"no format", `{"files": []}`, "format"},
		{"a path outside", `{"format": 1, "files": [{"path": "../notes.txt", "sha256": "` + sum("mine\n") + `"}]}`, "clean relative"},
		{"an absolute path", `{"format": 1, "files": [{"path": "/etc/passwd", "sha256": "` + sum("mine\n") + `"}]}`, "clean relative"},
		{"an unclean path", `{"format": 1, "files": [{"path": "data//x", "sha256": "` + sum("x\n") + `"}]}`, "clean relative"},
		{"wrong sums", `{"format": 1, "files": [{"path": "notes.txt", "sha256": "` + sum("other") + `"}, {"path": "data/x", "sha256": "` + sum("y") + `"}]}`, "data/x, notes.txt"},
		{"trailing text", `{"format": 1, "files": []} {}`, "after the JSON"},
		{"not JSON", `format = 1`, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			writeFile(t, filepath.Join(out, "notes.txt"), "mine\n")
			writeFile(t, filepath.Join(out, "data", "x"), "x\n")
			writeFile(t, filepath.Join(out, ManifestName), tc.manifest)
			before := snapshot(t, out)
			for _, force := range []bool{false, true} {
				err := Write(out, bundleA(), WriteOptions{Force: force})
				if tc.name == "wrong sums" && force {
					// The sums do not match, so those files could be hand-edited bundle
					// files, which --force replaces: that is the one thing it is for.
					continue
				}
				if err == nil || !strings.Contains(err.Error(), tc.refuse) {
					t.Errorf("force=%v: Write: %v; want an error with %q", force, err, tc.refuse)
				}
				if after := snapshot(t, out); !cmp.Equal(before, after) {
					t.Errorf("force=%v: a refused build changed the folder: %s", force, cmp.Diff(before, after))
				}
			}
		})
	}
}

// TestEditedFiles edits files of a written bundle: the next build refuses, names them (a few,
// then a count) and changes nothing; with Force it replaces them. Force does not let a foreign
// file or folder through.
func TestEditedFiles(t *testing.T) {
	many := map[string]string{}
	for i := range 8 {
		many[fmt.Sprintf("/etc/f%d.conf", i)] = fmt.Sprintf("f%d\n", i)
	}
	old := testBundle("old", many)
	b := bundleB()
	out := filepath.Join(t.TempDir(), "out")
	if err := Write(out, old, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	one := filepath.Join(out, "hosts", "pg1", "files", "etc", "f3.conf")
	writeFile(t, one, "my change\n")
	before := snapshot(t, out)
	err := Write(out, b, WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), "hosts/pg1/files/etc/f3.conf") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("Write over an edited file: %v; want an error naming it and --force", err)
	}
	if after := snapshot(t, out); !cmp.Equal(before, after) {
		t.Errorf("a refused build changed the folder: %s", cmp.Diff(before, after))
	}

	for i := range 8 {
		writeFile(t, filepath.Join(out, "hosts", "pg1", "files", "etc", fmt.Sprintf("f%d.conf", i)), "edited\n")
	}
	err = Write(out, b, WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), "hosts/pg1/files/etc/f0.conf, hosts/pg1/files/etc/f1.conf, hosts/pg1/files/etc/f2.conf, hosts/pg1/files/etc/f3.conf, hosts/pg1/files/etc/f4.conf and 3 more") {
		t.Errorf("Write over 8 edited files: %v; want the first five named and 3 more", err)
	}

	foreign := filepath.Join(out, "hosts", "pg1", "notes.txt")
	writeFile(t, foreign, "mine\n")
	if err := Write(out, b, WriteOptions{Force: true}); err == nil || !strings.Contains(err.Error(), "hosts/pg1/notes.txt") {
		t.Errorf("Write with Force over a foreign file: %v; want it refused and named", err)
	}
	if err := os.Remove(foreign); err != nil {
		t.Fatal(err)
	}
	if err := Write(out, b, WriteOptions{Force: true}); err != nil {
		t.Fatalf("Write with Force over edited files: %v", err)
	}
	if got, want := snapshot(t, out), want(t, b); !cmp.Equal(got, want) {
		t.Errorf("Force did not write the new bundle: %s", cmp.Diff(want, got))
	}
}

// TestUserFolders puts folders that the bundle does not have into out/, empty or not: they are
// the user's, so the build refuses and leaves them.
func TestUserFolders(t *testing.T) {
	for _, rel := range []string{"hosts/mine", "hosts/pg1/files/etc/empty", "keep", "hosts/pg1/setup.sh.d"} {
		t.Run(rel, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if err := Write(out, bundleA(), WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			mkdir(t, filepath.Join(out, filepath.FromSlash(rel)))
			for _, force := range []bool{false, true} {
				err := Write(out, bundleB(), WriteOptions{Force: force})
				if err == nil || !strings.Contains(err.Error(), "("+rel+"/)") {
					t.Errorf("force=%v: Write: %v; want an error naming %s/", force, err, rel)
				}
				if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(rel))); err != nil {
					t.Errorf("force=%v: the user's folder is gone: %v", force, err)
				}
			}
		})
	}
	// A folder in place of a listed file, and a link in place of one, are not ours either.
	out := filepath.Join(t.TempDir(), "out")
	if err := Write(out, bundleA(), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	trust := filepath.Join(out, "trust.txt")
	if err := os.Remove(trust); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", trust); err != nil {
		t.Fatal(err)
	}
	if err := Write(out, bundleB(), WriteOptions{Force: true}); err == nil || !strings.Contains(err.Error(), "(trust.txt)") {
		t.Errorf("Write over a link at a listed path: %v; want it refused", err)
	}
}

// countVisits runs f and returns how many entries of output folders the writer examined.
func countVisits(f func()) int {
	n := 0
	visitHook = func(string) { n++ }
	defer func() { visitHook = nil }()
	f()
	return n
}

// TestBoundedWalk checks that a folder that is not a bundle is refused after one entry, and that
// the walk of a bundle full of foreign entries stops after the first few and never enters a
// folder the manifest does not list.
func TestBoundedWalk(t *testing.T) {
	var rootBefore []string
	for _, e := range mustReadDir(t, "/") {
		rootBefore = append(rootBefore, e.Name())
	}
	var err error
	n := countVisits(func() { err = Write("/", bundleA(), WriteOptions{}) })
	if err == nil || !strings.Contains(err.Error(), "has no manifest.json") {
		t.Errorf("Write to /: %v; want it refused as not a bundle", err)
	}
	if n > 1 {
		t.Errorf("Write to / examined %d entries before refusing, want at most 1", n)
	}
	var rootAfter []string
	for _, e := range mustReadDir(t, "/") {
		rootAfter = append(rootAfter, e.Name())
	}
	if !cmp.Equal(rootBefore, rootAfter) {
		t.Errorf("Write to / changed /: %s", cmp.Diff(rootBefore, rootAfter))
	}

	plain := t.TempDir()
	for i := range 500 {
		writeFile(t, filepath.Join(plain, fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%d", i)), "x")
	}
	n = countVisits(func() { err = Write(plain, bundleA(), WriteOptions{}) })
	if err == nil || n > 1 {
		t.Errorf("Write to a full folder without a manifest: %v after %d entries; want a refusal after at most 1", err, n)
	}

	out := filepath.Join(t.TempDir(), "out")
	a := bundleA()
	if err := Write(out, a, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	listed := len(snapshot(t, out)) - 1 // every entry but out/ itself
	for i := range 300 {
		writeFile(t, filepath.Join(out, fmt.Sprintf("junk%03d", i)), "x")
		writeFile(t, filepath.Join(out, "hosts", "pg1", "files", "mine", fmt.Sprintf("d%d", i%7), "f"), "x")
	}
	n = countVisits(func() { err = Write(out, bundleB(), WriteOptions{}) })
	if err == nil || !strings.Contains(err.Error(), "and more") {
		t.Errorf("Write into a bundle with 300 foreign files: %v; want a refusal naming a few and more", err)
	}
	if limit := listed + maxNamed + 1; n > limit {
		t.Errorf("the walk examined %d entries, want at most %d (the bundle's %d and the first %d foreign)", n, limit, listed, maxNamed+1)
	}
}

func mustReadDir(t *testing.T, dir string) []fs.DirEntry {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name() < list[j].Name() })
	return list
}

// TestSetAside checks the recovery of the fallback swap's aside folder when out/ is missing: one
// holding a bundle, or an empty folder, is put back; two, or one that is not a bundle, are
// refused and left as they are.
func TestSetAside(t *testing.T) {
	for _, tc := range []struct {
		name   string
		make   func(t *testing.T, parent string)
		refuse string
	}{
		{"a bundle", func(t *testing.T, p string) {
			if err := Write(filepath.Join(p, ".out.new-1.old"), bundleA(), WriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"an empty folder", func(t *testing.T, p string) { mkdir(t, filepath.Join(p, ".out.new-1.old")) }, ""},
		{"two", func(t *testing.T, p string) {
			mkdir(t, filepath.Join(p, ".out.new-1.old"))
			mkdir(t, filepath.Join(p, ".out.new-2.old"))
		}, "cannot tell which"},
		{"the user's files", func(t *testing.T, p string) {
			writeFile(t, filepath.Join(p, ".out.new-1.old", "notes.txt"), "mine\n")
		}, "has no manifest.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			tc.make(t, parent)
			before := snapshot(t, parent)
			err := Write(filepath.Join(parent, "out"), bundleB(), WriteOptions{})
			if tc.refuse == "" {
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				checkClean(t, parent, want(t, bundleB()), "after recovery")
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.refuse) {
				t.Fatalf("Write: %v; want an error with %q", err, tc.refuse)
			}
			if after := snapshot(t, parent); !cmp.Equal(before, after) {
				t.Errorf("a refused build changed the folder beside out/: %s", cmp.Diff(before, after))
			}
		})
	}
}
