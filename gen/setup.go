package gen

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"text/template"

	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/postgres"
	schematext "pgpoolgen/schema/text"
)

//go:embed templates/setup/setup.sh.tmpl
var setupFS embed.FS

var setupTemplate = template.Must(template.New("setup.sh.tmpl").Funcs(setupFuncs).ParseFS(setupFS, "templates/setup/setup.sh.tmpl"))

// shellFuncs quote values for the shell. The model's values are validated to be safe anyway;
// quoting them all keeps a later change from opening a hole.
var shellFuncs = template.FuncMap{
	"sq": func(v any) string { return sq(text(v)) },
	"cm": func(v any) string { return cm(text(v)) },
	"dq": func(v any) string { return dq(text(v)) },
}

// setupFuncs are shellFuncs for setup.sh.tmpl, whose data holds strings only: a template calls
// a function that takes a string a third faster than one that takes any, and setup.sh.tmpl
// calls them dozens of times per host.
var setupFuncs = template.FuncMap{"sq": sq, "cm": cm, "dq": dq, "dir": path.Dir}

// text is a template argument as fmt prints it: the HA templates pass strings, versions, and
// a few ints.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	}
	return fmt.Sprint(v)
}

// sq makes one shell word in single quotes.
func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// cm makes a value safe in a comment: a line break would end the comment. Validated text
// passes schema/text's filter unchanged; anything else is written as escapes, never raw.
func cm(s string) string { return schematext.Visible(s) }

// dq escapes a value for the inside of a double-quoted string.
func dq(s string) string { return dqReplacer.Replace(s) }

// dqReplacer is built once: a Replacer costs about 5 kB to build, and dq runs for every
// value of every setup script (a 128-backend bundle calls it thousands of times).
var dqReplacer = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")

// setupData is what setup.sh.tmpl renders for one host. Every string in it comes from the
// validated model and is safe inside single quotes.
type setupData struct {
	Cluster, Host, Address, Roles, SpecName string
	Mode                                    string
	PgpoolVersion, PGVersion                string
	User, Group, Home                       string
	PathLine                                string
	PgBin, PgLib, PgpoolBin                 string
	Pgpool, Backend                         bool
	Port                                    string

	InstallPgpool, InstallRecovery bool
	InstallMethod, Tarball, Prefix string
	SQLDir                         string
	PgpoolPackage, RecoveryPackage string

	Functions string // the "functions" part of setup.sh.tmpl, rendered from setupCommon

	Programs []program
	// PortChecks are the preflight's lines that check each port this host must reach (some
	// 250 on a backend of 128), rendered here: by the template they were most of its work.
	PortChecks rows
	Secrets    []secretEntry
	Dirs       []dir
	Checks     []pathCheck // every path setup changes or reads, for the preflight

	// CheckLines and ProgramLines are the preflight's lines for Checks and Programs, rendered
	// in Go like PortChecks: in the template they were a quarter of its function calls.
	CheckLines, ProgramLines rows

	Files     []setupFile
	DataDir   string
	DataFiles []setupFile

	BlockBegin, BlockEnd string
	AuthorizedKeys       string    // the block's path relative to setup.sh
	PoolPasswdBlock      setupFile // the bundle's pool_passwd entries, merged by user name
	Pgpass               string    // the lines that build the .pgpass block, one per backend (pgpassLines)
	PCPPass              string
	PCPPasswordFile      string

	// The PostgreSQL side of a backend. Its files wait until the database cluster exists
	// (ClusterGuard): before that, pg_createcluster or initdb would find a folder in the way.
	ClusterGuard       string
	ClusterFiles       []setupFile // the settings file in Debian's conf.d
	HBABlock           setupFile   // merged at the top of pg_hba.conf: the first matching line wins
	IncludeBlock       setupFile   // merged at the end of the data directory's postgresql.conf
	IncludeDirConf     string      // Debian: the postgresql.conf that must read conf.d
	DBRoles            []setupRole // created or updated on the primary
	PasswordEncryption string      // password_encryption's value for the passwords setup sets
	PgCtlDir           string      // pg_ctl -D: postgresql.conf's folder
	PgLogFile          string      // pg_ctl restart's log
	PgpoolConf         string      // pgpool -f, for pgpool reload
	PgpoolPidFile      string

	// A pgpool host's pool_passwd entries made at apply time, with the AES key.
	KeyFile  string
	AESUsers []aesUser

	RecoveryDB    string
	ExtensionSQL  string
	PoolPasswd    string // create it empty when missing (no [[pool_user]])
	PoolUsers     string // with [[pool_user]]: their names, whose lines setup owns in pool_passwd
	HasIsReady    bool   // pg_isready (PostgreSQL 9.3)
	RequiredFiles []program
	SSHKeyLine    string // the host's ssh_key, when it logs in elsewhere
	ReloadNote    bool   // pgpool host: say that pgpool must reload or restart after a change
	// PackageSudoers is the pgpool-II RPM's sudoers file (rhel layout), which setup points
	// out: it lets the OS user run ip and arping as root with any arguments.
	PackageSudoers string
	// SELinuxSSH: the host may run SELinux (rhel layout), where ~/.ssh needs its labels.
	SELinuxSSH bool
	AuthKey    bool // pgpool host: pgpool.conf gets wd_authkey from its secret
}

