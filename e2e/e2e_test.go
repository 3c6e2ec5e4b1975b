//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"pgpoolgen/e2e/internal/proc"
)

const (
	pcpUser  = "pcpadmin"
	pcpPass  = "pcp-e2e-secret"
	replPass = "repl-e2e:secret"
	appUser  = "app"
	pgpoolIP = testNet + ".10"
)

// passwords are the secrets the operator hands to setup (the files of --secrets-dir), and the
// password each database user logs in with. Odd characters on purpose: ' \ : and a space.
var passwords = map[string]string{
	"replication": replPass,
	"pcp":         pcpPass,
	"check":       "check 'e2e' pw",
	"recovery":    `recovery\e2e:pw`,
	"rewind":      "rewind-e2e-pw",
	"user_app":    "app e2e:'pw'",
	"pgpoolkey":   "e2e aes key/1",
}

// wdAuthkey is the watchdog's shared key, the secret wd_authkey of a cluster with several
// pgpool hosts. pgpool.conf holds it quoted and cannot hold a quote or a backslash (setup
// refuses them), so it has only spaces and other punctuation.
const wdAuthkey = "wd e2e key/x:1 ok"

// loginPassword is the password of a database user, from the secret its role takes it from.
var loginPassword = map[string]string{
	"postgres": passwords["recovery"],
	"pgpool":   passwords["check"],
	"repl":     passwords["replication"],
	"rewind":   passwords["rewind"],
	appUser:    passwords["user_app"],
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	results   struct {
		sync.Mutex
		lines []string
	}
)

