//go:build versions

package versions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgpoolgen/gen"
	"pgpoolgen/gen/fixture"
	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
)

// series are the pgpool-II series pgpoolgen writes for, oldest first: the builds hold one of
// each.
var series = func() []string {
	var out []string
	for _, v := range pgpool.Series {
		out = append(out, v.String())
	}
	return out
}()

// before reports whether series a is older than series b.
func before(a, b string) bool { return pgpool.MustVersion(a).Less(pgpool.MustVersion(b)) }

// A conf is one pgpool host's files from one built bundle.
type conf struct {
	series string
	caseID string // golden/<name> or matrix/<mode>-<layout>
	host   string
	pgpool []byte // pgpool.conf as generated
	pcp    []byte // pcp.conf as generated
	nodeID []byte // pgpool_node_id beside pgpool.conf, or nil
	expect []expect
}

// bundleConfs builds the cluster's bundle in process and returns each pgpool host's files.
func bundleConfs(t *testing.T, caseID string, c *schema.Cluster) []conf {
	t.Helper()
	b := gen.Generate(c)
	var out []conf
	for _, h := range c.Hosts {
		if !h.Pgpool {
			continue
		}
		k := conf{series: c.Pgpool.String(), caseID: caseID, host: h.Name}
		for _, f := range b.Files {
			if f.Host != h.Name {
				continue
			}
			switch f.Dest {
			case c.Layout.PgpoolConfigDir + "/pgpool.conf":
				k.pgpool = f.Data
			case c.Layout.PgpoolConfigDir + "/pcp.conf":
				k.pcp = f.Data
			case c.Layout.PgpoolConfigDir + "/" + schema.NodeIDFile:
				k.nodeID = f.Data
			}
		}
		if k.pgpool == nil || k.pcp == nil {
			t.Fatalf("%s: the bundle of pgpool host %s has no pgpool.conf or pcp.conf in %s", caseID, h.Name, c.Layout.PgpoolConfigDir)
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		t.Fatalf("%s: the bundle has no pgpool host", caseID)
	}
	return out
}

// goldenConfs loads every golden case (golden/*/cluster.toml, with its test.env) and builds it.
func goldenConfs(t *testing.T, root string) []conf {
	t.Helper()
	cases, err := fixture.List(filepath.Join(root, "golden"))
	must(t, err)
	if len(cases) == 0 {
		t.Fatalf("no golden cases in %s/golden", root)
	}
	var out []conf
	for _, name := range cases {
		dir := filepath.Join(root, "golden", name)
		f := filepath.Join(dir, "cluster.toml")
		env, err := fixture.Env(dir)
		must(t, err)
		src, err := os.ReadFile(f)
		must(t, err)
		c, err := schema.Load(f, src, schema.Env{
			LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
			ReadFile:  os.ReadFile,
		})
		if err != nil {
			t.Fatalf("golden case %s does not load:\n%v", f, err)
		}
		out = append(out, bundleConfs(t, "golden/"+filepath.Base(dir), c)...)
	}
	return out
}

// matrixSpec writes a spec for one series, mode and layout preset: a pgpool host and three
// backends, with values away from pgpool-II's defaults wherever the series has the key, so
// that a value pgpool did not take shows as a difference. With watchdog, the pgpool hosts are
// wdHosts.
func matrixSpec(ser, mode, preset string, watchdog bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[cluster]\nname = \"versions\"\nmode = %q\npgpool_version = %q\npostgresql_version = \"15\"\n\n", mode, ser)
	fmt.Fprintf(&b, "[layout]\npreset = %q\n\n[install]\nmethod = \"none\"\n\n", preset)
	b.WriteString("[health_check]\nperiod = 3\ntimeout = 7\nuser = \"hc_user\"\n")
	if !before(ser, "3.2") {
		b.WriteString("max_retries = 4\nretry_delay = 2\n")
	}
	if !before(ser, "3.4") {
		b.WriteString("connect_timeout = 4500\n")
	}
	if !before(ser, "3.5") {
		b.WriteString("database = \"hc_db\"\n")
	}
	if mode == "streaming_replication" {
		b.WriteString("\n[sr_check]\nperiod = 6\nuser = \"sr_user\"\n")
		if !before(ser, "3.5") {
			b.WriteString("database = \"sr_db\"\n")
		}
	}
	b.WriteString("\n[recovery]\ntimeout = 123\nuser = \"rec_user\"\n")
	if watchdog {
		fmt.Fprintf(&b, "\n[watchdog]\nvirtual_ip = %q\ninterface = %q\nport = %d\n", wdVIP, wdInterface, wdPort)
		if !before(ser, "3.3") {
			fmt.Fprintf(&b, "heartbeat_port = %d\nlifecheck = \"heartbeat\"\n", wdHeartbeatPort)
		}
		if !before(ser, "3.7") {
			b.WriteString("failover_when_quorum_exists = false\nfailover_require_consensus = false\n")
		}
		if !before(ser, "4.1") {
			b.WriteString("half_votes = true\n")
		}
	}
	hosts := []struct{ name, addr, role string }{
		{"pgpool1", "192.0.2.10", "pgpool"},
		{"pg1", "192.0.2.11", "primary"},
		{"pg2", "192.0.2.12", "standby"},
		{"pg3", "192.0.2.13", "standby"},
	}
	for i, h := range hosts {
		role := h.role
		if mode == "native_replication" && role != "pgpool" {
			role = "backend"
		}
		fmt.Fprintf(&b, "\n[[host]]\nname = %q\naddress = %q\nroles = [%q]\nssh_key = %q\n", h.name, h.addr, role, fixture.SSHKey(h.name))
		if role != "pgpool" {
			fmt.Fprintf(&b, "port = %d\nweight = %d\n", 5440+i, i)
		}
	}
	// The other pgpool hosts come after the backends: watchdog node ids count pgpool hosts
	// only. pgpool1, first, is wdHosts[0].
	for _, h := range wdHosts[1:] {
		if !watchdog {
			break
		}
		fmt.Fprintf(&b, "\n[[host]]\nname = %q\naddress = %q\nroles = [\"pgpool\"]\nssh_key = %q\n", h.name, h.addr, fixture.SSHKey(h.name))
		if len(h.heartbeat) > 0 && !before(ser, "3.3") {
			fmt.Fprintf(&b, "heartbeat_addresses = [%q, %q]\n", h.heartbeat[0], h.heartbeat[1])
		}
		if h.iface != "" {
			fmt.Fprintf(&b, "interface = %q\n", h.iface)
		}
	}
	b.WriteString("\n[[pcp_user]]\nname = \"pcpadmin\"\npassword_env = \"PCP_PASSWORD\"\n\n[[hba]]\naddress = \"192.0.2.0/24\"\nmethod = \"trust\"\n")
	// A few parameters through [parameters], enums among them (3.4-3.6 print those as numbers).
	b.WriteString("\n[parameters]\nnum_init_children = 3\nmax_pool = 2\nsyslog_facility = \"LOCAL3\"\n")
	if !before(ser, "3.4") {
		b.WriteString("log_min_messages = \"notice\"\nlog_error_verbosity = \"verbose\"\n")
	}
	if mode == "streaming_replication" {
		b.WriteString("log_standby_delay = \"always\"\n")
	}
	return b.String()
}

