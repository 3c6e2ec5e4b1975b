package udiff

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unified prints hunks as diff -u prints them after its two header lines.
func unified(hs []Hunk) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString(h.Header() + "\n" + h.Body())
	}
	return b.String()
}

// gnuDiff runs diffutils' diff -u on a and b and returns its hunks, without the header lines.
func gnuDiff(t *testing.T, a, b []byte) string {
	t.Helper()
	bin, err := exec.LookPath("diff")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("diff (diffutils) is missing")
		}
		t.Skip("diff (diffutils) is not installed")
	}
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(pa, a, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pb, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-u", pa, pb).Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("diff -u: %v", err)
	}
	s := string(out)
	for range 2 { // "--- a\t<time>" and "+++ b\t<time>"
		if i := strings.IndexByte(s, '\n'); i >= 0 && (strings.HasPrefix(s, "---") || strings.HasPrefix(s, "+++")) {
			s = s[i+1:]
		}
	}
	return s
}

// pairs are texts whose diffs are ambiguous (repeated lines), or cut short, or far apart.
//
// With random, 300 random texts of three distinct lines follow: there GNU diff first sets
// aside lines that occur nowhere in the other text (discard_confusing_lines), which udiff does
// not, so among equally short scripts it may keep another of the repeated lines; TestApply
// runs them, TestAgreesWithGNUDiff does not.
func pairs(t *testing.T, random bool) [][2]string {
	golden, err := os.ReadFile("../../golden/seed-master-slave/bundle/hosts/slave1/setup.sh")
	if err != nil {
		t.Fatal(err)
	}
	g := string(golden)
	edited := strings.Replace(g, "set -eu", "set -euo pipefail", 1)
	lines := strings.SplitAfter(g, "\n")
	dropped := strings.Join(append(append([]string{}, lines[:40]...), lines[45:]...), "")
	moved := strings.Join(append(append(append([]string{}, lines[10:60]...), lines[:10]...), lines[60:]...), "")
	ps := [][2]string{
		{"", ""},
		{"", "a\n"},
		{"a\n", ""},
		{"a\nb\nc\n", "a\nb\nc"},
		{"a\nb\nc", "a\nb\nd"},
		{"a\nb\na\nb\na\n", "b\na\nb\na\nb\n"},
		{"x\n}\n\ny\n}\n\nz\n", "x\n}\n\nn\n}\n\ny\n}\n\nz\n"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n", "1\nX\n3\n4\n5\n6\n7\n8\n9\nY\n11\n12\n13\n14\n15\n16\n"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n", "1\nX\n3\n4\n5\n6\n7\n8\nY\n10\n11\n12\n13\n14\n15\n16\n"},
		{g, edited},
		{g, dropped},
		{g, moved},
		{g, strings.ReplaceAll(g, "fi\n", "fi # end\n")},
	}
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		var b strings.Builder
		for range r.IntN(30) {
			b.WriteString(string(rune('a'+r.IntN(3))) + "\n")
		}
		return b.String()
	}
	if random {
		for range 300 {
			ps = append(ps, [2]string{word(), word()})
		}
	}
	return ps
}

// TestAgreesWithGNUDiff compares the hunks, their line ranges and their lines with diffutils'
// diff -u on each pair.
func TestAgreesWithGNUDiff(t *testing.T) {
	for i, p := range pairs(t, false) {
		got := unified(Diff([]byte(p[0]), []byte(p[1]), 3))
		want := gnuDiff(t, []byte(p[0]), []byte(p[1]))
		if got != want {
			t.Errorf("pair %d: hunks differ from diff -u:\n--- a\n%s\n--- b\n%s\ngot:\n%s\nwant:\n%s", i, p[0], p[1], got, want)
		}
	}
}

// TestApply checks that every hunk's lines rebuild the new text from the old one.
func TestApply(t *testing.T) {
	for i, p := range pairs(t, true) {
		if got := apply(t, p[0], Diff([]byte(p[0]), []byte(p[1]), 2)); got != p[1] {
			t.Errorf("pair %d: applying the hunks gives %q, want %q", i, got, p[1])
		}
	}
}

func apply(t *testing.T, old string, hs []Hunk) string {
	x := split([]byte(old))
	var out bytes.Buffer
	at := 0
	for _, h := range hs {
		start := h.OldStart - 1
		if h.OldLines == 0 {
			start = h.OldStart
		}
		for ; at < start; at++ {
			out.WriteString(x[at])
		}
		for k, l := range h.Lines {
			if l == noNewline {
				continue
			}
			nl := "\n"
			if k+1 < len(h.Lines) && h.Lines[k+1] == noNewline {
				nl = ""
			}
			switch l[0] {
			case ' ':
				out.WriteString(l[1:] + nl)
				at++
			case '-':
				at++
			case '+':
				out.WriteString(l[1:] + nl)
			}
		}
	}
	for ; at < len(x); at++ {
		out.WriteString(x[at])
	}
	return out.String()
}
