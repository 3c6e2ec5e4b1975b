package gen

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"regexp"
	"strings"
	"text/template"

	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/postgres"
)

// The HA scripts are bash, rendered from the templates in templates/: one per script, and
// lib.tmpl with the parts they share (header, logging, ssh, the table of backends, the
// PostgreSQL steps). Version differences are settled here and in the templates, at generation
// time, so that each script holds only its own version's commands.

//go:embed templates/*.tmpl
var haTemplateFS embed.FS

var haTemplates = template.Must(template.New("ha").
	Funcs(shellFuncs).
	ParseFS(haTemplateFS, "templates/*.tmpl"))

// haArg is one positional argument pgpool-II passes to a script.
type haArg struct {
	N       int    // $N
	Escape  string // the pgpool.conf escape (%d) for failover and follow; empty for the others
	Name    string // how the script's log names it
	Meaning string
}

// pgFeatures says which PostgreSQL tools and files the target PostgreSQL version has.
type pgFeatures struct {
	IsReady       bool   // pg_isready (9.3)
	Promote       bool   // pg_ctl promote (9.1)
	PromoteWait   bool   // pg_ctl -w promote (10)
	BaseBackup    bool   // pg_basebackup (9.1)
	WALOption     string // pg_basebackup's option to include WAL: -X stream (9.2), -x (9.1)
	Rewind        bool   // pg_rewind (9.5)
	StandbySignal bool   // standby.signal and primary_conninfo in postgresql.conf (12); recovery.conf before
	// SlotReserve: pg_create_physical_replication_slot(name, true) keeps WAL from the slot's
	// creation on (9.6); before, only from the standby's first connection.
	SlotReserve bool
	// LSN: the pg_lsn type (9.4), with which native replication's recovery compares WAL
	// positions; CurrentLSN and ReplayLSN are the function and pg_stat_replication column.
	LSN                   bool
	CurrentLSN, ReplayLSN string
	// ReceivedLSN is the SQL that reads how much WAL a standby has received, or replayed where
	// it receives none (restored from an archive), for failover.sh to promote the standby that
	// has the most: pg_last_wal_receive_lsn() from 10, pg_last_xlog_receive_location() before.
	ReceivedLSN string
	// StatReplication: pg_stat_replication (9.1), where the follow script sees a standby stream.
	StatReplication bool
}

// nodeCommand is a command line, as words, that acts on one backend.
type nodeCommand struct {
	NodeID int
	Words  []string
}

// haScript is what a script template renders.
type haScript struct {
	Script  string // file name
	C       *schema.Cluster
	Host    *schema.Host // the host the script is for; nil for the data directory's scripts, the same on every backend
	Param   string       // the pgpool.conf parameter that runs it (failover and follow)
	Command string       // that parameter's value
	Args    []haArg
	Escapes string // the escapes of Command, for messages
	PG      pgFeatures

	// Slots: the scripts keep a physical replication slot per standby (streaming replication
	// with [postgresql] replication_slots); native replication's passing standby has none.
	Slots bool
	// Unit is the systemd unit of the backends' servers; ServiceStart and ServiceStop are the
	// commands, run through sudo -n where systemd runs, that start and stop it (serviceCommand).
	Unit                      string
	ServiceStart, ServiceStop []string
	// DropConnections are the command lines, by node id, that close the pgpool host's own
	// connections to a backend (ss -K, through sudo -n): failover.sh runs one when it cannot
	// fence a failed primary (pgpoolSudoCommands).
	DropConnections []nodeCommand

	Native       bool // native replication
	TargetID     bool // the recovery scripts get the target's node id ($5, pgpool-II 4.0+)
	AppNameParam bool // pgpool.conf has backend_application_nameN (4.1+)
	PCPOptions   bool // pcp tools take -h -p -U -w -n and read ~/.pcppass (3.5+)
	Copies       bool // the script copies a data directory over ssh (COPY_TIMEOUT)

	// VIP is the watchdog's virtual IP with its prefix, and Peers the other pgpool hosts
	// (escalation.sh).
	VIP, VIPAddr string
	Peers        []*schema.Host

	PCPUser         string // the first pcp user of the spec
	PCPPasswordFile string // before 3.5: where the follow script reads the pcp password
	KnownHostsFile  string // with c.KnownHosts
}

