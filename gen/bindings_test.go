package gen

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
)

// Tests that tie the bindings table (schema.Bindings) to what pgpool.conf holds, for every
// series and every clustering mode pgpoolgen generates. The expectations are written here, not
// read from the table: a binding dropped, a name spelled for the wrong series or a spec key
// accepted and then not written each fail one of them.

// bindSpec is a small spec: one pgpool host and two backends, the first of which takes the
// backend keys of host; section holds extra lines per table ("health_check", "parameters", …).
type bindSpec struct {
	series  pgpool.Version
	mode    schema.Mode
	section map[string]string
	host    string // extra lines of the first backend's [[host]]
	// watchdog adds two pgpool hosts and a [watchdog] table with a virtual IP, whose keys
	// section["watchdog"] replaces.
	watchdog bool
}

// watchdogBase is the [watchdog] table of a bindSpec with watchdog, key by key.
var watchdogBase = [][2]string{{"virtual_ip", `"192.0.2.100/24"`}, {"interface", `"eth0"`}}

func (s bindSpec) toml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[cluster]\nname = \"bind\"\nmode = %q\npgpool_version = %q\npostgresql_version = \"15\"\n", s.mode, s.series)
	fmt.Fprintf(&b, "\n[layout]\npreset = \"source\"\n%s\n[install]\nmethod = \"none\"\n", s.section["layout"])
	for _, name := range []string{"pgpool", "health_check", "sr_check", "recovery"} {
		if extra := s.section[name]; extra != "" {
			fmt.Fprintf(&b, "\n[%s]\n%s\n", name, extra)
		}
	}
	if s.watchdog {
		b.WriteString("\n[watchdog]\n" + s.section["watchdog"] + "\n")
		for _, kv := range watchdogBase {
			if !strings.Contains(s.section["watchdog"], kv[0]+" =") {
				fmt.Fprintf(&b, "%s = %s\n", kv[0], kv[1])
			}
		}
	}
	roles := []string{"primary", "standby"}
	if !s.mode.Info().Has(schema.FeatPrimaryStandby) {
		roles = []string{"backend", "backend"}
	}
	fmt.Fprintf(&b, "\n[[host]]\nname = \"pgpool1\"\naddress = \"192.0.2.1\"\nroles = [\"pgpool\"]\nssh_key = %q\n", sshKeyLine("bind@pgpool1"))
	for i := 2; i <= 3 && s.watchdog; i++ {
		fmt.Fprintf(&b, "\n[[host]]\nname = \"pgpool%d\"\naddress = \"192.0.2.%d\"\nroles = [\"pgpool\"]\nssh_key = %q\n", i, i, sshKeyLine(fmt.Sprintf("bind@pgpool%d", i)))
	}
	for i, role := range roles {
		name := fmt.Sprintf("pg%d", i)
		fmt.Fprintf(&b, "\n[[host]]\nname = %q\nroles = [%q]\nssh_key = %q\n", name, role, sshKeyLine("bind@"+name))
		if i == 0 && strings.Contains(s.host, "address =") {
			b.WriteString(s.host + "\n")
			continue
		}
		fmt.Fprintf(&b, "address = \"192.0.2.%d\"\n", 10+i)
		if i == 0 {
			b.WriteString(s.host + "\n")
		}
	}
	b.WriteString("\n[[pcp_user]]\nname = \"pgpool\"\npassword_env = \"PCP_PASSWORD\"\n\n[[hba]]\naddress = \"192.0.2.0/24\"\nmethod = \"trust\"\n")
	if extra := s.section["parameters"]; extra != "" {
		fmt.Fprintf(&b, "\n[parameters]\n%s\n", extra)
	}
	return b.String()
}

func (s bindSpec) load() (*schema.Cluster, error) {
	return schema.Load("cluster.toml", []byte(s.toml()), haEnv)
}

// generatedModes are the clustering modes series v has: pgpoolgen generates each.
func generatedModes(v pgpool.Version) []schema.Mode {
	var out []schema.Mode
	for _, m := range schema.Modes {
		if m.In(v) {
			out = append(out, m.Mode)
		}
	}
	return out
}

// confLine is one setting of a generated pgpool.conf.
type confLine struct{ name, value string }

// confLines reads the settings of the cluster's pgpool.conf (the first pgpool host's).
func confLines(t *testing.T, c *schema.Cluster) []confLine {
	t.Helper()
	for _, h := range c.Hosts {
		if !h.Pgpool {
			continue
		}
		var out []confLine
		for _, line := range strings.Split(string(pgpoolConf(c, h)), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			name, value, ok := strings.Cut(line, " = ")
			if !ok {
				t.Fatalf("pgpool.conf line %q is not name = value", line)
			}
			out = append(out, confLine{name, value})
		}
		return out
	}
	t.Fatal("no pgpool host")
	return nil
}

