package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The setup scripts are tested by running them, as root, against a root prefix (--root) that
// stands for each host: an ordinary folder with etc/passwd, the user's home, and stub
// programs where PostgreSQL and pgpool-II would be. They must create the tree the bundle
// describes, change nothing on a second run, keep what the operator put in shared files, and
// replace only their own lines when the spec changes.

type manifestFile struct {
	Host    string `json:"host"`
	Path    string `json:"path"`
	Install string `json:"install"`
	Dest    string `json:"destination"`
	Mode    string `json:"mode"`
	Owner   string `json:"owner"`
}

type manifestDoc struct {
	Files   []manifestFile `json:"files"`
	Secrets []struct {
		Host, Name, Env string
	} `json:"secrets"`
}

// hasSecret reports whether host's setup reads the secret name.
func (m manifestDoc) hasSecret(host, name string) bool {
	for _, s := range m.Secrets {
		if s.Host == host && s.Name == name {
			return true
		}
	}
	return false
}

// wdAuthKey is the watchdog's key the tests give setup.
const wdAuthKey = "wd key:with-colon&amp;%s"

func readManifest(t *testing.T, bundle string) manifestDoc {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(bundle, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifestDoc
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the setup tests run as root in CI")
		}
		t.Skip("setup scripts set owners: run the tests as root")
	}
}

// fakeHost makes a root prefix for a host: passwd and group entries for the OS user, its home,
// and stub programs at the layout's paths that report the target versions.
func fakeHost(t *testing.T, root, user, group, home string, programs map[string]string) {
	t.Helper()
	uid, gid := 4242, 4343
	write := func(p, data string, mode os.FileMode) {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	// setup works in the user's folders with the user's rights: it must be able to pass through
	// the test's temporary folders (0700) to reach them, as on a host.
	for _, d := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/passwd", fmt.Sprintf("root:x:0:0:root:/root:/bin/bash\n%s:x:%d:%d::%s:/bin/bash\n", user, uid, gid, home), 0o644)
	write("etc/group", fmt.Sprintf("root:x:0:\n%s:x:%d:\n", group, gid), 0o644)
	if err := os.MkdirAll(filepath.Join(root, home), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(root, home), uid, gid); err != nil {
		t.Fatal(err)
	}
	for p, out := range programs {
		write(p, "#!/bin/sh\necho '"+out+"'\n", 0o755)
	}
}

// giveKeyPair puts the host's key pair from a golden case's keys/<host>.pub into the root's
// home, as an operator would have made it: the public half, and a stand-in for the private one.
func giveKeyPair(t *testing.T, caseDir, host, root, home string) {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(caseDir, "keys", host+".pub"))
	if os.IsNotExist(err) {
		return // the host logs in nowhere
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, home, ".ssh")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "id_test.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "id_test"), []byte("private key stand-in\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 4242, 4343); err != nil {
		t.Fatal(err)
	}
}

// runSetup runs a host's setup.sh and returns its output.
//
// The roles' secrets and the AES key, which most tests do not look at, get defaultSecrets
// unless env sets them.
func runSetup(t *testing.T, script string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("/bin/bash", append([]string{script}, args...)...)
	cmd.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	for _, d := range defaultSecrets {
		name, _, _ := strings.Cut(d, "=")
		if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") }) {
			cmd.Env = append(cmd.Env, d)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%s did not finish within 60 s:\n%s", script, out.String())
	}
	return "", nil
}

// defaultSecrets are the secrets runSetup gives when a test does not: the roles' passwords
// and the AES key.
var defaultSecrets = []string{"PGPOOLGEN_CHECK_PASSWORD=check-pw", "PGPOOLGEN_SR_CHECK_PASSWORD=sr-check-pw",
	"PGPOOLGEN_RECOVERY_PASSWORD=recovery-pw", "PGPOOLGEN_REWIND_PASSWORD=rewind-pw", "PGPOOLGEN_PGPOOLKEY=aes-key"}

