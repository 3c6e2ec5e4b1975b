//go:build e2e

// Package e2e proves bundles on real servers: Debian 12's PostgreSQL 15, pgpool-II 4.3 and
// OpenSSH, each "host" a mount and network namespace of its own on a private test network;
// and pgpool-II 4.7 from ../shared/pgpool-builds (builds_test.go). Run it with make e2e, as
// root.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pgpoolgen/e2e/internal/proc"
)

const (
	pgBin     = "/usr/lib/postgresql/15/bin"
	home      = "/var/lib/postgresql"
	dataDir   = home + "/15/main"
	confDir   = "/etc/postgresql/15/main" // Debian's: pg_createcluster's postgresql.conf and pg_hba.conf
	osUser    = "postgres"
	pgpoolBin = "/usr/sbin" // Debian's pgpool2; a cluster on a build has its own (cluster.pgpoolBin)
)

// boundDirs are the folders each host has of its own: its root prefix's copy is bind-mounted
// over the real one inside the host's mount namespace.
// Every folder a setup.sh writes into is one of them: the system folders too (sudoers.d, the
// units, tmpfiles.d), or setup would install a host's sudoers rule and units on the machine
// that runs the test (bringUp refuses a bundle with a destination outside them).
// /root too: the hand-off logs in to the hosts as root, whose login shell would read the
// machine's root's startup files, and Ansible would leave its files in the machine's /root.
var boundDirs = []string{home, "/etc/pgpool2", "/etc/postgresql", "/var/run/postgresql", "/var/log/postgresql", "/etc/ssh/e2e",
	"/etc/sudoers.d", "/etc/systemd/system", "/etc/tmpfiles.d", stagingDir, secretsParent, "/root"}

// procs are the processes the test starts: cleanup stops each by its id, also when a check
// fails or the run is interrupted.
var procs = &proc.Set{Grace: 5 * time.Second}

// track starts c and records it; a failure to start fails the test.
func track(t *testing.T, name string, c *exec.Cmd, exited func()) {
	t.Helper()
	if _, err := procs.Start(name, c, syscall.SIGTERM, exited); err != nil {
		if exited != nil {
			exited()
		}
		t.Fatalf("%s: %v", name, err)
	}
}

func TestMain(m *testing.M) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "e2e: interrupted; stopping everything it started")
		stopPostgres()
		procs.Shutdown()
		sweepNamespaces()
		os.Exit(2)
	}()
	code := m.Run()
	stopPostgres()
	procs.Shutdown()
	sweepNamespaces()
	os.Exit(code)
}

// The test network: the hosts' addresses are testNet.10 (pgpool) to .13 (pg3) on a /24.
// 10.213.0.0/24 because it is private (RFC 1918) and used by nothing on this machine, whose
// own network is 192.0.2.0/24 and fd00::/64 (192.0.2.x and 192.168.0.x are also the golden
// files' addresses); IPv4 because a new IPv6 address is tentative (duplicate address
// detection) for a while and cannot be bound before that, which would race sshd and
// PostgreSQL.
const (
	testNet  = "10.213.0"
	netMask  = 24
	bridgeIf = "br0"
)

// A network is the hosts' private network: a bridge in a network namespace of its own (the
// switch), held by a tracked process, with one veth pair to each host. Nothing of it is in the
// root namespace: no interface, no route, so the hosts cannot reach out and the machine cannot
// reach in. When the holders end, the namespaces go, and with them the bridge and the veths.
type network struct {
	switchPID int
}

// newNetwork starts the switch.
func newNetwork(t *testing.T) *network {
	t.Helper()
	pid := holdNamespace(t, "switch namespace", []string{"--net"},
		"ip link add "+bridgeIf+" type bridge forward_delay 0 && ip link set "+bridgeIf+" up")
	return &network{switchPID: pid}
}

// attach connects a host's namespace to the switch: a veth pair made in the switch, its host
// end moved straight into the host's namespace as eth0 with the host's address. The only route
// the host gets is its /24.
func (n *network) attach(t *testing.T, h *host) {
	t.Helper()
	port := "v-" + h.name // at most 15 bytes: an interface name's limit
	nsIP(t, n.switchPID, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", fmt.Sprint(h.nsPID))
	nsIP(t, n.switchPID, "link", "set", port, "master", bridgeIf, "up")
	nsIP(t, h.nsPID, "addr", "add", fmt.Sprintf("%s/%d", h.addr, netMask), "dev", "eth0")
	nsIP(t, h.nsPID, "link", "set", "eth0", "up")
}

// nsIP runs ip(8) in the network namespace of process pid.
func nsIP(t *testing.T, pid int, args ...string) {
	t.Helper()
	runAs(t, "root", append([]string{"nsenter", "-t", fmt.Sprint(pid), "-n", "--", "ip"}, args...)...)
}

// holdNamespace starts a tracked process in new namespaces (unshare's flags), which runs
// script there and then sleeps, holding them until the test stops it; it returns the pid.
func holdNamespace(t *testing.T, name string, flags []string, script string) int {
	t.Helper()
	args := append(append([]string{}, flags...), "--", "sh", "-c", script+" && echo ready && exec sleep 7200")
	cmd := exec.Command("unshare", args...)
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	track(t, name, cmd, nil)
	buf := make([]byte, 6)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("%s did not come up: %v %q", name, err, buf)
	}
	if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)); err == nil {
		ourNets.Lock()
		ourNets.ns[ns] = true
		ourNets.Unlock()
	}
	return cmd.Process.Pid
}

