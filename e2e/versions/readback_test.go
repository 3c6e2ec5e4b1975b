//go:build versions

package versions

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	pgconf "pgpoolgen/schema/conf"
	"pgpoolgen/schema/pgpool"
)

// A line is one setting of a pgpool.conf.
type line struct {
	no    int    // line number, from 1
	name  string // as written: backend_port0
	value string // as pgpool-II stores it (schema/conf's Setting.Value)
	raw   string // the whole line
}

// parseConf reads a pgpool.conf as pgpool-II of series ser does, with schema/conf's reader
// (the one pgpoolgen lint runs). It returns the settings in file order and each place where
// pgpool-II would stop or read otherwise than the line seems to say: any is a failure.
func parseConf(data, ser string) (settings []line, bad []string) {
	v, err := pgpool.ParseVersion(ser)
	if err != nil {
		return nil, []string{err.Error()}
	}
	read, diags := pgconf.Parse("pgpool.conf", []byte(data), v)
	for _, d := range diags {
		bad = append(bad, d.String())
	}
	lines := strings.Split(data, "\n")
	for _, s := range read {
		settings = append(settings, line{no: s.NamePos.Line, name: s.Name, value: s.Value, raw: lines[s.NamePos.Line-1]})
	}
	return settings, bad
}

// record is the name of a setting's parameter in schema/pgpool's table: backend_port0 →
// backend_portN. A name the table does not know stays as it is.
func record(name string) string {
	if p := pgpool.Lookup(name); p != nil {
		return p.Name
	}
	return name
}

// indexRE reads an indexed name: its record's stem and its number.
var indexRE = regexp.MustCompile(`^(.*[a-z_])[0-9]+$`)

// index is the numeric suffix of an indexed name, or -1.
func index(name string) int {
	if m := indexRE.FindStringSubmatch(name); m != nil {
		n, _ := strconv.Atoi(name[len(m[1]):])
		return n
	}
	return -1
}

// sampleNames reads every parameter name a series' own sample pgpool.conf files mention, set
// or commented out, as records (backend_hostnameN).
func sampleNames(etcDir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(etcDir, "pgpool.conf.sample*"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no pgpool.conf.sample in %s", etcDir)
	}
	re := regexp.MustCompile(`^\s*#?\s*([a-z_][a-z0-9_]*)\s*=`)
	names := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(data), "\n") {
			if m := re.FindStringSubmatch(l); m != nil {
				names[record(m[1])] = true
			}
		}
	}
	return names, nil
}

// A move says how the test puts one setting onto its own addresses, ports and paths.
type move struct {
	names []string // every spelling, across series: the series' sample says which it reads
	value func(p *placement, s line) string
	// need says when the series must read the setting, or pgpool would fall back to a default
	// outside the test's folder (sockets in /tmp, port 9999 on localhost).
	need need
}

type need int

const (
	optional     need = iota
	always            // every pgpool.conf sets it
	withWatchdog      // every pgpool.conf with use_watchdog = on sets it
)

// A placement is where one pgpool instance of the run lives.
type placement struct {
	dir      string // its folder: sockets, pid file, status file, log
	addr     string // its listen address, inside its own network namespace
	port     int
	pcpPort  int
	wdPort   int // its watchdog's port and heartbeat port
	hbPort   int
	pgSocket string // the PostgreSQL socket folder backends point to
	pgPort   int
	nodeID   int // its watchdog node id (pgpool_node_id, 4.2+), or -1
}

// The watchdog's other nodes are never started: each pgpool runs alone in its namespace, and
// the nodes it lists go to loopback addresses and ports of that namespace where nothing
// listens (so no node reaches itself: 3.5-4.6 listen on every address). peerAddr is node
// (or other node) n; hbAddr the e-th heartbeat address of node n, the own node's first one
// being the placement's address; peerPort kind 0, 1, 2 its pgpool, watchdog and heartbeat port.
func peerAddr(n int) string    { return fmt.Sprintf("127.2.%d.1", n) }
func hbAddr(n, e int) string   { return fmt.Sprintf("127.3.%d.%d", n, e+1) }
func peerPort(n, kind int) int { return 40000 + 10*n + kind }

