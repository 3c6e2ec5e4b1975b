package gen

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"

	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
)

// The structural test of the generated scripts: each spec shape is rendered twice, with plain
// values and with hostile values the schema accepts (every character its character sets allow,
// at the edges where allowed, at the longest length), and the two renders of every script are
// parsed as bash and walked together. They must be the same tree: the same commands, words,
// word parts, expansions, substitutions and redirections, differing only inside quoted text
// and comments. A value that adds a word, an expansion, a command or a redirection, or that
// lands outside quotes (where a value of another shape would), fails naming the script, the
// place and what appeared.

// hostileFill is the filler of hostile names: every punctuation character of the name and user
// character sets, in every order.
const hostileFill = "-._.-_-"

// hostileWord makes a value of length n that starts with first, ends with last and is filled
// with hostileFill; distinct last parts keep distinct values distinct.
func hostileWord(first, last string, n int) string {
	fill := n - len(first) - len(last)
	return first + strings.Repeat(hostileFill, fill/len(hostileFill)+1)[:fill] + last
}

// hostileDNS is a DNS name of 253 characters, the longest there is: three labels of 63
// characters and one of 61, '-' inside each, the last not all digits and ending in tag.
func hostileDNS(tag string) string {
	label := func(last string) string {
		return "a" + strings.Repeat("-0", 31)[:61-len(last)] + "-" + last
	}
	return label("b") + "." + label("c") + "." + label("d") + "." + label(tag)[:61-len(tag)] + tag
}

// hostilePath is the root under which every path of the hostile spec lies: every character
// the path set allows, '.', '-', '_', '+' and '@', at the start and end of its names.
// It starts with /f, which sorts where the plain paths do among the bundle's fixed paths, at the
// top (after /etc/pgpoolgen, like /srv/p) and inserted after /etc (before /etc/pgpoolgen and
// /etc/tmpfiles.d, like /etc/pgpool-ii): setup takes files in path order, and both renders
// must list them alike.
var hostilePath = "/f/+@-._x" + "/" + hostileWord("@", "+", 60) + "/" + hostileWord(".", "_", 60) + "/-x-@+.+@"

// shtreeValue is one value of the plain spec and the hostile value it becomes. scripts says
// that the value reaches a script, so the test checks that it is there; the others go only
// into config files, which bundleProblems checks.
type shtreeValue struct {
	plain, hostile string
	scripts        bool
}

// shtreeValues are the string values of shtreeSpec, as TOML strings in the spec: each plain
// one is replaced wherever it occurs.
func shtreeValues(s haSpec) []shtreeValue {
	vals := []shtreeValue{
		{`"ha-test"`, hostileWord("9", "Z0", 63), true},
		{`"pgpool1"`, hostileWord("0", "p1", 63), true},
		{`"pg1"`, hostileWord("Z", "g1", 63), true},
		{`"pg2"`, hostileWord("a", "g2", 63), true},
		{`"pg3"`, hostileWord("9", "g3", 63), true},
		{`"127.0.0.10"`, hostileDNS("p"), true},
		{`"127.0.0.11"`, "fd00:0000:0000:0000:0000:0000:0000:0011", true},
		{`"127.0.0.12"`, "fd00::12", true},
		{`"127.0.0.13"`, "255.255.255.254", true},
		{`"/srv/p`, hostilePath, true}, // every layout path and data directory: a prefix
		{`"osuser"`, hostileWord("_", "u-", 63), true},
		{`"osgroup"`, hostileWord("G", "g.", 63), true},
		{`"hcuser"`, hostileWord("_", "h", 63), false},
		{`"recuser"`, hostileWord("_", "r.", 63), false},
		{`"repl"`, hostileWord("R", "_", 63), true},
		{`"pcpadmin"`, hostileWord("_", "-pcp", 63), true},
		{`"appuser"`, hostileWord("A", "-a", 63), false},
		{`"appdb"`, hostileWord("_", "db", 63), false},
	}
	if !s.native {
		vals = append(vals, shtreeValue{`"sruser"`, hostileWord("_", "s", 63), false})
	}
	if shtreeRewind(s) {
		vals = append(vals, shtreeValue{`"rwuser"`, hostileWord("r", "_w", 63), true})
	}
	if !pgpool.MustVersion(s.pgpool).Less(pgpool.V34) {
		vals = append(vals, shtreeValue{`"localhost"`, "fd00:0000:0000:0000:0000:0000:0000:ffff", false},
			// Free text, as pgpool.conf takes it: everything but a single quote.
			shtreeValue{`"%m: "`, `%m "$(id)` + "`id`" + `;|&<>*?[{}]\~!# 日本 `, false})
	}
	if !pgpool.MustVersion(s.pgpool).Less(pgpool.V35) {
		vals = append(vals, shtreeValue{`"hcdb"`, hostileWord("d", "-h", 63), false})
		if !s.native {
			vals = append(vals, shtreeValue{`"srdb"`, hostileWord("D", "-s", 63), false})
		}
	}
	if !pgpool.MustVersion(s.pgpool).Less(pgpool.V41) {
		vals = append(vals,
			shtreeValue{`"app-pg1"`, hostileWord("0", "a1", 63), true},
			shtreeValue{`"app-pg2"`, hostileWord("z", "a2", 63), true},
			shtreeValue{`"app-pg3"`, hostileWord("Z", "a3", 63), true})
	}
	return vals
}

// hostileSpecName is the spec's file name in the hostile render: free text, which reaches the
// scripts' comments, with every shell metacharacter, 255 bytes long (the most a name may be).
var hostileSpecName = func() string {
	core := `a'b"c$(id)` + "`id`" + `;|&<>*?[{}]\~!# 日本 `
	n := 255 - len(core) - len(".toml")
	return "specs/" + core + strings.Repeat(`$'";`, n/4+1)[:n] + ".toml"
}()