// ourNets are the network namespaces the test made (net:[inode]), for sweepNamespaces.
var ourNets = struct {
	sync.Mutex
	ns map[string]bool
}{ns: map[string]bool{}}

// sweepNamespaces kills, by process id, every process still in a network namespace the test
// made once the processes it started are stopped: programs that left the process group they
// were started in (pgpool-II, which makes its own; sshd's session processes, which call
// setsid) would otherwise live on, pgpool still running a follow script's ssh that waits on a
// host that is gone.
func sweepNamespaces() {
	ourNets.Lock()
	defer ourNets.Unlock()
	if len(ourNets.ns) == 0 {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && ourNets.ns[ns] {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// Their namespaces go with their last process; the kernel may give a later one the same
	// name, which must not be swept as this cluster's.
	clear(ourNets.ns)
}

// A host is one machine of the cluster: a mount namespace in which its root prefix's folders
// stand at the real paths, and a network namespace with lo and eth0, its address on the test
// network. Connections it makes come from that address, as pg_hba.conf, pool_hba.conf and
// authorized_keys from= expect.
type host struct {
	name, addr string
	root       string // its root prefix
	nsPID      int    // a process holding its mount and network namespaces
	logs       string
}

// newHost makes the root prefix and the namespaces, and connects the host to the network.
// mounts are more mount commands for the host's namespace, after its own folders'.
func newHost(t *testing.T, work string, net *network, name, addr string, mounts []string) *host {
	t.Helper()
	h := &host{name: name, addr: addr, root: filepath.Join(work, "hosts", name), logs: filepath.Join(work, "logs", name)}
	must(t, os.MkdirAll(h.logs, 0o777))
	for _, d := range boundDirs {
		must(t, os.MkdirAll(filepath.Join(h.root, d), 0o755))
		must(t, os.MkdirAll(d, 0o755))
	}
	runAs(t, "root", "chown", osUser+":"+osUser, filepath.Join(h.root, home), filepath.Join(h.root, "/var/run/postgresql"), filepath.Join(h.root, "/var/log/postgresql"))
	var script strings.Builder
	for _, d := range boundDirs {
		fmt.Fprintf(&script, "mount --bind %q %q && ", filepath.Join(h.root, d), d)
	}
	for _, m := range mounts {
		script.WriteString(m + " && ")
	}
	script.WriteString("ip link set lo up")
	h.nsPID = holdNamespace(t, name+" namespace", []string{"--mount", "--net", "--propagation", "private"}, script.String())
	net.attach(t, h)
	return h
}

// cmd prepares a command run inside the host's namespaces as user.
func (h *host) cmd(ctx context.Context, user string, args ...string) *exec.Cmd {
	full := []string{"-t", fmt.Sprint(h.nsPID), "-m", "-n", "--"}
	if user != "root" {
		full = append(full, "runuser", "-u", user, "--")
	}
	c := exec.CommandContext(ctx, "nsenter", append(full, args...)...)
	c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=" + home}
	if user == "root" {
		c.Env[2] = "HOME=/root"
	}
	return c
}

// run runs a command in the host's namespace, bounded by timeout, and returns its output.
func (h *host) run(timeout time.Duration, user string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := h.cmd(ctx, user, args...)
	c.Env = append(c.Env, env...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	// On timeout the whole group goes: runuser's child (psql, say) would otherwise live on,
	// holding the output pipe, and Run would wait for it forever.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 5 * time.Second
	err := c.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return out.String(), err
}

// mustRun is run that fails the test on error.
func (h *host) mustRun(t *testing.T, timeout time.Duration, user string, args ...string) string {
	t.Helper()
	out, err := h.run(timeout, user, nil, args...)
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", h.name, strings.Join(args, " "), err, out)
	}
	return out
}

// start starts a long-running program in the host's namespace, its output appended to
// name.log in the host's log folder (a restarted program keeps its earlier lines); the test
// stops it at the end.
func (h *host) start(t *testing.T, name, user string, args ...string) *exec.Cmd {
	t.Helper()
	c := h.cmd(context.Background(), user, args...)
	log, err := os.OpenFile(filepath.Join(h.logs, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	must(t, err)
	c.Stdout, c.Stderr = log, log
	track(t, h.name+" "+name, c, func() { log.Close() })
	return c
}

// postgresDirs are the data directories whose servers cleanup stops.
var postgresDirs struct {
	sync.Mutex
	hosts []*host
}

// stopPostgres stops every PostgreSQL server started in a data directory of a host, by the
// process id in postmaster.pid: they were started by pg_ctl, by the test or by the scripts.
func stopPostgres() {
	postgresDirs.Lock()
	defer postgresDirs.Unlock()
	for _, h := range postgresDirs.hosts {
		data, err := os.ReadFile(filepath.Join(h.root, dataDir, "postmaster.pid"))
		if err != nil {
			continue
		}
		var pid int
		fmt.Sscan(strings.SplitN(string(data), "\n", 2)[0], &pid)
		if pid <= 1 || syscall.Kill(pid, 0) != nil {
			continue
		}
		syscall.Kill(pid, syscall.SIGQUIT) // immediate shutdown
		for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
	postgresDirs.hosts = nil
}

func watchPostgres(h *host) {
	postgresDirs.Lock()
	postgresDirs.hosts = append(postgresDirs.hosts, h)
	postgresDirs.Unlock()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runAs runs a program outside the namespaces.
func runAs(t *testing.T, user string, args ...string) string {
	t.Helper()
	if user != "root" {
		args = append([]string{"runuser", "-u", user, "--"}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
