package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runBounded runs the command in process and fails the test if it has not returned after a
// bound far above what a correct run takes: a FIFO must not block the build, and /dev/zero
// must not be read to the end. The test binary's own -timeout stops a goroutine left behind.
func runBounded(t *testing.T, args ...string) (status int, stderr string) {
	t.Helper()
	type result struct {
		status int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		var out, errs bytes.Buffer
		s := run(args, &out, &errs)
		done <- result{s, errs.String()}
	}()
	select {
	case r := <-done:
		return r.status, r.stderr
	case <-time.After(30 * time.Second):
		t.Fatalf("pgpoolgen %s has not returned after 30 s", strings.Join(args, " "))
		return 0, ""
	}
}

// boundsSpec copies the debian-streaming case into a folder of its own, with the ssh key file
// of pg1 or the pcp password file replaced by name.
func boundsSpec(t *testing.T, key, name string) string {
	t.Helper()
	src := filepath.Join(goldenDir, "debian-streaming")
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "keys"), os.DirFS(filepath.Join(src, "keys"))); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cluster.toml", "pcp-password.txt"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, f), data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range readEnv(t, src) {
		t.Setenv(k, v)
	}
	spec := filepath.Join(dir, "cluster.toml")
	data, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]string{"ssh_key_file": `ssh_key_file = "keys/pg1.pub"`, "password_file": `password_file = "pcp-password.txt"`}[key]
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s has no %s", spec, old)
	}
	data = bytes.Replace(data, []byte(old), []byte(key+" = "+quoteTOML(name)), 1)
	if err := os.WriteFile(spec, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return spec
}

func quoteTOML(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func mkfifo(t *testing.T) string {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	return fifo
}

// TestNamedFilesBounded: a key or password file that is a FIFO, an endless device, a folder or
// too large is refused by name, at its key, without blocking or reading it all.
func TestNamedFilesBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.pub")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), 8<<10+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, name, want string
	}{
		{"ssh_key_file", "/dev/zero", `cluster.toml:31:16: host[1].ssh_key_file: /dev/zero is a device, not a regular file; pgpoolgen reads keys and passwords from regular files only`},
		{"password_file", "/dev/zero", `cluster.toml:51:17: pcp_user[0].password_file: /dev/zero is a device, not a regular file`},
		{"ssh_key_file", "FIFO", `host[1].ssh_key_file: FIFO is a named pipe, not a regular file`},
		{"password_file", "FIFO", `pcp_user[0].password_file: FIFO is a named pipe, not a regular file`},
		{"ssh_key_file", "/", `host[1].ssh_key_file: / is a folder, not a regular file`},
		{"ssh_key_file", big, `host[1].ssh_key_file: ` + big + ` is larger than 8 KiB, the most pgpoolgen reads for a key or a password`},
		{"password_file", big, `pcp_user[0].password_file: ` + big + ` is larger than 8 KiB`},
	} {
		t.Run(tc.key+"="+filepath.Base(tc.name), func(t *testing.T) {
			name, want := tc.name, tc.want
			if name == "FIFO" {
				name = mkfifo(t)
				want = strings.ReplaceAll(want, "FIFO", name)
			}
			status, stderr := runBounded(t, "check", boundsSpec(t, tc.key, name))
			if status != exitSpec || !strings.Contains(stderr, want) {
				t.Errorf("status %d, stderr:\n%s\nwant status %d and %q", status, stderr, exitSpec, want)
			}
		})
	}
}

// TestSpecFileBounded: the spec itself must be a regular file of at most 1 MiB.
func TestSpecFileBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.toml")
	// Valid TOML (comments) past the limit: only the size is wrong.
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), 1<<20/10+1), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := mkfifo(t)
	for _, tc := range []struct {
		spec   string
		status int
		want   string
	}{
		{"/dev/zero", exitUsage, "pgpoolgen check: cannot read the spec: read /dev/zero: is a device, not a regular file"},
		{fifo, exitUsage, "pgpoolgen check: cannot read the spec: read " + fifo + ": is a named pipe, not a regular file"},
		{big, exitSpec, big + ": the spec is larger than 1 MiB (1048576 bytes), the most pgpoolgen reads"},
	} {
		t.Run(filepath.Base(tc.spec), func(t *testing.T) {
			status, stderr := runBounded(t, "check", tc.spec)
			if status != tc.status || !strings.Contains(stderr, tc.want) {
				t.Errorf("status %d, stderr:\n%s\nwant status %d and %q", status, stderr, tc.status, tc.want)
			}
		})
	}
}