// shtreeSpec is the plain spec of a shape: haSpec with its paths under /srv/p, a source install,
// and every user, database and address field set.
func shtreeSpec(s haSpec) string {
	s.root, s.knownHosts = "/srv/p", true
	toml := s.toml()
	layout := "preset = \"source\"\nuser = \"osuser\"\ngroup = \"osgroup\"\n"
	install := "method = \"source\"\nsource_tarball = \"/srv/p/src/pgpool-II-" + s.pgpool + ".0.tar.gz\"\n"
	for _, r := range [][2]string{
		{"preset = \"source\"\n", layout},
		{"method = \"none\"\n", install},
		{`name = "pgpool"`, `name = "pcpadmin"`},
	} {
		if !strings.Contains(toml, r[0]) {
			panic("haSpec no longer writes " + r[0])
		}
		toml = strings.Replace(toml, r[0], r[1], 1)
	}
	var b strings.Builder
	b.WriteString(toml)
	b.WriteString("\n[pgpool]\nlisten_addresses = \"*\"\n")
	if !pgpool.MustVersion(s.pgpool).Less(pgpool.V34) {
		b.WriteString("pcp_listen_addresses = \"localhost\"\n")
	}
	b.WriteString("\n[health_check]\nuser = \"hcuser\"\n")
	if !pgpool.MustVersion(s.pgpool).Less(pgpool.V35) {
		b.WriteString("database = \"hcdb\"\n")
	}
	if !s.native {
		b.WriteString("\n[sr_check]\nuser = \"sruser\"\n")
		if !pgpool.MustVersion(s.pgpool).Less(pgpool.V35) {
			b.WriteString("database = \"srdb\"\n")
		}
	}
	b.WriteString("\n[recovery]\nuser = \"recuser\"\n\n[replication]\nuser = \"repl\"\n")
	if shtreeRewind(s) {
		b.WriteString("rewind_user = \"rwuser\"\n")
	}
	b.WriteString("\n[[pool_user]]\nname = \"appuser\"\npassword_env = \"APP_PASSWORD\"\n")
	b.WriteString("\n[[hba]]\nuser = \"appuser\"\ndatabase = \"appdb\"\naddress = \"10.0.0.0/8\"\nmethod = \"md5\"\n")
	if !pgpool.MustVersion(s.pgpool).Less(pgpool.V34) {
		b.WriteString("\n[parameters]\nlog_line_prefix = \"%m: \"\n")
	}
	return b.String()
}

// shtreeRewind says whether a shape's follow script runs pg_rewind, which takes rewind_user:
// streaming replication with PostgreSQL 9.5 or later.
func shtreeRewind(s haSpec) bool {
	return !s.native && !slices.Contains([]string{"9.0", "9.1", "9.2", "9.3", "9.4"}, s.pg)
}

// hostileSpec replaces every plain value of the spec by its hostile value.
func hostileSpec(t *testing.T, plain string, vals []shtreeValue) string {
	t.Helper()
	out := plain
	for _, v := range vals {
		if !strings.Contains(out, v.plain) {
			t.Fatalf("the plain spec holds no %s to replace", v.plain)
		}
		repl := tomlString(v.hostile)
		if !strings.HasSuffix(v.plain, `"`) { // a prefix: keep what follows it
			repl = strings.TrimSuffix(repl, `"`)
		}
		out = strings.ReplaceAll(out, v.plain, repl)
	}
	return out
}

// shtreeShapes are the spec shapes: a series of each era in both modes, each with a
// PostgreSQL version that takes other branches of the scripts.
func shtreeShapes() []haSpec {
	var shapes []haSpec
	for _, native := range []bool{false, true} {
		for _, v := range [][2]string{{"3.1", "9.0"}, {"3.4", "9.2"}, {"4.1", "9.6"}, {"4.3", "12"}, {"4.7", "15"}} {
			shapes = append(shapes, haSpec{pgpool: v[0], pg: v[1], native: native})
		}
	}
	return shapes
}

// scriptsByPlace returns the scripts of a bundle by host number (in spec order) and file name,
// so that the plain and hostile renders, whose host names and paths differ, can be matched.
func scriptsByPlace(c *schema.Cluster, b *Bundle) map[string]*File {
	index := map[string]int{}
	for i, h := range c.Hosts {
		index[h.Name] = i
	}
	out := map[string]*File{}
	for _, f := range b.Files {
		if !isScript(f) {
			continue
		}
		name := f.Name
		if f.Dest != "" {
			name = path.Base(f.Dest)
		}
		out[fmt.Sprintf("host%d/%s", index[f.Host], name)] = f
	}
	return out
}

// scriptKinds are the scripts the generator writes; follow_master.sh is follow_primary.sh
// before pgpool-II 4.2, recovery_2nd_stage is native replication's.
var scriptKinds = []string{"setup.sh", "failover.sh", "follow_primary.sh", "follow_master.sh",
	"recovery_1st_stage", "recovery_2nd_stage", "pgpool_remote_start"}

// TestScriptTrees renders every script of every shape with plain and with hostile values, and
// fails when the two differ anywhere but inside quoted text and comments; every file of the
// hostile bundles must also pass the fuzz targets' checks (no NUL or control character, every
// script parses, every config line in its reader's syntax).
func TestScriptTrees(t *testing.T) {
	kinds := map[string]int{}
	for _, shape := range shtreeShapes() {
		label := fmt.Sprintf("pgpool%s-pg%s-native=%v", shape.pgpool, shape.pg, shape.native)
		t.Run(label, func(t *testing.T) {
			vals := shtreeValues(shape)
			plainSrc := shtreeSpec(shape)
			hostileSrc := hostileSpec(t, plainSrc, vals)
			scripts := compareRenders(t, kinds, "cluster.toml", plainSrc, hostileSpecName, hostileSrc)
			for _, v := range vals {
				if v.scripts && !bytes.Contains(scripts, []byte(v.hostile)) {
					t.Errorf("hostile value %q for %s is in no script", v.hostile, v.plain)
				}
			}
			if name := path.Base(hostileSpecName); !bytes.Contains(scripts, []byte(name)) {
				t.Errorf("the hostile spec name %q is in no script", name)
			}
		})
	}
	for _, k := range scriptKinds {
		if kinds[k] == 0 {
			t.Errorf("no shape gives a %s to compare", k)
		}
	}
}

