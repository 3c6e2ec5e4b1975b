//go:build unix

package jsonschema

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgpoolgen/gen/internal/npm"
)

// The Taplo CLI the test runs is @taplo/cli from the npm registry, at the version and integrity
// of testdata/taplo/package-lock.json, installed by npm ci into a cache folder outside the
// checkout (npm.Install).
const lockDir = "testdata/taplo"

// taplo returns the path of the pinned Taplo CLI, installing it first if the cache lacks it.
func taplo(t *testing.T) string {
	t.Helper()
	return filepath.Join(npm.Install(t, lockDir, "taplo"), "node_modules", ".bin", "taplo")
}

// runTaplo runs taplo lint on files with their #:schema directives only, and returns its exit
// status and output.
func runTaplo(t *testing.T, bin, dir string, files ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"lint", "--no-auto-config", "--colors", "never"}, files...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RUST_LOG=error")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("taplo: %v\n%s", err, out)
	return 0, ""
}

// directive is the first line the README gives cluster.toml, with the schema beside it.
const directive = "#:schema ./pgpoolgen.schema.json\n"

// TestTaplo lints, with the real Taplo CLI and the schema in docs/, every golden and e2e spec
// (each must pass), and copies of one with a misspelt key, a value of the wrong type, a value
// outside an enum, two password sources and an [[hba]] host rule without an address (each
// must fail with Taplo's message for it). The specs name the
// schema as the README says: a #:schema directive on their first line.
func TestTaplo(t *testing.T) {
	bin := taplo(t)
	schemaJSON, err := os.ReadFile("../../docs/pgpoolgen.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pgpoolgen.schema.json"), schemaJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	var specs []string
	for _, pattern := range []string{"../../golden/*/cluster.toml", "../../e2e/*/cluster.toml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, m...)
	}
	if len(specs) < 15 {
		t.Fatalf("found %d specs, want the golden and e2e ones", len(specs))
	}
	var names []string
	for _, spec := range specs {
		src, err := os.ReadFile(spec)
		if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(spec, "../../")
		name := strings.ReplaceAll(filepath.Dir(rel), "/", "-") + ".toml"
		if err := os.WriteFile(filepath.Join(dir, name), append([]byte(directive), src...), 0o600); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	start := time.Now()
	if code, out := runTaplo(t, bin, dir, names...); code != 0 {
		t.Errorf("taplo lint of the golden and e2e specs: exit %d\n%s", code, out)
	}
	t.Logf("taplo lint of %d specs: %v", len(names), time.Since(start).Round(time.Millisecond))

	base, err := os.ReadFile("../../golden/debian-streaming/cluster.toml")
	if err != nil {
		t.Fatal(err)
	}
	// One run for the copies (each Taplo run starts Node.js and its WebAssembly, seconds
	// on a busy machine); each must fail with its own message, at its own file.
	cases := []struct{ name, old, new, want string }{
		{"misspelt-key", "\n[layout]\n", "\n[layout]\nprset = \"debian\"\n", "Additional properties are not allowed ('prset' was unexpected)"},
		{"wrong-type", "\npgpool_version = \"4.3\"\n", "\npgpool_version = 4.3\n", `4.3 is not of type "string"`},
		{"outside-enum", "\nmode = \"streaming_replication\"\n", "\nmode = \"streaming\"\n", `"streaming" is not one of ["streaming_replication",`},
		// Rules between keys: two password sources; a host rule without an address.
		{"two-passwords", "\npassword_file = \"pcp-password.txt\"\n", "\npassword_file = \"pcp-password.txt\"\nmd5 = \"5ebe2294ecd0e0f08eab7690d2a6ee69\"\n", "is valid under more than one of the schemas listed in the 'oneOf' keyword"},
		{"no-address", "\naddress = \"192.0.2.0/24\"\n", "\n", `"address" is a required property`},
	}
	var bad []string
	for _, tc := range cases {
		if !bytes.Contains(base, []byte(tc.old)) {
			t.Fatalf("%s: golden/debian-streaming/cluster.toml has no %q to change", tc.name, tc.old)
		}
		src := append([]byte(directive), bytes.Replace(base, []byte(tc.old), []byte(tc.new), 1)...)
		if err := os.WriteFile(filepath.Join(dir, tc.name+".toml"), src, 0o600); err != nil {
			t.Fatal(err)
		}
		bad = append(bad, tc.name+".toml")
	}
	code, out := runTaplo(t, bin, dir, bad...)
	if code == 0 {
		t.Errorf("taplo lint of %v: exit 0, want a failure", bad)
	}
	// Taplo prints each problem as "error: MESSAGE", then " ┌─ FILE:LINE:COL".
	blocks := strings.Split(out, "\nerror: ")
	for _, tc := range cases {
		found := false
		for _, b := range blocks {
			msg, rest, _ := strings.Cut(b, "\n")
			found = found || strings.Contains(msg, tc.want) && strings.Contains(rest, "/"+tc.name+".toml:")
		}
		if !found {
			t.Errorf("%s: taplo lint did not report %q at %s.toml:\n%s", tc.name, tc.want, tc.name, out)
		}
	}
}
