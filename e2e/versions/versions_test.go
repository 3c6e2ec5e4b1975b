//go:build versions

package versions

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pgpoolgen/e2e/internal/proc"
)

// repoRoot is the checkout's root: the folder above this one holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	must(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// buildsDir is where the pgpool-II builds are: $PGPOOL_BUILDS, or shared/pgpool-builds beside
// the checkout (CI's layout). The second result is false when neither exists.
func buildsDir(t *testing.T) (string, bool) {
	if d := os.Getenv("PGPOOL_BUILDS"); d != "" {
		if _, err := os.Stat(d); err != nil {
			t.Fatalf("PGPOOL_BUILDS=%s: %v", d, err)
		}
		return d, true
	}
	d := filepath.Join(filepath.Dir(repoRoot(t)), "shared", "pgpool-builds")
	_, err := os.Stat(d)
	return d, err == nil
}

// A build is one pgpool-II program the run starts.
type build struct {
	series  string          // 4.3
	release string          // 4.3.20, from pgpool --version
	pgpool  string          // the program
	lib     string          // its pcp library's folder, or ""
	sample  map[string]bool // the names its sample pgpool.conf files mention
	debian  bool            // Debian 12's package rather than ../shared's build
}

// debianPgpool is Debian 12's pgpool2 package, 4.3.5: the run reads the 4.3 bundles back on it
// too, since it is the 4.3 users install, and releases differ from the branch's tip.
const debianPgpool = "/usr/sbin/pgpool"

var releaseRE = regexp.MustCompile(`pgpool-II version (\d+\.\d+\.\d+)`)

// newBuild asks a pgpool program for its release and reads its samples.
func newBuild(t *testing.T, ser, pgpool, lib, etc string) *build {
	t.Helper()
	var env []string
	if lib != "" {
		env = []string{"LD_LIBRARY_PATH=" + lib}
	}
	out, _ := run(30*time.Second, env, pgpool, "--version")
	m := releaseRE.FindStringSubmatch(out)
	if m == nil || !strings.HasPrefix(m[1], ser+".") {
		t.Fatalf("%s --version does not name a pgpool-II %s release: %q", pgpool, ser, out)
	}
	sample, err := sampleNames(etc)
	if err != nil {
		t.Fatal(err)
	}
	return &build{series: ser, release: m[1], pgpool: pgpool, lib: lib, sample: sample}
}

// totals are the run's figures, printed at the end.
var totals struct {
	sync.Mutex
	pairs, compared, maskedValues, unreported, weightsByNodes, expected int
	rows                                                                []string
	names                                                               map[string][]string // release → names SHOW ALL lists
}