// escapeMeanings explains pgpool-II's escapes, for failover_command and the follow command.
var escapeMeanings = map[string][2]string{
	//     failover_command                              follow command
	"%d": {"id of the failed node", "id of the node to re-point"},
	"%h": {"host name of the failed node", "host name of that node"},
	"%p": {"port of the failed node", "port of that node"},
	"%D": {"data directory of the failed node", "data directory of that node"},
	"%m": {"id of the new main node, -1 if none", "id of the new primary"},
	"%H": {"host name of the new main node, empty if none", "host name of the new primary"},
	"%M": {"id of the old main node", "id of the old main node"},
	"%P": {"id of the old primary, -1 if none", "id of the old primary"},
	"%r": {"port of the new main node", "port of the new primary"},
	"%R": {"data directory of the new main node", "data directory of the new primary"},
	"%N": {"host name of the old primary", ""},
	"%S": {"port of the old primary", ""},
}

// escapeArgs lists the arguments a failover (follow = false) or follow command passes.
func escapeArgs(escapes string, follow bool) []haArg {
	var args []haArg
	for i, e := range strings.Fields(escapes) {
		m := escapeMeanings[e][0]
		if follow {
			m = escapeMeanings[e][1]
		}
		args = append(args, haArg{N: i + 1, Escape: e, Name: e, Meaning: m})
	}
	return args
}

// recoveryArgs are the arguments of pgpool_recovery()'s scripts, each from the series that
// added it.
var recoveryArgs = []struct {
	since         pgpool.Version
	name, meaning string
}{
	{pgpool.V31, "PGDATA", "data directory of this node, the main node"},
	{pgpool.V31, "target_host", "host name of the node to recover"},
	{pgpool.V31, "target_dir", "data directory of the node to recover"},
	{pgpool.V34, "main_port", "port of this node (pgpool-II 3.4+)"},
	{pgpool.V40, "target_id", "node id of the node to recover (4.0+)"},
	{pgpool.V41, "target_port", "port of the node to recover (4.1+)"},
	{pgpool.V43, "main_host", "host name of this node (4.3+)"},
}

func recoveryArgsFor(v pgpool.Version) []haArg {
	var args []haArg
	for _, a := range recoveryArgs {
		if v.AtLeast(a.since) {
			args = append(args, haArg{N: len(args) + 1, Name: a.name, Meaning: a.meaning})
		}
	}
	return args
}

func pgFeaturesOf(v schema.PGVersion) pgFeatures {
	has := func(since postgres.Version) bool { return v.AtLeast(since.Major, since.Minor) }
	f := pgFeatures{
		IsReady:         has(postgres.PgIsReady),
		Promote:         has(postgres.Promote),
		PromoteWait:     has(postgres.PromoteWait),
		BaseBackup:      has(postgres.BaseBackup),
		WALOption:       "-x",
		Rewind:          has(postgres.Rewind),
		StandbySignal:   has(postgres.StandbySignal),
		SlotReserve:     has(postgres.SlotReserve),
		ReceivedLSN:     "COALESCE(pg_last_xlog_receive_location(), pg_last_xlog_replay_location())",
		StatReplication: has(postgres.StatReplication),
	}
	if has(postgres.WALNames) {
		f.ReceivedLSN = "COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())"
	}
	if has(postgres.StreamWAL) {
		f.WALOption = "-X stream"
	}
	switch {
	case has(postgres.WALNames):
		f.LSN, f.CurrentLSN, f.ReplayLSN = true, "pg_current_wal_lsn()", "replay_lsn"
	case has(postgres.LSNFunctions):
		f.LSN, f.CurrentLSN, f.ReplayLSN = true, "pg_current_xlog_location()", "replay_location"
	}
	return f
}