// own reports whether indexed setting s (4.2's list of all nodes) is the placement's node.
func (p *placement) own(s line) bool { return index(s.name) == p.nodeID }

func (p *placement) nodePort(s line, mine, kind int) string {
	if p.own(s) {
		return strconv.Itoa(mine)
	}
	return strconv.Itoa(peerPort(index(s.name), kind))
}

// heartbeatList moves a heartbeat_hostnameN list (';'-separated, 4.2+) element by element,
// keeping its length.
func (p *placement) heartbeatList(s line) string {
	var out []string
	for e := range strings.Split(s.value, ";") {
		if p.own(s) && e == 0 {
			out = append(out, p.addr)
		} else {
			out = append(out, hbAddr(index(s.name), e))
		}
	}
	return strings.Join(out, ";")
}

// stub moves a command onto the test's recording stand-in in the placement's folder; a
// command left empty stays empty.
func stub(file string) func(p *placement, s line) string {
	return func(p *placement, s line) string {
		if s.value == "" {
			return ""
		}
		return p.dir + "/" + file
	}
}

// moves lists every setting the test rewrites, and nothing else.
var moves = []move{
	{[]string{"listen_addresses"}, func(p *placement, _ line) string { return p.addr }, always},
	{[]string{"port"}, func(p *placement, _ line) string { return strconv.Itoa(p.port) }, always},
	{[]string{"socket_dir", "unix_socket_directories"}, func(p *placement, _ line) string { return p.dir }, always},
	{[]string{"pcp_listen_addresses"}, func(p *placement, _ line) string { return p.addr }, always},
	{[]string{"pcp_port"}, func(p *placement, _ line) string { return strconv.Itoa(p.pcpPort) }, always},
	{[]string{"pcp_socket_dir"}, func(p *placement, _ line) string { return p.dir }, always},
	{[]string{"pid_file_name"}, func(p *placement, _ line) string { return p.dir + "/pgpool.pid" }, always},
	{[]string{"logdir", "work_dir"}, func(p *placement, _ line) string { return p.dir }, always},
	{[]string{"backend_hostnameN"}, func(p *placement, _ line) string { return p.pgSocket }, optional},
	{[]string{"backend_portN"}, func(p *placement, _ line) string { return strconv.Itoa(p.pgPort) }, optional},

	// The watchdog before 4.2: this node, then the others by their own numbering.
	{[]string{"wd_hostname"}, func(p *placement, _ line) string { return p.addr }, optional},
	{[]string{"wd_port"}, func(p *placement, _ line) string { return strconv.Itoa(p.wdPort) }, optional},
	{[]string{"wd_heartbeat_port"}, func(p *placement, _ line) string { return strconv.Itoa(p.hbPort) }, optional},
	{[]string{"other_pgpool_hostnameN"}, func(_ *placement, s line) string { return peerAddr(index(s.name)) }, optional},
	{[]string{"other_pgpool_portN"}, func(_ *placement, s line) string { return strconv.Itoa(peerPort(index(s.name), 0)) }, optional},
	{[]string{"other_wd_portN"}, func(_ *placement, s line) string { return strconv.Itoa(peerPort(index(s.name), 1)) }, optional},
	{[]string{"heartbeat_destinationN"}, func(_ *placement, s line) string { return hbAddr(index(s.name), 0) }, optional},
	{[]string{"heartbeat_destination_portN"}, func(_ *placement, s line) string { return strconv.Itoa(peerPort(index(s.name), 2)) }, optional},
	// From 4.2: every node by its id, this one (pgpool_node_id) onto the placement.
	{[]string{"hostnameN"}, func(p *placement, s line) string {
		if p.own(s) {
			return p.addr
		}
		return peerAddr(index(s.name))
	}, optional},
	{[]string{"pgpool_portN"}, func(p *placement, s line) string { return p.nodePort(s, p.port, 0) }, optional},
	{[]string{"wd_portN"}, func(p *placement, s line) string { return p.nodePort(s, p.wdPort, 1) }, optional},
	{[]string{"heartbeat_portN"}, func(p *placement, s line) string { return p.nodePort(s, p.hbPort, 2) }, optional},
	{[]string{"heartbeat_hostnameN"}, func(p *placement, s line) string { return p.heartbeatList(s) }, optional},
	{[]string{"wd_ipc_socket_dir"}, func(p *placement, _ line) string { return p.dir }, withWatchdog},
	// The commands a leader runs go to the test's stand-ins, which record that they ran: the
	// escalation scripts, and sudo, which if_up_cmd, if_down_cmd and arping_cmd start from
	// if_cmd_path and arping_path. if_up_cmd and the others stay as written: the stand-in
	// records the arguments pgpool gives them.
	{[]string{"wd_escalation_command"}, stub("escalation.sh"), optional},
	{[]string{"wd_de_escalation_command"}, stub("de-escalation.sh"), optional},
	{[]string{"if_cmd_path", "ifconfig_path"}, func(p *placement, _ line) string { return p.dir + "/bin" }, optional},
	{[]string{"arping_path"}, func(p *placement, _ line) string { return p.dir + "/bin" }, optional},
}

