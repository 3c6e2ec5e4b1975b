package schema

import (
	"regexp"
	"strconv"
	"strings"

	"pgpoolgen/schema/pgpool"
)

// A Binding says how pgpoolgen sets one pgpool.conf parameter: from which spec key, or by
// which fixed rule, in which clustering modes, and to what value. Bindings is the only place
// this is written: the renderer (Cluster.Settings), the names [parameters] may not set, the
// "needs pgpool-II X+" checks of spec keys and the table in docs/spec.md all read it.
type Binding struct {
	// Record is the parameter's newest name in schema/pgpool/params.tsv. Which name a series
	// spells, and whether it has the parameter at all, is that table's answer
	// (pgpool.Spelling), never a version comparison here.
	Record string
	// Key is the spec key that sets the value ("health_check.max_retries",
	// "host[].port"), or "" for a fixed rule.
	Key string
	// Why says, for a fixed rule, why [parameters] may not set the parameter. It is shown in
	// errors and in docs/spec.md.
	Why string
	// Needs is the mode feature the parameter belongs to; 0 for every mode.
	Needs Feature
	// Unless is a parameter record that replaces this one in the series that have it: the
	// three mode switches are written only where backend_clustering_mode is not.
	Unless string
	// When, if set, says whether the cluster writes the parameter at all (the watchdog's
	// parameters need two pgpool hosts).
	When func(c *Cluster) bool
	// Per says what the index of an indexed record counts.
	Per Per
	// Value is the setting at place p; false writes nothing (master_slave_sub_mode in a mode
	// without one).
	Value func(c *Cluster, p Place) (Value, bool)
	// Note, if set, is a comment written above the setting.
	Note func(c *Cluster, p Place) string
}

// Per is what the index of an indexed parameter counts.
type Per int

const (
	PerBackend Per = iota // backend_hostnameN: the backends, by node id
	// PerNode: from 4.2 every watchdog node, by its id (hostnameN); before, the nodes but
	// the one the file is for (other_pgpool_hostnameN).
	PerNode
	// PerHeartbeat: from 4.2 every node (heartbeat_hostnameN lists its addresses); before,
	// each address of each other node (heartbeat_destinationN).
	PerHeartbeat
)

// A Place is where a setting is written: the pgpool.conf of pgpool host Self and, for an
// indexed record, the item its index counts: a backend or watchdog node (Host) or, for the
// heartbeat before 4.2, one address of another node (Addr).
type Place struct {
	Self, Host *Host
	Addr       string
}

// Indexed reports whether the parameter has one setting per backend, node or heartbeat entry.
func (b *Binding) Indexed() bool { return strings.HasSuffix(b.Record, "N") }

// Spelling is the name series v writes the parameter under, or "" where the binding writes
// nothing in v: the series lacks the parameter, or has the one that replaces it.
func (b *Binding) Spelling(v pgpool.Version) string {
	if b.Unless != "" && pgpool.Spelling(b.Unless, v) != "" {
		return ""
	}
	return pgpool.Spelling(b.Record, v)
}

func str(f func(c *Cluster) string) func(*Cluster, Place) (Value, bool) {
	return func(c *Cluster, _ Place) (Value, bool) { return StringValue(f(c)), true }
}

func integer(f func(c *Cluster) int) func(*Cluster, Place) (Value, bool) {
	return func(c *Cluster, _ Place) (Value, bool) { return IntValue(int64(f(c))), true }
}

func boolean(f func(c *Cluster) bool) func(*Cluster, Place) (Value, bool) {
	return func(c *Cluster, _ Place) (Value, bool) { return BoolValue(f(c)), true }
}

func fixed(v Value) func(*Cluster, Place) (Value, bool) {
	return func(*Cluster, Place) (Value, bool) { return v, true }
}

// noPassword is the note on the empty password parameters.
func noPassword(c *Cluster, _ Place) string {
	if c.Pgpool.AtLeast(pgpool.V40) { // 4.0 looks an empty password up in pool_passwd
		return "no password here: pgpool-II reads it from pool_passwd"
	}
	return "no password here: the backends must admit this user without one"
}

