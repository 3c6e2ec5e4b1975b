//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// applyVia says which clusters the bundle's own hand-off applies instead of the harness's loop
// of setup.sh: the streaming cluster by the Ansible playbook, the native one by deploy.sh. The
// same named checks then run on a cluster that tool built, and no cluster is brought up for
// them alone.
var applyVia = map[string]string{"streaming": "ansible", "native": "deploy"}

// The hand-off's folders on each host (gen.StagingDir and gen.SecretsParent): bound like the
// others, so that nothing the apply leaves reaches the machine's own folders.
const (
	stagingDir    = "/var/lib/pgpoolgen"
	secretsParent = "/run/pgpoolgen"
)

// controllerAddr is the address of the controller namespace, from which Ansible and deploy.sh
// log in to the hosts: no host of a spec has it.
const controllerAddr = testNet + ".40"

// A controller is the operator's machine: a namespace on the test network, a key pair that
// each host's sshd lets in as root, known_hosts from the hosts' own host keys, and Ansible's
// configuration, all in the test's work folder (nothing of the machine's /root is read or
// written).
type controller struct {
	h   *host
	dir string
	env []string
	// sshConfig is the ssh client configuration deploy.sh and Ansible use (ssh -F).
	sshConfig string
}

// newController makes the controller namespace and its keys, and lets its key in as root on
// every host of c (which must not run sshd yet).
func newController(t *testing.T, c *cluster) *controller {
	t.Helper()
	k := &controller{dir: filepath.Join(c.work, "controller")}
	for _, d := range []string{"home", "ansible", "tmp", "cp"} {
		must(t, os.MkdirAll(filepath.Join(k.dir, d), 0o700))
	}
	key := filepath.Join(k.dir, "id_ed25519")
	runAs(t, "root", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "controller", "-f", key)
	pub, err := os.ReadFile(key + ".pub")
	must(t, err)
	var known strings.Builder
	for _, n := range c.order {
		h := c.h(n)
		must(t, os.WriteFile(filepath.Join(h.root, "/etc/ssh/e2e/root_authorized_keys"), pub, 0o600))
		hostKey, err := os.ReadFile(filepath.Join(h.root, "/etc/ssh/e2e/ssh_host_ed25519_key.pub"))
		must(t, err)
		fields := strings.Fields(string(hostKey))
		fmt.Fprintf(&known, "%s %s %s\n", h.addr, fields[0], fields[1])
	}
	must(t, os.WriteFile(filepath.Join(k.dir, "known_hosts"), []byte(known.String()), 0o644))
	k.sshConfig = filepath.Join(k.dir, "ssh_config")
	must(t, os.WriteFile(k.sshConfig, []byte(fmt.Sprintf(`Host *
	User root
	IdentityFile %s
	IdentitiesOnly yes
	UserKnownHostsFile %s
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	BatchMode yes
	ConnectTimeout 10
`, key, filepath.Join(k.dir, "known_hosts"))), 0o644))
	cfg := filepath.Join(k.dir, "ansible.cfg")
	must(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`[defaults]
host_key_checking = True
forks = 5
nocolor = True
retry_files_enabled = False
interpreter_python = /usr/bin/python3

[ssh_connection]
ssh_args = -F %s -o ControlMaster=auto -o ControlPersist=60s
pipelining = True
`, k.sshConfig)), 0o644))
	k.env = []string{"HOME=" + filepath.Join(k.dir, "home"), "ANSIBLE_CONFIG=" + cfg,
		"ANSIBLE_HOME=" + filepath.Join(k.dir, "ansible"), "ANSIBLE_LOCAL_TEMP=" + filepath.Join(k.dir, "tmp"),
		"ANSIBLE_SSH_CONTROL_PATH_DIR=" + filepath.Join(k.dir, "cp"), "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0"}
	k.h = newHost(t, c.work, c.net, "controller", controllerAddr, nil)
	return k
}

