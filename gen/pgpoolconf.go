package gen

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
)

// A setting is one line of pgpool.conf.
type setting struct {
	name   string // as written: backend_port0
	record string // as in the parameter table: backend_portN
	index  int    // backend or node number of an indexed parameter
	value  string // pgpool.conf syntax
	note   string // a comment line written above it, if any
}

var (
	v32 = pgpool.Version{Major: 3, Minor: 2}
	v34 = pgpool.Version{Major: 3, Minor: 4}
	v35 = pgpool.Version{Major: 3, Minor: 5}
	v40 = pgpool.Version{Major: 4, Minor: 0}
	v41 = pgpool.Version{Major: 4, Minor: 1}
	v42 = pgpool.Version{Major: 4, Minor: 2}
	v44 = pgpool.Version{Major: 4, Minor: 4}
	v47 = pgpool.Version{Major: 4, Minor: 7}
)

func q(s string) string { return "'" + s + "'" }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// failoverArgs lists the escapes pgpool-II passes to failover_command, in the order the
// generated script reads them: %r and %R exist from 3.2, %N and %S from 4.1.
func failoverArgs(v pgpool.Version) string {
	args := "%d %h %p %D %m %H %M %P"
	if v.AtLeast(v32) {
		args += " %r %R"
	}
	if v.AtLeast(v41) {
		args += " %N %S"
	}
	return args
}

// followArgs lists the escapes passed to the follow command: the first ten of failover's.
func followArgs(v pgpool.Version) string {
	args := "%d %h %p %D %m %H %M %P"
	if v.AtLeast(v32) {
		args += " %r %R"
	}
	return args
}

// settings lists what pgpoolgen writes into pgpool.conf for the cluster, before the user's
// [parameters]; the order here does not matter, render sorts by the sample's order.
func settings(c *schema.Cluster) []setting {
	v := c.Pgpool
	lay := c.Layout
	var s []setting
	add := func(name, value string) *setting {
		s = append(s, setting{name: name, record: name, value: value})
		return &s[len(s)-1]
	}
	addN := func(base string, i int, value string) *setting {
		s = append(s, setting{name: base + strconv.Itoa(i), record: base + "N", index: i, value: value})
		return &s[len(s)-1]
	}

	// Mode.
	switch {
	case v.AtLeast(v42):
		add("backend_clustering_mode", q(c.Mode.String()))
	case c.Mode == schema.Streaming:
		add("replication_mode", "off")
		add("master_slave_mode", "on")
		add("master_slave_sub_mode", q("stream"))
	default:
		add("replication_mode", "on")
		add("master_slave_mode", "off")
	}

	// Connections.
	add("listen_addresses", q(c.ListenAddresses))
	add("port", strconv.Itoa(c.Port))
	if v.AtLeast(v44) {
		add("unix_socket_directories", q(lay.PgpoolSocketDir))
	} else {
		add("socket_dir", q(lay.PgpoolSocketDir))
	}
	if v.AtLeast(v34) {
		add("pcp_listen_addresses", q(c.PCPListenAddresses))
	}
	add("pcp_port", strconv.Itoa(c.PCPPort))
	add("pcp_socket_dir", q(lay.PCPSocketDir))
	for _, b := range c.Backends {
		role := b.Role.String()
		first := addN("backend_hostname", b.NodeID, q(b.Address))
		first.note = fmt.Sprintf("backend %d: host %s (%s)", b.NodeID, b.Name, role)
		addN("backend_port", b.NodeID, strconv.Itoa(b.Port))
		addN("backend_weight", b.NodeID, strconv.FormatFloat(b.Weight, 'f', -1, 64))
		addN("backend_data_directory", b.NodeID, q(b.DataDirectory))
		if v.AtLeast(v41) {
			addN("backend_application_name", b.NodeID, q(b.ApplicationName))
		}
	}
	add("enable_pool_hba", "on")
	add("pool_passwd", q("pool_passwd"))

	// Files.
	add("pid_file_name", q(lay.PgpoolRunDir+"/pgpool.pid"))
	if v.AtLeast(v47) {
		add("work_dir", q(lay.PgpoolLogDir))
	} else {
		add("logdir", q(lay.PgpoolLogDir))
	}

	add("load_balance_mode", onOff(c.LoadBalance))

	// Streaming replication check and follow command.
	if c.Mode == schema.Streaming {
		add("sr_check_period", strconv.Itoa(c.SRCheck.Period))
		add("sr_check_user", q(c.SRCheck.User))
		add("sr_check_password", q("")).note = passwordNote(v)
		if v.AtLeast(v35) {
			add("sr_check_database", q(c.SRCheck.Database))
		}
		name := "follow_primary_command"
		if !v.AtLeast(v42) {
			name = "follow_master_command"
		}
		add(name, q(lay.PgpoolConfigDir+"/"+c.FollowScript()+" "+followArgs(v))).note =
			"re-points the remaining standbys at the new primary after a failover"
	}

	// Health check: on, and quick enough to notice a dead primary within seconds.
	hc := c.HealthCheck
	add("health_check_period", strconv.Itoa(hc.Period))
	add("health_check_timeout", strconv.Itoa(hc.Timeout))
	add("health_check_user", q(hc.User))
	add("health_check_password", q("")).note = passwordNote(v)
	if v.AtLeast(v35) {
		add("health_check_database", q(hc.Database))
	}
	if v.AtLeast(v32) {
		add("health_check_max_retries", strconv.Itoa(hc.MaxRetries))
		add("health_check_retry_delay", strconv.Itoa(hc.RetryDelay))
	}
	if v.AtLeast(v34) {
		add("connect_timeout", strconv.Itoa(hc.ConnectTimeout))
	}

	// Failover.
	if c.Mode == schema.Streaming {
		add("failover_command", q(lay.PgpoolConfigDir+"/"+schema.FailoverScript+" "+failoverArgs(v))).note =
			"promotes a standby when the primary fails"
	}

	// Online recovery: the scripts are looked up in the primary's (main node's) data directory.
	add("recovery_user", q(c.Recovery.User))
	add("recovery_password", q("")).note = passwordNote(v)
	add("recovery_1st_stage_command", q(schema.RecoveryFirstStage))
	if c.Mode == schema.Native {
		add("recovery_2nd_stage_command", q(schema.RecoverySecondStage))
	}
	add("recovery_timeout", strconv.Itoa(c.Recovery.Timeout))

	if v.AtLeast(v32) {
		add("use_watchdog", "off")
	}

	for _, p := range c.Parameters {
		st := setting{name: p.Name, record: p.Record, value: p.Value}
		if p.Name != p.Record {
			st.index, _ = strconv.Atoi(strings.TrimPrefix(p.Name, strings.TrimSuffix(p.Record, "N")))
		}
		s = append(s, st)
	}
	return s
}

