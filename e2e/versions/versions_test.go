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

// totals are the run's figures, printed at the end.
var totals struct {
	sync.Mutex
	pairs, compared, maskedValues, unreported, weightsByNodes int
	rows                                                      []string
}

// TestReadBack is the whole check: see the package comment.
func TestReadBack(t *testing.T) {
	started := time.Now()
	builds, ok := buildsDir(t)
	if !ok {
		t.Skipf("no pgpool-II builds at %s (set PGPOOL_BUILDS to their folder): the read-back on every series is skipped", builds)
	}
	for _, p := range []string{pgBin + "/initdb", pgBin + "/postgres", pgBin + "/psql", "/usr/bin/unshare", "/usr/bin/setpriv", "/usr/sbin/ip", "/usr/bin/xz"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: make versions installs postgresql-15, util-linux, iproute2 and xz-utils", p)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("make versions runs as root: it starts the servers as the postgres user in network namespaces of their own")
	}
	acct := lookupAccount(t)
	root := repoRoot(t)

	work, err := os.MkdirTemp("/var/tmp", "pgpoolgen-versions-")
	must(t, err)
	must(t, os.Chmod(work, 0o755))
	keep := os.Getenv("VERSIONS_KEEP") != ""
	t.Cleanup(func() {
		if t.Failed() || keep {
			fmt.Fprintf(os.Stderr, "versions: configs, rewrites and logs kept in %s\n", work)
			return
		}
		stopAll()
		os.RemoveAll(work)
	})
	fmt.Fprintf(os.Stderr, "versions: work folder %s\n", work)

	// The builds, each into its own folder.
	bin := filepath.Join(work, "builds")
	must(t, os.MkdirAll(bin, 0o755))
	for _, s := range series {
		archive := filepath.Join(builds, "pgpool-"+s+".tar.xz")
		if _, err := os.Stat(archive); err != nil {
			t.Fatalf("the builds at %s lack pgpool-II %s: %v", builds, s, err)
		}
		if out, err := run(2*time.Minute, nil, "tar", "-xJf", archive, "-C", bin); err != nil {
			t.Fatalf("unpacking %s: %v\n%s", archive, err, out)
		}
		if _, err := os.Stat(filepath.Join(bin, s, "bin", "pgpool")); err != nil {
			t.Fatalf("%s holds no %s/bin/pgpool", archive, s)
		}
	}

	confs := append(goldenConfs(t, root), matrixConfs(t)...)
	pg := startPostgres(t, acct, filepath.Join(work, "postgres"))

	samples := map[string]map[string]bool{}
	for _, s := range series {
		names, err := sampleNames(filepath.Join(bin, s, "etc"))
		if err != nil {
			t.Fatal(err)
		}
		samples[s] = names
	}

	// Two pgpools at a time: the machine has two cores. t.Parallel subtests run
	// -parallel at a time, which GOMAXPROCS sets.
	t.Run("pgpool", func(t *testing.T) {
		for i, k := range confs {
			i, k := i, k
			if samples[k.series] == nil {
				t.Errorf("%s: no build of pgpool-II %s", k.label(), k.series)
				continue
			}
			t.Run(k.series+"/"+strings.ReplaceAll(k.caseID, "/", "-")+"/"+k.host, func(t *testing.T) {
				t.Parallel()
				p := &placement{
					dir:      filepath.Join(work, "cases", fmt.Sprintf("%02d-%s-%s-%s", i, k.series, strings.ReplaceAll(k.caseID, "/", "-"), k.host)),
					addr:     fmt.Sprintf("127.0.50.%d", 10+i),
					port:     20000 + 2*i,
					pcpPort:  20001 + 2*i,
					pgSocket: pg.socketDir,
					pgPort:   pg.port,
				}
				readBack(t, acct, pg, filepath.Join(bin, k.series), samples[k.series], k, p)
			})
		}
	})

	totals.Lock()
	defer totals.Unlock()
	sort.Strings(totals.rows)
	fmt.Println("versions: per pgpool instance (series case host: values compared, of them masked; names not reported)")
	for _, r := range totals.rows {
		fmt.Println("  " + r)
	}
	fmt.Printf("versions: %d (series, case) pairs, %d values compared (%d shown masked), %d names pre-3.7 pgpool does not report, %d weight shares checked through SHOW pool_nodes; %s\n",
		totals.pairs, totals.compared, totals.maskedValues, totals.unreported, totals.weightsByNodes, time.Since(started).Round(time.Second))
}

