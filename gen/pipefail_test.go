package gen

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// grepQuitsEarly is a pipeline into grep -q: grep exits at the first match, and the writer
// before it may then die of SIGPIPE while it still writes, which pipefail turns into a failed
// pipeline although grep matched.
var grepQuitsEarly = regexp.MustCompile(`\|\s*grep\s+(-[A-Za-z]*q[A-Za-z]*|--quiet)\b`)

// TestNoPipeIntoGrepQuiet reads every script template: each runs under pipefail, so none may
// pipe into grep -q (seen: setup.sh's include_dir check failed on a postgresql.conf that has
// the line, in make e2e; 1 in 300 on an idle machine). A here-string has no writer to kill.
func TestNoPipeIntoGrepQuiet(t *testing.T) {
	files, err := filepath.Glob("templates/*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("templates/*/*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, more...)
	if len(files) < 5 {
		t.Fatalf("found only %d templates: %v", len(files), files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(data), "\n") {
			if grepQuitsEarly.MatchString(l) {
				t.Errorf("%s:%d pipes into grep -q, which races the writer under pipefail; give grep a here-string (<<<\"$var\") instead:\n%s", f, i+1, strings.TrimSpace(l))
			}
		}
	}
}
