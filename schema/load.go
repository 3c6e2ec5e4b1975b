package schema

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"pgpoolgen/schema/pgpool"
)

// Env is what Load may read besides the spec: environment variables and files named in it
// (password_env, password_file). Tests pass their own; the command passes the process's.
type Env struct {
	LookupEnv func(name string) (string, bool)
	// ReadFile reads a file the spec names. Nil means schema.ReadFile, which reads regular
	// files only and stops after MaxFileSize+1 bytes; Load refuses larger files whatever
	// ReadFile returns.
	ReadFile func(name string) ([]byte, error)
}

// Load reads the spec in src, named file in messages, and returns the validated cluster. On
// failure the error is an ErrorList holding every problem found, sorted by position.
// Relative paths in the spec (password_file) are relative to the spec's folder.
//
// offsetPos is the line and column, in characters, of a byte offset into src. The TOML
// library's own Line and Col are off by one at the start of a line and count bytes, so the
// position of a syntax error comes from its byte offset (found by FuzzLoad).
func offsetPos(src []byte, off int) Pos {
	off = max(0, min(off, len(src)))
	lineStart := bytes.LastIndexByte(src[:off], '\n') + 1
	return Pos{Line: bytes.Count(src[:off], []byte{'\n'}) + 1, Col: utf8.RuneCount(src[lineStart:off]) + 1}
}

// A spec that crosses a limit (MaxSpecSize, MaxDepth, MaxValues) gets that one problem: the
// limits are checked before the TOML library reads the spec.
func Load(file string, src []byte, env Env) (*Cluster, error) {
	if e := checkBounds(file, src); e != nil {
		return nil, ErrorList{e}
	}
	if env.ReadFile == nil {
		env.ReadFile = ReadFile
	}
	var tree map[string]any
	if _, err := toml.Decode(string(src), &tree); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, ErrorList{{File: file, Pos: offsetPos(src, pe.Position.Start), Msg: "TOML syntax error: " + syntaxMessage(pe.Message)}}
		}
		return nil, ErrorList{{File: file, Msg: "TOML syntax error"}}
	}
	d := &decoder{file: file, pos: scanPositions(string(src))}
	l := &loader{d: d, env: env, dir: filepath.Dir(file), c: &Cluster{}}
	if name, err := specName(file); err != nil {
		d.errs = append(d.errs, err)
	} else {
		l.c.SpecName = name
	}
	l.load(d.root(tree))
	d.errs.sort()
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return l.c, nil
}

// loader fills a Cluster from the decoded spec, section by section. Sections are read in an
// order where what a later one needs (the target version, the mode) is known first; a section
// that failed leaves its zero value, and checks that depend on it are skipped rather than
// piled on.
type loader struct {
	d   *decoder
	env Env
	dir string
	c   *Cluster
	// versionOK is false when the pgpool-II version is missing or unknown: checks against it
	// would only repeat that one problem.
	versionOK bool
	// hostPath is the key path of each host, for errors found after [[host]] is read.
	hostPath map[*Host]string
	// release is cluster.pgpool_release, nil when the spec names none: then the bundle is
	// checked against the series' tip.
	release *pgpool.Release
	// sslParam is whether [parameters] turns ssl on, which hostssl rules need; the rules are
	// read before [parameters].
	sslParam bool
	// wdHostKeys are the [[host]] watchdog keys the spec gives, refused when the cluster
	// turns out to have one pgpool host.
	wdHostKeys []string
}

func (l *loader) load(root *table) {
	if p, ok := root.m["parameters"].(map[string]any); ok {
		l.sslParam, _ = p["ssl"].(bool)
	}
	root.require("cluster", "every spec starts with a [cluster] table giving name, mode, pgpool_version and postgresql_version")
	root.require("layout", "add [layout] with preset = "+presetChoice())
	root.require("host", "add a [[host]] section for every pgpool and PostgreSQL server")
	l.cluster(root.sub("cluster"))
	l.layout(root.sub("layout"))
	l.pgpoolSection(root.sub("pgpool"))
	l.healthCheck(root.sub("health_check"))
	l.frozenServerWarning()
	l.srCheck(root.sub("sr_check"))
	l.recovery(root.sub("recovery"))
	l.ssh(root.sub("ssh"))
	l.replication(root.sub("replication"))
	l.pgSettings(root.sub("postgresql"))
	l.install(root.sub("install"))
	before := len(l.d.errs)
	l.hosts(root, root.list("host"))
	l.watchdog(root.sub("watchdog"), len(l.d.errs) == before)
	l.trust(len(l.d.errs) == before)
	l.pcpUsers(root, root.list("pcp_user"))
	l.poolUsers(root.list("pool_user"))
	l.hba(root, root.list("hba"))
	l.poolUserMethods(root.list("pool_user"))
	l.checkPGSettings()
	l.dbRoles()
	l.parameters(root.sub("parameters"))
	l.bindingsInRelease()
	root.finish()
}