// setupCommon is what the "functions" part of setup.sh.tmpl renders (the shell functions of
// the preflight): the same on every host of a cluster, so it is rendered once per bundle.
type setupCommon struct{ User, Group, Home string }

type program struct{ Path, Why string }

// A setupRole is a role setup makes sure of on the primary: the attributes it adds when
// missing (never removing any), the grants, and the secret of its password ("" for none).
type setupRole struct {
	Name, Secret, For string
	Attributes        string   // CREATE ROLE words: LOGIN, and SUPERUSER or REPLICATION
	Superuser         bool     // SUPERUSER among them
	Replication       bool     // REPLICATION among them
	Monitor           bool     // member of pg_monitor
	Functions         []string // EXECUTE on these functions (pg_rewind's, 11+)
}

// An aesUser is a pool_passwd entry setup makes from a secret: user:AES<base64>.
type aesUser struct{ Name, Secret string }

// A dir is a folder setup looks after. Owned ones get the OS user and Mode every run;
// others are only created when missing: owned by the user when UserIfMissing (sockets, logs),
// else by root (the parents of configuration files). The run folder is OwnerOnly: it may be a
// shared system folder (Debian's /var/run/postgresql, 2775), whose mode setup leaves alone.
type dir struct {
	Path          string
	Mode          string
	Owned         bool
	UserIfMissing bool
	OwnerOnly     bool // an existing one must belong to the OS user; its mode is the system's
}

// A pathCheck is a path setup.sh checks before it changes anything. Kind is what the path must
// be when it exists: "dir", "file" (the OS user's), or "rootfile" (root's, so never in a folder
// the user can change).
type pathCheck struct{ Path, Kind string }

type setupFile struct {
	Src, Dest, Dir, Mode string
	Root                 bool // owned by root, not by the OS user
	NewDir               bool // the first file of Files in Dir
	AuthKey              bool // pgpool.conf, which gets the watchdog's key at its end
}

