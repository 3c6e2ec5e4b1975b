package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"pgpoolgen/gen"
	"pgpoolgen/schema"
)

// ansibleProgram finds one of ansible-core's programs: the test skips without it, and fails in
// CI.
func ansibleProgram(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; .ci/run installs Debian's ansible-core", name)
	}
	t.Skipf("%s is not installed (apt-get install --no-install-recommends ansible-core)", name)
	return ""
}

// ansibleEnv keeps Ansible's own files (its home, temporary files) in the test's folder.
func ansibleEnv(t *testing.T) []string {
	dir := t.TempDir()
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "ANSIBLE_HOME=" + dir + "/ansible",
		"ANSIBLE_LOCAL_TEMP=" + dir + "/tmp", "ANSIBLE_NOCOLOR=1", "LC_ALL=C.UTF-8"}
}

// loadGolden loads a golden case's spec, as build does.
func loadGolden(t *testing.T, caseDir string) *schema.Cluster {
	t.Helper()
	env := readEnv(t, caseDir)
	file := filepath.Join(caseDir, "cluster.toml")
	src, err := schema.ReadSpec(file)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := schema.Load(file, src, schema.Env{LookupEnv: lookup, ReadFile: schema.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// playHost is a play's host in playbook.yml.
var playHost = regexp.MustCompile(`(?m)^    pgpoolgen_play_host: !unsafe '([^']*)'$`)

// TestAnsibleInventory reads every golden bundle's inventory with Ansible's own
// ansible-inventory: each host of the spec is there with its address as ansible_host, in the
// groups its roles give, and playbook.yml has one play per host in the spec's apply order.
func TestAnsibleInventory(t *testing.T) {
	inventory := ansibleProgram(t, "ansible-inventory")
	env := ansibleEnv(t)
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := loadGolden(t, filepath.Join(goldenDir, name))
			bundle := filepath.Join(goldenDir, name, "bundle")
			cmd := exec.Command(inventory, "-i", filepath.Join(bundle, "ansible/inventory.yml"), "--list")
			cmd.Env = env
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("ansible-inventory --list: %v\n%s", err, out)
			}
			var got map[string]struct {
				Hosts    []string                  `json:"hosts"`
				Hostvars map[string]map[string]any `json:"hostvars"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("ansible-inventory --list: %v\n%s", err, out)
			}
			vars := got["_meta"].Hostvars
			if len(vars) != len(c.Hosts) {
				t.Errorf("the inventory has %d hosts, the spec %d", len(vars), len(c.Hosts))
			}
			order := c.ApplyOrder()
			want := map[string][]string{}
			var names []string
			for _, h := range order {
				names = append(names, h.Name)
				// ansible-inventory shows an !unsafe value as {"__ansible_unsafe": value}.
				v := vars[h.Name]
				addr := v["ansible_host"]
				if m, ok := addr.(map[string]any); ok && len(m) == 1 {
					addr = m["__ansible_unsafe"]
				}
				if addr != h.Address || len(v) != 1 {
					t.Errorf("host %s: vars %v, want only ansible_host %q", h.Name, v, h.Address)
				}
				if h.Pgpool {
					want["pgpool"] = append(want["pgpool"], h.Name)
				}
				if h.Backend {
					want["backends"] = append(want["backends"], h.Name)
				}
				switch h.Role {
				case schema.Primary:
					want["primary"] = append(want["primary"], h.Name)
				case schema.Standby:
					want["standbys"] = append(want["standbys"], h.Name)
				}
			}
			for _, g := range []string{"pgpool", "backends", "primary", "standbys"} {
				if !slices.Equal(got[g].Hosts, want[g]) {
					t.Errorf("group %s: %v, want %v", g, got[g].Hosts, want[g])
				}
			}
			plays := [][]string(nil)
			pb, err := os.ReadFile(filepath.Join(bundle, "ansible/playbook.yml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range playHost.FindAllStringSubmatch(string(pb), -1) {
				plays = append(plays, m[1:])
			}
			var played []string
			for _, p := range plays {
				played = append(played, p[0])
			}
			if !slices.Equal(played, names) {
				t.Errorf("playbook.yml's plays are for %v, want the apply order %v", played, names)
			}
		})
	}
}

// TestAnsiblePlaybookSyntax has ansible-playbook --syntax-check the playbook (and the tasks it
// imports) of bundles of each kind: streaming with roles, native without, watchdog.
func TestAnsiblePlaybookSyntax(t *testing.T) {
	playbook := ansibleProgram(t, "ansible-playbook")
	env := ansibleEnv(t)
	for _, name := range []string{"debian-streaming", "wide-ipv6-native", "watchdog-4.3"} {
		bundle := filepath.Join(goldenDir, name, "bundle")
		cmd := exec.Command(playbook, "-i", filepath.Join(bundle, "ansible/inventory.yml"), filepath.Join(bundle, "ansible/playbook.yml"), "--syntax-check")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(out), "WARNING") && !strings.Contains(string(out), "Found both group and host") {
			t.Errorf("%s: ansible-playbook --syntax-check: %v\n%s", name, err, out)
		}
	}
	// A broken playbook fails the check: the check can fail.
	dir := t.TempDir()
	bundle := filepath.Join(goldenDir, "debian-streaming", "bundle")
	for _, f := range []string{"inventory.yml", "playbook.yml", "apply.yml"} {
		data, err := os.ReadFile(filepath.Join(bundle, "ansible", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "apply.yml" {
			data = []byte(strings.Replace(string(data), "ansible.builtin.set_fact:", "ansible.builtin.set_fact\n", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(playbook, "-i", filepath.Join(dir, "inventory.yml"), filepath.Join(dir, "playbook.yml"), "--syntax-check")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("ansible-playbook --syntax-check passed a broken apply.yml:\n%s", out)
	}
}

// TestSetupChangedLine runs a golden host's setup.sh (under --root) as the playbook does and
// matches its last line with gen.SetupChanged, the playbook's changed_when: a first run and a
// dry run on a fresh host changed (or would change) something, a second run and a dry run
// after it nothing.
func TestSetupChangedLine(t *testing.T) {
	requireRoot(t)
	changed := regexp.MustCompile(gen.SetupChanged)
	bundle := filepath.Join(t.TempDir(), "out")
	build(t, filepath.Join(goldenDir, "debian-streaming"), bundle)
	m := readManifest(t, bundle)
	var env []string
	for _, s := range m.Secrets {
		if s.Host == "pgpool1" {
			env = append(env, s.Env+"=secret-"+s.Name)
		}
	}
	root := t.TempDir()
	fakeHost(t, root, "postgres", "postgres", "/var/lib/postgresql", stubs("/usr/lib/postgresql/15/bin", "/usr/sbin", "4.3"))
	giveKeyPair(t, filepath.Join(goldenDir, "debian-streaming"), "pgpool1", root, "/var/lib/postgresql")
	script := filepath.Join(bundle, "hosts", "pgpool1", "setup.sh")
	for _, step := range []struct {
		args    []string
		changed bool
	}{
		{[]string{"--dry-run"}, true},
		{nil, true},
		{nil, false},
		{[]string{"--dry-run"}, false},
	} {
		out, err := runSetup(t, script, env, append([]string{"--root", root, "--skip-network"}, step.args...)...)
		if err != nil {
			t.Fatalf("setup.sh %v: %v\n%s", step.args, err, out)
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		last := lines[len(lines)-1]
		if changed.MatchString(last) != step.changed || !strings.HasPrefix(last, "setup of pgpool1: ") {
			t.Errorf("setup.sh %v ends with %q: the playbook reads it as changed %v, want %v", step.args, last, !step.changed, step.changed)
		}
	}
}