// statTree reads a root prefix: content, mode and owner of everything in it.
func statTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		st := fmt.Sprintf("%04o %v", info.Mode().Perm(), ownerOf(info))
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			st += " " + string(data)
		} else {
			st += " " + info.Mode().Type().String()
		}
		out[rel] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func stubs(pgBin, pgpoolBin, series string) map[string]string {
	m := map[string]string{}
	for _, p := range []string{"postgres", "pg_ctl", "psql", "pg_isready", "pg_basebackup", "pg_rewind", "pg_config"} {
		m[pgBin+"/"+p] = p + " (PostgreSQL) stub"
	}
	m[pgpoolBin+"/pgpool"] = "pgpool-II version " + series + ".5 (stub)"
	m[pgpoolBin+"/pcp_attach_node"] = "stub"
	return m
}

func TestSetupScripts(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name, series, pgBin, pgpoolBin, user, group, home string
	}{
		{"debian-streaming", "4.3", "/usr/lib/postgresql/15/bin", "/usr/sbin", "postgres", "postgres", "/var/lib/postgresql"},
		{"seed-master-slave", "3.1", "/usr/local/pgsql/bin", "/usr/local/pgpool2/bin", "postgres", "postgres", "/home/postgres"},
		{"seed-replication", "3.1", "/usr/local/pgsql/bin", "/usr/local/pgpool2/bin", "postgres", "postgres", "/home/postgres"},
		{"wide-ipv6-native", "4.7", "/opt/postgresql-17/bin", "/opt/pgpool-4.7/bin", "pgsql", "dba", "/home/pgsql"},
		{"watchdog-4.3", "4.3", "/usr/lib/postgresql/15/bin", "/usr/sbin", "postgres", "postgres", "/var/lib/postgresql"},
		{"rhel-streaming", "4.5", "/usr/pgsql-16/bin", "/usr/bin", "postgres", "postgres", "/var/lib/pgsql"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := filepath.Join(t.TempDir(), "out")
			build(t, filepath.Join(goldenDir, tc.name), bundle)
			m := readManifest(t, bundle)
			env := []string{}
			for _, s := range m.Secrets {
				v := "secret:with\\colon-" + s.Name
				if s.Name == "wd_authkey" {
					v = wdAuthKey // pgpool.conf cannot hold a backslash
				}
				env = append(env, s.Env+"="+v)
			}
			hosts := map[string]bool{}
			for _, f := range m.Files {
				if f.Host != "" {
					hosts[f.Host] = true
				}
			}
			for _, host := range keys(hosts) {
				root := t.TempDir()
				files := stubs(tc.pgBin, tc.pgpoolBin, tc.series)
				for _, p := range []string{"/usr/bin/sudo", "/usr/bin/ip", "/usr/bin/arping", "/usr/sbin/ip", "/usr/sbin/arping"} {
					files[p] = "stub" // the watchdog moves its virtual IP with them
				}
				if tc.name == "wide-ipv6-native" {
					// pgpool.conf names them; the operator provides them.
					files["/etc/pgpool-ii/wide/server.crt"] = "certificate"
					files["/etc/pgpool-ii/wide/server.key"] = "key"
				}
				fakeHost(t, root, tc.user, tc.group, tc.home, files)
				giveKeyPair(t, filepath.Join(goldenDir, tc.name), host, root, tc.home)
				script := filepath.Join(bundle, "hosts", host, "setup.sh")
				hba := madeCluster(t, root, m, host)

				// A dry run changes nothing.
				before := statTree(t, root)
				out, err := runSetup(t, script, env, "--root", root, "--skip-network", "--dry-run")
				if err != nil {
					t.Fatalf("%s: dry run: %v\n%s", host, err, out)
				}
				if !strings.Contains(out, "would: ") {
					t.Errorf("%s: the dry run reports nothing to do:\n%s", host, out)
				}
				if diff := cmp.Diff(before, statTree(t, root)); diff != "" {
					t.Errorf("%s: the dry run changed the tree:\n%s", host, diff)
				}

				out, err = runSetup(t, script, env, "--root", root, "--skip-network")
				if err != nil {
					t.Fatalf("%s: first run: %v\n%s", host, err, out)
				}
				for _, f := range m.Files {
					if f.Host != host || f.Install != "replace" {
						continue
					}
					got, err := os.Stat(filepath.Join(root, f.Dest))
					if err != nil {
						// Only the recovery scripts wait, for a data directory to exist.
						if !strings.Contains(out, "later: put the recovery scripts into "+filepath.Dir(f.Dest)+" ") {
							t.Errorf("%s: %s was not installed: %v", host, f.Dest, err)
						}
						continue
					}
					want, _ := os.ReadFile(filepath.Join(bundle, f.Path))
					have, _ := os.ReadFile(filepath.Join(root, f.Dest))
					if filepath.Base(f.Dest) == "pgpool.conf" && m.hasSecret(host, "wd_authkey") {
						// The watchdog's key, a secret, is added to the installed copy only.
						want = append(want, "wd_authkey = '"+wdAuthKey+"'\n"...)
					}
					if !bytes.Equal(want, have) || fmt.Sprintf("%04o", got.Mode().Perm()) != f.Mode {
						t.Errorf("%s: %s differs from the bundle or has mode %04o, want %s", host, f.Dest, got.Mode().Perm(), f.Mode)
					}
					wantOwner := "4242:4343"
					if f.Owner == "root" {
						wantOwner = "0:0"
					}
					if owner := ownerOf(got); owner != wantOwner {
						t.Errorf("%s: %s is owned by %s, want %s", host, f.Dest, owner, wantOwner)
					}
				}
				if hba != "" {
					// The block comes first, where PostgreSQL looks first; the operator's line stays.
					block := readFile(t, filepath.Join(bundle, "hosts", host, "merge", hba))
					if got := readFile(t, filepath.Join(root, hba)); got != block+operatorHBA {
						t.Errorf("%s: %s after setup:\n%s\nwant the block, then the operator's line", host, hba, got)
					}
				}
				ak := filepath.Join(root, tc.home, ".ssh", "authorized_keys")
				checkMode(t, filepath.Join(root, tc.home, ".ssh"), 0o700)
				checkMode(t, ak, 0o600)

				// The second run changes nothing, byte for byte and mode for mode.
				first := statTree(t, root)
				out, err = runSetup(t, script, env, "--root", root, "--skip-network")
				if err != nil {
					t.Fatalf("%s: second run: %v\n%s", host, err, out)
				}
				if !strings.Contains(out, "nothing to change") || strings.Contains(out, "change: ") {
					t.Errorf("%s: the second run changed something:\n%s", host, out)
				}
				if diff := cmp.Diff(first, statTree(t, root)); diff != "" {
					t.Errorf("%s: the second run changed the tree:\n%s", host, diff)
				}
			}
		})
	}
}

