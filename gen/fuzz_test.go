package gen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"

	"pgpoolgen/schema"
)

// Fuzz targets over the whole compiler: schema.Load on arbitrary bytes (FuzzLoad), and for
// every spec that validates, gen.Generate (FuzzGenerate). Both live here, where gen's tests
// can reach schema and their helpers (sshKeyLine, lintSpecs), so there is one fuzz Env and one
// seed corpus. `make fuzz` runs each for a bounded time; `go test` replays the seeds and
// testdata/fuzz/<Target>/.

// The passwords the fuzz Env hands out. They are long and odd enough never to occur in a
// bundle or a message by chance; the fuzzed spec can hold them only by copying them.
const (
	fuzzEnvPassword  = "fuzz-env-Secret-7Qx"
	fuzzFilePassword = "fuzz-file-Secret-3Kp"
)

// fuzzPasswords is every password the fuzz Env can hand out, for the leak checks. The rejected
// variants (too long, with a line break) start with one of them, so a check for these two
// strings also finds them.
var fuzzPasswords = []string{fuzzEnvPassword, fuzzFilePassword}

// fuzzSpecName is the spec's file name in FuzzLoad, as it appears in every error.
const fuzzSpecName = "cluster.toml"

// fuzzHangLimit is how long one input may take before the target calls it a hang. Seeds take
// milliseconds; this is a check that Load and Generate end, not a performance bound.
const fuzzHangLimit = 5 * time.Second

// fuzzEnv never touches the process environment or the disk: variables and files are fixed.
//
//   - A variable whose name holds UNSET is unset; LONG gives a password over 128 bytes; NEWLINE
//     one with a line break. Any other name gives fuzzEnvPassword.
//   - A file whose name holds "missing" does not exist; a golden key file (keys/NAME.pub, by
//     path relative to the spec) has its golden content; any other *.pub is an ed25519 key made
//     from its name; any other name holds fuzzFilePassword and a newline.
func fuzzEnv(specName string, keys map[string][]byte) schema.Env {
	dir := filepath.Dir(specName)
	return schema.Env{
		LookupEnv: func(name string) (string, bool) {
			switch {
			case strings.Contains(name, "UNSET"):
				return "", false
			case strings.Contains(name, "LONG"):
				return fuzzEnvPassword + strings.Repeat("x", 128), true
			case strings.Contains(name, "NEWLINE"):
				return fuzzEnvPassword + "\nsecond line", true
			}
			return fuzzEnvPassword, true
		},
		ReadFile: func(name string) ([]byte, error) {
			if rel, err := filepath.Rel(dir, name); err == nil {
				name = rel
			}
			name = filepath.ToSlash(filepath.Clean(name))
			switch {
			case strings.Contains(name, "missing"):
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			case keys[name] != nil:
				return keys[name], nil
			case strings.HasSuffix(name, ".pub"):
				return []byte(sshKeyLine("fuzz@"+name) + " fuzz\n"), nil
			}
			return []byte(fuzzFilePassword + "\n"), nil
		},
	}
}

// fuzzSeeds adds every golden spec, every bad spec of golden/errors, the in-memory specs of the
// HA script tests, and a few hand mutations; it returns the golden key files by their path
// relative to a spec (keys/NAME.pub), for fuzzEnv. The first of two key files of one name wins:
// any valid key does.
func fuzzSeeds(f *testing.F, add func(src []byte)) map[string][]byte {
	f.Helper()
	keys := map[string][]byte{}
	keyFiles, err := filepath.Glob("../golden/*/keys/*")
	if err != nil || len(keyFiles) == 0 {
		f.Fatalf("no golden key files: %v", err)
	}
	for _, k := range keyFiles {
		name := "keys/" + filepath.Base(k)
		if keys[name] != nil {
			continue
		}
		data, err := os.ReadFile(k)
		if err != nil {
			f.Fatal(err)
		}
		keys[name] = data
	}

	specs, err := filepath.Glob("../golden/*/cluster.toml")
	if err != nil || len(specs) < 4 {
		f.Fatalf("found %d golden specs (%v), want at least 4", len(specs), err)
	}
	bad, err := filepath.Glob("../golden/errors/*.toml")
	if err != nil || len(bad) < 25 {
		f.Fatalf("found %d bad specs (%v), want at least 25", len(bad), err)
	}
	var golden []string
	for _, p := range append(specs, bad...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(data)
		if strings.HasSuffix(p, "/cluster.toml") {
			golden = append(golden, string(data))
		}
	}
	for _, s := range lintSpecs() {
		add([]byte(s.toml()))
	}

	// Hand mutations of a golden spec: each reaches a path of Load the seeds above do not.
	base := golden[0]
	for _, m := range []string{
		strings.ReplaceAll(base, "\n", "\r\n"), // CRLF line ends
		base[:len(base)/2],                     // cut short
		strings.Replace(base, "[cluster]", "[cluster]\n\"quoted key\\u0007\" = 1\nx.y.z = [[1, [2]], {a = {b = []}}]", 1),
		strings.Replace(base, "[cluster]", "[cluster]\n# \u202e\u2028 comment\nname2 = \"a\\u0085b\"", 1),
		base + "\n[[pcp_user]]\nname = \"long\"\npassword_env = \"PCP_LONG\"\n",
		base + "\n[[pcp_user]]\nname = \"nl\"\npassword_env = \"PCP_NEWLINE\"\n",
		base + "\n[[pcp_user]]\nname = \"unset\"\npassword_env = \"PCP_UNSET\"\n",
		base + "\n[[pcp_user]]\nname = \"file\"\npassword_file = \"other/pw.txt\"\n",
		base + "\n[[pcp_user]]\nname = \"plain\"\npassword = \"" + fuzzEnvPassword + "\"\nallow_plain_password = true\n",
		base + "\n[parameters]\nlog_line_prefix = \"a\\nb\"\nsr_check_password = \"x\"\n",
		strings.Repeat("[", 64) + "a" + strings.Repeat("]", 64),
		"a = " + strings.Repeat("[", 64) + strings.Repeat("]", 64),
	} {
		add([]byte(m))
	}
	return keys
}