// The watchdog variant of the matrix: three pgpool hosts, values away from pgpool-II's
// defaults; pgpool2 sends its heartbeat over two networks, pgpool3 has the virtual IP on an
// interface of its own.
const (
	wdVIP           = "192.0.2.100/24"
	wdInterface     = "eth1"
	wdPort          = 9100
	wdHeartbeatPort = 9700
)

var wdHosts = []struct {
	name, addr string
	heartbeat  []string // heartbeat_addresses, when not [addr]
	iface      string   // its interface, when not wdInterface
}{
	{"pgpool1", "192.0.2.10", nil, ""},
	{"pgpool2", "192.0.2.20", []string{"192.0.2.20", "198.51.100.20"}, ""},
	{"pgpool3", "192.0.2.21", nil, "ens4"},
}

// An expect is a value the matrix spec asks for, as pgpool-II should report it: the test's
// own reading of what each spec key means in each series, kept apart from pgpoolgen's tables
// so that a binding the generator drops or misspells shows up even when the file is
// otherwise consistent.
type expect struct {
	name  string // the parameter as the series spells it
	value string // "" with nonEmpty: any value but the empty one
	// nonEmpty: the value is a command line or path pgpoolgen chooses; only its presence is
	// expected, and that it holds contains.
	nonEmpty bool
	contains string
	why      string // the spec key or rule it comes from
}

// holds reports whether a value is what a nonEmpty expect accepts.
func (e expect) holds(v string) bool { return v != "" && strings.Contains(v, e.contains) }

// want describes the expected value, for messages.
func (e expect) want() string {
	switch {
	case !e.nonEmpty:
		return fmt.Sprintf("%q", e.value)
	case e.contains != "":
		return fmt.Sprintf("a value holding %q", e.contains)
	}
	return "a value"
}

