package conf

import (
	"fmt"
	"strings"
	"testing"

	"pgpoolgen/schema/pgpool"
)

var (
	v43 = pgpool.MustVersion("4.3")
)

// tokens lexes src as pool_config.l does and writes each token as kind:text.
func tokens(src string, units bool) string {
	l := &lexer{src: []byte(src), line: 1, col: 1, units: units}
	var out []string
	for {
		t := l.next()
		if t.kind == KindEOF {
			return strings.Join(out, " ")
		}
		out = append(out, fmt.Sprintf("%d:%q", t.kind, t.text))
	}
}

// The lexer follows flex: longest match, then the rule written first.
func TestLexer(t *testing.T) {
	k := func(kind Kind, text string) string { return fmt.Sprintf("%d:%q", kind, text) }
	for _, tc := range []struct {
		src   string
		units bool
		want  []string
	}{
		// "on" is as long as a name and a bare word: KEY comes first in the rules.
		{"a = on", false, []string{k(KindKey, "a"), k(KindEquals, "="), k(KindKey, "on")}},
		{"a = stream-1", false, []string{k(KindKey, "a"), k(KindEquals, "="), k(KindBare, "stream-1")}},
		{"a /tmp", false, []string{k(KindKey, "a"), k(KindError, "/"), k(KindKey, "tmp")}},
		// The quoted text is taken as it is: \' does not end the string when a later quote can.
		{`a 'it\'s'`, false, []string{k(KindKey, "a"), k(KindString, `'it\'s'`)}},
		{"a 'c:\\' # x\n", false, []string{k(KindKey, "a"), k(KindString, `'c:\'`), k(KindEOL, "\n")}},
		{`a 'x''y'`, false, []string{k(KindKey, "a"), k(KindString, `'x'`), k(KindString, `'y'`)}},
		{"a 'open\n", false, []string{k(KindKey, "a"), k(KindError, "'"), k(KindKey, "open"), k(KindEOL, "\n")}},
		// Units are part of the number from 4.2 only.
		{"a 30s", false, []string{k(KindKey, "a"), k(KindInteger, "30"), k(KindKey, "s")}},
		{"a 30s", true, []string{k(KindKey, "a"), k(KindInteger, "30s")}},
		{"a 0x1f", false, []string{k(KindKey, "a"), k(KindInteger, "0x1f")}},
		{"a -1.5e3 .", false, []string{k(KindKey, "a"), k(KindReal, "-1.5e3"), k(KindReal, ".")}},
		// A comment needs the line feed after it (flex's $ is trailing context).
		{"a 1 # c\n", false, []string{k(KindKey, "a"), k(KindInteger, "1"), k(KindEOL, "\n")}},
		{"a 1 # c", false, []string{k(KindKey, "a"), k(KindInteger, "1"), k(KindError, "#"), k(KindKey, "c")}},
		{"é = 1", false, []string{k(KindKey, "é"), k(KindEquals, "="), k(KindInteger, "1")}},
	} {
		if got, want := tokens(tc.src, tc.units), strings.Join(tc.want, " "); got != want {
			t.Errorf("%q (units %v):\n got %s\nwant %s", tc.src, tc.units, got, want)
		}
	}
}

func lint(src string, v pgpool.Version) []string {
	var out []string
	for _, d := range Lint("p.conf", []byte(src), Options{Version: v}).Diagnostics {
		out = append(out, d.String())
	}
	return out
}

func TestParse(t *testing.T) {
	r := Lint("p.conf", []byte("# c\nport = 9999\n  pcp_port 9898 # c\nlisten_addresses='*'\nnum_init_children = 3\n"), Options{Version: v43})
	if len(r.Diagnostics) != 0 {
		t.Fatalf("diagnostics: %v", r.Diagnostics)
	}
	var got []string
	for _, s := range r.Settings {
		got = append(got, fmt.Sprintf("%d:%d %s=%s @%d:%d", s.NamePos.Line, s.NamePos.Col, s.Name, s.Value, s.ValuePos.Line, s.ValuePos.Col))
	}
	want := "2:1 port=9999 @2:8|3:3 pcp_port=9898 @3:12|4:1 listen_addresses=* @4:18|5:1 num_init_children=3 @5:21"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}

