package gen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestConcurrentBuild holds the lock another build would hold on the folder beside out/: Write
// waits for it, then refuses rather than taking that build's staging folder for a leftover.
func TestConcurrentBuild(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	f, err := os.Open(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(parent, ".out.new-42")
	mkdir(t, staging)
	defer func(d time.Duration) { lockWait = d }(lockWait)
	lockWait = 50 * time.Millisecond
	if err := Write(out, bundleA(), WriteOptions{}); err == nil || !strings.Contains(err.Error(), "another pgpoolgen build") {
		t.Errorf("Write while another build holds the lock: %v; want a refusal", err)
	}
	if _, err := os.Stat(staging); err != nil {
		t.Errorf("the other build's staging folder is gone: %v", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := Write(out, bundleA(), WriteOptions{}); err != nil {
		t.Errorf("Write once the lock is free: %v", err)
	}
}
