package gen

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"pgpoolgen/schema"
)

// TestUnitFilesVerify has systemd read the unit files of the golden bundles: Debian's
// pgpool2.service with the bundle's drop-in, and the source layout's own unit. A broken copy
// must fail, or the check proves nothing. It skips where systemd-analyze or Debian's unit is
// missing (CI installs both).
func TestUnitFilesVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing; .ci/run installs Debian's systemd")
		}
		t.Skip("systemd-analyze is not installed (apt-get install systemd): cannot check the unit files")
	}
	// verify returns what systemd says about the bundle's file: it exits 0 on a line it
	// ignores, so its messages are the verdict. That the programs are not installed on this
	// machine, and what it says of Debian's own unit, are not.
	verify := func(t *testing.T, dir, unit, ours string) []string {
		t.Helper()
		cmd := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, unit))
		cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":")
		out, _ := cmd.CombinedOutput()
		var said []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "/lib/systemd/") || strings.Contains(l, "is not executable: No such file or directory") {
				continue
			}
			if strings.HasPrefix(l, "/") && !strings.HasPrefix(l, ours) {
				continue
			}
			said = append(said, l)
		}
		return said
	}
	for _, name := range []string{"debian-streaming", "seed-master-slave", "rhel-streaming"} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join("..", "golden", name, "cluster.toml")
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := schema.Load(file, src, benchEnv)
			if err != nil {
				t.Fatal(err)
			}
			var pgpoolHost *schema.Host
			for _, h := range c.Hosts {
				if h.Pgpool {
					pgpoolHost = h
				}
			}
			units := pgpoolUnitFiles(c, pgpoolHost)
			for _, f := range backendServiceFiles(c, c.Backends[0]) {
				if strings.HasPrefix(f.Dest, systemdDir) {
					units = append(units, f)
				}
			}
			if name != "debian-streaming" && len(units) != 2 {
				t.Fatalf("the %s layout has %d unit files, want pgpool's and PostgreSQL's", c.Layout.Preset, len(units))
			}
			for _, f := range units {
				verifyUnit(t, c, f, verify)
			}
		})
	}
}

// verifyUnit has systemd read one unit file (a drop-in with its package's unit), then a broken
// copy. The RPMs' units of RHEL's layout come from testdata/rhel (see its README).
func verifyUnit(t *testing.T, c *schema.Cluster, f *File, verify func(t *testing.T, dir, unit, ours string) []string) {
	t.Helper()
	dir := t.TempDir()
	unit := filepath.Base(f.Dest)
	if strings.HasSuffix(f.Dest, ".d/pgpoolgen.conf") {
		unit = strings.TrimSuffix(filepath.Base(filepath.Dir(f.Dest)), ".d")
	}
	if strings.HasSuffix(f.Dest, ".d/pgpoolgen.conf") {
		from := "/lib/systemd/system/" + unit
		if c.Layout.Preset == "rhel" {
			from = filepath.Join("testdata", "rhel", unit)
		}
		pkg, err := os.ReadFile(from)
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("Debian's %s is missing; .ci/run installs pgpool2: %v", unit, err)
			}
			t.Skipf("Debian's %s is not installed (apt-get install pgpool2): %v", unit, err)
		}
		write(t, filepath.Join(dir, unit), pkg)
		write(t, filepath.Join(dir, unit+".d", "pgpoolgen.conf"), f.Data)
	} else {
		write(t, filepath.Join(dir, unit), f.Data)
	}
	ours := filepath.Join(dir, unit)
	if strings.HasSuffix(f.Dest, ".d/pgpoolgen.conf") {
		ours = filepath.Join(dir, unit+".d", "pgpoolgen.conf")
	}
	if said := verify(t, dir, unit, ours); len(said) > 0 {
		t.Errorf("systemd-analyze verify %s:\n%s\n%s", unit, strings.Join(said, "\n"), f.Data)
	}
	write(t, ours, append(append([]byte{}, f.Data...), "ExecStart=relative/pgpool\nNoSuchSetting=1\n"...))
	if said := verify(t, dir, unit, ours); len(said) == 0 {
		t.Errorf("systemd-analyze verify says nothing of a broken %s, so it checks nothing", unit)
	}
}

