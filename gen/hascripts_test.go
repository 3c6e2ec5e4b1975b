package gen

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pgpoolgen/gen/fixture"
	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
)

// Tests of the HA scripts: every script of every golden spec and of a matrix of versions passes
// bash -n and shellcheck; the argument handling follows each pgpool-II version; and the scripts
// run against stub programs (ssh, pg_ctl, psql, …) that log their calls and never touch the
// network.

var haEnv = schema.Env{
	LookupEnv: func(string) (string, bool) { return "test-password", true },
	ReadFile:  os.ReadFile,
}

// ---------------------------------------------------------------------------------------------
// Specs

// haSpec describes an in-memory spec: a pgpool host and three backends (pg1 the primary).
type haSpec struct {
	pgpool, pg string
	native     bool
	root       string // when set, every layout path and data directory lies under root
	knownHosts bool   // give every host a host key
	noSlots    bool   // [postgresql] replication_slots = false
}

// sshKeyLine is an OpenSSH ed25519 public key made from seed, so that every host has its own
// (the name gen's tests know fixture.SSHKey by).
var sshKeyLine = fixture.SSHKey

func (s haSpec) toml() string {
	var b strings.Builder
	mode := "streaming_replication"
	if s.native {
		mode = "native_replication"
	}
	fmt.Fprintf(&b, "[cluster]\nname = \"ha-test\"\nmode = %q\npgpool_version = %q\npostgresql_version = %q\n\n", mode, s.pgpool, s.pg)
	b.WriteString("[layout]\npreset = \"source\"\n")
	if s.root != "" {
		for _, kv := range [][2]string{
			{"pgpool_bin_dir", "pgpool/bin"}, {"pgpool_config_dir", "pgpool/etc"}, {"pgpool_run_dir", "run"},
			{"pgpool_socket_dir", "run"}, {"pcp_socket_dir", "run"}, {"pgpool_log_dir", "run"},
			{"postgresql_bin_dir", "pgsql/bin"}, {"postgresql_lib_dir", "pgsql/lib"},
			{"data_directory", "data/default"}, {"home", "home"},
		} {
			fmt.Fprintf(&b, "%s = %q\n", kv[0], s.root+"/"+kv[1])
		}
	}
	b.WriteString("\n[install]\nmethod = \"none\"\n\n[ssh]\nport = 2222\nconnect_timeout = 7\ncommand_timeout = 120\ncopy_timeout = 120\n")
	hosts := []struct{ name, addr, role string }{
		{"pgpool1", "127.0.0.10", "pgpool"},
		{"pg1", "127.0.0.11", "primary"},
		{"pg2", "127.0.0.12", "standby"},
		{"pg3", "127.0.0.13", "standby"},
	}
	for i, h := range hosts {
		role := h.role
		if s.native && role != "pgpool" {
			role = "backend"
		}
		fmt.Fprintf(&b, "\n[[host]]\nname = %q\naddress = %q\nroles = [%q]\nssh_key = %q\n", h.name, h.addr, role, sshKeyLine("user@"+h.name))
		if s.knownHosts {
			fmt.Fprintf(&b, "host_key = %q\n", sshKeyLine("host@"+h.name))
		}
		if role != "pgpool" {
			fmt.Fprintf(&b, "port = %d\n", 5431+i)
			if s.root != "" {
				fmt.Fprintf(&b, "data_directory = %q\n", s.root+"/data/"+h.name)
			}
			if !pgpool.MustVersion(s.pgpool).Less(pgpool.V41) {
				fmt.Fprintf(&b, "application_name = %q\n", "app-"+h.name)
			}
		}
	}
	b.WriteString("\n[[pcp_user]]\nname = \"pgpool\"\npassword_env = \"PCP_PASSWORD\"\n\n[[hba]]\naddress = \"127.0.0.0/8\"\nmethod = \"trust\"\n")
	if s.noSlots {
		b.WriteString("\n[postgresql]\nreplication_slots = false\n")
	}
	return b.String()
}

func (s haSpec) load(t *testing.T) *schema.Cluster {
	t.Helper()
	c, err := schema.Load("cluster.toml", []byte(s.toml()), haEnv)
	if err != nil {
		t.Fatalf("spec %+v:\n%v\n%s", s, err, s.toml())
	}
	return c
}

func goldenSpecs(t *testing.T) map[string]*schema.Cluster {
	t.Helper()
	files, err := filepath.Glob("../golden/*/cluster.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden specs: %v", err)
	}
	specs := map[string]*schema.Cluster{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := schema.Load(f, src, haEnv)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		specs[filepath.Base(filepath.Dir(f))] = c
	}
	return specs
}

// haFiles renders every HA script of the cluster.
func haFiles(c *schema.Cluster) []*File {
	var files []*File
	for _, h := range c.Hosts {
		if h.Pgpool {
			files = append(files, haPgpoolScripts(c, h)...)
		}
		if h.Backend {
			files = append(files, haBackendScripts(c, h)...)
		}
	}
	return files
}

func scriptOf(t *testing.T, c *schema.Cluster, host, name string) *File {
	t.Helper()
	for _, f := range haFiles(c) {
		if f.Host == host && filepath.Base(f.Dest) == name {
			return f
		}
	}
	t.Fatalf("no %s for host %s", name, host)
	return nil
}

var (
	lintPgpool = []string{"3.1", "3.4", "3.5", "4.0", "4.1", "4.2", "4.3", "4.7"}
	lintPG     = []string{"9.0", "9.1", "9.2", "9.6", "11", "12", "15"}
)

// lintSpecs covers every pgpool-II version of lintPgpool and every PostgreSQL version of
// lintPG in both modes, each with a different partner version (a full cross product takes
// minutes of shellcheck for little more).
func lintSpecs() []haSpec {
	var specs []haSpec
	for _, native := range []bool{false, true} {
		for i, pv := range lintPgpool {
			specs = append(specs, haSpec{pgpool: pv, pg: lintPG[i%len(lintPG)], native: native, knownHosts: i%2 == 0})
		}
		for i, pg := range lintPG {
			specs = append(specs, haSpec{pgpool: lintPgpool[(i+3)%len(lintPgpool)], pg: pg, native: native, knownHosts: i%2 == 1})
		}
	}
	return specs
}