func (l *loader) cluster(t *table) {
	c := l.c
	t.require("name", `name the cluster, such as name = "main"`)
	t.require("mode", `set mode = "streaming_replication" or "native_replication"`)
	t.require("pgpool_version", `set the target pgpool-II series, such as pgpool_version = "4.3"`)
	t.require("postgresql_version", `set the target PostgreSQL major version, such as postgresql_version = "15"`)
	if s, ok := t.str("name"); ok && l.checkName(t.at("name"), s) {
		c.Name = s
	}
	if s, ok := t.str("mode"); ok {
		switch m := modeNamed(s); {
		case m != nil:
			c.Mode = m.Mode
		default:
			msg := fmt.Sprintf("unknown mode %q; use \"streaming_replication\" (also called \"master_slave\"), \"native_replication\" (\"replication\"), \"logical_replication\", \"slony\", \"snapshot_isolation\" or \"raw\"", s)
			l.d.atValue(t.at("mode"), "%s", msg)
		}
	}
	if v, ok := t.get("pgpool_version"); ok {
		s, isStr := v.(string)
		if !isStr {
			t.wrongType("pgpool_version", v, `a string such as "4.3"`)
		} else if ver, err := pgpool.ParseVersion(s); err != nil {
			hint := `write a pgpool-II series such as "4.3"`
			if parts := strings.Split(s, "."); len(parts) == 3 {
				hint = fmt.Sprintf("pgpoolgen targets a series, not a release: write %q, and pgpool_release = %q to name the release", parts[0]+"."+parts[1], s)
			}
			l.d.atValue(t.at("pgpool_version"), "%v; %s", err, hint)
		} else if !ver.Known() {
			l.d.atValue(t.at("pgpool_version"), "pgpoolgen does not know pgpool-II %s; it targets %s", ver, pgpool.SeriesList())
		} else {
			c.Pgpool, l.versionOK = ver, true
		}
	}
	if c.Mode != 0 && l.versionOK && !c.Mode.Info().In(c.Pgpool) {
		l.d.atValue(t.at("mode"), "pgpool-II %s has no %s mode (pgpool-II %s has); choose another mode or pgpool_version", c.Pgpool, c.Mode, c.Mode.Info().Series())
	}
	l.pgpoolRelease(t)
	if v, ok := t.get("postgresql_version"); ok {
		if pv, err := parsePGVersion(v); err != nil {
			l.d.atValue(t.at("postgresql_version"), "%v", err)
		} else {
			c.PostgreSQL = pv
		}
	}
	t.finish()
}

// pgpoolRelease reads cluster.pgpool_release, the exact minor release of the series, such as
// "4.3.5" (Debian 12's): names that came in a later release of the series are then refused
// (parameters, bindingsInRelease).
func (l *loader) pgpoolRelease(t *table) {
	v, ok := t.get("pgpool_release")
	if !ok {
		return
	}
	at := t.at("pgpool_release")
	s, isStr := v.(string)
	if !isStr {
		t.wrongType("pgpool_release", v, `a release in quotes, such as "4.3.5"`)
		return
	}
	r, err := pgpool.ParseRelease(s)
	switch {
	case err != nil:
		l.d.atValue(at, "%v", err)
	case !l.versionOK:
	case r.Version != l.c.Pgpool:
		l.d.atValue(at, "%s is a release of pgpool-II %s, not of pgpool_version %s; write a %s release (such as %q) or change pgpool_version", r, r.Version, l.c.Pgpool, l.c.Pgpool, pgpool.Release{Version: l.c.Pgpool, Patch: r.Patch}.String())
	default:
		l.release = &r
	}
}

