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

// Fuzz targets over the whole compiler: schema.Load on arbitrary bytes (FuzzLoad); for every
// spec that validates, gen.Generate (FuzzGenerate); and one fuzzed value in each place of a
// sound spec that takes a string (FuzzValue). They live here, where gen's tests reach schema
// and their helpers (sshKeyLine, haSpec, lintSpecs), so there is one fuzz Env and one seed
// corpus. `make fuzz` runs each for a bounded time; `go test` replays the seeds and
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
			for _, p := range errorListProblems(src, err) {
				t.Error(p)
			}
		}
	})
}

// FuzzGenerate checks every bundle of a spec that validates, whatever the spec file is called;
// see bundleProblems.
func FuzzGenerate(f *testing.F) {
	keys := fuzzSeeds(f, func(src []byte) { f.Add(fuzzSpecName, src) })
	f.Add("specs/prod cluster.toml", []byte(haSpec{pgpool: "4.3", pg: "15"}.toml()))
	f.Fuzz(func(t *testing.T, name string, src []byte) {
		if name == "" {
			return // there is always a file name; Load's own callers pass one
		}
		for _, p := range specProblems(t, name, src, fuzzEnv(name, keys)) {
			t.Error(p)
		}
	})
}

// specProblems loads src twice and, when it validates, renders it twice, all within the hang
// limit, and returns what errorListProblems or bundleProblems find.
func specProblems(t *testing.T, name string, src []byte, env schema.Env) []string {
	t.Helper()
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
		if name != fuzzSpecName {
			return nil // errorListProblems expects fuzzSpecName; FuzzLoad checks errors
		}
		return errorListProblems(src, loadErr)
	}
	return bundleProblems(src, first, second)
}

// valueSpec is the spec FuzzValue writes its values into: the HA tests' spec with every
// section that takes a string a user chooses.
func valueSpec() string {
	return haSpec{pgpool: "4.3", pg: "15", knownHosts: true, root: "/srv/fz"}.toml() + `
[pgpool]
listen_addresses = "*"
pcp_listen_addresses = "localhost"

[health_check]
user = "hc"

[replication]
user = "repl"

[[pool_user]]
name = "app"
password_env = "APP_PASSWORD"

[[hba]]
user = "app"
database = "appdb"
address = "10.0.0.0/8"
method = "ldap"
options = "ldapserver=ldap.example.com ldapprefix=cn="

[parameters]
log_line_prefix = "%m: "
`
}

// valueSlots are the places of valueSpec that FuzzValue fills: the first occurrence of each
// assignment gets the fuzzed value.
var valueSlots = []string{
	`name = "ha-test"`,
	`name = "pgpool1"`,
	`address = "127.0.0.11"`,
	`application_name = "app-pg1"`,
	`data_directory = "/srv/fz/data/pg1"`,
	`home = "/srv/fz/home"`,
	`pgpool_config_dir = "/srv/fz/pgpool/etc"`,
	`pgpool_socket_dir = "/srv/fz/run"`,
	`postgresql_bin_dir = "/srv/fz/pgsql/bin"`,
	`listen_addresses = "*"`,
	`pcp_listen_addresses = "localhost"`,
	`user = "hc"`,
	`user = "repl"`,
	`name = "pgpool"`,
	`name = "app"`,
	`user = "app"`,
	`database = "appdb"`,
	`address = "10.0.0.0/8"`,
	`options = "ldapserver=ldap.example.com ldapprefix=cn="`,
	`log_line_prefix = "%m: "`,
	`preset = "source"`, // as layout.user, which the spec leaves out
	`ssh_key = "`,       // host pgpool1's key
}

// oddRunes are characters that hide or break text: the fuzzer's byte mutations seldom make
// them, so expand turns each byte that is not UTF-8 into one of them.
var oddRunes = []rune{'\u0085', '\u00a0', '\u00ad', '\u061c', '\u200b', '\u200e', '\u200f', '\u2028', '\u2029',
	'\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\ufeff',
	'\ufffd', 'é', '日'}