// Each finding names the place, the parameter and what is wrong; one case per rule.
func TestLintRules(t *testing.T) {
	for _, tc := range []struct {
		src  string
		v    string
		want string // a substring of the only finding, or "" for none
	}{
		{"port = 9999\n", "4.3", ""},
		{"port = '9999'\n", "4.3", ""},
		{"port = '9999'\n", "3.5", `p.conf:1:1: port: error: "9999" is not a bare integer`},
		{"pcp_timeout = 10\nhealth_check_user = 123\n", "3.4", `p.conf:2:1: health_check_user: error: "123" is a number: pgpool-II 3.4 takes a string only in quotes`},
		{"health_check_user = 123\n", "3.6", ""},
		{"backend_data_directory0 = 5\n", "3.5", ""},
		{"port = 80\n", "4.3", `"80" is out of range: pgpool-II 4.3 takes 1024 to 65535`},
		// The range is octal in params.tsv (0000..0777): 600 is decimal, over 0777 = 511.
		{"unix_socket_permissions = 0770\n", "4.4", ""},
		{"unix_socket_permissions = 511\n", "4.4", ""},
		{"unix_socket_permissions = 600\n", "4.4", `"600" is out of range: pgpool-II 4.4 takes 0 to 0777, a mode written in octal`},
		{"health_check_period = 1min\n", "4.3", ""},
		{"health_check_period = 1min\n", "4.1", "a unit after the number"},
		{"health_check_period = '10 parsecs'\n", "4.3", "has an unknown unit"},
		{"num_init_children = 32MB\n", "4.3", "takes no unit"},
		{"memqcache_total_size = 64MB\n", "4.3", ""},
		{"load_balance_mode = o\n", "4.3", `"o" is not a boolean`},
		{"load_balance_mode = of\n", "4.3", ""}, // parse_bool_with_len takes a prefix of off
		{"load_balance_mode = OFF\n", "4.3", ""},
		{"load_balance_mode = t\n", "4.3", ""},
		{"log_standby_delay = 'IF_OVER_THRESHOLD'\n", "4.3", ""},
		{"backend_clustering_mode = slony\n", "4.7", `"slony" is not one of pgpool-II 4.7's values`},
		{"backend_weight0 = 1.5\n", "4.3", ""},
		{"backend_weight0 = -1\n", "4.3", "out of range"},
		{"heartbeat_hostname255 = 'a'\n", "4.3", ""},
		{"heartbeat_hostname256 = 'a'\n", "4.3", "index 256 is out of range: pgpool-II takes 0 to 255"},
		{"backend_flag0 = 'ALLOW_TO_FAILOVER|ALWAYS_PRIMARY'\n", "4.3", ""},
		{"backend_flag0 = 'ALWAYS_MASTER'\n", "4.1", ""},
		{"backend_flag0 = 'ALWAYS_MASTER'\n", "3.6", `"ALWAYS_MASTER" is not a backend flag of pgpool-II 3.6: it takes ALLOW_TO_FAILOVER, DISALLOW_TO_FAILOVER`},
		{"backend_flag0 = 'ALWAYS_MASTER'\n", "4.2", "renamed ALWAYS_PRIMARY in 4.2"},
		{"backend_flag0 = 'ALLOW_TO_FAILOVER | ALWAYS_PRIMARY'\n", "4.3", `"ALLOW_TO_FAILOVER " is not a backend flag`},
		{"backend_flag0 = 'DISALLOW_TO_FAILOVER|ALLOW_TO_FAILOVER'\n", "4.3", "together: pgpool-II refuses to start"},
		{"num_init_chidlren = 3\n", "4.3", `did you mean "num_init_children"?`},
		{"follow_master_command = ''\n", "4.3", `renamed "follow_primary_command" in 4.2`},
		{"enable_query_cache = on\n", "3.4", "removed without a successor"},
		{"ssl_ca_cert_dir = '/x'\n", "3.4", "not accepted by pgpool-II 3.4"},
		{"logdir = '/var/log'\n", "4.7", `p.conf:1:1: logdir: warning: renamed "work_dir" in 4.7`},
		{"fail_over_on_backend_error = off\n", "4.1", "pgpool-II 4.1 reads it only to warn that it has no effect; write the new name"},
		{"delegate_IP = ''\n", "4.4", "pgpool-II 4.4 sets delegate_ip from it, with a WARNING"},
		{"print_user = on\n", "3.5", "p.conf:1:1: print_user: error: renamed \"log_line_prefix\" in 3.4: pgpool-II 3.5 ignores it with a NOTICE"},
		{"replication_mode = on\n", "4.3", "error: from 4.2 pgpool-II reads it but does not select a mode with it: write backend_clustering_mode = native_replication"},
		{"replication_mode = off\n", "4.3", "warning: from 4.2"},
		{"replication_mode = on\n", "4.1", ""},
		{"include = 'x.conf'\n", "4.2", "include directives came in pgpool-II 4.3"},
		{"health_check_password = 'secret'\n", "4.3", "a password in clear text"},
		{"health_check_password = ''\n", "4.3", ""},
		{"sr_check_password = 'md5a3556571e93b0d20722ba62be61e8c2d'\n", "4.3", ""},
		{"recovery_password = 'md5a3556571e93b0d20722ba62be61e8c2d'\n", "4.3", "refuses the md5 form"},
		{"recovery_password = 'md5a3556571e93b0d20722ba62be61e8c2d'\n", "4.1", ""},
		{"port 9999 = 1\n", "4.3", "'=' after the value"},
		{"9999\n", "4.3", "a line starts with a number"},
		{"failover_command = 'x'\nhealth_check_period = 0\nbackend_hostname0 = 'a'\n", "4.3", "p.conf:2:1: health_check_period: warning: health checking is off"},
		{"failover_command = 'x'\nbackend_hostname0 = 'a'\n", "4.3", "p.conf:1:1: failover_command: warning: health checking is off"},
		{"failover_command = 'x'\nhealth_check_period0 = 10\nhealth_check_user = 'u'\n", "4.3", ""},
		{"master_slave_mode = on\nmaster_slave_sub_mode = stream\nbackend_hostname0 = 'a'\nbackend_hostname1 = 'b'\nbackend_hostname2 = 'c'\n", "4.1",
			"p.conf:2:1: master_slave_sub_mode: warning: streaming replication with 3 backends and no follow_master_command"},
		{"master_slave_mode = on\nmaster_slave_sub_mode = stream\nbackend_hostname0 = 'a'\nbackend_hostname1 = 'b'\nbackend_hostname2 = 'c'\nfollow_master_command = 'f'\n", "4.1", ""},
		{"backend_clustering_mode = native_replication\nbackend_hostname0 = 'a'\nbackend_hostname1 = 'b'\nbackend_hostname2 = 'c'\n", "4.3", ""},
		{"health_check_period = 10\nbackend_hostname0 = 'a'\n", "4.6", "p.conf: health_check_user: warning: empty, the default from 4.6: health checks cannot log in"},
		{"health_check_period = 10\nbackend_hostname0 = 'a'\n", "4.5", ""},
		{"health_check_period = 10\nbackend_hostname0 = 'a'\nhealth_check_user = 'pgpool'\n", "4.6", ""},
	} {
		got := lint(tc.src, pgpool.MustVersion(tc.v))
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%q on %s: want nothing, got %q", tc.src, tc.v, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
			t.Errorf("%q on %s: want one finding with %q, got %q", tc.src, tc.v, tc.want, got)
		}
	}
}