// bounded runs fn and fails the input when fn panics or does not return within fuzzHangLimit.
// The check runs beside fn, so a hang is reported with the input rather than killing the
// worker.
func bounded(t *testing.T, what string, src []byte, fn func()) {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Sprintf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		fn()
		done <- ""
	}()
	timer := time.NewTimer(fuzzHangLimit)
	defer timer.Stop()
	select {
	case msg := <-done:
		if msg != "" {
			t.Fatalf("%s %s\ninput (%d bytes): %q", what, msg, len(src), clip(src))
		}
	case <-timer.C:
		t.Fatalf("%s did not return within %v: a hang\ninput (%d bytes): %q", what, fuzzHangLimit, len(src), clip(src))
	}
}

// clip shortens an input for a failure message; the whole input is in the corpus file.
func clip(src []byte) []byte {
	if len(src) > 2000 {
		return src[:2000]
	}
	return src
}

// FuzzLoad checks that Load ends without a panic on any input, and that when it refuses the
// spec every error is well formed, in order, and holds no password of the Env.
func FuzzLoad(f *testing.F) {
	keys := fuzzSeeds(f, func(src []byte) { f.Add(src) })
	env := fuzzEnv(fuzzSpecName, keys)
	f.Fuzz(func(t *testing.T, src []byte) {
		var err error
		bounded(t, "Load", src, func() { _, err = schema.Load(fuzzSpecName, src, env) })
		if err != nil {
			checkErrorList(t, src, err)
		}
	})
}

// keyPathRE is a key path as errors print it: dotted keys, bare or quoted as Go quotes them,
// each with optional [index] suffixes.
var keyPathRE = regexp.MustCompile(`^(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")(?:\[[0-9]+\])*(?:\.(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")(?:\[[0-9]+\])*)*$`)

// checkErrorList checks what Load returned for src: an ErrorList, never empty; each entry names
// the spec, a place inside src or none, a key path or none, and a one-line message that a
// terminal shows as it is; sorted by place; no password of the Env anywhere in it, unless the
// input itself holds that password.
func checkErrorList(t *testing.T, src []byte, err error) {
	t.Helper()
	var list schema.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Load returned %T, want schema.ErrorList: %v", err, err)
	}
	if len(list) == 0 {
		t.Fatalf("Load returned an empty ErrorList as an error")
	}
	lines := strings.Split(string(src), "\n")
	var prev schema.Pos
	for i, e := range list {
		if e == nil {
			t.Fatalf("error %d is nil", i)
		}
		text := e.Error()
		if e.File != fuzzSpecName {
			t.Errorf("error %q names file %q, want %q", text, e.File, fuzzSpecName)
		}
		switch {
		case e.Pos == schema.Pos{}:
		case e.Pos.Line < 1 || e.Pos.Line > len(lines) || e.Pos.Col < 1 ||
			e.Pos.Col > utf8.RuneCountInString(lines[e.Pos.Line-1])+1:
			t.Errorf("error %q: position %d:%d lies outside the spec (%d lines)", text, e.Pos.Line, e.Pos.Col, len(lines))
		}
		if e.Pos.Line < prev.Line || e.Pos.Line == prev.Line && e.Pos.Col < prev.Col {
			t.Errorf("error %q comes after one at %d:%d: the list is not sorted by place", text, prev.Line, prev.Col)
		}
		prev = e.Pos
		if e.Path != "" && !keyPathRE.MatchString(e.Path) {
			t.Errorf("error %q: %q is not a key path", text, e.Path)
		}
		if strings.TrimSpace(e.Msg) == "" {
			t.Errorf("error %q has no message", text)
		}
		if r, ok := unsafeRune(e.Path + e.Msg); ok {
			t.Errorf("error %q holds %U: a message is one line a terminal shows as it is", text, r)
		}
	}
	all := err.Error()
	for _, pw := range fuzzPasswords {
		if strings.Contains(all, pw) && !bytes.Contains(src, []byte(pw)) {
			t.Errorf("an error shows the password the Env gave:\n%s", all)
		}
	}
}

