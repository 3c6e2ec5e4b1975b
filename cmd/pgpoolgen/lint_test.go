package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgpoolgen/schema/pgpool"
)

// lintSecretRE finds the passwords written in a lint case's files: *_password settings of
// pgpool.conf and the second field of a pcp.conf line.
var lintSecretRE = regexp.MustCompile(`(?m)^\s*\w*password\w*\s*=?\s*'([^']+)'|^\w+:(\S+)$`)

// Each folder of golden/lint is a hand-written pgpool.conf with the mistakes people make:
// args holds the flags "pgpoolgen lint pgpool.conf" runs with (from inside the folder, so
// messages name the files as the folder does), and want.txt exactly what it prints,
// followed by its exit status. -update (make golden) rewrites want.txt.
func TestGoldenLint(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join(goldenDir, "lint"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, e := range entries {
		if e.IsDir() {
			cases = append(cases, e.Name())
		}
	}
	if len(cases) < 12 {
		t.Fatalf("found %d lint cases in %s, want at least 12", len(cases), dir)
	}
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			caseDir := filepath.Join(dir, name)
			t.Chdir(caseDir)
			args, err := os.ReadFile("args")
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"lint", "pgpool.conf"}, strings.Fields(string(args))...), &stdout, &stderr)
			if stderr.Len() > 0 {
				t.Errorf("printed on stderr: %q", stderr.String())
			}
			got := stdout.String() + fmt.Sprintf("exit status %d\n", code)
			for _, f := range []string{"pgpool.conf", "pcp.conf"} {
				src, _ := os.ReadFile(f)
				for _, m := range lintSecretRE.FindAllStringSubmatch(string(src), -1) {
					if s := m[1] + m[2]; strings.Contains(got, s) {
						t.Errorf("the output repeats the secret %q of %s", s, f)
					}
				}
			}
			if *update {
				if err := os.WriteFile("want.txt", []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile("want.txt")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")); diff != "" {
				t.Errorf("pgpoolgen lint output differs (-want +got):\n%s", diff)
			}
		})
	}
}

// lintFile runs "pgpoolgen lint" and returns its output and exit status.
func lintFile(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"lint"}, args...), &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Fatalf("pgpoolgen lint %s: %s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String(), code
}

