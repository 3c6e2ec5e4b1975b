package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	shexpand "mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"pgpoolgen/gen/fixture"
	"pgpoolgen/schema"
	schematext "pgpoolgen/schema/text"
)

// goldenCluster loads golden/<name>/cluster.toml with its test.env, every other secret
// "bench-password".
func goldenCluster(t *testing.T, name string) *schema.Cluster {
	t.Helper()
	dir := filepath.Join("..", "golden", name)
	env, err := fixture.Env(dir)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "cluster.toml")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := schema.Load(file, src, schema.Env{ReadFile: os.ReadFile, LookupEnv: func(k string) (string, bool) {
		if v, ok := env[k]; ok {
			return v, true
		}
		return "bench-password", true
	}})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// readmeOf is the README.md file of a bundle.
func readmeOf(t *testing.T, b *Bundle) string {
	t.Helper()
	for _, f := range b.Files {
		if f.Path() == ReadmeName {
			return string(f.Data)
		}
	}
	t.Fatalf("the bundle has no %s", ReadmeName)
	return ""
}

// section is the text of README's "## title" section, up to the next "## ".
func section(t *testing.T, readme, title string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README has no section %q:\n%s", title, readme)
	}
	s, _, _ := strings.Cut(rest, "\n## ")
	return s
}

// tableRows splits the Markdown table rows of s into cells, as GFM does (cmark-gfm and
// markdown-it alike): at each | that does not follow a backslash, whatever comes before that
// backslash; the header's separator row is left out.
func tableRows(s string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "| ---") {
			continue
		}
		var cells []string
		cell := ""
		for i := 1; i < len(line); i++ {
			switch {
			case line[i] == '|' && line[i-1] != '\\':
				cells = append(cells, strings.TrimSpace(cell))
				cell = ""
			default:
				cell += line[i : i+1]
			}
		}
		rows = append(rows, cells)
	}
	return rows
}