// pgpoolgen builds the command once, outside any namespace.
func pgpoolgen(t *testing.T, work string) string {
	t.Helper()
	buildOnce.Do(func() {
		binary = filepath.Join(os.TempDir(), fmt.Sprintf("pgpoolgen-e2e-%d", os.Getpid()))
		out, err := exec.Command("go", "build", "-o", binary, "../cmd/pgpoolgen").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// check runs one named check and records its result for the summary.
func check(t *testing.T, name string, f func(t *testing.T)) bool {
	ok := t.Run(name, f)
	results.Lock()
	verdict := "pass"
	if !ok {
		verdict = "FAIL"
	}
	results.lines = append(results.lines, fmt.Sprintf("%-4s  %s/%s", verdict, t.Name(), name))
	results.Unlock()
	return ok
}

// A cluster is a running e2e cluster.
type cluster struct {
	name    string
	work    string
	bundle  string
	secrets string
	hosts   map[string]*host // by name
	order   []string         // the spec's hosts, in spec order
	// pgpools are the hosts that run pgpool (spec order: watchdog node ids 0, 1, ...), backends
	// those that run PostgreSQL.
	pgpools, backends []string
	// from and to are where clients connect from and to: by default the first pgpool host and
	// its address; with watchdog, a client namespace and the virtual IP.
	from *host
	to   string
	// admin is the pgpool host pcp commands run on: the first one unless a test says.
	admin *host
	// newPrimary and follower are the standbys failover made the primary and re-pointed.
	newPrimary, follower string
	manifest             struct {
		Files []struct {
			Host, Path, Destination string
		} `json:"files"`
		Trust []struct {
			From, To string
			Why      []string
		} `json:"trust"`
		Secrets []struct {
			Name string
		} `json:"secrets"`
	}
	// trust: the bundle's backends admit pgpool-II's own users without a password
	// ([postgresql] hba_method = "trust"), so they have no secret and no AES entry, and app
	// is the user the checks write as: appUser, or postgres where the spec has no app user.
	trust bool
	app   string

	net *network
	// pgpoolBin is where the pgpool host's pgpool-II programs are: Debian's, or the build's
	// the spec runs on.
	pgpoolBin string
	build     *build // nil for Debian's pgpool2
	// firstSetup is when the first setup.sh started: make faults times the bundle to a
	// running cluster from there.
	firstSetup time.Time

	// via is what applies the bundle (applyVia): "" for the harness's own setup.sh runs,
	// "ansible" or "deploy" for the bundle's hand-off from the controller, ctl. The first
	// apply's output, changes per host, error and times are kept for the checks.
	via          string
	ctl          *controller
	firstApply   string
	firstChanged map[string]int
	applyErr     error
	order1       map[string]hostTimes
	rootAnsible  bool // /root/.ansible was there before the test
}

func (c *cluster) h(name string) *host { return c.hosts[name] }

// A specHost is what the harness reads of a [[host]] of the spec: it makes each host as the
// spec places it.
type specHost struct {
	Name    string   `toml:"name"`
	Address string   `toml:"address"`
	Roles   []string `toml:"roles"`
}

// readSpecHosts reads the spec's hosts; every address must be on the test network.
func readSpecHosts(t *testing.T, path string) []specHost {
	t.Helper()
	var spec struct {
		Host []specHost `toml:"host"`
	}
	if _, err := toml.DecodeFile(path, &spec); err != nil {
		t.Fatalf("reading the hosts of %s: %v", path, err)
	}
	for _, h := range spec.Host {
		if !strings.HasPrefix(h.Address, testNet+".") {
			t.Fatalf("%s: host %s has address %q, not on the test network %s.0/%d", path, h.Name, h.Address, testNet, netMask)
		}
	}
	if len(spec.Host) == 0 {
		t.Fatalf("%s has no [[host]]", path)
	}
	return spec.Host
}

// bringUp makes the hosts, keys and bundle of a spec in e2e/<name>, applies the bundle with
// each host's setup.sh, and starts sshd on every host and PostgreSQL on pg1. A spec whose
// pgpool_bin_dir is a build's (specBuild) runs on that build, which bringUp installs in the
// hosts' namespaces; without the builds it skips (fails in CI).
func bringUp(t *testing.T, name string) *cluster {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(name, "cluster.toml"))
	must(t, err)
	series := specBuild(t, name, src)
	var archive string
	if series != "" {
		archive = checkBuild(t, series)
	}
	for _, p := range []string{"/usr/bin/pg_createcluster", pgBin + "/initdb", pgpoolBin + "/pgpool", "/usr/sbin/sshd", pgpoolBin + "/pcp_recovery_node"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: make e2e installs postgresql-15, pgpool2, postgresql-15-pgpool2 and openssh-server", p)
		}
	}
	work, err := os.MkdirTemp("/var/tmp", "pgpoolgen-e2e-"+name+"-")
	must(t, err)
	must(t, os.Chmod(work, 0o755))
	c := &cluster{name: name, work: work, hosts: map[string]*host{}, pgpoolBin: pgpoolBin, via: applyVia[name]}
	if _, err := os.Stat("/root/.ansible"); err == nil {
		c.rootAnsible = true
	}
	if series != "" {
		c.build = unpackBuild(t, work, series, archive)
		c.pgpoolBin = c.build.pgpoolDir() + "/bin"
	}
	t.Logf("work folder, logs under %s/logs", work)
	fmt.Fprintf(os.Stderr, "e2e %s: logs of pgpool, PostgreSQL, sshd and the scripts in %s/logs\n", name, work)
	spec := filepath.Join(work, "spec")
	must(t, os.MkdirAll(filepath.Join(spec, "keys"), 0o755))
	must(t, os.WriteFile(filepath.Join(spec, "cluster.toml"), src, 0o644))
	must(t, os.MkdirAll("/run/sshd", 0o755))

	net := newNetwork(t)
	c.net = net
	for _, sh := range readSpecHosts(t, filepath.Join(spec, "cluster.toml")) {
		n := sh.Name
		var mounts []string
		if c.build != nil {
			mounts = c.build.mounts(!slices.Contains(sh.Roles, "pgpool"))
		}
		h := newHost(t, work, net, n, sh.Address, mounts)
		c.hosts[n] = h
		c.order = append(c.order, n)
		if slices.Contains(sh.Roles, "pgpool") {
			c.pgpools = append(c.pgpools, n)
		}
		if slices.ContainsFunc(sh.Roles, func(r string) bool { return r != "pgpool" }) {
			c.backends = append(c.backends, n)
		}
		// The OS user's key pair and the host's sshd host key: what an operator has before
		// running pgpoolgen. No ssh config: each host has one address, which its connections
		// come from.
		sshDir := filepath.Join(h.root, home, ".ssh")
		must(t, os.MkdirAll(sshDir, 0o700))
		runAs(t, "root", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "postgres@"+n, "-f", filepath.Join(sshDir, "id_ed25519"))
		runAs(t, "root", "chown", "-R", osUser+":"+osUser, sshDir)
		copyFile(t, filepath.Join(sshDir, "id_ed25519.pub"), filepath.Join(spec, "keys", n+".pub"))
		hostKey := filepath.Join(h.root, "/etc/ssh/e2e/ssh_host_ed25519_key")
		runAs(t, "root", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey)
		copyFile(t, hostKey+".pub", filepath.Join(spec, "keys", n+".host.pub"))
		sshdConfig := fmt.Sprintf(`ListenAddress %s:22
HostKey /etc/ssh/e2e/ssh_host_ed25519_key
PidFile /etc/ssh/e2e/sshd.pid
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
LogLevel VERBOSE
# sftp, as Debian's sshd_config has it: scp (OpenSSH 9) and Ansible copy files through it.
Subsystem sftp internal-sftp
# The controller of the hand-off tests logs in as root with its own key (newController).
Match User root
	AuthorizedKeysFile /etc/ssh/e2e/root_authorized_keys
`, h.addr)
		must(t, os.WriteFile(filepath.Join(h.root, "/etc/ssh/e2e/sshd_config"), []byte(sshdConfig), 0o644))
	}
	if c.build != nil {
		c.build.verify(t, c)
	}

	if len(c.pgpools) == 0 || len(c.backends) == 0 {
		t.Fatalf("%s: the harness needs a pgpool host and a backend, the spec has pgpool %v and backends %v", name, c.pgpools, c.backends)
	}
	c.from, c.to, c.admin = c.h(c.pgpools[0]), c.h(c.pgpools[0]).addr, c.h(c.pgpools[0])

	// The bundle.
	c.bundle = filepath.Join(work, "bundle")
	bin := pgpoolgen(t, work)
	cmd := exec.Command(bin, "build", filepath.Join(spec, "cluster.toml"), "-o", c.bundle)
	cmd.Env = append(os.Environ(), "E2E_PCP_PASSWORD="+pcpPass)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pgpoolgen build: %v\n%s", err, out)
	}
	breakBundle(t, c)
	if c.via != "" && os.Getenv("E2E_BREAK") != "tamper" {
		resum(t, c.bundle) // a damaged bundle, but as a build would make it: the apply checks sha256
	}
	m, err := os.ReadFile(filepath.Join(c.bundle, "manifest.json"))
	must(t, err)
	must(t, json.Unmarshal(m, &c.manifest))
	c.trust, c.app = true, "postgres"
	for _, s := range c.manifest.Secrets {
		c.trust = c.trust && s.Name != "check"
		if s.Name == "user_"+appUser {
			c.app = appUser
		}
	}
	if c.build != nil {
		c.build.usable(t, c)
	}
	// setup runs as root: a file it installs outside the hosts' own folders would land on the
	// machine that runs the test.
	for _, f := range c.manifest.Files {
		if f.Destination != "" && !slices.ContainsFunc(boundDirs, func(d string) bool { return strings.HasPrefix(f.Destination, d+"/") }) {
			t.Fatalf("the bundle installs %s on %s, outside the folders each host has of its own (boundDirs): add its folder there", f.Destination, f.Host)
		}
	}

	// The secrets, the way an operator hands them to setup: files in a folder only root reads.
	c.secrets = filepath.Join(work, "secrets")
	must(t, os.MkdirAll(c.secrets, 0o700))
	for name, pw := range passwords {
		must(t, os.WriteFile(filepath.Join(c.secrets, name), []byte(pw+"\n"), 0o600))
	}
	if len(c.pgpools) > 1 {
		must(t, os.WriteFile(filepath.Join(c.secrets, "wd_authkey"), []byte(wdAuthkey+"\n"), 0o600))
	}

	// Every backend host gets Debian's own empty cluster, as the postgresql-15 package makes
	// it: pg_createcluster, postgresql.conf and pg_hba.conf in /etc/postgresql/15/main (the
	// host's, never copied by a base backup), the data directory in /var/lib/postgresql/15/main.
	// Everything else of PostgreSQL's (settings, pg_hba.conf lines, roles) is the bundle's.
	for _, n := range c.backends {
		h := c.h(n)
		watchPostgres(h)
		h.mustRun(t, 2*time.Minute, "root", "pg_createcluster", "--locale", "C.UTF-8", "-p", "5432", "15", "main")
	}

	if c.via != "" {
		c.ctl = newController(t, c)
	}
	// sshd first: the hand-off logs in through it.
	for _, n := range c.order {
		c.h(n).start(t, "sshd", "root", "/usr/sbin/sshd", "-D", "-e", "-f", "/etc/ssh/e2e/sshd_config")
	}
	for _, n := range c.order {
		h := c.h(n)
		if _, ok := proc.WaitFor(10*time.Second, func() bool { return h.portOpen(h.addr, 22) }); !ok {
			t.Fatalf("sshd of %s does not listen", n)
		}
	}
	if c.via != "" {
		c.applyFirst(t)
		if c.applyErr != nil {
			return c // the first check reports it
		}
	} else {
		for _, n := range c.order {
			out := c.setup(t, c.h(n), "--skip-network")
			t.Logf("setup of %s:\n%s", n, out)
		}
	}

	// The first backend starts as the primary, the way the package starts a cluster; setup runs
	// again, and now makes the roles and the pgpool_recovery functions. The standbys are made
	// by pcp_recovery_node.
	pg1 := c.h(c.backends[0])
	pg1.mustRun(t, time.Minute, osUser, pgBin+"/pg_ctl", "-D", confDir, "-w", "-t", "60", "-l", "/var/log/postgresql/"+pg1.name+".log", "start")
	if c.via != "" {
		c.applyAgain(t)
	} else {
		t.Logf("setup of %s after its cluster started:\n%s", pg1.name, c.setup(t, pg1, "--skip-network"))
	}
	return c
}