// TestHAScriptsLint runs bash -n and shellcheck on every script of every golden spec, and of
// in-memory specs across pgpool-II and PostgreSQL versions in both modes.
func TestHAScriptsLint(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	write := func(label string, f *File) {
		p := filepath.Join(dir, label+"--"+f.Host+"--"+filepath.Base(f.Dest))
		if err := os.WriteFile(p, f.Data, 0o755); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for name, c := range goldenSpecs(t) {
		for _, f := range haFiles(c) {
			write("golden-"+name, f)
		}
	}
	for _, s := range lintSpecs() {
		c := s.load(t)
		label := fmt.Sprintf("pgpool%s-pg%s-%s", s.pgpool, s.pg, c.Mode)
		for _, f := range haFiles(c) {
			// The backends' scripts differ only in their own node: lint one backend's.
			if f.Host == "pgpool1" || f.Host == "pg1" {
				write(label, f)
			}
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		if out, err := exec.Command("bash", "-n", p).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", filepath.Base(p), err, out)
		}
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("shellcheck is not installed (apt-get install shellcheck)")
		}
		t.Skip("shellcheck is not installed; install it to lint the HA scripts")
	}
	// One shellcheck per CPU, each on a share of the files.
	procs := max(1, runtime.NumCPU())
	outs := make([][]byte, procs)
	errs := make([]error, procs)
	var wg sync.WaitGroup
	for i := range procs {
		var share []string
		for j := i; j < len(paths); j += procs {
			share = append(share, paths[j])
		}
		if len(share) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("shellcheck", append([]string{"-s", "bash", "-S", "style", "-f", "gcc"}, share...)...)
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range procs {
		if errs[i] != nil || len(outs[i]) > 0 {
			t.Errorf("shellcheck found problems (%v):\n%s", errs[i], outs[i])
		}
	}
	t.Logf("linted %d scripts", len(paths))
}

// TestHAScriptsFiles checks which scripts each host gets, where they go, their mode and owner.
func TestHAScriptsFiles(t *testing.T) {
	for _, tc := range []struct {
		pgpool       string
		native       bool
		pgpoolFiles  []string
		backendFiles []string
	}{
		{"3.1", false, []string{"failover.sh", "follow_master.sh"}, []string{"recovery_1st_stage", "pgpool_remote_start"}},
		{"4.1", false, []string{"failover.sh", "follow_master.sh"}, []string{"recovery_1st_stage", "pgpool_remote_start"}},
		{"4.2", false, []string{"failover.sh", "follow_primary.sh"}, []string{"recovery_1st_stage", "pgpool_remote_start"}},
		{"4.7", true, nil, []string{"recovery_1st_stage", "recovery_2nd_stage", "pgpool_remote_start"}},
	} {
		c := haSpec{pgpool: tc.pgpool, pg: "15", native: tc.native}.load(t)
		for _, h := range c.Hosts {
			var got []string
			var files []*File
			want := tc.backendFiles
			dir := h.DataDirectory
			if h.Pgpool {
				files, want, dir = haPgpoolScripts(c, h), tc.pgpoolFiles, c.Layout.PgpoolConfigDir
			} else {
				files = haBackendScripts(c, h)
			}
			for _, f := range files {
				got = append(got, filepath.Base(f.Dest))
				if f.Dest != dir+"/"+filepath.Base(f.Dest) || f.Host != h.Name || f.Mode != 0o755 ||
					f.Owner != c.Layout.User || f.Group != c.Layout.Group {
					t.Errorf("pgpool %s: %+v: want %s/…, host %s, 0755, %s:%s", tc.pgpool, f, dir, h.Name, c.Layout.User, c.Layout.Group)
				}
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("pgpool %s native=%v host %s: scripts %q, want %q", tc.pgpool, tc.native, h.Name, got, want)
			}
		}
	}
}

// TestHAScriptsDeterministic renders twice and checks the headers: no timestamps, no version
// of pgpoolgen, no build paths.
func TestHAScriptsDeterministic(t *testing.T) {
	dateLike := regexp.MustCompile(`20[0-9][0-9]-[01][0-9]-[0-3][0-9]`)
	wd, _ := os.Getwd()
	for name, c := range goldenSpecs(t) {
		a, b := haFiles(c), haFiles(c)
		for i := range a {
			if !bytes.Equal(a[i].Data, b[i].Data) {
				t.Errorf("%s: %s differs between two renderings", name, a[i].Dest)
			}
			text := string(a[i].Data)
			if !strings.HasPrefix(text, "#!/bin/bash\n") {
				t.Errorf("%s: %s does not start with #!/bin/bash", name, a[i].Dest)
			}
			if !strings.Contains(text, "generated by pgpoolgen from "+c.SpecName) {
				t.Errorf("%s: %s does not say it was generated by pgpoolgen from %s", name, a[i].Dest, c.SpecName)
			}
			if dateLike.MatchString(text) || strings.Contains(text, wd) || strings.Contains(text, "/work/") {
				t.Errorf("%s: %s holds a date or a build-machine path", name, a[i].Dest)
			}
			if strings.Contains(text, "StrictHostKeyChecking=no") || strings.Contains(text, "test-password") {
				t.Errorf("%s: %s turns host key checking off or holds a password", name, a[i].Dest)
			}
		}
	}
}

// TestHAScriptArgs checks the arguments each version's scripts read: the command line in the
// header is pgpool.conf's own, and the counts follow pgpool-II's escapes and pgpool_recovery().
func TestHAScriptArgs(t *testing.T) {
	for _, tc := range []struct {
		pgpool             string
		failover, follow   int
		recovery           int
		followParam        string
		recoveryLastArgLog string
	}{
		{"3.1", 8, 8, 3, "follow_master_command", "target_dir=${3-}"},
		{"3.4", 10, 10, 4, "follow_master_command", "main_port=${4-}"},
		{"4.0", 10, 10, 5, "follow_master_command", "target_id=${5-}"},
		{"4.1", 12, 10, 6, "follow_master_command", "target_port=${6-}"},
		{"4.2", 12, 10, 6, "follow_primary_command", "target_port=${6-}"},
		{"4.3", 12, 10, 7, "follow_primary_command", "main_host=${7-}"},
		{"4.7", 12, 10, 7, "follow_primary_command", "main_host=${7-}"},
	} {
		c := haSpec{pgpool: tc.pgpool, pg: "15"}.load(t)
		conf := string(pgpoolConf(c, c.Hosts[0]))
		fo := string(scriptOf(t, c, "pgpool1", "failover.sh").Data)
		fw := string(scriptOf(t, c, "pgpool1", c.FollowScript()).Data)
		rec := string(scriptOf(t, c, "pg2", "recovery_1st_stage").Data)
		nat := haSpec{pgpool: tc.pgpool, pg: "15", native: true}.load(t)
		rec2 := string(scriptOf(t, nat, "pg2", "recovery_2nd_stage").Data)
		for _, chk := range []struct {
			what, text, want string
		}{
			{"failover count", fo, fmt.Sprintf("readonly EXPECTED_ARGS=%d\n", tc.failover)},
			{"follow count", fw, fmt.Sprintf("readonly EXPECTED_ARGS=%d\n", tc.follow)},
			{"recovery count", rec, fmt.Sprintf("readonly EXPECTED_ARGS=%d\n", tc.recovery)},
			{"2nd stage count", rec2, fmt.Sprintf("readonly EXPECTED_ARGS=%d\n", tc.recovery)},
			{"failover log", fo, fmt.Sprintf("${%d-}\"\n", tc.failover)},
			{"follow log", fw, fmt.Sprintf("${%d-}\"\n", tc.follow)},
			{"recovery log", rec, tc.recoveryLastArgLog + "\"\n"},
		} {
			if !strings.Contains(chk.text, chk.want) {
				t.Errorf("pgpool %s: %s: want %q", tc.pgpool, chk.what, chk.want)
			}
		}
		// The header quotes pgpool.conf's own line.
		for _, line := range []string{
			"failover_command = '" + c.Layout.PgpoolConfigDir + "/failover.sh " + failoverArgs(c.Pgpool) + "'",
			tc.followParam + " = '" + c.Layout.PgpoolConfigDir + "/" + c.FollowScript() + " " + followArgs(c.Pgpool) + "'",
		} {
			if !strings.Contains(conf, "\n"+line+"\n") {
				t.Errorf("pgpool %s: pgpool.conf lacks %s", tc.pgpool, line)
			}
			if !strings.Contains(fo+fw, "#   "+line+"\n") {
				t.Errorf("pgpool %s: the scripts' headers lack %s", tc.pgpool, line)
			}
		}
		if got := len(strings.Fields(failoverArgs(c.Pgpool))); got != tc.failover {
			t.Errorf("pgpool %s: pgpool.conf passes %d failover arguments, want %d", tc.pgpool, got, tc.failover)
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Running the scripts against stubs

// stubs are the fake programs. Every one appends "<host> <program> <arguments>" to $CALLS,
// where host is the ssh destination it runs "on" (FAKE_HOST) or "local". State lives in
// files: a data directory with postmaster.pid is running; $STATE/up-HOST-PORT makes pg_isready
// answer; $STATE/role-HOST-PORT holds what psql answers to pg_is_in_recovery(). Without -h,
// HOST is the host the stub runs on; $STATE/unreachable-HOST makes ssh fail to connect.
var stubs = map[string]string{
	"ssh": `
log_call ssh "$@"
while (($#)); do
	case $1 in
	-o | -p | -l | -i) shift 2 ;;
	-T | -n | -q) shift ;;
	-*) echo "fake ssh: unexpected option $1" >&2; exit 255 ;;
	*) break ;;
	esac
done
host=$1
shift
if [[ -e $STATE/unreachable-$host ]]; then
	echo "ssh: connect to host $host port 22: Connection timed out" >&2
	exit 255
fi
FAKE_HOST=$host exec bash -c "$*"
`,
	"pg_ctl": `
log_call pg_ctl "$@"
dir= action=
while (($#)); do
	case $1 in
	-D | -m | -t | -l | -o) [[ $1 == -D ]] && dir=$2; shift 2 ;;
	-w | -W) shift ;;
	*) action=$1; shift ;;
	esac
done
case $action in
status) [[ -f $dir/postmaster.pid ]] || exit 3 ;;
stop) [[ -f $dir/postmaster.pid ]] || exit 1; rm "$dir/postmaster.pid" ;;
start) [[ -f $dir/PG_VERSION && ! -f $dir/postmaster.pid ]] || exit 1; echo 1 >"$dir/postmaster.pid" ;;
promote) [[ -f $dir/postmaster.pid ]] || exit 1 ;;
*) exit 1 ;;
esac
`,
	"pg_isready": `
log_call pg_isready "$@"
host= port=
while (($#)); do
	case $1 in
	-h) host=$2; shift 2 ;;
	-p) port=$2; shift 2 ;;
	*) shift ;;
	esac
done
host=${host:-${FAKE_HOST:-local}} # the Unix socket: this host's server
[[ -e $STATE/up-$host-$port ]] || exit 2
`,
	"psql": `
log_call psql "$@"
host= port= sql=
while (($#)); do
	case $1 in
	-h) host=$2; shift 2 ;;
	-p) port=$2; shift 2 ;;
	-c) sql=$2; shift 2 ;;
	*) shift ;;
	esac
done
host=${host:-${FAKE_HOST:-local}}
case $sql in
*pg_current_wal_lsn* | *pg_current_xlog_location*) echo 0/3000000 ;;
*"state = 'streaming'"*)
	# The follow script's wait: the standby streams from the poll after $FAKE_STREAMS_AFTER
	# ("never": not at all); polls are counted in $STATE/polls.
	polls=$(($(cat "$STATE/polls" 2>/dev/null || echo 0) + 1))
	echo "$polls" >"$STATE/polls"
	case ${FAKE_STREAMS_AFTER:-0} in
	never) echo 0 ;;
	*) if ((polls > ${FAKE_STREAMS_AFTER:-0})); then echo 1; else echo 0; fi ;;
	esac
	;;
*pg_stat_replication*) echo "${FAKE_CAUGHT_UP-1}" ;;
*_replication_slot*)
	[[ ${FAKE_SLOT_FAILS-} ]] && { echo "psql: ERROR:  replication slots can only be used if max_replication_slots > 0" >&2; exit 1; }
	slot=${sql#*"slot_name = '"}
	slot=$STATE/slot-$host-$port-${slot%%"'"*}
	case $sql in
	*pg_create_physical_replication_slot*) echo x >"$slot" ;;
	*pg_drop_replication_slot*) rm -f "$slot" ;;
	esac
	;;
esac
if [[ $sql == *_receive_l* ]]; then
	# failover.sh's survey: the role, then the WAL position in $STATE/lsn-HOST-PORT (none: NULL).
	[[ ${FAKE_PSQL_STARTING-} ]] && { echo "psql: FATAL:  the database system is starting up" >&2; exit 2; }
	[[ -f $STATE/role-$host-$port ]] || { echo "psql: could not connect to server: Connection refused" >&2; exit 2; }
	printf '%s %s\n' "$(cat "$STATE/role-$host-$port")" "$(cat "$STATE/lsn-$host-$port" 2>/dev/null)"
	exit 0
fi
if [[ $sql == *pg_is_in_recovery* ]]; then
	[[ ${FAKE_PSQL_STARTING-} ]] && { echo "psql: FATAL:  the database system is starting up" >&2; exit 2; }
	[[ -f $STATE/role-$host-$port ]] || { echo "psql: could not connect to server: Connection refused" >&2; exit 2; }
	cat "$STATE/role-$host-$port"
fi
`,
	// A copy brings the source's port, an old primary_conninfo and the source's scripts.
	"pg_basebackup": `
log_call pg_basebackup "$@"
dir= port=
while (($#)); do
	case $1 in
	-D) dir=$2; shift 2 ;;
	-p) port=$2; shift 2 ;;
	-h | -U | -X | -c) shift 2 ;;
	*) shift ;;
	esac
done
[[ ${FAKE_BASEBACKUP_FAILS-} ]] && { echo "pg_basebackup: error: connection to server failed" >&2; exit 1; }
[[ -d $dir && -z $(ls -A "$dir") ]] || { echo "pg_basebackup: directory $dir exists but is not empty" >&2; exit 1; }
echo 15 >"$dir/PG_VERSION"
printf 'max_connections = 100\nport = %s\n' "$port" >"$dir/postgresql.conf"
printf "# Do not edit this file manually!\nprimary_conninfo = 'host=old'\nprimary_slot_name = 'stale'\n" >"$dir/postgresql.auto.conf"
echo "# the source node's copy" >"$dir/recovery_1st_stage"
`,
	"pg_rewind": `
log_call pg_rewind "$@"
[[ ${FAKE_REWIND_FAILS-} ]] && { echo "pg_rewind: fatal: target server needs to use either data checksums or wal_log_hints = on" >&2; exit 1; }
dir= src=
for a in "$@"; do
	case $a in
	--source-server=*) src=${a#*=} ;;
	esac
done
while (($#)); do
	case $1 in
	-D) dir=$2; shift 2 ;;
	*) shift ;;
	esac
done
port=${src#*port=}
printf 'port = %s\n' "${port%% *}" >"$dir/postgresql.conf"
printf "primary_conninfo = 'host=old'\nprimary_slot_name = 'stale'\n" >"$dir/postgresql.auto.conf"
echo "# the source node's copy" >"$dir/recovery_1st_stage"
`,
	"pcp_attach_node": `
log_call pcp_attach_node "$@"
`,
	// sudo -n /usr/bin/systemctl start|stop UNIT, for the unit $STATE/unit-HOST-UNIT names the
	// data directory of; $STATE/outside-HOST: the server there was started beside the unit,
	// which does not stop it. sudo -n /usr/bin/ss -K ... does nothing ($FAKE_SS_FAILS: fails).
	"sudo": `
log_call sudo "$@"
if [[ $1 == -n && $2 == /usr/bin/ss && $3 == -K ]]; then
	[[ -z ${FAKE_SS_FAILS-} ]] || { echo "sudo: a password is required" >&2; exit 1; }
	exit 0
fi
[[ $1 == -n && $2 == /usr/bin/systemctl && $# == 4 ]] || { echo "fake sudo: not allowed: $*" >&2; exit 1; }
dir=$(cat "$STATE/unit-$FAKE_HOST-$4" 2>/dev/null) || { echo "Failed to $3 $4: Unit $4 not found." >&2; exit 5; }
case $3 in
start) [[ -f $dir/PG_VERSION ]] || exit 1; echo 1 >"$dir/postmaster.pid" ;;
stop) [[ -e $STATE/outside-$FAKE_HOST ]] || rm -f "$dir/postmaster.pid" ;;
*) exit 1 ;;
esac
`,
}

const stubPrelude = `#!/bin/bash
set -u
log_call() {
	local prog=$1
	shift
	printf '%s %s %s\n' "${FAKE_HOST:-local}" "$prog" "$*" >>"$CALLS"
}
`

// haRig is a cluster laid out under a temporary folder, its scripts installed, with stubs.
type haRig struct {
	t     *testing.T
	root  string
	c     *schema.Cluster
	calls string
	state string
	path  string
}

func newRig(t *testing.T, s haSpec) *haRig {
	t.Helper()
	root := t.TempDir()
	s.root = root
	r := &haRig{t: t, root: root, c: s.load(t), calls: root + "/calls.log", state: root + "/state", path: root + "/path"}
	for _, d := range []string{r.state, r.path, r.c.Layout.PostgresBinDir, r.c.Layout.PgpoolBinDir, r.c.Layout.Home, root + "/tmp"} {
		r.mkdir(d)
	}
	for name, body := range stubs {
		dir := r.c.Layout.PostgresBinDir
		switch name {
		case "ssh", "sudo":
			dir = r.path
		case "pcp_attach_node":
			dir = r.c.Layout.PgpoolBinDir
		}
		r.write(dir+"/"+name, stubPrelude+body, 0o755)
	}
	for _, f := range haFiles(r.c) {
		r.write(f.Dest, string(f.Data), f.Mode)
	}
	return r
}

func (r *haRig) mkdir(d string) {
	if err := os.MkdirAll(d, 0o755); err != nil {
		r.t.Fatal(err)
	}
}

func (r *haRig) write(p, data string, mode os.FileMode) {
	r.mkdir(filepath.Dir(p))
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		r.t.Fatal(err)
	}
}

func (r *haRig) read(p string) string {
	data, err := os.ReadFile(p)
	if err != nil {
		r.t.Fatal(err)
	}
	return string(data)
}

func (r *haRig) node(name string) *schema.Host {
	for _, b := range r.c.Backends {
		if b.Name == name {
			return b
		}
	}
	r.t.Fatalf("no backend %s", name)
	return nil
}

// pgdata makes a node's data directory, running or not, as a standby of pg1 or a primary.
func (r *haRig) pgdata(name string, running bool) string {
	h := r.node(name)
	dir := h.DataDirectory
	r.write(dir+"/PG_VERSION", "15\n", 0o600)
	r.write(dir+"/postgresql.conf", fmt.Sprintf("max_connections = 100\nport = %d\n", h.Port), 0o600)
	r.write(dir+"/postgresql.auto.conf", "primary_conninfo = 'host=127.0.0.11 port=5432 user=repl'\n", 0o600)
	if running {
		r.write(dir+"/postmaster.pid", "1\n", 0o600)
	}
	return dir
}

// answers makes node name's server answer pg_isready and psql with role ("t" standby, "f" primary).
func (r *haRig) answers(name, role string) {
	h := r.node(name)
	r.write(fmt.Sprintf("%s/up-%s-%d", r.state, h.Address, h.Port), "", 0o644)
	r.write(fmt.Sprintf("%s/role-%s-%d", r.state, h.Address, h.Port), role+"\n", 0o644)
}

// run runs an installed script with args and returns its exit status, its log and the calls.
func (r *haRig) run(script string, env []string, args ...string) (status int, stderr string, calls []string) {
	r.t.Helper()
	_ = os.Remove(r.calls)
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "PATH="+r.path+":"+os.Getenv("PATH"), "CALLS="+r.calls, "STATE="+r.state, "TMPDIR="+r.root+"/tmp")
	cmd.Env = append(cmd.Env, env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	cmd.Stdout = &errb
	err := cmd.Run()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			status = ee.ExitCode()
		} else {
			r.t.Fatal(err)
		}
	}
	if data, err := os.ReadFile(r.calls); err == nil {
		calls = strings.Split(strings.TrimSpace(string(data)), "\n")
	}
	return status, errb.String(), calls
}

func (r *haRig) pgpoolScript(name string) string { return r.c.Layout.PgpoolConfigDir + "/" + name }

func (r *haRig) nodeScript(node, name string) string { return r.node(node).DataDirectory + "/" + name }

// failoverArgs are what pgpool-II passes when node failed and newMain takes over; pg1 (node 0)
// was the primary.
func (r *haRig) failoverArgs(failed, newMain string) []string {
	f := r.node(failed)
	n := r.node(newMain)
	oldPrimary := r.node("pg1")
	args := []string{fmt.Sprint(f.NodeID), f.Address, fmt.Sprint(f.Port), f.DataDirectory,
		fmt.Sprint(n.NodeID), n.Address, "0", "0", fmt.Sprint(n.Port), n.DataDirectory,
		oldPrimary.Address, fmt.Sprint(oldPrimary.Port)}
	return args[:len(strings.Fields(failoverArgs(r.c.Pgpool)))]
}

func matching(calls []string, pattern string) []string {
	re := regexp.MustCompile(pattern)
	var out []string
	for _, c := range calls {
		if re.MatchString(c) {
			out = append(out, c)
		}
	}
	return out
}

// inOrder reports whether each pattern matches a call after the previous one's.
func inOrder(calls []string, patterns ...string) bool {
	i := 0
	for _, c := range calls {
		if i < len(patterns) && regexp.MustCompile(patterns[i]).MatchString(c) {
			i++
		}
	}
	return i == len(patterns)
}

func (r *haRig) expect(ok bool, format string, args ...any) {
	r.t.Helper()
	if !ok {
		r.t.Errorf(format, args...)
	}
}

func report(status int, log string, calls []string) string {
	return fmt.Sprintf("exit status %d\n--- log:\n%s--- calls:\n%s", status, log, strings.Join(calls, "\n"))
}

func TestFailoverPrimaryFailed(t *testing.T) {
	for _, tc := range []struct {
		pgpool, pg, promote, survey string
	}{
		{"4.3", "15", `^127\.0\.0\.12 pg_ctl -D \S+/data/pg2 -w promote$`, `pg_last_wal_receive_lsn\(\), pg_last_wal_replay_lsn\(\)`},
		{"3.1", "9.1", `^127\.0\.0\.12 pg_ctl -D \S+/data/pg2 promote$`, `pg_last_xlog_receive_location\(\), pg_last_xlog_replay_location\(\)`},
	} {
		t.Run(tc.pgpool, func(t *testing.T) {
			r := newRig(t, haSpec{pgpool: tc.pgpool, pg: tc.pg})
			r.pgdata("pg2", true)
			r.answers("pg2", "t")
			r.lsn("pg2", "0/5000000")
			args := r.failoverArgs("pg1", "pg2")
			status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, args...)
			r.expect(status == 0, "want exit 0:\n%s", report(status, log, calls))
			r.expect(len(matching(calls, `promote`)) == 1 && len(matching(calls, tc.promote)) == 1,
				"want one promote, %s:\n%s", tc.promote, report(status, log, calls))
			// The fence and the survey of the standbys are quick calls; the promotion, and the
			// probe of the old primary from the new main node started beside the fence, are not.
			ssh := `^local ssh -T -o BatchMode=yes -o ConnectTimeout=%d -p 2222 -o StrictHostKeyChecking=accept-new -l postgres 127\.0\.0\.%d timeout %d bash -s$`
			probes := 0 // pg_isready came in 9.3
			if r.c.PostgreSQL.AtLeast(9, 3) {
				probes = 1
			}
			for _, c := range []struct{ connect, host, timeout, n int }{{3, 11, 10, 1}, {3, 12, 10, 1}, {3, 13, 10, 1}, {7, 12, 120, 1 + probes}} {
				r.expect(len(matching(calls, fmt.Sprintf(ssh, c.connect, c.host, c.timeout))) == c.n,
					"want %d ssh call to 127.0.0.%d with ConnectTimeout=%d and timeout %d:\n%s", c.n, c.host, c.connect, c.timeout, report(status, log, calls))
			}
			r.expect(len(matching(calls, `ssh`)) == 4+probes, "want %d ssh calls:\n%s", 4+probes, report(status, log, calls))
			r.expect(len(matching(calls, `^127\.0\.0\.12 psql -X -A -t -q -w -F   -p 5433 -U postgres -d postgres -c SELECT pg_is_in_recovery\(\), COALESCE\(`+tc.survey+`\)$`)) == 1,
				"the new main node is asked whether it is in recovery and for its WAL:\n%s", report(status, log, calls))
			r.expect(strings.Contains(log, "failover.sh on 127.0.0.12: promoting PostgreSQL on"), "remote steps are logged:\n%s", log)
			r.expect(regexp.MustCompile(`(?m)^20\d\d-\d\d-\d\d \d\d:\d\d:\d\d failover\.sh: `).MatchString(log), "log lines carry a timestamp:\n%s", log)
		})
	}
}

