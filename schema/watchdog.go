package schema

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"

	"pgpoolgen/schema/pgpool"
)

// Watchdog is how the pgpool hosts of a cluster with two or more of them watch each other
// ([watchdog]): pgpool-II's watchdog elects a leader among them, which holds the virtual IP
// clients connect to, and they agree before a backend is failed over.
type Watchdog struct {
	// Nodes are the pgpool hosts by watchdog node id: spec order.
	Nodes []*Host
	// VirtualIP is the address, with its prefix, that the leader holds; invalid when the spec
	// gives none.
	VirtualIP     netip.Prefix
	Port          int // wd_port of every node
	HeartbeatPort int
	// Lifecheck is how the nodes see each other alive: "heartbeat" (UDP packets, 3.3+) or
	// "query" (each node logs in to the others' pgpool).
	Lifecheck string
	// Quorum and consensus: a failover needs a quorum of nodes (QuorumFailover), and the
	// votes of a majority of them (Consensus); HalfVotes counts exactly half as a majority
	// (4.1+), which an even number of nodes needs to survive losing half of them.
	QuorumFailover, Consensus, HalfVotes bool
	// AuthKey: the nodes sign their messages with wd_authkey (3.3+), an apply-time secret
	// that setup appends to the installed pgpool.conf; it is never in the bundle.
	AuthKey bool
}

// Watchdog defaults.
const (
	defaultWDPort        = 9000
	defaultHeartbeatPort = 9694
)