// No finding repeats a password, whatever is wrong with it.
func TestLintKeepsSecrets(t *testing.T) {
	for _, src := range []string{
		"health_check_password = 'hunter2'\n",
		"health_check_password = hunter2 hunter3\n",
		"sr_check_password = 'hun''ter2'\n",
		"wd_lifecheck_password = 'hunter2\n",
		"recovery_password = /hunter2\n",
	} {
		for _, d := range lint(src, v43) {
			if strings.Contains(d, "hunter") {
				t.Errorf("%q: %s", src, d)
			}
		}
	}
	// CheckValue itself never quotes a value under a secret name, whatever the type.
	if msg := CheckValue(pgpool.Lookup("port"), Setting{Name: "x_password", Value: "hunter2"}, v43); msg == "" || strings.Contains(msg, "hunter") {
		t.Errorf("CheckValue: %q", msg)
	}
	for _, d := range LintPCP("pcp.conf", []byte("admin:hunter2\n")) {
		if strings.Contains(d.String(), "hunter") {
			t.Errorf("pcp.conf: %s", d)
		}
	}
}

func TestRelease(t *testing.T) {
	r := func(s string) *pgpool.Release {
		x, err := pgpool.ParseRelease(s)
		if err != nil {
			t.Fatal(err)
		}
		return &x
	}
	for _, tc := range []struct {
		src, release, want string
	}{
		{"notice_per_node_statement = on\n", "4.3.5", "pgpool-II 4.3.5 does not read it: it was added in 4.3.12"},
		{"notice_per_node_statement = on\n", "4.3.12", ""},
		{"notice_per_node_statement = on\n", "4.5.0", ""},
		{"health_check_test = off\n", "4.3.0", "added in 4.3.1"},
		{"pcp_socket_dir = '/tmp'\n", "3.5.3", "added in 3.5.4"},
		{"pcp_socket_dir = '/tmp'\n", "3.4.0", ""},
		{"ssl_ciphers = 'HIGH'\n", "4.0.3", "added in 4.0.4"},
		{"ssl_ca_cert_dir = '/x'\n", "3.4.22", ""},
		{"ssl_ca_cert_dir = '/x'\n", "3.4.23", "not accepted by pgpool-II 3.4"},
	} {
		rel := r(tc.release)
		ds := Lint("p.conf", []byte(tc.src), Options{Version: rel.Version, Release: rel}).Diagnostics
		switch {
		case tc.want == "" && len(ds) > 0:
			t.Errorf("%q on %s: want nothing, got %v", tc.src, tc.release, ds)
		case tc.want != "" && (len(ds) != 1 || !strings.Contains(ds[0].Msg, tc.want)):
			t.Errorf("%q on %s: want %q, got %v", tc.src, tc.release, tc.want, ds)
		}
	}
	for _, bad := range []string{"4.3", "4.3.x", "4.3.-1", "4..3", "4.3.5.1"} {
		if _, err := pgpool.ParseRelease(bad); err == nil {
			t.Errorf("ParseRelease(%q) accepted it", bad)
		}
	}
}