// expand makes a fuzzed string UTF-8, each invalid byte becoming one of oddRunes.
func expand(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = oddRunes[int(s[i])%len(oddRunes)]
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// fillSlot writes value, as a TOML string, into slot i of valueSpec.
func fillSlot(i int, value string) string {
	spec := valueSpec()
	slot := valueSlots[i%len(valueSlots)]
	key, _, _ := strings.Cut(slot, " = ")
	var repl string
	switch key {
	case "preset":
		repl = slot + "\nuser = " + tomlString(value)
	case "ssh_key":
		// Replace the whole key of the first host.
		at := strings.Index(spec, slot)
		end := at + strings.IndexByte(spec[at:], '\n')
		return spec[:at] + "ssh_key = " + tomlString(value) + spec[end:]
	default:
		repl = key + " = " + tomlString(value)
	}
	return strings.Replace(spec, slot, repl, 1)
}

// tomlString writes s as a TOML basic string that holds any UTF-8 text.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzValue puts one fuzzed string into one place of a sound spec, so that the fuzzer spends
// its time on values rather than on TOML syntax (bytes that are not UTF-8 become oddRunes): a value Load refuses gets a well-formed error
// that does not show it raw; a value it accepts gives a bundle that passes bundleProblems.
func FuzzValue(f *testing.F) {
	hostile := []string{"a\nb", "a\rb", "$(touch /tmp/x)", "`id`", "'", `"`, `\`, "a\\",
		" * ", "#", "a b", "..", "/a/../b", "日本", ""}
	for i, slot := range valueSlots {
		_, v, _ := strings.Cut(slot, " = ")
		f.Add(uint8(i), strings.Trim(v, `"`))
		f.Add(uint8(i), hostile[i%len(hostile)])
		f.Add(uint8(i), hostile[(i+7)%len(hostile)])
	}
	env := fuzzEnv(fuzzSpecName, nil)
	f.Fuzz(func(t *testing.T, slot uint8, value string) {
		src := fillSlot(int(slot), expand(value))
		for _, p := range specProblems(t, fuzzSpecName, []byte(src), env) {
			t.Error(p)
		}
	})
}

// keyPathRE is a key path as errors print it: dotted keys, bare or quoted as Go quotes them,
// each with optional [index] suffixes.
var keyPathRE = regexp.MustCompile(`^(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")(?:\[[0-9]+\])*(?:\.(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")(?:\[[0-9]+\])*)*$`)

// errorListProblems checks what Load returned for src: an ErrorList, never empty; each entry
// names the spec, a place inside src or none, a key path or none, and a one-line message that a
// terminal shows as it is; sorted by place; no password of the Env anywhere in it, unless the
// input itself holds that password.
func errorListProblems(src []byte, err error) []string {
	var list schema.ErrorList
	if !errors.As(err, &list) {
		return []string{fmt.Sprintf("Load returned %T, want schema.ErrorList: %v", err, err)}
	}
	if len(list) == 0 {
		return []string{"Load returned an empty ErrorList as an error"}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	lines := strings.Split(string(src), "\n")
	var prev schema.Pos
	for i, e := range list {
		if e == nil {
			bad("error %d is nil", i)
			continue
		}
		text := e.Error()
		if e.File != fuzzSpecName {
			bad("error %q names file %q, want %q", text, e.File, fuzzSpecName)
		}
		if e.Pos != (schema.Pos{}) && (e.Pos.Line < 1 || e.Pos.Line > len(lines) || e.Pos.Col < 1 ||
			e.Pos.Col > utf8.RuneCountInString(lines[e.Pos.Line-1])+1) {
			bad("error %q: position %d:%d lies outside the spec (%d lines; Col counts characters)", text, e.Pos.Line, e.Pos.Col, len(lines))
		}
		if e.Pos.Line < prev.Line || e.Pos.Line == prev.Line && e.Pos.Col < prev.Col {
			bad("error %q comes after one at %d:%d: the list is not sorted by place", text, prev.Line, prev.Col)
		}
		prev = e.Pos
		if e.Path != "" && !keyPathRE.MatchString(e.Path) {
			bad("error %q: %q is not a key path", text, e.Path)
		}
		if strings.TrimSpace(e.Msg) == "" {
			bad("error %q has no message", text)
		}
		if r, ok := unsafeRune(e.Path + e.Msg); ok {
			bad("error %q holds %U: a message is one line that a terminal shows as it is", text, r)
		}
	}
	all := err.Error()
	for _, pw := range fuzzPasswords {
		if strings.Contains(all, pw) && !bytes.Contains(src, []byte(pw)) {
			bad("an error shows the password the Env gave:\n%s", all)
		}
	}
	return problems
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

// bundleProblems checks two renderings a and b of the spec src: they are equal, files, modes
// and manifest; every path is clean, inside the bundle and given once, every destination
// clean and absolute; every script parses as
// bash; every file is text in its reader's syntax (fileProblems); no file and not the manifest
// holds a password of the Env, unless the spec itself holds it.
func bundleProblems(src []byte, a, b *Bundle) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(a.Files) != len(b.Files) {
		bad("two renderings have %d and %d files", len(a.Files), len(b.Files))
	} else {
		for i := range a.Files {
			if !reflect.DeepEqual(a.Files[i], b.Files[i]) {
				bad("two renderings differ in %s (or %s)", a.Files[i].Path(), b.Files[i].Path())
			}
		}
	}
	manifest := a.Manifest()
	if !bytes.Equal(manifest, b.Manifest()) {
		bad("two renderings give different manifests")
	}
	seen := map[string]bool{ManifestName: true}
	for _, f := range a.Files {
		p := f.Path()
		if p != path.Clean(p) || path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") || seen[p] {
			bad("bundle path %q is not clean, leaves the bundle, or is given twice", p)
		}
		if f.Host == "." || f.Host == ".." || strings.Contains(f.Host, "/") {
			bad("%s: host %q is not a folder name", p, f.Host)
		}
		if f.Dest != "" && (!path.IsAbs(f.Dest) || f.Dest != path.Clean(f.Dest)) {
			bad("%s: destination %q is not a clean absolute path", p, f.Dest)
		}
		seen[p] = true
		if isScript(f) {
			if err := parseBash(p, f.Data); err != nil {
				bad("%s does not parse as bash: %v", p, err)
			}
		}
		problems = append(problems, fileProblems(f)...)
	}
	for _, pw := range fuzzPasswords {
		if bytes.Contains(src, []byte(pw)) {
			continue
		}
		for _, f := range a.Files {
			if bytes.Contains(f.Data, []byte(pw)) {
				bad("%s holds a password the Env gave", f.Path())
			}
		}
		if bytes.Contains(manifest, []byte(pw)) {
			bad("manifest.json holds a password the Env gave")
		}
	}
	return problems
}

// Lines of the files other programs read, in those programs' syntax (not in the templates'
// layout, which may change): what a line break or stray character let through from a spec
// value would break.
var (
	// pgpool.conf: name = value, the value quoted (no quote, no line break, no backslash
	// before the closing quote: pgpool-II has no escapes) or a bare word or number.
	pgpoolConfLine = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]* = (?:'(?:[^'\n]*[^'\n\\])?'|[-+]?[0-9][0-9.]*|[A-Za-z][A-Za-z0-9._:/-]*)$`)
	// pcp.conf: user:md5 hex.
	pcpConfLine = regexp.MustCompile(`^[^:\s#]+:[0-9a-f]{32}$`)
	// pool_passwd: user:md5 or SCRAM hash.
	poolPasswdLine = regexp.MustCompile(`^[^:\s#]+:(?:md5[0-9a-f]{32}|AES\S+|SCRAM-SHA-256\$\S+|TEXT\S+)$`)
	// authorized_keys: options, then a key and a one-word comment; known_hosts: hosts, then a
	// key.
	authorizedKeysLine = regexp.MustCompile(`^(?:[^\s"]|"[^"\n]*")+ ` + sshKey + `$`)
	knownHostsLine     = regexp.MustCompile(`^\S+ ` + sshKey + `$`)
	// pool_hba.conf: a rule starts with its connection type.
	poolHBALine = regexp.MustCompile(`^(?:local|host|hostssl|hostnossl)\s`)
	// postgresql.conf: a setting, bare or single-quoted without escapes, or an include.
	pgConfLine = regexp.MustCompile(`^[a-z_]+ = (?:[a-z0-9_-]+|'[^'\\\n]*')$`)
	// pg_hba.conf: a local rule of four words or a host rule of five.
	pgHBALine = regexp.MustCompile(`^(?:local +\S+ +\S+|host +\S+ +\S+ +\S+) +(?:peer|trust|md5|scram-sha-256)$`)
)

const sshKey = `(?:ssh-(?:ed25519|rsa)|ecdsa-sha2-nistp(?:256|384|521)) [A-Za-z0-9+/]+={0,2}(?: \S+)?`

// fileProblems checks that a bundle file is UTF-8 text without NUL or other control characters
// but tab and line feed, bidirectional controls or line separators, whatever it is; and that
// each line of a file another program reads is blank, a comment, or a line of that program's
// syntax.
func fileProblems(f *File) []string {
	var problems []string
	text := string(f.Data)
	if r, ok := unsafeRune(strings.NewReplacer("\n", "", "\t", "").Replace(text)); ok {
		problems = append(problems, fmt.Sprintf("%s holds %U", f.Path(), r))
	}
	if f.Path() == ReadmeName {
		return append(problems, readmeProblems(text)...)
	}
	var line *regexp.Regexp
	base := path.Base(f.Dest)
	if path.Base(path.Dir(f.Dest)) == "conf.d" {
		base = "postgresql.conf" // Debian's conf.d holds postgresql.conf's settings
	}
	switch base {
	case "pgpool.conf":
		line = pgpoolConfLine
	case "pcp.conf":
		line = pcpConfLine
	case "pool_passwd":
		line = poolPasswdLine
	case "authorized_keys":
		line = authorizedKeysLine
	case "pgpoolgen_known_hosts":
		line = knownHostsLine
	case "pool_hba.conf":
		line = poolHBALine
	case "pg_hba.conf":
		line = pgHBALine
	case "postgresql.conf":
		line = pgConfLine
	default:
		return problems
	}
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") && !line.MatchString(l) {
			problems = append(problems, fmt.Sprintf("%s:%d: %q is not a line of %s", f.Path(), i+1, l, path.Base(f.Dest)))
		}
	}
	return problems
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

