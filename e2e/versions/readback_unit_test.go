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