// compareRenders loads and renders a plain and a hostile spec of one shape and compares the
// tree of each script (counted in kinds by name); the hostile bundle must pass bundleProblems
// and hold no NUL byte. It returns the hostile scripts' text.
func compareRenders(t *testing.T, kinds map[string]int, plainName, plainSrc, hostileName, hostileSrc string) []byte {
	t.Helper()
	plainC, err := schema.Load(plainName, []byte(plainSrc), haEnv)
	if err != nil {
		t.Fatalf("plain spec: %v\n%s", err, plainSrc)
	}
	hostileC, err := schema.Load(hostileName, []byte(hostileSrc), haEnv)
	if err != nil {
		t.Fatalf("hostile spec: %v\n%s", err, hostileSrc)
	}
	plainB, hostileB := Generate(plainC), Generate(hostileC)
	for _, p := range bundleProblems([]byte(hostileSrc), hostileB, Generate(hostileC)) {
		t.Errorf("hostile bundle: %s", p)
	}
	var scripts bytes.Buffer
	for _, f := range hostileB.Files {
		// Go's templates copy values as they are; the schema refuses control characters, so
		// no NUL can reach any file.
		if i := bytes.IndexByte(f.Data, 0); i >= 0 {
			t.Errorf("%s holds a NUL byte at offset %d", f.Path(), i)
		}
		if isScript(f) {
			scripts.Write(f.Data)
		}
	}

	plain, hostile := scriptsByPlace(plainC, plainB), scriptsByPlace(hostileC, hostileB)
	places := make([]string, 0, len(plain))
	for p := range plain {
		places = append(places, p)
	}
	sort.Strings(places)
	if len(plain) != len(hostile) {
		t.Errorf("%d scripts with plain values, %d with hostile ones", len(plain), len(hostile))
	}
	for _, place := range places {
		h := hostile[place]
		if h == nil {
			t.Errorf("%s: no such script with hostile values", place)
			continue
		}
		kinds[path.Base(place)]++
		for _, p := range treeDiff(plain[place].Data, h.Data) {
			t.Errorf("%s: %s", place, p)
		}
	}
	return scripts.Bytes()
}

// TestGoldenScriptTrees does the same for every golden spec: its own values against hostile
// ones, each value of a character set replaced by one at that set's limits (see goldenHostile).
func TestGoldenScriptTrees(t *testing.T) {
	files, err := filepath.Glob("../golden/*/cluster.toml")
	if err != nil || len(files) < 4 {
		t.Fatalf("found %d golden specs (%v), want at least 4", len(files), err)
	}
	kinds := map[string]int{}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			hostile, n := goldenHostile(string(src))
			if n < 10 {
				t.Fatalf("only %d values of %s to make hostile", n, f)
			}
			// In the spec's folder, so that its key files are found.
			compareRenders(t, kinds, f, string(src), filepath.Join(filepath.Dir(f), path.Base(hostileSpecName)), hostile)
		})
	}
	for _, k := range scriptKinds {
		if kinds[k] == 0 {
			t.Errorf("no golden spec gives a %s to compare", k)
		}
	}
}

// goldenKinds says which character set each string key of a spec takes, by section.
var goldenKinds = map[string]string{
	"cluster.name": "name", "host.name": "name", "host.application_name": "name",
	"host.address": "address", "host.data_directory": "path", "install.source_tarball": "path",
	"layout.user": "user", "layout.group": "user",
	"health_check.user": "user", "health_check.database": "user", "sr_check.user": "user",
	"sr_check.database": "user", "recovery.user": "user", "replication.user": "user",
	"pcp_user.name": "user", "pool_user.name": "user", "hba.user": "users", "hba.database": "users",
	"pgpool.listen_addresses": "addresses", "pgpool.pcp_listen_addresses": "addresses",
	"watchdog.interface": "interface", "host.interface": "interface",
}

var (
	tomlSectionRE = regexp.MustCompile(`^\[\[?([a-z_]+)\]\]?`)
	tomlStringRE  = regexp.MustCompile(`^([a-z_]+)( *= *)"([^"\\]*)"(.*)$`)
)

// goldenHostile rewrites a spec's string values, line by line, into hostile ones of the same
// character set: names and users of 63 characters with '.', '-' and '_' at the edges the set
// allows; paths with hostilePath inserted after their first folder (so that /run/… stays
// under /run and a path under another stays under it); addresses as a 253-character DNS name
// or IPv6 in long and short form. One value always becomes the same hostile value, so equal
// values stay equal and distinct ones distinct. It returns the spec and how many values it
// changed.
func goldenHostile(src string) (string, int) {
	seen := map[string]string{}
	changed := 0
	var addrs int
	hostile := func(kind, v string) string {
		if h, ok := seen[kind+"\x00"+v]; ok {
			return h
		}
		h := v
		switch kind {
		case "name":
			if len(v) <= 61 {
				h = hostileWord("0", "_"+v, 63)
			}
		case "user":
			if len(v) <= 61 {
				h = hostileWord("_", "."+v, 63)
			}
		case "interface":
			if len(v) <= 13 {
				h = hostileWord("_", "."+v, 15)
			}
		case "path":
			if v != "" {
				first, rest, _ := strings.Cut(v[1:], "/")
				h = "/" + first + hostilePath
				if rest != "" {
					h += "/" + rest
				}
			}
		case "address":
			switch addrs++; addrs % 3 {
			case 0:
				h = hostileDNS(fmt.Sprintf("h%d", addrs))
			case 1:
				h = fmt.Sprintf("fd00:0000:0000:0000:0000:0000:0000:%04x", addrs)
			case 2:
				h = fmt.Sprintf("fd00::%x", addrs)
			}
		}
		seen[kind+"\x00"+v] = h
		return h
	}
	list := func(kind, v string, keep ...string) string {
		parts := strings.Split(v, ",")
		for i, p := range parts {
			if !slices.Contains(keep, p) {
				parts[i] = hostile(kind, p)
			}
		}
		return strings.Join(parts, ",")
	}
	section := ""
	lines := strings.Split(src, "\n")
	for i, line := range lines {
		if m := tomlSectionRE.FindStringSubmatch(line); m != nil {
			section = m[1]
			continue
		}
		m := tomlStringRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key, v := section+"."+m[1], m[3]
		kind := goldenKinds[key]
		if section == "layout" && m[1] != "preset" && kind == "" {
			kind = "path" // every other layout key is a path
		}
		var h string
		switch kind {
		case "":
			continue
		case "users":
			h = list("user", v, "all")
		case "addresses":
			h = list("address", v, "*", "localhost")
		default:
			h = hostile(kind, v)
		}
		if h != v {
			changed++
			lines[i] = m[1] + m[2] + tomlString(h) + m[4]
		}
	}
	return strings.Join(lines, "\n"), changed
}