// TestReadBack is the whole check: see the package comment.
func TestReadBack(t *testing.T) {
	started := time.Now()
	builds, ok := buildsDir(t)
	if !ok {
		t.Skipf("no pgpool-II builds at %s (set PGPOOL_BUILDS to their folder): the read-back on every series is skipped", builds)
	}
	for _, p := range []string{pgBin + "/initdb", pgBin + "/postgres", pgBin + "/psql", "/usr/bin/unshare", "/usr/bin/setpriv", "/usr/sbin/ip", "/usr/bin/xz", debianPgpool} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: make versions installs postgresql-15, pgpool2, util-linux, iproute2 and xz-utils", p)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("make versions runs as root: it starts the servers as the postgres user in network namespaces of their own")
	}
	acct := lookupAccount(t)
	root := repoRoot(t)
	// go test's -timeout ends the binary with a panic, which runs no cleanup: stop the servers
	// before that, and let the checks that were waiting on them fail.
	if deadline, ok := t.Deadline(); ok {
		timer := time.AfterFunc(time.Until(deadline)-30*time.Second, func() {
			fmt.Fprintln(os.Stderr, "versions: the test timeout is 30 s away; stopping every server it started")
			procs.Shutdown()
		})
		defer timer.Stop()
	}

	work, err := os.MkdirTemp("/var/tmp", "pgpoolgen-versions-")
	must(t, err)
	must(t, os.Chmod(work, 0o755))
	workDir = work
	keep := os.Getenv("VERSIONS_KEEP") != ""
	t.Cleanup(func() {
		procs.Shutdown()
		if t.Failed() || keep {
			fmt.Fprintf(os.Stderr, "versions: configs, rewrites, readbacks and logs kept in %s/cases\n", work)
			return
		}
		os.RemoveAll(work)
	})

	// The builds, each into its own folder.
	bin := filepath.Join(work, "builds")
	must(t, os.MkdirAll(bin, 0o755))
	bySeries := map[string][]*build{}
	for _, s := range series {
		archive := filepath.Join(builds, "pgpool-"+s+".tar.xz")
		if _, err := os.Stat(archive); err != nil {
			t.Fatalf("the builds at %s lack pgpool-II %s: %v", builds, s, err)
		}
		if out, err := run(2*time.Minute, nil, "tar", "-xJf", archive, "-C", bin); err != nil {
			t.Fatalf("unpacking %s: %v\n%s", archive, err, out)
		}
		d := filepath.Join(bin, s)
		bySeries[s] = append(bySeries[s], newBuild(t, s, d+"/bin/pgpool", d+"/lib", d+"/etc"))
	}
	deb := newBuild(t, "4.3", debianPgpool, "", "/usr/share/doc/pgpool2/examples")
	deb.debian = true
	bySeries["4.3"] = append(bySeries["4.3"], deb)

	confs := append(goldenConfs(t, root), matrixConfs(t)...)
	pg := startPostgres(t, acct, filepath.Join(work, "postgres"))
	totals.names = map[string][]string{}

	// Two pgpools at a time: the machine has two cores, and t.Parallel subtests run
	// -parallel (GOMAXPROCS) at a time.
	t.Run("pgpool", func(t *testing.T) {
		n := 0
		for _, k := range confs {
			for _, b := range bySeries[k.series] {
				i, k, b := n, k, b
				n++
				id := b.release + "/" + strings.ReplaceAll(k.caseID, "/", "-") + "/" + k.host
				t.Run(id, func(t *testing.T) {
					t.Parallel()
					p := &placement{
						dir:      filepath.Join(work, "cases", caseDir(i, id)),
						addr:     fmt.Sprintf("127.0.50.%d", 10+i%240),
						port:     20000 + 2*i,
						pcpPort:  20001 + 2*i,
						wdPort:   30000 + 2*i,
						hbPort:   30001 + 2*i,
						pgSocket: pg.socketDir,
						pgPort:   pg.port,
					}
					readBack(t, acct, pg, b, k, p)
				})
			}
		}
	})

	totals.Lock()
	defer totals.Unlock()
	sort.Strings(totals.rows)
	fmt.Println("versions: per pgpool instance (release case host: values compared, of them masked; names not reported)")
	for _, r := range totals.rows {
		fmt.Println("  " + r)
	}
	// What Debian's 4.3.5 and the 4.3 branch's build know differently, for the record.
	tip, debs := totals.names[bySeries["4.3"][0].release], totals.names[deb.release]
	if len(tip) > 0 && len(debs) > 0 {
		fmt.Printf("versions: names pgpool-II %s lists and %s (Debian) does not: %s\n", bySeries["4.3"][0].release, deb.release, strings.Join(minus(tip, debs), " "))
		fmt.Printf("versions: names pgpool-II %s (Debian) lists and %s does not: %s\n", deb.release, bySeries["4.3"][0].release, strings.Join(minus(debs, tip), " "))
	}
	fmt.Printf("versions: %d (release, case) pairs, %d values compared (%d shown masked), %d spec values checked, %d names pre-3.7 pgpool does not report, %d weight shares checked through SHOW pool_nodes; %s\n",
		totals.pairs, totals.compared, totals.maskedValues, totals.expected, totals.unreported, totals.weightsByNodes, time.Since(started).Round(time.Second))
}