func mustLoad(t *testing.T, s bindSpec) *schema.Cluster {
	t.Helper()
	c, err := s.load()
	if err != nil {
		t.Fatalf("pgpool-II %s %s: %v\n%s", s.series, s.mode, err, s.toml())
	}
	return c
}

// TestWrittenNamesKnown checks, for every series 3.1–4.7 and every generated mode, that each
// parameter pgpool.conf sets is one that series accepts under that spelling (params.tsv, through
// pgpool.Check), and that none is set twice.
func TestWrittenNamesKnown(t *testing.T) {
	for _, v := range pgpool.Series {
		for _, m := range generatedModes(v) {
			c := mustLoad(t, bindSpec{series: v, mode: m})
			seen := map[string]bool{}
			for _, l := range confLines(t, c) {
				if _, err := pgpool.Check(l.name, v); err != nil {
					t.Errorf("pgpool-II %s %s: pgpool.conf sets %s: %v", v, m, l.name, err)
				}
				if seen[l.name] {
					t.Errorf("pgpool-II %s %s: pgpool.conf sets %s twice", v, m, l.name)
				}
				seen[l.name] = true
			}
			if len(seen) < 20 {
				t.Errorf("pgpool-II %s %s: pgpool.conf sets only %d parameters", v, m, len(seen))
			}
		}
	}
}

// keyCases gives, for every spec key a binding reads, a value other than the default and the
// pgpool.conf value it must be written as (for per-backend keys: of backend 0). cluster.mode
// is TestModeSwitches's.
var keyCases = map[string]struct{ section, line, conf string }{
	"pgpool.listen_addresses":      {"pgpool", `listen_addresses = "127.0.0.1"`, "'127.0.0.1'"},
	"pgpool.port":                  {"pgpool", "port = 9010", "9010"},
	"pgpool.pcp_listen_addresses":  {"pgpool", `pcp_listen_addresses = "*"`, "'*'"},
	"pgpool.pcp_port":              {"pgpool", "pcp_port = 9001", "9001"},
	"pgpool.load_balance":          {"pgpool", "load_balance = false", "off"},
	"layout.pgpool_socket_dir":     {"layout", `pgpool_socket_dir = "/run/pgpool-sock"`, "'/run/pgpool-sock'"},
	"layout.pcp_socket_dir":        {"layout", `pcp_socket_dir = "/run/pcp-sock"`, "'/run/pcp-sock'"},
	"layout.pgpool_run_dir":        {"layout", `pgpool_run_dir = "/run/pgp"`, "'/run/pgp/pgpool.pid'"},
	"layout.pgpool_log_dir":        {"layout", `pgpool_log_dir = "/srv/pgpool-log"`, "'/srv/pgpool-log'"},
	"host[].address":               {"host", `address = "192.0.2.99"`, "'192.0.2.99'"},
	"host[].port":                  {"host", "port = 5440", "5440"},
	"host[].weight":                {"host", "weight = 0.25", "0.25"},
	"host[].data_directory":        {"host", `data_directory = "/srv/pg0"`, "'/srv/pg0'"},
	"host[].application_name":      {"host", `application_name = "node-zero"`, "'node-zero'"},
	"sr_check.period":              {"sr_check", "period = 17", "17"},
	"sr_check.user":                {"sr_check", `user = "srcheck"`, "'srcheck'"},
	"sr_check.database":            {"sr_check", `database = "srdb"`, "'srdb'"},
	"health_check.period":          {"health_check", "period = 7", "7"},
	"health_check.timeout":         {"health_check", "timeout = 9", "9"},
	"health_check.user":            {"health_check", `user = "hcuser"`, "'hcuser'"},
	"health_check.database":        {"health_check", `database = "hcdb"`, "'hcdb'"},
	"health_check.max_retries":     {"health_check", "max_retries = 4", "4"},
	"health_check.retry_delay":     {"health_check", "retry_delay = 3", "3"},
	"health_check.connect_timeout": {"health_check", "connect_timeout = 1234", "1234"},
	"recovery.user":                {"recovery", `user = "recuser"`, "'recuser'"},
	"recovery.timeout":             {"recovery", "timeout = 77", "77"},
	// The watchdog's, in a spec with three pgpool hosts (bindSpec.watchdog).
	"watchdog.port":                        {"watchdog", "port = 9100", "9100"},
	"watchdog.heartbeat_port":              {"watchdog", "heartbeat_port = 9700", "9700"},
	"watchdog.lifecheck":                   {"watchdog", `lifecheck = "query"`, "'query'"},
	"watchdog.failover_when_quorum_exists": {"watchdog", "failover_when_quorum_exists = false", "off"},
	"watchdog.failover_require_consensus":  {"watchdog", "failover_require_consensus = false", "off"},
	"watchdog.half_votes":                  {"watchdog", "half_votes = true", "on"},
	"watchdog.virtual_ip":                  {"watchdog", `virtual_ip = "192.0.2.77/24"`, "'192.0.2.77'"},
	"watchdog.interface":                   {"watchdog", `interface = "ens4"`, ""}, // keyCasePer
	"layout.sudo_command":                  {"layout", `sudo_command = "/opt/sudo/bin/sudo"`, "'/opt/sudo/bin'"},
}