// parsePGVersion accepts "15", 15, or "9.6".
func parsePGVersion(v any) (PGVersion, error) {
	const want = `want a PostgreSQL major version from "9.0" to "9.6" or from "10" to "18"`
	var s string
	switch x := v.(type) {
	case int64:
		s = fmt.Sprint(x)
	case string:
		s = x
	default:
		return PGVersion{}, fmt.Errorf("is %s; %s", tomlType(v), want)
	}
	for m := 10; m <= 18; m++ {
		if s == fmt.Sprint(m) {
			return PGVersion{Major: m}, nil
		}
	}
	for m := 0; m <= 6; m++ {
		if s == fmt.Sprintf("9.%d", m) {
			return PGVersion{Major: 9, Minor: m}, nil
		}
	}
	if major, _, ok := strings.Cut(s, "."); ok {
		if _, err := parsePGVersion(major); err == nil {
			return PGVersion{}, fmt.Errorf("%q is a minor release; PostgreSQL 10 and later are named by their major version: write %q", s, major)
		}
	}
	return PGVersion{}, fmt.Errorf("%q is not a PostgreSQL version pgpoolgen supports; %s", s, want)
}

// A Preset is an install layout a spec can start from ([layout] preset): every path of Layout,
// those that depend on the PostgreSQL version holding %s.
type Preset struct {
	Name string
	// Why says, for docs, errors and pgpoolgen init, what installs the layout.
	Why    string
	Layout Layout
	// Install is [install] method's default with this layout.
	Install string
}

// Presets lists the layouts, in the order messages name them.
var Presets = []Preset{
	// The source document's: pgpool-II and PostgreSQL built from source under /usr/local.
	{Name: "source", Why: "pgpool-II and PostgreSQL built from source under /usr/local", Install: "source", Layout: Layout{
		PgpoolBinDir:    "/usr/local/pgpool2/bin",
		PgpoolConfigDir: "/usr/local/pgpool2/etc",
		PgpoolRunDir:    "/var/run/pgpool",
		PgpoolSocketDir: "/tmp",
		PCPSocketDir:    "/tmp",
		PgpoolLogDir:    "/var/log/pgpool", // pgpool_status must outlive a reboot
		PostgresBinDir:  "/usr/local/pgsql/bin",
		PostgresLibDir:  "/usr/local/pgsql/lib",
		DataDirectory:   "/usr/local/pgsql/data",
		Home:            "/home/postgres",
		SudoCommand:     "/usr/bin/sudo",
		IPCommand:       "/sbin/ip",
		ArpingCommand:   "/usr/sbin/arping", // pgpool-II's default, iputils'
	}},
	// Debian's packages pgpool2 and postgresql-N (see docs/spec.md).
	{Name: "debian", Why: "Debian's packages pgpool2 and postgresql-<PG>", Install: "package", Layout: Layout{
		PgpoolBinDir:      "/usr/sbin",
		PgpoolConfigDir:   "/etc/pgpool2",
		PgpoolRunDir:      "/var/run/postgresql",
		PgpoolSocketDir:   "/var/run/postgresql",
		PCPSocketDir:      "/var/run/postgresql",
		PgpoolLogDir:      "/var/log/postgresql",
		PostgresBinDir:    "/usr/lib/postgresql/%s/bin",
		PostgresLibDir:    "/usr/lib/postgresql/%s/lib",
		DataDirectory:     "/var/lib/postgresql/%s/main",
		PostgresConfigDir: "/etc/postgresql/%s/main",
		Home:              "/var/lib/postgresql",
		SudoCommand:       "/usr/bin/sudo",
		IPCommand:         "/usr/bin/ip",     // iproute2
		ArpingCommand:     "/usr/bin/arping", // iputils-arping
	}},
	// RHEL 8/9 and their rebuilds with PostgreSQL's PGDG RPMs (postgresql<PG>-server) and
	// pgpool.net's (pgpool-II-pg<PG>, pgpool-II-pg<PG>-extensions), as pgpool-II's guide
	// installs them ("Pgpool-II + Watchdog Setup Example", doc/src/sgml/example-cluster.sgml).
	// From pgpool-II's src/pgpool.spec and src/redhat/ (V4_5_STABLE to V4_7_STABLE): the
	// programs in %{_bindir}, /usr/bin; the configuration in --sysconfdir=/etc/pgpool-II; the
	// pid file's /var/run/pgpool, which the package makes and its tmpfiles.d entry recreates
	// at boot (pgpool_tmpfiles.d); the sockets in /var/run/postgresql
	// (pgpool_socket_dir.patch, pcp_unix_domain_path.patch: the pcp tools' default too);
	// pgpool-recovery.so in %{pghome}/lib. The OS user's home is /var/lib/pgsql (the spec's
	// useradd and the guide's ~/.ssh, ~/.pgpass). PGDG's: /usr/pgsql-<PG>/bin and lib, PGDATA
	// /var/lib/pgsql/<PG>/data with postgresql.conf and pg_hba.conf in it (the guide's initdb
	// and backend_data_directory), unit postgresql-<PG>.service. pgpool_status (logdir,
	// work_dir from 4.7) goes to /var/lib/pgpool, the work_dir 4.7's RPM makes
	// (pgpool.conf.sample.patch); before 4.7 the RPM leaves logdir at /tmp, which a reboot
	// may empty. sudo, ip and arping are where RHEL 8 and 9 keep them (sudo, iproute,
	// iputils).
	{Name: "rhel", Why: "RHEL's PGDG packages postgresql<PG>-server and pgpool.net's pgpool-II-pg<PG>", Install: "none", Layout: Layout{
		PgpoolBinDir:    "/usr/bin",
		PgpoolConfigDir: "/etc/pgpool-II",
		PgpoolRunDir:    "/var/run/pgpool",
		PgpoolSocketDir: "/var/run/postgresql",
		PCPSocketDir:    "/var/run/postgresql",
		PgpoolLogDir:    "/var/lib/pgpool",
		PostgresBinDir:  "/usr/pgsql-%s/bin",
		PostgresLibDir:  "/usr/pgsql-%s/lib",
		DataDirectory:   "/var/lib/pgsql/%s/data",
		Home:            "/var/lib/pgsql",
		SudoCommand:     "/usr/bin/sudo",
		IPCommand:       "/usr/sbin/ip",
		ArpingCommand:   "/usr/sbin/arping",
	}},
}