// newHAScript fills what every script template needs.
func newHAScript(c *schema.Cluster, h *schema.Host, name string) *haScript {
	s := &haScript{
		Script:          name,
		C:               c,
		Host:            h,
		PG:              pgFeaturesOf(c.PostgreSQL),
		Native:          c.Mode.Info().Has(schema.FeatSecondStage),
		Slots:           c.PG.Slots && c.Mode.Info().Has(schema.FeatFollow),
		Unit:            postgresUnit(c),
		ServiceStart:    serviceCommand(c, "start"),
		ServiceStop:     serviceCommand(c, "stop"),
		TargetID:        c.Pgpool.AtLeast(pgpool.V40),
		AppNameParam:    pgpool.Spelling("backend_application_nameN", c.Pgpool) != "",
		PCPOptions:      c.Pgpool.AtLeast(pgpool.V35),
		PCPPasswordFile: c.Layout.Home + "/.pgpoolgen/pcp_password",
		KnownHostsFile:  c.Layout.Home + "/.ssh/pgpoolgen_known_hosts",
	}
	if len(c.PCPUsers) > 0 {
		s.PCPUser = c.PCPUsers[0].Name
	}
	s.DropConnections = pgpoolSudoCommands(c)
	return s
}

// The systemd unit of each backend's PostgreSQL server. Where systemd runs, the scripts start
// and stop a server through it, so that systemd knows the server it would otherwise find
// running behind its back; where it does not (containers), with pg_ctl.
const (
	systemctl = "/usr/bin/systemctl"
	// ownPostgresUnitFormat names the unit setup installs for the cluster's servers where the
	// packages bring none (the source layout), from the cluster's name.
	ownPostgresUnitFormat = "pgpoolgen-postgresql-%s.service"
)

// ownPostgresUnit says whether the backends' server unit is one setup installs (the name
// postgresUnit gives), not the packages' own: Debian's postgresql@<version>-<cluster>, in
// Debian's layout, where pg_createcluster keeps postgresql.conf in
// /etc/postgresql/<version>/<cluster> and the package's unit starts that cluster (a
// postgresql_config_dir of another shape is not one of the package's clusters), or PGDG's
// postgresql-<version> in RHEL's (pgdgUnit).
func ownPostgresUnit(c *schema.Cluster) bool {
	_, ok := debianInstance(c)
	return !ok && !pgdgUnit(c)
}

// pgdgUnit says whether the backends' server runs under PGDG's postgresql-<version>.service:
// in RHEL's layout with postgresql.conf in the data directory, as the unit wants it (it runs
// postgres -D $PGDATA after postgresql-<version>-check-db-dir $PGDATA, which looks for
// PG_VERSION there). A drop-in of the bundle names each host's data directory
// (pgdgDropIn).
func pgdgUnit(c *schema.Cluster) bool {
	return c.Layout.Preset == "rhel" && c.Layout.PostgresConfigDir == ""
}

// debianInstance is the instance of Debian's postgresql@.service for the backends' cluster:
// <version>-<cluster> from postgresql_config_dir, when its last two folders are the PostgreSQL
// version and a cluster name (letters, digits, '.', '_' and '-', which unit names and sudoers
// command lines take as they are).
func debianInstance(c *schema.Cluster) (string, bool) {
	if c.Layout.Preset != "debian" || c.Layout.PostgresConfigDir == "" {
		return "", false
	}
	dir := path.Clean(c.Layout.PostgresConfigDir)
	version, cluster := path.Base(path.Dir(dir)), path.Base(dir)
	if version != c.PostgreSQL.String() || !debianClusterRE.MatchString(cluster) {
		return "", false
	}
	return version + "-" + cluster, true
}

var debianClusterRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// postgresUnit is the systemd unit of every backend's server: Debian's
// postgresql@<version>-<cluster>.service (/etc/postgresql/15/main: postgresql@15-main.service),
// PGDG's postgresql-<version>.service (postgresql-16.service), or the unit setup installs,
// named from the cluster's name.
func postgresUnit(c *schema.Cluster) string {
	if instance, ok := debianInstance(c); ok {
		return "postgresql@" + instance + ".service"
	}
	if pgdgUnit(c) {
		return "postgresql-" + c.PostgreSQL.String() + ".service"
	}
	return fmt.Sprintf(ownPostgresUnitFormat, c.Name)
}

// serviceCommand is the command line, as words, that starts or stops (action) the backends'
// server through systemd; the scripts run it with sudo -n.
func serviceCommand(c *schema.Cluster, action string) []string {
	return []string{systemctl, action, postgresUnit(c)}
}

// serviceCommands lists the exact command lines the HA scripts run through sudo -n on a backend
// (where systemd runs): what the sudoers rule setup installs must allow the OS user, and no more.
func serviceCommands(c *schema.Cluster) []string {
	return []string{
		strings.Join(serviceCommand(c, "start"), " "),
		strings.Join(serviceCommand(c, "stop"), " "),
	}
}

// The pgpool host's sudo command: ss -K closes sockets (needs root and a kernel with
// CONFIG_INET_DIAG_DESTROY, as Debian's has).
const ss = "/usr/bin/ss"

// pgpoolSudoCommands lists, by node id, the command lines failover.sh runs through sudo -n on
// the pgpool host when it cannot fence a failed primary: ss -K, which closes every socket of
// the host to that backend's address and port. pgpool-II's streaming replication check worker
// waits without a timeout on a query to a server that stopped answering, holding the lock that
// find_primary_node() needs after a failover (pool_worker_child.c, do_worker_child, V4_3 and
// V4_7), so no write succeeds until TCP gives up on a host that vanished (some 15 minutes);
// closing the socket ends that wait at once. An IPv6 address is written in brackets, as ss
// takes it; a DNS name ss resolves itself.
func pgpoolSudoCommands(c *schema.Cluster) []nodeCommand {
	if !c.Mode.Info().Has(schema.FeatFailover) {
		return nil
	}
	var out []nodeCommand
	for _, b := range c.Backends {
		addr := b.Address
		if strings.Contains(addr, ":") {
			addr = "[" + addr + "]"
		}
		out = append(out, nodeCommand{NodeID: b.NodeID, Words: []string{ss, "-K", "dst", addr, "dport", "=", fmt.Sprint(b.Port)}})
	}
	return out
}

// render executes the named template; the templates are part of the program, so a failure is
// a bug that the tests catch.
func (s *haScript) render(tmpl string) []byte {
	var buf bytes.Buffer
	if err := haTemplates.ExecuteTemplate(&buf, tmpl, s); err != nil {
		panic("gen: rendering " + tmpl + ": " + err.Error())
	}
	return buf.Bytes()
}

func haFile(c *schema.Cluster, h *schema.Host, dir string, s *haScript, tmpl string) *File {
	return &File{Host: h.Name, Dest: dir + "/" + s.Script, Mode: 0o755, Owner: c.Layout.User, Group: c.Layout.Group, Data: s.render(tmpl)}
}