// TestSudoersVisudo has visudo check the sudoers rule of each golden bundle's backends, and
// shows that it refuses a broken one. The rule allows exactly serviceCommands.
func TestSudoersVisudo(t *testing.T) {
	visudo, err := exec.LookPath("visudo")
	if err != nil {
		if visudo, err = exec.LookPath("/usr/sbin/visudo"); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("visudo is missing; .ci/run installs Debian's sudo")
			}
			t.Skip("visudo is not installed (apt-get install sudo): cannot check the sudoers rule")
		}
	}
	for _, name := range []string{"debian-streaming", "seed-master-slave", "wide-ipv6-native"} {
		file := filepath.Join("..", "golden", name, "cluster.toml")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c, err := schema.Load(file, src, benchEnv)
		if err != nil {
			t.Fatal(err)
		}
		f := backendServiceFiles(c, c.Backends[0])[0]
		if f.Dest != sudoersFile(c) || f.Mode != 0o440 || f.Owner != "root" {
			t.Fatalf("%s: the first file is %s, mode %o, owner %s; want the sudoers rule, 0440, root's", name, f.Dest, f.Mode, f.Owner)
		}
		rule := f.Data
		wantLine := c.Layout.User + " ALL=(root) NOPASSWD: " + strings.Join(serviceCommands(c), ", ") + "\n"
		if !strings.HasSuffix(string(rule), wantLine) {
			t.Errorf("%s: the rule is\n%s\nwant it to end with\n%s", name, rule, wantLine)
		}
		for data, ok := range map[string]bool{string(rule): true, string(rule) + "postgres ALL=(root) NOPASSWD: systemctl start x\n": false} {
			p := filepath.Join(t.TempDir(), "rule")
			write(t, p, []byte(data))
			out, err := exec.Command(visudo, "-c", "-q", "-f", p).CombinedOutput()
			if (err == nil) != ok {
				t.Errorf("%s: visudo -c on the rule (valid %v): %v\n%s\n%s", name, ok, err, out, data)
			}
		}
	}
}

