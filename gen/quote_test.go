package gen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pgpoolgen/schema"
)

// TestHostileValuesStayQuoted feeds values that try to break out of shell quoting straight
// into the model, past the validation that normally refuses them, and runs every generated
// setup script: nothing they hold may run. The validation is the first wall; this checks the
// second.
func TestHostileValuesStayQuoted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setup scripts run as root")
	}
	src, err := os.ReadFile("../golden/debian-streaming/cluster.toml")
	if err != nil {
		t.Fatal(err)
	}
	env := schema.Env{LookupEnv: func(string) (string, bool) { return "pw", true }, ReadFile: os.ReadFile}
	c, err := schema.Load("../golden/debian-streaming/cluster.toml", src, env)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	marker := filepath.Join(work, "pwned")
	for i, evil := range []string{
		`$(touch ` + marker + `)`,
		"`touch " + marker + "`",
		`'; touch ` + marker + `; '`,
		`"; touch ` + marker + `; "`,
		"\n touch " + marker + "\n",
	} {
		h := c.Hosts[1+i%3]
		h.Address = "a" + evil
		h.Name = "pg" + string(rune('1'+i%3))
		c.Layout.User = "postgres" + evil
		c.Name = "c" + evil
		c.Replication.User = "r" + evil
		b := Generate(c)
		out := filepath.Join(work, "out")
		if err := Write(out, b, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		root := t.TempDir()
		for _, f := range b.Files {
			if f.Mode == 0o755 && f.Install != Run {
				// The HA scripts run under pgpool-II with real arguments, so they are not run
				// here (hascripts_test.go runs them); their syntax must survive the values.
				if msg, err := exec.Command("bash", "-n", filepath.Join(out, f.Path())).CombinedOutput(); err != nil {
					t.Errorf("value %q broke the syntax of %s: %v\n%s", evil, f.Path(), err, msg)
				}
			}
			if f.Install != Run {
				continue
			}
			cmd := exec.Command("/bin/bash", filepath.Join(out, f.Path()), "--root", root, "--skip-network", "--dry-run")
			cmd.Env = []string{"PATH=/usr/bin:/bin", "PGPOOLGEN_REPLICATION_PASSWORD=x", "PGPOOLGEN_PCP_PASSWORD=x"}
			msg, _ := cmd.CombinedOutput() // setup may refuse to run; it must not run the payload
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("value %q ran a command through %s:\n%s", evil, f.Path(), msg)
			}
			if strings.Contains(string(msg), "syntax error") {
				t.Errorf("value %q broke the syntax of %s:\n%s", evil, f.Path(), msg)
			}
		}
	}
}