// setupScript renders hosts/<host>/setup.sh, given the host's other files in the bundle.
func setupScript(c *schema.Cluster, h *schema.Host, files []*File, secrets []secretEntry, sh *shared) *File {
	lay := c.Layout
	d := setupData{
		Cluster: c.Name, Host: h.Name, Address: h.Address, Roles: roles(h), SpecName: c.SpecName,
		Mode: c.Mode.String(), PgpoolVersion: c.Pgpool.String(), PGVersion: c.PostgreSQL.String(),
		User: lay.User, Group: lay.Group, Home: lay.Home,
		PgBin: lay.PostgresBinDir, PgLib: lay.PostgresLibDir, PgpoolBin: lay.PgpoolBinDir,
		Pgpool: h.Pgpool, Backend: h.Backend, Port: strconv.Itoa(h.Port),
		InstallPgpool: h.Pgpool && c.Install.Method != "none", InstallRecovery: h.Backend && c.Install.Method != "none" && c.Mode.Info().Has(schema.FeatRecovery),
		InstallMethod: c.Install.Method, Tarball: c.Install.SourceTarball, Prefix: path.Dir(lay.PgpoolBinDir),
		SQLDir: "src/sql", PgpoolPackage: "pgpool2", RecoveryPackage: "postgresql-" + c.PostgreSQL.String() + "-pgpool2",
		Secrets:    secrets,
		BlockBegin: blockBegin(c), BlockEnd: blockEnd(c),
		DataDir:    h.DataDirectory,
		RecoveryDB: "template1",
	}
	if !c.Pgpool.AtLeast(pgpool.V34) {
		d.SQLDir = "sql"
	}
	// Before recovery_database (4.7) pgpool-II calls the recovery functions in template1.
	if name := pgpool.Spelling("recovery_database", c.Pgpool); name != "" {
		d.RecoveryDB = pgpool.Lookup(name).DefaultIn(c.Pgpool)
		for _, p := range c.Parameters {
			if db, _ := p.Value.Text(); p.Name == "recovery_database" && db != "" {
				d.RecoveryDB = db
			}
		}
	}
	if c.Pgpool.AtLeast(pgpool.V33) && c.Mode.Info().Has(schema.FeatRecovery) {
		d.ExtensionSQL = "CREATE EXTENSION IF NOT EXISTS pgpool_recovery"
	}
	d.HasIsReady = pgFeaturesOf(c.PostgreSQL).IsReady
	d.ReloadNote = h.Pgpool
	if lay.Preset == "rhel" {
		d.PackageSudoers = "/etc/sudoers.d/pgpool" // src/redhat/pgpool_sudoers.d, installed by src/pgpool.spec
		d.SELinuxSSH = true
	}
	d.AuthKey = h.Pgpool && c.Watchdog != nil && c.Watchdog.AuthKey
	if h.Pgpool {
		// Files that pgpool.conf names and the bundle cannot carry (keys, certificates).
		for _, p := range c.Parameters {
			switch p.Name {
			case "ssl_key", "ssl_cert", "ssl_ca_cert", "ssl_crl_file", "ssl_dh_params_file":
				if v, _ := p.Value.Text(); strings.HasPrefix(v, "/") {
					d.RequiredFiles = append(d.RequiredFiles, program{v, p.Name + " in pgpool.conf"})
				}
			}
		}
		var names []string
		for _, u := range c.PoolUsers {
			names = append(names, u.Name)
		}
		d.PoolUsers = strings.Join(names, " ")
	}

	bins := []string{lay.PostgresBinDir}
	if h.Pgpool {
		bins = append(bins, lay.PgpoolBinDir)
	}
	d.PathLine = `export PATH="$PATH:` + strings.Join(bins, ":") + `"  # pgpoolgen`

	// Programs the host needs that setup does not install.
	d.Programs = append(d.Programs, program{"timeout", "the scripts bound every remote command"})
	if len(sh.from[h]) > 0 {
		d.Programs = append(d.Programs, program{"ssh", "the scripts log in to other hosts"})
		d.SSHKeyLine = h.SSHKey.Line
	}
	if h.Backend {
		tools := []string{"postgres", "pg_ctl", "psql", "pg_basebackup"}
		if pgFeaturesOf(c.PostgreSQL).IsReady {
			tools = append(tools, "pg_isready")
		}
		for _, p := range tools {
			d.Programs = append(d.Programs, program{lay.PostgresBinDir + "/" + p, "PostgreSQL " + c.PostgreSQL.String()})
		}
		if c.Mode.Info().Has(schema.FeatFollow) && pgFeaturesOf(c.PostgreSQL).Rewind {
			d.Programs = append(d.Programs, program{lay.PostgresBinDir + "/pg_rewind", "the follow script re-points an old primary with it"})
		}
		d.Programs = append(d.Programs, program{"runuser", "setup runs psql as " + lay.User})
	}
	if h.Pgpool {
		switch c.Install.Method {
		case "none":
			how := "installed by other means"
			if lay.Preset == "rhel" {
				how = "from pgpool.net's RPM pgpool-II-pg" + strings.ReplaceAll(c.PostgreSQL.String(), ".", "")
			}
			d.Programs = append(d.Programs, program{lay.PgpoolBinDir + "/pgpool", "pgpool-II " + c.Pgpool.String() + ", " + how + " ([install] method = \"none\")"})
		case "package":
			d.Programs = append(d.Programs, program{"apt-get", "installing Debian's packages"})
		}
	}
	if h.Pgpool && c.HasVIP() {
		d.Programs = append(d.Programs,
			program{lay.SudoCommand, "pgpool-II moves the virtual IP through it"},
			program{lay.IPCommand, "the virtual IP goes up and down with it (iproute2)"},
			program{lay.ArpingCommand, "the virtual IP's move is announced with it (iputils' arping; Debian: iputils-arping)"})
	}
	if h.Backend && c.Install.Method == "source" {
		d.Programs = append(d.Programs, program{lay.PostgresBinDir + "/pg_config", "building pgpool-recovery"})
	}

	d.PortChecks = portChecks(c, h, sh)

	if h.Pgpool {
		d.PoolPasswd = lay.PgpoolConfigDir + "/pool_passwd"
		d.Dirs = append(d.Dirs,
			dir{Path: lay.PgpoolRunDir, Mode: "0755", UserIfMissing: true, OwnerOnly: true},
			dir{Path: lay.PgpoolSocketDir, Mode: "0755", UserIfMissing: true},
			dir{Path: lay.PCPSocketDir, Mode: "0755", UserIfMissing: true},
			dir{Path: lay.PgpoolLogDir, Mode: "0755", UserIfMissing: true})
	}
	d.Dirs = append(d.Dirs, dir{Path: lay.Home + "/.ssh", Mode: "0700", Owned: true})
	d.Dirs = dedupDirs(d.Dirs)

	for _, f := range files {
		rel := strings.TrimPrefix(f.Path(), "hosts/"+h.Name+"/")
		sf := setupFile{Src: rel, Dest: f.Dest, Dir: path.Dir(f.Dest), Mode: modeString(f.Mode), Root: f.Owner == "root"}
		sf.AuthKey = d.AuthKey && f.Dest == lay.PgpoolConfigDir+"/pgpool.conf"
		switch {
		case f.Install == Merge && strings.HasSuffix(f.Dest, "/pool_passwd"):
			d.PoolPasswdBlock = sf
		case f.Install == Merge && strings.HasSuffix(f.Dest, "/pg_hba.conf"):
			d.HBABlock = sf
		case f.Install == Merge && strings.HasSuffix(f.Dest, "/postgresql.conf"):
			d.IncludeBlock = sf
		case f.Install == Merge && path.Base(f.Dest) == "authorized_keys":
			d.AuthorizedKeys = rel
		case f.Install != Replace:
		case h.Backend && path.Dir(f.Dest) == h.DataDirectory:
			d.DataFiles = append(d.DataFiles, sf)
		case h.Backend && lay.PostgresConfigDir != "" && strings.HasPrefix(f.Dest, lay.PostgresConfigDir+"/"):
			d.ClusterFiles = append(d.ClusterFiles, sf)
		default:
			// The parent is made sure of once for a run of files in one folder (files come
			// sorted by path), so that a reviewer reads one line per folder.
			sf.NewDir = len(d.Files) == 0 || d.Files[len(d.Files)-1].Dir != sf.Dir
			d.Files = append(d.Files, sf)
		}
	}

	if h.Backend {
		d.PgCtlDir = h.DataDirectory
		if lay.PostgresConfigDir != "" {
			d.PgCtlDir = lay.PostgresConfigDir
		}
		d.PgLogFile = lay.Home + "/pgpoolgen-" + h.Name + ".log"
		d.ClusterGuard = h.DataDirectory + "/PG_VERSION"
		if lay.PostgresConfigDir != "" {
			d.ClusterGuard = lay.PostgresConfigDir + "/postgresql.conf"
			if len(d.ClusterFiles) > 0 {
				d.IncludeDirConf = d.ClusterGuard
			}
		}
		d.PasswordEncryption = passwordEncryption(c)
		for _, r := range c.Roles {
			d.DBRoles = append(d.DBRoles, roleFor(c, r))
		}
		if sh.pgpass == "" {
			sh.pgpass = pgpassLines(c)
		}
		d.Pgpass = sh.pgpass
	}
	if h.Pgpool {
		d.PgpoolConf = lay.PgpoolConfigDir + "/pgpool.conf"
		d.PgpoolPidFile = lay.PgpoolRunDir + "/pgpool.pid"
		for _, r := range c.Roles {
			if r.PoolPasswd && r.Secret != "" {
				d.AESUsers = append(d.AESUsers, aesUser{r.Name, r.Secret})
			}
		}
		if len(d.AESUsers) > 0 {
			d.KeyFile = lay.Home + "/.pgpoolkey"
			d.Programs = append(d.Programs, program{"openssl", "setup makes pool_passwd's AES entries with it, as pg_enc does"})
		}
	}
	for _, s := range secrets {
		switch s.Name {
		case secretPCP:
			if c.Pgpool.AtLeast(pgpool.V35) {
				d.PCPPass = "*:" + strconv.Itoa(c.PCPPort) + ":" + c.PCPUsers[0].Name + ":"
			} else {
				d.PCPPasswordFile = lay.Home + "/.pgpoolgen/pcp_password"
			}
		}
	}

	if sh.functions == "" {
		var buf strings.Builder
		if err := setupTemplate.ExecuteTemplate(&buf, "functions", setupCommon{lay.User, lay.Group, lay.Home}); err != nil {
			panic(err) // the template and its data are both ours: a failure is a bug
		}
		sh.functions = buf.String()
	}
	d.Functions = sh.functions
	d.Checks = setupChecks(&d)
	d.CheckLines = make(rows, len(d.Checks))
	for i, x := range d.Checks {
		d.CheckLines[i] = "\n\tcheck " + sq(x.Path) + " " + x.Kind
	}
	d.ProgramLines = make(rows, len(d.Programs))
	for i, p := range d.Programs {
		d.ProgramLines[i] = "\nneed_program " + sq(p.Path) + " " + sq(p.Why)
	}

	sh.setup.Reset()
	if err := setupTemplate.Execute(&sh.setup, d); err != nil {
		panic(err) // the template and its data are both ours: a failure is a bug
	}
	return &File{Host: h.Name, Name: "setup.sh", Install: Run, Mode: 0o755, Data: bytes.Clone(sh.setup.Bytes())}
}