// ansible runs the bundle's playbook (of bundle, or c.bundle when empty) from the controller,
// with the secrets of c.secrets handed over as pgpoolgen_secrets_dir, or as an Ansible Vault
// file of pgpoolgen_secrets when vault is set, and setup.sh's extra args. It returns the
// output and, per host, the recap's changed count.
func (c *cluster) ansible(t *testing.T, bundle string, vault bool, extra []string, setupArgs ...string) (string, map[string]int, error) {
	t.Helper()
	if bundle == "" {
		bundle = c.bundle
	}
	k := c.ctl
	vars := map[string]any{"pgpoolgen_setup_args": append([]string{}, setupArgs...)}
	if vault {
		secrets := map[string]string{}
		for name, pw := range passwords {
			secrets[name] = pw
		}
		if len(c.pgpools) > 1 {
			secrets["wd_authkey"] = wdAuthkey
		}
		vars["pgpoolgen_secrets"] = secrets
	} else {
		vars["pgpoolgen_secrets_dir"] = c.secrets
	}
	data, err := json.Marshal(vars) // JSON is YAML
	must(t, err)
	varsFile := filepath.Join(k.dir, "vars.yml")
	must(t, os.WriteFile(varsFile, data, 0o600))
	args := []string{"ansible-playbook", "-i", filepath.Join(bundle, "ansible/inventory.yml"), filepath.Join(bundle, "ansible/playbook.yml")}
	if vault {
		pw := filepath.Join(k.dir, "vault-password")
		must(t, os.WriteFile(pw, []byte("e2e vault password\n"), 0o600))
		if out, err := k.h.run(time.Minute, "root", append(k.env, "ANSIBLE_VAULT_PASSWORD_FILE="+pw), "ansible-vault", "encrypt", varsFile); err != nil {
			t.Fatalf("ansible-vault encrypt: %v\n%s", err, out)
		}
		if data, _ := os.ReadFile(varsFile); !strings.HasPrefix(string(data), "$ANSIBLE_VAULT;") {
			t.Fatalf("ansible-vault left %s unencrypted", varsFile)
		}
		args = append(args, "--vault-password-file", pw)
	}
	args = append(append(args, "-e", "@"+varsFile), extra...)
	start := time.Now()
	out, err := k.h.run(15*time.Minute, "root", k.env, args...)
	fmt.Printf("e2e: ansible-playbook %s: %.1f s\n", strings.Join(append(extra, setupArgs...), " "), time.Since(start).Seconds())
	must(t, os.Remove(varsFile))
	logName := fmt.Sprintf("ansible-%d.log", time.Now().UnixNano())
	os.WriteFile(filepath.Join(c.work, "logs", logName), []byte(strings.Join(args, " ")+"\n"+out), 0o644)
	return out, recapChanged(out), err
}