// matrixExpect lists what matrixSpec asks of pgpool-II ser in mode.
func matrixExpect(ser, mode string) []expect {
	streaming := mode == "streaming_replication"
	var e []expect
	add := func(name, value, why string) { e = append(e, expect{name: name, value: value, why: why}) }
	if before(ser, "4.2") {
		if streaming {
			add("master_slave_mode", "on", "cluster.mode")
			add("master_slave_sub_mode", "stream", "cluster.mode")
			add("replication_mode", "off", "cluster.mode")
		} else {
			add("replication_mode", "on", "cluster.mode")
			add("master_slave_mode", "off", "cluster.mode")
		}
	} else {
		add("backend_clustering_mode", mode, "cluster.mode")
	}
	add("health_check_period", "3", "health_check.period")
	add("health_check_timeout", "7", "health_check.timeout")
	add("health_check_user", "hc_user", "health_check.user")
	if !before(ser, "3.2") {
		add("health_check_max_retries", "4", "health_check.max_retries")
		add("health_check_retry_delay", "2", "health_check.retry_delay")
	}
	if !before(ser, "3.4") {
		add("connect_timeout", "4500", "health_check.connect_timeout")
	}
	if !before(ser, "3.5") {
		add("health_check_database", "hc_db", "health_check.database")
	}
	if streaming {
		add("sr_check_period", "6", "sr_check.period")
		add("sr_check_user", "sr_user", "sr_check.user")
		if !before(ser, "3.5") {
			add("sr_check_database", "sr_db", "sr_check.database")
		}
		follow := "follow_primary_command"
		if before(ser, "4.2") {
			follow = "follow_master_command"
		}
		e = append(e, expect{name: follow, nonEmpty: true, why: "streaming mode's follow script"},
			expect{name: "failover_command", nonEmpty: true, why: "streaming mode's failover script"})
		add("log_standby_delay", "always", "parameters.log_standby_delay")
	}
	add("recovery_timeout", "123", "recovery.timeout")
	add("recovery_user", "rec_user", "recovery.user")
	add("recovery_1st_stage_command", "recovery_1st_stage", "online recovery")
	if !streaming {
		add("recovery_2nd_stage_command", "recovery_2nd_stage", "online recovery in native mode")
	}
	for i := 0; i < 3; i++ {
		add(fmt.Sprintf("backend_weight%d", i), fmt.Sprint(i+1), fmt.Sprintf("host[%d].weight", i+1))
	}
	add("load_balance_mode", "on", "pgpool.load_balance")
	add("enable_pool_hba", "on", "pool_hba.conf")
	add("num_init_children", "3", "parameters.num_init_children")
	add("max_pool", "2", "parameters.max_pool")
	add("syslog_facility", "LOCAL3", "parameters.syslog_facility")
	if !before(ser, "3.4") {
		add("log_min_messages", "notice", "parameters.log_min_messages")
		add("log_error_verbosity", "verbose", "parameters.log_error_verbosity")
	}
	return e
}