// portChecks renders the preflight's check of each port h must reach: pgpool the backends,
// ssh the hosts it logs in to, and backends each other for base backups. Each line starts
// with its line break, as a template range would write it.
func portChecks(c *schema.Cluster, h *schema.Host, sh *shared) rows {
	line := func(host string, port int, why string) string {
		p := strconv.Itoa(port)
		return "\n\tport_answers " + sq(host) + " " + sq(p) + " || problem \"" + dq(host) + " port " + dq(p) + " does not answer (" + dq(why) + ")\""
	}
	lines := make(rows, 0, len(c.Backends)+len(sh.from[h]))
	for _, b := range c.Backends {
		if b == h {
			continue
		}
		switch {
		case h.Pgpool:
			lines = append(lines, line(b.Address, b.Port, "pgpool connects to backend "+strconv.Itoa(b.NodeID)))
		case h.Backend:
			// The same on every backend.
			l, ok := sh.ports[portKey{to: b}]
			if !ok {
				l = line(b.Address, b.Port, "base backups and replication")
				sh.ports[portKey{to: b}] = l
			}
			lines = append(lines, l)
		}
	}
	for _, e := range sh.from[h] {
		why := sh.reasonsOf(e.Why)
		k := portKey{e.To, why.id}
		l, ok := sh.ports[k]
		if !ok {
			l = line(e.To.Address, c.SSH.Port, "ssh for "+why.text)
			sh.ports[k] = l
		}
		lines = append(lines, l)
	}
	return lines
}

