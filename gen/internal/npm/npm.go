// Package npm installs the pinned npm packages some tests run (Mermaid's parser, the Taplo
// CLI) into a cache folder outside the checkout, once per lock file. Only tests use it.
package npm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// SkipOrFail skips a test that needs a program this machine lacks, and fails it in CI
// (CI set), which installs it.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (CI=1 fails instead)", args...)
}

// Cache is the folder installs go to: $PGPOOLGEN_NPM_CACHE, or $XDG_CACHE_HOME/pgpoolgen-npm,
// or /var/tmp/pgpoolgen-npm.
func Cache() string {
	if d := os.Getenv("PGPOOLGEN_NPM_CACHE"); d != "" {
		return d
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "pgpoolgen-npm")
	}
	return "/var/tmp/pgpoolgen-npm"
}

// Install runs npm ci on lockDir's package.json and package-lock.json, unless the cache holds
// that install already, and returns its folder (its node_modules inside). name is what the
// log and the folder are called by. It skips, or fails in CI, without node, npm or the
// registry.
func Install(t testing.TB, lockDir, name string) string {
	t.Helper()
	for _, prog := range []string{"node", "npm"} {
		if _, err := exec.LookPath(prog); err != nil {
			SkipOrFail(t, "%s is not installed: %s runs under Node.js (apt-get install nodejs npm)", prog, name)
		}
	}
	var files [2][]byte
	h := sha256.New()
	for i, f := range []string{"package.json", "package-lock.json"} {
		data, err := os.ReadFile(filepath.Join(lockDir, f))
		if err != nil {
			t.Fatal(err)
		}
		files[i] = data
		h.Write(data)
	}
	cache := Cache()
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	// The tests run what the folder holds: it must be this user's and no one else's to write,
	// since /var/tmp is everyone's.
	if err := ownFolder(cache); err != nil {
		t.Fatalf("%s: %v; remove it", cache, err)
	}
	dir := filepath.Join(cache, name+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	stamp := filepath.Join(dir, "node_modules", ".pgpoolgen-installed")
	if _, err := os.Stat(stamp); err == nil {
		return dir
	}
	tmp, err := os.MkdirTemp(cache, ".install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	for i, f := range []string{"package.json", "package-lock.json"} {
		if err := os.WriteFile(filepath.Join(tmp, f), files[i], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--cache", filepath.Join(cache, "npm-cache"))
	cmd.Dir = tmp
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		SkipOrFail(t, "npm ci of %s failed (the registry may be out of reach): %v\n%s", name, err, out)
	}
	t.Logf("npm ci of %s: %.1f s", name, time.Since(start).Seconds())
	if err := os.WriteFile(filepath.Join(tmp, "node_modules", ".pgpoolgen-installed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Another test process may have installed it meanwhile: then keep that one. A folder
	// without the stamp is an install that did not finish: the cache is ours, replace it.
	if err := os.Rename(tmp, dir); err != nil {
		if _, err2 := os.Stat(stamp); err2 == nil {
			return dir
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			t.Fatalf("cannot put the install of %s in place: %v", name, err)
		}
	}
	return dir
}
