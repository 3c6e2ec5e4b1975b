//go:build versions

package versions

import (
	"fmt"
	"strings"
	"testing"
)

// TestCompare pins the display rules: each accepts what the series prints for the value
// written, and nothing near it.
func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		ser, name, written, shown string
		want                      verdict
	}{
		{"4.3", "port", "9999", "9999", same},
		{"4.3", "port", "9999", "9998", differ},
		{"4.3", "health_check_user", "Pgpool", "pgpool", differ}, // role names keep their case
		{"3.1", "load_balance_mode", "on", "1", same},
		{"3.1", "load_balance_mode", "on", "0", differ},
		{"4.3", "load_balance_mode", "off", "off", same},
		{"4.3", "num_init_children", "0", "off", differ}, // a number is not a boolean
		{"3.4", "log_min_messages", "notice", "18", same},
		{"3.4", "log_min_messages", "notice", "19", differ},
		{"3.5", "master_slave_sub_mode", "stream", "stream", same},
		{"3.6", "master_slave_sub_mode", "stream", "2", same},
		{"3.5", "master_slave_sub_mode", "stream", "2", differ}, // 3.5 prints the word
		{"3.7", "log_min_messages", "notice", "18", differ},     // 3.7 prints the word
		{"4.7", "recovery_timeout", "300", "5min", same},
		{"4.7", "recovery_timeout", "301", "5min", differ},
		{"4.7", "sr_check_period", "6", "6s", same},
		{"4.7", "connect_timeout", "4500", "4500ms", same},
		{"4.7", "connect_timeout", "4", "4s", differ}, // milliseconds, not seconds
		{"4.3", "health_check_password", "", "*****", masked},
		{"4.3", "health_check_user", "x", "*****", differ}, // only secrets are masked
		{"4.3", "backend_weight0", "1", "1.000000", same},
	} {
		if got, rule := compare(tc.ser, tc.name, tc.written, tc.shown); got != tc.want {
			t.Errorf("compare(%s, %s, written %q, shown %q) = %v (%s), want %v", tc.ser, tc.name, tc.written, tc.shown, got, rule, tc.want)
		}
	}
}

func TestCompareWeight(t *testing.T) {
	for _, tc := range []struct {
		ser, written, shown string
		share               float64
		want                bool
	}{
		{"3.6", "1", "0.166667", 1.0 / 6, true},
		{"3.6", "1", "1", 1.0 / 6, false},
		{"3.7", "0.5", "0", 0.5 / 6, true},
		{"3.7", "2", "0", 2.0 / 6, false},
	} {
		if got, _ := compareWeight(tc.ser, tc.written, tc.shown, tc.share); got != tc.want {
			t.Errorf("compareWeight(%s, %q, %q, %f) = %v, want %v", tc.ser, tc.written, tc.shown, tc.share, got, tc.want)
		}
	}
}

