package gen

import (
	"strconv"
	"strings"

	"pgpoolgen/schema"
	schematext "pgpoolgen/schema/text"
)

// mermaid draws the cluster as a Mermaid flowchart: the pgpool-II hosts and the backends, each
// a node with a generated id (n0, n1, … in spec order) and its name as a quoted label, in two
// subgraphs; pgpool-II's routing; the replication, from the primary to each standby (the way
// the WAL flows, so that the primary is drawn above its standbys); the watchdog and its virtual
// IP; and the ssh trust, dashed.
//
// The picture stays readable, and its size linear in the hosts, at 128 backends and 128
// pgpool hosts (16,384 trust edges): the trust is drawn as one note per kind (the hosts of one
// subgraph to those of another, or among themselves, for the same scripts) with its number of
// logins, each source linked to the note and the note to each target (a note of the logins
// among the hosts of one subgraph stands in it, unlinked); the watchdog is a node
// each pgpool-II host is linked to, not an edge per pair; routing to every backend goes through
// one node. The README's tables list every edge. Edges join nodes, not subgraphs, but where
// Mermaid would draw too many (mermaidMaxEdges): its layout ranks neither a subgraph's edges
// nor their labels.
func mermaid(c *schema.Cluster, b *Bundle) []string {
	id := map[string]string{} // host name -> node id
	group := map[string]int{} // host name -> subgraph: 0 pgpool-II hosts, 1 backends
	var inGroup [2][]*schema.Host
	for i, h := range c.Hosts {
		id[h.Name] = "n" + strconv.Itoa(i)
		g := 1
		if !h.Backend {
			g = 0 // a host that runs both is drawn with the backends, its label says pgpool too
		}
		group[h.Name] = g
		inGroup[g] = append(inGroup[g], h)
	}

	// The trust edges by kind, in the order of their first edge, each with its sources and
	// targets in that order.
	type kind struct {
		from, to int
		why      string
	}
	type hosts struct {
		logins   int
		from, to []string
		seen     map[string]bool
	}
	var kinds []kind
	of := map[kind]*hosts{}
	for _, e := range b.Trust {
		k := kind{group[e.From], group[e.To], strings.Join(e.Why, ", ")}
		h := of[k]
		if h == nil {
			h = &hosts{seen: map[string]bool{}}
			of[k] = h
			kinds = append(kinds, k)
		}
		h.logins++
		if !h.seen["from "+e.From] {
			h.seen["from "+e.From] = true
			h.from = append(h.from, e.From)
		}
		if !h.seen["to "+e.To] {
			h.seen["to "+e.To] = true
			h.to = append(h.to, e.To)
		}
	}
	note := func(i int, k kind) string {
		n := of[k].logins
		what := "ssh, " + strconv.Itoa(n) + " logins: "
		if n == 1 {
			what = "ssh, 1 login: "
		}
		if k.from == k.to {
			what = "ssh among these hosts, " + what[len("ssh, "):]
		}
		return "t" + strconv.Itoa(i) + ">" + mmLabel(what+k.why) + "]"
	}

	lines := []string{"flowchart TB"}
	groupID := [2]string{"pgpool", "backends"}
	titles := [2]string{"pgpool-II " + c.Pgpool.String(), "PostgreSQL " + c.PostgreSQL.String()}
	for g, members := range inGroup {
		if len(members) == 0 {
			continue
		}
		lines = append(lines, "  subgraph "+groupID[g]+"["+mmLabel(titles[g])+"]")
		for _, h := range members {
			lines = append(lines, "    "+id[h.Name]+hostShape(c, h))
		}
		if g == 0 && c.Watchdog != nil {
			lines = append(lines, "    wd(("+mmLabel("watchdog")+"))")
		}
		for i, k := range kinds {
			if k.from == g && k.to == g {
				lines = append(lines, "    "+note(i, k))
			}
		}
		lines = append(lines, "  end")
	}
	if c.Watchdog != nil {
		for _, h := range c.Watchdog.Nodes {
			lines = append(lines, "  "+id[h.Name]+" <--> wd")
		}
		if c.HasVIP() {
			lines = append(lines, "  vip{{"+mmLabel("virtual IP "+c.Watchdog.VirtualIP.String())+"}}", "  wd ---|"+mmLabel("on the leader")+"| vip")
		}
	}

	var primary *schema.Host
	for _, h := range c.Backends {
		if h.Role == schema.Primary {
			primary = h
		}
	}
	arrow := " ==>|" + mmLabel(routing(c)) + "| " // the label on the first edge only
	if primary != nil {
		for _, h := range c.Hosts {
			if h.Pgpool && h != primary {
				lines = append(lines, "  "+id[h.Name]+arrow+id[primary.Name])
				arrow = " ==> "
			}
		}
	} else {
		lines = append(lines, "  route(("+mmLabel(routing(c))+"))")
		for _, h := range c.Hosts {
			if h.Pgpool {
				lines = append(lines, "  "+id[h.Name]+" ==> route")
			}
		}
		for _, h := range c.Backends {
			lines = append(lines, "  route ==> "+id[h.Name])
		}
	}
	if label := replication(c); primary != nil && label != "" {
		for _, h := range c.Backends {
			if h.Role == schema.Standby {
				lines = append(lines, "  "+id[primary.Name]+" -->|"+mmLabel(label)+"| "+id[h.Name])
			}
		}
	}
	// Where linking each note to its hosts would pass Mermaid's edge limit (128 pgpool hosts
	// and 128 backends), the notes link to the subgraphs.
	edges := 0
	for _, l := range lines {
		if strings.Contains(l, "--") || strings.Contains(l, "==>") {
			edges++
		}
	}
	for _, k := range kinds {
		if k.from != k.to {
			edges += len(of[k].from) + len(of[k].to)
		}
	}
	for i, k := range kinds {
		h := of[k]
		if k.from == k.to {
			continue // the note, in its subgraph, says so
		}
		t := "t" + strconv.Itoa(i)
		lines = append(lines, "  "+note(i, k))
		if edges > mermaidMaxEdges {
			lines = append(lines, "  "+groupID[k.from]+" -.- "+t, "  "+t+" -.-> "+groupID[k.to])
			continue
		}
		for _, name := range h.from {
			lines = append(lines, "  "+id[name]+" -.- "+t)
		}
		for _, name := range h.to {
			lines = append(lines, "  "+t+" -.-> "+id[name])
		}
	}
	return lines
}