// watchdogOn reports whether a pgpool.conf turns the watchdog on.
func watchdogOn(settings []line) bool {
	on := false
	for _, s := range settings {
		if s.name == "use_watchdog" {
			on = bools[strings.ToLower(s.value)] == "on"
		}
	}
	return on
}

// rewrite moves the settings of moves onto the placement, in place, and returns the new file,
// the settings as pgpool should now read them, and one line per rewritten line. It fails when
// the file sets a spelling the series' sample does not have for a setting it moves, or lacks
// a required one: starting pgpool then would put its sockets or status file outside the test.
func rewrite(settings []line, sample map[string]bool, p *placement, ser string) (out []line, log []string, problems []string) {
	byName := map[string]*move{}
	for i := range moves {
		for _, n := range moves[i].names {
			byName[n] = &moves[i]
		}
	}
	set := map[string]bool{}
	for _, s := range settings {
		set[record(s.name)] = true
	}
	wd := watchdogOn(settings)
	for _, m := range moves {
		var spelled []string
		for _, n := range m.names {
			if sample[n] {
				spelled = append(spelled, n)
			}
		}
		for _, n := range m.names {
			if set[n] && !sample[n] {
				spelling := "has no such setting"
				if len(spelled) > 0 {
					spelling = "spells the setting " + strings.Join(spelled, " or ")
				}
				problems = append(problems, fmt.Sprintf("pgpool.conf sets %s, which pgpool-II %s's sample pgpool.conf does not have (it %s); not started, as pgpool would use its default",
					n, ser, spelling))
			}
		}
		if len(spelled) == 0 {
			continue // the series has no such setting (pcp_listen_addresses before 3.4)
		}
		if (m.need == always || m.need == withWatchdog && wd) && !set[spelled[0]] && !(len(spelled) > 1 && set[spelled[1]]) {
			problems = append(problems, fmt.Sprintf("pgpool.conf does not set %s, which pgpool-II %s reads; not started, as pgpool would use its default",
				strings.Join(spelled, " or "), ser))
		}
	}
	for _, s := range settings {
		if m := byName[record(s.name)]; m != nil {
			nv := m.value(p, s)
			log = append(log, fmt.Sprintf("line %d: %s = %q -> %q", s.no, s.name, s.value, nv))
			s.value = nv
			s.raw = s.name + " = " + confValue(nv)
		}
		out = append(out, s)
	}
	return out, log, problems
}

// confValue writes a value as pgpool.conf takes it: numbers bare, anything else quoted (the
// values moved hold no quote).
func confValue(v string) string {
	if _, err := strconv.Atoi(v); err == nil {
		return v
	}
	return "'" + v + "'"
}