// unsafeRune finds a rune that would break a one-line message or hide text on a terminal:
// invalid UTF-8, control characters (C0, DEL, C1; a tab included), bidirectional controls,
// line and paragraph separators.
func unsafeRune(s string) (rune, bool) {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return r, true
			}
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return r, true
		}
	}
	return 0, false
}

// FuzzGenerate checks every bundle of a spec that validates, whatever the spec file is called:
// two loads and renderings give the same files, modes and manifest; every path stays inside
// the bundle; every script parses as bash; no file holds a NUL byte or a password of the Env.
func FuzzGenerate(f *testing.F) {
	keys := fuzzSeeds(f, func(src []byte) { f.Add(fuzzSpecName, src) })
	f.Add("specs/prod cluster.toml", []byte(haSpec{pgpool: "4.3", pg: "15"}.toml()))
	f.Fuzz(func(t *testing.T, name string, src []byte) {
		if name == "" {
			return // there is always a file name; Load's own callers pass one
		}
		env := fuzzEnv(name, keys)
		var first, second *Bundle
		var loadErr error
		bounded(t, "Load and Generate", src, func() {
			var c *schema.Cluster
			if c, loadErr = schema.Load(name, src, env); loadErr != nil {
				return
			}
			first = Generate(c)
			c, err := schema.Load(name, src, env)
			if err != nil {
				panic(fmt.Sprintf("the second Load of the same spec failed: %v", err))
			}
			second = Generate(c)
		})
		if loadErr != nil {
			return
		}
		checkBundle(t, src, first, second)
	})
}

// checkBundle checks two renderings of one spec, src; see FuzzGenerate.
func checkBundle(t *testing.T, src []byte, a, b *Bundle) {
	t.Helper()
	if len(a.Files) != len(b.Files) {
		t.Fatalf("two renderings have %d and %d files", len(a.Files), len(b.Files))
	}
	for i := range a.Files {
		if !reflect.DeepEqual(a.Files[i], b.Files[i]) {
			t.Errorf("two renderings differ in %s (or %s)", a.Files[i].Path(), b.Files[i].Path())
		}
	}
	manifest := a.Manifest()
	if !bytes.Equal(manifest, b.Manifest()) {
		t.Errorf("two renderings give different manifests")
	}
	files := map[string]bool{ManifestName: true}
	for _, f := range a.Files {
		p := f.Path()
		if p != path.Clean(p) || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || files[p] {
			t.Errorf("bundle path %q is not clean, leaves the bundle, or is given twice", p)
		}
		files[p] = true
		if bytes.IndexByte(f.Data, 0) >= 0 {
			t.Errorf("%s holds a NUL byte", p)
		}
		if isScript(f) {
			if err := parseBash(p, f.Data); err != nil {
				t.Errorf("%s does not parse as bash: %v", p, err)
			}
		}
	}
	for _, pw := range fuzzPasswords {
		if bytes.Contains(src, []byte(pw)) {
			continue
		}
		for _, f := range a.Files {
			if bytes.Contains(f.Data, []byte(pw)) {
				t.Errorf("%s holds a password the Env gave", f.Path())
			}
		}
		if bytes.Contains(manifest, []byte(pw)) {
			t.Errorf("manifest.json holds a password the Env gave")
		}
	}
}

// isScript reports whether a bundle file is a shell script: setup.sh, anything executable, or
// anything starting with #!.
func isScript(f *File) bool {
	return f.Install == Run || f.Mode&0o111 != 0 || bytes.HasPrefix(f.Data, []byte("#!"))
}

// parseBash parses a script as bash with mvdan.cc/sh, in process: bash -n and shellcheck are
// too slow to run on every fuzz input.
func parseBash(name string, data []byte) error {
	_, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(data), name)
	return err
}
