//go:build e2e && faults

package e2e

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"pgpoolgen/e2e/internal/proc"
)

// The fault benchmark (make faults): each fault on a cluster of the bundle's defaults
// (e2e/faults/cluster.toml), timed from the fault to the first write through pgpool, with
// pgpool's log milestones; and the freeze on pgpool-II 4.7 (e2e/faults-47/cluster.toml), whose
// health check does not fail a frozen server (pgpool.FrozenServerUnbounded), to show whether
// a build still has that bug (`-run 'TestFaults/freeze-4.7'` runs that row alone). A
// benchmark, not a timed test: it fails only when the harness cannot do what it has to (bring
// a cluster up, inject a fault), never on a figure.
var (
	trials     = flag.Int("trials", 3, "runs of each fault")
	faultWait  = flag.Duration("fault-wait", 90*time.Second, "how long a freeze or a cut lasts at most before it is undone")
	wait47     = flag.Duration("fault-wait-47", 30*time.Second, "how long the freeze on pgpool-II 4.7 lasts at most: more than 3 times the 9 s the defaults fail a frozen server over in")
	faultsOut  = flag.String("faults-out", "/var/tmp/pgpoolgen-faults.md", "file the Markdown table is written to")
	afterUndo  = 60 * time.Second // how long writes are tried once a freeze or a cut is undone
	blipQuiet  = 12 * time.Second // how long a failover may take to show after a blip ends
	stuckLimit = 60 * time.Second // a load client's statement longer than this is killed
	followWait = 30 * time.Second // how long the follow script may take after the first write
)

// The primary of every fresh cluster: node 0 on pg1.
const primaryAddr = testNet + ".11"

// Milestones in pgpool's log, for node 0 (the primary) where it says a node. 4.7 writes "===
// Starting degeneration. shutdown host ...", 4.3 "starting degeneration. shutdown host ...".
var (
	reCheckFailed = regexp.MustCompile(`health check failed on node 0 `)
	reDegenerate  = regexp.MustCompile(`(?i:starting degeneration)\. shutdown host ` + regexp.QuoteMeta(primaryAddr) + `\(`)
	reRequest     = regexp.MustCompile(`: (\S+) pid \d+: LOG:  received degenerate backend request for node_id: 0 from`)
	rePromoted    = regexp.MustCompile(`failover\.sh: node \d+ is the new primary`)
	reFollowed    = regexp.MustCompile(`follows node \d+ and is attached again`)
	reStamp       = regexp.MustCompile(`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}): `)
)

// TestMilestoneLines: the milestones match pgpool's own lines, as 4.3.5 and 4.7.2 wrote them
// on the e2e cluster (4.7 capitalises "Starting degeneration"); a pattern that matches one
// series only would read a 4.7 failover as none.
func TestMilestoneLines(t *testing.T) {
	for _, tc := range []struct {
		re    *regexp.Regexp
		lines []string
	}{
		{reCheckFailed, []string{
			"2026-12-01 16:43:32.968: health_check0 pid 24532: LOG:  health check failed on node 0 (timeout:1)",
			"2026-12-01 17:03:26.010: health_check0 pid 5296: LOG:  health check failed on node 0 (timeout:0)",
		}},
		{reDegenerate, []string{
			"2026-12-01 16:43:32.969: main pid 24523: LOG:  starting degeneration. shutdown host 10.213.0.11(5432)",
			"2026-12-01 17:03:26.011: main pid 5143: LOG:  === Starting degeneration. shutdown host 10.213.0.11(5432) ===",
		}},
		{reRequest, []string{
			"2026-12-01 16:43:32.968: health_check0 pid 24532: LOG:  received degenerate backend request for node_id: 0 from pid [24532]",
			"2026-12-01 17:03:26.010: health_check0 pid 5296: LOG:  received degenerate backend request for node_id: 0 from pid [5296]",
		}},
	} {
		for _, l := range tc.lines {
			if !tc.re.MatchString(l) {
				t.Errorf("%s does not match pgpool's line %q", tc.re, l)
			}
		}
	}
	if reDegenerate.MatchString("2026-12-01 17:03:26.011: main pid 5143: LOG:  === Starting degeneration. shutdown host 10.213.0.12(5432) ===") {
		t.Errorf("%s matches another node's degeneration", reDegenerate)
	}
}