// treeDiff parses two renders of one script as bash and returns where their trees differ
// other than inside quoted text and comments: at most a few places, each with its line and
// column in the second render and what is there.
func treeDiff(plain, hostile []byte) []string {
	parse := func(what string, data []byte) *syntax.File {
		f, err := syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(false)).Parse(bytes.NewReader(data), what)
		if err != nil {
			return nil
		}
		return f
	}
	a, b := parse("script", plain), parse("script", hostile)
	switch {
	case a == nil:
		return []string{"the render with plain values does not parse as bash"}
	case b == nil:
		_, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(hostile), "")
		return []string{fmt.Sprintf("the render with hostile values does not parse as bash: %v", err)}
	}
	w := &treeWalk{}
	w.walk(reflect.ValueOf(a), reflect.ValueOf(b), false)
	return w.diffs
}

// treeWalk walks two syntax trees together.
type treeWalk struct {
	diffs      []string
	stmt, node [2]syntax.Node // the innermost statement and node around the walk, in each tree
}

var (
	posType     = reflect.TypeOf(syntax.Pos{})
	commentType = reflect.TypeOf(syntax.Comment{})
	nodeType    = reflect.TypeOf((*syntax.Node)(nil)).Elem()
)

// maxTreeDiffs bounds the report of one script: the first difference usually explains the rest.
const maxTreeDiffs = 5

func (w *treeWalk) fail(what string) {
	if len(w.diffs) >= maxTreeDiffs {
		return
	}
	at := w.node[1].Pos()
	msg := fmt.Sprintf("%d:%d: %s", at.Line(), at.Col(), what)
	if w.stmt[1] != nil {
		msg += fmt.Sprintf("\n\thostile: %s\n\tplain:   %s", printNode(w.stmt[1]), printNode(w.stmt[0]))
	}
	w.diffs = append(w.diffs, msg)
}

// printNode prints a node back as shell, on one line, for a failure message.
func printNode(n syntax.Node) string {
	if n == nil {
		return "(none)"
	}
	if r, ok := n.(*syntax.Redirect); ok { // the printer takes no redirection alone
		return r.Op.String() + printNode(r.Word)
	}
	var buf bytes.Buffer
	if err := syntax.NewPrinter(syntax.SingleLine(true)).Print(&buf, n); err != nil {
		return fmt.Sprintf("(%T: %v)", n, err)
	}
	s := strings.TrimSpace(buf.String())
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// walk compares a and b, values of the same static type. quoted says whether they lie inside
// double quotes or a here-document, where literal text may differ.
func (w *treeWalk) walk(a, b reflect.Value, quoted bool) {
	if len(w.diffs) >= maxTreeDiffs {
		return
	}
	if a.Type() == posType || a.Type() == commentType {
		return
	}
	switch a.Kind() {
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				w.fail(fmt.Sprintf("%s where the template has %s", describeValue(b), describeValue(a)))
			}
			return
		}
		if a.Kind() == reflect.Interface {
			a, b = a.Elem(), b.Elem()
			if a.Type() != b.Type() {
				w.fail(fmt.Sprintf("%s where the template has %s", describeValue(b), describeValue(a)))
				return
			}
			w.walk(a, b, quoted)
			return
		}
		if a.Type().Implements(nodeType) {
			saved := w.node
			w.node = [2]syntax.Node{a.Interface().(syntax.Node), b.Interface().(syntax.Node)}
			defer func() { w.node = saved }()
			if _, ok := a.Interface().(*syntax.Stmt); ok {
				savedStmt := w.stmt
				w.stmt = w.node
				defer func() { w.stmt = savedStmt }()
			}
		}
		switch x := a.Interface().(type) {
		case *syntax.Lit:
			y := b.Interface().(*syntax.Lit)
			if x.Value != y.Value && !quoted {
				w.fail(fmt.Sprintf("a value lands outside quotes: %q where the plain render has %q", y.Value, x.Value))
			}
			return
		case *syntax.SglQuoted:
			if y := b.Interface().(*syntax.SglQuoted); x.Dollar != y.Dollar {
				w.fail("a $'…' string where the template has '…', or the other way round")
			}
			return
		case *syntax.DblQuoted:
			quoted = true
		case *syntax.Redirect:
			y := b.Interface().(*syntax.Redirect)
			w.walk(reflect.ValueOf(x.Op), reflect.ValueOf(y.Op), false)
			w.walk(reflect.ValueOf(x.N), reflect.ValueOf(y.N), false)
			w.walk(reflect.ValueOf(x.Word), reflect.ValueOf(y.Word), false)
			w.walk(reflect.ValueOf(x.Hdoc), reflect.ValueOf(y.Hdoc), true)
			return
		case *syntax.CmdSubst, *syntax.ProcSubst, *syntax.ArithmExp, *syntax.ArithmCmd, *syntax.ParamExp:
			// Inside these, text is a command, an expression or a name again.
			quoted = false
		}
		w.walk(a.Elem(), b.Elem(), quoted)
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if f := a.Type().Field(i); f.Type.Kind() == reflect.Bool && a.Field(i).Bool() != b.Field(i).Bool() {
				w.fail(fmt.Sprintf("%s is %v where the template has %v", f.Name, b.Field(i).Bool(), a.Field(i).Bool()))
				continue
			}
			w.walk(a.Field(i), b.Field(i), quoted)
		}
	case reflect.Slice:
		if a.Len() != b.Len() {
			w.fail(fmt.Sprintf("%d %ss where the template has %d%s", b.Len(), describeType(a.Type().Elem()), a.Len(), firstChange(a, b)))
			return
		}
		for i := 0; i < a.Len(); i++ {
			w.walk(a.Index(i), b.Index(i), quoted)
		}
	case reflect.String:
		if a.String() != b.String() {
			w.fail(fmt.Sprintf("%q where the template has %q", b.String(), a.String()))
		}
	default:
		if a.CanInterface() && a.Interface() != b.Interface() {
			w.fail(fmt.Sprintf("%v where the template has %v (%s)", b.Interface(), a.Interface(), a.Type()))
		}
	}
}