// TestFuzzChecks shows that each check of the fuzz targets fails when it should: on a sound
// bundle and error list they find nothing, and on each broken copy they find the break.
func TestFuzzChecks(t *testing.T) {
	src := []byte(haSpec{pgpool: "4.3", pg: "15", knownHosts: true}.toml())
	env := fuzzEnv(fuzzSpecName, nil)
	load := func() *Bundle {
		c, err := schema.Load(fuzzSpecName, src, env)
		if err != nil {
			t.Fatal(err)
		}
		return Generate(c)
	}
	if p := bundleProblems(src, load(), load()); p != nil {
		t.Fatalf("a sound bundle has problems: %q", p)
	}
	byName := func(b *Bundle, base string) *File {
		for _, f := range b.Files {
			if path.Base(f.Path()) == base {
				return f
			}
		}
		t.Fatalf("no %s in the bundle", base)
		return nil
	}
	// Each break is made in both renderings but where it says once: only the check it names
	// can find it.
	for _, tc := range []struct {
		name   string
		once   bool
		break_ func(b *Bundle)
	}{
		{"renderings differ", true, func(b *Bundle) { b.Files[0].Data = append(b.Files[0].Data, '\n') }},
		{"modes differ", true, func(b *Bundle) { b.Files[0].Mode = 0o666 }},
		{"file missing", true, func(b *Bundle) { b.Files = b.Files[1:] }},
		{"destination not clean", false, func(b *Bundle) { byName(b, "pcp.conf").Dest = "/etc/../../x" }},
		{"host not a name", false, func(b *Bundle) { byName(b, "pcp.conf").Host = ".." }},
		{"path given twice", false, func(b *Bundle) { b.Files = append(b.Files, b.Files[0]) }},
		{"script does not parse", false, func(b *Bundle) { f := byName(b, "setup.sh"); f.Data = append(f.Data, "\nif x; then\n"...) }},
		{"NUL byte", false, func(b *Bundle) { f := byName(b, "trust.txt"); f.Data = append(f.Data, 0) }},
		{"bidi override in a comment", false, func(b *Bundle) { f := byName(b, "pcp.conf"); f.Data = append(f.Data, "# \u202e\n"...) }},
		{"password in clear", false, func(b *Bundle) { f := byName(b, "trust.txt"); f.Data = append(f.Data, fuzzEnvPassword...) }},
		{"pgpool.conf line break in a value", false, func(b *Bundle) {
			f := byName(b, "pgpool.conf")
			f.Data = append(f.Data, "log_line_prefix = 'a\nfailover_command = 'touch /x'\n"...)
		}},
		{"pgpool.conf backslash before the closing quote", false, func(b *Bundle) {
			f := byName(b, "pgpool.conf")
			f.Data = append(f.Data, `log_line_prefix = 'a\'`+"\n"...)
		}},
		{"pcp.conf line", false, func(b *Bundle) { f := byName(b, "pcp.conf"); f.Data = append(f.Data, "admin:x\n"...) }},
		{"authorized_keys key without options", false, func(b *Bundle) {
			f := byName(b, "authorized_keys")
			f.Data = append(f.Data, sshKeyLine("evil")+"\n"...)
		}},
		{"known_hosts line", false, func(b *Bundle) { f := byName(b, "pgpoolgen_known_hosts"); f.Data = append(f.Data, "host\n"...) }},
		{"pool_hba.conf line", false, func(b *Bundle) { f := byName(b, "pool_hba.conf"); f.Data = append(f.Data, "all all trust\n"...) }},
		{"README table cell", false, func(b *Bundle) {
			f := byName(b, ReadmeName)
			f.Data = bytes.Replace(f.Data, []byte("| Host |"), []byte("| Ho|st |"), 1)
		}},
		{"README Mermaid label", false, func(b *Bundle) {
			f := byName(b, ReadmeName)
			f.Data = bytes.Replace(f.Data, []byte(`["PostgreSQL `), []byte(`["Postgre"SQL `), 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := load(), load()
			tc.break_(b)
			if !tc.once {
				tc.break_(a)
			}
			p := bundleProblems(src, a, b)
			if len(p) == 0 {
				t.Errorf("the checks found nothing wrong")
			}
			t.Logf("%q", p)
		})
	}

	// A real error list passes; each broken entry fails.
	_, err := schema.Load(fuzzSpecName, []byte("[cluster]\nname = 1\n"), env)
	if err == nil {
		t.Fatal("a bad spec loaded")
	}
	if p := errorListProblems(src, err); p != nil {
		t.Fatalf("a sound error list has problems: %q", p)
	}
	ok := schema.Error{File: fuzzSpecName, Pos: schema.Pos{Line: 2, Col: 1}, Path: "cluster.name", Msg: "is wrong"}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"not an ErrorList", errors.New("x")},
		{"empty", schema.ErrorList{}},
		{"other file", schema.ErrorList{{File: "x.toml", Msg: "m"}}},
		{"line past the end", schema.ErrorList{{File: fuzzSpecName, Pos: schema.Pos{Line: 99, Col: 1}, Msg: "m"}}},
		{"column past the end", schema.ErrorList{{File: fuzzSpecName, Pos: schema.Pos{Line: 2, Col: 30}, Msg: "m"}}},
		{"not sorted", schema.ErrorList{&ok, {File: fuzzSpecName, Pos: schema.Pos{Line: 1, Col: 1}, Msg: "m"}}},
		{"not a key path", schema.ErrorList{{File: fuzzSpecName, Path: "host[x]", Msg: "m"}}},
		{"no message", schema.ErrorList{{File: fuzzSpecName, Msg: " "}}},
		{"line break", schema.ErrorList{{File: fuzzSpecName, Msg: "a\nb"}}},
		{"invalid UTF-8", schema.ErrorList{{File: fuzzSpecName, Msg: "a\xffb"}}},
		{"password", schema.ErrorList{{File: fuzzSpecName, Msg: "is " + fuzzFilePassword}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := errorListProblems([]byte("a = 1\nname = 2\n"), tc.err); len(p) == 0 {
				t.Errorf("the checks found nothing wrong")
			}
		})
	}
}