// An include is read where it stands, relative to its file, at most MaxIncludeDepth deep.
func TestInclude(t *testing.T) {
	files := map[string]string{
		"/etc/p.conf":      "port = 9999\ninclude = 'd/a.conf'\nport = 9997\n",
		"/etc/d/a.conf":    "port = 9998\ninclude '/etc/loop.conf'\n",
		"/etc/loop.conf":   "include 'loop.conf'\n",
		"/etc/d/other.txt": "",
	}
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("no %s", p)
	}
	r := Lint("/etc/p.conf", []byte(files["/etc/p.conf"]), Options{Version: v43, ReadFile: read})
	var order []string
	for _, s := range r.Settings {
		order = append(order, s.File+":"+s.Value)
	}
	if got := strings.Join(order, " "); got != "/etc/p.conf:9999 /etc/d/a.conf:9998 /etc/p.conf:9997" {
		t.Errorf("settings in order %s", got)
	}
	var depth int
	for _, d := range r.Diagnostics {
		if strings.Contains(d.Msg, "nest deeper than 10") {
			depth++
		}
	}
	if depth != 1 {
		t.Errorf("want one nesting error, got %v", r.Diagnostics)
	}
}

func TestBounds(t *testing.T) {
	big := strings.Repeat("#\n", MaxLines+1)
	if ds := lint(big, v43); len(ds) != 1 || !strings.Contains(ds[0], "lines; pgpoolgen lint reads at most") {
		t.Errorf("%d lines: %v", MaxLines+1, ds)
	}
	huge := strings.Repeat("x", MaxFileSize+1)
	if ds := lint(huge, v43); len(ds) != 1 || !strings.Contains(ds[0], "bytes; pgpoolgen lint reads at most") {
		t.Errorf("%d bytes: %v", MaxFileSize+1, ds)
	}
}