// milestoneNames are the columns of the table, in the order a failover passes them.
var milestoneNames = []string{"check failed", "failover started", "promoted", "follow done"}

// A logWatch tails a file and stamps each line with when it was written: pgpool's own
// timestamp (log_line_prefix %m, to the millisecond) where the line has one, else the time it
// was seen (the scripts' lines carry whole seconds only); polled every 20 ms.
type logWatch struct {
	path  string
	mu    sync.Mutex
	lines []stampedLine
	quit  chan struct{}
	done  chan struct{}
}

type stampedLine struct {
	at   time.Time
	text string
}

func watchLog(path string) *logWatch {
	w := &logWatch{path: path, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var off int64
		var partial string
		for {
			if f, err := os.Open(w.path); err == nil {
				f.Seek(off, io.SeekStart)
				data, _ := io.ReadAll(f)
				f.Close()
				off += int64(len(data))
				now := time.Now()
				text := partial + string(data)
				parts := strings.Split(text, "\n")
				partial = parts[len(parts)-1]
				w.mu.Lock()
				for _, l := range parts[:len(parts)-1] {
					at := now
					if m := reStamp.FindStringSubmatch(l); m != nil {
						if t, err := time.ParseInLocation("2006-01-02 15:04:05.000", m[1], time.Local); err == nil && t.Sub(now).Abs() < 3*time.Second {
							at = t
						}
					}
					w.lines = append(w.lines, stampedLine{at, l})
				}
				w.mu.Unlock()
			}
			select {
			case <-w.quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *logWatch) stop() {
	close(w.quit)
	<-w.done
}

// find returns the first (or, with last, the last) line since from that matches re.
func (w *logWatch) find(from time.Time, re *regexp.Regexp, last bool) (stampedLine, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var got stampedLine
	found := false
	for _, l := range w.lines {
		if l.at.Before(from) || !re.MatchString(l.text) {
			continue
		}
		got, found = l, true
		if !last {
			break
		}
	}
	return got, found
}

// waitFor waits until a line since from matches re, until deadline.
func (w *logWatch) waitFor(from time.Time, re *regexp.Regexp, deadline time.Time) bool {
	_, ok := proc.WaitFor(time.Until(deadline), func() bool {
		_, ok := w.find(from, re, false)
		return ok
	})
	return ok
}

// milestones reads the failover's milestones since t0, in seconds from t0, and which pgpool
// process asked for the primary's degeneration.
func (w *logWatch) milestones(t0 time.Time) (map[string]float64, string) {
	m := map[string]float64{}
	for i, re := range []*regexp.Regexp{reCheckFailed, reDegenerate, rePromoted, reFollowed} {
		if l, ok := w.find(t0, re, i == 3); ok {
			m[milestoneNames[i]] = l.at.Sub(t0).Seconds()
		}
	}
	trigger := ""
	if l, ok := w.find(t0, reRequest, false); ok {
		// %a of log_line_prefix: pgpool's process name, or for a child serving a client the
		// client's application_name.
		switch trigger = reRequest.FindStringSubmatch(l.text)[1]; {
		case strings.HasPrefix(trigger, "health_check"), trigger == "sr_check_worker", trigger == "main":
		default:
			trigger = "a client's session (" + trigger + ")"
		}
	}
	return m, trigger
}

// A trial is the outcome of one run of a fault.
type trial struct {
	write      float64 // seconds from the fault to the first write through pgpool; <0: none
	milestones map[string]float64
	notes      []string
	load       *loadCounts // the load trials' counts
}

// loadCounts are what a load trial counts; a row adds them up over its trials, and keeps the
// longest waits.
type loadCounts struct {
	acked, lost, readsBefore, staleBefore, readsAfter, staleAfter, stuck int
	longStatement, longConnect                                           time.Duration
}

func (a *loadCounts) add(b *loadCounts) {
	a.acked += b.acked
	a.lost += b.lost
	a.readsBefore += b.readsBefore
	a.staleBefore += b.staleBefore
	a.readsAfter += b.readsAfter
	a.staleAfter += b.staleAfter
	a.stuck += b.stuck
	a.longStatement = max(a.longStatement, b.longStatement)
	a.longConnect = max(a.longConnect, b.longConnect)
}

func (a *loadCounts) String() string {
	return fmt.Sprintf("%d acknowledged rows, %d lost on the new primary; stale reads: %d of %d once writes resumed, %d of %d before the kill; "+
		"longest statement %.1f s, longest connect %.1f s, %d statements killed after %s",
		a.acked, a.lost, a.staleAfter, a.readsAfter, a.staleBefore, a.readsBefore,
		a.longStatement.Seconds(), a.longConnect.Seconds(), a.stuck, stuckLimit)
}

// A row is one fault's trials.
type row struct {
	fault  string
	trials []trial
}

var table struct {
	sync.Mutex
	rows  []*row
	upSec []float64 // bundle to a running cluster, every cluster brought up
}

func record(fault string, tr trial) {
	table.Lock()
	defer table.Unlock()
	for _, r := range table.rows {
		if r.fault == fault {
			r.trials = append(r.trials, tr)
			return
		}
	}
	table.rows = append(table.rows, &row{fault: fault, trials: []trial{tr}})
}

func TestFaults(t *testing.T) {
	if *trials < 1 || *trials > 20 {
		t.Fatalf("-trials=%d: want 1 to 20", *trials)
	}
	start := time.Now()
	for i := 1; i <= *trials; i++ {
		t.Run(fmt.Sprintf("kill/%d", i), func(t *testing.T) { faultTrial(t, "faults", "kill", faultKill) })
	}
	for i := 1; i <= *trials; i++ {
		t.Run(fmt.Sprintf("freeze/%d", i), func(t *testing.T) { faultTrial(t, "faults", "freeze", faultFreeze(*faultWait)) })
	}
	for i := 1; i <= *trials; i++ {
		t.Run(fmt.Sprintf("freeze-4.7/%d", i), func(t *testing.T) {
			faultTrial(t, "faults-47", "freeze, pgpool-II 4.7", faultFreeze(*wait47))
		})
	}
	for i := 1; i <= *trials; i++ {
		t.Run(fmt.Sprintf("vanish/%d", i), func(t *testing.T) { faultTrial(t, "faults", "vanish", faultVanish) })
	}
	t.Run("blips", testBlips)
	for i := 1; i <= *trials; i++ {
		t.Run(fmt.Sprintf("load-async/%d", i), func(t *testing.T) { faultTrial(t, "faults", "writes under load, async", faultLoad) })
	}
	for i := 1; i <= *trials; i++ {
		t.Run(fmt.Sprintf("load-sync/%d", i), func(t *testing.T) { faultTrial(t, "faults-sync", "writes under load, sync", faultLoad) })
	}
	printTable(t, time.Since(start))
}

// up brings a fresh cluster of spec up to three streaming nodes, with the tables the faults
// write to, and records the time from the first setup.sh to all three nodes streaming.
func up(t *testing.T, spec string) (*cluster, *logWatch) {
	t.Helper()
	c := bringUp(t, spec)
	log := watchLog(filepath.Join(c.h("pgpool").logs, "pgpool.log"))
	defer func() {
		if t.Failed() {
			log.stop()
		}
	}()
	c.startPgpool(t)
	c.recover(t, 1)
	c.recover(t, 2)
	c.waitNodes(t, 60*time.Second, "node 0 primary, both standbys streaming", func(nodes []node) bool {
		return len(nodes) == 3 && nodes[0].role == "primary" && nodes[1].replState == "streaming" && nodes[2].replState == "streaming"
	})
	took := time.Since(c.firstSetup).Seconds()
	table.Lock()
	table.upSec = append(table.upSec, took)
	table.Unlock()
	fmt.Printf("faults: bundle to a running cluster (%s): %.1f s\n", spec, took)
	// c.app writes: app, or postgres where the spec has no app user (the 4.7 build's trust).
	if out, err := c.sql("postgres", "CREATE TABLE probe (n int); GRANT INSERT ON probe TO "+c.app+"; "+
		"CREATE TABLE load (client int, n int, PRIMARY KEY (client, n)); GRANT INSERT, SELECT ON load TO "+c.app); err != nil {
		t.Fatalf("creating the tables: %v %s", err, out)
	}
	for _, n := range []string{"pg2", "pg3"} {
		if _, ok := proc.WaitFor(20*time.Second, func() bool {
			got, _ := c.direct(c.h(n), "SELECT to_regclass('load') IS NOT NULL")
			return got == "t"
		}); !ok {
			t.Fatalf("%s does not have the tables 20 s after they were made", n)
		}
	}
	return c, log
}

// faultTrial runs one fault on a fresh cluster and records its outcome; the cluster goes at
// the end, its hosts' files too once the trial passed (its logs stay).
func faultTrial(t *testing.T, spec, fault string, f func(t *testing.T, c *cluster, log *logWatch) trial) {
	c, log := up(t, spec)
	defer func() {
		log.stop()
		teardown(c)
		if !t.Failed() {
			os.RemoveAll(filepath.Join(c.work, "hosts"))
		}
	}()
	tr := f(t, c, log)
	if t.Failed() {
		tr.notes = append(tr.notes, "trial failed")
	}
	fmt.Printf("faults: %s: first write %.2f s, milestones %v, %s (logs in %s/logs)\n", fault, tr.write, tr.milestones, strings.Join(tr.notes, "; "), c.work)
	record(fault, tr)
}

// firstWrite tries a write through pgpool as the cluster's writing user every 100 ms until one
// succeeds or deadline passes, and returns when it succeeded.
func (c *cluster) firstWrite(deadline time.Time) (time.Time, bool) {
	for time.Now().Before(deadline) {
		if _, err := c.sql(c.app, "INSERT INTO probe VALUES (1)"); err == nil {
			return time.Now(), true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Time{}, false
}

// afterFailoverStarts is what a trial measures once the fault is in: no client touches pgpool
// until its log says the primary's failover started (a client's failed connection would
// start it itself, failover_on_backend_error), then a write every 100 ms. So the figure is
// detection by pgpool's own checks (health check, or the streaming check's broken
// connection) plus failover, as an idle cluster gets it. undo, if not nil, ends the fault
// when no write succeeded within wait; writes are then tried for afterUndo more.
func afterFailoverStarts(t *testing.T, c *cluster, log *logWatch, t0 time.Time, undo func(), wait time.Duration) trial {
	tr := trial{write: -1}
	deadline := t0.Add(wait)
	started := log.waitFor(t0, reDegenerate, deadline)
	if !started {
		tr.notes = append(tr.notes, fmt.Sprintf("no failover within %s", wait))
	}
	type result struct {
		at time.Time
		ok bool
	}
	pollEnd := deadline
	if undo != nil {
		pollEnd = deadline.Add(afterUndo)
	}
	// The writes go on while the fault is undone at the deadline: one under way then (psql
	// waits up to 20 s) is not allowed to put the undo off.
	polled := make(chan result, 1)
	if started {
		go func() {
			at, ok := c.firstWrite(pollEnd)
			polled <- result{at, ok}
		}()
	}
	var r result
	got := false
	if started {
		select {
		case r = <-polled:
			got = true
		case <-time.After(time.Until(deadline)):
		}
	}
	var undone time.Time
	if undo != nil && !(got && r.ok) {
		undone = time.Now()
		undo()
	}
	switch {
	case got:
	case started:
		r = <-polled
	case undo != nil:
		r.at, r.ok = c.firstWrite(undone.Add(afterUndo))
	}
	if r.ok && !undone.IsZero() && r.at.After(undone) {
		tr.notes = append(tr.notes, fmt.Sprintf("writes only after the fault was undone at %.0f s", undone.Sub(t0).Seconds()))
	}
	if r.ok {
		tr.write = r.at.Sub(t0).Seconds()
	} else {
		tr.notes = append(tr.notes, "no write succeeded")
	}
	// The follow script re-points the other standby after the first writes: wait for it, so
	// that the table says when it is done.
	if _, promoted := log.find(t0, rePromoted, false); promoted && !log.waitFor(t0, reFollowed, time.Now().Add(followWait)) {
		tr.notes = append(tr.notes, fmt.Sprintf("no standby attached again within %s of the first write", followWait))
	}
	var trigger string
	tr.milestones, trigger = log.milestones(t0)
	if trigger != "" {
		tr.notes = append(tr.notes, "failover asked by "+trigger)
	}
	return tr
}

func faultKill(t *testing.T, c *cluster, log *logWatch) trial {
	t0 := time.Now()
	c.h("pg1").mustRun(t, time.Minute, osUser, pgBin+"/pg_ctl", "-D", dataDir, "-m", "immediate", "stop")
	return afterFailoverStarts(t, c, log, t0, nil, *faultWait)
}

// postgresProcs are the pids of the server on h: its postmaster (postmaster.pid) and the
// postmaster's children. The hosts share the machine's pid namespace.
func postgresProcs(t *testing.T, h *host) []int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.root, dataDir, "postmaster.pid"))
	must(t, err)
	pm, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	if err != nil || pm <= 1 {
		t.Fatalf("postmaster.pid of %s: %q", h.name, data)
	}
	pids := []int{pm}
	out, _ := h.run(10*time.Second, "root", nil, "pgrep", "-P", strconv.Itoa(pm))
	for _, f := range strings.Fields(out) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	if len(pids) < 4 {
		t.Fatalf("the server on %s has only %d processes: %v", h.name, len(pids), pids)
	}
	return pids
}

// freeze stops the server on h, postmaster first so that it forks no new child meanwhile,
// and returns what continues it (once).
func freeze(t *testing.T, h *host) func() {
	t.Helper()
	pm := postgresProcs(t, h)[0]
	must(t, syscall.Kill(pm, syscall.SIGSTOP))
	pids := postgresProcs(t, h)
	for _, p := range pids[1:] {
		syscall.Kill(p, syscall.SIGSTOP)
	}
	var once sync.Once
	cont := func() {
		once.Do(func() {
			for _, p := range pids {
				syscall.Kill(p, syscall.SIGCONT)
			}
		})
	}
	t.Cleanup(cont)
	return cont
}

// faultFreeze freezes the primary, continued after wait at the latest.
func faultFreeze(wait time.Duration) func(t *testing.T, c *cluster, log *logWatch) trial {
	return func(t *testing.T, c *cluster, log *logWatch) trial {
		t0 := time.Now()
		cont := freeze(t, c.h("pg1"))
		tr := afterFailoverStarts(t, c, log, t0, cont, wait)
		cont()
		// Whether the old primary, continued after a failover, still takes writes: two
		// primaries until the follow script stops it. Without a failover it is the only one.
		time.Sleep(2 * time.Second)
		_, failedOver := log.find(t0, reDegenerate, false)
		if got, err := c.direct(c.h("pg1"), "SELECT pg_is_in_recovery()"); failedOver && err == nil && got == "f" {
			tr.notes = append(tr.notes, "old primary still a primary 2 s after SIGCONT")
		}
		return tr
	}
}

func faultVanish(t *testing.T, c *cluster, log *logWatch) trial {
	t0 := time.Now()
	nsIP(t, c.net.switchPID, "link", "set", "v-pg1", "down")
	var once sync.Once
	restore := func() { once.Do(func() { nsIP(t, c.net.switchPID, "link", "set", "v-pg1", "up") }) }
	defer restore()
	return afterFailoverStarts(t, c, log, t0, restore, *faultWait)
}

// testBlips stops the primary for 1, 3 and 8 s in each trial, and reads pgpool's log and SHOW
// pool_nodes for a failover. A cluster serves until a blip fails it over.
func testBlips(t *testing.T) {
	var (
		c   *cluster
		log *logWatch
	)
	defer func() {
		if c != nil {
			log.stop()
			teardown(c)
			os.RemoveAll(filepath.Join(c.work, "hosts"))
		}
	}()
	for i := 1; i <= *trials; i++ {
		for _, d := range []time.Duration{time.Second, 3 * time.Second, 8 * time.Second} {
			name := fmt.Sprintf("blip %d s", int(d.Seconds()))
			ok := t.Run(fmt.Sprintf("%ds/%d", int(d.Seconds()), i), func(t *testing.T) {
				if c == nil {
					c, log = up(t, "faults")
				}
				t0 := time.Now()
				cont := freeze(t, c.h("pg1"))
				time.Sleep(d)
				cont()
				time.Sleep(blipQuiet)
				nodes, raw, err := c.poolNodes()
				tr := trial{write: -1}
				var trigger string
				tr.milestones, trigger = log.milestones(t0) // a failed check without a failover shows too
				_, started := log.find(t0, reDegenerate, false)
				if started || err != nil || len(nodes) != 3 || nodes[0].role != "primary" || nodes[0].status != "up" {
					tr.notes = append(tr.notes, "failover (asked by "+trigger+")")
					fmt.Printf("faults: %s: failed over; pool_nodes (%v):\n%s\n", name, err, raw)
					log.stop()
					teardown(c)
					c = nil
				} else {
					tr.notes = append(tr.notes, "no failover")
				}
				record(name, tr)
			})
			if !ok && c != nil {
				log.stop()
				teardown(c)
				c = nil
			}
		}
	}
}

// A loadClient is one application session through pgpool: a psql reading statements on its
// standard input, line-buffered, so that each statement's answer can be read before the next
// is sent. A session that breaks is started again.
type loadClient struct {
	id     int
	c      *cluster
	p      *proc.Proc
	in     io.WriteCloser
	out    chan string
	seq    int
	acked  []int
	ackAt  []time.Time
	nAcked atomic.Int64 // len(acked), for progress while it runs
	reads  []staleCheck
	longSt time.Duration // the longest statement
	longCn time.Duration // the longest wait for a session
	stuck  int           // statements killed after stuckLimit
}

type staleCheck struct {
	at    time.Time
	stale bool
}

// open starts a session, and waits until psql has connected (it answers an \echo).
func (l *loadClient) open() bool {
	h := l.c.h("pgpool")
	cmd := h.cmd(context.Background(), osUser, "stdbuf", "-oL", "-eL", pgBin+"/psql", "-X", "-A", "-t", "-q", "-w",
		"-h", pgpoolIP, "-p", "9999", "-U", appUser, "-d", "postgres")
	cmd.Env = append(cmd.Env, "PGPASSWORD="+loginPassword[appUser], "PGCONNECT_TIMEOUT=10")
	in, err := cmd.StdinPipe()
	if err != nil {
		return false
	}
	r, w, err := os.Pipe()
	if err != nil {
		return false
	}
	cmd.Stdout, cmd.Stderr = w, w
	p, err := procs.Start(fmt.Sprintf("load client %d", l.id), cmd, syscall.SIGTERM, nil)
	w.Close()
	if err != nil {
		r.Close()
		return false
	}
	out := make(chan string, 64)
	go func() {
		defer close(out)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			out <- sc.Text()
		}
	}()
	l.p, l.in, l.out = p, in, out
	start := time.Now()
	_, ok := l.exchange("")
	if d := time.Since(start); d > l.longCn {
		l.longCn = d
	}
	return ok
}

// close ends the session.
func (l *loadClient) close() {
	if l.p == nil {
		return
	}
	l.in.Close()
	procs.Halt(l.p)
	for range l.out {
	}
	l.p = nil
}

// exchange sends a statement (none: only the marker) and reads its answer up to the marker;
// it reports false if the statement failed or the session broke. A statement that takes
// longer than stuckLimit is killed with its session.
func (l *loadClient) exchange(stmt string) (string, bool) {
	l.seq++
	marker := fmt.Sprintf("@@%d", l.seq)
	if _, err := fmt.Fprintf(l.in, "%s\n\\echo %s\n", stmt, marker); err != nil {
		l.close()
		return "", false
	}
	var lines []string
	failed := false
	timer := time.NewTimer(stuckLimit)
	defer timer.Stop()
	for {
		select {
		case line, open := <-l.out:
			if !open {
				l.close()
				return "", false
			}
			if line == marker {
				return strings.Join(lines, "\n"), !failed
			}
			if strings.Contains(line, "ERROR") || strings.Contains(line, "FATAL") || strings.Contains(line, "connection") {
				failed = true
			}
			lines = append(lines, line)
		case <-timer.C:
			l.stuck++
			syscall.Kill(-l.p.Cmd.Process.Pid, syscall.SIGKILL)
			l.close()
			return "", false
		}
	}
}

// run inserts numbered rows, each acknowledged one followed by a read of the client's highest
// number, until quit.
func (l *loadClient) run(quit chan struct{}) {
	defer l.close()
	for n := 1; ; n++ {
		select {
		case <-quit:
			return
		default:
		}
		if l.p == nil && !l.open() {
			l.close()
			time.Sleep(100 * time.Millisecond)
			n--
			continue
		}
		start := time.Now()
		_, ok := l.exchange(fmt.Sprintf("INSERT INTO load VALUES (%d, %d);", l.id, n))
		l.note(time.Since(start))
		if !ok {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		l.acked = append(l.acked, n)
		l.ackAt = append(l.ackAt, time.Now())
		l.nAcked.Add(1)
		start = time.Now()
		got, ok := l.exchange(fmt.Sprintf("SELECT coalesce(max(n), 0) FROM load WHERE client = %d;", l.id))
		l.note(time.Since(start))
		if ok {
			max, err := strconv.Atoi(strings.TrimSpace(got))
			l.reads = append(l.reads, staleCheck{at: time.Now(), stale: err != nil || max < n})
		}
	}
}

func (l *loadClient) note(d time.Duration) {
	if d > l.longSt {
		l.longSt = d
	}
}

// faultLoad kills the primary under four writing clients and counts acknowledged rows missing
// on the new primary, and reads through pgpool that returned less than the client had had
// acknowledged, before the kill and once writes had resumed.
func faultLoad(t *testing.T, c *cluster, log *logWatch) trial {
	const clients = 4
	quit := make(chan struct{})
	var wg sync.WaitGroup
	cl := make([]*loadClient, clients)
	for i := range cl {
		cl[i] = &loadClient{id: i + 1, c: c}
		wg.Add(1)
		go func(l *loadClient) { defer wg.Done(); l.run(quit) }(cl[i])
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			close(quit)
			wg.Wait()
		}
	}
	defer stop()
	acks := func() []int {
		n := make([]int, clients)
		for i, l := range cl {
			n[i] = int(l.nAcked.Load())
		}
		return n
	}
	time.Sleep(5 * time.Second)
	before := acks()
	for i, n := range before {
		if n < 10 {
			t.Fatalf("client %d got only %d commits acknowledged in 5 s before the kill", i+1, n)
		}
	}
	t0 := time.Now()
	c.h("pg1").mustRun(t, time.Minute, osUser, pgBin+"/pg_ctl", "-D", dataDir, "-m", "immediate", "stop")
	killed := time.Now() // commits acknowledged before this may be the old primary's
	// Every client gets 50 more commits acknowledged, within a bound.
	if _, ok := proc.WaitFor(*faultWait+afterUndo, func() bool {
		for i, n := range acks() {
			if n < before[i]+50 {
				return false
			}
		}
		return true
	}); !ok {
		t.Logf("not every client got 50 commits acknowledged after the kill: before %v, now %v", before, acks())
	}
	stop()
	tr := trial{write: -1}
	var firstAfter time.Time // the first acknowledged write once the old primary was gone, of any client
	for _, l := range cl {
		for _, at := range l.ackAt {
			if at.After(killed) {
				if firstAfter.IsZero() || at.Before(firstAfter) {
					firstAfter = at
				}
				break
			}
		}
	}
	if !firstAfter.IsZero() {
		tr.write = firstAfter.Sub(t0).Seconds()
	}
	nodes := c.waitNodes(t, 90*time.Second, "a new primary, node 0 down", func(nodes []node) bool {
		return len(nodes) == 3 && nodes[0].status == "down" && (nodes[1].role == "primary" || nodes[2].role == "primary")
	})
	primary := c.h("pg2")
	if nodes[2].role == "primary" {
		primary = c.h("pg3")
	}
	got, err := c.direct(primary, "SELECT client || ':' || n FROM load")
	if err != nil {
		t.Fatalf("reading the rows on the new primary %s: %v %s", primary.name, err, got)
	}
	have := map[string]bool{}
	for _, f := range strings.Fields(got) {
		have[f] = true
	}
	lc := &loadCounts{}
	for _, l := range cl {
		for _, n := range l.acked {
			lc.acked++
			if !have[fmt.Sprintf("%d:%d", l.id, n)] {
				lc.lost++
			}
		}
		for _, r := range l.reads {
			switch {
			case r.at.Before(t0):
				lc.readsBefore++
				if r.stale {
					lc.staleBefore++
				}
			case !firstAfter.IsZero() && !r.at.Before(firstAfter):
				lc.readsAfter++
				if r.stale {
					lc.staleAfter++
				}
			}
		}
		lc.add(&loadCounts{stuck: l.stuck, longStatement: l.longSt, longConnect: l.longCn})
	}
	tr.load = lc
	var trigger string
	tr.milestones, trigger = log.milestones(t0)
	tr.notes = append(tr.notes, "failover asked by "+trigger)
	fmt.Printf("faults: load: %s\n", lc)
	return tr
}

// stats is "median (min–max)" of xs.
func stats(xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if len(s) == 1 {
		return fmt.Sprintf("%.1f", med)
	}
	return fmt.Sprintf("%.1f (%.1f–%.1f)", med, s[0], s[len(s)-1])
}

func median(xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return fmt.Sprintf("%.1f", (s[len(s)/2-1]+s[len(s)/2])/2)
	}
	return fmt.Sprintf("%.1f", s[len(s)/2])
}