// rows are lines rendered in Go for a template, which prints them one after the other: fmt
// hands Format its buffer (pooled), so no string of them all is built for each host.
type rows []string

func (r rows) Format(f fmt.State, _ rune) {
	for _, l := range r {
		io.WriteString(f, l)
	}
}

// pgpassLines renders the lines of setup.sh that add the .pgpass entries of the roles the
// backends log in to each other as (the replication user; the rewind user), one per backend
// and role, the password (escaped) last. The same on every backend.
func pgpassLines(c *schema.Cluster) string {
	var b strings.Builder
	for _, r := range c.Roles {
		if r.Secret == "" || r.Name != c.Replication.User && r.Name != c.Rewind.User {
			continue
		}
		b.WriteString("\npgpass_escape \"${secret[" + r.Secret + "]}\"")
		for _, be := range c.Backends {
			addr := strings.ReplaceAll(be.Address, ":", `\:`)
			b.WriteString("\nblock+=")
			b.WriteString(sq(addr + ":" + strconv.Itoa(be.Port) + ":*:" + r.Name + ":"))
			b.WriteString("$escaped$'\\n'")
		}
	}
	return b.String()
}

// passwordEncryption is password_encryption's value for the passwords setup sets, quoted for
// SET: the same as the settings file's.
func passwordEncryption(c *schema.Cluster) string {
	v := postgres.Version{Major: c.PostgreSQL.Major, Minor: c.PostgreSQL.Minor}
	return "'" + postgres.PasswordEncryption(v, c.PG.HBAMethod == "scram-sha-256") + "'"
}