// setup runs a host's setup.sh from the bundle, inside the host's namespace.
func (c *cluster) setup(t *testing.T, h *host, args ...string) string {
	t.Helper()
	if c.firstSetup.IsZero() {
		c.firstSetup = time.Now()
	}
	args = append([]string{"bash", filepath.Join(c.bundle, "hosts", h.name, "setup.sh"), "--secrets-dir", c.secrets}, args...)
	out, err := h.run(5*time.Minute, "root", nil, args...)
	if err != nil {
		t.Fatalf("setup.sh of %s: %v\n%s", h.name, err, out)
	}
	return out
}

// startPgpool starts pgpool on every pgpool host and waits until each takes clients on its
// own address.
func (c *cluster) startPgpool(t *testing.T) {
	t.Helper()
	for _, n := range c.pgpools {
		c.startPgpoolOn(t, c.h(n))
	}
	for _, n := range c.pgpools {
		c.waitPgpool(t, c.h(n))
	}
}

// startPgpoolOn starts pgpool on the pgpool host h, its output appended to h's pgpool.log.
func (c *cluster) startPgpoolOn(t *testing.T, h *host) *exec.Cmd {
	t.Helper()
	return h.start(t, "pgpool", osUser, c.pgpoolBin+"/pgpool", "-n", "-D", "-f", "/etc/pgpool2/pgpool.conf", "-F", "/etc/pgpool2/pcp.conf", "-a", "/etc/pgpool2/pool_hba.conf")
}

// waitPgpool waits until pgpool on h takes clients on h's address.
func (c *cluster) waitPgpool(t *testing.T, h *host) {
	t.Helper()
	if _, ok := proc.WaitFor(30*time.Second, func() bool {
		_, err := c.psql(h, h.addr, "postgres", loginPassword["postgres"], "SELECT 1")
		return err == nil
	}); !ok {
		t.Fatalf("pgpool does not take clients on %s:9999; see %s", h.addr, filepath.Join(h.logs, "pgpool.log"))
	}
}

// sql runs one statement through pgpool as user, with the user's password, from the client's
// host (c.from) to pgpool's address (c.to).
func (c *cluster) sql(user, stmt string) (string, error) {
	return c.sqlWith(user, loginPassword[user], stmt)
}