// TestReadmeSections reads the README of a streaming cluster section by section: what the
// cluster is, a topology row per host, the picture, every trust edge, every file of every
// host and of the bundle (a root-level file added to the bundle included, with no change to
// the README's renderer), every secret, and the apply order of ApplyOrder with its commands.
func TestReadmeSections(t *testing.T) {
	c := goldenCluster(t, "debian-streaming")
	b := Generate(c)
	readme := readmeOf(t, b)

	var headings []string
	fenced := false
	for _, line := range strings.Split(readme, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if !fenced && (strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "# ")) {
			headings = append(headings, line)
		}
	}
	want := []string{"# Cluster `debian-streaming`", "## Topology", "## Picture", "## ssh trust", "## Files", "## Secrets", "## Apply"}
	if !slices.Equal(headings, want) {
		t.Errorf("headings %q, want %q", headings, want)
	}
	if first := strings.SplitN(readme, "\n", 4)[2]; !strings.Contains(first, "`streaming_replication` mode") || !strings.Contains(first, "pgpool-II 4.3, PostgreSQL 15") {
		t.Errorf("the first paragraph does not say the mode and versions: %s", first)
	}

	topo := tableRows(section(t, readme, "Topology"))
	wantTopo := [][]string{
		{"Host", "Roles", "Address", "pgpool port", "pcp port", "Backend port", "Backend node id"},
		{"`pgpool1`", "pgpool", "`192.0.2.10`", "9999", "9898", "", ""},
		{"`pg1`", "primary", "`192.0.2.11`", "", "", "5432", "0"},
		{"`pg2`", "standby", "`192.0.2.12`", "", "", "5432", "1"},
		{"`pg3`", "standby", "`192.0.2.13`", "", "", "5432", "2"},
	}
	if fmt.Sprint(topo) != fmt.Sprint(wantTopo) {
		t.Errorf("topology\n%q\nwant\n%q", topo, wantTopo)
	}

	pic := section(t, readme, "Picture")
	for _, l := range []string{"```mermaid\nflowchart TB\n", `n1[("pg1<br>192.0.2.11<br>primary, node 0<br>ports postgres 5432")]`,
		`n1 -->|"streaming replication"| n2`, `n1 -->|"streaming replication"| n3`, `n0 ==>|"writes to the primary, reads balanced"| n1`,
		`t0>"ssh, 3 logins: failover.sh, follow_primary.sh"]`, "n0 -.- t0\n  t0 -.-> n1\n  t0 -.-> n2\n  t0 -.-> n3\n",
		"    t1>\"ssh among these hosts, 6 logins: recovery_1st_stage, pgpool_remote_start\"]\n  end\n"} {
		if !strings.Contains(pic, l) {
			t.Errorf("the picture has no %q:\n%s", l, pic)
		}
	}

	// Every trust edge, from the bundle's own list, is in one row of its source.
	trust := tableRows(section(t, readme, "ssh trust"))
	for _, e := range b.Trust {
		found := false
		for _, r := range trust {
			if r[0] == "`"+e.From+"`" && slices.Contains(strings.Split(r[1], ", "), "`"+e.To+"`") && r[2] == "`"+strings.Join(e.Why, "`, `")+"`" {
				found = true
			}
		}
		if !found {
			t.Errorf("no trust row for %s -> %s (%v): %q", e.From, e.To, e.Why, trust)
		}
	}

	// Every file of the bundle, in its host's table or the bundle's; and one added by another
	// renderer shows up as well.
	b.Files = append(b.Files, &File{Name: "deploy.sh", Install: Run, Mode: 0o755}, &File{Name: "ansible/site.yml", Install: Read, Mode: 0o644})
	sortFiles(b.Files)
	files := string(summarize(c, b).markdown())
	files = section(t, files, "Files")
	for _, f := range b.Files {
		var row string
		switch {
		case f.Host == "":
			row = fmt.Sprintf("| `%s` | %s |", f.Path(), modeString(f.Mode))
		case f.Dest == "":
			row = fmt.Sprintf("| `%s` |  |  | %s | %s |", f.Path(), modeString(f.Mode), f.Install)
		default:
			row = fmt.Sprintf("| `%s` | `%s` | `%s` | %s | %s |", f.Dest, f.Owner, f.Group, modeString(f.Mode), f.Install)
		}
		if !strings.Contains(files, row) {
			t.Errorf("the files have no row %q", row)
		}
		if f.Host != "" && !strings.Contains(files, "### `"+f.Host+"`\n") {
			t.Errorf("no table of host %s", f.Host)
		}
	}
	if !strings.Contains(files, "| `manifest.json` | 0644 |") {
		t.Error("manifest.json is not listed")
	}

	secrets := tableRows(section(t, readme, "Secrets"))
	for _, s := range b.Secrets {
		found := false
		for _, r := range secrets {
			if r[0] == "`"+s.Name+"`" && r[1] == "`"+s.Env+"`" && slices.Contains(strings.Split(r[2], ", "), "`"+s.Host+"`") && r[3] == mdText(s.For, true) {
				found = true
			}
		}
		if !found {
			t.Errorf("no secrets row for %+v in %q", s, secrets)
		}
	}

	apply := section(t, readme, "Apply")
	var order []string
	for _, m := range regexp.MustCompile("(?m)^### [0-9]+\\. `([^`]+)` \\(").FindAllStringSubmatch(apply, -1) {
		order = append(order, m[1])
	}
	var wantOrder []string
	for _, h := range c.ApplyOrder() {
		wantOrder = append(wantOrder, h.Name)
	}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("apply order %q, want ApplyOrder's %q", order, wantOrder)
	}
	for _, l := range []string{
		"./setup.sh --secrets-dir DIR --restart\n# only if PostgreSQL was not running:\nsystemctl start postgresql@15-main.service && ./setup.sh --secrets-dir DIR\n",
		"### 2. `pg2` (standby)", "systemctl stop postgresql@15-main.service   # the cluster the package made and started\n./setup.sh --secrets-dir DIR\n",
		"### 4. `pgpool1` (pgpool)", "./setup.sh --secrets-dir DIR\nsystemctl restart pgpool2.service\n",
		"### 5. online recovery, on `pgpool1`",
		"sudo -H -u postgres /usr/sbin/pcp_recovery_node -h localhost -p 9898 -U pgpool -w -n 1\nsudo -H -u postgres /usr/sbin/pcp_recovery_node -h localhost -p 9898 -U pgpool -w -n 2\n",
	} {
		if !strings.Contains(apply, l) {
			t.Errorf("the apply section has no %q:\n%s", l, apply)
		}
	}

	// pgpoolgen explain: the same blocks, no picture.
	plain := string(Explain(c, Generate(c)))
	for _, l := range []string{"Cluster debian-streaming\n========================\n", "\nTopology\n--------\n", "pgpool1  pgpool   192.0.2.10  9999         9898\n",
		"pg1      pg2, pg3       recovery_1st_stage, pgpool_remote_start\n", "    sudo -H -u postgres /usr/sbin/pcp_recovery_node -h localhost -p 9898 -U pgpool -w -n 2\n"} {
		if !strings.Contains(plain, l) {
			t.Errorf("explain has no %q:\n%s", l, plain)
		}
	}
	if strings.Contains(plain, "flowchart") || strings.Contains(plain, "`") {
		t.Errorf("explain holds Markdown or Mermaid:\n%s", plain)
	}
}