// Bindings lists every parameter pgpoolgen writes into pgpool.conf besides [parameters], in
// the order docs/spec.md lists them; pgpool.conf follows the sample's order instead.
var Bindings = []Binding{
	// Mode.
	{Record: "backend_clustering_mode", Key: "cluster.mode", Value: str(func(c *Cluster) string { return c.Mode.Info().Name })},
	{Record: "master_slave_mode", Key: "cluster.mode", Unless: "backend_clustering_mode",
		Value: boolean(func(c *Cluster) bool { return c.Mode.Info().MasterSlave })},
	{Record: "master_slave_sub_mode", Key: "cluster.mode", Unless: "backend_clustering_mode",
		Value: func(c *Cluster, _ Place) (Value, bool) {
			m := c.Mode.Info()
			return StringValue(m.SubMode), m.SubMode != ""
		}},
	{Record: "replication_mode", Key: "cluster.mode", Unless: "backend_clustering_mode",
		Value: boolean(func(c *Cluster) bool { return c.Mode.Info().ReplicationMode })},

	// Connections.
	{Record: "listen_addresses", Key: "pgpool.listen_addresses", Value: str(func(c *Cluster) string { return c.ListenAddresses })},
	{Record: "port", Key: "pgpool.port", Value: integer(func(c *Cluster) int { return c.Port })},
	{Record: "pcp_listen_addresses", Key: "pgpool.pcp_listen_addresses", Value: str(func(c *Cluster) string { return c.PCPListenAddresses })},
	{Record: "pcp_port", Key: "pgpool.pcp_port", Value: integer(func(c *Cluster) int { return c.PCPPort })},
	{Record: "unix_socket_directories", Key: "layout.pgpool_socket_dir", Value: str(func(c *Cluster) string { return c.Layout.PgpoolSocketDir })},
	{Record: "pcp_socket_dir", Key: "layout.pcp_socket_dir", Value: str(func(c *Cluster) string { return c.Layout.PCPSocketDir })},
	{Record: "backend_hostnameN", Key: "host[].address",
		Value: func(_ *Cluster, p Place) (Value, bool) { return StringValue(p.Host.Address), true },
		Note: func(_ *Cluster, p Place) string {
			return "backend " + strconv.Itoa(p.Host.NodeID) + ": host " + p.Host.Name + " (" + p.Host.Role.String() + ")"
		}},
	{Record: "backend_portN", Key: "host[].port", Value: func(_ *Cluster, p Place) (Value, bool) { return IntValue(int64(p.Host.Port)), true }},
	{Record: "backend_weightN", Key: "host[].weight", Value: func(_ *Cluster, p Place) (Value, bool) { return FloatValue(p.Host.Weight), true }},
	{Record: "backend_data_directoryN", Key: "host[].data_directory", Value: func(_ *Cluster, p Place) (Value, bool) { return StringValue(p.Host.DataDirectory), true }},
	{Record: "backend_application_nameN", Key: "host[].application_name", Value: func(_ *Cluster, p Place) (Value, bool) { return StringValue(p.Host.ApplicationName), true }},

	// Files.
	{Record: "pid_file_name", Key: "layout.pgpool_run_dir", Value: str(func(c *Cluster) string { return c.Layout.PgpoolRunDir + "/pgpool.pid" })},
	{Record: "work_dir", Key: "layout.pgpool_log_dir", Value: str(func(c *Cluster) string { return c.Layout.PgpoolLogDir })},

	{Record: "load_balance_mode", Key: "pgpool.load_balance", Value: boolean(func(c *Cluster) bool { return c.LoadBalance })},

	// Streaming replication check.
	{Record: "sr_check_period", Key: "sr_check.period", Needs: FeatSRCheck, Value: integer(func(c *Cluster) int { return c.SRCheck.Period })},
	{Record: "sr_check_user", Key: "sr_check.user", Needs: FeatSRCheck, Value: str(func(c *Cluster) string { return c.SRCheck.User })},
	{Record: "sr_check_password", Needs: FeatSRCheck, Value: fixed(StringValue("")), Note: noPassword},
	{Record: "sr_check_database", Key: "sr_check.database", Needs: FeatSRCheck, Value: str(func(c *Cluster) string { return c.SRCheck.Database })},

	// Health check: on, and quick enough to notice a dead primary within seconds.
	{Record: "health_check_period", Key: "health_check.period", Value: integer(func(c *Cluster) int { return c.HealthCheck.Period })},
	{Record: "health_check_timeout", Key: "health_check.timeout", Value: integer(func(c *Cluster) int { return c.HealthCheck.Timeout })},
	{Record: "health_check_user", Key: "health_check.user", Value: str(func(c *Cluster) string { return c.HealthCheck.User })},
	{Record: "health_check_password", Value: fixed(StringValue("")), Note: noPassword},
	{Record: "health_check_database", Key: "health_check.database", Value: str(func(c *Cluster) string { return c.HealthCheck.Database })},
	{Record: "health_check_max_retries", Key: "health_check.max_retries", Value: integer(func(c *Cluster) int { return c.HealthCheck.MaxRetries })},
	{Record: "health_check_retry_delay", Key: "health_check.retry_delay", Value: integer(func(c *Cluster) int { return c.HealthCheck.RetryDelay })},
	{Record: "connect_timeout", Key: "health_check.connect_timeout", Value: integer(func(c *Cluster) int { return c.HealthCheck.ConnectTimeout })},

	// Online recovery: the scripts are looked up in the primary's (main node's) data directory.
	{Record: "recovery_user", Key: "recovery.user", Needs: FeatRecovery, Value: str(func(c *Cluster) string { return c.Recovery.User })},
	{Record: "recovery_password", Needs: FeatRecovery, Value: fixed(StringValue("")), Note: noPassword},
	{Record: "recovery_timeout", Key: "recovery.timeout", Needs: FeatRecovery, Value: integer(func(c *Cluster) int { return c.Recovery.Timeout })},

	// Fixed rules.
	{Record: "enable_pool_hba", Why: "pgpoolgen always turns it on and writes pool_hba.conf from the [[hba]] rules", Value: fixed(BoolValue(true))},
	{Record: "pool_passwd", Why: "pgpoolgen always uses pool_passwd beside pgpool.conf", Value: fixed(StringValue("pool_passwd"))},
	{Record: "failover_command", Why: "pgpoolgen points it at the failover script it generates", Needs: FeatFailover,
		Value: str((*Cluster).FailoverCommand), Note: func(*Cluster, Place) string { return "promotes a standby when the primary fails" }},
	{Record: "follow_primary_command", Why: "pgpoolgen points it at the follow script it generates", Needs: FeatFollow,
		Value: str((*Cluster).FollowCommand), Note: func(*Cluster, Place) string {
			return "re-points the remaining standbys at the new primary after a failover"
		}},
	{Record: "recovery_1st_stage_command", Why: "pgpoolgen points it at the recovery script it generates", Needs: FeatRecovery, Value: fixed(StringValue(RecoveryFirstStage))},
	{Record: "recovery_2nd_stage_command", Why: "pgpoolgen points it at the recovery script it generates", Needs: FeatSecondStage, Value: fixed(StringValue(RecoverySecondStage))},
	{Record: "use_watchdog", Why: "pgpoolgen turns it on when two or more hosts have the role \"pgpool\", and off otherwise",
		Value: boolean(func(c *Cluster) bool { return c.Watchdog != nil })},

	// Watchdog: the nodes, from 4.2 one list of all of them, the same on every node (each
	// finds itself by pgpool_node_id); before, each node's own address and a list of the others.
	{Record: "hostnameN", Key: "host[].address", When: hasWatchdog, Per: PerNode, Value: nodeAddress, Note: nodeNote},
	{Record: "wd_portN", Key: "watchdog.port", When: hasWatchdog, Per: PerNode, Value: wdPort},
	{Record: "pgpool_portN", Key: "pgpool.port", When: hasWatchdog, Per: PerNode, Value: integer(func(c *Cluster) int { return c.Port })},
	{Record: "wd_hostname", Key: "host[].address", When: hasWatchdog,
		Value: func(_ *Cluster, p Place) (Value, bool) { return StringValue(p.Self.Address), true }},
	{Record: "wd_port", Key: "watchdog.port", When: hasWatchdog, Value: wdPort},
	{Record: "other_pgpool_hostnameN", Key: "host[].address", When: hasWatchdog, Per: PerNode, Value: nodeAddress, Note: nodeNote},
	{Record: "other_wd_portN", Key: "watchdog.port", When: hasWatchdog, Per: PerNode, Value: wdPort},
	{Record: "wd_lifecheck_method", Key: "watchdog.lifecheck", When: hasWatchdog, Value: str(func(c *Cluster) string { return c.Watchdog.Lifecheck })},
	// The heartbeat: from 4.2 each node's addresses, ';'-separated; before, every address of
	// every other node is a destination of its own.
	{Record: "heartbeat_hostnameN", Key: "host[].heartbeat_addresses", When: heartbeat, Per: PerHeartbeat,
		Value: func(_ *Cluster, p Place) (Value, bool) {
			if p.Addr != "" {
				return StringValue(p.Addr), true
			}
			return StringValue(strings.Join(p.Host.Heartbeat, ";")), true
		}},
	{Record: "heartbeat_portN", Key: "watchdog.heartbeat_port", When: heartbeat, Per: PerHeartbeat, Value: heartbeatPort},
	{Record: "heartbeat_destination_portN", Key: "watchdog.heartbeat_port", When: heartbeat, Per: PerHeartbeat, Value: heartbeatPort},
	{Record: "wd_heartbeat_port", Key: "watchdog.heartbeat_port", When: heartbeat, Value: heartbeatPort},
	// Binding to a device takes root, which pgpool does not have: the kernel picks it.
	{Record: "heartbeat_deviceN", Why: "pgpoolgen leaves the heartbeat's device to the kernel's routing (binding to one needs root)", When: heartbeat, Per: PerHeartbeat, Value: fixed(StringValue(""))},
	{Record: "wd_lifecheck_user", Key: "health_check.user", When: queryLifecheck, Value: str(func(c *Cluster) string { return c.HealthCheck.User })},
	{Record: "wd_lifecheck_password", When: queryLifecheck, Value: fixed(StringValue("")), Note: noPassword},
	{Record: "wd_lifecheck_dbname", Why: "pgpoolgen has the query life check log in to health_check.database", When: queryLifecheck, Value: str(func(c *Cluster) string { return c.HealthCheck.Database })},
	{Record: "wd_ipc_socket_dir", Why: "pgpoolgen puts the watchdog's socket beside pgpool-II's own (layout.pgpool_socket_dir)", When: hasWatchdog,
		Value: str(func(c *Cluster) string { return c.Layout.PgpoolSocketDir })},
	{Record: "failover_when_quorum_exists", Key: "watchdog.failover_when_quorum_exists", When: hasWatchdog, Value: boolean(func(c *Cluster) bool { return c.Watchdog.QuorumFailover })},
	{Record: "failover_require_consensus", Key: "watchdog.failover_require_consensus", When: hasWatchdog, Value: boolean(func(c *Cluster) bool { return c.Watchdog.Consensus })},
	{Record: "enable_consensus_with_half_votes", Key: "watchdog.half_votes", When: hasWatchdog, Value: boolean(func(c *Cluster) bool { return c.Watchdog.HalfVotes })},

	// The virtual IP, moved through sudo by absolute path (Cluster.VIPCommands).
	{Record: "delegate_ip", Key: "watchdog.virtual_ip", When: (*Cluster).HasVIP, Value: str(func(c *Cluster) string { return c.Watchdog.VirtualIP.Addr().String() })},
	{Record: "if_cmd_path", Key: "layout.sudo_command", When: (*Cluster).HasVIP, Value: str((*Cluster).SudoDir)},
	{Record: "if_up_cmd", Key: "watchdog.interface", When: (*Cluster).HasVIP, Value: vipCommand(0),
		Note: func(*Cluster, Place) string {
			return "the leader takes the virtual IP; sudo allows exactly these three commands"
		}},
	{Record: "if_down_cmd", Key: "watchdog.interface", When: (*Cluster).HasVIP, Value: vipCommand(1)},
	{Record: "arping_path", Key: "layout.sudo_command", When: (*Cluster).HasVIP, Value: str((*Cluster).SudoDir)},
	{Record: "arping_cmd", Key: "watchdog.interface", When: (*Cluster).HasVIP, Value: vipCommand(2)},
	{Record: "wd_escalation_command", Why: "pgpoolgen points it at the escalation script it generates, which takes the virtual IP down on the other pgpool hosts", When: (*Cluster).Escalates,
		Value: str(func(c *Cluster) string { return c.Layout.PgpoolConfigDir + "/" + EscalationScript })},
}

