package schema

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// baseSpec is a valid spec whose keys sit in ../golden/errors/keys; each test adds to it or
// replaces a line of it.
const baseSpec = `[cluster]
name = "main"
mode = "streaming_replication"
pgpool_version = "4.4"
postgresql_version = "15"

[layout]
preset = "debian"

[pgpool]
listen_addresses = "*"

[[host]]
name = "pgpool"
address = "192.168.0.20"
roles = ["pgpool"]
ssh_key_file = "keys/pgpool.pub"

[[host]]
name = "node0"
address = "192.168.0.10"
roles = ["primary"]
ssh_key_file = "keys/node0.pub"

[[host]]
name = "node1"
address = "192.168.0.11"
roles = ["standby"]
ssh_key_file = "keys/node1.pub"

[[pcp_user]]
name = "pgpool"
md5 = "5ebe2294ecd0e0f08eab7690d2a6ee69"

[[hba]]
address = "192.168.0.0/24"
method = "md5"
`

var testEnv = Env{LookupEnv: func(string) (string, bool) { return "", false }, ReadFile: os.ReadFile}

// load loads src as if it were the file name in ../golden/errors, and returns its errors, one
// per line ("" when it is valid).
func load(t *testing.T, name, src string) string {
	t.Helper()
	_, err := Load(filepath.Join("..", "golden", "errors", name), []byte(src), testEnv)
	if err == nil {
		return ""
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Load returned %T, want an ErrorList: %v", err, err)
	}
	return list.Error()
}

func mustLoad(t *testing.T, name, src string) *Cluster {
	t.Helper()
	c, err := Load(filepath.Join("..", "golden", "errors", name), []byte(src), testEnv)
	if err != nil {
		t.Fatalf("%s does not load:\n%v", name, err)
	}
	return c
}

// replace swaps one line of baseSpec.
func replace(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(baseSpec, old) {
		t.Fatalf("baseSpec has no %q", old)
	}
	return strings.Replace(baseSpec, old, new, 1)
}

func TestBaseSpecLoads(t *testing.T) { mustLoad(t, "base.toml", baseSpec) }

// The spec's file name is written into the header comment of nearly every generated file, so a
// name that could end that comment or hide text is refused before anything is rendered.
func TestSpecNameRefused(t *testing.T) {
	for _, name := range []string{
		"a\nssh-ed25519 AAAA evil.toml",
		"a\rb.toml",
		"tab\there.toml",
		"nul\x00.toml",
		"del\x7f.toml",
		"c1\u0085next-line.toml",
		"c1\u009b31m.toml",
		"rlo\u202egnp.toml",
		"lri\u2066x\u2069.toml",
		"lrm\u200e.toml",
		"rlm\u200f.toml",
		"alm\u061c.toml",
		"ls\u2028.toml",
		"ps\u2029.toml",
		"bom\ufeff.toml",
		"bad-utf8-\xff.toml",
		strings.Repeat("n", 252) + ".toml",
	} {
		got := load(t, name, baseSpec)
		if !strings.Contains(got, "the spec's file name") {
			t.Errorf("spec name %q: got %q, want the file name refused", name, got)
		}
		if strings.ContainsAny(got, "\r\t\x00\x7f\u0085\u009b\u202e\u2066\u2069\u200e\u200f\u061c\u2028\u2029\ufeff") ||
			strings.Contains(got, "\xff") || strings.Contains(got, "\nssh-ed25519") {
			t.Errorf("spec name %q: the error repeats what it refuses: %q", name, got)
		}
	}
}

func TestSpecNameKeptExactly(t *testing.T) {
	for _, name := range []string{"cluster.toml", "prod cluster (v2) $HOME `x` 'q' \"d\" ü 日本.toml", strings.Repeat("n", 250) + ".toml"} {
		c := mustLoad(t, name, baseSpec)
		if c.SpecName != name {
			t.Errorf("SpecName = %q, want %q", c.SpecName, name)
		}
	}
}

// Every string that reaches pgpool.conf in quotes goes through the same filter as the spec's
// file name, beyond what pgpool.conf's own syntax refuses.
func TestParameterValueRefusesHiddenText(t *testing.T) {
	for _, v := range []string{"a\u0085b", "a\u009bb", "a\u202eb", "a\u2066b", "a\u200fb", "a\u061cb", "a\u2028b", "a\u2029b", "a\ufeffb", "a\nb", "a\\", "a\tb"} {
		src := baseSpec + fmt.Sprintf("\n[parameters]\nlog_line_prefix = %q\n", v)
		got := load(t, "param.toml", src)
		if !strings.Contains(got, "parameters.log_line_prefix") {
			t.Errorf("log_line_prefix = %q: got %q, want it refused", v, got)
		}
	}
	for _, v := range []string{"a\u2028b", "a\u0085b"} {
		src := baseSpec + fmt.Sprintf("\n[parameters]\nreset_query_list = [\"ABORT\", %q]\n", v)
		if got := load(t, "param.toml", src); !strings.Contains(got, "parameters.reset_query_list") {
			t.Errorf("reset_query_list item %q: got %q, want it refused", v, got)
		}
	}
}