// lsn makes the stub psql of node name answer lsn as the WAL it has received.
func (r *haRig) lsn(name, lsn string) {
	h := r.node(name)
	r.write(fmt.Sprintf("%s/lsn-%s-%d", r.state, h.Address, h.Port), lsn+"\n", 0o644)
}

// unfenceable makes fencing node name fail on a host that ssh reaches: its data directory is
// gone, so that no restart can be made to come back as a standby.
func (r *haRig) unfenceable(name string) {
	if err := os.RemoveAll(r.node(name).DataDirectory); err != nil {
		r.t.Fatal(err)
	}
}

// slot is the state file of the stub psql for the replication slot name on the server at
// host:port; host is "local" for psql on the host the script runs on.
func (r *haRig) slot(host string, port int, name string) string {
	return fmt.Sprintf("%s/slot-%s-%d-%s", r.state, host, port, name)
}

func (r *haRig) exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestFailoverStandbyFailed(t *testing.T) {
	// With slots, the failed standby's slot is dropped on the primary, through its host.
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	r.write(r.slot("127.0.0.11", 5432, "app_pg3"), "x", 0o644)
	args := r.failoverArgs("pg3", "pg1")
	status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, args...)
	r.expect(status == 0 && len(calls) == 2 && inOrder(calls,
		`^local ssh .* -l postgres 127\.0\.0\.11 timeout 120 bash -s$`,
		`^127\.0\.0\.11 psql -X -q -A -t -w -p 5432 -U postgres -d postgres -c SELECT pg_drop_replication_slot\(slot_name\) FROM pg_replication_slots WHERE slot_name = 'app_pg3'$`,
	), "a failed standby: want exit 0 and its slot dropped on the primary:\n%s", report(status, log, calls))
	r.expect(!r.exists(r.slot("127.0.0.11", 5432, "app_pg3")), "the slot is still there:\n%s", report(status, log, calls))
	r.expect(strings.Contains(log, "nothing to promote"), "log says why:\n%s", log)

	// A slot that cannot be dropped never fails the failover.
	for _, env := range [][]string{{"FAKE_SLOT_FAILS=1"}, nil} {
		if env == nil {
			r.write(r.state+"/unreachable-127.0.0.11", "", 0o644)
		}
		status, log, calls = r.run(r.pgpoolScript("failover.sh"), env, args...)
		r.expect(status == 0 && strings.Contains(log, "WARNING: could not drop the replication slot app_pg3") && len(matching(calls, `promote`)) == 0,
			"%v: want exit 0 and a warning:\n%s", env, report(status, log, calls))
	}

	// Without slots (turned off, or before PostgreSQL 9.4) there is nothing to do.
	for _, s := range []haSpec{{pgpool: "4.3", pg: "15", noSlots: true}, {pgpool: "3.4", pg: "9.2"}} {
		r := newRig(t, s)
		status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg3", "pg1")...)
		r.expect(status == 0 && len(calls) == 0, "%+v, a failed standby: want exit 0 and no call:\n%s", s, report(status, log, calls))
	}
}