// hostile is a streaming cluster whose names, addresses and paths hold what Markdown and
// Mermaid read as syntax. The model never holds them (schema refuses them); the README's
// escaping must not depend on that.
var hostile = []string{
	`pg"1`, "pg|2", "pg`3", "<img src=x onerror=alert(1)>", "end", `%%{init: {"theme":"dark"}}%%`, "a;b #35; &amp; $x$ ~~s~~ *e* _u_ [l](h)",
	"line\nbreak", "é日本", "2001:db8::1", "``", " lead and trail ", `back\slash`, "x<br>y", `a\|b`, `c\`,
}

func hostileCluster(t *testing.T) *schema.Cluster {
	t.Helper()
	c := goldenCluster(t, "watchdog-4.3")
	for i, h := range c.Hosts {
		h.Name = hostile[i%len(hostile)]
		h.Address = hostile[(i+9)%len(hostile)]
		h.Interface = hostile[(i+3)%len(hostile)]
	}
	c.Name, c.SpecName = hostile[6], hostile[5]
	c.Layout.User, c.Layout.PgpoolConfigDir = "pg|<b>_x_*y*", "/etc/"+hostile[2]
	return c
}

// TestReadmeEscaping renders the README of hostileCluster: every table row has as many cells
// as its header, as GFM splits them; no character outside a code span starts markup; every
// code span gives back the value; the Mermaid labels hold only their safe characters and
// entity codes.
func TestReadmeEscaping(t *testing.T) {
	c := hostileCluster(t)
	b := Generate(c)
	readme := readmeOf(t, b)
	inDiagram, inCode := false, false
	var shell strings.Builder
	cols := 0
	spans := map[string]bool{}
	for n, line := range strings.Split(readme, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inDiagram = strings.HasPrefix(line, "```mermaid")
			inCode = strings.HasPrefix(line, "```sh")
			continue
		case inCode:
			shell.WriteString(line + "\n")
			continue
		case inDiagram:
			// Outside quotes, only pgpoolgen's ids and arrows; inside, safe characters and
			// #code; entities.
			for i, q := range strings.Split(line, `"`) {
				if i%2 == 1 && !regexp.MustCompile(`^([A-Za-z0-9 .,:/@+=_()-]|#[0-9]+;|<br>)*$`).MatchString(q) {
					t.Errorf("line %d: Mermaid label %q holds an unescaped character", n+1, q)
				}
				if i%2 == 0 && !regexp.MustCompile(`^[A-Za-z0-9 \[\](){}<>|=.-]*$`).MatchString(q) {
					t.Errorf("line %d: %q outside a Mermaid label", n+1, q)
				}
			}
			continue
		}
		if strings.HasPrefix(line, "|") {
			if strings.HasPrefix(line, "| ---") {
				cols = strings.Count(line, "|") - 1
			} else if got := len(tableRows(line)[0]); cols != 0 && got != cols {
				t.Errorf("line %d: %d cells, the table has %d: %s", n+1, got, cols, line)
			}
		} else {
			cols = 0
		}
		o, found := codeSpans(line)
		for _, v := range found {
			spans[v] = true
		}
		// Outside code: every markup character escaped.
		for i := 0; i < len(o); i++ {
			if strings.IndexByte("*[]<>|~&$`!{}#", o[i]) >= 0 && (i == 0 || o[i-1] != '\\') && !(o[i] == '|' && strings.HasPrefix(line, "|")) && !(o[i] == '#' && i == strings.Count(o[:i], "#")) {
				t.Errorf("line %d: an unescaped %q at %d of %q", n+1, o[i], i, o)
			}
			if o[i] == '_' && (i == 0 || o[i-1] != '\\') && (i == 0 || i == len(o)-1 || !isAlnum(o[i-1]) || !isAlnum(o[i+1])) {
				t.Errorf("line %d: an _ that can start emphasis at %d of %q", n+1, i, o)
			}
		}
	}
	for _, h := range c.Hosts {
		for _, v := range []string{h.Name, h.Address} {
			if !spans[schematext.Visible(v)] {
				t.Errorf("no code span gives back %q", schematext.Visible(v))
			}
		}
	}
	// The commands are shell: only commands, joined by &&, each value one word.
	f, err := syntax.NewParser().Parse(strings.NewReader(shell.String()), "README.md")
	if err != nil {
		t.Fatalf("the commands do not parse: %v\n%s", err, shell.String())
	}
	sudo := 0
	syntax.Walk(f, func(node syntax.Node) bool {
		switch x := node.(type) {
		case *syntax.BinaryCmd:
			if x.Op != syntax.AndStmt { // a pipe is a BinaryCmd too
				t.Errorf("a %s between commands", x.Op)
			}
		case *syntax.Stmt:
			if len(x.Redirs) > 0 || x.Background || x.Negated {
				t.Errorf("a command with redirections or & or !")
			}
		case *syntax.CallExpr:
			var words []string
			for _, w := range x.Args {
				v, err := shexpand.Literal(nil, w)
				if err != nil {
					t.Errorf("a word that is not literal: %v", err)
				}
				words = append(words, v)
			}
			if words[0] == "sudo" {
				sudo++
				if words[3] != c.Layout.User || words[4] != c.Layout.PgpoolBinDir+"/pcp_recovery_node" {
					t.Errorf("pcp_recovery_node's words %q", words)
				}
			}
		case *syntax.CmdSubst, *syntax.Subshell, *syntax.Block:
			t.Errorf("a %T in the commands", x)
		}
		return true
	})
	if sudo != 2 {
		t.Errorf("%d pcp_recovery_node commands, want 2", sudo)
	}
	if strings.Contains(readme, "\nbreak") {
		t.Error("a line break of a value is in the README")
	}
	if plain := string(Explain(c, b)); schematext.Fault(strings.ReplaceAll(plain, "\n", "")) != "" {
		t.Errorf("explain prints %s", schematext.Fault(strings.ReplaceAll(plain, "\n", "")))
	}
}