// What is checked is what is written: nothing is trimmed before a check.
func TestListenAddressesExact(t *testing.T) {
	for _, key := range []string{"listen_addresses", "pcp_listen_addresses"} {
		for _, v := range []string{" *", "* ", "*\n", "\n*", "192.168.0.20\n", "localhost, 127.0.0.1", "127.0.0.1,\tlocalhost", "localhost\u00a0", "fe80::1%eth0", "fe80::1%a'\nfailback_command = 'touch /tmp/x"} {
			src := replace(t, `listen_addresses = "*"`, fmt.Sprintf("%s = %q", key, v))
			if got := load(t, "listen.toml", src); !strings.Contains(got, "pgpool."+key) {
				t.Errorf("%s = %q: got %q, want it refused", key, v, got)
			}
		}
		for _, v := range []string{"*", "localhost", "127.0.0.1,::1,db.example.com"} {
			src := replace(t, `listen_addresses = "*"`, fmt.Sprintf("%s = %q", key, v))
			c := mustLoad(t, "listen.toml", src)
			got := c.ListenAddresses
			if key == "pcp_listen_addresses" {
				got = c.PCPListenAddresses
			}
			if got != v {
				t.Errorf("%s = %q is kept as %q", key, v, got)
			}
		}
	}
	src := baseSpec + "\n[parameters]\nlog_destination = \"stderr, syslog\"\n"
	if got := load(t, "logdest.toml", src); !strings.Contains(got, "parameters.log_destination") {
		t.Errorf("log_destination with a space: got %q, want it refused", got)
	}
	src = baseSpec + "\n[parameters]\nlog_destination = \"stderr,syslog\"\n"
	mustLoad(t, "logdest.toml", src)
}

// An address is compared with the others in canonical form; the forms whose canonical spelling
// differs from what would be written are refused with that spelling.
func TestAddressForms(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{"::ffff:192.168.0.10", `write "192.168.0.10"`},
		{"::FFFF:c0a8:000a", `write "192.168.0.10"`},
		{"node0.example.com.", `write "node0.example.com"`},
		{"fe80::1%eth0", "zone"},
	} {
		src := replace(t, `address = "192.168.0.11"`, fmt.Sprintf("address = %q", c.addr))
		if got := load(t, "addr.toml", src); !strings.Contains(got, "host[2].address") || !strings.Contains(got, c.want) {
			t.Errorf("address %q: got %q, want an error saying %s", c.addr, got, c.want)
		}
	}
	src := replace(t, `address = "192.168.0.11"`, `address = "NODE0.example.com"`)
	src = strings.Replace(src, `address = "192.168.0.10"`, `address = "node0.Example.COM"`, 1)
	if got := load(t, "addr.toml", src); !strings.Contains(got, "is already used by host[1]") {
		t.Errorf("DNS names in two cases: got %q, want a duplicate", got)
	}
}

// A TOML syntax error says where and what was expected, never the text it found there: on a
// password line that text is the password.
func TestSyntaxErrorHidesSource(t *testing.T) {
	const secret = "hunter2"
	for _, line := range []string{
		`password = hunter2`,
		`password = "hunter2`,
		`password = 'hunter2`,
		`password = """hunter2`,
		`password = "hun\qter2"`,
		`password = "hunter2" hunter2`,
		`password = 1hunter2`,
		`password = 0xhunter2`,
		`password = 1979-05-27Thunter2`,
		`password = [hunter2]`,
		`password = {a = hunter2}`,
		`password = hunter2 = 1`,
		`password.hunter2 = 1 = 2`,
		`password = 1_hunter2`,
		`password = 0hunter2`,
		`password = 99999999999999999999hunter2`,
		`password = 1.hunter2`,
		`password = "\uhunter2"`,
		"password = \"hunter2\x01\"",
		"password = \"hunter2\xff\"",
	} {
		src := baseSpec + "\n[[pool_user]]\nname = \"app\"\nallow_plain_password = true\n" + line + "\n"
		got := load(t, "syntax.toml", src)
		if !strings.Contains(got, "TOML syntax error") {
			t.Errorf("%s: got %q, want a syntax error", line, got)
			continue
		}
		if strings.Contains(got, secret) || strings.Contains(got, "hun") || strings.Contains(got, "ter2") {
			t.Errorf("%s: the syntax error quotes the source: %q", line, got)
		}
		if !strings.HasPrefix(got, filepath.Join("..", "golden", "errors", "syntax.toml")+":") || !strings.Contains(got, ":5") && !strings.Contains(got, ":6") && !strings.Contains(got, ":") {
			t.Errorf("%s: got %q, want file:line:col", line, got)
		}
	}
	// A long number on a password line is source text too.
	got := load(t, "syntax.toml", baseSpec+"\n[[pool_user]]\nname = \"app\"\npassword = 123456789012345678901234567890\n")
	if strings.Contains(got, "1234567890") {
		t.Errorf("the syntax error quotes a number: %q", got)
	}
}

