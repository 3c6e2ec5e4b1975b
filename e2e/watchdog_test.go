//go:build e2e && watchdog

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"pgpoolgen/e2e/internal/proc"
)

// The watchdog e2e (make watchdog): three pgpool hosts with watchdog and a virtual IP in front
// of three backends (e2e/watchdog/cluster.toml), each host in a network namespace of its own,
// and a client namespace on the same bridge that reaches pgpool only through the virtual IP.

// clientAddr is the client namespace's address: no host of the spec has it.
const clientAddr = testNet + ".30"

// A wdCluster is the running watchdog cluster, with the watchdog state the checks found.
type wdCluster struct {
	*cluster
	vip    string // the virtual IP, without its prefix
	leader string // the pgpool host the watchdog made leader
}

func TestWatchdog(t *testing.T) {
	began := time.Now()
	defer func() {
		printSummary()
		fmt.Printf("e2e: watchdog: the whole test took %.1f s\n", time.Since(began).Seconds())
	}()
	c := &wdCluster{cluster: bringUp(t, "watchdog"), vip: readVIP(t, "watchdog/cluster.toml")}
	defer teardown(c.cluster)
	if len(c.pgpools) != 3 || len(c.backends) != 3 {
		t.Fatalf("the watchdog spec has pgpool hosts %v and backends %v, want 3 of each", c.pgpools, c.backends)
	}
	c.addClient(t)
	c.startPgpool(t)

	if !check(t, "watchdog_one_leader_two_standbys_with_quorum", func(t *testing.T) {
		c.leader = c.waitWatchdog(t, 60*time.Second, c.pgpools, "", 2)
		t.Logf("leader: %s", c.leader)
	}) {
		return
	}
	// The standbys first: until they exist, pgpool's checks fail on them, quarantine them and
	// put them back with each quorum change, and a client may meet a node that is not there.
	// Through the leader's own address: the VIP has its own check.
	c.admin, c.from, c.to = c.h(c.leader), c.h(c.leader), c.h(c.leader).addr
	if !check(t, "pcp_recovery_node_makes_the_standbys", func(t *testing.T) {
		c.recover(t, 1)
		c.recover(t, 2)
		c.waitNodes(t, 30*time.Second, "3 nodes, both standbys streaming", func(nodes []node) bool {
			return len(nodes) == 3 && nodes[1].replState == "streaming" && nodes[2].replState == "streaming"
		})
	}) {
		return
	}
	c.from, c.to = c.h("client"), c.vip
	if !check(t, "vip_on_the_leader_only_and_clients_connect_through_it", func(t *testing.T) {
		c.waitVIP(t, 30*time.Second, c.leader)
		c.checkServedBy(t, c.leader)
	}) {
		return
	}
	check(t, "sudoers_allows_only_the_vip_commands", c.checkSudoers)
	check(t, "pgpool_show_reads_back_every_parameter", c.checkPgpoolShow)
	check(t, "ssh_trust_is_exactly_the_graph", func(t *testing.T) { c.checkSSHTrust(t, "pg2", c.pgpools[0]) })

	old := c.leader
	if !check(t, "leader_killed_another_leads_escalates_and_holds_the_vip", func(t *testing.T) {
		c.checkLeaderKilled(t)
	}) {
		return
	}
	check(t, "old_leader_returns_as_standby", func(t *testing.T) {
		h := c.h(old)
		c.startPgpoolOn(t, h)
		c.waitPgpool(t, h)
		if got := c.waitWatchdog(t, 60*time.Second, c.pgpools, "", 2); got != c.leader {
			t.Errorf("after %s came back the leader is %s, want %s to stay leader", old, got, c.leader)
		}
		c.waitVIP(t, 10*time.Second, c.leader)
		c.checkServedBy(t, c.leader)
	})
	check(t, "backend_failover_runs_once_with_three_pgpools_and_follow_repoints", c.checkBackendFailover)
	check(t, "two_of_three_pgpools_down_no_node_holds_the_vip", c.checkNoQuorum)
}

// readVIP reads watchdog.virtual_ip from the spec, without its prefix.
func readVIP(t *testing.T, path string) string {
	t.Helper()
	var spec struct {
		Watchdog struct {
			VirtualIP string `toml:"virtual_ip"`
		} `toml:"watchdog"`
	}
	if _, err := toml.DecodeFile(path, &spec); err != nil {
		t.Fatal(err)
	}
	vip, _, _ := strings.Cut(spec.Watchdog.VirtualIP, "/")
	if !strings.HasPrefix(vip, testNet+".") {
		t.Fatalf("%s: watchdog.virtual_ip %q is not on the test network", path, spec.Watchdog.VirtualIP)
	}
	return vip
}

