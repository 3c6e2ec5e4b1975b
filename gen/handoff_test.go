package gen

import (
	"strings"
	"testing"
)

// TestYAMLQuote: yq writes printable text as a single-quoted YAML scalar (a quote doubled),
// and anything else double-quoted with escapes, so that no value can end its scalar.
func TestYAMLQuote(t *testing.T) {
	for in, want := range map[string]string{
		"pg1":               "'pg1'",
		"2001:db8::1":       "'2001:db8::1'",
		"it's":              "'it''s'",
		"{{ lookup('x') }}": "'{{ lookup(''x'') }}'",
		"":                  "''",
		"a\nb: c":           `"a\u000ab: c"`,
		"q\"\\\x00":         `"q\"\\\u0000"`,
		"ls\u2028bom\ufeff": `"ls\u2028bom\ufeff"`,
		"bad\xff":           `"bad\xff"`,
	} {
		if got := yq(in); got != want {
			t.Errorf("yq(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestHandoffFilesQuoteEveryValue: every value of the spec that reaches the inventory and the
// playbook is a quoted scalar, and deploy.sh's tables hold them in single quotes.
func TestHandoffFilesQuoteEveryValue(t *testing.T) {
	specs := goldenSpecs(t)
	for _, name := range []string{"debian-streaming", "wide-ipv6-native", "watchdog-4.3"} {
		checkQuoted(t, Generate(specs[name]))
	}
}

func checkQuoted(t *testing.T, b *Bundle) {
	n := 0
	for _, f := range b.Files {
		if f.Install != Apply {
			continue
		}
		for i, l := range strings.Split(string(f.Data), "\n") {
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "ansible_host:"), strings.HasPrefix(l, "pgpoolgen_play_host:"),
				strings.HasPrefix(l, "- name:") && f.Name == "ansible/playbook.yml":
				n++
				_, v, _ := strings.Cut(l, ": ")
				if v = strings.TrimPrefix(v, "!unsafe "); !strings.HasPrefix(v, "'") || !strings.HasSuffix(v, "'") {
					t.Errorf("%s:%d: %s: the value is not quoted", f.Name, i+1, l)
				}
			case strings.HasPrefix(l, "['") && f.Name == "deploy.sh":
				n++
				if !strings.Contains(l, "']='") || !strings.HasSuffix(l, "'") {
					t.Errorf("%s:%d: %s: the value is not quoted", f.Name, i+1, l)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("%s: only %d values checked", b.Cluster, n)
	}
}
