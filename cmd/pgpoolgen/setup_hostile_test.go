package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// These tests run setup.sh as root against a host whose OS user is hostile: it has replaced
// names in its own folders with links to files only root may touch, and setup must refuse,
// name each, and change nothing. They also check that no secret is left in a file when setup
// fails midway, and that apply-time secrets are checked as the build checks passwords.

const (
	testUID, testGID = 4242, 4343
	rootSecret       = "ROOT-ONLY-CONTENT-3b9f"
	replPassword     = "Repl-Pw-7f3a9c"
)

// hostileHost builds a golden case and makes a root prefix for one of its hosts, as
// TestSetupScripts does, plus files only root may touch outside the user's home:
// /root/secret (0600), /root/dir (0755, a folder) and /etc/rootfile (0644).
func hostileHost(t *testing.T, caseName, host string) (script, root string) {
	t.Helper()
	paths := map[string][2]string{ // PostgreSQL's and pgpool-II's bin folders, pgpool series
		"debian-streaming":  {"/usr/lib/postgresql/15/bin", "/usr/sbin"},
		"seed-master-slave": {"/usr/local/pgsql/bin", "/usr/local/pgpool2/bin"},
	}
	series := map[string]string{"debian-streaming": "4.3", "seed-master-slave": "3.1"}
	home := map[string]string{"debian-streaming": "/var/lib/postgresql", "seed-master-slave": "/home/postgres"}[caseName]
	bundle := filepath.Join(t.TempDir(), "out")
	build(t, filepath.Join(goldenDir, caseName), bundle)
	root = t.TempDir()
	fakeHost(t, root, "postgres", "postgres", home, stubs(paths[caseName][0], paths[caseName][1], series[caseName]))
	giveKeyPair(t, filepath.Join(goldenDir, caseName), host, root, home)
	mkdir(t, filepath.Join(root, "root/dir"), 0o755, 0, 0)
	writeOwned(t, filepath.Join(root, "root/secret"), rootSecret+"\n", 0o600, 0, 0)
	writeOwned(t, filepath.Join(root, "etc/rootfile"), "root's own file\n", 0o644, 0, 0)
	return filepath.Join(bundle, "hosts", host, "setup.sh"), root
}