// addClient makes the client namespace on the test network: no pgpool runs in it, so every
// query from it that gets answered went through the VIP to whichever pgpool host holds it.
func (c *wdCluster) addClient(t *testing.T) {
	t.Helper()
	c.hosts["client"] = newHost(t, c.work, c.net, "client", clientAddr, nil)
}

// A wdNode is a node of pcp_watchdog_info -v, as one pgpool host sees it.
type wdNode struct{ host, status string }

// A wdInfo is pcp_watchdog_info -v's answer on one pgpool host.
type wdInfo struct {
	total, quorumNeeded int
	quorum              string // "QUORUM EXIST", "QUORUM ABSENT", ...
	escalated           string // the local node's escalation: YES or NO
	leaderHost          string
	nodes               []wdNode
	raw                 string
}

// watchdogInfo asks pgpool on host h for pcp_watchdog_info -v.
func (c *wdCluster) watchdogInfo(h *host) (wdInfo, error) {
	out, err := c.pcpOn(h, 20*time.Second, nil, "pcp_watchdog_info", "-w", "-v")
	info := wdInfo{raw: out}
	if err != nil {
		return info, fmt.Errorf("pcp_watchdog_info on %s: %v: %s", h.name, err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "Total Nodes":
			info.total, _ = strconv.Atoi(v)
		case "Nodes required for quorum":
			info.quorumNeeded, _ = strconv.Atoi(v)
		case "Quorum state":
			info.quorum = v
		case "Local node escalation":
			info.escalated = v
		case "Leader Host Name":
			info.leaderHost = v
		case "Host Name":
			info.nodes = append(info.nodes, wdNode{host: v})
		case "Status Name":
			if len(info.nodes) > 0 {
				info.nodes[len(info.nodes)-1].status = v
			}
		}
	}
	return info, nil
}

// byAddr is the host at an address.
func (c *wdCluster) byAddr(addr string) string {
	for n, h := range c.hosts {
		if h.addr == addr {
			return n
		}
	}
	return ""
}