func hasWatchdog(c *Cluster) bool    { return c.Watchdog != nil }
func heartbeat(c *Cluster) bool      { return c.Watchdog != nil && c.Watchdog.Lifecheck == "heartbeat" }
func queryLifecheck(c *Cluster) bool { return c.Watchdog != nil && c.Watchdog.Lifecheck == "query" }

func nodeAddress(_ *Cluster, p Place) (Value, bool) { return StringValue(p.Host.Address), true }

func nodeNote(c *Cluster, p Place) string {
	if pgpool.Spelling("hostnameN", c.Pgpool) == "" {
		return "another watchdog node: host " + p.Host.Name
	}
	return "watchdog node " + strconv.Itoa(p.Host.WatchdogID) + ": host " + p.Host.Name
}

func wdPort(c *Cluster, _ Place) (Value, bool) { return IntValue(int64(c.Watchdog.Port)), true }

func heartbeatPort(c *Cluster, _ Place) (Value, bool) {
	return IntValue(int64(c.Watchdog.HeartbeatPort)), true
}

// vipCommand is if_up_cmd (0), if_down_cmd (1) or arping_cmd (2) of the node the file is for.
func vipCommand(i int) func(*Cluster, Place) (Value, bool) {
	return func(c *Cluster, p Place) (Value, bool) {
		up, down, arping := c.VIPCommands(p.Self)
		words := [][]string{up, down, arping}[i]
		return StringValue("sudo -n " + strings.Join(words, " ")), true
	}
}