func mkdir(t *testing.T, p string, mode os.FileMode, uid, gid int) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func writeOwned(t *testing.T, p, data string, mode os.FileMode, uid, gid int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// plantLink makes name a symbolic link to target (a path in the root prefix), made by the
// OS user.
func plantLink(t *testing.T, root, name, target string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(p)
	if err := os.Symlink(filepath.Join(root, target), p); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(p, testUID, testGID); err != nil {
		t.Fatal(err)
	}
}

// plantHardLink makes name a second name of target. The user could only do so where
// fs.protected_hardlinks is 0; root, making it here, always can.
func plantHardLink(t *testing.T, root, name, target string) {
	t.Helper()
	p := filepath.Join(root, name)
	os.RemoveAll(p)
	if err := os.Link(filepath.Join(root, target), p); err != nil {
		t.Fatal(err)
	}
}

// snapshot records everything in a root prefix without following links: type, mode, owner,
// modification time, and content or link target.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		s := fmt.Sprintf("%v %d:%d links=%d mtime=%d", info.Mode(), st.Uid, st.Gid, st.Nlink, info.ModTime().UnixNano())
		switch {
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s += " " + string(data)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			s += " -> " + target
		}
		rel, _ := filepath.Rel(root, p)
		out[rel] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSetupRefusesPlantedLinks fills the OS user's folders with links (and hard links) to
// files and folders only root may touch: setup must name every one and change nothing.
func TestSetupRefusesPlantedLinks(t *testing.T) {
	requireRoot(t)
	const deb = "/var/lib/postgresql"
	for _, tc := range []struct {
		name, caseName, host string
		plant                func(t *testing.T, root string)
		want                 []string // lines of the refusal
	}{
		{"home of the pgpool host", "debian-streaming", "pgpool1", func(t *testing.T, root string) {
			plantLink(t, root, deb+"/.profile", "/etc/rootfile")
			plantLink(t, root, deb+"/.ssh/authorized_keys", "/root/secret")
			plantLink(t, root, deb+"/.ssh/pgpoolgen_known_hosts", "/etc/rootfile")
			plantLink(t, root, deb+"/.pcppass", "/root/secret")
			// pgpool's folder given to postgres, as some guides do: its files are the user's too.
			mkdir(t, filepath.Join(root, "etc/pgpool2"), 0o755, testUID, testGID)
			plantLink(t, root, "/etc/pgpool2/pool_passwd", "/root/secret")
			plantLink(t, root, "/etc/pgpool2/pgpool.conf", "/etc/rootfile")
			plantHardLink(t, root, "/etc/pgpool2/pcp.conf", "/root/secret")
		}, []string{
			deb + "/.profile is a symbolic link, in a folder postgres can change",
			deb + "/.ssh/authorized_keys is a symbolic link",
			deb + "/.ssh/pgpoolgen_known_hosts is a symbolic link",
			deb + "/.pcppass is a symbolic link",
			"/etc/pgpool2/pool_passwd is a symbolic link",
			"/etc/pgpool2/pgpool.conf is a symbolic link",
			"/etc/pgpool2/pcp.conf has 2 hard links, in a folder postgres can change",
		}},
		{"~/.ssh a link", "debian-streaming", "pgpool1", func(t *testing.T, root string) {
			plantLink(t, root, deb+"/.ssh", "/root/dir")
		}, []string{deb + "/.ssh is a symbolic link, in a folder postgres can change"}},
		{"home and data directory of a backend", "debian-streaming", "pg1", func(t *testing.T, root string) {
			plantLink(t, root, deb+"/.pgpass", "/root/secret")
			mkdir(t, filepath.Join(root, deb, "15/main"), 0o700, testUID, testGID)
			mkdir(t, filepath.Join(root, deb, "15"), 0o755, testUID, testGID)
			writeOwned(t, filepath.Join(root, deb, "15/main/PG_VERSION"), "15\n", 0o600, testUID, testGID)
			plantLink(t, root, deb+"/15/main/recovery_1st_stage", "/etc/rootfile")
			plantHardLink(t, root, deb+"/15/main/pgpool_remote_start", "/root/secret")
			writeOwned(t, filepath.Join(root, deb, ".ssh/authorized_keys"), "", 0o600, 0, 0)
		}, []string{
			deb + "/.pgpass is a symbolic link",
			deb + "/15/main/recovery_1st_stage is a symbolic link",
			deb + "/15/main/pgpool_remote_start has 2 hard links",
			deb + "/.ssh/authorized_keys belongs to uid 0, not to postgres, in a folder postgres can change",
		}},
		{"the AES key a link", "debian-streaming", "pgpool1", func(t *testing.T, root string) {
			plantLink(t, root, deb+"/.pgpoolkey", "/root/secret")
		}, []string{deb + "/.pgpoolkey is a symbolic link"}},
		{"PostgreSQL's config folder of a backend", "debian-streaming", "pg3", func(t *testing.T, root string) {
			conf := "/etc/postgresql/15/main"
			mkdir(t, filepath.Join(root, conf), 0o755, testUID, testGID)
			writeOwned(t, filepath.Join(root, conf, "postgresql.conf"), "include_dir = 'conf.d'\n", 0o644, testUID, testGID)
			plantLink(t, root, conf+"/pg_hba.conf", "/etc/rootfile")
			plantLink(t, root, conf+"/conf.d", "/root/dir")
		}, []string{
			"/etc/postgresql/15/main/pg_hba.conf is a symbolic link",
			"/etc/postgresql/15/main/conf.d is a symbolic link",
		}},
		{"the data directory a link", "debian-streaming", "pg2", func(t *testing.T, root string) {
			mkdir(t, filepath.Join(root, deb, "15"), 0o755, testUID, testGID)
			plantLink(t, root, deb+"/15/main", "/root/dir")
		}, []string{deb + "/15/main is a symbolic link"}},
		{"~/.pgpoolgen a link (pgpool-II 3.1)", "seed-master-slave", "pgpool", func(t *testing.T, root string) {
			plantLink(t, root, "/home/postgres/.pgpoolgen", "/root/dir")
		}, []string{"/home/postgres/.pgpoolgen is a symbolic link"}},
		{"the pcp password file a link (pgpool-II 3.1)", "seed-master-slave", "pgpool", func(t *testing.T, root string) {
			mkdir(t, filepath.Join(root, "home/postgres/.pgpoolgen"), 0o700, testUID, testGID)
			plantLink(t, root, "/home/postgres/.pgpoolgen/pcp_password", "/etc/rootfile")
			plantLink(t, root, "/home/postgres/.profile", "/root/secret")
		}, []string{"/home/postgres/.pgpoolgen/pcp_password is a symbolic link", "/home/postgres/.profile is a symbolic link"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script, root := hostileHost(t, tc.caseName, tc.host)
			tc.plant(t, root)
			before := snapshot(t, root)
			env := []string{"PGPOOLGEN_PCP_PASSWORD=pcp-pw", "PGPOOLGEN_REPLICATION_PASSWORD=" + replPassword}
			for _, args := range [][]string{{"--dry-run"}, {}} {
				out, err := runSetup(t, script, env, append([]string{"--root", root, "--skip-network"}, args...)...)
				if err == nil {
					t.Fatalf("setup %v ran on a home full of planted links:\n%s", args, out)
				}
				if !strings.Contains(out, "stopped before changing anything") {
					t.Errorf("setup %v did not stop in its preflight:\n%s", args, out)
				}
				for _, w := range tc.want {
					if !strings.Contains(out, "  - "+w) {
						t.Errorf("setup %v does not report %q:\n%s", args, w, out)
					}
				}
				if diff := cmp.Diff(before, snapshot(t, root)); diff != "" {
					t.Errorf("setup %v changed the prefix (-before +after):\n%s", args, diff)
				}
			}
		})
	}
}

// TestSetupPlantedLinkDefects has one case for each way the unfixed setup.sh was turned against
// root by a link in the OS user's home (issue 8, defect 1).
func TestSetupPlantedLinkDefects(t *testing.T) {
	requireRoot(t)
	const deb = "/var/lib/postgresql"
	for _, tc := range []struct {
		name, caseName, host, link, target string
	}{
		// merge_block read authorized_keys through the link and installed what it read, with
		// the block, as a new file of postgres's.
		{"copies a root-only file into a file of postgres", "debian-streaming", "pgpool1", deb + "/.ssh/authorized_keys", "/root/secret"},
		// The PATH line was appended through the link.
		{"appends the PATH line to a file of root's", "debian-streaming", "pgpool1", deb + "/.profile", "/etc/rootfile"},
		// ensure_dir saw the link's own mode and owner and chowned and chmodded its target
		// (~/.pgpoolgen of pgpool-II before 3.5; ~/.ssh the same, had the target a key pair).
		{"chowns and chmods a folder of root's", "seed-master-slave", "pgpool", "/home/postgres/.pgpoolgen", "/root/dir"},
		// The pcp password was written through the link (pgpool-II before 3.5).
		{"overwrites a file of root's with the pcp password", "seed-master-slave", "pgpool", "/home/postgres/.pgpoolgen/pcp_password", "/etc/rootfile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script, root := hostileHost(t, tc.caseName, tc.host)
			if strings.Contains(tc.link, "/.pgpoolgen/") {
				mkdir(t, filepath.Join(root, filepath.Dir(tc.link)), 0o700, testUID, testGID)
			}
			plantLink(t, root, tc.link, tc.target)
			before := snapshot(t, root)
			env := []string{"PGPOOLGEN_PCP_PASSWORD=pcp-pw-5e1d"}
			out, err := runSetup(t, script, env, "--root", root, "--skip-network")
			after := snapshot(t, root)
			// What the attack was after: root's file or folder changed, or its content in a
			// file of the user's.
			if diff := cmp.Diff(before[strings.TrimPrefix(tc.target, "/")], after[strings.TrimPrefix(tc.target, "/")]); diff != "" {
				t.Errorf("setup changed %s through the link %s (-before +after):\n%s", tc.target, tc.link, diff)
			}
			for p, s := range after {
				if strings.Contains(s, fmt.Sprintf(" %d:", testUID)) && strings.Contains(s, rootSecret) {
					t.Errorf("setup copied %s into %s, a file of postgres's", tc.target, p)
				}
			}
			if err == nil || !strings.Contains(out, "  - "+tc.link+" is a symbolic link") {
				t.Errorf("setup did not refuse the link %s: %v\n%s", tc.link, err, out)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("setup changed the prefix (-before +after):\n%s", diff)
			}
		})
	}
}

