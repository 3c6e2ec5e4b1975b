package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgpoolgen/gen/fixture"
	"pgpoolgen/gen/internal/npm"
	"pgpoolgen/schema"
	schematext "pgpoolgen/schema/text"
)

// mermaidParser installs Mermaid's parser from gen/testdata/mermaid (the pinned package.json
// and package-lock.json; npm.Install) and returns the path of parse.mjs beside its
// node_modules.
func mermaidParser(t *testing.T) string {
	t.Helper()
	dir := npm.Install(t, filepath.Join("testdata", "mermaid"), "mermaid")
	data, err := os.ReadFile(filepath.Join("testdata", "mermaid", "parse.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	script := filepath.Join(dir, "parse-"+hex.EncodeToString(sum[:8])+".mjs")
	if err := os.WriteFile(script, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return script
}

// A parsed document is what the tools made of one. A Mermaid diagram: its error, or its
// nodes, edges and subgraphs with their labels as a browser shows them, a string per line. A
// Markdown document: the elements of its page, its headings, tables (rows of cells' text) and
// code blocks ([class, text]).
type parsed struct {
	Name      string
	Error     string
	Type      string
	Nodes     [][]json.RawMessage // [id, [line...]]
	Edges     [][]json.RawMessage // [from, to, [line...]]
	Subgraphs [][]json.RawMessage // [id, [line...], [node ids]]
	Tags      []string
	Headings  []string
	Tables    [][][]string
	Code      [][]string
}

// parseMermaid runs parse.mjs on documents {"name", "text"}, with "markdown": true for a
// Markdown one.
func parseMermaid(t *testing.T, script string, diagrams []map[string]any) []parsed {
	t.Helper()
	in := filepath.Join(t.TempDir(), "diagrams.json")
	data, err := json.Marshal(diagrams)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "node", script, in)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.Bytes())
	}
	var res []parsed
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("parse.mjs: %v\n%s", err, out)
	}
	if len(res) != len(diagrams) {
		t.Fatalf("parse.mjs answered for %d diagrams of %d", len(res), len(diagrams))
	}
	return res
}