// render writes settings back as a pgpool.conf, each on the line it came from, so that line
// numbers in pgpool's messages still match the generated file.
func render(orig string, settings []line) string {
	lines := strings.Split(orig, "\n")
	for _, s := range settings {
		lines[s.no-1] = s.raw
	}
	return strings.Join(lines, "\n")
}

// shown is what a pgpool reports: name → value.
type shown map[string]string

// parseShow reads psql's unaligned, tuples-only output with \x1f between fields: name, value,
// description rows (PGPOOL SHOW ALL, SHOW pool_status).
func parseShow(out string) shown {
	s := shown{}
	for _, row := range strings.Split(out, "\n") {
		f := strings.Split(row, "\x1f")
		if len(f) >= 2 {
			s[f[0]] = f[1]
		}
	}
	return s
}

// reportsAll says whether the series lists every parameter (PGPOOL SHOW ALL, from 3.7), so
// that a name it leaves out is one it does not know.
func reportsAll(ser string) bool { return !before(ser, "3.7") }

// intEnums are the enum parameters that 3.4-3.6's SHOW pool_status prints as the number the
// series stores (src/utils/pool_process_reporting.c prints them with %d): elog levels from
// src/include/utils/elog.h, PGErrorVerbosity from the same file, and, in 3.6, the enums of
// src/include/pool_config.h (the option tables of src/config/pool_config_variables.c).
var intEnums = map[string]map[string]string{
	"log_min_messages":    elogLevels,
	"client_min_messages": elogLevels,
	"log_error_verbosity": {"terse": "0", "default": "1", "verbose": "2"},
}

var elogLevels = map[string]string{"debug5": "10", "debug4": "11", "debug3": "12", "debug2": "13", "debug1": "14", "debug": "13",
	"log": "15", "info": "17", "notice": "18", "warning": "19", "error": "20", "fatal": "21", "panic": "22"}

var intEnums36 = map[string]map[string]string{
	"master_slave_sub_mode": {"slony": "1", "stream": "2"},
	"log_standby_delay":     {"always": "1", "if_over_threshold": "2", "none": "3"},
	"memqcache_method":      {"shmem": "1", "memcached": "2"},
	"wd_lifecheck_method":   {"query": "1", "heartbeat": "2", "external": "3"},
}

// enumNumber is the number a 3.4-3.6 pgpool prints for an enum value, if it prints one.
func enumNumber(ser, name, value string) (string, bool) {
	if before(ser, "3.4") || !before(ser, "3.7") {
		return "", false
	}
	m := intEnums[name]
	if m == nil && ser == "3.6" {
		m = intEnums36[name]
	}
	n, ok := m[strings.ToLower(value)]
	return n, ok
}

// bools are the words pgpool.conf takes for a boolean; shownBools what pgpool prints for one:
// on and off from 3.7, 1 and 0 before (SHOW pool_status prints them with %d).
var (
	bools      = map[string]string{"on": "on", "off": "off", "true": "on", "false": "off", "yes": "on", "no": "off"}
	shownBools = map[string]string{"on": "on", "off": "off", "1": "on", "0": "off"}
)

// unitRE reads a value pgpool-II prints with a time unit, such as "10s" or "3000ms".
var unitRE = regexp.MustCompile(`^(-?\d+)(ms|s|min|h|d)$`)