// findSecret names the regular files under dirs whose content holds secret.
func findSecret(t *testing.T, secret string, dirs ...string) []string {
	t.Helper()
	var found []string
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if data, err := os.ReadFile(p); err == nil && bytes.Contains(data, []byte(secret)) {
				found = append(found, p)
			}
			return nil
		})
	}
	return found
}

// TestSetupLeavesNoSecretBehind makes setup fail while it writes ~/.pgpass, the file that gets
// the replication password: by an error of the program that puts the file in place, and by a
// signal. No file anywhere under the prefix or TMPDIR may hold the password afterwards.
func TestSetupLeavesNoSecretBehind(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct{ name, how string }{
		{"failing", "exit 1"},
		{"killed", "kill -TERM $PPID; sleep 1; exit 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script, root := hostileHost(t, "debian-streaming", "pg1")
			// mv and install fail (or kill their caller) when they would put ~/.pgpass in place.
			bin := filepath.Join(root, "stub-bin")
			for _, prog := range []string{"mv", "install"} {
				stub := fmt.Sprintf("#!/bin/sh\nfor a in \"$@\"; do case $a in */.pgpass) %s ;; esac; done\nexec /usr/bin/%s \"$@\"\n", tc.how, prog)
				writeOwned(t, filepath.Join(bin, prog), stub, 0o755, 0, 0)
			}
			tmp := filepath.Join(root, "tmpdir") // under the prefix, which is searched
			mkdir(t, tmp, 0o1777, 0, 0)
			env := []string{"PATH=" + bin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"TMPDIR=" + tmp, "PGPOOLGEN_REPLICATION_PASSWORD=" + replPassword}
			out, err := runSetup(t, script, env, "--root", root, "--skip-network")
			if err == nil || !strings.Contains(out, "/.pgpass") {
				t.Fatalf("setup should have failed while writing ~/.pgpass: %v\n%s", err, out)
			}
			if found := findSecret(t, replPassword, root); len(found) > 0 {
				t.Errorf("after setup failed, files hold the replication password: %s\n%s", strings.Join(found, ", "), out)
			}
		})
	}
}