// interfaceRE: a network interface name as ip(8) takes it (IFNAMSIZ - 1 characters), in the
// narrow character set of every other name.
var interfaceRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$`)

// hostWatchdog reads a host's own watchdog keys; whether the cluster has a watchdog is known
// only once every host is read (watchdog).
func (l *loader) hostWatchdog(t *table, h *Host) {
	for _, key := range []string{"heartbeat_addresses", "interface"} {
		if t.has(key) {
			l.wdHostKeys = append(l.wdHostKeys, t.at(key))
			if !h.Pgpool && t.has("roles") {
				l.d.atKey(t.at(key), "is a watchdog setting, and this host has no pgpool role")
			}
		}
	}
	if list, ok := t.strings("heartbeat_addresses"); ok {
		if len(list) == 0 || len(list) > 8 {
			l.d.atValue(t.at("heartbeat_addresses"), "lists %d addresses; give 1 to 8, the addresses the other pgpool hosts send this one's heartbeat to", len(list))
		}
		for i, s := range list {
			if _, good := l.checkAddress(indexPath(t.at("heartbeat_addresses"), i), s); good {
				h.Heartbeat = append(h.Heartbeat, s)
			}
		}
	}
	if s, ok := t.str("interface"); ok && l.checkInterface(t.at("interface"), s) {
		h.Interface = s
	}
}

func (l *loader) checkInterface(at, s string) bool {
	if !interfaceRE.MatchString(s) {
		l.d.atValue(at, "%q is not a network interface name; write one like \"eth0\" or \"ens3\" (up to 15 letters, digits, '_', '.' and '-')", s)
		return false
	}
	return true
}

// watchdog reads [watchdog] once the hosts are known: two or more pgpool hosts get a watchdog,
// and a cluster with one refuses watchdog settings rather than write them to no effect.
func (l *loader) watchdog(t *table, hostsOK bool) {
	c := l.c
	var nodes []*Host
	for _, h := range c.Hosts {
		if h.Pgpool {
			nodes = append(nodes, h)
		}
	}
	if len(nodes) < 2 {
		why := "this cluster has one pgpool host, and pgpool-II's watchdog watches two or more; add pgpool hosts or remove it"
		if t.present() {
			l.d.atKey("watchdog", "%s", why)
			for _, k := range sortedKeys(t.m) {
				if contains(t.keys, k) { // one error for the table; finish names unknown keys
					t.get(k)
				}
			}
		}
		for _, at := range l.wdHostKeys {
			l.d.atKey(at, "%s", why)
		}
		t.finish()
		return
	}
	// Where a problem of a key the spec leaves out stands: [watchdog], or the second pgpool
	// host, which makes the watchdog.
	at := func(key string) string {
		switch {
		case t.has(key):
			return t.at(key)
		case t.present():
			return "watchdog"
		}
		return l.hostPath[nodes[1]] + ".roles"
	}
	if l.versionOK && pgpool.Spelling("use_watchdog", c.Pgpool) == "" {
		l.d.atKey(at(""), "pgpool-II %s has no watchdog (it came in %s), and a second pgpool host needs one; keep one host with the role \"pgpool\" or target a later pgpool_version", c.Pgpool, pgpool.Since("use_watchdog"))
		// The one problem stands for the table's keys: each is taken as read, and only an
		// unknown one is reported too.
		for _, key := range t.keys {
			if t.has(key) {
				t.get(key)
			}
		}
		t.finish()
		return
	}
	w := &Watchdog{Nodes: nodes, Port: defaultWDPort, HeartbeatPort: defaultHeartbeatPort,
		Lifecheck: "heartbeat", QuorumFailover: true, Consensus: true, AuthKey: pgpool.Spelling("wd_authkey", c.Pgpool) != ""}
	if pgpool.Spelling("wd_lifecheck_method", c.Pgpool) == "" {
		w.Lifecheck = "query" // 3.2 checks by query only
	}
	for i, h := range nodes {
		h.WatchdogID = i
		if len(h.Heartbeat) == 0 && h.Address != "" {
			h.Heartbeat = []string{h.Address}
		}
	}
	if s, ok := t.str("interface"); ok && l.checkInterface(t.at("interface"), s) {
		for _, h := range nodes {
			if h.Interface == "" {
				h.Interface = s
			}
		}
	}
	if s, ok := t.str("virtual_ip"); ok {
		l.virtualIP(t, w, s)
	}
	if n, ok := t.integer("port", 1024, 65535); ok {
		w.Port = n
	}
	if s, ok := t.str("lifecheck"); ok && l.needs(t, "lifecheck") {
		switch s {
		case "heartbeat", "query":
			w.Lifecheck = s
		default:
			l.d.atValue(t.at("lifecheck"), "unknown life check %q; use \"heartbeat\" (UDP packets between the pgpool hosts) or \"query\" (each logs in to the others' pgpool)", s)
		}
	}
	if n, ok := t.integer("heartbeat_port", 1024, 65535); ok && l.needs(t, "heartbeat_port") {
		w.HeartbeatPort = n
		if w.Lifecheck != "heartbeat" {
			l.d.atKey(t.at("heartbeat_port"), "is used only with lifecheck = \"heartbeat\"")
		}
	}
	if w.Lifecheck != "heartbeat" {
		for _, at := range l.wdHostKeys {
			if strings.HasSuffix(at, ".heartbeat_addresses") {
				l.d.atKey(at, "is used only with watchdog.lifecheck = \"heartbeat\"")
			}
		}
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"failover_when_quorum_exists", &w.QuorumFailover}, {"failover_require_consensus", &w.Consensus}, {"half_votes", &w.HalfVotes}} {
		if l.needs(t, b.key) {
			if v, ok := t.boolean(b.key); ok {
				*b.dst = v
			}
		}
	}
	if v, ok := t.boolean("authkey"); ok {
		if v && !w.AuthKey {
			l.d.atValue(t.at("authkey"), "pgpool-II %s has no wd_authkey (it came in %s); remove the key", c.Pgpool, pgpool.Since("wd_authkey"))
		} else {
			w.AuthKey = v
		}
	}
	l.quorumWarning(w, at("half_votes"))
	t.finish()
	if hostsOK {
		l.checkWatchdogHosts(w)
	}
	c.Watchdog = w
}

// quorumWarning warns where the watchdog's quorum may not be what the operator expects, as
// each series' real pgpool-II showed it (a lone node of two or three, e2e/versions): before
// 3.5 there is no quorum, and a node cut off from the others takes the virtual IP; 3.5-4.0
// count exactly half as a quorum, so two halves cut apart may both act; from 4.1 exactly half
// is a quorum only with enable_consensus_with_half_votes, so losing half stops everything.
func (l *loader) quorumWarning(w *Watchdog, at string) {
	c, n := l.c, len(w.Nodes)
	switch {
	case !c.Pgpool.AtLeast(pgpool.V35):
		l.warn(at, "pgpool-II %s's watchdog has no quorum (3.5 brought one): a pgpool host cut off from the others takes the virtual IP too, and clients may reach two leaders", c.Pgpool)
	case n%2 != 0:
	case pgpool.Spelling("enable_consensus_with_half_votes", c.Pgpool) == "":
		l.warn(at, "%d pgpool hosts: pgpool-II %s counts exactly half of them, %d, as a quorum, so two halves cut apart may both fail over and hold the virtual IP; add a pgpool host", n, c.Pgpool, n/2)
	case !w.HalfVotes:
		l.warn(at, "%d pgpool hosts: the watchdog has a quorum only while more than half of them, %d, see each other, so losing %d stops failover and the virtual IP; add a pgpool host, or set watchdog.half_votes = true to count exactly half as a quorum (then two halves cut apart may both act)",
			n, n/2+1, n/2)
	}
}

// virtualIP reads watchdog.virtual_ip: an IPv4 address with the prefix of the pgpool hosts'
// network, which none of the hosts has. arping, which tells the network the address moved,
// speaks IPv4 only.
func (l *loader) virtualIP(t *table, w *Watchdog, s string) {
	at := t.at("virtual_ip")
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		if _, e := netip.ParseAddr(s); e == nil {
			l.d.atValue(at, "%q has no prefix; write the prefix of the pgpool hosts' network, such as %q", s, s+"/24")
		} else {
			l.d.atValue(at, "%q is not an IPv4 address with a prefix; write one such as \"192.0.2.100/24\"", s)
		}
		return
	case !p.Addr().Is4():
		l.d.atValue(at, "%q is not IPv4; the virtual IP is IPv4 only (arping, which announces its move, speaks IPv4)", s)
		return
	case p.Bits() < 8 || p.Bits() > 30:
		l.d.atValue(at, "%q has prefix /%d; the hosts' network has a prefix from /8 to /30", s, p.Bits())
		return
	case p.Addr() == p.Masked().Addr() || p.Addr() == broadcast(p):
		l.d.atValue(at, "%q is the network's own or broadcast address; choose a free host address in it", s)
		return
	}
	if !t.has("interface") {
		missing := false
		for _, h := range w.Nodes {
			missing = missing || h.Interface == ""
		}
		if missing {
			l.d.atKey(at, "the virtual IP needs the network interface it goes on: add watchdog.interface, such as interface = \"eth0\"")
		}
	}
	w.VirtualIP = p
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// checkWatchdogHosts checks the watchdog against the hosts: the virtual IP is no host's
// address and lies in every pgpool host's network, and no watchdog port is taken.
func (l *loader) checkWatchdogHosts(w *Watchdog) {
	c := l.c
	at := func(key string) string { return "watchdog." + key }
	if w.VirtualIP.IsValid() {
		vip := w.VirtualIP.Addr()
		for _, h := range c.Hosts {
			if a, err := netip.ParseAddr(h.Address); err == nil && a == vip {
				l.d.atValue(at("virtual_ip"), "%s is the address of host %s; the virtual IP must be an address no host has", vip, h.Name)
			}
		}
		var outside []string
		for _, h := range w.Nodes {
			a, err := netip.ParseAddr(h.Address)
			// An IPv6 address or a DNS name says nothing about the host's IPv4 network.
			if err == nil && a.Is4() && !w.VirtualIP.Contains(a) {
				outside = append(outside, h.Name+" ("+h.Address+")")
			}
		}
		if len(outside) > 0 {
			l.d.atValue(at("virtual_ip"), "%s is not the network of pgpool %s %s; the virtual IP moves between the pgpool hosts, so it must lie in their network",
				w.VirtualIP.Masked(), plural(len(outside), "host", "hosts"), fewNames(outside))
		}
	}
	// The watchdog's port is TCP beside pgpool's and PostgreSQL's on the same host (the
	// heartbeat is UDP, where nothing of the cluster listens).
	key := "watchdog.port"
	if _, ok := l.d.pos.key[key]; !ok {
		key = "watchdog"
	}
	taken := map[int]string{c.Port: "pgpool.port", c.PCPPort: "pgpool.pcp_port"}
	switch other, ok := taken[w.Port]; {
	case ok:
		l.d.atValue(key, "%d is %s already; the watchdog needs a port of its own", w.Port, other)
	default:
		for _, h := range w.Nodes {
			if h.Backend && h.Port == w.Port {
				l.d.atKey(l.hostPath[h]+".roles", "this host runs pgpool and PostgreSQL, and watchdog.port is %d, the same as its PostgreSQL port; give one of them another port", w.Port)
			}
		}
	}
}

// warn records a warning at a key path.
func (l *loader) warn(path, format string, args ...any) {
	l.c.Warnings = append(l.c.Warnings, &Error{File: l.d.file, Pos: l.d.pos.key[path], Path: path, Msg: fmt.Sprintf(format, args...)})
}

// VIPCommands are the command lines, as words after "sudo -n", that put the virtual IP up on
// pgpool host h, take it down, and announce it (arping): what pgpool.conf's if_up_cmd,
// if_down_cmd and arping_cmd run, the sudoers rule allows and nothing more, and the escalation
// script runs on the other pgpool hosts.
func (c *Cluster) VIPCommands(h *Host) (up, down, arping []string) {
	w := c.Watchdog
	if w == nil || !w.VirtualIP.IsValid() {
		return nil, nil, nil
	}
	ip, lay := w.VirtualIP.String(), &c.Layout
	up = []string{lay.IPCommand, "addr", "add", ip, "dev", h.Interface}
	down = []string{lay.IPCommand, "addr", "del", ip, "dev", h.Interface}
	// Unsolicited ARP (-U), for at most one second (-w 1): the network learns the new owner.
	arping = []string{lay.ArpingCommand, "-U", w.VirtualIP.Addr().String(), "-w", "1", "-I", h.Interface}
	return up, down, arping
}

// SudoDir is the directory pgpool.conf's if_cmd_path and arping_path name: pgpool-II runs
// "<path>/<first word>" of if_up_cmd with the whole line as its arguments in every series,
// so the commands are "sudo -n ..." run from sudo's directory.
func (c *Cluster) SudoDir() string { return path.Dir(c.Layout.SudoCommand) }

// HasVIP reports whether the cluster's watchdog moves a virtual IP.
func (c *Cluster) HasVIP() bool { return c.Watchdog != nil && c.Watchdog.VirtualIP.IsValid() }

// Escalates reports whether a new leader runs the escalation script, which takes the virtual
// IP down on the other pgpool hosts: wd_escalation_command came in 3.3.
func (c *Cluster) Escalates() bool {
	return c.HasVIP() && pgpool.Spelling("wd_escalation_command", c.Pgpool) != ""
}

// NodeIDFileContent is pgpool_node_id for pgpool host h.
func NodeIDFileContent(h *Host) []byte { return []byte(strconv.Itoa(h.WatchdogID) + "\n") }