// minus lists the names of a that b lacks.
func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, n := range b {
		in[n] = true
	}
	var out []string
	for _, n := range a {
		if !in[n] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

// readBack starts one pgpool.conf on its series' pgpool and compares every value.
func readBack(t *testing.T, acct account, pg *postgres, b *build, k conf, p *placement) {
	label := b.release + " " + k.caseID + " host " + k.host
	if b.debian {
		label = b.release + " (Debian) " + k.caseID + " host " + k.host
	}
	sample := b.sample
	settings, bad := parseConf(string(k.pgpool), b.series)
	for _, d := range bad {
		t.Errorf("%s: %s", label, d)
	}
	seen := map[string]int{}
	for _, s := range settings {
		if prev, ok := seen[s.name]; ok {
			t.Errorf("%s: pgpool.conf sets %s on line %d and again on line %d (pgpool takes the last)", label, s.name, prev, s.no)
		}
		seen[s.name] = s.no
	}
	wd := watchdogOn(settings)
	p.nodeID = -1
	switch {
	case k.nodeID != nil:
		id, err := strconv.Atoi(strings.TrimSuffix(string(k.nodeID), "\n"))
		if err != nil || id < 0 || string(k.nodeID) != strconv.Itoa(id)+"\n" {
			t.Errorf("%s: pgpool_node_id holds %q, not a node id and a newline", label, k.nodeID)
		}
		p.nodeID = id
	case wd && !before(k.series, "4.2"):
		t.Errorf("%s: use_watchdog = on and no pgpool_node_id beside pgpool.conf: pgpool-II %s stops without it", label, b.release)
	}
	moved, rewrites, problems := rewrite(settings, sample, p, b.release)
	for _, pr := range problems {
		t.Errorf("%s: %s", label, pr)
	}
	if n := len(p.dir + "/.s.PGPOOLWD_CMD.65535"); n >= 108 {
		t.Fatalf("%s: the case's folder %s is too long for its Unix sockets (%d bytes of 107)", label, p.dir, n)
	}
	mkdirOwned(t, acct, p.dir, 0o700)
	must(t, os.WriteFile(filepath.Join(p.dir, "pgpool.conf.generated"), k.pgpool, 0o644))
	must(t, os.WriteFile(filepath.Join(p.dir, "rewrites.txt"), []byte(strings.Join(rewrites, "\n")+"\n"), 0o644))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s: the lines the test moved onto its own addresses, ports and paths (the rest is as generated):\n  %s", label, strings.Join(rewrites, "\n  "))
		}
	})
	if t.Failed() {
		return
	}
	conf := filepath.Join(p.dir, "pgpool.conf")
	writeOwned(t, acct, conf, []byte(render(string(k.pgpool), moved)), 0o600)
	writeOwned(t, acct, filepath.Join(p.dir, "pcp.conf"), k.pcp, 0o600)
	// The test's own client rules: pool_hba.conf is not what is checked here, and the
	// bundle's rules name the spec's networks.
	// Loopback too: a watchdog's query life check logs in to its own node over TCP.
	writeOwned(t, acct, filepath.Join(p.dir, "pool_hba.conf"), []byte("local all all trust\nhost all all 127.0.0.0/8 trust\n"), 0o600)
	writeOwned(t, acct, filepath.Join(p.dir, "pool_passwd"), nil, 0o600)
	if k.nodeID != nil {
		writeOwned(t, acct, filepath.Join(p.dir, "pgpool_node_id"), k.nodeID, 0o600)
	}
	if wd {
		writeStandIns(t, p.dir)
	}
	users, dbs := checkUsersAndDatabases(moved)
	pg.ensure(t, users, dbs)

	// pgpool in a network namespace of its own, with only its loopback up.
	logFile := filepath.Join(p.dir, "pgpool.log")
	args := []string{"unshare", "--net", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh"}
	args = append(args, asUser("env", "LD_LIBRARY_PATH="+b.lib, "HOME="+p.dir,
		b.pgpool, "-n", "-D", "-f", conf, "-F", filepath.Join(p.dir, "pcp.conf"), "-a", filepath.Join(p.dir, "pool_hba.conf"))...)
	pgpool, err := start("pgpool "+label, syscall.SIGINT, logFile, args...)
	if err != nil {
		t.Fatalf("%s: starting pgpool: %v", label, err)
	}
	defer procs.Halt(pgpool)
	if _, ok := proc.WaitFor(60*time.Second, func() bool {
		if pgpool.Exited() {
			return true
		}
		_, err := psql(p, "SELECT 1")
		return err == nil
	}); !ok || pgpool.Exited() {
		state := "does not take clients on its socket within 60 s"
		if pgpool.Exited() {
			state = "exited: " + pgpool.Cmd.ProcessState.String()
		}
		t.Fatalf("%s: pgpool-II %s %s; log %s:\n%s", label, b.release, state, logFile, tail(logFile, 30))
	}

	stmt := "PGPOOL SHOW ALL"
	if !reportsAll(k.series) {
		stmt = "SHOW pool_status"
	}
	out, err := psql(p, stmt)
	if err != nil {
		t.Fatalf("%s: %s: %v\n%s", label, stmt, err, out)
	}
	must(t, os.WriteFile(filepath.Join(p.dir, "show.txt"), []byte(out), 0o644))
	got := parseShow(out)
	var ledger strings.Builder // every comparison and the rule that decided it, kept with the logs
	defer func() { os.WriteFile(filepath.Join(p.dir, "readback.txt"), []byte(ledger.String()), 0o644) }()
	if len(got) < 30 {
		t.Fatalf("%s: %s gave %d rows:\n%s", label, stmt, len(got), out)
	}
	shares := weightShares(moved)
	compared, maskedN, unreported := 0, 0, []string{}
	for _, s := range moved {
		g, ok := got[shownName(k.series, s.name)]
		if !ok {
			switch {
			case reportsAll(k.series):
				t.Errorf("%s: pgpool-II %s does not know %s (line %d, written %q): PGPOOL SHOW ALL lists every parameter it reads, and not this one",
					label, b.release, s.name, s.no, s.value)
			case !sample[record(s.name)]:
				t.Errorf("%s: pgpool-II %s neither reports %s (line %d, written %q) in SHOW pool_status nor has it in its sample pgpool.conf: most likely a name it does not know",
					label, b.release, s.name, s.no, s.value)
			default:
				fmt.Fprintf(&ledger, "%-34s %-12s written %q\n", s.name, "unreported", s.value)
				unreported = append(unreported, s.name)
			}
			continue
		}
		compared++
		if record(s.name) == "backend_weightN" {
			ok, want := compareWeight(k.series, s.value, g, shares[index(s.name)])
			fmt.Fprintf(&ledger, "%-34s %-12s written %q shown %q, expected %s\n", s.name, "weight", s.value, g, want)
			if !ok {
				t.Errorf("%s: %s (line %d): written %q, pgpool-II %s shows %q (expected %s)", label, s.name, s.no, s.value, b.release, g, want)
			}
			continue
		}
		v, rule := compare(k.series, s.name, s.value, g)
		fmt.Fprintf(&ledger, "%-34s %-12s written %q shown %q\n", s.name, rule, s.value, g)
		switch v {
		case masked:
			maskedN++
		case differ:
			t.Errorf("%s: %s (line %d): written %q, pgpool-II %s shows %q", label, s.name, s.no, s.value, b.release, g)
		}
	}

	// What the spec asked for, whatever the file says: as pgpool shows it, or, for a setting
	// the test moved, as generated (what pgpool shows then is the move, compared above).
	written, generated := map[string]line{}, map[string]line{}
	for _, s := range moved {
		written[s.name] = s
	}
	for _, s := range settings {
		generated[s.name] = s
	}
	for _, e := range k.expect {
		if w, ok := generated[e.name]; ok && w.value != written[e.name].value {
			if e.nonEmpty && !e.holds(w.value) || !e.nonEmpty && w.value != e.value {
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s = %s; pgpool.conf line %d sets %q", label, e.why, b.release, e.name, e.want(), w.no, w.value)
			}
			continue
		}
		g, ok := got[shownName(k.series, e.name)]
		if !ok {
			w, inFile := written[e.name]
			switch {
			case reportsAll(k.series):
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s, which PGPOOL SHOW ALL does not list", label, e.why, b.release, e.name)
			case !inFile:
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s, which pgpool.conf does not set", label, e.why, b.release, e.name)
			case e.nonEmpty && !e.holds(w.value) || !e.nonEmpty && w.value != e.value:
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s = %s; pgpool.conf line %d sets %q", label, e.why, b.release, e.name, e.want(), w.no, w.value)
			}
			continue
		}
		if e.nonEmpty {
			if !e.holds(g) {
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s = %s; it shows %q", label, e.why, b.release, e.name, e.want(), g)
			}
			continue
		}
		if strings.HasPrefix(e.name, "backend_weight") {
			if ok, want := compareWeight(k.series, e.value, g, shares[index(e.name)]); !ok {
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s = %s; it shows %q (expected %s)", label, e.why, b.release, e.name, e.value, g, want)
			}
			continue
		}
		if v, _ := compare(k.series, e.name, e.value, g); v != same {
			t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s = %q; it shows %q", label, e.why, b.release, e.name, e.value, g)
		}
	}

	// The weights' shares, as pgpool balances by them.
	nodes := 0
	if out, err := psqlHeader(p, "SHOW pool_nodes"); err != nil {
		t.Errorf("%s: SHOW pool_nodes: %v\n%s", label, err, out)
	} else if lb, err := poolNodesShares(out); err != nil {
		t.Errorf("%s: SHOW pool_nodes: %v\n%s", label, err, out)
	} else {
		for id, want := range shares {
			g, err := strconv.ParseFloat(lb[id], 64)
			if err != nil || g-want > 5e-7 || want-g > 5e-7 {
				t.Errorf("%s: backend_weight%d: pgpool-II %s balances node %d with the share %q, want %f", label, id, b.release, id, lb[id], want)
			}
			nodes++
		}
	}

	// A watchdog node alone has no quorum: from 3.5 it must not escalate; before, it does at
	// once, and the arguments it gives sudo are exactly those of the commands written.
	if wd {
		checkEscalation(t, label, b.release, k.series, p.dir, moved, true)
	}

	// pgpool stops on a wrong value with a FATAL; anything FATAL in its log counts.
	procs.Halt(pgpool)
	if wd {
		checkEscalation(t, label, b.release, k.series, p.dir, moved, false)
	}
	logData, _ := os.ReadFile(logFile)
	for _, l := range strings.Split(string(logData), "\n") {
		if fatalRE.MatchString(l) {
			t.Errorf("%s: pgpool-II %s logged: %s", label, b.release, l)
		}
	}

	totals.Lock()
	totals.pairs++
	totals.compared += compared
	totals.maskedValues += maskedN
	totals.unreported += len(unreported)
	totals.weightsByNodes += nodes
	totals.expected += len(k.expect)
	if reportsAll(k.series) {
		// As records (backend_portN), so that the number of backends does not matter; over
		// every case, as indexed names (hostnameN) are listed only where set.
		recs := map[string]bool{}
		for _, n := range totals.names[b.release] {
			recs[n] = true
		}
		for n := range got {
			recs[record(n)] = true
		}
		totals.names[b.release] = totals.names[b.release][:0]
		for n := range recs {
			totals.names[b.release] = append(totals.names[b.release], n)
		}
		sort.Strings(totals.names[b.release])
	}
	name := b.release
	if b.debian {
		name += " (Debian)"
	}
	row := fmt.Sprintf("%-15s %-28s %-8s %3d compared, %d masked, %d spec values", name, k.caseID, k.host, compared, maskedN, len(k.expect))
	if len(unreported) > 0 {
		row += "; not reported: " + strings.Join(unreported, " ")
	}
	totals.rows = append(totals.rows, row)
	totals.Unlock()
}