// mermaidMaxEdges is the most edges Mermaid draws in one diagram (its maxEdges, which GitHub
// and GitLab keep); it refuses a larger one. Its maxTextSize, 50,000 characters, the picture of
// the largest cluster stays under (TestReadmeBounded).
const mermaidMaxEdges = 500

// hostShape is a host's node after its id: a box for a pgpool-II host, a cylinder for a
// backend, labelled with hostLabel's lines.
func hostShape(c *schema.Cluster, h *schema.Host) string {
	lines := hostLabel(c, h)
	for i, l := range lines {
		lines[i] = mmText(l)
	}
	label := `"` + strings.Join(lines, "<br>") + `"`
	if h.Backend {
		return "[(" + label + ")]"
	}
	return "[" + label + "]"
}

// hostLabel is what a host's node says, a line each: its name, address, roles and ports.
func hostLabel(c *schema.Cluster, h *schema.Host) []string {
	label := []string{h.Name, h.Address}
	var ports []string
	if h.Pgpool {
		ports = append(ports, "pgpool "+strconv.Itoa(c.Port), "pcp "+strconv.Itoa(c.PCPPort))
	}
	if h.Backend {
		ports = append(ports, "postgres "+strconv.Itoa(h.Port))
		label = append(label, h.Role.String()+", node "+strconv.Itoa(h.NodeID))
	}
	if h.Pgpool && c.Watchdog != nil {
		label = append(label, "watchdog node "+strconv.Itoa(h.WatchdogID))
	}
	if h.Pgpool && h.Backend {
		label = append(label, "and pgpool-II")
	}
	return append(label, "ports "+strings.Join(ports, ", "))
}

// routing is what pgpool-II does with the clients' queries: the label of its edges to the
// primary, or of the node its edges to every backend go through.
func routing(c *schema.Cluster) string {
	m := c.Mode.Info()
	switch {
	case m.Has(schema.FeatPrimaryStandby):
		if c.LoadBalance {
			return "writes to the primary, reads balanced"
		}
		return "queries to the primary"
	case m.WALLevel != "": // native replication and snapshot isolation
		return "every write to every backend"
	}
	return "each session to the first live backend"
}

// replication labels a standby's edge to the primary, or is "" where no standby replicates
// from the primary in a way the bundle sets up or knows.
func replication(c *schema.Cluster) string {
	switch c.Mode {
	case schema.Streaming:
		return "streaming replication"
	case schema.Logical:
		return "logical replication"
	case schema.Slony:
		return "Slony-I"
	}
	return ""
}

// mmLabel quotes s as a Mermaid label.
func mmLabel(s string) string { return `"` + mmText(s) + `"` }

// mmText escapes s for a quoted Mermaid label: letters, digits, space and . , : / @ + = _ - ( )
// stay as they are, and every other character becomes Mermaid's entity code #<number>; (a
// quote, which would end the label; < > & and `, which start HTML, an entity or Markdown; #
// and ;, which start and end an entity code; % of a %%{ directive; anything not ASCII), and
// what pgpoolgen refuses in free text is first written visibly (\n).
func mmText(s string) string {
	var b strings.Builder
	for _, r := range schematext.Visible(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" .,:/@+=_-()", r):
			b.WriteRune(r)
		default:
			b.WriteString("#" + strconv.Itoa(int(r)) + ";")
		}
	}
	return b.String()
}