// waitWatchdog waits until pcp_watchdog_info on every host of alive agrees: three nodes, one
// leader (not notLeader, if given), the other alive hosts standbys, quorum, and the leader
// itself escalated; it returns the leader. standbys is how many of the alive hosts are to be
// standbys.
func (c *wdCluster) waitWatchdog(t *testing.T, timeout time.Duration, alive []string, notLeader string, standbys int) string {
	t.Helper()
	var leader, last string
	took, ok := proc.WaitFor(timeout, func() bool {
		leader, last = "", ""
		for _, n := range alive {
			info, err := c.watchdogInfo(c.h(n))
			last += fmt.Sprintf("--- %s:\n%s%v\n", n, info.raw, err)
			if err != nil || info.total != 3 || info.quorum != "QUORUM EXIST" {
				return false
			}
			l := c.byAddr(info.leaderHost)
			if l == "" || l == notLeader || leader != "" && l != leader || !slices.Contains(alive, l) {
				return false
			}
			leader = l
			var leaders, stands int
			for _, nd := range info.nodes {
				name := c.byAddr(nd.host)
				switch {
				case nd.status == "LEADER" && name == l:
					leaders++
				case nd.status == "STANDBY" && slices.Contains(alive, name):
					stands++
				}
			}
			// pcp_watchdog_info lists the local node first, then the others.
			if len(info.nodes) != 3 || leaders != 1 || stands != standbys {
				return false
			}
			if n == l && info.escalated != "YES" {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("after %s the watchdog does not show one leader%s and %d standbys with quorum on %v; pcp_watchdog_info last said:\n%s\nsee the logs in %s",
			took.Round(time.Millisecond), map[bool]string{true: " other than " + notLeader}[notLeader != ""], standbys, alive, last, filepath.Join(c.work, "logs"))
	}
	t.Logf("watchdog settled in %s: leader %s", took.Round(time.Millisecond), leader)
	return leader
}

// vipHolders are the hosts (every namespace the test made) whose eth0 has the virtual IP.
func (c *wdCluster) vipHolders(t *testing.T) []string {
	t.Helper()
	var holders []string
	for _, n := range append(append([]string{}, c.order...), "client") {
		out := c.h(n).mustRun(t, 10*time.Second, "root", "ip", "-4", "-o", "addr", "show")
		if strings.Contains(out, " "+c.vip+"/") {
			holders = append(holders, n)
		}
	}
	return holders
}

// waitVIP waits until exactly the host want holds the virtual IP (none, if want is "").
func (c *wdCluster) waitVIP(t *testing.T, timeout time.Duration, want string) {
	t.Helper()
	var got []string
	wanted := []string{}
	if want != "" {
		wanted = []string{want}
	}
	took, ok := proc.WaitFor(timeout, func() bool {
		got = c.vipHolders(t)
		return slices.Equal(got, wanted) || len(got) == 0 && len(wanted) == 0
	})
	if !ok {
		t.Fatalf("after %s the virtual IP %s is on %v, want it on %v only; see the pgpool logs in %s", took.Round(time.Millisecond), c.vip, got, wanted, filepath.Join(c.work, "logs"))
	}
}

// checkServedBy connects from the client namespace through the virtual IP and asks the
// backend where pgpool's connection comes from: the pgpool host that holds the VIP.
func (c *wdCluster) checkServedBy(t *testing.T, pgpool string) {
	t.Helper()
	if out, err := c.sql(appUser, "SELECT current_user"); err != nil || out != appUser {
		t.Fatalf("%s through the virtual IP from the client namespace: %v %s", appUser, err, out)
	}
	// pgpool opens its backend connections from its host's own address, not the VIP.
	if got, err := c.sql("postgres", "SELECT host(inet_client_addr())"); err != nil || got != c.h(pgpool).addr {
		t.Errorf("a query through the virtual IP reached the backend from %q (%v), want from %s, the leader", got, err, c.h(pgpool).addr)
	}
}

// checkSudoers runs the VIP commands of pgpool.conf as the OS user on a standby (no VIP
// there): sudo lets it take down the VIP; and refuses the same command for another address.
func (c *wdCluster) checkSudoers(t *testing.T) {
	var standby *host
	for _, n := range c.pgpools {
		if n != c.leader {
			standby = c.h(n)
			break
		}
	}
	conf, err := os.ReadFile(filepath.Join(standby.root, "/etc/pgpool2/pgpool.conf"))
	must(t, err)
	down := confValue(t, string(conf), "if_down_cmd")
	args := strings.Fields(down)
	if len(args) < 3 || args[0] != "sudo" {
		t.Fatalf("if_down_cmd = %q: want a sudo command", down)
	}
	// ip addr del of an address the host does not have fails in ip, after sudo allowed it.
	out, err := standby.run(10*time.Second, osUser, nil, args...)
	if err == nil || strings.Contains(out, "sudo:") {
		t.Errorf("%s on %s (no VIP there): sudo should allow it and ip fail: %v %s", down, standby.name, err, out)
	}
	other := strings.Replace(down, c.vip+"/", testNet+".99/", 1)
	out, err = standby.run(10*time.Second, osUser, nil, strings.Fields(other)...)
	if err == nil || !strings.Contains(out, "sudo:") {
		t.Errorf("%s on %s: sudo should refuse it (another address): %v %s", other, standby.name, err, out)
	}
	out, err = standby.run(10*time.Second, osUser, nil, "sudo", "-n", "/usr/bin/id")
	if err == nil || !strings.Contains(out, "sudo:") {
		t.Errorf("sudo -n /usr/bin/id on %s should be refused: %v %s", standby.name, err, out)
	}
}

// confValue reads name = 'value' from a pgpool.conf.
func confValue(t *testing.T, conf, name string) string {
	t.Helper()
	for _, l := range strings.Split(conf, "\n") {
		if v, ok := strings.CutPrefix(l, name+" = "); ok {
			return strings.Trim(v, "'")
		}
	}
	t.Fatalf("pgpool.conf has no %s", name)
	return ""
}

// killPgpool kills every pgpool process of host h at once with SIGKILL, as a crash of the
// pgpool service would: pgpool-II's children outlive their main process, so killing only it
// would leave the watchdog and heartbeat processes answering for a dead pgpool.
func (c *wdCluster) killPgpool(t *testing.T, h *host) {
	t.Helper()
	pids := c.pgpoolPIDs(h)
	if len(pids) == 0 {
		t.Fatalf("no pgpool process runs on %s", h.name)
	}
	// Again until none is left: a process pgpool forked while the first ones were listed
	// (a child replacing one that ended) escapes the first round.
	if _, ok := proc.WaitFor(10*time.Second, func() bool {
		for _, pid := range c.pgpoolPIDs(h) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		return len(c.pgpoolPIDs(h)) == 0
	}); !ok {
		t.Fatalf("pgpool processes of %s outlive SIGKILL: %v", h.name, c.pgpoolPIDs(h))
	}
}

// pgpoolPIDs are the processes of /usr/sbin/pgpool in h's network namespace.
func (c *wdCluster) pgpoolPIDs(h *host) []int {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", h.nsPID))
	if err != nil {
		return nil
	}
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if n, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); n != ns {
			continue
		}
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == pgpoolBin+"/pgpool" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// probe tries a query through the virtual IP from the client namespace every 100 ms until one
// succeeds, for at most timeout; it returns the time of the first success after from.
func (c *wdCluster) probe(timeout time.Duration) (time.Time, bool) {
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		// libpq's shortest connect timeout is 2 s: a VIP nobody answers for yet costs that.
		out, err := c.from.run(5*time.Second, osUser, []string{"PGPASSWORD=" + loginPassword[appUser], "PGCONNECT_TIMEOUT=2"},
			pgBin+"/psql", "-X", "-A", "-t", "-w", "-h", c.vip, "-p", "9999", "-U", appUser, "-d", "postgres", "-c", "SELECT 1")
		if err == nil && strings.TrimSpace(out) == "1" {
			return time.Now(), true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Time{}, false
}

// checkLeaderKilled kills the leader's pgpool and follows the watchdog: another host leads,
// its escalation took the VIP off the killed host (whose pgpool could not), it holds the VIP,
// and clients through the VIP work again.
func (c *wdCluster) checkLeaderKilled(t *testing.T) {
	old := c.h(c.leader)
	if out, err := c.sql(appUser, "SELECT 1"); err != nil {
		t.Fatalf("a query through the virtual IP before the kill: %v %s", err, out)
	}
	start := time.Now()
	c.killPgpool(t, old)
	at, ok := c.probe(90 * time.Second)
	if !ok {
		t.Fatalf("no query through the virtual IP succeeded within 90 s of killing the leader %s; VIP on %v", old.name, c.vipHolders(t))
	}
	fmt.Printf("e2e: watchdog: %.1f s from killing the leader pgpool (%s, SIGKILL) to the first successful query through the virtual IP\n", at.Sub(start).Seconds(), old.name)
	var alive []string
	for _, n := range c.pgpools {
		if n != old.name {
			alive = append(alive, n)
		}
	}
	c.leader = c.waitWatchdog(t, 60*time.Second, alive, old.name, 1)
	t.Logf("new leader: %s", c.leader)
	// The killed pgpool never ran if_down_cmd: only the new leader's escalation.sh, over ssh,
	// takes the VIP off that host.
	c.waitVIP(t, 30*time.Second, c.leader)
	c.checkServedBy(t, c.leader)
	c.admin = c.h(c.leader)
}

// checkBackendFailover kills the primary with three pgpools watching: with consensus, one
// failover.sh runs (on the leader) in all three pgpool hosts' logs, the standby is promoted, the
// follow script re-points the other standby, and writes through the VIP work.
func (c *wdCluster) checkBackendFailover(t *testing.T) {
	// The logs' lengths now: only what comes after the kill is counted.
	offsets := map[string]int{}
	for _, n := range c.pgpools {
		data, err := os.ReadFile(filepath.Join(c.h(n).logs, "pgpool.log"))
		must(t, err)
		offsets[n] = len(data)
	}
	if out, err := c.sql("postgres", "CREATE TABLE kept (n int); INSERT INTO kept SELECT generate_series(1, 100)"); err != nil {
		t.Fatalf("write through the virtual IP before the kill: %v %s", err, out)
	}
	start := time.Now()
	c.h(c.backends[0]).mustRun(t, time.Minute, osUser, pgBin+"/pg_ctl", "-D", dataDir, "-m", "immediate", "stop")
	took, ok := proc.WaitFor(90*time.Second, func() bool {
		_, err := c.sql("postgres", "INSERT INTO kept SELECT 101 WHERE NOT EXISTS (SELECT FROM kept WHERE n = 101)")
		return err == nil
	})
	if !ok {
		t.Fatalf("no write through the virtual IP succeeded within %s of killing the primary", took)
	}
	fmt.Printf("e2e: watchdog: %.1f s from killing the primary to the first successful write through the virtual IP\n", time.Since(start).Seconds())
	nodes := c.waitNodes(t, 60*time.Second, "node 1 or 2 primary, node 0 down, the other up and streaming", func(nodes []node) bool {
		if len(nodes) != 3 || nodes[0].status != "down" {
			return false
		}
		p, q := nodes[1], nodes[2]
		if q.role == "primary" {
			p, q = q, p
		}
		return p.role == "primary" && q.status == "up" && q.replState == "streaming"
	})
	c.newPrimary, c.follower = "pg2", "pg3"
	if nodes[2].role == "primary" {
		c.newPrimary, c.follower = "pg3", "pg2"
	}
	c.checkSlots(t, c.h(c.newPrimary), c.follower+":t:streaming")
	c.checkRewound(t, c.follower)
	// Every pgpool saw the primary fail; failover.sh runs where the watchdog decides, once.
	// A second run would have come within the health check's period and the follow script.
	time.Sleep(3 * time.Second)
	var runs, saw []string
	consensus := false
	for _, n := range c.pgpools {
		data, err := os.ReadFile(filepath.Join(c.h(n).logs, "pgpool.log"))
		must(t, err)
		failed := false
		for _, l := range strings.Split(string(data[offsets[n]:]), "\n") {
			switch {
			case strings.Contains(l, "failover.sh: called with"):
				runs = append(runs, n+": "+l)
			case strings.Contains(l, "health check failed on node 0 "):
				failed = true
			case n == c.leader && strings.Contains(l, "we have got the consensus to perform the failover"):
				consensus = true
			}
		}
		if failed {
			saw = append(saw, n)
		}
	}
	// The watching is real: more than one pgpool found the primary gone, and the leader
	// failed over on their votes, not alone.
	if len(saw) < 2 || !consensus {
		t.Errorf("the primary's failure was seen by the health checks of %v, and the leader %s logged the consensus: %v; want two pgpools or more and the consensus", saw, c.leader, consensus)
	}
	if len(runs) != 1 {
		t.Errorf("failover.sh ran %d times across the three pgpool hosts after the primary was killed, want once:\n%s", len(runs), strings.Join(runs, "\n"))
	} else if !strings.HasPrefix(runs[0], c.leader+": ") {
		t.Errorf("failover.sh ran on another host than the watchdog leader %s: %s", c.leader, runs[0])
	}
	if n, err := c.direct(c.h(c.newPrimary), "SELECT count(*) FROM kept"); err != nil || n != "101" {
		t.Errorf("rows on the new primary after failover: %s %v, want 101", n, err)
	}
}

// checkNoQuorum kills the two standby pgpools: the leader alone has no quorum and must give
// up the virtual IP, and no host may hold it.
func (c *wdCluster) checkNoQuorum(t *testing.T) {
	var standbys []string
	for _, n := range c.pgpools {
		if n != c.leader {
			standbys = append(standbys, n)
		}
	}
	l := c.h(c.leader)
	// One standby down: the leader keeps quorum (2 of 3) and the VIP.
	c.killPgpool(t, c.h(standbys[0]))
	c.waitWatchdog(t, 60*time.Second, []string{c.leader, standbys[1]}, "", 1)
	c.waitVIP(t, 10*time.Second, c.leader)
	start := time.Now()
	c.killPgpool(t, c.h(standbys[1]))
	_, ok := proc.WaitFor(90*time.Second, func() bool { return len(c.vipHolders(t)) == 0 })
	if !ok {
		info, _ := c.watchdogInfo(l)
		t.Fatalf("90 s after two of three pgpools were killed the virtual IP is still on %v; pcp_watchdog_info on %s:\n%s", c.vipHolders(t), l.name, info.raw)
	}
	fmt.Printf("e2e: watchdog: %.1f s from killing the second of three pgpools to the VIP gone from the last one\n", time.Since(start).Seconds())
	info, err := c.watchdogInfo(l)
	if err != nil || info.quorum == "QUORUM EXIST" {
		t.Errorf("pcp_watchdog_info on %s with two of three pgpools down: %v\n%s", l.name, err, info.raw)
	}
	// The VIP stays down: the lone pgpool does not take it back.
	time.Sleep(5 * time.Second)
	if got := c.vipHolders(t); len(got) != 0 {
		t.Errorf("the virtual IP came back on %v with two of three pgpools down", got)
	}
}