// roleFor is what setup makes sure of for role r.
func roleFor(c *schema.Cluster, r *schema.DBRole) setupRole {
	s := setupRole{Name: r.Name, Secret: r.Secret, For: strings.Join(r.For, "; "), Superuser: r.Superuser, Monitor: r.Monitor}
	attrs := []string{"LOGIN"}
	if r.Superuser {
		attrs = append(attrs, "SUPERUSER")
	}
	if r.Replication && !r.Superuser {
		s.Replication = true
		attrs = append(attrs, "REPLICATION")
	}
	s.Attributes = strings.Join(attrs, " ")
	if r.Rewind && !r.Superuser {
		s.Functions = postgres.RewindFunctions
	}
	return s
}

func roles(h *schema.Host) string {
	var r []string
	if h.Pgpool {
		r = append(r, "pgpool")
	}
	if h.Backend {
		r = append(r, h.Role.String()+" (backend "+strconv.Itoa(h.NodeID)+")")
	}
	return strings.Join(r, " and ")
}

// setupChecks lists every path the setup script changes or reads on the host, once each, in
// the order the script uses them.
func setupChecks(d *setupData) []pathCheck {
	var out []pathCheck
	seen := map[string]bool{}
	add := func(p, kind string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, pathCheck{p, kind})
		}
	}
	file := func(f setupFile) {
		if f.Root {
			add(f.Dest, "rootfile")
		} else {
			add(f.Dest, "file")
		}
	}
	if d.PathLine != "" {
		add(d.Home+"/.profile", "file")
	}
	for _, x := range d.Dirs {
		add(x.Path, "dir")
	}
	for _, f := range d.Files {
		add(f.Dir, "dir")
		file(f)
	}
	if d.PoolPasswd != "" {
		add(path.Dir(d.PoolPasswd), "dir")
		add(d.PoolPasswd, "file")
	}
	if d.KeyFile != "" {
		add(d.KeyFile, "file")
	}
	if len(d.DataFiles) > 0 || d.ClusterGuard != "" {
		add(d.DataDir, "dir")
		add(d.DataDir+"/PG_VERSION", "file")
		for _, f := range d.DataFiles {
			file(f)
		}
	}
	if d.ClusterGuard != "" {
		add(path.Dir(d.ClusterGuard), "dir")
		add(d.ClusterGuard, "file")
		for _, f := range d.ClusterFiles {
			add(f.Dir, "dir")
			file(f)
		}
		for _, f := range []setupFile{d.HBABlock, d.IncludeBlock} {
			if f.Dest != "" {
				add(f.Dir, "dir")
				file(f)
			}
		}
	}
	add(d.Home+"/.ssh/authorized_keys", "file")
	if d.Pgpass != "" {
		add(d.Home+"/.pgpass", "file")
	}
	if d.PCPPass != "" {
		add(d.Home+"/.pcppass", "file")
	}
	if d.PCPPasswordFile != "" {
		add(path.Dir(d.PCPPasswordFile), "dir")
		add(d.PCPPasswordFile, "file")
	}
	return out
}

// dedupDirs keeps the first entry of each folder, in order.
func dedupDirs(ds []dir) []dir {
	var out []dir
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.Path] {
			seen[d.Path] = true
			out = append(out, d)
		}
	}
	return out
}
