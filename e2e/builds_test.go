//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// optPgpool is where a build of ../shared/pgpool-builds stands on the hosts, as its README
// unpacks it: the pcp tools find their library through the run path /opt/pgpool/<series>/lib.
const optPgpool = "/opt/pgpool"

// A build is a pgpool-II build from ../shared/pgpool-builds that a cluster runs in place of
// Debian's pgpool2: its programs, and its pgpool_recovery extension for PostgreSQL 15 on the
// backends. Nothing of it lands on the machine's own folders: each host's mount namespace
// gets the unpacked build at /opt, and the extension laid over PostgreSQL's folders (an
// overlay, read-only), so pgpool-II and the extension of every other test stay Debian's.
type build struct {
	series string
	opt    string // the host folder mounted at /opt: <work>/opt, holding pgpool/<series>
	noAES  bool   // built without OpenSSL: pgpool cannot read pool_passwd's AES entries
}

// pgpoolDir is the build on the hosts.
func (b *build) pgpoolDir() string { return optPgpool + "/" + b.series }

// specBuild reads which pgpool-II a spec runs on: Debian's package (""), or, when its
// layout's pgpool_bin_dir is /opt/pgpool/<series>/bin, the build of its pgpool_version.
func specBuild(t *testing.T, name string, src []byte) string {
	t.Helper()
	var spec struct {
		Cluster struct {
			PgpoolVersion string `toml:"pgpool_version"`
		}
		Layout struct {
			PgpoolBinDir string `toml:"pgpool_bin_dir"`
		}
	}
	if _, err := toml.Decode(string(src), &spec); err != nil {
		t.Fatalf("%s/cluster.toml: %v", name, err)
	}
	dir := spec.Layout.PgpoolBinDir
	switch {
	case dir == "" || dir == pgpoolBin:
		return ""
	case dir == optPgpool+"/"+spec.Cluster.PgpoolVersion+"/bin":
		return spec.Cluster.PgpoolVersion
	}
	t.Fatalf("%s/cluster.toml: layout.pgpool_bin_dir = %q: the e2e runs Debian's pgpool2 (%s) or a build of the spec's pgpool_version at %s/%s/bin",
		name, dir, pgpoolBin, optPgpool, spec.Cluster.PgpoolVersion)
	return ""
}

// buildsDir is where the pgpool-II builds are: $PGPOOL_BUILDS, or shared/pgpool-builds beside
// the checkout (CI's layout; make versions looks in the same places).
func buildsDir(t *testing.T) string {
	if d := os.Getenv("PGPOOL_BUILDS"); d != "" {
		return d
	}
	d, err := filepath.Abs(filepath.Join("..", "..", "shared", "pgpool-builds"))
	must(t, err)
	return d
}

// checkBuild skips the test, or fails it in CI (CI=1), when the builds lack the series: make
// e2e runs on a developer's machine without them, CI must prove the series.
func checkBuild(t *testing.T, series string) string {
	t.Helper()
	archive := filepath.Join(buildsDir(t), "pgpool-"+series+".tar.xz")
	if _, err := os.Stat(archive); err != nil {
		unusable(t, fmt.Sprintf("no pgpool-II %s build (%v): the e2e run on pgpool-II %s needs ../shared/pgpool-builds beside the checkout, or PGPOOL_BUILDS set to its folder", series, err, series))
	}
	return archive
}