var unitMS = map[string]int64{"ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}

// baseUnit is, in milliseconds, the unit a time parameter is written in: seconds, but for
// those src/config/pool_config_variables.c flags GUC_UNIT_MS or GUC_UNIT_MIN.
func baseUnit(rec string) int64 {
	switch rec {
	case "connect_timeout", "delay_threshold_by_time":
		return 1
	case "log_rotation_age":
		return 60000
	}
	return 1000
}

// A verdict is the outcome of comparing one value.
type verdict int

const (
	same   verdict = iota
	masked         // shown as *****: the name is known, the value not readable
	differ
)

// compare compares a value as written with pgpool's display of it, allowing for the ways
// each series prints values; weights are compared by compareWeight.
// The second result names the rule that matched, for the run's record.
func compare(ser, name, written, got string) (verdict, string) {
	if written == got {
		return same, "equal"
	}
	if got == "*****" && (strings.Contains(name, "password") || name == "pool_passwd") {
		return masked, "masked"
	}
	if a, ok := bools[strings.ToLower(written)]; ok {
		if b, ok := shownBools[got]; ok && a == b {
			return same, "boolean"
		}
	}
	if n, ok := enumNumber(ser, record(name), written); ok && n == got {
		return same, "enum number"
	}
	if m := unitRE.FindStringSubmatch(got); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		ms := n * unitMS[m[2]]
		w, err := strconv.ParseInt(written, 10, 64)
		if err == nil {
			if w*baseUnit(record(name)) == ms {
				return same, "time unit"
			}
		}
	}
	a, err1 := strconv.ParseFloat(written, 64)
	b, err2 := strconv.ParseFloat(got, 64)
	if err1 == nil && err2 == nil && a == b {
		return same, "number"
	}
	return differ, "DIFFERS"
}

// weightShares is what each backend's weight becomes: its share of the sum over all backends,
// which 3.1-3.6's SHOW pool_status and every series' SHOW pool_nodes print (as %f).
func weightShares(settings []line) map[int]float64 {
	w := map[int]float64{}
	var sum float64
	for _, s := range settings {
		if record(s.name) == "backend_weightN" {
			v, _ := strconv.ParseFloat(s.value, 64)
			w[index(s.name)] = v
			sum += v
		}
	}
	for k, v := range w {
		if sum > 0 {
			w[k] = v / sum
		}
	}
	return w
}

// compareWeight compares backend_weightN: before 3.7 pool_status prints the share; from 3.7
// SHOW ALL prints the weight as written, cut to an integer (the share is checked through SHOW
// pool_nodes instead).
func compareWeight(ser, written, got string, share float64) (bool, string) {
	g, err := strconv.ParseFloat(got, 64)
	if err != nil {
		return false, ""
	}
	if !reportsAll(ser) {
		return math.Abs(g-share) < 5e-7, fmt.Sprintf("the share %f", share)
	}
	w, _ := strconv.ParseFloat(written, 64)
	return g == math.Trunc(w), fmt.Sprintf("%g cut to an integer", math.Trunc(w))
}

// poolNodesShares reads each node's lb_weight from SHOW pool_nodes output (aligned by psql
// with a header row, fields separated by \x1f).
func poolNodesShares(out string) (map[int]string, error) {
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) < 2 {
		return nil, fmt.Errorf("no rows")
	}
	head := strings.Split(rows[0], "\x1f")
	col := -1
	for i, h := range head {
		if h == "lb_weight" {
			col = i
		}
	}
	if col < 0 || head[0] != "node_id" {
		return nil, fmt.Errorf("no node_id and lb_weight columns in %q", rows[0])
	}
	shares := map[int]string{}
	for _, r := range rows[1:] {
		f := strings.Split(r, "\x1f")
		if len(f) != len(head) {
			continue // "(3 rows)"
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("node_id %q", f[0])
		}
		shares[id] = f[col]
	}
	return shares, nil
}

// checkUsersAndDatabases lists the roles pgpool logs in as (the *_user parameters) and the
// databases it checks (*_database): the run creates them in PostgreSQL before pgpool starts.
func checkUsersAndDatabases(settings []line) (users, databases []string) {
	for _, s := range settings {
		switch r := record(s.name); {
		case strings.HasSuffix(r, "_user") || strings.HasSuffix(r, "_userN"):
			users = append(users, s.value)
		case strings.HasSuffix(r, "_database") || strings.HasSuffix(r, "_databaseN") || r == "sr_check_dbname":
			databases = append(databases, s.value)
		}
	}
	sort.Strings(users)
	sort.Strings(databases)
	return users, databases
}