// sqlWith is sql with a password of the test's choosing.
func (c *cluster) sqlWith(user, password, stmt string) (string, error) {
	return c.psql(c.from, c.to, user, password, stmt)
}

// psql runs one statement through the pgpool at addr, from host from.
func (c *cluster) psql(from *host, addr, user, password, stmt string) (string, error) {
	out, err := from.run(20*time.Second, osUser, []string{"PGPASSWORD=" + password, "PGCONNECT_TIMEOUT=10"},
		pgBin+"/psql", "-X", "-A", "-t", "-w", "-h", addr, "-p", "9999", "-U", user, "-d", "postgres", "-c", stmt)
	return strings.TrimSpace(out), err
}

// direct runs one statement on a backend's own server.
func (c *cluster) direct(h *host, stmt string) (string, error) {
	out, err := h.run(20*time.Second, osUser, nil, pgBin+"/psql", "-X", "-A", "-t", "-h", "/var/run/postgresql", "-p", "5432", "-d", "postgres", "-c", stmt)
	return strings.TrimSpace(out), err
}

// pcp runs a pcp command on the admin pgpool host as the OS user, whose ~/.pcppass setup
// wrote.
func (c *cluster) pcp(timeout time.Duration, env []string, command string, args ...string) (string, error) {
	return c.pcpOn(c.admin, timeout, env, command, args...)
}

// pcpOn is pcp on the pgpool host h, to its own pgpool.
func (c *cluster) pcpOn(h *host, timeout time.Duration, env []string, command string, args ...string) (string, error) {
	full := append([]string{c.pgpoolBin + "/" + command, "-h", "localhost", "-p", "9898", "-U", pcpUser}, args...)
	return h.run(timeout, osUser, env, full...)
}

// node is a row of SHOW pool_nodes.
type node struct{ id, host, status, role, delay, replState, syncState string }

// poolNodes asks pgpool for SHOW pool_nodes; the raw answer comes back too, for messages.
func (c *cluster) poolNodes() ([]node, string, error) {
	out, err := c.sql("postgres", "SHOW pool_nodes")
	if err != nil {
		return nil, out, fmt.Errorf("%v: %s", err, out)
	}
	var nodes []node
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "|")
		if len(f) < 13 {
			continue
		}
		// 4.3: node_id|hostname|port|status|pg_status|lb_weight|role|pg_role|select_cnt|
		// load_balance_node|replication_delay|replication_state|replication_sync_state|last_status_change
		nodes = append(nodes, node{id: f[0], host: f[1], status: f[3], role: f[6], delay: f[10], replState: f[11], syncState: f[12]})
	}
	return nodes, out, nil
}

// waitNodes polls pgpool's SHOW pool_nodes until cond holds for its rows, for at most timeout.
// pgpool-II changes a node's state in its failover process, after the pcp command or the
// fault that asked for it has returned (pcp_detach_node without -g only queues the request:
// pool_detach_node in src/pcp_con/pcp_worker.c), so every step that depends on a state change
// waits for pgpool to show it. On timeout the test fails with what pgpool last answered.
func (c *cluster) waitNodes(t *testing.T, timeout time.Duration, want string, cond func([]node) bool) []node {
	t.Helper()
	var (
		nodes []node
		last  string
		err   error
	)
	took, ok := proc.WaitFor(timeout, func() bool {
		nodes, last, err = c.poolNodes()
		return err == nil && cond(nodes)
	})
	if !ok {
		t.Fatalf("after %s pgpool does not show %s; SHOW pool_nodes last said (error %v):\n%s\nsee the logs in %s",
			took.Round(time.Millisecond), want, err, last, filepath.Join(c.work, "logs"))
	}
	return nodes
}

// nodeStatus is a condition on one node's status in SHOW pool_nodes.
func nodeStatus(id int, status string) func([]node) bool {
	return func(nodes []node) bool { return len(nodes) > id && nodes[id].status == status }
}

// recover runs pcp_recovery_node for a node and waits until pgpool shows it up: the command
// returns once it has asked for the failback, or after waiting 5 s for it
// (start_recovery in src/pcp_con/recovery.c), not when the node is up.
func (c *cluster) recover(t *testing.T, id int) {
	t.Helper()
	c.waitNodes(t, 30*time.Second, fmt.Sprintf("node %d down before its recovery", id), nodeStatus(id, "down"))
	out, err := c.pcp(3*time.Minute, nil, "pcp_recovery_node", "-w", "-n", strconv.Itoa(id))
	if err != nil || strings.Contains(out, "ERROR") {
		nodes, _, _ := c.poolNodes()
		t.Fatalf("pcp_recovery_node -n %d: %v\n%s\npool_nodes: %+v\nsee the logs in %s", id, err, out, nodes, filepath.Join(c.work, "logs"))
	}
	c.waitNodes(t, 30*time.Second, fmt.Sprintf("node %d up after its recovery", id), nodeStatus(id, "up"))
}

// detach runs pcp_detach_node for a node and waits until pgpool shows it down.
func (c *cluster) detach(t *testing.T, id int) {
	t.Helper()
	if out, err := c.pcp(30*time.Second, nil, "pcp_detach_node", "-w", "-n", strconv.Itoa(id)); err != nil || strings.Contains(out, "ERROR") {
		t.Fatalf("pcp_detach_node -n %d: %v\n%s", id, err, out)
	}
	c.waitNodes(t, 30*time.Second, fmt.Sprintf("node %d down after pcp_detach_node", id), nodeStatus(id, "down"))
}