// TestParseConf reads pgpool's syntax as pgpool-II does: a value is what stands between the
// quotes, backslashes kept, and a doubled quote is no escape; what pgpool would stop at or read
// otherwise is reported, naming the line.
func TestParseConf(t *testing.T) {
	src := `# comment
port = 9999
listen_addresses '*'   # no equals sign
log_line_prefix = 'it''s %m: '
pcp_socket_dir='/tmp' # comment
backend_hostname10 = 'h'
stray words here
unterminated = 'abc
failover_command = 'a\'b %d'
`
	settings, bad := parseConf(src, "4.3")
	var got []string
	for _, s := range settings {
		got = append(got, fmt.Sprintf("%d:%s=%s@%s", s.no, s.name, s.value, record(s.name)))
	}
	want := `2:port=9999@port 3:listen_addresses=*@listen_addresses 5:pcp_socket_dir=/tmp@pcp_socket_dir ` +
		`6:backend_hostname10=h@backend_hostnameN 7:stray=words@stray 7:here=@here 9:failover_command=a\'b %d@failover_command`
	if strings.Join(got, " ") != want {
		t.Errorf("settings:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if s := settings[2]; s.raw != "pcp_socket_dir='/tmp' # comment" {
		t.Errorf("line 5 kept as %q", s.raw)
	}
	if len(bad) != 4 || !strings.HasPrefix(bad[0], "pgpool.conf:4:19: log_line_prefix: error: '' inside quotes") ||
		!strings.HasPrefix(bad[1], "pgpool.conf:7:13: stray: error: a second word") ||
		!strings.HasPrefix(bad[2], "pgpool.conf:7:13: here: error: no value") || !strings.HasPrefix(bad[3], "pgpool.conf:8:") {
		t.Errorf("unreadable lines: %q, want lines 4, 7 (twice) and 8", bad)
	}
}

// TestRewrite checks that only the settings of moves change, and that a spelling the series
// does not read stops the case before pgpool starts.
func TestRewrite(t *testing.T) {
	sample := map[string]bool{"listen_addresses": true, "port": true, "unix_socket_directories": true, "pcp_listen_addresses": true,
		"pcp_port": true, "pcp_socket_dir": true, "pid_file_name": true, "logdir": true, "backend_hostnameN": true, "backend_portN": true}
	settings, _ := parseConf("listen_addresses = '*'\nport = 9999\nsocket_dir = '/tmp'\npcp_listen_addresses = 'localhost'\npcp_port = 9898\n"+
		"pcp_socket_dir = '/tmp'\npid_file_name = '/run/p.pid'\nlogdir = '/var/log'\nbackend_hostname0 = 'db'\nbackend_port0 = 5432\nnum_init_children = 4\n", "4.4")
	p := &placement{dir: "/w", addr: "127.0.50.9", port: 20000, pcpPort: 20001, pgSocket: "/pg", pgPort: 5433}
	out, log, problems := rewrite(settings, sample, p, "4.4.17")
	if len(problems) != 2 || !strings.Contains(problems[0], "sets socket_dir") || !strings.Contains(problems[1], "does not set unix_socket_directories") {
		t.Errorf("problems: %q", problems)
	}
	if len(log) != 10 {
		t.Errorf("%d lines rewritten, want 10: %q", len(log), log)
	}
	if last := out[len(out)-1]; last.name != "num_init_children" || last.value != "4" || last.raw != "num_init_children = 4" {
		t.Errorf("a setting the test does not move changed: %+v", last)
	}
	if out[8].value != "/pg" || out[9].raw != "backend_port0 = 5433" {
		t.Errorf("backend 0 not moved onto the test's PostgreSQL: %+v %+v", out[8], out[9])
	}
}

// TestRewriteWatchdog checks that a watchdog pgpool.conf's own node lands on the placement and
// every other node on the namespace's unused addresses and ports, element by element in a
// heartbeat list, that the commands a leader runs go to the stand-ins while the virtual IP's
// command lines stay as written, and that a missing wd_ipc_socket_dir stops the case.
func TestRewriteWatchdog(t *testing.T) {
	p := &placement{dir: "/w", addr: "127.0.50.9", port: 20000, pcpPort: 20001, wdPort: 30000, hbPort: 30001, nodeID: 1}
	sample := map[string]bool{"hostnameN": true, "wd_portN": true, "pgpool_portN": true, "heartbeat_hostnameN": true, "heartbeat_portN": true,
		"heartbeat_deviceN": true, "wd_ipc_socket_dir": true, "wd_escalation_command": true, "wd_de_escalation_command": true, "if_cmd_path": true,
		"arping_path": true, "if_up_cmd": true, "delegate_IP": true, "use_watchdog": true}
	src := "use_watchdog = on\nhostname0 = 'a'\nwd_port0 = 9000\npgpool_port0 = 9999\nheartbeat_hostname0 = 'a;b'\nheartbeat_port0 = 9694\n" +
		"hostname1 = 'c'\nwd_port1 = 9000\npgpool_port1 = 9999\nheartbeat_hostname1 = 'c;d;e'\nheartbeat_port1 = 9694\nheartbeat_device1 = ''\n" +
		"wd_ipc_socket_dir = '/run'\nwd_escalation_command = '/etc/pgpool2/escalation.sh'\nwd_de_escalation_command = ''\n" +
		"if_cmd_path = '/usr/bin'\narping_path = '/usr/bin'\nif_up_cmd = 'sudo -n /usr/bin/ip addr add 192.0.2.100/24 dev eth0'\ndelegate_IP = '192.0.2.100'\n"
	settings, bad := parseConf(src, "4.3")
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	out, _, problems := rewrite(settings, sample, p, "4.3.20")
	if len(problems) > 0 {
		t.Errorf("problems: %q", problems)
	}
	var got []string
	for _, s := range out {
		got = append(got, s.name+"="+s.value)
	}
	want := "use_watchdog=on hostname0=127.2.0.1 wd_port0=40001 pgpool_port0=40000 heartbeat_hostname0=127.3.0.1;127.3.0.2 heartbeat_port0=40002 " +
		"hostname1=127.0.50.9 wd_port1=30000 pgpool_port1=20000 heartbeat_hostname1=127.0.50.9;127.3.1.2;127.3.1.3 heartbeat_port1=30001 heartbeat_device1= " +
		"wd_ipc_socket_dir=/w wd_escalation_command=/w/escalation.sh wd_de_escalation_command= if_cmd_path=/w/bin arping_path=/w/bin " +
		"if_up_cmd=sudo -n /usr/bin/ip addr add 192.0.2.100/24 dev eth0 delegate_IP=192.0.2.100"
	if strings.Join(got, " ") != want {
		t.Errorf("rewritten:\n got %s\nwant %s", strings.Join(got, " "), want)
	}

	// Before 4.2: this node by wd_*, the others numbered apart; other_wd_portN is reported
	// under another name before 3.7.
	old := "use_watchdog = on\nwd_hostname = 'a'\nwd_port = 9000\nwd_heartbeat_port = 9694\nother_pgpool_hostname0 = 'b'\nother_pgpool_port0 = 9999\n" +
		"other_wd_port0 = 9000\nheartbeat_destination0 = 'b'\nheartbeat_destination_port0 = 9694\nheartbeat_destination1 = 'c'\n"
	settings, _ = parseConf(old, "3.6")
	sample = map[string]bool{"wd_hostname": true, "wd_port": true, "wd_heartbeat_port": true, "other_pgpool_hostnameN": true, "other_pgpool_portN": true,
		"other_wd_portN": true, "heartbeat_destinationN": true, "heartbeat_destination_portN": true, "wd_ipc_socket_dir": true}
	p.nodeID = -1
	out, _, problems = rewrite(settings, sample, p, "3.6.28")
	got = nil
	for _, s := range out {
		got = append(got, s.name+"="+s.value)
	}
	want = "use_watchdog=on wd_hostname=127.0.50.9 wd_port=30000 wd_heartbeat_port=30001 other_pgpool_hostname0=127.2.0.1 other_pgpool_port0=40000 " +
		"other_wd_port0=40001 heartbeat_destination0=127.3.0.1 heartbeat_destination_port0=40002 heartbeat_destination1=127.3.1.1"
	if strings.Join(got, " ") != want {
		t.Errorf("rewritten:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "does not set wd_ipc_socket_dir") {
		t.Errorf("a watchdog pgpool.conf without wd_ipc_socket_dir: problems %q", problems)
	}
	if n := shownName("3.6", "other_wd_port0"); n != "other_pgpool_wd_port0" {
		t.Errorf("3.6 reports other_wd_port0 as %s", n)
	}
	if n := shownName("3.7", "other_wd_port0"); n != "other_wd_port0" {
		t.Errorf("3.7 reports other_wd_port0 as %s", n)
	}
	// The same pgpool.conf with the watchdog off needs no wd_ipc_socket_dir.
	settings, _ = parseConf(strings.Replace(old, "use_watchdog = on", "use_watchdog = off", 1), "3.6")
	if _, _, problems = rewrite(settings, sample, p, "3.6.28"); len(problems) != 0 {
		t.Errorf("watchdog off: problems %q", problems)
	}
	// A name of the other shape is refused before pgpool starts.
	settings, _ = parseConf("use_watchdog = on\nwd_ipc_socket_dir = '/run'\nhostname0 = 'a'\n", "3.6")
	if _, _, problems = rewrite(settings, sample, p, "3.6.28"); len(problems) != 1 || !strings.Contains(problems[0], "sets hostnameN") {
		t.Errorf("hostname0 on 3.6: problems %q", problems)
	}
}

// TestSudoArgs pins how the stand-in's record of a command line is predicted.
func TestSudoArgs(t *testing.T) {
	if got := sudoArgs("sudo -n /usr/bin/ip addr add 192.0.2.100/24 dev eth0"); got != "[-n][/usr/bin/ip][addr][add][192.0.2.100/24][dev][eth0]" {
		t.Errorf("sudoArgs = %q", got)
	}
	if got := sudoArgs("/usr/bin/sudo -n ip"); got != "" {
		t.Errorf("a command not starting with the word sudo: %q", got)
	}
}

// TestLoneQuorum pins when one watchdog node alone may escalate, as the builds showed: at once
// before 3.5; from 3.5 never of three; of two before 4.1, and from 4.1 with half votes.
func TestLoneQuorum(t *testing.T) {
	for _, tc := range []struct {
		ser  string
		n    int
		half bool
		want bool
	}{
		{"3.4", 3, false, true}, {"3.5", 3, false, false}, {"4.7", 3, true, false},
		{"4.0", 2, false, true}, {"4.1", 2, false, false}, {"4.1", 2, true, true}, {"4.7", 4, true, false},
	} {
		if got := loneQuorum(tc.ser, tc.n, tc.half); got != tc.want {
			t.Errorf("loneQuorum(%s, %d, %v) = %v, want %v", tc.ser, tc.n, tc.half, got, tc.want)
		}
	}
}