func TestFailoverNoNewMain(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	// %H, %r, %R are empty: the shell drops them.
	status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, "0", "127.0.0.11", "5432", r.node("pg1").DataDirectory, "-1", "0", "0", "127.0.0.11", "5432")
	r.expect(status == 0 && len(calls) == 0, "new main -1: want exit 0 and no call:\n%s", report(status, log, calls))
}

func TestFailoverOldPrimaryStillPrimary(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	r.pgdata("pg2", true)
	r.answers("pg2", "t")
	r.answers("pg1", "f")
	r.unfenceable("pg1")
	refused := func(what string) {
		t.Helper()
		status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
		r.expect(status == 1 && len(matching(calls, `promote`)) == 0 && strings.Contains(log, "REFUSING TO PROMOTE"),
			"%s: want a loud refusal and no promotion:\n%s", what, report(status, log, calls))
		r.expect(strings.Contains(log, "WARNING: could not fence the old primary, node 0"), "%s: the failed fence is logged:\n%s", what, log)
		r.expect(len(matching(calls, `^127\.0\.0\.12 pg_isready -q -t 5 -h 127\.0\.0\.11 -p 5432$`)) == 1,
			"%s: the old primary is looked for from the new main host:\n%s", what, report(status, log, calls))
	}
	refused("the old primary answers as a primary")

	// It answers, but its role cannot be read.
	_ = os.Remove(r.state + "/role-127.0.0.11-5432")
	refused("an old primary whose role cannot be read")

	// It answers, but its host cannot be reached over ssh.
	r.write(r.state+"/unreachable-127.0.0.11", "", 0o644)
	refused("an old primary whose host cannot be reached")
}

func TestFailoverOldPrimaryBefore93(t *testing.T) {
	// No pg_isready: the old primary's host is asked directly.
	r := newRig(t, haSpec{pgpool: "3.4", pg: "9.2"})
	r.pgdata("pg2", true)
	r.answers("pg2", "t")
	r.answers("pg1", "f")
	r.unfenceable("pg1")
	status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
	r.expect(status == 1 && len(matching(calls, `promote`)) == 0 && strings.Contains(log, "REFUSING TO PROMOTE"),
		"an old primary that answers as a primary:\n%s", report(status, log, calls))
	r.expect(len(matching(calls, `pg_isready`)) == 0, "pg_isready on 9.2:\n%s", report(status, log, calls))
	// A server that answers with an error (starting up after a crash) may become a primary
	// again: no promotion.
	status, log, calls = r.run(r.pgpoolScript("failover.sh"), []string{"FAKE_PSQL_STARTING=1"}, r.failoverArgs("pg1", "pg2")...)
	r.expect(status == 1 && len(matching(calls, `promote`)) == 0 && strings.Contains(log, "the database system is starting up") &&
		strings.Contains(log, "its role cannot be read"), "an old primary that is starting up:\n%s", report(status, log, calls))
	// A host that cannot be reached counts as down.
	r.write(r.state+"/unreachable-127.0.0.11", "", 0o644)
	status, log, calls = r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
	r.expect(status == 0 && len(matching(calls, `^127\.0\.0\.12 pg_ctl -D \S+ promote$`)) == 1,
		"an unreachable old primary:\n%s", report(status, log, calls))
}

func TestFailoverNewMainAlreadyPrimary(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	r.pgdata("pg2", true)
	r.answers("pg2", "f")
	status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
	r.expect(status == 0 && len(matching(calls, `promote`)) == 0, "a new main node that is a primary already is not promoted:\n%s", report(status, log, calls))
}

func TestFailoverBadArguments(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	for _, args := range [][]string{
		{},
		{"0;touch x", "h", "1", "/d", "1", "h", "0", "0"},
		{"0", "h", "1", "/d", "07", "h", "0", "0"},
		{"0", "h", "1", "/d", "3", "h", "0", "0"},
		{"0", "h", "1", "/d", "1", "h", "0", "$(id)"},
		{"0", "h", "1", "/d", "1"},
	} {
		status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, args...)
		r.expect(status == 1 && len(calls) == 0, "arguments %q: want exit 1 and no call:\n%s", args, report(status, log, calls))
	}
	// More arguments than the version passes: a warning, and the failover goes on.
	r.pgdata("pg2", true)
	r.answers("pg2", "t")
	status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, append(r.failoverArgs("pg1", "pg2"), "extra")...)
	r.expect(status == 0 && strings.Contains(log, "WARNING") && len(matching(calls, `promote`)) == 1, "an extra argument:\n%s", report(status, log, calls))
}

func TestFailoverKnownHosts(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15", knownHosts: true})
	r.pgdata("pg2", true)
	r.answers("pg2", "t")
	r.lsn("pg2", "0/5000000")
	status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
	// Every call, the quick ones too (fence, survey; ConnectTimeout=3).
	want := `^local ssh -T -o BatchMode=yes -o ConnectTimeout=[37] -p 2222 -o StrictHostKeyChecking=yes -o UserKnownHostsFile=` +
		regexp.QuoteMeta(r.c.Layout.Home+"/.ssh/pgpoolgen_known_hosts") + ` -l postgres 127\.0\.0\.1[123] timeout (10|120) bash -s$`
	r.expect(status == 0 && len(matching(calls, want)) == 5 && len(matching(calls, `ssh`)) == 5, "strict host keys:\n%s", report(status, log, calls))
}

// standby makes pg3 a running standby of pg1 holding its own recovery scripts, as installed.
func (r *haRig) standby() string {
	dir := r.pgdata("pg3", true)
	r.write(dir+"/recovery_1st_stage", string(scriptOf(r.t, r.c, "pg3", "recovery_1st_stage").Data), 0o755)
	return dir
}

func (r *haRig) followArgs(node, primary string) []string {
	n, p := r.node(node), r.node(primary)
	args := []string{fmt.Sprint(n.NodeID), n.Address, fmt.Sprint(n.Port), n.DataDirectory,
		fmt.Sprint(p.NodeID), p.Address, "0", "0", fmt.Sprint(p.Port), p.DataDirectory}
	return args[:len(strings.Fields(followArgs(r.c.Pgpool)))]
}

// checkStandbyOf checks the configuration of a data directory that follows primary, through
// the replication slot slot ("": none).
func (r *haRig) checkStandbyOf(dir, primary, app, slot string, port int, recoveryConf bool) {
	r.t.Helper()
	p := r.node(primary)
	conninfo := fmt.Sprintf("primary_conninfo = 'host=%s port=%d user=repl application_name=%s'", p.Address, p.Port, app)
	slotLine := ""
	if slot != "" {
		slotLine = "primary_slot_name = '" + slot + "'\n"
	}
	if recoveryConf {
		rc := r.read(dir + "/recovery.conf")
		r.expect(rc == "standby_mode = 'on'\n"+conninfo+"\n"+slotLine+"recovery_target_timeline = 'latest'\n", "recovery.conf:\n%s", rc)
	} else {
		auto := r.read(dir + "/postgresql.auto.conf")
		r.expect(strings.Count(auto, "primary_conninfo") == 1 && strings.Contains(auto, conninfo+"\n"+slotLine), "postgresql.auto.conf, want %s%s:\n%s", conninfo, slotLine, auto)
		r.expect(strings.Count(auto, "primary_slot_name") == strings.Count(slotLine, "primary_slot_name"), "postgresql.auto.conf, want %q as the only slot:\n%s", slot, auto)
		_, err := os.Stat(dir + "/standby.signal")
		r.expect(err == nil, "no standby.signal in %s", dir)
	}
	conf := r.read(dir + "/postgresql.conf")
	r.expect(strings.Count(conf, "port =") == 1 && strings.Contains(conf, fmt.Sprintf("port = %d\n", port)), "postgresql.conf, want port = %d:\n%s", port, conf)
	own := r.read(dir + "/recovery_1st_stage")
	// The copy brings the source's recovery scripts, which are the same on every node: kept.
	r.expect(strings.Contains(own, "the source node's copy"), "the copied recovery_1st_stage was not kept:\n%.200s", own)
}

func TestFollowRewind(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	dir := r.standby()
	status, log, calls := r.run(r.pgpoolScript("follow_primary.sh"), nil, r.followArgs("pg3", "pg2")...)
	r.expect(status == 0, "want exit 0:\n%s", report(status, log, calls))
	r.expect(inOrder(calls,
		`^local ssh .* -l postgres 127\.0\.0\.13 timeout 120 bash -s$`,
		`^127\.0\.0\.13 pg_ctl -D `+regexp.QuoteMeta(dir)+` status$`,
		`^local ssh .* -l postgres 127\.0\.0\.12 timeout 120 bash -s$`,
		`^127\.0\.0\.12 psql -X -q -w -p 5433 -U postgres -d postgres -c CHECKPOINT$`,
		`^127\.0\.0\.12 psql -X -q -A -t -w -p 5433 -U postgres -d postgres -c SELECT pg_create_physical_replication_slot\('app_pg3', true\) WHERE NOT EXISTS \(SELECT 1 FROM pg_replication_slots WHERE slot_name = 'app_pg3'\)$`,
		`^127\.0\.0\.13 pg_ctl -D `+regexp.QuoteMeta(dir)+` -m fast -w -t 60 stop$`,
		`^127\.0\.0\.13 pg_rewind -D `+regexp.QuoteMeta(dir)+` --source-server=host=127\.0\.0\.12 port=5433 user=rewind dbname=postgres$`,
		`^127\.0\.0\.13 pg_ctl -D `+regexp.QuoteMeta(dir)+` -l `+regexp.QuoteMeta(r.c.Layout.Home)+`/pgpoolgen-pg3\.log -w start$`,
		`^local pcp_attach_node -h localhost -p 9898 -U pgpool -w -n 2$`,
	), "calls out of order:\n%s", report(status, log, calls))
	r.expect(len(matching(calls, `pg_basebackup`)) == 0, "pg_basebackup although pg_rewind worked:\n%s", report(status, log, calls))
	r.expect(strings.Contains(log, "follow_primary.sh on 127.0.0.13: pg_rewind done: ") && !strings.Contains(log, "pg_rewind failed"),
		"the log must say that pg_rewind did it:\n%s", log)
	r.expect(r.exists(r.slot("127.0.0.12", 5433, "app_pg3")), "no slot app_pg3 on the new primary:\n%s", report(status, log, calls))
	r.checkStandbyOf(dir, "pg2", "app-pg3", "app_pg3", 5434, false)
}