// widestSpec is the largest cluster pgpoolgen takes: 128 pgpool hosts with a watchdog and its
// virtual IP, and 128 backends, every host with an ssh key and a host key.
func widestSpec() []byte {
	var b strings.Builder
	b.WriteString("[cluster]\nname = \"widest\"\nmode = \"streaming_replication\"\npgpool_version = \"4.3\"\npostgresql_version = \"15\"\n\n")
	b.WriteString("[layout]\npreset = \"debian\"\n\n[watchdog]\nvirtual_ip = \"10.1.250.1/16\"\ninterface = \"eth0\"\n\n")
	b.WriteString("[[pcp_user]]\nname = \"pgpool\"\nmd5 = \"9b3a625e6e238d2161ca6caea6d16aca\"\n\n[[hba]]\naddress = \"10.0.0.0/8\"\nmethod = \"scram-sha-256\"\n")
	for i := 0; i < 256; i++ {
		name, role, addr := fmt.Sprintf("pgpool%d", i), "pgpool", fmt.Sprintf("10.1.%d.%d", i/200, 1+i%200)
		if i >= 128 {
			name, role, addr = fmt.Sprintf("pg%d", i-128), "standby", fmt.Sprintf("10.2.%d.%d", i/200, 1+i%200)
			if i == 128 {
				role = "primary"
			}
		}
		fmt.Fprintf(&b, "\n[[host]]\nname = %q\naddress = %q\nroles = [%q]\nssh_key = %q\nhost_key = %q\n",
			name, addr, role, fixture.SSHKey(name), fixture.SSHKey(name+" host"))
	}
	return []byte(b.String())
}

// mermaidMaxTextSize is the most characters Mermaid takes in one diagram (its maxTextSize).
const mermaidMaxTextSize = 50000