// haPgpoolScripts renders the scripts pgpool.conf names on a pgpool host, in the config folder,
// mode 0755: with a virtual IP the escalation script; in streaming mode the failover script
// and the follow script.
func haPgpoolScripts(c *schema.Cluster, h *schema.Host) []*File {
	dir := c.Layout.PgpoolConfigDir
	var files []*File
	if c.Escalates() {
		esc := newHAScript(c, h, schema.EscalationScript)
		esc.VIP, esc.VIPAddr = c.Watchdog.VirtualIP.String(), c.Watchdog.VirtualIP.Addr().String()
		for _, n := range c.Watchdog.Nodes {
			if n != h {
				esc.Peers = append(esc.Peers, n)
			}
		}
		files = append(files, haFile(c, h, dir, esc, "escalation.sh.tmpl"))
	}
	if !c.Mode.Info().Has(schema.FeatFailover) {
		return files
	}

	failover := newHAScript(c, h, schema.FailoverScript)
	failover.Param = "failover_command"
	failover.Escapes = failoverArgs(c.Pgpool)
	failover.Command = c.FailoverCommand()
	failover.Args = escapeArgs(failover.Escapes, false)

	follow := newHAScript(c, h, c.FollowScript())
	follow.Param = pgpool.Spelling("follow_primary_command", c.Pgpool)
	follow.Escapes = followArgs(c.Pgpool)
	follow.Command = c.FollowCommand()
	follow.Args = escapeArgs(follow.Escapes, true)
	follow.Copies = true

	return append(files,
		haFile(c, h, dir, failover, "failover.sh.tmpl"),
		haFile(c, h, dir, follow, "follow.sh.tmpl"))
}

// haBackendScripts renders the online recovery scripts into a backend's data directory:
// recovery_1st_stage, recovery_2nd_stage (native replication) and pgpool_remote_start.
//
// The scripts are the same on every backend: a base backup copies the primary's data directory,
// scripts included, so a host-specific copy would end up on another host.
func haBackendScripts(c *schema.Cluster, h *schema.Host) []*File {
	return inDataDirectory(c, h, dataDirScripts(c))
}

// dataDirScripts renders the scripts of every backend's data directory once, as files with a
// Name and no host: Generate shares their bytes between the backends, which keeps the work and
// memory of a cluster linear in its number of backends.
func dataDirScripts(c *schema.Cluster) []*File {
	if !c.Mode.Info().Has(schema.FeatRecovery) {
		return nil
	}
	render := func(s *haScript, tmpl string) *File {
		return &File{Name: s.Script, Mode: 0o755, Owner: c.Layout.User, Group: c.Layout.Group, Data: s.render(tmpl)}
	}
	first := newHAScript(c, nil, schema.RecoveryFirstStage)
	first.Args = recoveryArgsFor(c.Pgpool)
	// Native replication copies in the first stage, as a standby that streams until the second
	// stage promotes it, where PostgreSQL can compare WAL positions (9.4); before that the
	// second stage copies, while pgpool-II holds every client.
	first.Copies = !c.Mode.Info().Has(schema.FeatSecondStage) || first.PG.LSN
	files := []*File{render(first, "recovery_1st_stage.tmpl")}
	if c.Mode.Info().Has(schema.FeatSecondStage) {
		second := newHAScript(c, nil, schema.RecoverySecondStage)
		second.Args = recoveryArgsFor(c.Pgpool)
		second.Copies = !second.PG.LSN
		files = append(files, render(second, "recovery_2nd_stage.tmpl"))
	}
	start := newHAScript(c, nil, schema.RemoteStartScript)
	start.Slots = false // it only starts the server recovery_1st_stage made
	start.Args = []haArg{
		{N: 1, Name: "target_host", Meaning: "host name of the node to start"},
		{N: 2, Name: "target_dir", Meaning: "data directory of the node to start"},
	}
	return append(files, render(start, "pgpool_remote_start.tmpl"))
}

// inDataDirectory places the data directory's scripts on backend h.
func inDataDirectory(c *schema.Cluster, h *schema.Host, scripts []*File) []*File {
	out := make([]*File, len(scripts))
	for i, s := range scripts {
		out[i] = &File{Host: h.Name, Dest: h.DataDirectory + "/" + s.Name, Mode: s.Mode, Owner: s.Owner, Group: s.Group, Data: s.Data}
	}
	return out
}
