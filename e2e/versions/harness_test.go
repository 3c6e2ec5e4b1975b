//go:build versions

// Package versions proves that every pgpool-II series reads back what pgpoolgen writes: each
// bundle's pgpool.conf is started on that series' real pgpool (the builds in
// ../shared/pgpool-builds) against one throwaway PostgreSQL 15, and every value it sets is
// compared with what pgpool reports. Run it with make versions, as root on Debian 12.
//
// Every server runs as the postgres user with its data, sockets, pid file and logs in a folder
// under /var/tmp that the run creates. PostgreSQL listens on its Unix socket only; each pgpool
// runs in a network namespace of its own (unshare --net, loopback only), because pgpool-II
// before 3.4 binds pcp to every address: nothing the run starts can be reached from outside
// it or collide with another server on the machine.
package versions

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
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
	pgBin  = "/usr/lib/postgresql/15/bin"
	osUser = "postgres"
)

// procs are the processes the run starts: cleanup stops each by its id, also when a check
// fails or the run is interrupted, and nothing starts once the run is stopping.
var procs = &proc.Set{Grace: 10 * time.Second}

// start starts a long-running program with its output in logFile, in a process group of its
// own, and records it.
func start(name string, stop syscall.Signal, logFile string, args ...string) (*proc.Proc, error) {
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	c := exec.Command(args[0], args[1:]...)
	c.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}
	c.Stdout, c.Stderr = log, log
	p, err := procs.Start(name, c, stop, func() { log.Close() })
	if err != nil {
		log.Close()
		return nil, err
	}
	return p, nil
}

// workDir is the run's folder, named when the run is interrupted.
var workDir string

func TestMain(m *testing.M) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "versions: interrupted; stopping every server it started")
		procs.Shutdown()
		if workDir != "" {
			fmt.Fprintf(os.Stderr, "versions: configs and logs left in %s\n", workDir)
		}
		os.Exit(2)
	}()
	code := m.Run()
	procs.Shutdown()
	os.Exit(code)
}

// account is the OS user the servers run as.
type account struct {
	uid, gid int
}

func lookupAccount(t *testing.T) account {
	t.Helper()
	u, err := user.Lookup(osUser)
	if err != nil {
		t.Fatalf("user %s: %v (it comes with the postgresql-15 package)", osUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return account{uid, gid}
}

// asUser prefixes a command so that it runs as the postgres user, with no capabilities left
// and none to gain (no_new_privs: no setuid program it starts, such as a watchdog's sudo,
// becomes root).
func asUser(args ...string) []string {
	return append([]string{"setpriv", "--reuid=" + osUser, "--regid=" + osUser, "--init-groups", "--inh-caps=-all", "--no-new-privs", "--"}, args...)
}

// run runs a command to its end, bounded by timeout, and returns its output.
func run(timeout time.Duration, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := exec.CommandContext(ctx, args[0], args[1:]...)
	c.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}, env...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", timeout, err)
	}
	return out.String(), err
}

// mkdirOwned makes a folder owned by the postgres user; missing parents are made root's,
// mode 0755.
func mkdirOwned(t *testing.T, acct account, dir string, mode os.FileMode) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(dir), 0o755))
	must(t, os.Mkdir(dir, mode))
	must(t, os.Chmod(dir, mode))
	must(t, os.Chown(dir, acct.uid, acct.gid))
}

// writeOwned writes a file owned by the postgres user.
func writeOwned(t *testing.T, acct account, file string, data []byte, mode os.FileMode) {
	t.Helper()
	must(t, os.WriteFile(file, data, mode))
	must(t, os.Chmod(file, mode))
	must(t, os.Chown(file, acct.uid, acct.gid))
}

// A postgres is the run's throwaway PostgreSQL 15 cluster: trust authentication, reached
// through its Unix socket only.
type postgres struct {
	socketDir string
	port      int
	proc      *proc.Proc
	log       string
	mu        sync.Mutex // serialises role and database creation
	made      map[string]bool
}

// startPostgres makes the cluster in dir and starts it; the run stops it at the end.
func startPostgres(t *testing.T, acct account, dir string) *postgres {
	t.Helper()
	pg := &postgres{socketDir: filepath.Join(dir, "socket"), port: 5433, log: filepath.Join(dir, "postgres.log"), made: map[string]bool{}}
	mkdirOwned(t, acct, dir, 0o700)
	mkdirOwned(t, acct, pg.socketDir, 0o755)
	data := filepath.Join(dir, "data")
	if out, err := run(2*time.Minute, nil, asUser(pgBin+"/initdb", "-D", data, "-A", "trust", "-U", osUser, "--locale", "C.UTF-8", "-E", "UTF8", "--no-sync")...); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// No TCP listener at all: pgpool reaches it through the socket.
	args := asUser(pgBin+"/postgres", "-D", data, "-c", "listen_addresses=", "-c", "unix_socket_directories="+pg.socketDir,
		"-p", strconv.Itoa(pg.port), "-c", "max_connections=300", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "shared_buffers=32MB", "-c", "logging_collector=off")
	p, err := start("postgres", syscall.SIGINT, pg.log, args...)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	pg.proc = p
	if _, ok := proc.WaitFor(60*time.Second, func() bool {
		_, err := pg.sql("SELECT 1")
		return err == nil || p.Exited()
	}); !ok || p.Exited() {
		t.Fatalf("PostgreSQL 15 did not start within 60 s; see %s:\n%s", pg.log, tail(pg.log, 20))
	}
	return pg
}

// sql runs one statement on the cluster as the postgres user.
func (pg *postgres) sql(stmt string) (string, error) {
	out, err := run(30*time.Second, nil, asUser(pgBin+"/psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
		"-h", pg.socketDir, "-p", strconv.Itoa(pg.port), "-U", osUser, "-d", "postgres", "-c", stmt)...)
	return strings.TrimSpace(out), err
}

// ensure creates the login roles and databases a pgpool.conf names (health and streaming check
// users, recovery user, check databases), so that pgpool's checks succeed and never start a
// failover.
func (pg *postgres) ensure(t *testing.T, users, databases []string) {
	t.Helper()
	pg.mu.Lock()
	defer pg.mu.Unlock()
	for _, u := range users {
		if u == "" || pg.made["u:"+u] {
			continue
		}
		if out, err := pg.sql(fmt.Sprintf(`SELECT 1 FROM pg_roles WHERE rolname = '%s'`, u)); err == nil && out == "1" {
			pg.made["u:"+u] = true
			continue
		}
		if out, err := pg.sql(fmt.Sprintf(`CREATE ROLE "%s" LOGIN SUPERUSER`, u)); err != nil {
			t.Fatalf("CREATE ROLE %s: %v %s", u, err, out)
		}
		pg.made["u:"+u] = true
	}
	for _, d := range databases {
		if d == "" || pg.made["d:"+d] {
			continue
		}
		if out, err := pg.sql(fmt.Sprintf(`SELECT 1 FROM pg_database WHERE datname = '%s'`, d)); err == nil && out == "1" {
			pg.made["d:"+d] = true
			continue
		}
		if out, err := pg.sql(fmt.Sprintf(`CREATE DATABASE "%s"`, d)); err != nil {
			t.Fatalf("CREATE DATABASE %s: %v %s", d, err, out)
		}
		pg.made["d:"+d] = true
	}
}

// tail returns the last n lines of a file, for failure messages.
func tail(file string, n int) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
