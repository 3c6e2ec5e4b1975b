package main

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

// parseScript parses a generated script as bash with mvdan.cc/sh. Unlike bash -n and
// shellcheck it needs no program installed, so this check never skips.
func parseScript(name string, data []byte) error {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return fmt.Errorf("%s: holds a NUL byte at offset %d", name, i)
	}
	_, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(data), name)
	return err
}

// TestGoldenScriptsParse parses every script of every golden bundle as bash: each file the
// manifest gives mode 0755 or that starts with #!. The scripts of every kind must be among
// them, and a script with a syntax error must fail the check.
func TestGoldenScriptsParse(t *testing.T) {
	kinds := map[string]int{}
	var sample []byte
	for _, name := range goldenCases(t) {
		bundle := filepath.Join(goldenDir, name, "bundle")
		for _, f := range readManifest(t, bundle).Files {
			data, err := os.ReadFile(filepath.Join(bundle, filepath.FromSlash(f.Path)))
			if err != nil {
				t.Fatal(err)
			}
			shebang := bytes.HasPrefix(data, []byte("#!"))
			if (f.Mode == "0755") != shebang {
				t.Errorf("%s/%s: mode %s but starts with %q: a script is executable and names its shell", name, f.Path, f.Mode, clipLine(data))
			}
			if f.Mode != "0755" && !shebang {
				continue
			}
			kinds[path.Base(f.Path)]++
			if sample == nil && path.Base(f.Path) == "setup.sh" {
				sample = data
			}
			if err := parseScript(name+"/"+f.Path, data); err != nil {
				t.Errorf("%v", err)
			}
		}
	}
	// Every kind of script the generator writes; follow_master.sh is follow_primary.sh before
	// pgpool-II 4.2, recovery_2nd_stage is native replication's.
	for _, k := range []string{"setup.sh", "failover.sh", "follow_primary.sh", "follow_master.sh",
		"recovery_1st_stage", "recovery_2nd_stage", "pgpool_remote_start", "deploy.sh"} {
		if kinds[k] == 0 {
			t.Errorf("no golden bundle holds a %s to parse", k)
		}
	}
	var seen []string
	for k, n := range kinds {
		seen = append(seen, k+"×"+strconv.Itoa(n))
	}
	sort.Strings(seen)
	t.Logf("parsed %s", strings.Join(seen, ", "))

	// The check itself: broken copies of a real setup.sh must be refused.
	if sample == nil {
		t.Fatal("no setup.sh in the golden bundles")
	}
	for _, tc := range []struct{ name, broken string }{
		{"unclosed if", string(sample) + "\nif true; then\n  :\n"},
		{"unclosed quote", string(sample) + "\necho 'left open\n"},
		{"unclosed command substitution", string(sample) + "\nx=$(date\n"},
		{"stray fi", strings.Replace(string(sample), "\n", "\nfi\n", 3)},
		{"NUL byte", string(sample) + "\n# \x00\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := parseScript("broken/setup.sh", []byte(tc.broken)); err == nil {
				t.Errorf("a setup.sh with %s parsed", tc.name)
			}
		})
	}
}

func clipLine(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	if len(line) > 40 {
		line = line[:40]
	}
	return string(line)
}