// passwordNote explains the empty password parameters.
func passwordNote(v pgpool.Version) string {
	if v.AtLeast(v40) {
		return "no password here: pgpool-II reads it from pool_passwd"
	}
	return "no password here: the backends must admit this user without one"
}

// pgpoolConf renders pgpool.conf for a pgpool host: only the settings pgpoolgen chose and the
// spec's [parameters], grouped and ordered as the target version's sample pgpool.conf.
func pgpoolConf(c *schema.Cluster, h *schema.Host) []byte {
	v := c.Pgpool
	s := settings(c)
	slot := func(st *setting) pgpool.Slot { return pgpool.SlotOf(v, st.record) }
	sort.SliceStable(s, func(i, j int) bool {
		a, b := slot(&s[i]), slot(&s[j])
		if a.Family != b.Family {
			return a.Family < b.Family
		}
		if s[i].index != s[j].index {
			return s[i].index < s[j].index
		}
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return s[i].name < s[j].name
	})

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# pgpool.conf for pgpool-II %s, cluster %q, host %s (%s)\n", v, c.Name, h.Name, h.Address)
	fmt.Fprintf(&buf, "# Generated by pgpoolgen from %s: change the spec and build again rather than editing\n", c.SpecName)
	buf.WriteString("# this file. Only the parameters below are set; every other one keeps pgpool-II's\n")
	buf.WriteString("# built-in default. Sections follow the sample pgpool.conf of this version.\n")
	group := ""
	for i := range s {
		st := &s[i]
		headed := false
		if g := slot(st).Group; g != group {
			group, headed = g, true
			heading := g
			if g == "NOT IN THE SAMPLE" {
				heading = "OTHER PARAMETERS (not in this version's sample pgpool.conf)"
			}
			fmt.Fprintf(&buf, "\n#%s\n# %s\n#%s\n\n", dashes, heading, dashes)
		}
		// A blank line before a comment, and after a run of per-backend settings.
		afterRun := i > 0 && s[i-1].record != s[i-1].name && st.record == st.name
		if !headed && (st.note != "" || afterRun) {
			buf.WriteString("\n")
		}
		if st.note != "" {
			fmt.Fprintf(&buf, "# %s\n", st.note)
		}
		fmt.Fprintf(&buf, "%s = %s\n", st.name, st.value)
	}
	return buf.Bytes()
}

const dashes = "------------------------------------------------------------------------------"