// caseDir names case i's folder: short enough that its longest Unix socket path,
// .s.PGPOOLWD_CMD.<port>, fits sun_path (108 bytes with the NUL: 3.2 cuts a longer path and
// binds somewhere else) below the run's folder; the full name is in the subtest's.
func caseDir(i int, id string) string {
	name := fmt.Sprintf("%03d-%s", i, strings.ReplaceAll(id, "/", "-"))
	if len(name) > 34 {
		name = name[:34]
	}
	return name
}

var fatalRE = regexp.MustCompile(`\b(FATAL|PANIC)\b`)

// psql runs one statement through the pgpool on its Unix socket; fields are separated by \x1f.
func psql(p *placement, stmt string) (string, error) {
	return run(20*time.Second, nil, asUser(pgBin+"/psql", "-X", "-A", "-t", "-F", "\x1f", "-h", p.dir, "-p", strconv.Itoa(p.port),
		"-U", osUser, "-d", "postgres", "-c", stmt)...)
}

// psqlHeader is psql with the header row.
func psqlHeader(p *placement, stmt string) (string, error) {
	return run(20*time.Second, nil, asUser(pgBin+"/psql", "-X", "-A", "-F", "\x1f", "-h", p.dir, "-p", strconv.Itoa(p.port),
		"-U", osUser, "-d", "postgres", "-c", stmt)...)
}