// An implicit table ([foo] of [foo.bar]) has the position of its first header.
func TestUnknownTablePosition(t *testing.T) {
	got := load(t, "table.toml", baseSpec+"\n[foo.bar]\nx = 1\n")
	want := fmt.Sprintf("table.toml:%d:2: foo: unknown key", strings.Count(baseSpec, "\n")+2)
	if !strings.Contains(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// The keys an unknown-key message lists are every key the table takes, whichever the reader
// happened to ask for.
func TestKnownKeysComplete(t *testing.T) {
	src := strings.Replace(baseSpec, `md5 = "5ebe2294ecd0e0f08eab7690d2a6ee69"`, `md5 = "5ebe2294ecd0e0f08eab7690d2a6ee69"
zzzzzzzzzzzz = 1`, 1)
	got := load(t, "keys.toml", src)
	for _, k := range []string{"allow_plain_password", "md5", "name", "password", "password_env", "password_file"} {
		if !strings.Contains(got, k) {
			t.Errorf("the unknown-key message does not list %s: %q", k, got)
		}
	}
	// TestSpecDocKeys checks docs/spec.md's entry for every key.
}

// Messages stay readable at the limits: one host missing a key says so once, however many
// hosts there are, and no message lists more than a few host names.
func TestMissingKeysBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.SplitN(baseSpec, "[[host]]", 2)[0])
	b.WriteString("[[host]]\nname = \"pgpool\"\naddress = \"10.0.0.1\"\nroles = [\"pgpool\"]\n")
	for i := 0; i < 128; i++ {
		role := "standby"
		if i == 0 {
			role = "primary"
		}
		fmt.Fprintf(&b, "\n[[host]]\nname = \"node%d\"\naddress = \"10.0.1.%d\"\nroles = [%q]\n", i, i+1, role)
	}
	b.WriteString("\n[[pcp_user]]\nname = \"pgpool\"\nmd5 = \"5ebe2294ecd0e0f08eab7690d2a6ee69\"\n\n[[hba]]\naddress = \"10.0.0.0/8\"\nmethod = \"md5\"\n")
	got := load(t, "wide.toml", b.String())
	lines := strings.Split(got, "\n")
	if len(lines) != 1 {
		t.Errorf("got %d errors, want 1:\n%s", len(lines), got)
	}
	for _, l := range lines {
		if n := strings.Count(l, "node"); n > 8 {
			t.Errorf("an error names %d hosts: %.300s…", n, l)
		}
	}
	if !strings.Contains(got, "128 more hosts that log in elsewhere have no key either: node0, node1, node2 and 125 more") {
		t.Errorf("got %q, want the count of the hosts not named", got)
	}
}

// A rule many hosts break is one error naming a few of them, not one error per host.
func TestRepeatedRuleOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.SplitN(baseSpec, "[[host]]", 2)[0])
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&b, "\n[[host]]\nname = \"h%d\"\naddress = \"10.0.1.%d\"\nroles = [\"pgpool\", \"primary\"]\nport = 5433\nssh_key_file = \"keys/node%d.pub\"\n", i, i+1, i%3)
	}
	b.WriteString("\n[[pcp_user]]\nname = \"pgpool\"\nmd5 = \"5ebe2294ecd0e0f08eab7690d2a6ee69\"\n\n[[hba]]\naddress = \"10.0.0.0/8\"\nmethod = \"md5\"\n")
	got := load(t, "many.toml", b.String())
	want := `host[1].roles: streaming_replication mode has exactly one primary, and host[0] is one already; make this host a "standby"; the same goes for host[2], host[3], host[4] and 3 more`
	if !strings.Contains(got, want) {
		t.Errorf("got\n%s\nwant a line with\n%s", got, want)
	}
	if n := strings.Count(got, "exactly one primary"); n != 1 {
		t.Errorf("got %d errors for the rule, want 1:\n%s", n, got)
	}
}