// What Format writes, every series reads back as the same name and value; what it cannot
// write so, it refuses.
func TestFormat(t *testing.T) {
	for _, val := range []string{"", "/tmp", "a b", `c:\x`, "%m: %a pid %p: ", "é", "#not a comment"} {
		line, err := Format("log_line_prefix", val)
		if err != nil {
			t.Errorf("Format(%q): %v", val, err)
			continue
		}
		for _, s := range pgpool.Series {
			r := Lint("p.conf", []byte(line+"\n"), Options{Version: s})
			if len(r.Settings) != 1 || r.Settings[0].Value != val || r.Settings[0].Name != "log_line_prefix" {
				t.Errorf("%s on %s read back as %+v", line, s, r.Settings)
			}
		}
	}
	for _, val := range []string{"it's", "a\nb", `ends\`, "cr\r"} {
		if _, err := Format("log_line_prefix", val); err == nil {
			t.Errorf("Format(%q) accepted it", val)
		}
	}
	if _, err := Format("bad-name", "x"); err == nil {
		t.Error("Format accepted a name with '-'")
	}
}

func TestLintPCPAndHBA(t *testing.T) {
	pcp := "# c\n\npgpool:e8a48653851e28c69d0506508fb27fc5\nx:e8a48653851e28c69d0506508fb27fc5\r\n  \n"
	var got []string
	for _, d := range LintPCP("pcp.conf", []byte(pcp)) {
		got = append(got, d.String())
	}
	want := []string{
		"pcp.conf:4:3: x: error: the line ends in a carriage return, which pgpool-II takes as part of the hash: save the file with Unix line ends",
		"pcp.conf:5:1: error: a line without ':' (only an empty line or one starting with '#' is skipped): pgpool-II's reader runs past it and pcp logins fail; write user:md5hash",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("pcp.conf:\n%s", strings.Join(got, "\n"))
	}
	hba := "local all all trust\nhost all all 0.0.0.0/0 scram-sha-256\nhost all all samehost ldap\n"
	if ds := LintHBA("h", []byte(hba), pgpool.MustVersion("4.2")); len(ds) != 0 {
		t.Errorf("4.2: %v", ds)
	}
	got = nil
	for _, d := range LintHBA("h", []byte(hba), pgpool.MustVersion("3.6")) {
		got = append(got, d.String())
	}
	want = []string{
		`h:2:24: host: error: "scram-sha-256" came in pgpool-II 4.0: pgpool-II 3.6 knows trust, reject, md5, pam`,
		`h:3:14: host: error: samehost came in pgpool-II 3.7; pgpool-II 3.6 wants an address/prefix`,
		`h:3:23: host: error: "ldap" came in pgpool-II 4.2: pgpool-II 3.6 knows trust, reject, md5, pam`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("3.6:\n%s", strings.Join(got, "\n"))
	}
}

func TestByteOrderMark(t *testing.T) {
	ds := lint("\xef\xbb\xbfport = 9999\n", v43)
	if len(ds) == 0 || !strings.Contains(ds[0], "p.conf:1:1: error: the file starts with a byte order mark") {
		t.Errorf("got %q", ds)
	}
	for _, d := range ds {
		if strings.ContainsRune(d, 0xfeff) {
			t.Errorf("the mark is printed as it is: %q", d)
		}
	}
}

// FuzzLint: any input, in any series, gives findings with places inside the file, in order,
// and the same findings twice.
func FuzzLint(f *testing.F) {
	for _, s := range []string{"port = 9999\n", "a 'b''c' d\n", "include 'x'\n", "x = 30s # c", "'\\'", "backend_flag0 = 'A|B'\n"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, src string, series int) {
		v := pgpool.Series[(series%len(pgpool.Series)+len(pgpool.Series))%len(pgpool.Series)]
		opt := Options{Version: v, ReadFile: func(string) ([]byte, error) { return []byte(src), nil }}
		a := Lint("p.conf", []byte(src), opt)
		b := Lint("p.conf", []byte(src), opt)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("two runs differ")
		}
		lines := strings.Count(src, "\n") + 1
		for i, d := range a.Diagnostics {
			if d.Pos.Line > lines || d.Pos.Line < 0 {
				t.Fatalf("%s: line outside a %d-line file", d, lines)
			}
			if i > 0 && d.File == a.Diagnostics[i-1].File && d.Pos.Line < a.Diagnostics[i-1].Pos.Line {
				t.Fatalf("out of order: %s after %s", d, a.Diagnostics[i-1])
			}
		}
	})
}

// BenchmarkLint reads a pgpool.conf of every parameter 4.7 knows, each after a comment.
func BenchmarkLint(b *testing.B) {
	var sb strings.Builder
	v47 := pgpool.MustVersion("4.7")
	for _, n := range pgpool.Names(v47) {
		if p := pgpool.Lookup(n); p.Indexed {
			n = strings.TrimSuffix(n, "N") + "0"
		}
		sb.WriteString("# " + n + "\n" + n + " = ''\n")
	}
	src := []byte(sb.String())
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Lint("p.conf", src, Options{Version: v47})
	}
}

// TestParseOneFile: one file's settings with their places, an include directive of 4.3+ among them
// where it stands (not followed), and a file over the bounds refused unread.
func TestParseOneFile(t *testing.T) {
	src := "port = 9999\ninclude 'more.conf'\nlog_line_prefix = 'a\\'b'\n"
	ss, ds := Parse("p.conf", []byte(src), v43)
	var got []string
	for _, s := range ss {
		got = append(got, fmt.Sprintf("%d:%d %s=%s", s.NamePos.Line, s.ValuePos.Col, s.Name, s.Value))
	}
	if want := `1:8 port=9999 2:9 include=more.conf 3:19 log_line_prefix=a\'b`; strings.Join(got, " ") != want || len(ds) != 0 {
		t.Errorf("got %s, %v\nwant %s", strings.Join(got, " "), ds, want)
	}
	ss, ds = Parse("big.conf", []byte(strings.Repeat("\n", MaxLines+1)), v43)
	if len(ss) != 0 || len(ds) != 1 || ds[0].Severity != Error || !strings.Contains(ds[0].Msg, "lines") {
		t.Errorf("a file over MaxLines: %v %v", ss, ds)
	}
}