// TestFollowRewindUser checks that pg_rewind logs in as [replication] rewind_user, and as the
// recovery user (a superuser) by default before PostgreSQL 11.
func TestFollowRewindUser(t *testing.T) {
	for _, tc := range []struct{ pg, extra, want string }{
		{"15", "\n[replication]\nrewind_user = \"rw_9\"\n", "rw_9"},
		{"10", "\n[recovery]\nuser = \"recoverer\"\n", "recoverer"},
	} {
		s := haSpec{pgpool: "4.3", pg: tc.pg}
		c, err := schema.Load("cluster.toml", []byte(s.toml()+tc.extra), haEnv)
		if err != nil {
			t.Fatal(err)
		}
		if c.Rewind.User != tc.want {
			t.Fatalf("PostgreSQL %s: the model's rewind user is %q, want %q", tc.pg, c.Rewind.User, tc.want)
		}
		follow := string(scriptOf(t, c, "pgpool1", "follow_primary.sh").Data)
		for _, want := range []string{"readonly REWIND_USER='" + tc.want + "'", `user=$REWIND_USER dbname=postgres`} {
			if !strings.Contains(follow, want) {
				t.Errorf("PostgreSQL %s: the follow script has no %s", tc.pg, want)
			}
		}
		if strings.Contains(follow, "user=$OS_USER dbname=postgres\" >&2; then") {
			t.Errorf("PostgreSQL %s: pg_rewind still logs in as the OS user", tc.pg)
		}
	}
}

// TestFollowSlots checks the follower's slot: none without slots, and dropped again on the new
// primary when the standby cannot be re-pointed.
func TestFollowSlots(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15", noSlots: true})
	dir := r.standby()
	status, log, calls := r.run(r.pgpoolScript("follow_primary.sh"), nil, r.followArgs("pg3", "pg2")...)
	r.expect(status == 0 && len(matching(calls, `replication_slot`)) == 0, "slots off: want exit 0 and no slot:\n%s", report(status, log, calls))
	r.checkStandbyOf(dir, "pg2", "app-pg3", "", 5434, false)

	r = newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	r.standby()
	status, log, calls = r.run(r.pgpoolScript("follow_primary.sh"), []string{"FAKE_REWIND_FAILS=1", "FAKE_BASEBACKUP_FAILS=1"}, r.followArgs("pg3", "pg2")...)
	r.expect(status == 1 && len(matching(calls, `pcp_attach_node`)) == 0 && inOrder(calls,
		`^127\.0\.0\.12 psql .* -c SELECT pg_create_physical_replication_slot\('app_pg3', true\)`,
		`^127\.0\.0\.13 pg_basebackup `,
		`^127\.0\.0\.12 psql .* -c SELECT pg_drop_replication_slot\(slot_name\) FROM pg_replication_slots WHERE slot_name = 'app_pg3'$`,
	), "a failed follow: want exit 1 and the slot dropped:\n%s", report(status, log, calls))
	r.expect(!r.exists(r.slot("127.0.0.12", 5433, "app_pg3")), "the slot of a standby that does not follow is left on the new primary")

	// A slot that cannot be created: the standby is left as it is.
	r.standby()
	status, log, calls = r.run(r.pgpoolScript("follow_primary.sh"), []string{"FAKE_SLOT_FAILS=1"}, r.followArgs("pg3", "pg2")...)
	r.expect(status == 1 && len(matching(calls, `stop|pg_rewind|pg_basebackup|pcp_attach_node`)) == 0 && strings.Contains(log, "could not create the replication slot app_pg3"),
		"a slot that cannot be created:\n%s", report(status, log, calls))
}

func TestFollowBaseBackupFallback(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	dir := r.standby()
	status, log, calls := r.run(r.pgpoolScript("follow_primary.sh"), []string{"FAKE_REWIND_FAILS=1"}, r.followArgs("pg3", "pg2")...)
	r.expect(status == 0, "want exit 0:\n%s", report(status, log, calls))
	r.expect(strings.Contains(log, "follow_primary.sh on 127.0.0.13: pg_rewind failed; taking a fresh copy of the new primary with pg_basebackup") && !strings.Contains(log, "pg_rewind done"),
		"the log must say that pg_rewind failed:\n%s", log)
	r.expect(inOrder(calls,
		`^127\.0\.0\.13 pg_rewind `,
		`^127\.0\.0\.13 pg_basebackup -h 127\.0\.0\.12 -p 5433 -U repl -w -D `+regexp.QuoteMeta(dir+".pgpoolgen-copy")+` -X stream -c fast$`,
		`^127\.0\.0\.13 pg_ctl -D \S+ -l \S+ -w start$`,
		`^local pcp_attach_node .* -n 2$`,
	), "calls:\n%s", report(status, log, calls))
	r.checkStandbyOf(dir, "pg2", "app-pg3", "app_pg3", 5434, false)
}

func TestFollowOldVersions(t *testing.T) {
	// pgpool-II 3.1 with PostgreSQL 9.1: no pg_rewind, pg_basebackup -x, recovery.conf, and
	// pcp_attach_node with positional arguments and the password from a file.
	r := newRig(t, haSpec{pgpool: "3.1", pg: "9.1"})
	dir := r.standby()
	r.write(r.c.Layout.Home+"/.pgpoolgen/pcp_password", "s3cret\n", 0o600)
	status, log, calls := r.run(r.pgpoolScript("follow_master.sh"), nil, r.followArgs("pg3", "pg2")...)
	r.expect(status == 0, "want exit 0:\n%s", report(status, log, calls))
	r.expect(inOrder(calls,
		`^127\.0\.0\.13 pg_ctl -D \S+ -m fast -w -t 60 stop$`,
		`^127\.0\.0\.13 pg_basebackup -h 127\.0\.0\.12 -p 5433 -U repl -w -D `+regexp.QuoteMeta(dir+".pgpoolgen-copy")+` -x -c fast$`,
		`^127\.0\.0\.13 pg_ctl -D \S+ -l \S+ -w start$`,
		`^local pcp_attach_node 10 localhost 9898 pgpool s3cret 2$`,
	), "calls:\n%s", report(status, log, calls))
	r.expect(len(matching(calls, `pg_rewind|CHECKPOINT`)) == 0, "pg_rewind on 9.1:\n%s", report(status, log, calls))
	r.checkStandbyOf(dir, "pg2", "pg3", "", 5434, true)
	r.expect(!strings.Contains(r.read(r.pgpoolScript("follow_master.sh")), "s3cret"), "the password is in the script")

	// Without the password file the node is re-pointed, and the attach fails loudly.
	_ = os.Remove(r.c.Layout.Home + "/.pgpoolgen/pcp_password")
	r.standby()
	status, log, calls = r.run(r.pgpoolScript("follow_master.sh"), nil, r.followArgs("pg3", "pg2")...)
	r.expect(status == 1 && len(matching(calls, `pcp_attach_node`)) == 0 && strings.Contains(log, "pcp_password"),
		"missing pcp password file:\n%s", report(status, log, calls))
}

func TestFollowSkips(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	// The new primary itself.
	status, log, calls := r.run(r.pgpoolScript("follow_primary.sh"), nil, r.followArgs("pg2", "pg2")...)
	r.expect(status == 0 && len(calls) == 0, "the new primary: want nothing done:\n%s", report(status, log, calls))
	// A node whose PostgreSQL is down (the failed primary).
	r.pgdata("pg1", false)
	status, log, calls = r.run(r.pgpoolScript("follow_primary.sh"), nil, r.followArgs("pg1", "pg2")...)
	r.expect(status == 0 && len(matching(calls, `stop|start|pg_rewind|pg_basebackup|pcp_attach_node`)) == 0,
		"a stopped node is left down:\n%s", report(status, log, calls))
	// The old primary's host cannot be reached.
	r.write(r.state+"/unreachable-127.0.0.11", "", 0o644)
	status, log, calls = r.run(r.pgpoolScript("follow_primary.sh"), nil, r.followArgs("pg1", "pg2")...)
	r.expect(status == 0 && len(matching(calls, `pcp_attach_node`)) == 0, "an unreachable old primary:\n%s", report(status, log, calls))
	// An unreachable standby is an error.
	r.write(r.state+"/unreachable-127.0.0.13", "", 0o644)
	status, log, calls = r.run(r.pgpoolScript("follow_primary.sh"), nil, r.followArgs("pg3", "pg2")...)
	r.expect(status == 1 && len(matching(calls, `pcp_attach_node`)) == 0, "an unreachable standby:\n%s", report(status, log, calls))
}

func recoveryArgsOf(r *haRig, main, target string) []string {
	m, t := r.node(main), r.node(target)
	args := []string{m.DataDirectory, t.Address, t.DataDirectory, fmt.Sprint(m.Port), fmt.Sprint(t.NodeID), fmt.Sprint(t.Port), m.Address}
	return args[:len(recoveryArgsFor(r.c.Pgpool))]
}