// TestSetupChecksSecrets gives setup secrets the build would refuse: each is refused with a
// message that names it and does not show it, and nothing changes.
func TestSetupChecksSecrets(t *testing.T) {
	requireRoot(t)
	long := strings.Repeat("x", 129)
	for _, tc := range []struct {
		name        string
		env         string // the replication password from the environment, or
		file        string // from the file replication of --secrets-dir
		want, parts string // the message, and the value's pieces that must not show
	}{
		{name: "line break in the environment", env: "first-half\nsecond-half", want: "secret replication (environment variable PGPOOLGEN_REPLICATION_PASSWORD) holds a line break or NUL byte", parts: "first-half second-half"},
		{name: "CR in the environment", env: "first-half\rsecond-half", want: "holds a line break or NUL byte", parts: "first-half second-half"},
		{name: "longer than 128 bytes", env: long, want: "secret replication (environment variable PGPOOLGEN_REPLICATION_PASSWORD) is longer than 128 bytes", parts: long},
		{name: "a second line in the file", file: "first-line\nsecond-line\n", want: "/replication) holds a line break or NUL byte", parts: "first-line second-line"},
		{name: "NUL in the file", file: "before-nul\x00after-nul\n", want: "holds a line break or NUL byte", parts: "before-nul after-nul"},
		{name: "longer than 128 bytes in the file", file: long + "\n", want: "/replication) is longer than 128 bytes", parts: long},
		{name: "an empty file", file: "\n", want: "/replication) is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script, root := hostileHost(t, "debian-streaming", "pg1")
			args := []string{"--root", root, "--skip-network"}
			var env []string
			if tc.file != "" {
				dir := filepath.Join(t.TempDir(), "secrets")
				writeOwned(t, filepath.Join(dir, "replication"), tc.file, 0o600, 0, 0)
				args = append(args, "--secrets-dir", dir)
			} else {
				env = []string{"PGPOOLGEN_REPLICATION_PASSWORD=" + tc.env}
			}
			before := snapshot(t, root)
			out, err := runSetup(t, script, env, args...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("setup should refuse the secret with %q: %v\n%s", tc.want, err, out)
			}
			for _, part := range strings.Fields(tc.parts) {
				if strings.Contains(out, part) {
					t.Errorf("the output shows the secret (%q):\n%s", part, out)
				}
			}
			if diff := cmp.Diff(before, snapshot(t, root)); diff != "" {
				t.Errorf("setup changed the prefix (-before +after):\n%s", diff)
			}
		})
	}

	// What the build accepts, setup accepts: 128 bytes, and a file ending in CR LF.
	for _, tc := range []struct{ name, file, pgpass string }{
		{"128 bytes", strings.Repeat("y", 128) + "\n", strings.Repeat("y", 128)},
		{"CR LF", "crlf-pw\r\n", "crlf-pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script, root := hostileHost(t, "debian-streaming", "pg1")
			dir := filepath.Join(t.TempDir(), "secrets")
			writeOwned(t, filepath.Join(dir, "replication"), tc.file, 0o600, 0, 0)
			for _, name := range []string{"check", "recovery", "rewind"} {
				writeOwned(t, filepath.Join(dir, name), name+"-pw\n", 0o600, 0, 0)
			}
			out, err := runSetup(t, script, nil, "--root", root, "--skip-network", "--secrets-dir", dir)
			if err != nil {
				t.Fatalf("setup: %v\n%s", err, out)
			}
			if pgpass := readFile(t, filepath.Join(root, "var/lib/postgresql/.pgpass")); !strings.Contains(pgpass, ":repl:"+tc.pgpass+"\n") {
				t.Errorf(".pgpass lacks the password %q:\n%s", tc.pgpass, pgpass)
			}
		})
	}
}

