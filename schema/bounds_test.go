package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var boundsEnv = Env{LookupEnv: func(string) (string, bool) { return "secret", true }, ReadFile: os.ReadFile}

// loadBounded runs Load and fails the test if it has not returned after a bound far above what
// a correct run takes (the test binary's -timeout stops what is left behind), or allocated more
// than maxAlloc bytes: the work must stay small, and that is asserted on sizes, never on time.
func loadBounded(t *testing.T, src string, maxAlloc uint64) ErrorList {
	t.Helper()
	done := make(chan error, 1)
	spec := []byte(src) // the caller's copy: not Load's work
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	go func() {
		_, err := Load("cluster.toml", spec, boundsEnv)
		runtime.ReadMemStats(&after)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("Load of %d bytes has not returned after 60 s", len(src))
	}
	n := after.TotalAlloc - before.TotalAlloc
	t.Logf("Load of %d bytes allocated %.1f MB", len(src), float64(n)/(1<<20))
	if n > maxAlloc {
		t.Errorf("Load of %d bytes allocated %d MB; want at most %d MB", len(src), n>>20, maxAlloc>>20)
	}
	list, ok := err.(ErrorList)
	if !ok {
		t.Fatalf("Load returned %v (%T), want an ErrorList", err, err)
	}
	return list
}

// wantError requires an error that prints as want (after the file name) among list.
func wantError(t *testing.T, list ErrorList, want string) {
	t.Helper()
	for _, e := range list {
		if strings.TrimPrefix(e.Error(), "cluster.toml") == want {
			return
		}
	}
	t.Errorf("no error %q among %d:\n%s", want, len(list), list.Error())
}

// TestNestingBounded: deep nesting is refused before the TOML library sees it, where the
// limit is crossed. Inline tables 2,000 deep (8 kB) took the library 0.7 s and 470 MB.
func TestNestingBounded(t *testing.T) {
	const n = 2000
	for _, tc := range []struct{ name, src, want string }{
		{"inline tables", "a = " + strings.Repeat("{a=", n) + "1" + strings.Repeat("}", n), ":1:53: arrays and tables nest more than 16 deep here; a cluster spec needs 3"},
		{"arrays", "\n\nb = 1\nx = " + strings.Repeat("[", 100*n) + strings.Repeat("]", 100*n), ":4:21: arrays and tables nest more than 16 deep here; a cluster spec needs 3"},
		{"after strings", `s = "[[[[{{{{"` + "\n" + `m = """` + "\n[[[[\"\"\"\n" + `k = '{{{{'` + "\nx = [" + strings.Repeat("[", n), ":5:21: arrays and tables nest more than 16 deep here; a cluster spec needs 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := loadBounded(t, tc.src, 4<<20)
			if len(list) != 1 {
				t.Errorf("%d errors, want the one limit:\n%s", len(list), list.Error())
			}
			wantError(t, list, tc.want)
		})
	}
}

// TestNestingWithinBounds: strings, comments and table headers holding brackets do not count,
// and the deepest a spec needs passes the scan.
func TestNestingWithinBounds(t *testing.T) {
	src := "# [[[[[[[[[[[[[[[[[[[[\n" +
		`s = "\"[[[[[[[[[[[[[[[[[[[[["` + "\n" +
		`l = '[[[[[[[[[[[[[[[[[[[['` + "\n" +
		"m = '''\n[[[[[[[[[[[[[[[[[[[[\n'''\n" +
		`q = """ [[[[[[[[[[[[[[[[[[[[ \""" """""` + "\n" +
		`["[[[[[[[[[[[[[[[[[[[[".a]` + "\n" +
		"x = " + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + "\n"
	if e := checkBounds("cluster.toml", []byte(src)); e != nil {
		t.Errorf("checkBounds: %v", e)
	}
}