// matrixWatchdogExpect lists what the watchdog variant asks of pgpool-II ser on wdHosts[self],
// on top of matrixExpect: every node, as the series spells it, and the virtual IP's commands.
func matrixWatchdogExpect(ser string, self int) []expect {
	var e []expect
	add := func(name, value, why string) { e = append(e, expect{name: name, value: value, why: why}) }
	has := func(name, contains, why string) {
		e = append(e, expect{name: name, nonEmpty: true, contains: contains, why: why})
	}
	heartbeat := func(i int) []string {
		if h := wdHosts[i].heartbeat; h != nil && !before(ser, "3.3") {
			return h
		}
		return []string{wdHosts[i].addr}
	}
	port, hbPort := fmt.Sprint(wdPort), fmt.Sprint(wdHeartbeatPort)
	add("use_watchdog", "on", "two or more pgpool hosts")
	if !before(ser, "4.2") {
		for i, h := range wdHosts {
			why := fmt.Sprintf("watchdog node %d (%s)", i, h.name)
			add(fmt.Sprintf("hostname%d", i), h.addr, why)
			add(fmt.Sprintf("wd_port%d", i), port, "watchdog.port")
			add(fmt.Sprintf("pgpool_port%d", i), "9999", why+"'s pgpool.port")
			add(fmt.Sprintf("heartbeat_hostname%d", i), strings.Join(heartbeat(i), ";"), why+"'s heartbeat_addresses")
			add(fmt.Sprintf("heartbeat_port%d", i), hbPort, "watchdog.heartbeat_port")
			add(fmt.Sprintf("heartbeat_device%d", i), "", why)
		}
	} else {
		add("wd_hostname", wdHosts[self].addr, "this host's address")
		add("wd_port", port, "watchdog.port")
		k, d := 0, 0
		for i, h := range wdHosts {
			if i == self {
				continue
			}
			why := fmt.Sprintf("the other pgpool host %s", h.name)
			add(fmt.Sprintf("other_pgpool_hostname%d", k), h.addr, why)
			add(fmt.Sprintf("other_pgpool_port%d", k), "9999", why+"'s pgpool.port")
			add(fmt.Sprintf("other_wd_port%d", k), port, "watchdog.port")
			k++
			if before(ser, "3.3") {
				continue
			}
			for _, a := range heartbeat(i) {
				add(fmt.Sprintf("heartbeat_destination%d", d), a, why+"'s heartbeat_addresses")
				add(fmt.Sprintf("heartbeat_destination_port%d", d), hbPort, "watchdog.heartbeat_port")
				add(fmt.Sprintf("heartbeat_device%d", d), "", why)
				d++
			}
		}
		if !before(ser, "3.3") {
			add("wd_heartbeat_port", hbPort, "watchdog.heartbeat_port")
		}
	}
	vip, _, _ := strings.Cut(wdVIP, "/")
	iface := wdInterface
	if wdHosts[self].iface != "" {
		iface = wdHosts[self].iface
	}
	if before(ser, "4.4") {
		add("delegate_IP", vip, "watchdog.virtual_ip")
	} else {
		add("delegate_ip", vip, "watchdog.virtual_ip")
	}
	has("if_up_cmd", " addr add "+wdVIP+" dev "+iface, "watchdog.virtual_ip on this host's interface")
	has("if_down_cmd", " addr del "+wdVIP+" dev "+iface, "watchdog.virtual_ip on this host's interface")
	has("arping_cmd", " -U "+vip+" -w 1 -I "+iface, "watchdog.virtual_ip on this host's interface")
	if before(ser, "3.5") {
		has("ifconfig_path", "/", "the virtual IP's commands")
	} else {
		has("if_cmd_path", "/", "the virtual IP's commands")
		has("wd_ipc_socket_dir", "/", "layout.pgpool_socket_dir")
	}
	has("arping_path", "/", "the virtual IP's commands")
	if !before(ser, "3.3") {
		add("wd_lifecheck_method", "heartbeat", "watchdog.lifecheck")
		has("wd_escalation_command", "escalation.sh", "the escalation script")
	}
	if !before(ser, "3.7") {
		add("failover_when_quorum_exists", "off", "watchdog.failover_when_quorum_exists")
		add("failover_require_consensus", "off", "watchdog.failover_require_consensus")
	}
	if !before(ser, "4.1") {
		add("enable_consensus_with_half_votes", "on", "watchdog.half_votes")
	}
	return e
}

// matrixConfs builds the matrix: every series × streaming and native replication × the debian
// and source layouts, and a watchdog variant (streaming, debian layout, wdHosts) of every
// series that has one.
func matrixConfs(t *testing.T) []conf {
	t.Helper()
	env := schema.Env{
		LookupEnv: func(k string) (string, bool) { return "versions-pcp-secret", k == "PCP_PASSWORD" },
		ReadFile:  os.ReadFile,
	}
	var out []conf
	for _, ser := range series {
		for _, mode := range []string{"streaming_replication", "native_replication"} {
			for _, preset := range []string{"debian", "source"} {
				src := matrixSpec(ser, mode, preset, false)
				c, err := schema.Load("cluster.toml", []byte(src), env)
				if err != nil {
					t.Fatalf("matrix spec for pgpool-II %s, %s, preset %s does not load:\n%v\n%s", ser, mode, preset, err, src)
				}
				for _, k := range bundleConfs(t, "matrix/"+strings.TrimSuffix(mode, "_replication")+"-"+preset, c) {
					k.expect = matrixExpect(ser, mode)
					out = append(out, k)
				}
			}
		}
		if before(ser, "3.2") {
			continue // no watchdog
		}
		src := matrixSpec(ser, "streaming_replication", "debian", true)
		c, err := schema.Load("cluster.toml", []byte(src), env)
		if err != nil {
			t.Fatalf("matrix watchdog spec for pgpool-II %s does not load:\n%v\n%s", ser, err, src)
		}
		for i, k := range bundleConfs(t, "matrix/watchdog-debian", c) {
			k.expect = append(matrixExpect(ser, "streaming_replication"), matrixWatchdogExpect(ser, i)...)
			out = append(out, k)
		}
	}
	return out
}