// keyCasePer gives the values of a key that sets several parameters to different values, by
// parameter record.
var keyCasePer = map[string]map[string]string{
	"watchdog.interface": {
		"if_up_cmd":   "'sudo -n /sbin/ip addr add 192.0.2.100/24 dev ens4'",
		"if_down_cmd": "'sudo -n /sbin/ip addr del 192.0.2.100/24 dev ens4'",
		"arping_cmd":  "'sudo -n /usr/sbin/arping -U 192.0.2.100 -w 1 -I ens4'",
	},
}

// spelledByAnother reports whether another binding of b's spec key writes a parameter in
// series v: the shape of the watchdog's settings changed in 4.2.
func spelledByAnother(b *schema.Binding, v pgpool.Version) bool {
	for i := range schema.Bindings {
		o := &schema.Bindings[i]
		if o != b && o.Key == b.Key && o.Spelling(v) != "" {
			return true
		}
	}
	return false
}

// watchdogHostKey reports whether a binding sets a watchdog node's value from a key of its
// [[host]]: each pgpool host's values stand at an index that depends on the series' shape,
// which TestWatchdogShapes checks line by line.
func watchdogHostKey(b *schema.Binding) bool {
	return b.When != nil && strings.HasPrefix(b.Key, "host[].")
}

// TestSpecKeysWritten checks every spec key against every series and generated mode: a key
// the loader accepts is written, with its value, under the series' spelling; a key it refuses
// is one whose parameter that series and mode never get. So a parameter cannot be dropped for
// some series while its key is still accepted, nor a key refused that the series has.
func TestSpecKeysWritten(t *testing.T) {
	keys := map[string]bool{}
	for i := range schema.Bindings {
		b := &schema.Bindings[i]
		if b.Key == "" || b.Key == "cluster.mode" || watchdogHostKey(b) {
			continue
		}
		keys[b.Key] = true
		if _, ok := keyCases[b.Key]; !ok {
			t.Errorf("binding %s reads spec key %s, which keyCases has no case for", b.Record, b.Key)
		}
	}
	for key := range keyCases {
		if !keys[key] {
			t.Errorf("keyCases has %s, but no binding reads that key any more", key)
		}
	}
	for _, v := range pgpool.Series {
		for _, m := range generatedModes(v) {
			plain := confLines(t, mustLoad(t, bindSpec{series: v, mode: m}))
			var plainWD []confLine
			hasWD := pgpool.Spelling("use_watchdog", v) != ""
			if hasWD {
				plainWD = confLines(t, mustLoad(t, bindSpec{series: v, mode: m, watchdog: true}))
			}
			for i := range schema.Bindings {
				b := &schema.Bindings[i]
				kc, ok := keyCases[b.Key]
				if !ok || watchdogHostKey(b) {
					continue
				}
				wd := b.When != nil || kc.section == "watchdog"
				if wd && !hasWD {
					continue // 3.1: a second pgpool host is refused (golden/errors/watchdog-pgpool-31)
				}
				s := bindSpec{series: v, mode: m, section: map[string]string{kc.section: kc.line}, watchdog: wd}
				if kc.section == "host" {
					s = bindSpec{series: v, mode: m, host: kc.line, watchdog: wd}
				}
				if wd {
					plain = plainWD
				}
				if conf, ok := keyCasePer[b.Key][b.Record]; ok {
					kc.conf = conf
				}
				if wd && b.Spelling(v) == "" && spelledByAnother(b, v) {
					continue // wd_port before 4.2, wd_portN from 4.2
				}
				if wd && strings.HasPrefix(b.Record, "wd_lifecheck_") && b.Key != "watchdog.lifecheck" {
					s.section["watchdog"] += "\n" + `lifecheck = "query"` // what they are for
				}
				name := pgpool.Spelling(b.Record, v)
				if b.Indexed() {
					name = strings.TrimSuffix(name, "N") + "0"
				}
				c, err := s.load()
				if err != nil {
					table, leaf, _ := strings.Cut(b.Key, ".")
					if !strings.Contains(err.Error(), "."+leaf+":") && !strings.Contains(err.Error(), " "+table+":") {
						t.Errorf("pgpool-II %s %s: %s refused with an error that does not name it: %v", v, m, b.Key, err)
					}
					for _, l := range plain {
						for _, sp := range pgpool.Spellings(b.Record) {
							if l.name == sp || b.Indexed() && l.name == strings.TrimSuffix(sp, "N")+"0" {
								t.Errorf("pgpool-II %s %s: %s is refused, yet pgpool.conf sets %s = %s", v, m, b.Key, l.name, l.value)
							}
						}
					}
					continue
				}
				found := false
				for _, l := range confLines(t, c) {
					if l.name == name && l.value == kc.conf {
						found = true
					}
				}
				switch {
				case name == "":
					t.Errorf("pgpool-II %s %s: spec key %s is accepted, but the series has no %s to write it to", v, m, b.Key, b.Record)
				case !found:
					t.Errorf("pgpool-II %s %s: spec key %s is accepted, but pgpool.conf has no %s = %s", v, m, b.Key, name, kc.conf)
				}
			}
		}
	}
}