// printTable prints the Markdown table between marker lines and writes it to -faults-out.
func printTable(t *testing.T, took time.Duration) {
	table.Lock()
	defer table.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "| fault | trials | s to first write, median (min–max) | milestones, median s from the fault: %s | notes |\n", strings.Join(milestoneNames, " / "))
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range table.rows {
		var writes []float64
		none := 0
		for _, tr := range r.trials {
			if tr.write >= 0 {
				writes = append(writes, tr.write)
			} else {
				none++
			}
		}
		var ms []string
		for _, name := range milestoneNames {
			var xs []float64
			for _, tr := range r.trials {
				if v, ok := tr.milestones[name]; ok {
					xs = append(xs, v)
				}
			}
			m := median(xs)
			if len(xs) > 0 && len(xs) < len(r.trials) {
				m += fmt.Sprintf(" (%d of %d)", len(xs), len(r.trials))
			}
			ms = append(ms, m)
		}
		w := stats(writes)
		if strings.HasPrefix(r.fault, "blip") {
			w = "–"
		} else if none > 0 {
			w += fmt.Sprintf("; none in %d", none)
		}
		notes := joinNotes(r.trials)
		if r.trials[0].load != nil {
			sum := &loadCounts{}
			for _, tr := range r.trials {
				if tr.load != nil {
					sum.add(tr.load)
				}
			}
			notes = sum.String() + "; " + notes
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s |\n", r.fault, len(r.trials), w, strings.Join(ms, " / "), notes)
	}
	fmt.Fprintf(&b, "| bundle → running cluster | %d | %s | – | first setup.sh to 3 nodes streaming, 2 pcp_recovery_node included; every cluster of the run |\n", len(table.upSec), stats(table.upSec))
	text := fmt.Sprintf("<!-- faults table: make faults TRIALS=%d, %s, whole run %s -->\n%s<!-- end of faults table -->\n",
		*trials, time.Now().UTC().Format("2006-01-02"), took.Round(time.Second), b.String())
	fmt.Print("\n" + text)
	if err := os.WriteFile(*faultsOut, []byte(text), 0o644); err != nil {
		t.Errorf("writing the table: %v", err)
	} else {
		fmt.Printf("faults: table written to %s\n", *faultsOut)
	}
}

// joinNotes gives each distinct note of the trials once, with how many trials had it.
func joinNotes(trs []trial) string {
	count := map[string]int{}
	var order []string
	for _, tr := range trs {
		for _, n := range tr.notes {
			if count[n] == 0 {
				order = append(order, n)
			}
			count[n]++
		}
	}
	var out []string
	for _, n := range order {
		if len(trs) > 1 {
			out = append(out, fmt.Sprintf("%s (%d×)", n, count[n]))
		} else {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}