// TestSetupChecksInstalledSeries: a pgpool-II of another series stops setup, also when setup
// installs none ([install] method = "none", the rhel layout's default): the bundle's
// pgpool.conf and scripts are for its own series.
func TestSetupChecksInstalledSeries(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name, host, series, pgBin, pgpoolBin, user, group, home string
	}{
		{"wide-ipv6-native", "gw", "4.7", "/opt/postgresql-17/bin", "/opt/pgpool-4.7/bin", "pgsql", "dba", "/home/pgsql"},
		{"rhel-streaming", "server2", "4.5", "/usr/pgsql-16/bin", "/usr/bin", "postgres", "postgres", "/var/lib/pgsql"},
		{"debian-streaming", "pgpool1", "4.3", "/usr/lib/postgresql/15/bin", "/usr/sbin", "postgres", "postgres", "/var/lib/postgresql"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := filepath.Join(t.TempDir(), "out")
			build(t, filepath.Join(goldenDir, tc.name), bundle)
			var env []string
			for _, s := range readManifest(t, bundle).Secrets {
				env = append(env, s.Env+"=secret-"+s.Name)
			}
			script := filepath.Join(bundle, "hosts", tc.host, "setup.sh")
			for _, installed := range []string{tc.series, "4.6"} {
				if installed == tc.series && tc.series == "4.6" {
					continue
				}
				root := t.TempDir()
				files := stubs(tc.pgBin, tc.pgpoolBin, installed)
				for _, p := range []string{"/usr/bin/sudo", "/usr/sbin/ip", "/usr/sbin/arping"} {
					files[p] = "stub"
				}
				files["/etc/pgpool-ii/wide/server.crt"], files["/etc/pgpool-ii/wide/server.key"] = "certificate", "key"
				fakeHost(t, root, tc.user, tc.group, tc.home, files)
				giveKeyPair(t, filepath.Join(goldenDir, tc.name), tc.host, root, tc.home)
				out, err := runSetup(t, script, env, "--root", root, "--skip-network", "--dry-run")
				want := tc.pgpoolBin + "/pgpool is pgpool-II " + installed + ", but the bundle is for " + tc.series
				switch {
				case installed == tc.series && err != nil:
					t.Errorf("pgpool-II %s installed: setup stopped: %v\n%s", installed, err, out)
				case installed != tc.series && (err == nil || !strings.Contains(out, want)):
					t.Errorf("pgpool-II %s installed for a %s bundle: setup did not stop with %q: %v\n%s", installed, tc.series, want, err, out)
				}
			}
		})
	}
}