// checkPgpoolShow reads back every parameter of each pgpool host's generated pgpool.conf
// through PGPOOL SHOW on that host's pgpool.
func (c *cluster) checkPgpoolShow(t *testing.T) {
	for _, n := range c.pgpools {
		c.checkPgpoolShowOn(t, c.h(n))
	}
}

func (c *cluster) checkPgpoolShowOn(t *testing.T, h *host) {
	conf, err := os.ReadFile(filepath.Join(h.root, "/etc/pgpool2/pgpool.conf"))
	must(t, err)
	line := regexp.MustCompile(`^([a-z_0-9]+) = (.*)$`)
	n, masked := 0, 0
	for _, l := range strings.Split(string(conf), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		name, want := m[1], strings.Trim(m[2], "'")
		out, err := c.psql(h, h.addr, "postgres", loginPassword["postgres"], "PGPOOL SHOW "+name)
		if err != nil {
			t.Errorf("%s: PGPOOL SHOW %s: %v %s", h.name, name, err, out)
			continue
		}
		got := shownValue(name, out)
		n++
		switch {
		case got == "*****":
			masked++ // pgpool-II shows passwords and pool_passwd masked
		case !sameValue(want, got):
			t.Errorf("%s: pgpool took %s = %q, the file says %q", h.name, name, got, want)
		}
	}
	if n < 30 {
		t.Errorf("%s: read back only %d parameters", h.name, n)
	}
	t.Logf("%s: %d parameters read back with the values written (%d of them shown masked)", h.name, n, masked)
}

// shownValue picks the value out of PGPOOL SHOW's output: one line, or for a parameter with
// per-backend forms, rows of name|value|description.
func shownValue(name, out string) string {
	for _, row := range strings.Split(out, "\n") {
		if f := strings.Split(row, "|"); len(f) >= 2 && f[0] == name {
			return f[1]
		}
	}
	return out
}

// unitRE reads a value pgpool-II shows with a time unit, such as "1s" or "3000ms".
var unitRE = regexp.MustCompile(`^(\d+)(ms|s|min|h|d)$`)

// sameValue compares a value as written with pgpool's display of it.
func sameValue(written, shown string) bool {
	if written == shown {
		return true
	}
	if m := unitRE.FindStringSubmatch(shown); m != nil {
		n, _ := strconv.Atoi(m[1])
		seconds := map[string]int{"ms": 0, "s": 1, "min": 60, "h": 3600, "d": 86400}[m[2]] * n
		return written == strconv.Itoa(seconds) || m[2] == "ms" && written == m[1]
	}
	bools := map[string]string{"on": "on", "off": "off", "true": "on", "false": "off"}
	if a, ok := bools[written]; ok {
		return a == bools[shown]
	}
	a, err1 := strconv.ParseFloat(written, 64)
	b, err2 := strconv.ParseFloat(shown, 64)
	return err1 == nil && err2 == nil && a == b
}

// checkSSHTrust logs in along every edge of the manifest's graph, and along one it lacks.
func (c *cluster) checkSSHTrust(t *testing.T, refusedFrom, refusedTo string) {
	for _, e := range c.manifest.Trust {
		from, to := c.h(e.From), c.h(e.To)
		out, err := from.run(20*time.Second, osUser, nil, "ssh", "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
			"-o", "UserKnownHostsFile="+home+"/.ssh/pgpoolgen_known_hosts", "postgres@"+to.addr, "echo", "in-"+e.To)
		if err != nil || strings.TrimSpace(out) != "in-"+e.To {
			t.Errorf("%s cannot log in to %s (needed for %s): %v\n%s", e.From, e.To, strings.Join(e.Why, ", "), err, out)
		}
	}
	from, to := c.h(refusedFrom), c.h(refusedTo)
	out, err := from.run(20*time.Second, osUser, nil, "ssh", "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
		"-o", "UserKnownHostsFile=/dev/null", "postgres@"+to.addr, "true")
	if err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("%s logged in to %s, an edge the bundle does not declare (or failed otherwise): %v\n%s", refusedFrom, refusedTo, err, out)
	}
	t.Logf("%d declared edges log in; %s -> %s is refused", len(c.manifest.Trust), refusedFrom, refusedTo)
}

func (c *cluster) checkPCP(t *testing.T) {
	out, err := c.pcp(20*time.Second, nil, "pcp_node_info", "-w", "-n", "0")
	if err != nil || !strings.Contains(out, testNet+".11") {
		t.Errorf("pcp_node_info with ~/.pcppass: %v\n%s", err, out)
	}
	bad := filepath.Join(c.work, "bad.pcppass")
	must(t, os.WriteFile(bad, []byte("*:9898:"+pcpUser+":wrong-password\n"), 0o600))
	runAs(t, "root", "chown", osUser, bad)
	out, err = c.pcp(20*time.Second, []string{"PCPPASSFILE=" + bad}, "pcp_node_info", "-w", "-n", "0")
	if err == nil {
		t.Errorf("pcp_node_info with a wrong password succeeded:\n%s", out)
	}
}