// unusable skips the test when the build it needs is missing or cannot run the cluster, or
// fails it in CI.
func unusable(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// noAES is what a pgpool-II built without OpenSSL says when it meets an AES entry of
// pool_passwd (aes_decrypt_with_password without USE_SSL, src/utils/ssl_utils.c): its binary
// holds the message only then.
const noAES = "AES decryption is not supported by this build"

// unpackBuild unpacks the archive into <work>/opt/pgpool and checks that it holds what the
// hosts run: pgpool, the pcp tools, and the pgpool_recovery extension for PostgreSQL 15; and
// that pgpool reads AES entries: every login of the bundle's own users (health check,
// streaming check, recovery) and of its [[pool_user]]s goes through the AES entries setup
// makes in pool_passwd, which a build without OpenSSL refuses with a FATAL at its first
// check. Such a build is like a missing one, and its work folder goes.
func unpackBuild(t *testing.T, work, series, archive string) *build {
	t.Helper()
	b := &build{series: series, opt: filepath.Join(work, "opt")}
	dest := filepath.Join(b.opt, "pgpool")
	must(t, os.MkdirAll(dest, 0o755))
	runAs(t, "root", "tar", "-xJf", archive, "-C", dest, "--no-same-owner")
	for _, f := range []string{"bin/pgpool", "bin/pcp_recovery_node", "bin/pcp_attach_node", "pgsql15/lib/pgpool-recovery.so", "pgsql15/extension/pgpool_recovery.control"} {
		if _, err := os.Stat(filepath.Join(dest, series, f)); err != nil {
			t.Fatalf("the pgpool-II %s build %s lacks %s: %v", series, archive, f, err)
		}
	}
	bin, err := os.ReadFile(filepath.Join(dest, series, "bin/pgpool"))
	must(t, err)
	b.noAES = bytes.Contains(bin, []byte(noAES))
	return b
}

// usable stops a run whose bundle has AES entries on a build without OpenSSL, which would
// refuse them (with a FATAL at its first health check). The shared 4.7 build is one: its spec
// has the backends trust pgpool-II, so that its users need no AES entry.
func (b *build) usable(t *testing.T, c *cluster) {
	t.Helper()
	if b.noAES && !c.trust {
		os.RemoveAll(c.work)
		unusable(t, fmt.Sprintf("the pgpool-II %s build was built without OpenSSL: it cannot read pool_passwd's AES entries (pgpool says %q at its first login), which this spec's bundle has; build it with configure --with-openssl (libssl-dev), or give the spec [postgresql] hba_method = \"trust\"", b.series, noAES))
	}
	if b.noAES {
		t.Logf("the pgpool-II %s build has no OpenSSL; the bundle has no AES entry", b.series)
	}
}

// pgLib and pgExtension are Debian's PostgreSQL 15 folders the extension's files go into.
const (
	pgLib       = "/usr/lib/postgresql/15/lib"
	pgExtension = "/usr/share/postgresql/15/extension"
)

// mounts are the mount commands of a host's namespace for the build: /opt for every host
// (the pgpool host runs pgpool and the pcp tools; the backends have the same files, as a
// host with the build installed would), and on a backend the extension's files over
// PostgreSQL's: the build's pgpool-recovery.so and pgpool_recovery files hide Debian's
// postgresql-15-pgpool2 (4.3's), the other files stay as they are.
func (b *build) mounts(backend bool) []string {
	m := []string{fmt.Sprintf("mount --bind %q %q", b.opt, "/opt")}
	if backend {
		src := filepath.Join(b.opt, "pgpool", b.series, "pgsql15")
		for _, d := range [][2]string{{"lib", pgLib}, {"extension", pgExtension}} {
			m = append(m, fmt.Sprintf("mount -t overlay overlay -o ro,lowerdir=%s:%s %q", filepath.Join(src, d[0]), d[1], d[1]))
		}
	}
	return m
}

// verify checks, inside the hosts' namespaces, that the build is what they run: pgpool
// --version names the series, and every backend's PostgreSQL finds the build's extension.
func (b *build) verify(t *testing.T, c *cluster) {
	t.Helper()
	version := c.h("pgpool").mustRun(t, 30*time.Second, osUser, c.pgpoolBin+"/pgpool", "--version")
	if !strings.Contains(version, "pgpool-II version "+b.series+".") {
		t.Fatalf("the pgpool host's %s/pgpool --version: %q, want pgpool-II %s", c.pgpoolBin, version, b.series)
	}
	// The pcp tools start only when they find the build's library, through their run path.
	out := c.h("pgpool").mustRun(t, 30*time.Second, osUser, c.pgpoolBin+"/pcp_node_info", "--version")
	if !strings.Contains(out, b.series+".") {
		t.Fatalf("the pgpool host's pcp_node_info --version: %q, want pgpool-II %s", out, b.series)
	}
	// Every file of the build's extension, as PostgreSQL finds it on each backend: the
	// library differs from Debian's 4.3.5 one, and pgpool_recovery--1.0.sql is the build's
	// alone (its other SQL files and the control file are the same as Debian's).
	src := filepath.Join(b.opt, "pgpool", b.series, "pgsql15")
	var files [][2]string
	for _, d := range [][2]string{{"lib", pgLib}, {"extension", pgExtension}} {
		entries, err := os.ReadDir(filepath.Join(src, d[0]))
		must(t, err)
		for _, e := range entries {
			files = append(files, [2]string{filepath.Join(src, d[0], e.Name()), d[1] + "/" + e.Name()})
		}
	}
	for _, n := range []string{"pg1", "pg2", "pg3"} {
		for _, f := range files {
			if out, err := c.h(n).run(30*time.Second, "root", nil, "cmp", f[0], f[1]); err != nil {
				t.Fatalf("%s's %s is not the pgpool-II %s build's: %v\n%s", n, f[1], b.series, err, out)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "e2e %s: %s in %s on the pgpool host, its pgpool_recovery on the backends\n", c.name, strings.TrimSpace(version), c.pgpoolBin)
}