// operatorHBA is the line a fresh cluster's pg_hba.conf has in madeCluster.
const operatorHBA = "local   all   all   peer   # the operator's\n"

// madeCluster gives a backend host of the manifest the database cluster pg_createcluster or
// initdb would have made, owned by the OS user: postgresql.conf (reading conf.d, as Debian's
// does), pg_hba.conf with one line of the operator's, and PG_VERSION where postgresql.conf is
// in the data directory. It returns the pg_hba.conf the bundle merges a block into, or "" on a
// host without one.
func madeCluster(t *testing.T, root string, m manifestDoc, host string) string {
	t.Helper()
	for _, f := range m.Files {
		if f.Host != host || f.Install != "merge" || filepath.Base(f.Dest) != "pg_hba.conf" {
			continue
		}
		dir := filepath.Join(root, filepath.Dir(f.Dest))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// Folders made inside the user's own (PGDG's /var/lib/pgsql/<PG> in the home) are the
		// user's, as the packages make them.
		rel := strings.Split(strings.TrimPrefix(filepath.Dir(f.Dest), "/"), "/")
		users := false
		for i := range rel {
			p := filepath.Join(append([]string{root}, rel[:i+1]...)...)
			info, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if users {
				mkdir(t, p, 0o700, 4242, 4343)
			}
			users = users || ownerOf(info) == "4242:4343"
		}
		mkdir(t, dir, 0o700, 4242, 4343)
		for name, data := range map[string]string{"postgresql.conf": "# the operator's\ninclude_dir = 'conf.d'\n", "pg_hba.conf": operatorHBA, "PG_VERSION": "15\n"} {
			writeOwned(t, filepath.Join(dir, name), data, 0o600, 4242, 4343)
		}
		return f.Dest
	}
	return ""
}

func ownerOf(info os.FileInfo) string {
	st := info.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}

func checkMode(t *testing.T, p string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(p)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if info.Mode().Perm() != want {
		t.Errorf("%s has mode %04o, want %04o", p, info.Mode().Perm(), want)
	}
}