// TestReadmeBounded: the pictures of 128 backends, and of 128 pgpool hosts and 128 backends,
// have one node per host and stay within Mermaid's limits, though their trust graphs have
// 16,384 and 65,280 edges; their READMEs stay under 2 MiB.
func TestReadmeBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  []byte
	}{{"big", bigSpec(128)}, {"widest", widestSpec()}} {
		name := tc.name
		c, err := schema.Load(name+".toml", tc.src, benchEnv)
		if err != nil {
			t.Fatal(err)
		}
		b := Generate(c)
		lines := mermaid(c, b)
		edges, size := 0, 0
		for _, l := range lines {
			size += len(l) + 1
			if strings.Contains(l, "--") || strings.Contains(l, "==>") || strings.Contains(l, "-.-") {
				edges++
			}
		}
		if edges > mermaidMaxEdges || size > mermaidMaxTextSize {
			t.Errorf("%s: the picture of %d hosts has %d edges and %d bytes, more than Mermaid draws (%d, %d)", name, len(c.Hosts), edges, size, mermaidMaxEdges, mermaidMaxTextSize)
		}
		t.Logf("%s: %d hosts, %d trust edges: the picture has %d lines, %d edges, %d bytes", name, len(c.Hosts), len(c.Trust), len(lines), edges, size)
		if n := len(readmeOf(t, b)); n > 2<<20 {
			t.Errorf("%s: README.md is %d bytes", name, n)
		}
	}
}

// codeSpans splits a line of Markdown as CommonMark does into the text outside code spans
// (escapes kept) and the code spans' contents (a table's \| given back as |): a run of n
// backticks opens a span that the next run of exactly n closes, and is text when none does.
func codeSpans(line string) (outside string, spans []string) {
	var o strings.Builder
	run := func(i int) int {
		j := i
		for j < len(line) && line[j] == '`' {
			j++
		}
		return j - i
	}
	for i := 0; i < len(line); {
		switch {
		case line[i] == '\\' && i+1 < len(line):
			o.WriteString(line[i : i+2])
			i += 2
		case line[i] == '`':
			n := run(i)
			end := -1
			for j := i + n; j < len(line); {
				if line[j] == '`' {
					m := run(j)
					if m == n {
						end = j
						break
					}
					j += m
				} else {
					j++
				}
			}
			if end < 0 {
				o.WriteString(line[i : i+n])
				i += n
				continue
			}
			v := line[i+n : end]
			if len(v) >= 2 && v[0] == ' ' && v[len(v)-1] == ' ' && strings.Trim(v, " ") != "" {
				v = v[1 : len(v)-1]
			}
			spans = append(spans, strings.ReplaceAll(v, `\|`, "|"))
			o.WriteString("CODE")
			i = end + n
		default:
			o.WriteByte(line[i])
			i++
		}
	}
	return o.String(), spans
}

// readmeProblems checks README.md as the fuzz targets do: every table row has its table's
// number of cells, and every Mermaid label holds only its safe characters and entity codes.
func readmeProblems(readme string) []string {
	var problems []string
	inDiagram, inCode := false, false
	cols := 0
	label := regexp.MustCompile(`^([A-Za-z0-9 .,:/@+=_()-]|#[0-9]+;|<br>)*$`)
	lines := strings.Split(readme, "\n")
	for n, line := range lines {
		switch {
		case strings.HasPrefix(line, "```"):
			inDiagram, inCode = strings.HasPrefix(line, "```mermaid"), strings.HasPrefix(line, "```sh")
		case inCode:
		case inDiagram:
			if q := strings.Split(line, `"`); len(q)%2 == 0 {
				problems = append(problems, fmt.Sprintf("README.md:%d: an odd number of quotes: %s", n+1, line))
			} else {
				for i := 1; i < len(q); i += 2 {
					if !label.MatchString(q[i]) {
						problems = append(problems, fmt.Sprintf("README.md:%d: Mermaid label %q", n+1, q[i]))
					}
				}
			}
		case strings.HasPrefix(line, "|"):
			if cols == 0 && n+1 < len(lines) && strings.HasPrefix(lines[n+1], "| ---") {
				cols = strings.Count(lines[n+1], "|") - 1
			}
			if got := len(tableRows(line)); got == 1 && len(tableRows(line)[0]) != cols && !strings.HasPrefix(line, "| ---") {
				problems = append(problems, fmt.Sprintf("README.md:%d: %d cells in a table of %d", n+1, len(tableRows(line)[0]), cols))
			}
		default:
			cols = 0
		}
	}
	return problems
}