// TestSetupRefusesBundleTheUserCanChange: root installs the bundle's files as root's, so a
// bundle in a folder the OS user can write is refused.
func TestSetupRefusesBundleTheUserCanChange(t *testing.T) {
	requireRoot(t)
	script, root := hostileHost(t, "debian-streaming", "pgpool1")
	hostDir := filepath.Dir(script)
	if err := os.Chown(hostDir, testUID, testGID); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	out, err := runSetup(t, script, []string{"PGPOOLGEN_PCP_PASSWORD=x"}, "--root", root, "--skip-network")
	if err == nil || !strings.Contains(out, "postgres can change the folder "+hostDir+"; it must be root's alone") {
		t.Errorf("setup should refuse a bundle that postgres can change: %v\n%s", err, out)
	}
	if diff := cmp.Diff(before, snapshot(t, root)); diff != "" {
		t.Errorf("setup changed the prefix (-before +after):\n%s", diff)
	}
}

// TestSetupInFoldersOfTheUser applies a bundle whose pgpool folder belongs to postgres (as some
// guides make it): setup writes there as postgres, and a second run changes nothing.
func TestSetupInFoldersOfTheUser(t *testing.T) {
	requireRoot(t)
	script, root := hostileHost(t, "debian-streaming", "pgpool1")
	mkdir(t, filepath.Join(root, "etc/pgpool2"), 0o755, testUID, testGID)
	env := []string{"PGPOOLGEN_PCP_PASSWORD=pcp-pw"}
	out, err := runSetup(t, script, env, "--root", root, "--skip-network")
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	for _, name := range []string{"pgpool.conf", "pcp.conf", "pool_passwd"} {
		info, err := os.Lstat(filepath.Join(root, "etc/pgpool2", name))
		if err != nil {
			t.Fatal(err)
		}
		if owner := ownerOf(info); owner != fmt.Sprintf("%d:%d", testUID, testGID) || !info.Mode().IsRegular() {
			t.Errorf("/etc/pgpool2/%s: %v owned by %s, want a regular file of postgres", name, info.Mode(), owner)
		}
	}
	if out, err := runSetup(t, script, env, "--root", root, "--skip-network"); err != nil || !strings.Contains(out, "nothing to change") {
		t.Errorf("second run: %v\n%s", err, out)
	}
}