func str(t *testing.T, m json.RawMessage) string {
	var s string
	if err := json.Unmarshal(m, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func strs(t *testing.T, m json.RawMessage) []string {
	var s []string
	if err := json.Unmarshal(m, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReadmeMermaidParses runs Mermaid's own parser (the npm package, under Node.js) on the
// picture of every golden case, of 128 backends and of hostileCluster: each parses as a
// flowchart, and every host's node shows exactly hostLabel's lines (its name first), so the
// escaping gives back what it escaped. The same picture with one quote left unescaped must
// fail to parse: the check can fail.
func TestReadmeMermaidParses(t *testing.T) {
	script := mermaidParser(t)
	cases, err := fixture.List(filepath.Join("..", "golden"))
	if err != nil || len(cases) < 10 {
		t.Fatalf("golden cases %v: %v", cases, err)
	}
	clusters := map[string]*schema.Cluster{}
	var names []string
	for _, name := range cases {
		clusters[name] = goldenCluster(t, name)
		names = append(names, name)
	}
	big, err := schema.Load("big.toml", bigSpec(128), benchEnv)
	if err != nil {
		t.Fatal(err)
	}
	widest, err := schema.Load("widest.toml", widestSpec(), benchEnv)
	if err != nil {
		t.Fatal(err)
	}
	clusters["128 backends"], clusters["widest"], clusters["hostile"] = big, widest, hostileCluster(t)
	names = append(names, "128 backends", "widest", "hostile")

	var diagrams []map[string]any
	bundles := map[string]*Bundle{}
	for _, name := range names {
		bundles[name] = Generate(clusters[name])
		// The diagram as README.md holds it, between its fences.
		readme := readmeOf(t, bundles[name])
		_, rest, ok := strings.Cut(readme, "```mermaid\n")
		text, _, ok2 := strings.Cut(rest, "\n```\n")
		if !ok || !ok2 {
			t.Fatalf("%s: no Mermaid block in README.md", name)
		}
		diagrams = append(diagrams, map[string]any{"name": name, "text": text + "\n"})
	}
	// A label with a quote of its own ends early: Mermaid must refuse it.
	broken := strings.Replace(diagrams[0]["text"].(string), `n0["`, `n0["a"b`, 1)
	diagrams = append(diagrams, map[string]any{"name": "broken", "text": broken})

	for _, r := range parseMermaid(t, script, diagrams) {
		if r.Name == "broken" {
			if r.Error == "" {
				t.Errorf("Mermaid parsed a label with an unescaped quote:\n%s", broken)
			}
			continue
		}
		c := clusters[r.Name]
		if r.Error != "" || r.Type != "flowchart-v2" {
			t.Errorf("%s: Mermaid's parser: %q (type %q)", r.Name, r.Error, r.Type)
			continue
		}
		shown := map[string][]string{}
		for _, n := range r.Nodes {
			shown[str(t, n[0])] = strs(t, n[1])
		}
		for i, h := range c.Hosts {
			var want []string
			for _, l := range hostLabel(c, h) {
				want = append(want, schematext.Visible(l))
			}
			if got := shown["n"+strconv.Itoa(i)]; !slices.Equal(got, want) {
				t.Errorf("%s: host %d's node shows %q, want %q", r.Name, i, got, want)
			}
		}
		var groups []string
		for _, g := range r.Subgraphs {
			groups = append(groups, str(t, g[0]))
		}
		if !slices.Contains(groups, "backends") {
			t.Errorf("%s: subgraphs %q, no backends", r.Name, groups)
		}
		// The trust: a note per kind (the scripts, and whether the logins are among the hosts
		// of one subgraph), each source host linked to it and it to each target, the
		// bundle's own edges grouped.
		group := map[string]string{}
		for _, h := range c.Hosts {
			group[h.Name] = map[bool]string{true: "backends", false: "pgpool"}[h.Backend]
		}
		want := map[string][2][]string{} // note label -> sources, targets
		for _, e := range bundles[r.Name].Trust {
			among := group[e.From] == group[e.To]
			key := "ssh, " + strings.Join(e.Why, ", ") + " " + group[e.From] + " to " + group[e.To]
			w := want[key]
			if !among {
				if !slices.Contains(w[0], e.From) {
					w[0] = append(w[0], e.From)
				}
				if !slices.Contains(w[1], e.To) {
					w[1] = append(w[1], e.To)
				}
			}
			want[key] = w
		}
		name := map[string]string{} // node id -> host name
		for i, h := range c.Hosts {
			name["n"+strconv.Itoa(i)] = h.Name
		}
		got := map[string][2][]string{}
		for id, l := range shown {
			if !strings.HasPrefix(id, "t") || len(l) != 1 {
				continue
			}
			_, why, ok := strings.Cut(l[0], " logins: ")
			if !ok {
				_, why, _ = strings.Cut(l[0], " login: ")
			}
			var in string
			for _, g := range r.Subgraphs {
				var nodes []string
				if err := json.Unmarshal(g[2], &nodes); err != nil {
					t.Fatal(err)
				}
				if slices.Contains(nodes, id) {
					in = str(t, g[0])
				}
			}
			// A link to a subgraph (the widest cluster's) stands for its hosts.
			hostsOf := func(node string) []string {
				if n, ok := name[node]; ok {
					return []string{n}
				}
				var out []string
				for _, g := range r.Subgraphs {
					var nodes []string
					if err := json.Unmarshal(g[2], &nodes); err != nil {
						t.Fatal(err)
					}
					if str(t, g[0]) == node {
						for _, n := range nodes {
							if name[n] != "" {
								out = append(out, name[n])
							}
						}
					}
				}
				return out
			}
			var w [2][]string
			for _, e := range r.Edges {
				if str(t, e[1]) == id {
					w[0] = append(w[0], hostsOf(str(t, e[0]))...)
				}
				if str(t, e[0]) == id {
					w[1] = append(w[1], hostsOf(str(t, e[1]))...)
				}
			}
			key := "ssh, " + why + " "
			switch {
			case strings.HasPrefix(l[0], "ssh among these hosts, ") && in != "":
				key += in + " to " + in
			case len(w[0]) > 0 && len(w[1]) > 0:
				key += group[w[0][0]] + " to " + group[w[1][0]]
			}
			got[key] = w
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: the picture's ssh notes, sources and targets\n%v\nwant\n%v", r.Name, got, want)
		}
	}
}

// TestReadmeMarkdownRenders renders README.md with markdown-it (CommonMark and GFM tables,
// raw HTML and links on, as a forge reads it) for golden cases and hostileCluster: the page
// holds only headings, paragraphs, tables and code, so no value made markup of its own; each
// value reads back as it is (its visible form) in its table cell; and the code blocks are the
// picture and the commands, unchanged.
func TestReadmeMarkdownRenders(t *testing.T) {
	script := mermaidParser(t)
	names := []string{"debian-streaming", "watchdog-4.3", "wide-ipv6-native", "seed-master-slave", "hostile"}
	clusters := map[string]*schema.Cluster{}
	bundles := map[string]*Bundle{}
	var docs []map[string]any
	for _, name := range names {
		c := hostileCluster(t)
		if name != "hostile" {
			c = goldenCluster(t, name)
		}
		clusters[name], bundles[name] = c, Generate(c)
		docs = append(docs, map[string]any{"name": name, "text": readmeOf(t, bundles[name]), "markdown": true})
	}
	allowed := []string{"code", "h1", "h2", "h3", "p", "pre", "table", "tbody", "td", "th", "thead", "tr"}
	for _, r := range parseMermaid(t, script, docs) {
		c, b := clusters[r.Name], bundles[r.Name]
		for _, tag := range r.Tags {
			if !slices.Contains(allowed, tag) {
				t.Errorf("%s: the page holds a <%s>", r.Name, tag)
			}
		}
		if len(r.Headings) == 0 || r.Headings[0] != "Cluster "+schematext.Visible(c.Name) {
			t.Errorf("%s: headings %q", r.Name, r.Headings)
		}
		table := func(first, second string) [][]string {
			for _, tb := range r.Tables {
				if len(tb) > 0 && len(tb[0]) > 1 && tb[0][0] == first && tb[0][1] == second {
					return tb
				}
			}
			t.Fatalf("%s: no table headed %q, %q", r.Name, first, second)
			return nil
		}
		topo := table("Host", "Roles")
		if len(topo) != len(c.Hosts)+1 {
			t.Fatalf("%s: the topology has %d rows for %d hosts", r.Name, len(topo)-1, len(c.Hosts))
		}
		for i, h := range c.Hosts {
			want := []string{schematext.Visible(h.Name), roleNames(h), schematext.Visible(h.Address)}
			if got := topo[i+1][:3]; !slices.Equal(got, want) {
				t.Errorf("%s: topology row %q, want %q", r.Name, got, want)
			}
		}
		var secrets []string
		for _, row := range table("File", "Environment variable")[1:] {
			secrets = append(secrets, row[3])
		}
		for _, x := range b.Secrets {
			if !slices.Contains(secrets, schematext.Visible(x.For)) {
				t.Errorf("%s: no secret reads %q; they read %q", r.Name, x.For, secrets)
			}
		}
		var trust []string
		for _, row := range table("From", "To")[1:] {
			trust = append(trust, row[0]+" -> "+row[1])
		}
		for _, e := range b.Trust {
			found := false
			for _, row := range trust {
				from, to, _ := strings.Cut(row, " -> ")
				found = found || from == schematext.Visible(e.From) && slices.Contains(strings.Split(to, ", "), schematext.Visible(e.To))
			}
			if !found {
				t.Errorf("%s: no trust row reads %s -> %s", r.Name, e.From, e.To)
			}
		}
		if len(r.Code) == 0 || r.Code[0][0] != "language-mermaid" || r.Code[0][1] != strings.Join(mermaid(c, b), "\n")+"\n" {
			t.Errorf("%s: the first code block is not the picture: %q", r.Name, r.Code)
		}
		shell := 0
		for _, cb := range r.Code[1:] {
			if cb[0] == "language-sh" {
				shell++
			}
		}
		// A block per host, the online recovery's, and the playbook's and deploy.sh's.
		if want := len(c.ApplyOrder()) + 2; shell != want {
			t.Errorf("%s: %d blocks of commands, want %d", r.Name, shell, want)
		}
	}
}