// recapLine is a host's line of PLAY RECAP.
var recapLine = regexp.MustCompile(`(?m)^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

// recapChanged reads PLAY RECAP: each host's changed count.
func recapChanged(out string) map[string]int {
	m := map[string]int{}
	for _, r := range recapLine.FindAllStringSubmatch(out, -1) {
		m[r[1]], _ = strconv.Atoi(r[2])
	}
	return m
}

// applyFirst applies the bundle the way applyVia says, right after the hosts' sshd started
// and before PostgreSQL runs anywhere (setup.sh --skip-network: no backend answers yet); it
// records what the checks need.
func (c *cluster) applyFirst(t *testing.T) {
	t.Helper()
	switch c.via {
	case "ansible":
		out, changed, err := c.ansible(t, "", false, nil, "--skip-network")
		c.firstApply, c.firstChanged, c.applyErr = out, changed, err
		c.order1 = c.applyTimes(t)
	case "deploy":
		out, changed, err := c.deploy(t, "", "--setup-arg", "--skip-network")
		c.firstApply, c.firstChanged, c.applyErr = out, changed, err
		c.order1 = c.applyTimes(t)
	default:
		t.Fatalf("apply via %q: unknown", c.via)
	}
}

// applyAgain applies the bundle once more, after the primary started: its setup now makes
// the roles and the recovery functions.
func (c *cluster) applyAgain(t *testing.T) {
	t.Helper()
	switch c.via {
	case "ansible":
		out, _, err := c.ansible(t, "", false, nil, "--skip-network")
		if err != nil {
			t.Fatalf("ansible-playbook after the primary started: %v\n%s", err, out)
		}
		t.Logf("ansible-playbook after the primary started:\n%s", out)
	case "deploy":
		out, _, err := c.deploy(t, "", "--setup-arg", "--skip-network")
		if err != nil {
			t.Fatalf("deploy.sh after the primary started: %v\n%s", err, out)
		}
		t.Logf("deploy.sh after the primary started:\n%s", out)
	}
}

// deploy runs the bundle's deploy.sh (of bundle, or c.bundle when empty) from the controller,
// with the secrets of c.secrets and the test's ssh configuration. It returns the output and,
// per host, 1 when deploy.sh says it changed (or would change) it, else 0.
func (c *cluster) deploy(t *testing.T, bundle string, args ...string) (string, map[string]int, error) {
	t.Helper()
	if bundle == "" {
		bundle = c.bundle
	}
	full := append([]string{"bash", filepath.Join(bundle, "deploy.sh"), "--ssh-config", c.ctl.sshConfig, "--secrets", c.secrets}, args...)
	start := time.Now()
	out, err := c.ctl.h.run(15*time.Minute, "root", []string{"HOME=" + filepath.Join(c.ctl.dir, "home")}, full...)
	fmt.Printf("e2e: deploy.sh %s: %.1f s\n", strings.Join(args, " "), time.Since(start).Seconds())
	os.WriteFile(filepath.Join(c.work, "logs", fmt.Sprintf("deploy-%d.log", time.Now().UnixNano())), []byte(strings.Join(full, " ")+"\n"+out), 0o644)
	changed := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		if n, ok := strings.CutPrefix(l, "== "); ok {
			n, _, _ = strings.Cut(n, " ")
			changed[n] = 0
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	for _, prefix := range []string{"deploy: changed ", "deploy: would change "} {
		if list, ok := strings.CutPrefix(last, prefix); ok {
			for _, n := range strings.Fields(list) {
				changed[n] = 1
			}
		}
	}
	if err == nil && !strings.HasPrefix(last, "deploy: ") {
		err = fmt.Errorf("deploy.sh ended without its summary line")
	}
	return out, changed, err
}

// hostTimes are when the apply staged a host's files (the earliest) and when its setup.sh
// last installed one (the latest of the manifest's destinations that exist).
type hostTimes struct{ staged, installed time.Time }

func (c *cluster) applyTimes(t *testing.T) map[string]hostTimes {
	t.Helper()
	times := map[string]hostTimes{}
	for _, n := range c.order {
		h := c.h(n)
		var ht hostTimes
		filepath.WalkDir(filepath.Join(h.root, stagingDir), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if info, err := d.Info(); err == nil && (ht.staged.IsZero() || info.ModTime().Before(ht.staged)) {
					ht.staged = info.ModTime()
				}
			}
			return nil
		})
		for _, f := range c.manifest.Files {
			if f.Host != n || f.Destination == "" {
				continue
			}
			if info, err := os.Stat(filepath.Join(h.root, f.Destination)); err == nil && info.ModTime().After(ht.installed) {
				ht.installed = info.ModTime()
			}
		}
		times[n] = ht
	}
	return times
}

// checkApplyOrder: each host's files were staged only after the host before it in want had
// installed its own (its setup.sh had run), on the hosts themselves.
func (c *cluster) checkApplyOrder(t *testing.T, want []string) {
	for i, n := range want {
		ht := c.order1[n]
		if ht.staged.IsZero() || ht.installed.IsZero() {
			t.Errorf("%s: staged %v, installed %v: the first apply left no trace", n, ht.staged, ht.installed)
			continue
		}
		if i > 0 {
			prev := want[i-1]
			if !c.order1[prev].installed.Before(ht.staged) {
				t.Errorf("%s was staged at %s, before %s's setup had installed its files (%s): the order is not %v",
					n, ht.staged.Format(time.StampMicro), prev, c.order1[prev].installed.Format(time.StampMicro), want)
			}
		}
	}
}

// checkChanged: every host of c is in the recap, and each changed what want says (>0 or 0).
func (c *cluster) checkChanged(t *testing.T, what, out string, changed map[string]int, err error, want func(host string) bool) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, out)
	}
	for _, n := range c.order {
		got, ok := changed[n]
		switch {
		case !ok:
			t.Errorf("%s: no recap line for %s:\n%s", what, n, out)
		case want(n) != (got > 0):
			t.Errorf("%s: %s changed=%d, want changed %s", what, n, got, map[bool]string{true: "> 0", false: "= 0"}[want(n)])
		}
	}
	if t.Failed() {
		t.Logf("%s:\n%s", what, out)
	}
}

// hostState is the sha256 of every file under the folders a run may change on the hosts
// (the bound folders, the staging ones included), for comparing before and after a run that
// must change nothing. PostgreSQL's data directory and logs are left out: they change on
// their own.
func (c *cluster) hostState(t *testing.T) map[string]string {
	t.Helper()
	state := map[string]string{}
	for _, n := range c.order {
		h := c.h(n)
		for _, d := range boundDirs {
			if d == "/var/log/postgresql" || d == "/var/run/postgresql" {
				continue
			}
			root := filepath.Join(h.root, d)
			filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
				if err != nil {
					return nil
				}
				if e.IsDir() && (p == filepath.Join(h.root, dataDir) || strings.HasSuffix(p, "/pgpoolgen-logs")) {
					return filepath.SkipDir
				}
				if !e.Type().IsRegular() || strings.HasSuffix(p, ".log") {
					return nil
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return nil
				}
				sum := sha256.Sum256(data)
				info, _ := e.Info()
				state[n+":"+strings.TrimPrefix(p, h.root)] = hex.EncodeToString(sum[:]) + " " + info.Mode().String()
				return nil
			})
		}
	}
	return state
}

// compareState reports what differs between two hostStates.
func compareState(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	var diff []string
	for p, s := range before {
		if after[p] != s {
			diff = append(diff, p+" changed or went")
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diff = append(diff, p+" appeared")
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("%s changed files on the hosts:\n%s", what, strings.Join(diff, "\n"))
	}
}

// changedSpec builds, beside the cluster's bundle, the bundle of its spec with one parameter
// changed (num_init_children, which only the pgpool hosts' pgpool.conf holds), and returns it.
func (c *cluster) changedSpec(t *testing.T) string {
	t.Helper()
	spec := filepath.Join(c.work, "spec", "cluster.toml")
	src, err := os.ReadFile(spec)
	must(t, err)
	changed := strings.Replace(string(src), "num_init_children = 8\n", "num_init_children = 9\n", 1)
	if changed == string(src) {
		t.Fatalf("%s has no num_init_children = 8 to change", spec)
	}
	// Under the same file name beside the same keys: the name is in every file's header.
	dir2 := filepath.Join(c.work, "spec-changed")
	must(t, os.MkdirAll(filepath.Join(dir2, "keys"), 0o755))
	keys, err := filepath.Glob(filepath.Join(c.work, "spec", "keys", "*"))
	must(t, err)
	for _, k := range keys {
		copyFile(t, k, filepath.Join(dir2, "keys", filepath.Base(k)))
	}
	spec2 := filepath.Join(dir2, "cluster.toml")
	must(t, os.WriteFile(spec2, []byte(changed), 0o644))
	bundle := filepath.Join(c.work, "bundle-changed")
	cmd := exec.Command(pgpoolgen(t, c.work), "build", spec2, "-o", bundle)
	cmd.Env = append(os.Environ(), "E2E_PCP_PASSWORD="+pcpPass)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pgpoolgen build of the changed spec: %v\n%s", err, out)
	}
	return bundle
}

// checkNoSecretLeft: nothing is left in the temporary folders the hand-off uses on the hosts
// (SecretsParent), the staging folders hold the manifest's files only and no secret, and no
// file of the controller's Ansible folders (its local temporary files) holds a secret.
func (c *cluster) checkNoSecretLeft(t *testing.T) {
	values := []string{wdAuthkey}
	for _, pw := range passwords {
		values = append(values, pw)
	}
	staged := map[string]bool{}
	for _, f := range c.manifest.Files {
		if f.Host != "" {
			staged[f.Host+":"+strings.TrimPrefix(f.Path, "hosts/"+f.Host+"/")] = true
		}
	}
	scan := func(where, dir string, allowed func(rel string) bool) int {
		n := 0
		filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			n++
			rel, _ := filepath.Rel(dir, p)
			if allowed != nil && !allowed(rel) {
				t.Errorf("%s: %s is left there", where, rel)
			}
			data, _ := os.ReadFile(p)
			for _, v := range values {
				if strings.Contains(string(data), v) {
					t.Errorf("%s: %s holds a secret", where, rel)
				}
			}
			return nil
		})
		return n
	}
	files := 0
	for _, n := range c.order {
		h := c.h(n)
		scan(n+":"+secretsParent, filepath.Join(h.root, secretsParent), func(string) bool { return false })
		files += scan(n+":"+stagingDir, filepath.Join(h.root, stagingDir), func(rel string) bool {
			_, rel, _ = strings.Cut(rel, "/") // the cluster's folder
			return staged[n+":"+rel]
		})
	}
	if files < len(c.order)*5 {
		t.Errorf("only %d files staged on the %d hosts", files, len(c.order))
	}
	for _, d := range []string{"home", "ansible", "tmp"} {
		scan("controller "+d, filepath.Join(c.ctl.dir, d), nil)
	}
	// The machine's root user: Ansible uses none of its folders, on the controller or on the
	// hosts (their /root is the machine's).
	if _, err := os.Stat("/root/.ansible"); err == nil && !c.rootAnsible {
		t.Errorf("/root/.ansible appeared on the machine")
	}
}

// resum writes into the bundle's manifest.json the sha256 of each file as it is now: after
// breakBundle, the hand-off must apply the damaged files (which a build of a damaged spec
// would have made), not refuse them. The manifest's other fields stay as they are.
func resum(t *testing.T, bundle string) {
	t.Helper()
	p := filepath.Join(bundle, "manifest.json")
	data, err := os.ReadFile(p)
	must(t, err)
	var m struct {
		Format  json.RawMessage `json:"format"`
		Cluster string          `json:"cluster"`
		Files   []struct {
			Host        string `json:"host,omitempty"`
			Path        string `json:"path"`
			Install     string `json:"install"`
			Destination string `json:"destination,omitempty"`
			Mode        string `json:"mode"`
			Owner       string `json:"owner,omitempty"`
			Group       string `json:"group,omitempty"`
			SHA256      string `json:"sha256"`
		} `json:"files"`
		Trust   json.RawMessage `json:"trust"`
		Secrets json.RawMessage `json:"secrets"`
	}
	must(t, json.Unmarshal(data, &m))
	for i, f := range m.Files {
		b, err := os.ReadFile(filepath.Join(bundle, f.Path))
		must(t, err)
		sum := sha256.Sum256(b)
		m.Files[i].SHA256 = hex.EncodeToString(sum[:])
	}
	out, err := json.MarshalIndent(m, "", "  ")
	must(t, err)
	must(t, os.WriteFile(p, append(out, '\n'), 0o644))
}

// applyOrder is the order a spec's hosts must be applied in: the primary, the standbys, then
// the pgpool hosts (schema's ApplyOrder), for the e2e specs, whose backends are pg1-pg3.
var applyOrder = []string{"pg1", "pg2", "pg3", "pgpool"}

// checkHandoffFirst runs the named checks of the first apply by the hand-off; false when it
// failed, and the cluster is not there to check.
func (c *cluster) checkHandoffFirst(t *testing.T) bool {
	return check(t, c.via+"_first_run_changes_every_host", func(t *testing.T) {
		c.checkChanged(t, "the first run", c.firstApply, c.firstChanged, c.applyErr, func(string) bool { return true })
	}) && check(t, c.via+"_applies_in_the_clusters_order", func(t *testing.T) { c.checkApplyOrder(t, applyOrder) })
}

// checkHandoffCheck runs the hand-off's check (ansible-playbook --check, deploy.sh --dry-run)
// on the applied cluster, which must report and change nothing, then on the bundle of a changed
// spec, which must report the pgpool host's change and change nothing either.
func (c *cluster) checkHandoffCheck(t *testing.T) {
	dry := func(t *testing.T, bundle string) (string, map[string]int, error) {
		if c.via == "deploy" {
			return c.deploy(t, bundle, "--dry-run")
		}
		return c.ansible(t, bundle, bundle != "", []string{"--check"})
	}
	check(t, c.via+"_check_on_the_applied_cluster_changes_nothing", func(t *testing.T) {
		before := c.hostState(t)
		out, changed, err := dry(t, "")
		c.checkChanged(t, "the check", out, changed, err, func(string) bool { return false })
		if c.via == "deploy" && !strings.HasSuffix(strings.TrimSpace(out), "deploy: nothing to change") {
			t.Errorf("deploy.sh --dry-run on the applied cluster:\n%s", out)
		}
		compareState(t, "the check", before, c.hostState(t))
	})
	check(t, c.via+"_check_shows_a_spec_change_without_making_it", func(t *testing.T) {
		bundle := c.changedSpec(t)
		before := c.hostState(t)
		out, changed, err := dry(t, bundle)
		c.checkChanged(t, "the check of the changed spec", out, changed, err, func(h string) bool { return h == "pgpool" })
		if !strings.Contains(out, "would: ") || !strings.Contains(out, "pgpool.conf") {
			t.Errorf("the check of the changed spec does not show setup.sh's would-be change of pgpool.conf:\n%s", out)
		}
		compareState(t, "the check of the changed spec", before, c.hostState(t))
	})
}

// checkHandoffLast: a second apply changes nothing (Ansible: with the secrets from an Ansible
// Vault file this time; deploy.sh: by scp, with rsync gone from the controller), and no secret
// is left anywhere the apply put one.
func (c *cluster) checkHandoffLast(t *testing.T) {
	check(t, c.via+"_second_run_changes_nothing", func(t *testing.T) {
		var (
			out     string
			changed map[string]int
			err     error
		)
		if c.via == "deploy" {
			// rsync missing on this side: /dev/null over it in the controller's own mount
			// namespace (nothing else sees it), so deploy.sh copies by scp.
			c.ctl.h.mustRun(t, time.Minute, "root", "mount", "--bind", "/dev/null", "/usr/bin/rsync")
			out, changed, err = c.deploy(t, "")
			c.ctl.h.mustRun(t, time.Minute, "root", "umount", "/usr/bin/rsync")
			if !strings.Contains(out, " by scp") {
				t.Errorf("deploy.sh did not copy by scp with rsync missing here")
			}
		} else {
			out, changed, err = c.ansible(t, "", true, nil)
		}
		c.checkChanged(t, "the second run", out, changed, err, func(string) bool { return false })
	})
	check(t, "no_secret_left_on_any_host", c.checkNoSecretLeft)
}