func TestRecoveryFirstStageStreaming(t *testing.T) {
	for _, tc := range []struct {
		pgpool, pg, wal string
		recoveryConf    bool   // PostgreSQL before 12
		slot, create    string // the target's slot and how it is created on the primary; "" without slots
		noSlots         bool
	}{
		{"4.3", "15", "-X stream", false, "app_pg3", `pg_create_physical_replication_slot\('app_pg3', true\)`, false},
		{"4.3", "12", "-X stream", false, "", "", true},
		{"3.1", "9.1", "-x", true, "", "", false},
		{"4.0", "11", "-X stream", true, "pg3", `pg_create_physical_replication_slot\('pg3', true\)`, false},
		{"3.4", "9.5", "-X stream", true, "pg3", `pg_create_physical_replication_slot\('pg3'\)`, false}, // no immediately_reserve before 9.6
		{"3.4", "9.6", "-X stream", true, "", "", true},
	} {
		t.Run(tc.pgpool+"-"+tc.pg, func(t *testing.T) {
			r := newRig(t, haSpec{pgpool: tc.pgpool, pg: tc.pg, noSlots: tc.noSlots})
			dir := r.standby()
			r.write(dir+"/stale-file", "x", 0o600)
			app := "app-pg3"
			if pgpool.MustVersion(tc.pgpool).Less(pgpool.V41) {
				app = "pg3"
			}
			status, log, calls := r.run(r.nodeScript("pg1", "recovery_1st_stage"), nil, recoveryArgsOf(r, "pg1", "pg3")...)
			r.expect(status == 0, "want exit 0:\n%s", report(status, log, calls))
			steps := []string{
				`^local ssh .* -l postgres 127\.0\.0\.13 timeout 120 bash -s$`,
				`^127\.0\.0\.13 pg_ctl -D ` + regexp.QuoteMeta(dir) + ` -m fast -w -t 60 stop$`,
				`^127\.0\.0\.13 pg_basebackup -h 127\.0\.0\.11 -p 5432 -U repl -w -D ` + regexp.QuoteMeta(dir+".pgpoolgen-copy") + ` ` + tc.wal + ` -c fast$`,
			}
			if tc.slot != "" {
				// The slot first, on this primary through its socket.
				steps = append([]string{`^local psql -X -q -A -t -w -p 5432 -U postgres -d postgres -c SELECT ` + tc.create +
					` WHERE NOT EXISTS \(SELECT 1 FROM pg_replication_slots WHERE slot_name = '` + tc.slot + `'\)$`}, steps...)
				r.expect(r.exists(r.slot("local", 5432, tc.slot)), "no slot %s on the primary:\n%s", tc.slot, report(status, log, calls))
			}
			r.expect(inOrder(calls, steps...), "calls:\n%s", report(status, log, calls))
			r.expect(len(matching(calls, `replication_slot`)) == len(steps)-3, "slot calls, want %d:\n%s", len(steps)-3, report(status, log, calls))
			r.expect(len(matching(calls, `start|promote|pcp_`)) == 0, "the first stage starts nothing:\n%s", report(status, log, calls))
			_, err := os.Stat(dir + "/stale-file")
			r.expect(os.IsNotExist(err), "the data directory was not emptied")
			r.checkStandbyOf(dir, "pg1", app, tc.slot, 5434, tc.recoveryConf)
		})
	}
}

// TestFailedCopyKeepsDataDirectory checks that a failed pg_basebackup leaves the target's data
// directory as it was: the copy is made beside it.
func TestFailedCopyKeepsDataDirectory(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	dir := r.pgdata("pg3", false)
	r.write(dir+"/precious", "x", 0o600)
	status, log, calls := r.run(r.nodeScript("pg1", "recovery_1st_stage"), []string{"FAKE_BASEBACKUP_FAILS=1"}, recoveryArgsOf(r, "pg1", "pg3")...)
	r.expect(status != 0, "a failed copy must fail the stage:\n%s", report(status, log, calls))
	_, err := os.Stat(dir + "/precious")
	r.expect(err == nil, "the data directory lost its files after a failed copy:\n%s", report(status, log, calls))
	_, err = os.Stat(dir + ".pgpoolgen-copy")
	r.expect(os.IsNotExist(err), "the failed copy was left beside the data directory")
	// The slot made for the copy is dropped again.
	r.expect(inOrder(calls, `^local psql .*pg_create_physical_replication_slot\('app_pg3', true\)`, `^127\.0\.0\.13 pg_basebackup `,
		`^local psql .*pg_drop_replication_slot\(slot_name\) FROM pg_replication_slots WHERE slot_name = 'app_pg3'$`) && !r.exists(r.slot("local", 5432, "app_pg3")),
		"the slot of a failed copy is left on the primary:\n%s", report(status, log, calls))
}

func TestRecoveryFirstStageRefusesMismatch(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	good := recoveryArgsOf(r, "pg1", "pg3")
	for i, bad := range map[int]string{0: "/elsewhere", 1: "127.0.0.99", 2: "/d", 3: "6000", 4: "2x", 5: "5999", 6: "127.0.0.12"} {
		args := append([]string(nil), good...)
		args[i] = bad
		status, log, calls := r.run(r.nodeScript("pg1", "recovery_1st_stage"), nil, args...)
		r.expect(status == 1 && len(calls) == 0, "argument $%d = %q: want exit 1 and no call:\n%s", i+1, bad, report(status, log, calls))
	}
	// Every backend has the same scripts: a base backup copies them from node to node.
	a, _ := os.ReadFile(r.nodeScript("pg1", "recovery_1st_stage"))
	b, _ := os.ReadFile(r.nodeScript("pg2", "recovery_1st_stage"))
	r.expect(len(a) > 0 && bytes.Equal(a, b), "the recovery scripts differ between backends")
	// Recovering the node itself.
	status, log, calls := r.run(r.nodeScript("pg1", "recovery_1st_stage"), nil, recoveryArgsOf(r, "pg1", "pg1")...)
	r.expect(status == 1 && len(calls) == 0, "recovering the main node from itself:\n%s", report(status, log, calls))
	// Too few arguments for the version.
	status, log, calls = r.run(r.nodeScript("pg1", "recovery_1st_stage"), nil, good[:3]...)
	r.expect(status == 1 && len(calls) == 0, "3 arguments for 4.3:\n%s", report(status, log, calls))
}

func TestRecoveryNative(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.7", pg: "17", native: true})
	dir := r.pgdata("pg3", true)
	args := recoveryArgsOf(r, "pg1", "pg3")

	// First stage: the detached, running target is stopped, replaced by a copy of this node,
	// and started as a standby that streams from it while clients still work.
	status, log, calls := r.run(r.nodeScript("pg1", "recovery_1st_stage"), nil, args...)
	r.expect(status == 0, "want exit 0:\n%s", report(status, log, calls))
	r.expect(inOrder(calls,
		`^127\.0\.0\.13 pg_ctl -D \S+ -m fast -w -t 60 stop$`,
		`^127\.0\.0\.13 pg_basebackup -h 127\.0\.0\.11 -p 5432 -U repl -w -D `+regexp.QuoteMeta(dir+".pgpoolgen-copy")+` -X stream -c fast$`,
		`^127\.0\.0\.13 pg_ctl -D `+regexp.QuoteMeta(dir)+` -l \S+ -w start$`,
	), "calls:\n%s", report(status, log, calls))
	r.checkStandbyOf(dir, "pg1", "app-pg3", "", 5434, false)

	// Second stage, clients held: once the copy has replayed this node's WAL, it is promoted.
	status, log, calls = r.run(r.nodeScript("pg1", "recovery_2nd_stage"), nil, args...)
	r.expect(status == 0, "want exit 0:\n%s", report(status, log, calls))
	r.expect(inOrder(calls,
		`^local psql .* -c SELECT pg_current_wal_lsn\(\)$`,
		`^local psql .*pg_stat_replication WHERE application_name = 'app-pg3' AND replay_lsn >= '0/3000000'$`,
		`^127\.0\.0\.13 pg_ctl -D `+regexp.QuoteMeta(dir)+` -w promote$`,
	), "calls:\n%s", report(status, log, calls))
	r.expect(len(matching(calls, `pg_basebackup`)) == 0, "the second stage copies nothing:\n%s", report(status, log, calls))

	// pgpool_remote_start: the copy runs already.
	start := r.nodeScript("pg1", "pgpool_remote_start")
	status, log, calls = r.run(start, nil, "127.0.0.13", dir)
	r.expect(status == 0 && len(matching(calls, `start$`)) == 0, "remote start of a running server:\n%s", report(status, log, calls))
	status, log, calls = r.run(start, nil, "127.0.0.99", dir)
	r.expect(status == 1 && len(calls) == 0, "remote start of an unknown node:\n%s", report(status, log, calls))
	status, log, calls = r.run(start, nil, "127.0.0.13")
	r.expect(status == 1 && len(calls) == 0, "remote start with one argument:\n%s", report(status, log, calls))
}

// TestRecoveryNativeBefore94 checks native recovery where PostgreSQL cannot compare WAL
// positions: the first stage stops the target, the second copies this node there.
func TestRecoveryNativeBefore94(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.0", pg: "9.2", native: true})
	dir := r.pgdata("pg3", true)
	args := recoveryArgsOf(r, "pg1", "pg3")
	status, log, calls := r.run(r.nodeScript("pg1", "recovery_1st_stage"), nil, args...)
	r.expect(status == 0 && len(matching(calls, `^127\.0\.0\.13 pg_ctl -D \S+ -m fast -w -t 60 stop$`)) == 1 && len(matching(calls, `pg_basebackup`)) == 0,
		"first stage:\n%s", report(status, log, calls))
	_ = os.Remove(dir + "/postmaster.pid")
	r.write(dir+"/recovery.conf", "", 0o600)
	status, log, calls = r.run(r.nodeScript("pg1", "recovery_2nd_stage"), nil, args...)
	r.expect(status == 0, "want exit 0:\n%s", report(status, log, calls))
	r.expect(inOrder(calls,
		`^local psql .*-p 5432 -U postgres -d postgres -c CHECKPOINT$`,
		`^127\.0\.0\.13 pg_basebackup -h 127\.0\.0\.11 -p 5432 -U repl -w -D `+regexp.QuoteMeta(dir+".pgpoolgen-copy")+` -X stream -c fast$`,
	), "calls:\n%s", report(status, log, calls))
	_, err := os.Stat(dir + "/recovery.conf")
	r.expect(os.IsNotExist(err), "recovery.conf left in the copy")
}

func TestRemoteStartFailsLoudly(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	dir := r.node("pg3").DataDirectory // no data directory at all: pg_ctl start fails
	status, log, calls := r.run(r.nodeScript("pg1", "pgpool_remote_start"), nil, "127.0.0.13", dir)
	r.expect(status == 1 && strings.Contains(log, "ERROR: could not start PostgreSQL on node 2"), "a failed start:\n%s", report(status, log, calls))
}

// underSystemd makes the installed scripts see systemd running (a folder of the rig stands for
// /run/systemd/system) and names each backend's data directory as its unit's, for the stub sudo.
func (r *haRig) underSystemd() {
	r.t.Helper()
	systemd := r.root + "/run-systemd-system"
	r.mkdir(systemd)
	for _, f := range haFiles(r.c) {
		data := string(f.Data)
		if (strings.Contains(data, "\nstart_postgres() {") || strings.Contains(data, "\nstop_postgres() {")) && strings.Count(data, "[[ -d /run/systemd/system ]]") != 1 {
			r.t.Fatalf("%s on %s: want one test for systemd", f.Dest, f.Host)
		}
		r.write(f.Dest, strings.ReplaceAll(data, "[[ -d /run/systemd/system ]]", "[[ -d "+systemd+" ]]"), f.Mode)
	}
	for _, b := range r.c.Backends {
		r.write(r.state+"/unit-"+b.Address+"-"+postgresUnit(r.c), b.DataDirectory, 0o644)
	}
}

// sudoCalls returns the command lines run with sudo -n, and fails on one the sudoers rules
// (sudoCommands) would refuse.
func (r *haRig) sudoCalls(calls []string) []string {
	r.t.Helper()
	allowed := hostSudoLines(r.c)
	var out []string
	for _, c := range matching(calls, ` sudo `) {
		line := c[strings.Index(c, " sudo ")+len(" sudo "):]
		cmd, ok := strings.CutPrefix(line, "-n ")
		if !ok || !slices.Contains(allowed, cmd) {
			r.t.Errorf("sudo %s: not one of the commands the sudoers rule allows, %q", line, allowed)
		}
		out = append(out, c)
	}
	return out
}