// FailoverCommand is failover_command: the generated failover script with every escape the
// series passes.
func (c *Cluster) FailoverCommand() string {
	return c.Layout.PgpoolConfigDir + "/" + FailoverScript + " " + strings.Join(pgpool.EscapesIn(c.Pgpool, -1), " ")
}

// FollowCommand is the follow command: the generated follow script with the first ten
// escapes.
func (c *Cluster) FollowCommand() string {
	return c.Layout.PgpoolConfigDir + "/" + c.FollowScript() + " " + strings.Join(pgpool.EscapesIn(c.Pgpool, pgpool.FollowEscapes), " ")
}

// FollowScript is the follow command's script, named for the parameter the series spells:
// follow_primary.sh, follow_master.sh before 4.2.
func (c *Cluster) FollowScript() string {
	return strings.TrimSuffix(pgpool.Spelling("follow_primary_command", c.Pgpool), "_command") + ".sh"
}

// A Setting is one line pgpoolgen writes into pgpool.conf.
type Setting struct {
	Name   string // as the series spells it: backend_port0, socket_dir
	Record string // the series' parameter record: backend_portN, socket_dir
	Index  int    // backend number of an indexed parameter
	Value  Value
	Note   string // a comment line written above it, if any
}

// Settings lists what the pgpool.conf of pgpool host self sets: every binding that applies to
// the cluster's mode and series, then [parameters]. The order is the table's; the renderer
// orders them as the series' sample. Only the watchdog's settings differ between pgpool hosts.
func (c *Cluster) Settings(self *Host) []Setting {
	v, mode := c.Pgpool, c.Mode.Info()
	var out []Setting
	for i := range Bindings {
		b := &Bindings[i]
		name := b.Spelling(v)
		if name == "" || b.Needs != 0 && !mode.Has(b.Needs) || b.When != nil && !b.When(c) {
			continue
		}
		places := []Place{{Self: self}}
		if b.Indexed() {
			places = c.places(b.Per, self)
		}
		for k, p := range places {
			val, ok := b.Value(c, p)
			if !ok {
				continue
			}
			s := Setting{Name: name, Record: name, Value: val}
			if b.Indexed() {
				s.Index = k
				s.Name = strings.TrimSuffix(name, "N") + strconv.Itoa(k)
			}
			if b.Note != nil {
				s.Note = b.Note(c, p)
			}
			out = append(out, s)
		}
	}
	for _, p := range c.Parameters {
		out = append(out, Setting{Name: p.Name, Record: p.Record, Index: p.Index, Value: p.Value})
	}
	return out
}