// firstChange shows the first element of two slices of nodes that differs, for a report of
// an element too many or too few.
func firstChange(a, b reflect.Value) string {
	at := func(v reflect.Value, i int) string {
		if i >= v.Len() {
			return "nothing"
		}
		return describeValue(v.Index(i))
	}
	for i := 0; i < max(a.Len(), b.Len()); i++ {
		if x, y := at(a, i), at(b, i); x != y {
			return fmt.Sprintf(": %s where the template has %s", y, x)
		}
	}
	return ""
}

// describeValue names what a tree holds at a place: the node's kind and text.
func describeValue(v reflect.Value) string {
	if !v.IsValid() || (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && v.IsNil() {
		return "nothing"
	}
	if n, ok := v.Interface().(syntax.Node); ok {
		return fmt.Sprintf("%s `%s`", describeType(reflect.TypeOf(n)), printNode(n))
	}
	return v.Type().String()
}

// describeType names a node type as a reader of shell would: "word part", "command", ….
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	names := map[string]string{
		"Stmt": "command", "Word": "word", "WordPart": "word part", "Redirect": "redirection",
		"Assign": "assignment", "Command": "command", "Lit": "literal", "SglQuoted": "single-quoted string",
		"DblQuoted": "double-quoted string", "ParamExp": "parameter expansion", "CmdSubst": "command substitution",
		"ArithmExp": "arithmetic expansion", "ProcSubst": "process substitution", "CallExpr": "simple command",
	}
	if n, ok := names[t.Name()]; ok {
		return n
	}
	return t.Name()
}

// TestTreeDiff shows what the comparison accepts and what it refuses: values that change only
// quoted text or comments pass; every way a value could change the script's structure fails.
func TestTreeDiff(t *testing.T) {
	for _, tc := range []struct {
		name, plain, hostile string
		fails                bool
	}{
		{"single-quoted value", "x='a'\n", "x='b c;$(d)`e`\"'\n", false},
		{"double-quoted value", "echo \"at a\"\n", "echo \"at b\\$c\\`d\\\\\"\n", false},
		{"comment", "# from a\nx=1\n", "# from b $(c); d\nx=1\n", false},
		{"quoted here-document", "cat <<'E'\na\nE\n", "cat <<'E'\nb $(c)\nE\n", false},
		{"value outside quotes", "x=a\n", "x=b\n", true},
		{"value as a glob pattern", "[[ $x == a ]]\n", "[[ $x == b ]]\n", true},
		{"word split", "cmd 'a'\n", "cmd 'a' 'b'\n", true},
		{"extra command", "x='a'\n", "x='a'\ntouch /tmp/p\n", true},
		{"command after a semicolon", "x='a'\n", "x='a'; touch /tmp/p\n", true},
		{"command substitution", "echo \"a\"\n", "echo \"$(id)\"\n", true},
		{"parameter expansion", "echo \"a\"\n", "echo \"$HOME\"\n", true},
		{"arithmetic", "echo \"a\"\n", "echo \"$((1))\"\n", true},
		{"process substitution", "diff 'a' 'b'\n", "diff 'a' <(id)\n", true},
		{"redirection", "echo 'a'\n", "echo 'a' >/tmp/p\n", true},
		{"quote kind", "x='a'\n", "x=\"a\"\n", true},
		{"$'' string", "x='a'\n", "x=$'a'\n", true},
		{"comment that ends", "# a\nx=1\n", "# a\nid\nx=1\n", true},
		{"pipeline", "echo 'a'\n", "echo 'a' | sh\n", true},
		{"background", "echo 'a'\n", "echo 'a' &\n", true},
		{"unquoted here-document expansion", "cat <<E\na\nE\n", "cat <<E\n$(id)\nE\n", true},
		{"does not parse", "x='a'\n", "x='a\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diffs := treeDiff([]byte(tc.plain), []byte(tc.hostile))
			if (len(diffs) > 0) != tc.fails {
				t.Errorf("treeDiff(%q, %q) = %q; want a difference: %v", tc.plain, tc.hostile, diffs, tc.fails)
			}
			t.Logf("%q", diffs)
		})
	}
}

// TestNULRefused puts a NUL byte into each place of a spec that takes a string (FuzzValue's
// slots) and in the spec's file name: the schema must refuse every one, so that no NUL can
// reach a template, which copies values as they are.
func TestNULRefused(t *testing.T) {
	env := fuzzEnv(fuzzSpecName, nil)
	if _, err := schema.Load(fuzzSpecName, []byte(valueSpec()), env); err != nil {
		t.Fatalf("the spec without a NUL is refused: %v", err)
	}
	for i, slot := range valueSlots {
		for _, v := range []string{"\x00", "a\x00", "\x00a", "pg\x001"} {
			if _, err := schema.Load(fuzzSpecName, []byte(fillSlot(i, v)), env); err == nil {
				t.Errorf("%s with %q: accepted", slot, v)
			}
		}
	}
	if _, err := schema.Load("cluster\x00.toml", []byte(valueSpec()), env); err == nil {
		t.Errorf("a spec file name with a NUL byte is accepted")
	}
}