// TestSystemdServices runs the scripts that start and stop PostgreSQL where systemd runs: they
// go through the unit with sudo -n, exactly as serviceCommands lists them, and never start a
// server beside it; where systemd does not run, pg_ctl does it and sudo is never called.
func TestSystemdServices(t *testing.T) {
	const unit = "pgpoolgen-postgresql-ha-test.service"
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	if got := postgresUnit(r.c); got != unit {
		t.Fatalf("unit %q, want %q", got, unit)
	}
	dir := r.standby()
	status, log, calls := r.run(r.pgpoolScript("follow_primary.sh"), nil, r.followArgs("pg3", "pg2")...)
	r.expect(status == 0 && len(matching(calls, `sudo`)) == 0 && len(matching(calls, `^127\.0\.0\.13 pg_ctl .* (start|stop)$`)) == 2,
		"without systemd: want pg_ctl and no sudo:\n%s", report(status, log, calls))

	r.underSystemd()
	r.standby()
	status, log, calls = r.run(r.pgpoolScript("follow_primary.sh"), nil, r.followArgs("pg3", "pg2")...)
	r.expect(status == 0 && inOrder(calls,
		`^127\.0\.0\.13 sudo -n /usr/bin/systemctl stop `+regexp.QuoteMeta(unit)+`$`,
		`^127\.0\.0\.13 pg_rewind `,
		`^127\.0\.0\.13 sudo -n /usr/bin/systemctl start `+regexp.QuoteMeta(unit)+`$`,
		`^local pcp_attach_node `,
	) && len(r.sudoCalls(calls)) == 2 && len(matching(calls, `pg_ctl .* (start|stop)$`)) == 0,
		"follow under systemd: want the unit stopped and started, and no pg_ctl start or stop:\n%s", report(status, log, calls))
	r.expect(r.exists(dir+"/postmaster.pid"), "the follower does not run")

	// A server started beside the unit: the unit stops nothing, pg_ctl stops the server.
	r.standby()
	r.write(r.state+"/outside-127.0.0.13", "", 0o644)
	status, log, calls = r.run(r.pgpoolScript("follow_primary.sh"), nil, r.followArgs("pg3", "pg2")...)
	r.expect(status == 0 && inOrder(calls,
		`^127\.0\.0\.13 sudo -n /usr/bin/systemctl stop `,
		`^127\.0\.0\.13 pg_ctl -D \S+ -m fast -w -t 60 stop$`,
		`^127\.0\.0\.13 pg_rewind `,
		`^127\.0\.0\.13 sudo -n /usr/bin/systemctl start `,
	) && strings.Contains(log, "it was not started through "+unit) && len(r.sudoCalls(calls)) == 2,
		"a server started beside the unit:\n%s", report(status, log, calls))
	_ = os.Remove(r.state + "/outside-127.0.0.13")

	// pgpool_remote_start and online recovery.
	_ = os.Remove(dir + "/postmaster.pid")
	status, log, calls = r.run(r.nodeScript("pg1", "pgpool_remote_start"), nil, "127.0.0.13", dir)
	r.expect(status == 0 && len(r.sudoCalls(calls)) == 1 && len(matching(calls, `^127\.0\.0\.13 sudo -n /usr/bin/systemctl start `+regexp.QuoteMeta(unit)+`$`)) == 1 &&
		len(matching(calls, `pg_ctl .* start$`)) == 0, "remote start under systemd:\n%s", report(status, log, calls))
	status, log, calls = r.run(r.nodeScript("pg1", "recovery_1st_stage"), nil, recoveryArgsOf(r, "pg1", "pg3")...)
	r.expect(status == 0 && len(r.sudoCalls(calls)) == 1 && len(matching(calls, `^127\.0\.0\.13 sudo -n /usr/bin/systemctl stop `+regexp.QuoteMeta(unit)+`$`)) == 1 &&
		len(matching(calls, `pg_ctl .* stop$`)) == 0, "recovery under systemd:\n%s", report(status, log, calls))

	// A unit systemd does not have, or a sudo that refuses: a loud failure, no pg_ctl start.
	_ = os.Remove(r.state + "/unit-127.0.0.13-" + unit)
	status, log, calls = r.run(r.nodeScript("pg1", "pgpool_remote_start"), nil, "127.0.0.13", dir)
	r.expect(status == 1 && len(matching(calls, `pg_ctl .* start$`)) == 0 &&
		strings.Contains(log, "ERROR: sudo -n /usr/bin/systemctl start "+unit+" failed"), "a unit that is missing:\n%s", report(status, log, calls))
}

// TestPostgresUnit checks the unit name: Debian's postgresql@<version>-<cluster> in Debian's
// layout, named from postgresql_config_dir, PGDG's postgresql-<version> in RHEL's, and the unit
// of setup everywhere else.
func TestPostgresUnit(t *testing.T) {
	for _, tc := range []struct{ preset, pg, configDir, want string }{
		{"debian", "15", "", "postgresql@15-main.service"},
		{"debian", "9.6", "", "postgresql@9.6-main.service"},
		{"debian", "12", `"/etc/postgresql/12/pg-a_1.x"`, "postgresql@12-pg-a_1.x.service"},
		{"debian", "15", `""`, "pgpoolgen-postgresql-ha-test.service"}, // postgresql.conf in the data directory: not pg_createcluster's
		{"source", "15", "", "pgpoolgen-postgresql-ha-test.service"},
		{"source", "15", `"/etc/postgresql/15/main"`, "pgpoolgen-postgresql-ha-test.service"},
		// Not pg_createcluster's shape: no unit of the package starts it.
		{"debian", "15", `"/etc/postgresql/14/main"`, "pgpoolgen-postgresql-ha-test.service"},
		{"debian", "15", `"/srv/pgconf"`, "pgpoolgen-postgresql-ha-test.service"},
		{"debian", "15", `"/etc/postgresql/15/a+b"`, "pgpoolgen-postgresql-ha-test.service"},
		{"debian", "15", `"/etc/postgresql/15/a@b"`, "pgpoolgen-postgresql-ha-test.service"},
		// PGDG's unit, which starts the data directory its drop-in names.
		{"rhel", "16", "", "postgresql-16.service"},
		{"rhel", "9.6", "", "postgresql-9.6.service"},
		// PGDG's unit cannot start a server whose postgresql.conf is elsewhere.
		{"rhel", "16", `"/etc/pgconf"`, "pgpoolgen-postgresql-ha-test.service"},
	} {
		src := haSpec{pgpool: "4.3", pg: tc.pg}.toml()
		layout := "preset = \"" + tc.preset + "\"\n"
		if tc.configDir != "" {
			layout += "postgresql_config_dir = " + tc.configDir + "\n"
		}
		src = strings.Replace(src, "preset = \"source\"\n", layout, 1)
		c, err := schema.Load("cluster.toml", []byte(src), haEnv)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if got := postgresUnit(c); got != tc.want {
			t.Errorf("%+v: unit %q, want %q", tc, got, tc.want)
		}
		want := []string{"/usr/bin/systemctl start " + tc.want, "/usr/bin/systemctl stop " + tc.want}
		if got := serviceCommands(c); !slices.Equal(got, want) {
			t.Errorf("%+v: serviceCommands %q, want %q", tc, got, want)
		}
	}
}

// fakeServer starts a process that fence must take for a PostgreSQL process on dir, or not: a
// copy of sleep named comm, working in dir, stopped (SIGSTOP) as a frozen server is. done is
// closed once it has exited.
func (r *haRig) fakeServer(dir, comm string) (pid int, done chan struct{}) {
	r.t.Helper()
	prog := r.root + "/fake/" + comm
	if _, err := os.Stat(prog); err != nil {
		sleep, err := exec.LookPath("sleep")
		if err != nil {
			r.t.Fatal(err)
		}
		data, err := os.ReadFile(sleep)
		if err != nil {
			r.t.Fatal(err)
		}
		r.write(prog, string(data), 0o755)
	}
	cmd := exec.Command(prog, "600")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	done = make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		r.t.Fatal(err)
	}
	return cmd.Process.Pid, done
}

// exited reports whether the process of done has exited, waiting for it at most wait: a
// process that was sent SIGKILL is gone within milliseconds, the bound only keeps a failing
// test from hanging.
func exited(done chan struct{}, wait time.Duration) bool {
	select {
	case <-done:
		return true
	case <-time.After(wait):
		return false
	}
}

// TestFailoverFences checks that failover.sh fences the failed primary first, in one quick ssh
// call to its host: its frozen postmaster (from postmaster.pid) and every other process of
// the server on its data directory are killed, a process of another data directory or another
// program is not, a restart comes back as a standby, and the old primary is not probed any
// more, however it answered, before the most advanced standby is promoted.
func TestFailoverFences(t *testing.T) {
	for _, tc := range []struct {
		pgpool, pg   string
		recoveryConf bool
	}{{"4.3", "15", false}, {"3.4", "9.2", true}} {
		t.Run(tc.pg, func(t *testing.T) {
			r := newRig(t, haSpec{pgpool: tc.pgpool, pg: tc.pg})
			old := r.pgdata("pg1", true)
			r.pgdata("pg2", true)
			r.answers("pg1", "f") // what a frozen server would answer once thawed
			r.answers("pg2", "t")
			r.lsn("pg2", "0/5000000")
			postmaster, postmasterDone := r.fakeServer(old, "postgres")
			_, childDone := r.fakeServer(old, "postgres")
			_, otherDirDone := r.fakeServer(r.node("pg2").DataDirectory, "postgres")
			_, otherProgDone := r.fakeServer(old, "sleep")
			r.write(old+"/postmaster.pid", fmt.Sprintf("%d\n%s\n", postmaster, old), 0o600)

			status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
			r.expect(status == 0, "want exit 0:\n%s", report(status, log, calls))
			// The probe from the new main node runs beside the fence: either may come first.
			r.expect(len(calls) > 1 && len(matching(calls[:2], `^local ssh .* -o ConnectTimeout=3 .* 127\.0\.0\.11 timeout 10 bash -s$`)) == 1,
				"one of the first two calls must be the quick ssh to the old primary's host:\n%s", report(status, log, calls))
			r.expect(exited(postmasterDone, 5*time.Second) && exited(childDone, 5*time.Second), "the old primary's processes are still alive:\n%s", report(status, log, calls))
			r.expect(!exited(otherDirDone, 500*time.Millisecond), "a postgres of another data directory was killed")
			r.expect(!exited(otherProgDone, 500*time.Millisecond), "another program in the data directory was killed")
			r.expect(strings.Contains(log, fmt.Sprintf("failover.sh on 127.0.0.11: killing the postmaster of %s, process %d (SIGKILL)", old, postmaster)) &&
				strings.Contains(log, "failover.sh: the old primary, node 0, is fenced"), "the fence is logged:\n%s", log)
			if tc.recoveryConf {
				r.expect(r.read(old+"/recovery.conf") == "standby_mode = 'on'\n", "recovery.conf of the fenced primary: %q", r.read(old+"/recovery.conf"))
			} else {
				r.expect(r.exists(old+"/standby.signal"), "no standby.signal in the fenced primary's data directory")
			}
			// The probe started beside the fence may have run; its answer is not used, and the old
			// primary's host is asked nothing more.
			r.expect(len(matching(calls, `^127\.0\.0\.11 psql|sudo`)) == 0 && !strings.Contains(log, "answer") && !strings.Contains(log, "asking it for its role"),
				"a fenced primary is not asked for its role, nor its connections closed:\n%s", report(status, log, calls))
			r.expect(inOrder(calls, `127\.0\.0\.11 timeout 10 bash -s$`, `^127\.0\.0\.12 pg_ctl -D \S+/data/pg2 (-w )?promote$`),
				"the promotion comes after the fence:\n%s", report(status, log, calls))
		})
	}

	// postmaster.pid naming a process that is not the server: nothing killed by that pid.
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	old := r.pgdata("pg1", true)
	r.pgdata("pg2", true)
	r.answers("pg2", "t")
	stranger, strangerDone := r.fakeServer(r.root, "postgres") // a postgres elsewhere
	r.write(old+"/postmaster.pid", fmt.Sprintf("%d\n", stranger), 0o600)
	status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
	r.expect(status == 0 && !exited(strangerDone, 500*time.Millisecond) && strings.Contains(log, "names no running server") && r.exists(old+"/standby.signal"),
		"a postmaster.pid naming another process:\n%s", report(status, log, calls))
}

