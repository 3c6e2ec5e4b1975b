package schema

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// A rule is one message the loader can report: the format string of a call that reports a
// problem, found in the source by TestEveryRuleHasACase.
type rule struct {
	pos    string // file:line of the call
	format string
	re     *regexp.Regexp
}

// reporters are the calls whose format argument is a problem's message, with its index.
var reporters = map[string]int{
	"add":         2, // d.add(pos, path, format, ...)
	"atKey":       1,
	"atValue":     1,
	"Errorf":      0, // fmt.Errorf: returned to a reporter that prints it with %v
	"New":         0, // errors.New
	"Sprintf":     0, // a message built before it is reported (only formats with words)
	"require":     1, // t.require(key, what): "is missing: what"
	"missingList": 2, // l.missingList(root, key, what)
	"limitAt":     0, // checkBounds' limits, at the place the limit is crossed
}

// notRules are functions whose formats describe part of a message rather than make a rule.
var notRules = map[string]string{
	"tomlType":  "names a TOML type (%T for a type TOML never produces)",
	"String":    "prints a version",
	"fewNames":  "lists names inside a message",
	"alsoHosts": "ends a message inside a rule's own",
	// A warning, not a problem: TestFrozenServerWarning checks each wording it can take.
	"frozenServerWarning": "puts the parts of a warning (l.warn) together",
}

// uncovered lists the rules that deliberately have no case in golden/errors, by the start of
// their format, with the reason.
var uncovered = map[string]string{
	"pgpoolgen did not read this key":       "reports a bug in pgpoolgen itself: no spec reaches it while every reader reads the keys it takes",
	"is %s; %s takes a number":              "only backend_weightN is a double in params.tsv, and pgpoolgen sets it from host.weight; kept for the next double parameter",
	"the spec's file name is %d bytes long": "a Linux file name cannot be over 255 bytes, so no golden case can be written; TestSpecNameRefused gives Load a longer name",
	"the spec holds more than %d keys":      "a case would be a committed file of 100 kB of array elements; TestValuesBounded gives Load one",
	"the spec is larger than %s":            "a case would be a committed file over 1 MiB; TestSpecSizeBounded and TestSpecFileBounded give Load and the command line such a spec",
	"schema: %s reads %s":                   "a panic on a bug in pgpoolgen (a reader asking for a key tableKeys does not list), which every test of that reader would hit",
	"pgpool-II %s does not read it: ":       "ReleaseError's text for pgpoolgen lint --release (golden/lint/release-4.3.5, schema/conf TestRelease); a spec's cluster.pgpool_release words it its own way (golden/errors/release-*)",
}

var verbRE = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)

// pattern turns a format into a regular expression that matches what it prints.
func pattern(format string) *regexp.Regexp {
	var b strings.Builder
	last := 0
	for _, loc := range verbRE.FindAllStringIndex(format, -1) {
		b.WriteString(regexp.QuoteMeta(format[last:loc[0]]))
		switch verb := format[loc[1]-1]; verb {
		case '%':
			b.WriteString("%")
		case 'd':
			b.WriteString("-?[0-9]+")
		case 'q':
			b.WriteString(`(?:".*"|'.*')`)
		case 'x', 'X':
			b.WriteString("[0-9a-fA-F]+")
		case 'o':
			b.WriteString("[0-7]+")
		default:
			b.WriteString(".*")
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(format[last:]))
	return regexp.MustCompile(b.String())
}

var wordRE = regexp.MustCompile(`[A-Za-z]{3,}`)

// collectRules finds every rule in the non-test Go files of dirs.
func collectRules(t *testing.T, dirs ...string) []rule {
	t.Helper()
	var rules []rule
	fset := token.NewFileSet()
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if ok && notRules[fn.Name.Name] != "" {
					continue
				}
				ast.Inspect(decl, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					name := ""
					switch fun := call.Fun.(type) {
					case *ast.SelectorExpr:
						name = fun.Sel.Name
					case *ast.Ident:
						name = fun.Name
					}
					i, ok := reporters[name]
					if !ok || i >= len(call.Args) {
						return true
					}
					lit, ok := call.Args[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						return true
					}
					format, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					// A format of verbs only forwards a message made elsewhere; that one is the rule.
					if !wordRE.MatchString(verbRE.ReplaceAllString(format, "")) {
						return true
					}
					p := fset.Position(lit.Pos())
					rules = append(rules, rule{pos: p.Filename + ":" + strconv.Itoa(p.Line), format: format, re: pattern(format)})
					return true
				})
			}
		}
	}
	return rules
}

// TestEveryRuleHasACase requires, for every message the loader can report, a bad spec in
// golden/errors whose expected stderr shows it: a rule without a failing case is a rule
// nothing proves works.
func TestEveryRuleHasACase(t *testing.T) {
	rules := collectRules(t, ".", "pgpool")
	if len(rules) < 100 {
		t.Fatalf("found %d rules, want over 100: is the parser missing calls?", len(rules))
	}
	stderrs, err := filepath.Glob("../golden/errors/*.stderr")
	if err != nil || len(stderrs) == 0 {
		t.Fatalf("no golden/errors/*.stderr: %v", err)
	}
	var lines []string
	for _, f := range stderrs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	covered := 0
	var missing []string
	for _, r := range rules {
		found := false
		for _, l := range lines {
			if r.re.MatchString(l) {
				found = true
				break
			}
		}
		if found {
			covered++
			continue
		}
		if exempt(r.format) {
			continue
		}
		missing = append(missing, r.pos+": "+strconv.Quote(r.format))
	}
	sort.Strings(missing)
	t.Logf("%d rules, %d with a case in golden/errors, %d listed without one", len(rules), covered, len(rules)-covered-len(missing))
	for _, m := range missing {
		t.Errorf("no golden/errors case shows %s", m)
	}
	for prefix := range uncovered {
		used := false
		for _, r := range rules {
			used = used || strings.HasPrefix(r.format, prefix)
		}
		if !used {
			t.Errorf("uncovered lists %q, which no rule starts with any more", prefix)
		}
	}
}

func exempt(format string) bool {
	for prefix := range uncovered {
		if strings.HasPrefix(format, prefix) {
			return true
		}
	}
	return false
}

func TestPattern(t *testing.T) {
	for _, c := range []struct {
		format, line string
		want         bool
	}{
		{"%q is out of range: want %d to %d", `x: "7" is out of range: want 1 to 9`, true},
		{"%q is out of range: want %d to %d", `x: "7" is out of range: want a to 9`, false},
		{"has a zone; give the address without %%%s", "has a zone; give the address without %eth0", true},
		{"0x%02x (%s)", "0xff (x)", true},
	} {
		if got := pattern(c.format).MatchString(c.line); got != c.want {
			t.Errorf("pattern(%q) on %q = %v, want %v", c.format, c.line, got, c.want)
		}
	}
}