// checkPoolHBA logs in through pgpool with scram-sha-256 as the application user and the
// recovery user, whose AES entries setup made, and is refused with a wrong password and as a
// user pool_passwd does not know.
// checkTrustOnly: in a bundle whose backends trust pgpool-II, pool_passwd holds no AES entry
// (a build without OpenSSL cannot read one), there is no AES key, every host line of the
// bundle's block of the backends' pg_hba.conf is trust as the spec asks, and the check user is no superuser; users
// log in through pgpool-II without a password, and one the servers do not know is refused.
func (c *cluster) checkTrustOnly(t *testing.T) {
	root := c.h("pgpool").root
	pp, err := os.ReadFile(filepath.Join(root, "/etc/pgpool2/pool_passwd"))
	must(t, err)
	if strings.Contains(string(pp), ":AES") {
		t.Errorf("pool_passwd holds AES entries:\n%s", pp)
	}
	if _, err := os.Stat(filepath.Join(root, "/var/lib/postgresql/.pgpoolkey")); err == nil {
		t.Errorf("~postgres/.pgpoolkey exists on the pgpool host: nothing needs an AES key")
	}
	hostLines := 0
	for _, n := range []string{"pg1", "pg2", "pg3"} {
		data, err := os.ReadFile(filepath.Join(c.h(n).root, confDir+"/pg_hba.conf"))
		must(t, err)
		// The bundle's block; pg_createcluster's own lines below it stay as they are.
		block, _, _ := strings.Cut(string(data), "# END pgpoolgen cluster ")
		for _, l := range strings.Split(block, "\n") {
			if w := strings.Fields(l); len(w) > 0 && w[0] == "host" {
				hostLines++
				if w[len(w)-1] != "trust" {
					t.Errorf("%s pg_hba.conf: %q is not trust", n, l)
				}
			}
		}
	}
	if hostLines < 10 {
		t.Errorf("only %d host lines in the backends' pg_hba.conf", hostLines)
	}
	for _, u := range []string{"postgres", "pgpool"} {
		if out, err := c.sqlWith(u, "", "SELECT current_user"); err != nil || out != u {
			t.Errorf("%s without a password through pgpool: %v %s", u, err, out)
		}
	}
	if out, err := c.sqlWith("intruder", "", "SELECT 1"); err == nil {
		t.Errorf("a user the servers do not know got in: %s", out)
	}
	if got, err := c.direct(c.h("pg1"), "SELECT rolname FROM pg_roles WHERE rolname IN ('pgpool', 'repl', 'rewind') AND rolsuper ORDER BY 1"); err != nil || got != "" {
		t.Errorf("superusers among the roles the bundle makes: %q %v, want none", got, err)
	}
}

func (c *cluster) checkPoolHBA(t *testing.T) {
	for _, u := range []string{appUser, "postgres"} {
		if out, err := c.sql(u, "SELECT current_user"); err != nil || out != u {
			t.Errorf("%s with its password through pgpool: %v %s", u, err, out)
		}
	}
	if out, err := c.sqlWith(appUser, "wrong password", "SELECT 1"); err == nil || !strings.Contains(out, "authentication failed") {
		t.Errorf("%s with a wrong password got in, or failed for another reason: %v %s", appUser, err, out)
	}
	if out, err := c.sqlWith("intruder", "any", "SELECT 1"); err == nil {
		t.Errorf("a user pool_passwd does not know got in: %s", out)
	}
}

// checkScramOnly reads the rules on every host: every host line of pool_hba.conf and of the
// backends' pg_hba.conf asks for scram-sha-256, and the check user is no superuser.
func (c *cluster) checkScramOnly(t *testing.T) {
	type file struct{ host, path string }
	var files []file
	for _, n := range c.pgpools {
		files = append(files, file{n, "/etc/pgpool2/pool_hba.conf"})
	}
	for _, n := range c.backends {
		files = append(files, file{n, confDir + "/pg_hba.conf"})
	}
	hostLines := 0
	for _, fl := range files {
		n, f := fl.host, fl.path
		data, err := os.ReadFile(filepath.Join(c.h(n).root, f))
		must(t, err)
		for _, l := range strings.Split(string(data), "\n") {
			w := strings.Fields(l)
			if len(w) == 0 || !strings.HasPrefix(w[0], "host") {
				continue
			}
			hostLines++
			if w[len(w)-1] != "scram-sha-256" {
				t.Errorf("%s %s: %q does not ask for scram-sha-256", n, f, l)
			}
		}
	}
	if hostLines < 10 {
		t.Errorf("only %d host lines in the hosts' pool_hba.conf and pg_hba.conf", hostLines)
	}
	if got, err := c.direct(c.h(c.backends[0]), "SELECT rolname FROM pg_roles WHERE rolname IN ('pgpool', 'repl', 'rewind', 'app') AND rolsuper ORDER BY 1"); err != nil || got != "" {
		t.Errorf("superusers among the roles the bundle makes: %q %v, want none (only the recovery user postgres is one)", got, err)
	}
}

func (c *cluster) checkSetupIdempotent(t *testing.T) {
	for _, n := range c.order {
		out := c.setup(t, c.h(n))
		if !strings.Contains(out, "nothing to change") {
			t.Errorf("setup of %s on a set-up host changed something:\n%s", n, out)
		}
	}
}