// TestSetupKeepsOperatorLines checks the merge of authorized_keys and .pgpass: lines the
// operator had stay; a changed spec replaces this cluster's lines and only those.
func TestSetupKeepsOperatorLines(t *testing.T) {
	requireRoot(t)
	const home = "/var/lib/postgresql"
	caseDir := filepath.Join(goldenDir, "debian-streaming")
	specDir := t.TempDir()
	copyDir(t, caseDir, specDir, "cluster.toml", "pcp-password.txt", "test.env", "keys")
	bundle := filepath.Join(t.TempDir(), "out")
	build(t, specDir, bundle)

	root := t.TempDir()
	fakeHost(t, root, "postgres", "postgres", home, stubs("/usr/lib/postgresql/15/bin", "/usr/sbin", "4.3"))
	giveKeyPair(t, specDir, "pg2", root, home)
	foreignKey := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIForeignKeyOfTheOperatorXXXXXXXXXXXXXXXXXXXX admin@laptop"
	foreignPass := "db.example.net:5432:*:app:apppass"
	for p, line := range map[string]string{".ssh/authorized_keys": foreignKey, ".pgpass": foreignPass} {
		p = filepath.Join(root, home, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// The files in the user's home are the user's: setup refuses any other owner there.
		for _, q := range []string{p, filepath.Dir(p)} {
			if err := os.Chown(q, 4242, 4343); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := []string{"PGPOOLGEN_REPLICATION_PASSWORD=r3pl:pw\\x"}
	script := filepath.Join(bundle, "hosts", "pg2", "setup.sh")
	if out, err := runSetup(t, script, env, "--root", root, "--skip-network"); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	ak := readFile(t, filepath.Join(root, home, ".ssh/authorized_keys"))
	pgpass := readFile(t, filepath.Join(root, home, ".pgpass"))
	oldKey := strings.Fields(readFile(t, filepath.Join(specDir, "keys/pg1.pub")))[1]
	for _, want := range []string{foreignKey, oldKey, `from="192.0.2.10"`, "# BEGIN pgpoolgen cluster debian-streaming"} {
		if !strings.Contains(ak, want) {
			t.Errorf("authorized_keys lacks %q:\n%s", want, ak)
		}
	}
	if strings.Count(ak, "# BEGIN pgpoolgen") != 1 {
		t.Errorf("authorized_keys holds more than one block:\n%s", ak)
	}
	for _, want := range []string{foreignPass, `192.0.2.11:5432:*:repl:r3pl\:pw\\x`} {
		if !strings.Contains(pgpass, want) {
			t.Errorf(".pgpass lacks %q:\n%s", want, pgpass)
		}
	}
	checkMode(t, filepath.Join(root, home, ".pgpass"), 0o600)
	checkMode(t, filepath.Join(root, home, ".ssh/authorized_keys"), 0o600)

	// pg1 gets a new key: pg2's block swaps the key, the operator's line stays.
	newKey := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1Xv8o6zQ3pVx5Vb7Gm0Wl2Yq3mJm4wQ5cE6k2b7Xy9 postgres@pg1-new"
	if err := os.WriteFile(filepath.Join(specDir, "keys/pg1.pub"), []byte(newKey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build(t, specDir, bundle)
	out, err := runSetup(t, script, env, "--root", root, "--skip-network")
	if err != nil {
		t.Fatalf("setup after the key change: %v\n%s", err, out)
	}
	ak = readFile(t, filepath.Join(root, home, ".ssh/authorized_keys"))
	if strings.Contains(ak, oldKey) || !strings.Contains(ak, strings.Fields(newKey)[1]) || !strings.Contains(ak, foreignKey) {
		t.Errorf("after the key change, authorized_keys should hold the new key and the operator's, not the old:\n%s", ak)
	}
	if !strings.Contains(out, "change: update this cluster's lines in "+home+"/.ssh/authorized_keys") || strings.Count(out, "change: ") != 1 {
		t.Errorf("the key change should change authorized_keys and nothing else:\n%s", out)
	}
}

// TestSetupStopsOnMissingSecrets checks that setup names every missing secret and program, and
// changes nothing.
func TestSetupStopsOnMissingSecrets(t *testing.T) {
	requireRoot(t)
	bundle := filepath.Join(t.TempDir(), "out")
	build(t, filepath.Join(goldenDir, "debian-streaming"), bundle)
	root := t.TempDir()
	fakeHost(t, root, "postgres", "postgres", "/var/lib/postgresql", map[string]string{})
	before := statTree(t, root)
	out, err := runSetup(t, filepath.Join(bundle, "hosts", "pg1", "setup.sh"), nil, "--root", root, "--skip-network")
	if err == nil {
		t.Fatalf("setup without secrets and programs succeeded:\n%s", out)
	}
	for _, want := range []string{"stopped before changing anything", "missing secret replication: set PGPOOLGEN_REPLICATION_PASSWORD",
		"no key pair in /var/lib/postgresql/.ssh (id_*, id_*.pub) is the ssh_key the spec gives for this host",
		"missing program /usr/lib/postgresql/15/bin/pg_ctl", "missing program /usr/lib/postgresql/15/bin/pg_basebackup"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if diff := cmp.Diff(before, statTree(t, root)); diff != "" {
		t.Errorf("a stopped setup changed the tree:\n%s", diff)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// copyDir copies the named files and folders of src into dst.
func copyDir(t *testing.T, src, dst string, names ...string) {
	t.Helper()
	for _, n := range names {
		out, err := exec.Command("cp", "-a", filepath.Join(src, n), dst).CombinedOutput()
		if err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
	}
}

// TestSetupMergesPoolPasswd checks that setup replaces the lines of the bundle's pool users in
// pool_passwd and keeps every other user's line (AES entries made with pg_enc -m).
func TestSetupMergesPoolPasswd(t *testing.T) {
	requireRoot(t)
	bundle := filepath.Join(t.TempDir(), "out")
	build(t, filepath.Join(goldenDir, "debian-streaming"), bundle)
	root := t.TempDir()
	fakeHost(t, root, "postgres", "postgres", "/var/lib/postgresql", stubs("/usr/lib/postgresql/15/bin", "/usr/sbin", "4.3"))
	giveKeyPair(t, filepath.Join(goldenDir, "debian-streaming"), "pgpool1", root, "/var/lib/postgresql")
	pp := filepath.Join(root, "etc/pgpool2/pool_passwd")
	if err := os.MkdirAll(filepath.Dir(pp), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pp, []byte("operator:AESfromPgEnc==\npostgres:AESstale==\napp:md5stale00000000000000000000000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const key = "aes-key/with:odd chars"
	env := []string{"PGPOOLGEN_PCP_PASSWORD=x", "PGPOOLGEN_CHECK_PASSWORD=check pw:1", "PGPOOLGEN_RECOVERY_PASSWORD=rec'pw\\2", "PGPOOLGEN_PGPOOLKEY=" + key}
	script := filepath.Join(bundle, "hosts", "pgpool1", "setup.sh")
	if out, err := runSetup(t, script, env, "--root", root, "--skip-network"); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	// The operator's line stays, the bundle's md5 users' lines are replaced, and the users
	// pgpool-II logs in as get AES entries, byte for byte what pgpool-II's own pg_enc makes
	// with the same key (AES-256-CBC, EVP_BytesToKey with SHA-1, no salt).
	got := readFile(t, pp)
	want := "operator:AESfromPgEnc==\n" + readFile(t, filepath.Join(bundle, "hosts/pgpool1/merge/etc/pgpool2/pool_passwd")) +
		"pgpool:" + pgEnc(t, key, "check pw:1") + "\npostgres:" + pgEnc(t, key, "rec'pw\\2") + "\n"
	if got != want {
		t.Errorf("pool_passwd after setup:\n%s\nwant:\n%s", got, want)
	}
	if k := readFile(t, filepath.Join(root, "var/lib/postgresql/.pgpoolkey")); k != key+"\n" {
		t.Errorf(".pgpoolkey holds %q, want the key and a line break", k)
	}
	checkMode(t, filepath.Join(root, "var/lib/postgresql/.pgpoolkey"), 0o600)
	checkMode(t, pp, 0o600)
	if out, err := runSetup(t, script, env, "--root", root, "--skip-network"); err != nil || !strings.Contains(out, "nothing to change") {
		t.Errorf("second run: %v\n%s", err, out)
	}
}

// pgEnc is what pgpool-II's pg_enc prints as the pool_passwd string of password with key (in
// a key file, as pgpool-II reads it).
func pgEnc(t *testing.T, key, password string) string {
	t.Helper()
	bin := realProgram(t, "pg_enc")
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-k", keyFile, "-u", "any", password).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_enc: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(l, "pool_passwd string: "); ok {
			return s
		}
	}
	t.Fatalf("pg_enc printed no pool_passwd string:\n%s", out)
	return ""
}

// TestSetupWatchdogKey: the watchdog's key reaches the installed pgpool.conf only, which is
// then the OS user's alone, and a key pgpool.conf cannot hold in single quotes stops setup
// before it changes anything.
func TestSetupWatchdogKey(t *testing.T) {
	requireRoot(t)
	bundle := filepath.Join(t.TempDir(), "out")
	build(t, filepath.Join(goldenDir, "watchdog-4.3"), bundle)
	inBundle := readFile(t, filepath.Join(bundle, "hosts/pgpool2/files/etc/pgpool2/pgpool.conf"))
	if strings.Contains(inBundle, "wd_authkey =") {
		t.Fatalf("the bundle's pgpool.conf sets wd_authkey")
	}
	script := filepath.Join(bundle, "hosts", "pgpool2", "setup.sh")
	files := stubs("/usr/lib/postgresql/15/bin", "/usr/sbin", "4.3")
	for _, p := range []string{"/usr/bin/sudo", "/usr/bin/ip", "/usr/bin/arping"} {
		files[p] = "stub"
	}
	for _, bad := range []string{"it's", `back\slash`, "tab\there"} {
		root := t.TempDir()
		fakeHost(t, root, "postgres", "postgres", "/var/lib/postgresql", files)
		giveKeyPair(t, filepath.Join(goldenDir, "watchdog-4.3"), "pgpool2", root, "/var/lib/postgresql")
		before := statTree(t, root)
		out, err := runSetup(t, script, []string{"PGPOOLGEN_WD_AUTHKEY=" + bad}, "--root", root, "--skip-network")
		if err == nil || !strings.Contains(out, "secret wd_authkey holds a quote, a backslash or a control character") {
			t.Errorf("key %q: setup did not stop on it: %v\n%s", bad, err, out)
		}
		if strings.Contains(out, bad) {
			t.Errorf("key %q: setup printed the secret:\n%s", bad, out)
		}
		if diff := cmp.Diff(before, statTree(t, root)); diff != "" {
			t.Errorf("key %q: setup changed the tree:\n%s", bad, diff)
		}
	}
	root := t.TempDir()
	fakeHost(t, root, "postgres", "postgres", "/var/lib/postgresql", files)
	giveKeyPair(t, filepath.Join(goldenDir, "watchdog-4.3"), "pgpool2", root, "/var/lib/postgresql")
	others := []string{"PGPOOLGEN_USER_APP_PASSWORD=app", "PGPOOLGEN_PCP_PASSWORD=pcp"}
	env := append([]string{"PGPOOLGEN_WD_AUTHKEY=" + wdAuthKey}, others...)
	out, err := runSetup(t, script, env, "--root", root, "--skip-network")
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	if strings.Contains(out, wdAuthKey) {
		t.Errorf("setup printed the watchdog's key:\n%s", out)
	}
	conf := filepath.Join(root, "etc/pgpool2/pgpool.conf")
	if got, want := readFile(t, conf), inBundle+"wd_authkey = '"+wdAuthKey+"'\n"; got != want {
		t.Errorf("installed pgpool.conf ends in %q, want the bundle's file and the key", got[max(0, len(got)-120):])
	}
	checkMode(t, conf, 0o600)
	if id := readFile(t, filepath.Join(root, "etc/pgpool2/pgpool_node_id")); id != "1\n" {
		t.Errorf("pgpool_node_id of pgpool2 holds %q, want 1", id)
	}
	if out, err := runSetup(t, script, env, "--root", root, "--skip-network"); err != nil || !strings.Contains(out, "nothing to change") {
		t.Errorf("second run: %v\n%s", err, out)
	}
	// A new key is a change of pgpool.conf, which pgpool-II reads on reload.
	out, err = runSetup(t, script, append([]string{"PGPOOLGEN_WD_AUTHKEY=another-key"}, others...), "--root", root, "--skip-network")
	if err != nil || !strings.Contains(out, "/etc/pgpool2/pgpool.conf") {
		t.Errorf("run with a new key: %v\n%s", err, out)
	}
	if got := readFile(t, conf); !strings.HasSuffix(got, "\nwd_authkey = 'another-key'\n") || strings.Count(got, "wd_authkey =") != 1 {
		t.Errorf("after a new key, pgpool.conf ends in %q", got[max(0, len(got)-120):])
	}
}

// TestSetupRPMSudoersNote: with RHEL's layout setup points out the pgpool-II RPM's
// /etc/sudoers.d/pgpool, which lets postgres run ip as root with any arguments, where it
// exists, and leaves it as it is; no other layout's setup speaks of it, or of SELinux.
func TestSetupRPMSudoersNote(t *testing.T) {
	requireRoot(t)
	const note = "note: /etc/sudoers.d/pgpool (the pgpool-II RPM's) lets postgres run ip and arping as root with any arguments"
	for _, tc := range []struct {
		name, host, series, pgBin, pgpoolBin, home string
		want                                       bool
	}{
		{"rhel-streaming", "server1", "4.5", "/usr/pgsql-16/bin", "/usr/bin", "/var/lib/pgsql", true},
		{"debian-streaming", "pgpool1", "4.3", "/usr/lib/postgresql/15/bin", "/usr/sbin", "/var/lib/postgresql", false},
	} {
		bundle := filepath.Join(t.TempDir(), "out")
		build(t, filepath.Join(goldenDir, tc.name), bundle)
		var env []string
		for _, s := range readManifest(t, bundle).Secrets {
			env = append(env, s.Env+"=secret-"+s.Name)
		}
		for _, present := range []bool{false, true} {
			root := t.TempDir()
			files := stubs(tc.pgBin, tc.pgpoolBin, tc.series)
			for _, p := range []string{"/usr/bin/sudo", "/usr/sbin/ip", "/usr/sbin/arping"} {
				files[p] = "stub"
			}
			fakeHost(t, root, "postgres", "postgres", tc.home, files)
			rule := "postgres ALL=NOPASSWD: /sbin/ip\npostgres ALL=NOPASSWD: /usr/sbin/arping\n"
			if present {
				if err := os.MkdirAll(filepath.Join(root, "etc/sudoers.d"), 0o755); err != nil {
					t.Fatal(err)
				}
				writeOwned(t, filepath.Join(root, "etc/sudoers.d/pgpool"), rule, 0o440, 0, 0)
			}
			giveKeyPair(t, filepath.Join(goldenDir, tc.name), tc.host, root, tc.home)
			out, err := runSetup(t, filepath.Join(bundle, "hosts", tc.host, "setup.sh"), env, "--root", root, "--skip-network")
			if err != nil {
				t.Fatalf("%s, the RPM's rule there %v: %v\n%s", tc.name, present, err, out)
			}
			if got := strings.Contains(out, note); got != (present && tc.want) {
				t.Errorf("%s, the RPM's rule there %v: note %v, want %v:\n%s", tc.name, present, got, present && tc.want, out)
			}
			// SELinux's labels of ~/.ssh (pgpool-II's guide: restorecon -Rv ~/.ssh) are the
			// host's, left for later under --root.
			selinux := "later: restore the SELinux labels of " + tc.home + "/.ssh on the host, if it runs SELinux"
			if got := strings.Contains(out, selinux); got != tc.want {
				t.Errorf("%s: setup under --root says %q: %v, want %v:\n%s", tc.name, selinux, got, tc.want, out)
			}
			if present && readFile(t, filepath.Join(root, "etc/sudoers.d/pgpool")) != rule {
				t.Errorf("%s: setup changed the RPM's sudoers file", tc.name)
			}
		}
	}
}
