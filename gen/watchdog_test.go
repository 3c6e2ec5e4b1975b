package gen

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
)

// wdLines returns the watchdog section of the pgpool.conf of the named pgpool host: its
// settings, comments and blank lines dropped.
func wdLines(t *testing.T, c *schema.Cluster, host string) []string {
	t.Helper()
	for _, h := range c.Hosts {
		if h.Name != host {
			continue
		}
		var out []string
		in := false
		for _, line := range strings.Split(string(pgpoolConf(c, h)), "\n") {
			switch {
			case line == "# WATCHDOG":
				in = true
			case strings.HasPrefix(line, "# ") && !strings.HasPrefix(line, "# watchdog node") && !strings.HasPrefix(line, "# another") &&
				!strings.HasPrefix(line, "# the leader") && !strings.HasPrefix(line, "# no password") && !strings.HasPrefix(line, "# wd_authkey") && !strings.HasPrefix(line, "# secret"):
				in = false
			case in && line != "" && !strings.HasPrefix(line, "#"):
				out = append(out, line)
			}
		}
		return out
	}
	t.Fatalf("no host %s", host)
	return nil
}

// TestWatchdogShapes checks, line by line, the watchdog section of pgpool2's pgpool.conf in a
// cluster of three pgpool hosts (192.0.2.1-3) with a virtual IP, in each shape pgpool-II has
// had: the expectations are written out here, from pgpool-facts.md §6 and each series' sample,
// not derived from the bindings.
func TestWatchdogShapes(t *testing.T) {
	vip := []string{
		"if_up_cmd = 'sudo -n /sbin/ip addr add 192.0.2.100/24 dev eth0'",
		"if_down_cmd = 'sudo -n /sbin/ip addr del 192.0.2.100/24 dev eth0'",
		"arping_cmd = 'sudo -n /usr/sbin/arping -U 192.0.2.100 -w 1 -I eth0'",
	}
	old := []string{"wd_hostname = '192.0.2.2'", "wd_port = 9000",
		"other_pgpool_hostname0 = '192.0.2.1'", "other_pgpool_port0 = 9999", "other_wd_port0 = 9000",
		"other_pgpool_hostname1 = '192.0.2.3'", "other_pgpool_port1 = 9999", "other_wd_port1 = 9000"}
	oldHeartbeat := []string{"wd_lifecheck_method = 'heartbeat'", "wd_heartbeat_port = 9694",
		"heartbeat_destination0 = '192.0.2.1'", "heartbeat_destination_port0 = 9694", "heartbeat_device0 = ''",
		"heartbeat_destination1 = '192.0.2.3'", "heartbeat_destination_port1 = 9694", "heartbeat_device1 = ''"}
	var all []string
	for i, a := range []string{"1", "2", "3"} {
		n := string(rune('0' + i))
		all = append(all, "hostname"+n+" = '192.0.2."+a+"'", "wd_port"+n+" = 9000", "pgpool_port"+n+" = 9999",
			"heartbeat_hostname"+n+" = '192.0.2."+a+"'", "heartbeat_port"+n+" = 9694", "heartbeat_device"+n+" = ''")
	}
	quorum := []string{"failover_when_quorum_exists = on", "failover_require_consensus = on"}
	cases := []struct {
		series string
		want   [][]string
	}{
		// 3.2: no heartbeat, no wd_authkey, no escalation, ifconfig_path.
		{"3.2", [][]string{{"use_watchdog = on", "delegate_IP = '192.0.2.100'", "ifconfig_path = '/usr/bin'", "arping_path = '/usr/bin'"}, old, vip}},
		{"3.3", [][]string{{"use_watchdog = on", "delegate_IP = '192.0.2.100'", "ifconfig_path = '/usr/bin'", "arping_path = '/usr/bin'",
			"wd_escalation_command = '/srv/p/pgpool/etc/escalation.sh'"}, old, oldHeartbeat, vip}},
		// 3.5: if_cmd_path, wd_ipc_socket_dir.
		{"3.5", [][]string{{"use_watchdog = on", "delegate_IP = '192.0.2.100'", "if_cmd_path = '/usr/bin'", "arping_path = '/usr/bin'",
			"wd_escalation_command = '/srv/p/pgpool/etc/escalation.sh'", "wd_ipc_socket_dir = '/srv/p/sock'"}, old, oldHeartbeat, vip}},
		// 3.7: quorum and consensus; 4.1: half votes.
		{"3.7", [][]string{{"use_watchdog = on", "delegate_IP = '192.0.2.100'", "if_cmd_path = '/usr/bin'", "arping_path = '/usr/bin'",
			"wd_escalation_command = '/srv/p/pgpool/etc/escalation.sh'", "wd_ipc_socket_dir = '/srv/p/sock'"}, old, oldHeartbeat, vip, quorum}},
		{"4.1", [][]string{{"use_watchdog = on", "delegate_IP = '192.0.2.100'", "if_cmd_path = '/usr/bin'", "arping_path = '/usr/bin'",
			"wd_escalation_command = '/srv/p/pgpool/etc/escalation.sh'", "wd_ipc_socket_dir = '/srv/p/sock'", "enable_consensus_with_half_votes = off"}, old, oldHeartbeat, vip, quorum}},
		// 4.2: one list of all nodes.
		{"4.2", [][]string{{"use_watchdog = on", "delegate_IP = '192.0.2.100'", "if_cmd_path = '/usr/bin'", "arping_path = '/usr/bin'",
			"wd_escalation_command = '/srv/p/pgpool/etc/escalation.sh'", "wd_ipc_socket_dir = '/srv/p/sock'", "enable_consensus_with_half_votes = off",
			"wd_lifecheck_method = 'heartbeat'"}, all, vip, quorum}},
		// 4.4: delegate_ip.
		{"4.7", [][]string{{"use_watchdog = on", "delegate_ip = '192.0.2.100'", "if_cmd_path = '/usr/bin'", "arping_path = '/usr/bin'",
			"wd_escalation_command = '/srv/p/pgpool/etc/escalation.sh'", "wd_ipc_socket_dir = '/srv/p/sock'", "enable_consensus_with_half_votes = off",
			"wd_lifecheck_method = 'heartbeat'"}, all, vip, quorum}},
	}
	for _, tc := range cases {
		v := pgpool.MustVersion(tc.series)
		s := bindSpec{series: v, mode: schema.Streaming, watchdog: true, section: map[string]string{"layout": `pgpool_config_dir = "/srv/p/pgpool/etc"` + "\n" + `pgpool_socket_dir = "/srv/p/sock"`}}
		c := mustLoad(t, s)
		got := wdLines(t, c, "pgpool2")
		var want []string
		for _, w := range tc.want {
			want = append(want, w...)
		}
		slices.Sort(got)
		slices.Sort(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("pgpool-II %s: pgpool2's watchdog settings:\n%s\nwant:\n%s", tc.series, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		ids := map[string]string{}
		for _, f := range Generate(c).Files {
			if strings.HasSuffix(f.Dest, "/"+schema.NodeIDFile) {
				ids[f.Host] = string(f.Data)
			}
		}
		wantIDs := map[string]string{"pgpool1": "0\n", "pgpool2": "1\n", "pgpool3": "2\n"}
		if !v.AtLeast(pgpool.V42) {
			wantIDs = map[string]string{} // before 4.2 each pgpool.conf names its own node
		}
		if len(ids) != len(wantIDs) || ids["pgpool1"] != wantIDs["pgpool1"] || ids["pgpool2"] != wantIDs["pgpool2"] || ids["pgpool3"] != wantIDs["pgpool3"] {
			t.Errorf("pgpool-II %s: pgpool_node_id files %q, want %q", tc.series, ids, wantIDs)
		}
	}
}

// TestEscalationTakesDownWhatSudoAllows reads each escalation.sh of the golden watchdog cases
// and checks that the command it runs on each other pgpool host, with the script's own
// values, is word for word one that host's sudoers rule allows, and that it asks every other
// pgpool host and no other host.
func TestEscalationTakesDownWhatSudoAllows(t *testing.T) {
	assign := regexp.MustCompile(`(?m)^readonly (SUDO|IP_COMMAND|VIP)='([^']*)'`)
	peer := regexp.MustCompile(`(?m)^PEER_NAME\[(\d+)\]='([^']*)' PEER_HOST\[\d+\]='([^']*)' PEER_IF\[\d+\]='([^']*)'$`)
	call := `"$SUDO" -n "$IP_COMMAND" addr del "$VIP" dev "$1"`
	n := 0
	for name, c := range goldenSpecs(t) {
		if !c.Escalates() {
			continue
		}
		hosts := map[string]*schema.Host{}
		for _, h := range c.Hosts {
			hosts[h.Name] = h
		}
		for _, f := range haFiles(c) {
			if !strings.HasSuffix(f.Dest, "/"+schema.EscalationScript) {
				continue
			}
			n++
			src := string(f.Data)
			if strings.Count(src, call) != 1 {
				t.Errorf("%s %s: want the one call %s", name, f.Host, call)
			}
			vars := map[string]string{}
			for _, m := range assign.FindAllStringSubmatch(src, -1) {
				vars[m[1]] = m[2]
			}
			var asked []string
			for _, m := range peer.FindAllStringSubmatch(src, -1) {
				h := hosts[m[2]]
				if h == nil || !h.Pgpool || h.Name == f.Host || h.Address != m[3] {
					t.Errorf("%s %s: escalation.sh asks %s at %s, not another pgpool host of the cluster", name, f.Host, m[2], m[3])
					continue
				}
				asked = append(asked, h.Name)
				line := strings.Join([]string{vars["IP_COMMAND"], "addr", "del", vars["VIP"], "dev", m[4]}, " ")
				var allowed []string
				for _, words := range sudoCommands(c, h) {
					allowed = append(allowed, strings.Join(words, " "))
				}
				if vars["SUDO"] != c.Layout.SudoCommand || !slices.Contains(allowed, line) {
					t.Errorf("%s %s: on %s it runs %s %s, which its sudoers rule %q does not allow", name, f.Host, h.Name, vars["SUDO"], line, allowed)
				}
			}
			var want []string
			for _, h := range c.Watchdog.Nodes {
				if h.Name != f.Host {
					want = append(want, h.Name)
				}
			}
			if strings.Join(asked, " ") != strings.Join(want, " ") {
				t.Errorf("%s %s: escalation.sh asks %v, want every other pgpool host %v", name, f.Host, asked, want)
			}
		}
	}
	if n < 9 {
		t.Errorf("checked %d escalation scripts, want the 9 of the three golden watchdog cases with escalation", n)
	}
}