// Every pgpool.conf pgpoolgen wrote for a golden case lints clean, warnings included, for its
// series, and so do its pcp.conf and pool_hba.conf.
func TestLintGoldenBundles(t *testing.T) {
	n := 0
	for _, name := range goldenCases(t) {
		caseDir := filepath.Join(goldenDir, name)
		spec, err := os.ReadFile(filepath.Join(caseDir, "cluster.toml"))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^pgpool_version\s*=\s*"([0-9.]+)"`).FindSubmatch(spec)
		if m == nil {
			t.Fatalf("%s: no pgpool_version", name)
		}
		err = filepath.WalkDir(filepath.Join(caseDir, "bundle"), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.Name() != "pgpool.conf" {
				return err
			}
			args := []string{p, "--pgpool-version", string(m[1]), "--strict"}
			for _, f := range []struct{ flag, file string }{{"--pcp", "pcp.conf"}, {"--hba", "pool_hba.conf"}} {
				if _, err := os.Stat(filepath.Join(filepath.Dir(p), f.file)); err == nil {
					args = append(args, f.flag, filepath.Join(filepath.Dir(p), f.file))
				}
			}
			n++
			if out, code := lintFile(t, args...); code != 0 || out != "" {
				t.Errorf("%s (pgpool-II %s): exit %d\n%s", p, m[1], code, out)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 4 {
		t.Errorf("linted %d golden pgpool.conf files, want at least 4", n)
	}
}

// sampleFindings are the errors pgpool-II's own samples carry: the logical-replication
// sample of 3.7-4.2 sets enable_multiple_failover_requests_from_node, a name that no
// series' parser knows (pool_config_variables.c has allow_multiple_failover_requests_from_node;
// the name appears nowhere in the source but that sample), so pgpool-II skips it. The test
// requires exactly these, so the linter neither misses them nor finds others.
var sampleFindings = map[string]string{}

func init() {
	for _, s := range []string{"3.7", "4.0", "4.1", "4.2"} {
		sampleFindings[s+"/pgpool.conf.sample-logical"] = `enable_multiple_failover_requests_from_node: error: pgpool-II ` + s +
			` has no parameter "enable_multiple_failover_requests_from_node"; did you mean "allow_multiple_failover_requests_from_node"?; pgpool-II skips it`
	}
}

// buildsDir is where the real pgpool-II builds are: $PGPOOL_BUILDS, or shared/pgpool-builds
// beside the checkout (CI's layout).
func buildsDir(t *testing.T) (string, bool) {
	if d := os.Getenv("PGPOOL_BUILDS"); d != "" {
		return d, true
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(filepath.Dir(root), "shared", "pgpool-builds")
	_, err = os.Stat(d)
	return d, err == nil
}

// Every series' own sample pgpool.conf files, pcp.conf and pool_hba.conf (in the builds'
// <series>/etc/) lint without errors for that series, but for sampleFindings.
func TestLintSamples(t *testing.T) {
	builds, ok := buildsDir(t)
	if !ok {
		t.Skipf("no pgpool-II builds at %s (set PGPOOL_BUILDS): the sample corpus is not checked", builds)
	}
	tmp := t.TempDir()
	files, clean := 0, 0
	for _, s := range pgpool.Series {
		ser := s.String()
		archive := filepath.Join(builds, "pgpool-"+ser+".tar.xz")
		if out, err := exec.Command("tar", "-xJf", archive, "-C", tmp, ser+"/etc").CombinedOutput(); err != nil {
			t.Fatalf("tar -xJf %s: %v\n%s", archive, err, out)
		}
		etc := filepath.Join(tmp, ser, "etc")
		samples, _ := filepath.Glob(filepath.Join(etc, "pgpool.conf.sample*"))
		if len(samples) == 0 {
			t.Fatalf("%s: no pgpool.conf.sample", etc)
		}
		sort.Strings(samples)
		for _, f := range samples {
			files++
			out, _ := lintFile(t, f, "--pgpool-version", ser, "--pcp", filepath.Join(etc, "pcp.conf.sample"), "--hba", filepath.Join(etc, "pool_hba.conf.sample"))
			key := ser + "/" + filepath.Base(f)
			// Each error without its place: file:line:col: is dropped.
			var errs []string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, ": error: ") {
					rest := strings.TrimPrefix(l, f+":")
					if _, after, ok := strings.Cut(rest, ": "); ok {
						rest = after
					}
					errs = append(errs, rest)
				}
			}
			var want []string
			if w, ok := sampleFindings[key]; ok {
				want = []string{w}
			}
			if diff := cmp.Diff(want, errs); diff != "" {
				t.Errorf("%s: errors differ (-want +got):\n%s\n%s", key, diff, out)
			}
			if len(errs) == 0 {
				clean++
			}
		}
	}
	t.Logf("%d sample pgpool.conf files of %d series linted, %d without errors", files, len(pgpool.Series), clean)
}

// "pgpoolgen help lint" documents the command; a wrong command line exits 2.
func TestLintCommandLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"help", "lint"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("help lint: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"Usage: pgpoolgen lint PGPOOL.CONF --pgpool-version X.Y", "--release", "--strict", "--format", "Exit status: 0"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help lint lacks %q:\n%s", want, stdout.String())
		}
	}
	conf := filepath.Join(goldenDir, "lint", "strict", "pgpool.conf")
	for _, args := range [][]string{
		{conf},                            // no series
		{conf, "--pgpool-version", "5.0"}, // unknown series
		{conf, "--release", "4.3"},        // not a release
		{conf, "--pgpool-version", "4.2", "--release", "4.3.5"},
		{conf, "--pgpool-version", "4.3", "--format", "xml"},
		{"missing.conf", "--pgpool-version", "4.3"},
		{"/dev/null", "--pgpool-version", "4.3"}, // not a regular file
		{conf, conf, "--pgpool-version", "4.3"},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := run(append([]string{"lint"}, args...), &stdout, &stderr); code != exitUsage || stderr.Len() == 0 {
			t.Errorf("lint %v: exit %d, stderr %q; want exit 2 and a message", args, code, stderr.String())
		}
	}
}