// breakBundle damages the bundle as E2E_BREAK says, to show that the matching check fails:
// "param" writes follow_primary_command under its 3.x name, which pgpool-II 4.3 ignores;
// "failover-path" points failover_command at a script that does not exist; "rewind" makes the
// follow script's pg_rewind log in as a role that does not exist; "missing-key"
// drops the first pgpool host's key from pg2's authorized_keys. With watchdog: "escalation"
// drops wd_escalation_command from every pgpool.conf, so a new leader leaves the VIP on the
// killed one; "sudoers" lets the OS user run only "ip addr del" of the VIP, not "ip addr add",
// so no leader can bring the VIP up. "tamper" changes pg2's setup.sh after the build, leaving
// manifest.json as it was: the hand-off (applyVia) must refuse it, pg2 and the hosts after it
// untouched. A damage for what a cluster does not have (watchdog, a
// host pg2) is logged and skipped, so one E2E_BREAK can be given to a run of several clusters.
func breakBundle(t *testing.T, c *cluster) {
	t.Helper()
	edit := func(rel, old, new string) {
		p := filepath.Join(c.bundle, rel)
		data, err := os.ReadFile(p)
		must(t, err)
		if !strings.Contains(string(data), old) {
			t.Fatalf("E2E_BREAK: %s has no %q", rel, old)
		}
		must(t, os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
	}
	conf := func(n string) string { return "hosts/" + n + "/files/etc/pgpool2/pgpool.conf" }
	watchdog := len(c.pgpools) > 1
	skip := func(why string) {
		t.Logf("E2E_BREAK=%s does not apply to cluster %s: %s", os.Getenv("E2E_BREAK"), c.name, why)
	}
	switch os.Getenv("E2E_BREAK") {
	case "":
	case "param":
		for _, n := range c.pgpools {
			edit(conf(n), "follow_primary_command =", "follow_master_command =")
		}
	case "failover-path":
		for _, n := range c.pgpools {
			edit(conf(n), "/etc/pgpool2/failover.sh ", "/etc/pgpool2/failover-missing.sh ")
		}
	case "rewind":
		for _, n := range c.pgpools {
			edit("hosts/"+n+"/files/etc/pgpool2/follow_primary.sh", "readonly REWIND_USER='rewind'", "readonly REWIND_USER='nobody'")
		}
	case "missing-key":
		if c.h("pg2") == nil {
			skip("no host pg2")
			return
		}
		p := filepath.Join(c.bundle, "hosts/pg2/merge/var/lib/postgresql/.ssh/authorized_keys")
		data, err := os.ReadFile(p)
		must(t, err)
		var kept []string
		from := c.pgpools[0]
		for _, l := range strings.Split(string(data), "\n") {
			if !strings.Contains(l, ":"+from+" ") && !strings.HasSuffix(l, ":"+from) {
				kept = append(kept, l)
			}
		}
		must(t, os.WriteFile(p, []byte(strings.Join(kept, "\n")), 0o644))
	case "escalation":
		if !watchdog {
			skip("no watchdog")
			return
		}
		for _, n := range c.pgpools {
			edit(conf(n), "wd_escalation_command = ", "# wd_escalation_command = ")
		}
	case "sudoers":
		if !watchdog {
			skip("no watchdog")
			return
		}
		for _, n := range c.pgpools {
			rules, err := filepath.Glob(filepath.Join(c.bundle, "hosts", n, "files/etc/sudoers.d/*"))
			must(t, err)
			if len(rules) != 1 {
				t.Fatalf("E2E_BREAK=sudoers: %s has %d files in etc/sudoers.d, want 1", n, len(rules))
			}
			rel, _ := filepath.Rel(c.bundle, rules[0])
			edit(rel, "/usr/bin/ip addr add ", "/usr/bin/ip addr show ")
		}
	case "tamper":
		if c.via == "" || c.h("pg2") == nil {
			skip("not applied by the hand-off, or no host pg2")
			return
		}
		appendFile(t, filepath.Join(c.bundle, "hosts/pg2/setup.sh"), "# changed after the build\n")
	default:
		t.Fatalf("E2E_BREAK=%q: want param, failover-path, rewind, missing-key, escalation, sudoers or tamper", os.Getenv("E2E_BREAK"))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	must(t, err)
	must(t, os.WriteFile(to, data, 0o644))
}

func appendFile(t *testing.T, p, text string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString(text)
	must(t, err)
	must(t, f.Close())
}

// portOpen reports whether a TCP connection from host h to addr:port opens: the hosts'
// addresses are reachable only from inside their network.
func (h *host) portOpen(addr string, port int) bool {
	_, err := h.run(2*time.Second, "root", nil, "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", addr, port))
	return err == nil
}

// teardown stops the cluster's servers and prints the check summary so far.
func teardown(c *cluster) {
	stopPostgres()
	procs.StopAll()
	sweepNamespaces()
	if c.build != nil {
		os.RemoveAll(c.build.opt) // the unpacked build; the logs stay
	}
}

func printSummary() {
	results.Lock()
	defer results.Unlock()
	lines := append([]string(nil), results.lines...)
	sort.Strings(lines)
	passed, failed := 0, 0
	for _, l := range results.lines {
		if strings.HasPrefix(l, "pass") {
			passed++
		} else {
			failed++
		}
	}
	fmt.Println("e2e checks:")
	for _, l := range results.lines {
		fmt.Println("  " + l)
	}
	fmt.Printf("e2e: %d passed, %d failed\n", passed, failed)
}

// checkSlots waits until the server on h shows want: its replication slots as
// slot:active:state of the standby streaming through it, one per line, by name.
func (c *cluster) checkSlots(t *testing.T, h *host, want string) {
	t.Helper()
	var got string
	if _, ok := proc.WaitFor(30*time.Second, func() bool {
		got, _ = c.direct(h, "SELECT s.slot_name || ':' || CASE WHEN s.active THEN 't' ELSE 'f' END || ':' || coalesce(r.state, '-') "+
			"FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid ORDER BY 1")
		return got == want
	}); !ok {
		t.Errorf("%s's replication slots are %q, want %q (slot:active:state)", h.name, got, want)
	}
}

// checkRewound reads pgpool's log, where the follow script's lines go: the standby on host
// was brought in line with pg_rewind, and not by the fallback to a fresh copy.
func (c *cluster) checkRewound(t *testing.T, host string) {
	t.Helper()
	log := c.pgpoolLogs(t)
	on := "on " + c.h(host).addr
	var rewound, copied bool
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, on) {
			continue
		}
		rewound = rewound || strings.Contains(l, rewindDone)
		copied = copied || strings.Contains(l, rewindFallback)
	}
	if !rewound || copied {
		t.Errorf("the follow script on %s: pg_rewind done %v, fell back to a fresh copy %v; see the pgpool.log files in %s", host, rewound, copied, filepath.Join(c.work, "logs"))
	}
}