// TestSudoersPgpoolHost checks the pgpool host's sudoers rule, which allows failover.sh's ss -K
// of each backend: visudo takes it (with the IPv6 addresses of pg12-streaming-sync, whose ':'
// and brackets must be escaped, and a host that is also a backend), an unescaped '=' is a
// syntax error, and sudo's own parser (with watchdog-4.3's virtual IP commands too) (cvtsudoers) reads back each command line as a pattern
// that stands for exactly the words failover.sh runs.
func TestSudoersPgpoolHost(t *testing.T) {
	visudo, err := exec.LookPath("visudo")
	if err != nil {
		if visudo, err = exec.LookPath("/usr/sbin/visudo"); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("visudo is missing; .ci/run installs Debian's sudo")
			}
			t.Skip("visudo is not installed (apt-get install sudo): cannot check the sudoers rule")
		}
	}
	cvtsudoers, _ := exec.LookPath("cvtsudoers")
	for _, name := range []string{"debian-streaming", "pg12-streaming-sync", "watchdog-4.3"} {
		file := filepath.Join("..", "golden", name, "cluster.toml")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c, err := schema.Load(file, src, benchEnv)
		if err != nil {
			t.Fatal(err)
		}
		pgpoolHost := *c.Hosts[0]
		if !pgpoolHost.Pgpool || pgpoolHost.Backend {
			t.Fatalf("%s: the first host is not a pgpool host only", name)
		}
		both := pgpoolHost
		both.Backend = true
		for _, h := range []*schema.Host{&pgpoolHost, &both} {
			f := sudoersRule(c, h)
			if f == nil || f.Dest != sudoersFile(c) || f.Mode != 0o440 || f.Owner != "root" {
				t.Fatalf("%s: the pgpool host's rule is %+v; want %s, 0440, root's", name, f, sudoersFile(c))
			}
			var want []string
			for _, words := range sudoCommands(c, h) {
				want = append(want, strings.Join(words, " "))
			}
			// With a virtual IP, also the watchdog's if_up_cmd, if_down_cmd and arping_cmd.
			if n := len(c.Backends) + map[bool]int{true: 2}[h.Backend] + map[bool]int{true: 3}[c.HasVIP()]; len(want) != n {
				t.Fatalf("%s: %d commands, want %d: %q", name, len(want), n, want)
			}
			p := filepath.Join(t.TempDir(), "rule")
			write(t, p, f.Data)
			if out, err := exec.Command(visudo, "-c", "-q", "-f", p).CombinedOutput(); err != nil {
				t.Errorf("%s: visudo -c: %v\n%s\n%s", name, err, out, f.Data)
			}
			broken := strings.Replace(string(f.Data), `dport \=`, "dport =", 1)
			write(t, p, []byte(broken))
			if out, err := exec.Command(visudo, "-c", "-q", "-f", p).CombinedOutput(); err == nil {
				t.Errorf("%s: visudo takes an unescaped '=', so it checks nothing:\n%s\n%s", name, out, broken)
			}
			if cvtsudoers == "" {
				continue
			}
			write(t, p, f.Data)
			out, err := exec.Command(cvtsudoers, "-f", "json", p).Output()
			if err != nil {
				t.Fatalf("%s: cvtsudoers: %v", name, err)
			}
			var got []string
			for _, m := range regexp.MustCompile(`"command": "((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(string(out), -1) {
				// JSON unescaped, then fnmatch's escapes: "\[" stands for '['.
				pattern := strings.ReplaceAll(m[1], `\\`, `\`)
				if strings.ContainsAny(strings.ReplaceAll(regexp.MustCompile(`\\.`).ReplaceAllString(pattern, ""), `\`, ""), "*?[]") {
					t.Errorf("%s: %s holds an unescaped wildcard", name, pattern)
				}
				got = append(got, regexp.MustCompile(`\\(.)`).ReplaceAllString(pattern, "$1"))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: sudo reads the commands\n%q\nwant\n%q\n%s", name, got, want, f.Data)
			}
		}
	}
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRHELUnits: in RHEL's layout the packages' units get drop-ins that name the layout's
// files and each host's own data directory, the package's tmpfiles.d entry makes the run
// folder, and pgpool's unit is pgpool.service (the RPM's), not pgpool-II.
func TestRHELUnits(t *testing.T) {
	file := filepath.Join("..", "golden", "rhel-streaming", "cluster.toml")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), `preset = "rhel"`, "preset = \"rhel\"\npgpool_config_dir = \"/etc/pgpool-x\"\nuser = \"pg\"", 1)
	s = strings.Replace(s, `roles = ["pgpool", "standby"]`, "roles = [\"pgpool\", \"standby\"]\ndata_directory = \"/srv/pg16\"", 1)
	c, err := schema.Load(file, []byte(s), benchEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := pgpoolUnit(c); got != "pgpool.service" {
		t.Errorf("pgpool's unit %q, want pgpool.service", got)
	}
	units := pgpoolUnitFiles(c, c.Hosts[0])
	if len(units) != 1 || units[0].Dest != "/etc/systemd/system/pgpool.service.d/pgpoolgen.conf" {
		t.Fatalf("pgpool's unit files %v, want the drop-in of pgpool.service", units)
	}
	for _, line := range []string{"User=pg", "Group=pg", "Environment=PGPOOLKEYFILE=/var/lib/pgsql/.pgpoolkey",
		"ExecStart=\nExecStart=/usr/bin/pgpool -n -f /etc/pgpool-x/pgpool.conf -F /etc/pgpool-x/pcp.conf -a /etc/pgpool-x/pool_hba.conf\n",
		"ExecStop=\nExecStop=/usr/bin/pgpool -f /etc/pgpool-x/pgpool.conf -m fast stop\n",
		"ExecReload=\nExecReload=/usr/bin/pgpool -f /etc/pgpool-x/pgpool.conf reload\n"} {
		if !strings.Contains(string(units[0].Data), line) {
			t.Errorf("pgpool's drop-in has no %q:\n%s", line, units[0].Data)
		}
	}
	for _, h := range c.Backends {
		var dropIn *File
		for _, f := range backendServiceFiles(c, h) {
			if f.Dest == "/etc/systemd/system/postgresql-16.service.d/pgpoolgen.conf" {
				dropIn = f
			} else if strings.HasPrefix(f.Dest, systemdDir) {
				t.Errorf("%s: unit file %s beside PGDG's unit", h.Name, f.Dest)
			}
		}
		if dropIn == nil {
			t.Fatalf("%s: no drop-in for postgresql-16.service", h.Name)
		}
		if want := "[Service]\nUser=pg\nGroup=pg\nEnvironment=PGDATA=" + h.DataDirectory + "\n"; !strings.HasSuffix(string(dropIn.Data), want) {
			t.Errorf("%s: drop-in\n%s\nwant it to end with\n%s", h.Name, dropIn.Data, want)
		}
	}
	if c.Backends[1].DataDirectory != "/srv/pg16" {
		t.Fatalf("server2's data directory %q, want the spec's", c.Backends[1].DataDirectory)
	}
	if got := tmpfiles(c); got != nil {
		t.Errorf("tmpfiles.d entry %q for the RPM's /var/run/pgpool, which the package's entry makes", got)
	}
	c.Layout.PgpoolRunDir = "/run/pgpool-x"
	if got := tmpfiles(c); !strings.Contains(string(got), "d /run/pgpool-x 0755 pg pg -") {
		t.Errorf("tmpfiles.d entry %q for a run folder of the spec's, want one", got)
	}
}