// places lists what the index of an indexed parameter counts in pgpool host self's
// pgpool.conf: index k is the k-th place.
func (c *Cluster) places(per Per, self *Host) []Place {
	var out []Place
	switch per {
	case PerBackend:
		for _, b := range c.Backends {
			out = append(out, Place{Self: self, Host: b})
		}
	case PerNode:
		all := pgpool.Spelling("hostnameN", c.Pgpool) != ""
		for _, n := range c.Watchdog.Nodes {
			if all || n != self {
				out = append(out, Place{Self: self, Host: n})
			}
		}
	case PerHeartbeat:
		for _, n := range c.Watchdog.Nodes {
			switch {
			case pgpool.Spelling("hostnameN", c.Pgpool) != "":
				out = append(out, Place{Self: self, Host: n})
			case n != self:
				for _, a := range n.Heartbeat {
					out = append(out, Place{Self: self, Host: n, Addr: a})
				}
			}
		}
	}
	return out
}

// bindingOf finds the binding that sets the parameter a pgpool.conf name refers to, under any
// of its names (logdir as well as work_dir), or nil.
func bindingOf(name string) *Binding {
	rec := pgpool.Record(name)
	for i := range Bindings {
		if Bindings[i].Record == rec {
			return &Bindings[i]
		}
	}
	return nil
}

