package gen

import (
	"strconv"
	"strings"

	"pgpoolgen/schema"
	schematext "pgpoolgen/schema/text"
)

// mermaid draws the cluster as a Mermaid flowchart: the pgpool-II hosts and the backends, each
// a node with a generated id (n0, n1, … in spec order) and its name as a quoted label, in two
// subgraphs; the edges pgpool-II's traffic and the replication take; the watchdog and its
// virtual IP; and the ssh trust, dashed.
//
// The picture stays readable and its size linear in the hosts at 128 backends and 128 pgpool
// hosts: the trust edges are drawn one per kind (hosts of one subgraph to hosts of the other,
// for the same scripts) between the subgraphs, with their number, and the logins within one
// subgraph as a note in it; the watchdog is a node every pgpool-II host is linked to, not an
// edge per pair; pgpool-II's routing is one edge to the backends' subgraph. Only a standby's
// replication is an edge of its own, to the primary. The README's tables list every edge.
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
	groupID := [2]string{"pgpool", "backends"}

	// The trust edges by kind, in the order of their first edge.
	type kind struct {
		from, to int
		why      string
	}
	var kinds []kind
	count := map[kind]int{}
	for _, e := range b.Trust {
		k := kind{group[e.From], group[e.To], strings.Join(e.Why, ", ")}
		if count[k] == 0 {
			kinds = append(kinds, k)
		}
		count[k]++
	}
	logins := func(k kind) string {
		if count[k] == 1 {
			return "1 login"
		}
		return strconv.Itoa(count[k]) + " logins"
	}

	lines := []string{"flowchart TB"}
	titles := [2]string{"pgpool-II " + c.Pgpool.String(), "PostgreSQL " + c.PostgreSQL.String()}
	notes := 0
	for g, hosts := range inGroup {
		if len(hosts) == 0 {
			continue
		}
		lines = append(lines, "  subgraph "+groupID[g]+"["+mmLabel(titles[g])+"]")
		for _, h := range hosts {
			lines = append(lines, "    "+id[h.Name]+hostShape(c, h))
		}
		if g == 0 && c.Watchdog != nil {
			lines = append(lines, "    wd(("+mmLabel("watchdog")+"))")
		}
		for _, k := range kinds {
			if k.from == g && k.to == g {
				lines = append(lines, "    t"+strconv.Itoa(notes)+">"+mmLabel("ssh among these hosts, "+logins(k)+": "+k.why)+"]")
				notes++
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
	if len(inGroup[0]) > 0 && len(inGroup[1]) > 0 {
		lines = append(lines, "  pgpool ==>|"+mmLabel(routing(c))+"| backends")
	}
	var primary *schema.Host
	for _, h := range c.Backends {
		if h.Role == schema.Primary {
			primary = h
		}
	}
	if label := replication(c); primary != nil && label != "" {
		for _, h := range c.Backends {
			if h.Role == schema.Standby {
				lines = append(lines, "  "+id[h.Name]+" -->|"+mmLabel(label)+"| "+id[primary.Name])
			}
		}
	}
	for _, k := range kinds {
		if k.from != k.to {
			lines = append(lines, "  "+groupID[k.from]+" -.->|"+mmLabel("ssh, "+logins(k)+": "+k.why)+"| "+groupID[k.to])
		}
	}
	return lines
}

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

// routing is what pgpool-II does with the clients' queries, as the edge to the backends says.
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