// PresetNamed is the preset of that name, or nil.
func PresetNamed(name string) *Preset {
	for i := range Presets {
		if Presets[i].Name == name {
			return &Presets[i]
		}
	}
	return nil
}

// presetChoice names the presets for messages: `"source" (...), "debian" (...) or "rhel" (...)`.
func presetChoice() string {
	var parts []string
	for _, p := range Presets {
		parts = append(parts, fmt.Sprintf("%q (%s)", p.Name, p.Why))
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

func (l *loader) layout(t *table) {
	lay := &l.c.Layout
	t.require("preset", "choose preset = "+presetChoice())
	if s, ok := t.str("preset"); ok {
		p := PresetNamed(s)
		if p == nil {
			l.d.atValue(t.at("preset"), "unknown preset %q; use %s", s, presetChoice())
		} else {
			*lay = p.Layout
			lay.Preset = s
			pg := l.c.PostgreSQL.String()
			for _, f := range lay.paths() {
				if strings.Contains(*f.dst, "%s") {
					*f.dst = fmt.Sprintf(*f.dst, pg)
				}
			}
		}
	}
	lay.User, lay.Group = "postgres", ""
	if s, ok := t.str("user"); ok && l.checkUser(t.at("user"), s) {
		lay.User = s
	}
	if s, ok := t.str("group"); ok && l.checkUser(t.at("group"), s) {
		lay.Group = s
	}
	if lay.Group == "" {
		lay.Group = lay.User
	}
	for _, f := range lay.paths() {
		if s, ok := t.str(f.key); ok && (s == "" && f.key == "postgresql_config_dir" || l.checkPath(t.at(f.key), s)) {
			*f.dst = s // postgresql_config_dir = "" says postgresql.conf is in the data directory
		}
	}
	t.finish()
}

// pathKeys lists the spec keys of the layout's paths.
func (lay *Layout) pathKeys() []string {
	var keys []string
	for _, p := range lay.paths() {
		keys = append(keys, p.key)
	}
	return keys
}

type layoutPath struct {
	key string
	dst *string
}

// paths lists the layout's path fields with their spec keys, in documentation order.
func (lay *Layout) paths() []layoutPath {
	return []layoutPath{
		{"pgpool_bin_dir", &lay.PgpoolBinDir},
		{"pgpool_config_dir", &lay.PgpoolConfigDir},
		{"pgpool_run_dir", &lay.PgpoolRunDir},
		{"pgpool_socket_dir", &lay.PgpoolSocketDir},
		{"pcp_socket_dir", &lay.PCPSocketDir},
		{"pgpool_log_dir", &lay.PgpoolLogDir},
		{"postgresql_bin_dir", &lay.PostgresBinDir},
		{"postgresql_lib_dir", &lay.PostgresLibDir},
		{"data_directory", &lay.DataDirectory},
		{"postgresql_config_dir", &lay.PostgresConfigDir},
		{"home", &lay.Home},
		{"sudo_command", &lay.SudoCommand},
		{"ip_command", &lay.IPCommand},
		{"arping_command", &lay.ArpingCommand},
	}
}

// Defaults of the [pgpool], [health_check], [sr_check] and [recovery] tables.
//
// The health check (pgpool-II's own default, health_check_period = 0, never notices a dead
// server). A check sleeps period P between rounds; a round is 1 + max_retries R tries, retry_delay
// D apart, and one try (connect, startup, authentication) is bounded by timeout T (an alarm in
// health_check.c), its connect() alone by connect_timeout CT (connect_with_timeout). Failover
// starts, from the fault, within:
//   - killed server (connection refused at once): P + R·D = 1 + 0 = 1 s;
//   - frozen server (the kernel completes the handshake, nothing answers): P + (R+1)·T + R·D
//     = 1 + 2·4 + 0 = 9 s;
//   - vanished host (SYN unanswered): P + (R+1)·min(CT, T) + R·D = 1 + 2·4 + 0 = 9 s.
//
// A freeze shorter than T = 4 s fails no try (the try waits it out); one shorter than about
// 2·T = 8 s may fail the first try, never the retry; one of 8 s or more may fail over, as it
// must if a freeze is to fail over within 9 s. A lost SYN is sent again 1 s and 3 s later,
// within CT = 4 s. CT = T, so that neither cuts a try short that the other allows; CT also
// bounds pgpool-II's connects for client sessions. The cost: a refused connection is retried
// at once, so a restart of a backend's PostgreSQL fails it over (as any setting that fails over
// a killed server within a second must); detach it first (pcp_detach_node) to restart it.
const (
	defaultPort           = 9999
	defaultPCPPort        = 9898
	defaultBackendPort    = 5432
	defaultListen         = "*"
	defaultPCPListen      = "localhost" // pgpool-II's own default from 3.7: pcp is an admin port
	defaultHCPeriod       = 1
	defaultHCTimeout      = 4
	defaultHCMaxRetries   = 1
	defaultHCRetryDelay   = 0
	defaultConnectTimeout = 4000 // ms
	defaultDBUser         = "postgres"
	defaultDatabase       = "postgres"
	defaultSRPeriod       = 10
	defaultRecoveryTime   = 90
)

func (l *loader) pgpoolSection(t *table) {
	c := l.c
	c.Port, c.PCPPort = defaultPort, defaultPCPPort
	c.ListenAddresses, c.PCPListenAddresses = defaultListen, defaultPCPListen
	c.LoadBalance = true
	if n, ok := t.integer("port", 1024, 65535); ok {
		c.Port = n
	}
	if n, ok := t.integer("pcp_port", 1024, 65535); ok {
		c.PCPPort = n
	}
	if s, ok := t.str("listen_addresses"); ok && l.checkListen(t.at("listen_addresses"), s) {
		c.ListenAddresses = s
	}
	if l.needs(t, "pcp_listen_addresses") {
		if s, ok := t.str("pcp_listen_addresses"); ok && l.checkListen(t.at("pcp_listen_addresses"), s) {
			c.PCPListenAddresses = s
		}
	}
	if b, ok := t.boolean("load_balance"); ok {
		c.LoadBalance = b
	}
	if c.Port == c.PCPPort {
		key, other := "pcp_port", "pgpool.port"
		if !t.has("pcp_port") {
			key, other = "port", "pgpool.pcp_port"
		}
		l.d.atValue(t.at(key), "%d is also %s; pgpool and pcp need ports of their own", c.Port, other)
	}
	t.finish()
}

func (l *loader) healthCheck(t *table) {
	h := &l.c.HealthCheck
	*h = HealthCheck{Period: defaultHCPeriod, Timeout: defaultHCTimeout, MaxRetries: defaultHCMaxRetries,
		RetryDelay: defaultHCRetryDelay, ConnectTimeout: defaultConnectTimeout, User: defaultCheckUser, Database: defaultDatabase}
	if t.has("period") {
		if v, ok := t.m["period"].(int64); ok && v == 0 {
			l.d.atValue(t.at("period"), "0 turns health checking off, and pgpool-II then does not notice a dead primary until a client fails on it; use 1 or more seconds")
			t.get("period")
		} else if n, ok := t.integer("period", 1, 86400); ok {
			h.Period = n
		}
	}
	if n, ok := t.integer("timeout", 0, 86400); ok {
		h.Timeout = n
	}
	if l.needs(t, "max_retries") {
		if n, ok := t.integer("max_retries", 0, 100); ok {
			h.MaxRetries = n
		}
	}
	if l.needs(t, "retry_delay") {
		if n, ok := t.integer("retry_delay", 0, 86400); ok {
			h.RetryDelay = n
		}
	}
	if l.needs(t, "connect_timeout") {
		if n, ok := t.integer("connect_timeout", 0, 86400000); ok {
			h.ConnectTimeout = n
		}
	}
	if s, ok := t.str("user"); ok && l.checkUser(t.at("user"), s) {
		h.User = s
	}
	if l.needs(t, "database") {
		if s, ok := t.str("database"); ok && l.checkUser(t.at("database"), s) {
			h.Database = s
		}
	}
	t.finish()
}

// frozenServerWarning warns where the target release's health check cannot fail a frozen
// server over (pgpool.FrozenServerUnbounded): the frozen-server figure of the defaults does
// not hold there, and no setting restores it. Without cluster.pgpool_release the series' tip
// is the target, as for the parameters.
func (l *loader) frozenServerWarning() {
	if !l.versionOK {
		return
	}
	first, ok := pgpool.FrozenServerUnbounded(l.c.Pgpool)
	if !ok || l.release != nil && l.release.Less(first) {
		return
	}
	at := "cluster.pgpool_version"
	if _, ok := l.d.pos.key["health_check.timeout"]; ok {
		at = "health_check.timeout"
	} else if l.release != nil {
		at = "cluster.pgpool_release"
	}
	target, since, earlier := "pgpool-II "+l.c.Pgpool.String(), "", ""
	switch {
	case l.release != nil:
		target = "pgpool-II " + l.release.String()
		if first.Patch > 0 {
			since = fmt.Sprintf(" (like every %s release from %s)", l.c.Pgpool, first)
			earlier = fmt.Sprintf(", or run a release before %s", first)
		}
	case first.Patch > 0:
		since = fmt.Sprintf(" from %s, which pgpoolgen assumes without cluster.pgpool_release,", first)
		earlier = fmt.Sprintf("; if the hosts run an earlier %s release, name it in cluster.pgpool_release", l.c.Pgpool)
	}
	l.warn(at, "%s%s does not fail over a frozen server (stopped or hung while its kernel still accepts connections): health_check_timeout's alarm no longer ends a try that got past connect() (SIGALRM has SA_RESTART, pool_signal.c), and no setting bounds the wait; a killed server or a vanished host still fails over. Fence a frozen server from outside (kill it, or pcp_detach_node its node)%s",
		target, since, earlier)
}

func (l *loader) srCheck(t *table) {
	s := &l.c.SRCheck
	*s = SRCheck{Period: defaultSRPeriod, User: defaultCheckUser, Database: defaultDatabase}
	if t.present() && l.c.Mode != 0 && !l.c.Mode.Info().Has(FeatSRCheck) {
		l.d.atKey(t.path, "the streaming replication check runs in streaming_replication mode only; remove [sr_check] or change cluster.mode")
	}
	if n, ok := t.integer("period", 0, 86400); ok {
		s.Period = n
	}
	if v, ok := t.str("user"); ok && l.checkUser(t.at("user"), v) {
		s.User = v
	}
	if l.needs(t, "database") {
		if v, ok := t.str("database"); ok && l.checkUser(t.at("database"), v) {
			s.Database = v
		}
	}
	t.finish()
}

func (l *loader) recovery(t *table) {
	r := &l.c.Recovery
	*r = Recovery{User: defaultDBUser, Timeout: defaultRecoveryTime}
	if t.present() && l.c.Mode != 0 && !l.c.Mode.Info().Has(FeatRecovery) {
		l.d.atKey(t.path, "%s mode has no online recovery (pgpoolgen copies a node with pg_basebackup in streaming and native replication and snapshot isolation); remove [recovery]", l.c.Mode)
	}
	if v, ok := t.str("user"); ok && l.checkUser(t.at("user"), v) {
		r.User = v
	}
	if n, ok := t.integer("timeout", 1, 86400); ok {
		r.Timeout = n
	}
	t.finish()
}

func (l *loader) ssh(t *table) {
	s := &l.c.SSH
	*s = SSH{Port: 22, ConnectTimeout: 10, CommandTimeout: 300, CopyTimeout: 21600, RestrictFrom: true}
	if n, ok := t.integer("port", 1, 65535); ok {
		s.Port = n
	}
	if n, ok := t.integer("connect_timeout", 1, 600); ok {
		s.ConnectTimeout = n
	}
	if n, ok := t.integer("command_timeout", 10, 86400); ok {
		s.CommandTimeout = n
	}
	if n, ok := t.integer("copy_timeout", 60, 7*86400); ok {
		s.CopyTimeout = n
	}
	if b, ok := t.boolean("restrict_from"); ok {
		s.RestrictFrom = b
	}
	t.finish()
}

func (l *loader) replication(t *table) {
	r := &l.c.Replication
	r.User = "repl"
	if v, ok := t.str("user"); ok && l.checkUser(t.at("user"), v) {
		r.User = v
	}
	l.rewindUser(t)
	t.finish()
}

func (l *loader) install(t *table) {
	in := &l.c.Install
	in.Method = "package"
	if p := PresetNamed(l.c.Layout.Preset); p != nil {
		in.Method = p.Install
	}
	if s, ok := t.str("method"); ok {
		switch s {
		case "package", "source", "none":
			in.Method = s
		default:
			l.d.atValue(t.at("method"), "unknown install method %q; use \"package\" (Debian's packages), \"source\" (a source tarball) or \"none\" (installed by other means)", s)
		}
	}
	if s, ok := t.str("source_tarball"); ok && l.checkPath(t.at("source_tarball"), s) {
		if !strings.HasSuffix(s, ".tar.gz") && !strings.HasSuffix(s, ".tgz") {
			l.d.atValue(t.at("source_tarball"), "%q is not a .tar.gz or .tgz file", s)
		}
		in.SourceTarball = s
	}
	switch {
	case in.Method == "source" && in.SourceTarball == "" && !t.has("source_tarball"):
		where := t.path
		if !t.present() {
			where = "layout.preset"
		}
		l.d.atKey(where, "installing pgpool-II from source needs [install] source_tarball, the path of pgpool-II's source tarball on the hosts (such as \"/usr/local/src/pgpool-II-%s.0.tar.gz\"); or set [install] method = \"none\"", l.c.Pgpool)
	case in.Method != "source" && t.has("source_tarball"):
		l.d.atKey(t.at("source_tarball"), "is only used with method = \"source\"")
	case in.Method == "package" && t.has("method") && l.c.Layout.Preset != "debian":
		l.d.atValue(t.at("method"), "\"package\" installs Debian's packages, which need preset = \"debian\"; use \"source\" or \"none\"")
	}
	t.finish()
}

// md5hex is what pg_md5 prints for a password: hex(md5(password)), no salt.
func md5hex(password string) string {
	sum := md5.Sum([]byte(password))
	return hex.EncodeToString(sum[:])
}