// oldestBinding is the binding of the spec key at path ([[host]] keys with empty brackets:
// host[].port) whose parameter came first (wd_port before 4.2, wd_portN from 4.2): it says
// since when the key has an effect. Nil when no binding reads the key.
func oldestBinding(path string) *Binding {
	var b *Binding
	for i := range Bindings {
		if o := &Bindings[i]; o.Key == path && (b == nil || pgpool.Since(o.Record).Less(pgpool.Since(b.Record))) {
			b = o
		}
	}
	return b
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// needs reports, when the target series lacks the parameter that spec key sets, that the key
// needs a later series; it returns whether the key may be used. The binding of the key and
// params.tsv say which series have the parameter.
func (l *loader) needs(t *table, key string) bool {
	path := indexRE.ReplaceAllString(t.at(key), "[]")
	b := oldestBinding(path)
	if b == nil {
		panic("schema: needs(" + path + "): no binding sets a parameter from this key")
	}
	if !t.has(key) || !l.versionOK {
		return true
	}
	for i := range Bindings {
		if o := &Bindings[i]; o.Key == path && pgpool.Spelling(o.Record, l.c.Pgpool) != "" {
			return true
		}
	}
	l.d.atKey(t.at(key), "sets %s, which pgpool-II %s does not have (it was added in %s); remove the key or target a later pgpool_version",
		strings.TrimSuffix(b.Record, "N"), l.c.Pgpool, pgpool.Since(b.Record))
	t.get(key)
	return false
}

// bindingsInRelease refuses, when the spec names a release, each parameter a binding writes
// that the release does not read yet (pcp_socket_dir before 3.5.4): pgpool-II would skip it
// without a word. It checks what Settings writes, so the rule cannot miss a binding; the
// error stands at the binding's spec key when the spec sets it, else at pgpool_release.
func (l *loader) bindingsInRelease() {
	if l.release == nil {
		return
	}
	done := map[string]bool{} // one error per parameter, not per backend
	var self *Host
	if l.c.Watchdog != nil {
		self = l.c.Watchdog.Nodes[0] // the nodes' files differ in values only
	}
	for _, s := range l.c.Settings(self) {
		b := bindingOf(s.Record)
		if b == nil || done[s.Record] { // [parameters], checked where they are read
			continue
		}
		done[s.Record] = true
		err := l.releaseReads(s.Name)
		if err == nil {
			continue
		}
		at, from := "cluster.pgpool_release", "a fixed rule"
		if b.Key != "" {
			from = b.Key
			if _, ok := l.d.pos.key[b.Key]; ok {
				at = b.Key
			}
		}
		l.d.atKey(at, "pgpoolgen writes %s (from %s), which came in %s; pgpool-II %s would skip it without a word: raise cluster.pgpool_release to %s or later",
			strings.TrimSuffix(s.Record, "N"), from, err.Added, err.Release, err.Added)
	}
}