// pgpoolLogs is the pgpool logs of every pgpool host, one after the other: the scripts run on
// whichever pgpool host the watchdog lets run them.
func (c *cluster) pgpoolLogs(t *testing.T) string {
	t.Helper()
	var all strings.Builder
	for _, n := range c.pgpools {
		data, err := os.ReadFile(filepath.Join(c.h(n).logs, "pgpool.log"))
		must(t, err)
		all.Write(data)
	}
	return all.String()
}

// The follow script's log lines for a rewind that worked and for its fallback.
const (
	rewindDone     = "pg_rewind done"
	rewindFallback = "pg_rewind failed"
)

// A writer inserts numbered rows through pgpool as the application user, each in a
// transaction of its own, and keeps the numbers whose commit was acknowledged.
type writer struct {
	mu    sync.Mutex
	acked []int
	quit  chan struct{}
	done  chan struct{}
}

func (c *cluster) startWriter() *writer {
	w := &writer{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 1; i <= 100000; i++ {
			select {
			case <-w.quit:
				return
			default:
			}
			if _, err := c.sql(c.app, fmt.Sprintf("INSERT INTO acked VALUES (%d)", i)); err == nil {
				w.mu.Lock()
				w.acked = append(w.acked, i)
				w.mu.Unlock()
			} else {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	return w
}

// waitAcked waits until n more commits than now were acknowledged, for at most timeout.
func (w *writer) waitAcked(n int, timeout time.Duration) bool {
	w.mu.Lock()
	from := len(w.acked)
	w.mu.Unlock()
	_, ok := proc.WaitFor(timeout, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.acked) >= from+n
	})
	return ok
}

// stop lets the writer get n more commits acknowledged (after the failover), stops it and
// returns the acknowledged numbers.
func (w *writer) stop(t *testing.T, n int, timeout time.Duration) []int {
	t.Helper()
	if !w.waitAcked(n, timeout) {
		t.Errorf("the writer got no %d more commits acknowledged within %s", n, timeout)
	}
	close(w.quit)
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("the writer did not stop")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.acked...)
}

// checkAcked counts the acknowledged rows on h's server: none may be missing.
func (c *cluster) checkAcked(t *testing.T, h *host, acked []int) {
	t.Helper()
	got, err := c.direct(h, "SELECT n FROM acked ORDER BY n")
	if err != nil {
		t.Fatalf("reading the acknowledged rows on %s: %v %s", h.name, err, got)
	}
	have := map[int]bool{}
	for _, l := range strings.Fields(got) {
		n, _ := strconv.Atoi(l)
		have[n] = true
	}
	var lost []int
	for _, n := range acked {
		if !have[n] {
			lost = append(lost, n)
		}
	}
	fmt.Printf("e2e: writes through the failover: %d commits acknowledged, %d of them lost\n", len(acked), len(lost))
	if len(lost) > 0 {
		t.Errorf("%d acknowledged commits are not on %s: %v", len(lost), h.name, lost)
	}
}

// checkReload changes the bundle's block in h's pg_hba.conf behind setup's back, while the
// server runs: setup puts it right and says that PostgreSQL must reload, without reloading
// it; setup --reload reloads it; then nothing is left to change.
func (c *cluster) checkReload(t *testing.T, h *host) {
	loaded := func() string {
		got, err := c.direct(h, "SELECT pg_conf_load_time()")
		if err != nil {
			t.Fatalf("pg_conf_load_time on %s: %v %s", h.name, err, got)
		}
		return got
	}
	hba := filepath.Join(h.root, confDir, "pg_hba.conf")
	data, err := os.ReadFile(hba)
	must(t, err)
	var kept []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.Contains(l, "::1/128") {
			kept = append(kept, l)
		}
	}
	must(t, os.WriteFile(hba, []byte(strings.Join(kept, "\n")), 0o640))
	before := loaded()
	out := c.setup(t, h)
	if !strings.Contains(out, "update this cluster's lines in "+confDir+"/pg_hba.conf") || !strings.Contains(out, "note: PostgreSQL's settings or pg_hba.conf changed while it runs") {
		t.Errorf("setup of %s after pg_hba.conf changed:\n%s", h.name, out)
	}
	if loaded() != before {
		t.Errorf("setup without --reload reloaded PostgreSQL on %s", h.name)
	}
	// setup put the file right: a second run finds nothing, and --reload has nothing to do.
	if out := c.setup(t, h, "--reload"); !strings.Contains(out, "nothing to change") {
		t.Errorf("setup --reload on a host set up again:\n%s", out)
	}
	must(t, os.WriteFile(hba, []byte(strings.Join(kept, "\n")), 0o640))
	out = c.setup(t, h, "--reload")
	if !strings.Contains(out, "change: reload PostgreSQL (pg_ctl reload)") {
		t.Errorf("setup --reload of %s after pg_hba.conf changed:\n%s", h.name, out)
	}
	if _, ok := proc.WaitFor(10*time.Second, func() bool { return loaded() != before }); !ok {
		t.Errorf("setup --reload did not reload PostgreSQL on %s", h.name)
	}
}