// A scriptCommand is a simple command or a declaration of a script, found in its syntax tree:
// the function it is in ("" at the top level), and the command printed back on one line with
// its redirections.
type scriptCommand struct {
	fn, text string
	call     *syntax.CallExpr // nil for a declaration (readonly, local)
}

// scriptCommands parses a script and returns its simple commands in order, and the body of each
// function printed back on one line, by name.
func scriptCommands(t *testing.T, name string, data []byte) ([]scriptCommand, map[string]string) {
	t.Helper()
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(bytes.NewReader(data), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	print := func(n syntax.Node) string {
		var buf bytes.Buffer
		if err := syntax.NewPrinter(syntax.SingleLine(true)).Print(&buf, n); err != nil {
			t.Fatalf("%s: printing %T: %v", name, n, err)
		}
		return strings.TrimSpace(buf.String())
	}
	var cmds []scriptCommand
	bodies := map[string]string{}
	for _, st := range f.Stmts {
		fn := ""
		if d, ok := st.Cmd.(*syntax.FuncDecl); ok {
			fn = d.Name.Value
			bodies[fn] = print(d.Body)
		}
		syntax.Walk(st, func(n syntax.Node) bool {
			s, ok := n.(*syntax.Stmt)
			if !ok {
				return true
			}
			var text string
			var call *syntax.CallExpr
			switch c := s.Cmd.(type) {
			case *syntax.CallExpr:
				if len(c.Args) == 0 {
					return true
				}
				text, call = print(c), c
			case *syntax.DeclClause:
				text = print(c)
			default:
				return true
			}
			for _, r := range s.Redirs {
				text += " " + r.Op.String() + print(r.Word)
			}
			cmds = append(cmds, scriptCommand{fn: fn, text: text, call: call})
			return true
		})
	}
	return cmds, bodies
}

// literalWords returns the words of a call as the command receives them, when every word is
// literal text (plain or in single quotes); ok is false otherwise.
func literalWords(c *syntax.CallExpr) (words []string, ok bool) {
	for _, w := range c.Args {
		var b strings.Builder
		for _, p := range w.Parts {
			switch p := p.(type) {
			case *syntax.Lit:
				b.WriteString(p.Value)
			case *syntax.SglQuoted:
				if p.Dollar {
					return nil, false
				}
				b.WriteString(p.Value)
			default:
				return nil, false
			}
		}
		words = append(words, b.String())
	}
	return words, true
}

// commandsMatching returns the commands of function fn ("*": any) whose text matches pattern.
func commandsMatching(cmds []scriptCommand, fn, pattern string) []string {
	re := regexp.MustCompile(pattern)
	var out []string
	for _, c := range cmds {
		if (fn == "*" || c.fn == fn) && re.MatchString(c.text) {
			out = append(out, c.fn+": "+c.text)
		}
	}
	return out
}

// TestScriptCommandsByVersion reads the syntax tree of every script of specs across PostgreSQL
// versions and slot choices, and checks that each command of the slots, pg_rewind and the
// systemd units is in the scripts that need it, in the form the version takes, and in no other:
// the slot calls with slots only (streaming replication, PostgreSQL 9.4+, not turned off),
// immediately_reserve from 9.6, primary_slot_name in recovery.conf before 12 and in
// postgresql.auto.conf from 12, pg_rewind as the rewind user from 9.5, and every sudo command
// one of serviceCommands, word for word, in every script that starts or stops a server.
func TestScriptCommandsByVersion(t *testing.T) {
	var specs []haSpec
	for _, v := range [][2]string{{"3.1", "9.0"}, {"3.4", "9.2"}, {"3.6", "9.5"}, {"4.1", "9.6"}, {"4.2", "11"}, {"4.3", "12"}, {"4.7", "15"}} {
		specs = append(specs, haSpec{pgpool: v[0], pg: v[1]})
	}
	specs = append(specs, haSpec{pgpool: "4.7", pg: "15", noSlots: true}, haSpec{pgpool: "4.7", pg: "15", native: true})
	for _, spec := range specs {
		c := spec.load(t)
		pg := c.PostgreSQL
		sh := struct {
			spec                                 haSpec
			slots, reserve, rewind, recoveryConf bool
		}{spec, !spec.native && !spec.noSlots && pg.AtLeast(9, 4), pg.AtLeast(9, 6), !spec.native && pg.AtLeast(9, 5), !pg.AtLeast(12, 0)}
		if c.PG.Slots != sh.slots {
			t.Fatalf("%+v: the model's slots are %v", spec, c.PG.Slots)
		}
		if (c.Rewind.User != "") != sh.rewind {
			t.Fatalf("%+v: the model's rewind user is %q", spec, c.Rewind.User)
		}
		label := fmt.Sprintf("pgpool %s, PostgreSQL %s, native %v, slots off %v", sh.spec.pgpool, sh.spec.pg, sh.spec.native, sh.spec.noSlots)
		allowed := hostSudoLines(c)
		seen := map[string]bool{}
		for _, f := range haFiles(c) {
			if f.Host != "pgpool1" && f.Host != "pg1" {
				continue
			}
			name := path.Base(f.Dest)
			where := label + ", " + name
			cmds, bodies := scriptCommands(t, where, f.Data)
			want := func(ok bool, what string, got []string) {
				t.Helper()
				if ok != (len(got) > 0) {
					t.Errorf("%s: %s: want %v, got %q", where, what, ok, got)
				}
			}
			isFollow := strings.HasPrefix(name, "follow_")
			slotScript := sh.slots && (name == "failover.sh" || isFollow || name == "recovery_1st_stage")
			want(slotScript, "the SQL that drops a slot", commandsMatching(cmds, "drop_slot", `pg_drop_replication_slot\(slot_name\) FROM pg_replication_slots WHERE slot_name = '\$2'`))
			want(slotScript && name != "failover.sh", "the SQL that creates a slot", commandsMatching(cmds, "create_slot", `pg_create_physical_replication_slot\('\$2'.*\) WHERE NOT EXISTS`))
			want(slotScript && name != "failover.sh" && sh.reserve, "immediately_reserve", commandsMatching(cmds, "create_slot", `pg_create_physical_replication_slot\('\$2', true\)`))
			want(slotScript && name == "failover.sh", "failover.sh drops the failed standby's slot on the primary",
				commandsMatching(cmds, "main", `^on_host "\$\{NODE_HOST\[\$old_primary\]\}" drop_slot "\$\{NODE_PORT\[\$old_primary\]\}" "\$\{NODE_SLOT\[\$failed\]\}"$`))
			want(slotScript && isFollow, "the follow script creates the slot on the new primary",
				commandsMatching(cmds, "main", `^on_host "\$\{NODE_HOST\[\$primary\]\}" create_slot "\$\{NODE_PORT\[\$primary\]\}" "\$\{NODE_SLOT\[\$node\]\}"$`))
			want(slotScript && name == "recovery_1st_stage", "recovery_1st_stage creates the slot on this primary",
				commandsMatching(cmds, "main", `^create_slot "\$\{NODE_PORT\[\$THIS_NODE\]\}" "\$\{NODE_SLOT\[\$target\]\}"$`))
			want(slotScript && name != "failover.sh", "standby_config writes primary_slot_name",
				commandsMatching(cmds, "standby_config", `^printf .*"primary_slot_name = '\$slot'"`))
			if _, ok := bodies["standby_config"]; ok {
				want(sh.recoveryConf, "recovery.conf", commandsMatching(cmds, "standby_config", `>"\$dir/recovery.conf"$`))
			}
			if slotScript {
				for _, b := range c.Backends {
					if !bytes.Contains(f.Data, []byte(fmt.Sprintf("NODE_SLOT[%d]='%s'", b.NodeID, b.SlotName))) {
						t.Errorf("%s: the table of backends has no slot %s for node %d", where, b.SlotName, b.NodeID)
					}
				}
			} else if bytes.Contains(f.Data, []byte("NODE_SLOT")) || bytes.Contains(f.Data, []byte("primary_slot_name = '")) {
				t.Errorf("%s: slots where there are none", where)
			}
			if isFollow {
				want(sh.rewind, "pg_rewind as the rewind user", commandsMatching(cmds, "follow", `pg_rewind" -D "\$dir" --source-server="host=\$primary_host port=\$primary_port user=\$REWIND_USER dbname=postgres"`))
				want(false, "pg_rewind as another user", commandsMatching(cmds, "follow", `pg_rewind".*user=\$(OS_USER|REPLICATION_USER)`))
				want(sh.rewind, "the rewind user from the model", commandsMatching(cmds, "", `^readonly REWIND_USER='`+regexp.QuoteMeta(c.Rewind.User)+`'$`))
				want(sh.rewind, "the log of a rewind", commandsMatching(cmds, "follow", `^log "pg_rewind done: `))
				want(sh.rewind, "the log of the fallback", commandsMatching(cmds, "follow", `^log "pg_rewind failed; taking a fresh copy `))
			}
			// Fencing, the WAL survey and the wait for streaming, each in its version's form.
			isFailover := name == "failover.sh"
			want(isFollow, "the old primary's state asked quickly in follow", commandsMatching(cmds, "main", `^"\$ask" "\$\{NODE_HOST\[\$node\]\}" server_state "\$\{NODE_DIR\[\$node\]\}"$`))
			want(isFailover, "the fence first in main, in a quick call", commandsMatching(cmds, "main", `^quickly "\$\{NODE_HOST\[\$failed\]\}" fence "\$\{NODE_DIR\[\$failed\]\}"$`))
			want(isFailover || isFollow, "the quick calls' bounds", commandsMatching(cmds, "quickly", `^ON_HOST_CONNECT_TIMEOUT=\$QUICK_CONNECT_TIMEOUT ON_HOST_DEADLINE=\$QUICK_TIMEOUT ON_HOST_TIMEOUT=\$QUICK_TIMEOUT on_host "\$@"$`))
			want(isFailover, "SIGKILL to the postmaster", commandsMatching(cmds, "fence", `^kill -KILL "\$pid"( |$)`))
			want(isFailover, "SIGKILL to every process of the server", commandsMatching(cmds, "fence", `^kill -KILL "\$\{pids\[@\]\}"`))
			if body, ok := bodies["is_server"]; ok != isFailover || (ok && (!strings.Contains(body, `-O $proc`) || !strings.Contains(body, `[[ $comm == postgres && $proc/cwd -ef $2 ]]`))) {
				t.Errorf("%s: is_server must check a process's owner, program and working folder: %q", where, body)
			}
			want(isFailover && !sh.recoveryConf, "standby.signal on the fenced primary", commandsMatching(cmds, "fence", `^touch "\$dir/standby.signal"$`))
			want(isFailover && sh.recoveryConf, "standby_mode on the fenced primary", commandsMatching(cmds, "fence", `^printf '%s\\n' "standby_mode = 'on'" >>"\$dir/recovery.conf"$`))
			want(isFailover, "pgpool-II's connections closed when the fence fails", commandsMatching(cmds, "main", `^drop_connections "\$failed"$`))
			lsn := `pg_last_xlog_receive_location\(\), pg_last_xlog_replay_location\(\)`
			if pg.AtLeast(10, 0) {
				lsn = `pg_last_wal_receive_lsn\(\), pg_last_wal_replay_lsn\(\)`
			}
			want(isFailover, "the WAL survey of the version", commandsMatching(cmds, "wal_position", `-c 'SELECT pg_is_in_recovery\(\), COALESCE\(`+lsn+`\)'`))
			want(isFailover, "the survey in parallel", commandsMatching(cmds, "most_advanced", `^quickly "\$\{NODE_HOST\[id\]\}" wal_position "\$\{NODE_PORT\[id\]\}" >"\$dir/\$id"$`))
			streams := isFollow && pg.AtLeast(9, 1)
			want(streams, "the wait for streaming", commandsMatching(cmds, "wait_streaming", `pg_stat_replication WHERE application_name = '\$2' AND state = 'streaming'`))
			want(streams, "the wait before the attach", commandsMatching(cmds, "main", `on_host "\$\{NODE_HOST\[\$primary\]\}" wait_streaming "\$\{NODE_PORT\[\$primary\]\}" "\$\{NODE_APP\[\$node\]\}" "\$STREAM_TIMEOUT"$`))
			if streams && !strings.Contains(bodies["main"], `"$STREAM_TIMEOUT" || die`) {
				t.Errorf("%s: a standby that does not stream is attached all the same: %s", where, bodies["main"])
			}
			_, starts := bodies["start_postgres"]
			_, stops := bodies["stop_postgres"]
			want(starts || stops, "the test for systemd", commandsMatching(cmds, "*", `^under_systemd$`))
			if starts || stops {
				if !strings.Contains(bodies["under_systemd"], "[[ -d /run/systemd/system ]]") {
					t.Errorf("%s: under_systemd does not look for /run/systemd/system: %s", where, bodies["under_systemd"])
				}
			}
			for fn, action := range map[string]string{"start_postgres": "start", "stop_postgres": "stop"} {
				if _, ok := bodies[fn]; ok {
					want(true, fn+" through systemd", commandsMatching(cmds, fn, `^sudo -n '/usr/bin/systemctl' '`+action+`' '`+regexp.QuoteMeta(postgresUnit(c))+`' >&2$`))
				}
			}
			checkSudo(t, where, cmds, allowed, seen)
			// ss -K runs on the pgpool host, in failover.sh's drop_connections, once for each
			// backend; systemctl only where a server is started or stopped, on a backend.
			ss := commandsMatching(cmds, "*", `^sudo -n '/usr/bin/ss' '-K'`)
			want(name == "failover.sh", "ss -K through sudo", ss)
			want(name == "failover.sh", "ss -K, in drop_connections", commandsMatching(cmds, "drop_connections", `^sudo -n '/usr/bin/ss' '-K'`))
			if n := len(commandsMatching(cmds, "drop_connections", `^sudo -n '/usr/bin/ss' '-K'`)); len(ss) != n || (name == "failover.sh" && n != len(c.Backends)) {
				t.Errorf("%s: ss -K %d times, %d in drop_connections, want one per backend there: %q", where, len(ss), n, ss)
			}
			all := commandsMatching(cmds, "*", `^sudo -n '/usr/bin/systemctl'`)
			if n := len(commandsMatching(cmds, "start_postgres", `^sudo -n '/usr/bin/systemctl'`)) + len(commandsMatching(cmds, "stop_postgres", `^sudo -n '/usr/bin/systemctl'`)); len(all) != n {
				t.Errorf("%s: systemctl through sudo outside start_postgres and stop_postgres: %q", where, all)
			}
		}
		for _, a := range allowed {
			if !seen[a] {
				t.Errorf("%s: no script runs %s, which a sudoers rule allows", label, a)
			}
		}
	}
	// The golden specs, Debian's unit among them.
	for name, c := range goldenSpecs(t) {
		allowed := hostSudoLines(c)
		seen := map[string]bool{}
		for _, f := range haFiles(c) {
			cmds, _ := scriptCommands(t, name+": "+f.Dest, f.Data)
			checkSudo(t, name+": "+f.Dest, cmds, allowed, seen)
		}
		// pgpool-II itself runs the watchdog's commands, from each pgpool host's pgpool.conf.
		for _, h := range c.Hosts {
			if !h.Pgpool {
				continue
			}
			for _, st := range c.Settings(h) {
				switch st.Record {
				case "if_up_cmd", "if_down_cmd", "arping_cmd":
					v, _ := st.Value.Text()
					line, ok := strings.CutPrefix(v, "sudo -n ")
					if !ok || !slices.Contains(allowed, line) {
						t.Errorf("%s: %s of %s runs %q, not sudo -n with one of the sudoers rule's commands %q", name, st.Name, h.Name, v, allowed)
					}
					seen[line] = true
				}
			}
		}
		if c.Mode.Info().Has(schema.FeatFollow) && len(seen) != len(allowed) {
			t.Errorf("%s: the scripts run %v with sudo, the sudoers rules allow %q", name, seen, allowed)
		}
	}
}

// hostSudoLines lists the command lines the sudoers rules of the cluster's hosts allow
// (sudoCommands), each as one string, each once.
func hostSudoLines(c *schema.Cluster) []string {
	var out []string
	for _, h := range c.Hosts {
		for _, words := range sudoCommands(c, h) {
			if line := strings.Join(words, " "); !slices.Contains(out, line) {
				out = append(out, line)
			}
		}
	}
	return out
}

// checkSudo fails on a sudo call of cmds that is not sudo -n with one of the command lines
// allowed, word for word in literal text; it notes those it sees in seen.
func checkSudo(t *testing.T, where string, cmds []scriptCommand, allowed []string, seen map[string]bool) {
	t.Helper()
	for _, cmd := range cmds {
		if cmd.call == nil || cmd.call.Args[0].Lit() != "sudo" {
			continue
		}
		words, ok := literalWords(cmd.call)
		if !ok || len(words) < 2 || words[1] != "-n" || !slices.Contains(allowed, strings.Join(words[2:], " ")) {
			t.Errorf("%s: %s: not sudo -n with one of the sudoers rule's commands %q", where, cmd.text, allowed)
			continue
		}
		seen[strings.Join(words[2:], " ")] = true
	}
}