// TestValuesBounded: more than MaxValues keys and array elements are refused at the one that
// crosses the limit.
func TestValuesBounded(t *testing.T) {
	src := "a = [" + strings.Repeat("1,", MaxValues) + "1]\n"
	list := loadBounded(t, src, 4<<20)
	wantError(t, list, fmt.Sprintf(":1:%d: the spec holds more than %d keys and array elements; a cluster spec needs a few thousand at most", 5+2*(MaxValues-1)+2, MaxValues))
	if e := checkBounds("cluster.toml", []byte("a = ["+strings.Repeat("1,", MaxValues-1)+"1]\n")); e != nil {
		t.Errorf("%d values: %v", MaxValues, e)
	}
}

// TestSpecSizeBounded: Load refuses a spec over MaxSpecSize whoever read it.
func TestSpecSizeBounded(t *testing.T) {
	list := loadBounded(t, strings.Repeat("#\n", MaxSpecSize/2+1), 1<<20)
	wantError(t, list, ": the spec is larger than 1 MiB (1048576 bytes), the most pgpoolgen reads; a cluster spec is a few kilobytes")
}

// TestFileSizeBounded: a file the spec names is refused when larger than MaxFileSize, however
// Env.ReadFile read it.
func TestFileSizeBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.pub")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", MaxFileSize+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "[[host]]\nssh_key_file = " + fmt.Sprintf("%q", big) + "\n"
	list := loadBounded(t, src, 4<<20)
	wantError(t, list, ":2:16: host[0].ssh_key_file: "+big+" is larger than 8 KiB, the most pgpoolgen reads for a key or a password; give the file that holds just the one line")
}

// TestUnknownKeysBounded: a megabyte of unknown parameters (46,000 keys) took half a minute,
// mostly in finding the nearest known name for each; the problems reported stop at
// MaxReported and a line counts the rest.
func TestUnknownKeysBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("[cluster]\nname = \"main\"\nmode = \"streaming_replication\"\npgpool_version = \"4.3\"\npostgresql_version = \"15\"\n\n[parameters]\n")
	n := 0
	for ; b.Len() < MaxSpecSize-100; n++ {
		fmt.Fprintf(&b, "unknown_key_%d = 1\n", n)
	}
	// Before, every unknown key sorted a fresh list of every parameter name: 440 MB.
	list := loadBounded(t, b.String(), 200<<20)
	if len(list) < n {
		t.Fatalf("%d errors, want at least one for each of the %d unknown keys", len(list), n)
	}
	lines := strings.Split(list.Error(), "\n")
	if len(lines) != MaxReported+1 {
		t.Errorf("%d lines, want %d problems and a line counting the rest", len(lines), MaxReported)
	}
	if want := fmt.Sprintf("... and %d more problems", len(list)-MaxReported); lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
	if want := `pgpool-II 4.3 has no parameter "unknown_key_0"`; !strings.Contains(list.Error(), want) {
		t.Errorf("no %q in\n%s", want, list.Error())
	}
}

// TestManyBackendsBounded: 1,000 backends ran for minutes, building a trust graph that grows
// with the fourth power of the backend count after the limit was already reported. The limit
// is reported alone, and the graph is not built.
func TestManyBackendsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("[cluster]\nname = \"main\"\nmode = \"streaming_replication\"\npgpool_version = \"4.3\"\npostgresql_version = \"15\"\n\n[layout]\npreset = \"debian\"\n")
	b.WriteString("\n[[host]]\nname = \"pgpool\"\naddress = \"10.0.0.1\"\nroles = [\"pgpool\"]\n")
	for i := 0; i < 1000; i++ {
		role := "standby"
		if i == 0 {
			role = "primary"
		}
		fmt.Fprintf(&b, "\n[[host]]\nname = \"node%d\"\naddress = \"10.1.%d.%d\"\nroles = [%q]\n", i, i/250, 1+i%250, role)
	}
	b.WriteString("\n[[pcp_user]]\nname = \"pgpool\"\npassword_env = \"PCP\"\n\n[[hba]]\naddress = \"10.0.0.0/8\"\nmethod = \"md5\"\n")
	list := loadBounded(t, b.String(), 64<<20)
	if len(list) != 1 {
		t.Errorf("%d errors, want only the limit:\n%.2000s", len(list), list.Error())
	}
	wantError(t, list, ":655:3: host[129]: is backend 129 of 1000, but pgpool-II handles at most 128 backends; remove 872")
}