// readBack starts one pgpool.conf on its series' pgpool and compares every value.
func readBack(t *testing.T, acct account, pg *postgres, build string, sample map[string]bool, k conf, p *placement) {
	label := k.label()
	settings, bad := parseConf(string(k.pgpool))
	for _, b := range bad {
		t.Errorf("%s: pgpool.conf %s: pgpool-II skips a line it cannot read", label, b)
	}
	seen := map[string]int{}
	for _, s := range settings {
		if prev, ok := seen[s.name]; ok {
			t.Errorf("%s: pgpool.conf sets %s on line %d and again on line %d (pgpool takes the last)", label, s.name, prev, s.no)
		}
		seen[s.name] = s.no
	}
	moved, rewrites, problems := rewrite(settings, sample, p, k.series)
	for _, pr := range problems {
		t.Errorf("%s: %s", label, pr)
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
	writeOwned(t, acct, filepath.Join(p.dir, "pool_hba.conf"), []byte("local all all trust\n"), 0o600)
	writeOwned(t, acct, filepath.Join(p.dir, "pool_passwd"), nil, 0o600)
	users, dbs := checkUsersAndDatabases(moved)
	pg.ensure(t, users, dbs)

	// pgpool in a network namespace of its own, with only its loopback up.
	logFile := filepath.Join(p.dir, "pgpool.log")
	args := []string{"unshare", "--net", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh"}
	args = append(args, asUser("env", "LD_LIBRARY_PATH="+build+"/lib", "HOME="+p.dir,
		build+"/bin/pgpool", "-n", "-D", "-f", conf, "-F", filepath.Join(p.dir, "pcp.conf"), "-a", filepath.Join(p.dir, "pool_hba.conf"))...)
	proc, err := start("pgpool "+label, syscall.SIGINT, logFile, args...)
	if err != nil {
		t.Fatalf("%s: starting pgpool: %v", label, err)
	}
	defer proc.halt()
	if _, ok := waitFor(60*time.Second, func() bool {
		if proc.exited() {
			return true
		}
		_, err := psql(p, "SELECT 1")
		return err == nil
	}); !ok || proc.exited() {
		state := "does not take clients on its socket within 60 s"
		if proc.exited() {
			state = "exited: " + proc.cmd.ProcessState.String()
		}
		t.Fatalf("%s: pgpool-II %s %s; log %s:\n%s", label, k.series, state, logFile, tail(logFile, 30))
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
		g, ok := got[s.name]
		if !ok {
			switch {
			case reportsAll(k.series):
				t.Errorf("%s: pgpool-II %s does not know %s (line %d, written %q): PGPOOL SHOW ALL lists every parameter it reads, and not this one",
					label, k.series, s.name, s.no, s.value)
			case !sample[record(s.name)]:
				t.Errorf("%s: pgpool-II %s neither reports %s (line %d, written %q) in SHOW pool_status nor has it in its sample pgpool.conf: most likely a name it does not know",
					label, k.series, s.name, s.no, s.value)
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
				t.Errorf("%s: %s (line %d): written %q, pgpool-II %s shows %q (expected %s)", label, s.name, s.no, s.value, k.series, g, want)
			}
			continue
		}
		v, rule := compare(k.series, s.name, s.value, g)
		fmt.Fprintf(&ledger, "%-34s %-12s written %q shown %q\n", s.name, rule, s.value, g)
		switch v {
		case masked:
			maskedN++
		case differ:
			t.Errorf("%s: %s (line %d): written %q, pgpool-II %s shows %q", label, s.name, s.no, s.value, k.series, g)
		}
	}

	// What the spec asked for, whatever the file says.
	written := map[string]line{}
	for _, s := range moved {
		written[s.name] = s
	}
	for _, e := range k.expect {
		g, ok := got[e.name]
		if !ok {
			w, inFile := written[e.name]
			switch {
			case reportsAll(k.series):
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s, which PGPOOL SHOW ALL does not list", label, e.why, k.series, e.name)
			case !inFile:
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s, which pgpool.conf does not set", label, e.why, k.series, e.name)
			case e.nonEmpty && w.value == "" || !e.nonEmpty && w.value != e.value:
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s = %q; pgpool.conf line %d sets %q", label, e.why, k.series, e.name, e.value, w.no, w.value)
			}
			continue
		}
		if e.nonEmpty {
			if g == "" {
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as a %s, which it shows empty", label, e.why, k.series, e.name)
			}
			continue
		}
		if strings.HasPrefix(e.name, "backend_weight") {
			if ok, want := compareWeight(k.series, e.value, g, shares[index(e.name)]); !ok {
				t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s = %s; it shows %q (expected %s)", label, e.why, k.series, e.name, e.value, g, want)
			}
			continue
		}
		if v, _ := compare(k.series, e.name, e.value, g); v != same {
			t.Errorf("%s: the spec's %s should reach pgpool-II %s as %s = %q; it shows %q", label, e.why, k.series, e.name, e.value, g)
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
				t.Errorf("%s: backend_weight%d: pgpool-II %s balances node %d with the share %q, want %f", label, id, k.series, id, lb[id], want)
			}
			nodes++
		}
	}

	// pgpool stops on a wrong value with a FATAL; anything FATAL in its log counts.
	proc.halt()
	logData, _ := os.ReadFile(logFile)
	for _, l := range strings.Split(string(logData), "\n") {
		if fatalRE.MatchString(l) {
			t.Errorf("%s: pgpool-II %s logged: %s", label, k.series, l)
		}
	}

	totals.Lock()
	totals.pairs++
	totals.compared += compared
	totals.maskedValues += maskedN
	totals.unreported += len(unreported)
	totals.weightsByNodes += nodes
	row := fmt.Sprintf("%-4s %-28s %-8s %3d compared, %d masked", k.series, k.caseID, k.host, compared, maskedN)
	if len(unreported) > 0 {
		row += "; not reported: " + strings.Join(unreported, " ")
	}
	totals.rows = append(totals.rows, row)
	totals.Unlock()
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