// TestModeSwitches checks how each series is told the mode (docs/spec.md, [cluster]).
func TestModeSwitches(t *testing.T) {
	for _, v := range pgpool.Series {
		for _, m := range generatedModes(v) {
			var want []string
			switch {
			case !v.Less(pgpool.MustVersion("4.2")):
				want = []string{"backend_clustering_mode = '" + m.String() + "'"}
			case m == schema.Streaming:
				want = []string{"master_slave_mode = on", "master_slave_sub_mode = 'stream'", "replication_mode = off"}
			case m == schema.Logical:
				want = []string{"master_slave_mode = on", "master_slave_sub_mode = 'logical'", "replication_mode = off"}
			case m == schema.Slony:
				want = []string{"master_slave_mode = on", "master_slave_sub_mode = 'slony'", "replication_mode = off"}
			case m == schema.Raw: // raw mode is both switches off
				want = []string{"master_slave_mode = off", "replication_mode = off"}
			default:
				want = []string{"master_slave_mode = off", "replication_mode = on"}
			}
			var got []string
			for _, l := range confLines(t, mustLoad(t, bindSpec{series: v, mode: m})) {
				switch l.name {
				case "backend_clustering_mode", "master_slave_mode", "master_slave_sub_mode", "replication_mode":
					got = append(got, l.name+" = "+l.value)
				}
			}
			sort.Strings(got) // the order is the sample's, tested by the golden bundles
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("pgpool-II %s %s: mode written as\n%s\nwant\n%s", v, m, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// TestParametersCannotRepeat checks that [parameters] may set no parameter pgpool.conf already
// sets, under any name the series accepts for it (logdir beside work_dir in 4.7): pgpool-II
// would take whichever line comes last.
func TestParametersCannotRepeat(t *testing.T) {
	for _, v := range pgpool.Series {
		for _, m := range generatedModes(v) {
			for _, l := range confLines(t, mustLoad(t, bindSpec{series: v, mode: m})) {
				names := []string{l.name}
				if p := pgpool.Lookup(l.name); p != nil && !p.Indexed {
					for _, sp := range pgpool.Spellings(pgpool.Record(l.name)) {
						if _, err := pgpool.Check(sp, v); err == nil && sp != l.name {
							names = append(names, sp)
						}
					}
				}
				for _, name := range names {
					s := bindSpec{series: v, mode: m, section: map[string]string{"parameters": name + ` = "x"`}}
					_, err := s.load()
					// Refused as set by pgpoolgen or as a secret, not merely for its value.
					refused := err != nil && strings.Contains(err.Error(), "parameters."+name+": ") &&
						(strings.Contains(err.Error(), "pgpoolgen sets "+name+" ") || strings.Contains(err.Error(), name+" cannot be set here") ||
							strings.Contains(err.Error(), name+" is a password"))
					if !refused {
						t.Errorf("pgpool-II %s %s: [parameters] %s is not refused, though pgpool.conf sets %s = %s (error: %v)", v, m, name, l.name, l.value, err)
					}
				}
			}
		}
	}
}