// TestFailoverUnreachableOldPrimary checks an old primary whose host cannot be reached: the fence
// fails within its bounds, pgpool-II's own connections to it are closed on this host (ss -K
// through sudo -n, as the pgpool host's sudoers rule allows), and the old checks decide.
func TestFailoverUnreachableOldPrimary(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	r.pgdata("pg2", true)
	r.answers("pg2", "t")
	r.lsn("pg2", "0/5000000")
	r.write(r.state+"/unreachable-127.0.0.11", "", 0o644)
	status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
	r.expect(status == 0 && inOrder(calls,
		`^local ssh .* -o ConnectTimeout=3 .* 127\.0\.0\.11 timeout 10 bash -s$`,
		`^local sudo -n /usr/bin/ss -K dst 127\.0\.0\.11 dport = 5432$`,
		`^127\.0\.0\.12 pg_ctl -D \S+/data/pg2 -w promote$`,
	) && inOrder(calls,
		`^127\.0\.0\.12 pg_isready -q -t 5 -h 127\.0\.0\.11 -p 5432$`,
		`^127\.0\.0\.12 pg_ctl -D \S+/data/pg2 -w promote$`,
	) && strings.Contains(log, "the old primary does not answer at 127.0.0.11:5432") && len(r.sudoCalls(calls)) == 1,
		"an unreachable old primary: fence, ss -K, and the probe beside them, before promoting:\n%s", report(status, log, calls))
	r.expect(strings.Contains(log, "WARNING: could not fence the old primary, node 0 (exit status 255)"), "the failed fence is logged:\n%s", log)

	// ss -K that sudo refuses is a warning; the old checks still decide.
	status, log, calls = r.run(r.pgpoolScript("failover.sh"), []string{"FAKE_SS_FAILS=1"}, r.failoverArgs("pg1", "pg2")...)
	r.expect(status == 0 && strings.Contains(log, "WARNING: could not close pgpool-II's connections to node 0") && len(matching(calls, `promote$`)) == 1,
		"ss -K refused:\n%s", report(status, log, calls))

	// It still answers (pg_isready) while ssh cannot reach it: no promotion.
	r.answers("pg1", "f")
	status, log, calls = r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
	r.expect(status == 1 && len(matching(calls, `promote`)) == 0 && len(matching(calls, `^local sudo -n /usr/bin/ss -K dst 127\.0\.0\.11 dport = 5432$`)) == 1 &&
		strings.Contains(log, "REFUSING TO PROMOTE"), "an unreachable old primary that answers:\n%s", report(status, log, calls))
}

// TestFailoverMostAdvancedStandby checks which standby failover.sh promotes: the one that has
// received the most WAL, comparing positions as numbers, the lowest node id of those that tie,
// the new main node (%m) if none gives a position, and none if one is a primary already.
func TestFailoverMostAdvancedStandby(t *testing.T) {
	for i, tc := range []struct {
		what, lsn2, lsn3, newMain, want string
	}{
		{"pg3 has more", "0/5000000", "0/6000000", "pg2", "pg3"},
		{"numbers, not text: 10/0 is past 9/0", "9/0", "10/0", "pg2", "pg3"},
		{"numbers, not text: 0/10000000 is past 0/F000000", "0/F000000", "0/10000000", "pg2", "pg3"},
		{"the high part first", "0/FFFFFFFF", "1/0", "pg2", "pg3"},
		{"the low part when the high parts are equal", "2/10", "2/F", "pg2", "pg2"},
		{"a tie: the lowest node id", "0/5000000", "0/5000000", "pg2", "pg2"},
		{"only one answers", "", "0/1", "pg2", "pg3"},
		{"a position that is not one is ignored", "0/5000000", "0/6000000$(touch x)", "pg2", "pg2"},
		{"none answers: %m", "", "", "pg2", "pg2"},
		// pgpool-II's %m is the lowest node id it has not detached: pg2 is detached.
		{"a node before %m is not asked", "0/9000000", "0/6000000", "pg3", "pg3"},
	} {
		// The name of a temporary folder must be a path the spec takes.
		t.Run(fmt.Sprintf("case%d", i), func(t *testing.T) {
			t.Log(tc.what)
			r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
			for _, n := range []struct{ name, lsn string }{{"pg2", tc.lsn2}, {"pg3", tc.lsn3}} {
				r.pgdata(n.name, true)
				r.answers(n.name, "t")
				if n.lsn != "" {
					r.lsn(n.name, n.lsn)
				}
			}
			status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", tc.newMain)...)
			want := r.node(tc.want)
			r.expect(status == 0 && len(matching(calls, `promote`)) == 1 &&
				len(matching(calls, `^`+regexp.QuoteMeta(want.Address)+` pg_ctl -D `+regexp.QuoteMeta(want.DataDirectory)+` -w promote$`)) == 1,
				"%s: want %s promoted:\n%s", tc.what, tc.want, report(status, log, calls))
			for _, n := range []struct {
				id  int
				lsn string
			}{{1, tc.lsn2}, {2, tc.lsn3}} {
				if n.lsn != "" && !strings.Contains(n.lsn, "$") && (n.id == 2 || tc.newMain == "pg2") {
					r.expect(strings.Contains(log, fmt.Sprintf("failover.sh: node %d is a standby that has received WAL up to %s\n", n.id, n.lsn)), "the log lacks node %d's position:\n%s", n.id, log)
				}
			}
			// %m and the standbys after it are asked, each in a quick call; the failed primary is not.
			asked := 2
			if tc.newMain == "pg3" {
				asked = 1
				r.expect(len(matching(calls, `^127\.0\.0\.12 `)) == 0 && strings.Contains(log, "node 1 comes before the new main node: pgpool-II has detached it; not asking it"),
					"a node before %%m is asked:\n%s", report(status, log, calls))
			}
			r.expect(len(matching(calls, `^127\.0\.0\.1[23] psql .*pg_last_wal_receive_lsn`)) == asked && len(matching(calls, `^127\.0\.0\.11 psql`)) == 0,
				"the survey, want %d asked:\n%s", asked, report(status, log, calls))
			if tc.lsn2 == "" && tc.lsn3 == "" {
				r.expect(strings.Contains(log, "no standby gives its WAL position: promoting the new main node, node 1"), "the fallback is logged:\n%s", log)
			}
			r.expect(!r.exists(r.root+"/x") && !r.exists("x"), "a position was run as a command")
		})
	}

	// A standby that is a primary already: nothing is promoted, not even %m.
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	r.pgdata("pg2", true)
	r.answers("pg2", "t")
	r.lsn("pg2", "0/5000000")
	r.answers("pg3", "f")
	status, log, calls := r.run(r.pgpoolScript("failover.sh"), nil, r.failoverArgs("pg1", "pg2")...)
	r.expect(status == 0 && len(matching(calls, `promote`)) == 0 && strings.Contains(log, "node 2 is a primary already: nothing to promote"),
		"a primary among the standbys:\n%s", report(status, log, calls))
}

// TestFollowWaitsForStreaming checks that the follow script attaches the re-pointed standby
// only once the new primary shows it streaming, and leaves it detached, saying so, when it
// does not stream in time.
func TestFollowWaitsForStreaming(t *testing.T) {
	r := newRig(t, haSpec{pgpool: "4.3", pg: "15"})
	r.standby()
	poll := `^127\.0\.0\.12 psql -X -q -A -t -w -p 5433 -U postgres -d postgres -c SELECT count\(\*\) FROM pg_stat_replication WHERE application_name = 'app-pg3' AND state = 'streaming'$`
	status, log, calls := r.run(r.pgpoolScript("follow_primary.sh"), []string{"FAKE_STREAMS_AFTER=2"}, r.followArgs("pg3", "pg2")...)
	r.expect(status == 0 && inOrder(calls,
		`^127\.0\.0\.13 pg_ctl -D \S+ -l \S+ -w start$`,
		`^local ssh .* 127\.0\.0\.12 timeout 90 bash -s$`,
		poll, poll, poll,
		`^local pcp_attach_node -h localhost -p 9898 -U pgpool -w -n 2$`,
	) && len(matching(calls, poll)) == 3, "attach after the third poll, which sees it stream:\n%s", report(status, log, calls))
	r.expect(strings.Contains(log, "follow_primary.sh on 127.0.0.12: app-pg3 streams from this server"), "the log:\n%s", log)

	// It never streams: detached, and the log says what to do. The wait is shortened here.
	script := r.pgpoolScript("follow_primary.sh")
	data := r.read(script)
	if !strings.Contains(data, "\nreadonly STREAM_TIMEOUT=60 ") {
		t.Fatal("the follow script has no readonly STREAM_TIMEOUT=60")
	}
	r.write(script, strings.Replace(data, "\nreadonly STREAM_TIMEOUT=60 ", "\nreadonly STREAM_TIMEOUT=1 ", 1), 0o755)
	r.standby()
	_ = os.Remove(r.state + "/polls")
	status, log, calls = r.run(script, []string{"FAKE_STREAMS_AFTER=never"}, r.followArgs("pg3", "pg2")...)
	r.expect(status == 1 && len(matching(calls, `pcp_attach_node`)) == 0 && len(matching(calls, poll)) >= 1 &&
		strings.Contains(log, "ERROR: node 2 was re-pointed at node 1 but does not stream from it after 1 s: it stays detached; attach it with pcp_attach_node -n 2"),
		"a standby that does not stream:\n%s", report(status, log, calls))
}
