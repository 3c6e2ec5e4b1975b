package schema

import (
	"strings"

	"pgpoolgen/schema/pgpool"
)

// A Type is the TOML type a spec key takes.
type Type int

const (
	TString Type = iota + 1
	TInteger
	TNumber // an integer or a float
	TBoolean
	TStrings         // an array of strings
	TStringOrInteger // cluster.postgresql_version: "15" or 15
	TTable
	TTables // an array of tables: [[name]] sections, or an array of inline tables
)

// A Range bounds a number: Lo and Hi are both allowed.
type Range struct{ Lo, Hi float64 }

// A Key is one key of a spec table as the loader reads it. SpecTables is the one list of them:
// the loader's reader takes exactly these keys (tableKeys), docs/spec.md documents them and
// `pgpoolgen schema` writes them as a JSON Schema. The loader's code applies the rules;
// keys_test.go proves each claim made here against it.
type Key struct {
	Name string
	Type Type
	// Range bounds an integer or a number (of TStringOrInteger, its integer form); nil when
	// the loader bounds it by no more than its type.
	Range *Range
	// MinItems and MaxItems bound the items of an array of strings or tables; 0 is no bound.
	MinItems, MaxItems int
	// Unique: an item of the array may not appear twice.
	Unique bool
	// Default is what the loader applies when the key is absent: int64, float64, bool or
	// string. It is nil when there is none, and when it depends on other keys (the preset,
	// the versions, the mode): then Doc says what it is.
	Default any
	// Enum lists the strings the key (each item of an array of strings) may be; nil when any
	// string of its character set will do.
	Enum []string
	// Required: a spec without the key is refused.
	Required bool
	// Needs: the loader refuses the key for a series before Since(path), which lacks what it
	// sets.
	Needs bool
	// Unless names another key of the table and a value of it, with which this key is
	// refused; without them it is required (hba.address: every rule but a local one).
	Unless *Condition
	// Doc is one sentence on what the key says, for editors' hovers.
	Doc string
}

// A Condition is a key of the same table having a value.
type Condition struct{ Key, Value string }

// A Table is one table of the spec and the keys it takes, in docs/spec.md's order.
type Table struct {
	// Name is the key that holds the table ("" for the document itself).
	Name string
	// Open: the table takes keys of its own choosing, which its reader checks: [parameters],
	// whose keys are pgpool-II parameter names.
	Open bool
	Keys []Key
	// OneOf lists keys of which the table takes at most one; with OneOfRequired, exactly one
	// (the password sources of [[pcp_user]]).
	OneOf         []string
	OneOfRequired bool
}

// Key returns the table's key called name, or nil.
func (t *Table) Key(name string) *Key {
	for i := range t.Keys {
		if t.Keys[i].Name == name {
			return &t.Keys[i]
		}
	}
	return nil
}

// Path is the key path of one of the table's keys, as Bindings and errors write it:
// "pgpool.port", "host[].port" in an array of tables, "cluster" in the document.
func (t *Table) Path(key string) string {
	if t.Name == "" {
		return key
	}
	if root := SpecTable("").Key(t.Name); root != nil && root.Type == TTables {
		return t.Name + "[]." + key
	}
	return t.Name + "." + key
}

// SpecTable returns the table called name ("" for the document), or nil.
func SpecTable(name string) *Table {
	for _, t := range SpecTables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Since is the first pgpool-II series that has what the key at path sets, from the oldest
// parameter a binding sets from it; the zero Version when every series has it or no binding
// reads it. A key with Needs is refused for an older series (loader.needs).
func Since(path string) pgpool.Version {
	if b := oldestBinding(path); b != nil && pgpool.Since(b.Record) != pgpool.Series[0] {
		return pgpool.Since(b.Record)
	}
	return pgpool.Version{}
}

// presetNames lists the names of the layout presets, in Presets' order. It and presetLayout
// are all the key table knows of the presets.
func presetNames() []string {
	names := make([]string, 0, len(Presets))
	for _, p := range Presets {
		names = append(names, p.Name)
	}
	return names
}

// presetLayout is the layout of the preset called name.
func presetLayout(name string) Layout { return PresetNamed(name).Layout }

// modeNames lists every cluster.mode spelling: each mode's name, then its aliases.
func modeNames() []string {
	var names []string
	for _, m := range Modes {
		names = append(names, m.Name)
		names = append(names, m.Aliases...)
	}
	return names
}

func seriesNames() []string {
	var names []string
	for _, v := range pgpool.Series {
		names = append(names, v.String())
	}
	return names
}

// pgVersionNames are the strings cluster.postgresql_version takes (parsePGVersion).
var pgVersionNames = []string{"9.0", "9.1", "9.2", "9.3", "9.4", "9.5", "9.6",
	"10", "11", "12", "13", "14", "15", "16", "17", "18"}

// Helpers that keep SpecTables one line a key.
func kStr(name, doc string) Key { return Key{Name: name, Type: TString, Doc: doc} }

func kStrDefault(name, def, doc string) Key {
	return Key{Name: name, Type: TString, Default: def, Doc: doc}
}

func kEnum(name string, values []string, def any, doc string) Key {
	return Key{Name: name, Type: TString, Enum: values, Default: def, Doc: doc}
}

func kInt(name string, lo, hi float64, def int64, doc string) Key {
	return Key{Name: name, Type: TInteger, Range: &Range{lo, hi}, Default: def, Doc: doc}
}

func kBool(name string, def any, doc string) Key {
	return Key{Name: name, Type: TBoolean, Default: def, Doc: doc}
}

// kPath is a path key of [layout], whose default is its preset's; Doc lists each preset's.
func kPath(name, doc string) Key {
	var each []string
	for _, p := range presetNames() {
		lay := presetLayout(p)
		for _, f := range lay.paths() {
			if f.key == name {
				v := strings.ReplaceAll(*f.dst, "%s", "<PG>")
				if v == "" {
					v = `""`
				}
				each = append(each, p+": "+v)
			}
		}
	}
	return kStr(name, doc+"; default: the preset's ("+strings.Join(each, "; ")+").")
}

func kRequired(k Key) Key { k.Required = true; return k }

func kNeeds(k Key) Key { k.Needs = true; return k }

func kTable(name string, doc string) Key { return Key{Name: name, Type: TTable, Doc: doc} }

func kTables(name string, minItems int, doc string) Key {
	return Key{Name: name, Type: TTables, MinItems: minItems, Required: minItems > 0, Doc: doc}
}

// passwordSources are the keys a user's password may come from, one at most.
var passwordSources = []string{"password_env", "password_file", "md5", "password"}

// userKeys are the keys of [[pcp_user]] and [[pool_user]].
func userKeys(what, md5 string) []Key {
	return []Key{
		kRequired(kStr("name", "The "+what+"'s name.")),
		kStr("password_env", "The environment variable that holds the password when pgpoolgen runs; give one of password_env, password_file, md5 and password."),
		kStr("password_file", "The file that holds the password (relative to the spec's folder); one trailing line break is dropped."),
		kStr("md5", "The hash itself: "+md5+"."),
		kStr("password", "The password in clear text, taken only with allow_plain_password = true: it would end up in version control."),
		kBool("allow_plain_password", false, "Allows password."),
	}
}

// SpecTables lists the tables of the spec: the document first, whose keys are the tables, then
// each table with its keys in the order of its table in docs/spec.md.
var SpecTables = []*Table{
	{Name: "", Keys: []Key{
		kRequired(kTable("cluster", "The cluster's name, clustering mode and target versions.")),
		kRequired(kTable("layout", "Where pgpool-II and PostgreSQL are installed on the hosts, from a preset.")),
		kTable("pgpool", "pgpool-II's ports, listen addresses and load balancing."),
		kTable("health_check", "pgpool-II's health check of the backends."),
		kTable("sr_check", "pgpool-II's streaming replication check (streaming replication only)."),
		kTable("recovery", "Online recovery (pcp_recovery_node)."),
		kTable("ssh", "How the generated scripts use ssh between the hosts."),
		kTable("replication", "The roles replication and pg_rewind log in as."),
		kTable("postgresql", "What the bundle sets on the backends' own PostgreSQL servers."),
		kTable("install", "How setup.sh installs pgpool-II and pgpool-recovery."),
		kTable("watchdog", "pgpool-II's watchdog (3.2 and later), for a cluster with two or more pgpool hosts."),
		kTables("host", 1, "One [[host]] for each machine: pgpool-II, PostgreSQL, or both."),
		kTables("pcp_user", 1, "A user of pcp.conf, for the pcp commands."),
		kTables("pool_user", 0, "A user of pool_passwd, which pgpool-II answers authentication for."),
		kTables("hba", 1, "A rule of pool_hba.conf, in order: pgpool-II uses the first that matches."),
		kTable("parameters", "Any other pgpool.conf parameter, by its name in the target series: a string, integer, float, boolean or array of strings."),
	}},
	{Name: "cluster", Keys: []Key{
		kRequired(kStr("name", "The cluster's name, in comments of the generated files and in manifest.json.")),
		kRequired(kEnum("mode", modeNames(), nil, "The clustering mode; master_slave and replication are pgpool-II 3.x's names of streaming_replication and native_replication.")),
		kRequired(kEnum("pgpool_version", seriesNames(), nil, "The target pgpool-II series, major.minor, as a string.")),
		kStr("pgpool_release", "The exact minor release that runs the bundle, such as \"4.3.5\": parameter names it does not read yet are refused."),
		kRequired(Key{Name: "postgresql_version", Type: TStringOrInteger, Enum: pgVersionNames, Range: &Range{10, 18},
			Doc: "The target PostgreSQL major version: \"9.0\" to \"9.6\", or 10 to 18 as a string or an integer."}),
	}},
	{Name: "layout", Keys: []Key{
		kRequired(kEnum("preset", presetNames(), nil, "The install layout every path below starts from.")),
		kStrDefault("user", "postgres", "The OS user that owns the generated files and runs pgpool-II, PostgreSQL and the scripts."),
		kStr("group", "The OS group of the generated files; default: layout.user."),
		kPath("pgpool_bin_dir", "Where pgpool and the pcp tools are"),
		kPath("pgpool_config_dir", "Where pgpool.conf, pcp.conf, pool_hba.conf and the failover and follow scripts go"),
		kPath("pgpool_run_dir", "The folder of pgpool.pid (pid_file_name)"),
		kPath("pgpool_socket_dir", "pgpool-II's Unix socket folder (socket_dir, unix_socket_directories from 4.4)"),
		kPath("pcp_socket_dir", "The pcp Unix socket folder (pcp_socket_dir)"),
		kPath("pgpool_log_dir", "Where pgpool-II keeps pgpool_status (logdir, work_dir from 4.7)"),
		kPath("postgresql_bin_dir", "PostgreSQL's programs, which the scripts run by absolute path"),
		kPath("postgresql_lib_dir", "PostgreSQL's libraries, where pgpool-recovery.so goes"),
		kPath("data_directory", "The default data directory of every backend"),
		kPath("postgresql_config_dir", "Where each backend's postgresql.conf is, or \"\" for the data directory"),
		kPath("home", "The home folder of layout.user (.ssh, .pgpass, .pcppass)"),
		kPath("sudo_command", "sudo, through which the watchdog moves the virtual IP"),
		kPath("ip_command", "iproute2's ip, which puts the virtual IP up and down"),
		kPath("arping_command", "iputils' arping, which announces the virtual IP's new owner"),
	}},
	{Name: "pgpool", Keys: []Key{
		kInt("port", 1024, 65535, defaultPort, "pgpool-II's port (port)."),
		kInt("pcp_port", 1024, 65535, defaultPCPPort, "The pcp port (pcp_port); it must differ from port."),
		kStrDefault("listen_addresses", defaultListen, "listen_addresses: \"*\", one address or host name, or from 4.4 a comma-separated list of them."),
		kNeeds(kStrDefault("pcp_listen_addresses", defaultPCPListen, "pcp_listen_addresses, in the form of listen_addresses.")),
		kBool("load_balance", true, "load_balance_mode: reads are balanced over the backends."),
	}},
	{Name: "health_check", Keys: []Key{
		kInt("period", 1, 86400, defaultHCPeriod, "health_check_period in seconds; 0, which turns the check off, is refused."),
		kInt("timeout", 0, 86400, defaultHCTimeout, "health_check_timeout in seconds: the bound of one try (connect, startup, authentication); 0 is none."),
		kNeeds(kInt("max_retries", 0, 100, defaultHCMaxRetries, "health_check_max_retries: tries after a failed one before failover.")),
		kNeeds(kInt("retry_delay", 0, 86400, defaultHCRetryDelay, "health_check_retry_delay in seconds between tries.")),
		kNeeds(kInt("connect_timeout", 0, 86400000, defaultConnectTimeout, "connect_timeout in milliseconds, for every connection pgpool-II opens to a backend.")),
		kStrDefault("user", defaultCheckUser, "health_check_user: a role of its own, no superuser, which setup creates."),
		kNeeds(kStrDefault("database", defaultDatabase, "health_check_database.")),
	}},
	{Name: "sr_check", Keys: []Key{
		kInt("period", 0, 86400, defaultSRPeriod, "sr_check_period in seconds; 0 turns the check off."),
		kStrDefault("user", defaultCheckUser, "sr_check_user, granted pg_monitor from PostgreSQL 10."),
		kNeeds(kStrDefault("database", defaultDatabase, "sr_check_database.")),
	}},
	{Name: "recovery", Keys: []Key{
		kStrDefault("user", defaultDBUser, "recovery_user, a superuser."),
		kInt("timeout", 1, 86400, defaultRecoveryTime, "recovery_timeout in seconds."),
	}},
	{Name: "ssh", Keys: []Key{
		kInt("port", 1, 65535, 22, "sshd's port on every host."),
		kInt("connect_timeout", 1, 600, 10, "ssh -o ConnectTimeout, in seconds."),
		kInt("command_timeout", 10, 86400, 300, "How long one remote command of a script may take, in seconds."),
		kInt("copy_timeout", 60, 7*86400, 21600, "How long a remote copy of a data directory may take, in seconds."),
		kBool("restrict_from", true, "Each authorized key carries from=\"<source address>\"."),
	}},
	{Name: "replication", Keys: []Key{
		kStrDefault("user", "repl", "The role pg_basebackup and the standbys' primary_conninfo connect as."),
		kStr("rewind_user", "The role the follow script's pg_rewind logs in as (streaming replication, PostgreSQL 9.5 and later); default: \"rewind\" from PostgreSQL 11, recovery.user before."),
	}},
	{Name: "postgresql", Keys: []Key{
		kBool("data_checksums", false, "The clusters were made with data checksums (initdb -k), which pg_rewind uses instead of wal_log_hints."),
		kBool("replication_slots", nil, "A physical replication slot per standby keeps the WAL it needs; default: true from PostgreSQL 9.4 in streaming replication, else false."),
		kInt("wal_keep_mb", 16, 1<<24, defaultWALKeepMB, "MB of WAL kept for standbys without slots (wal_keep_size, wal_keep_segments before 13); only with replication_slots = false."),
		kEnum("synchronous", []string{"off", "any", "first"}, "off", "Synchronous replication: off, any (quorum of synchronous_count standbys) or first (the first synchronous_count of the list)."),
		kInt("synchronous_count", 1, 127, 1, "How many standbys a commit waits for; only with synchronous."),
		kEnum("hba_method", []string{"scram-sha-256", "md5", "trust"}, nil, "The method of the bundle's pg_hba.conf lines; default: scram-sha-256 from PostgreSQL 10 with pgpool-II 4.0, else md5."),
	}},
	{Name: "install", Keys: []Key{
		kEnum("method", []string{"package", "source", "none"}, nil, "How setup installs pgpool-II and pgpool-recovery; default: the method that goes with layout.preset (docs/spec.md)."),
		kStr("source_tarball", "The pgpool-II source tarball (.tar.gz or .tgz) on the hosts; required with method = \"source\"."),
	}},
	{Name: "watchdog", Keys: []Key{
		kStr("virtual_ip", "The IPv4 address with its network's prefix that the leader holds and clients connect to (delegate_ip)."),
		kStr("interface", "The network interface the virtual IP goes on; host.interface overrides it."),
		kInt("port", 1024, 65535, defaultWDPort, "The watchdog's port (wd_port)."),
		kNeeds(kInt("heartbeat_port", 1024, 65535, defaultHeartbeatPort, "The heartbeat's UDP port.")),
		kNeeds(kEnum("lifecheck", []string{"heartbeat", "query"}, "heartbeat", "wd_lifecheck_method: heartbeat (UDP packets) or query (each logs in to the others' pgpool).")),
		kNeeds(kBool("failover_when_quorum_exists", true, "A backend is failed over only while the watchdog has a quorum.")),
		kNeeds(kBool("failover_require_consensus", true, "A backend is failed over only when a majority of the pgpool hosts see it fail.")),
		kNeeds(kBool("half_votes", false, "enable_consensus_with_half_votes: exactly half of the pgpool hosts count as a quorum.")),
		kBool("authkey", nil, "The watchdog's messages carry wd_authkey, a secret setup.sh adds; default: true from pgpool-II 3.3, which has it."),
	}},
	{Name: "host", Keys: []Key{
		kRequired(kStr("name", "The host's name in the bundle (hosts/<name>/); unique.")),
		kRequired(kStr("address", "The host's IP address or DNS name; unique.")),
		kRequired(Key{Name: "roles", Type: TStrings, Enum: []string{"pgpool", "primary", "master", "standby", "slave", "backend"}, MinItems: 1, Unique: true,
			Doc: "What the host runs: pgpool, and primary or standby (master and slave are their 3.x names) in streaming replication, backend in the other modes."}),
		kInt("port", 1024, 65535, defaultBackendPort, "PostgreSQL's port (backend_portN); backend hosts only."),
		kStr("data_directory", "The backend's data directory; default: layout.data_directory."),
		{Name: "weight", Type: TNumber, Range: &Range{0, 1e8}, Default: 1.0, Doc: "The load-balancing weight (backend_weightN); backend hosts only."},
		kNeeds(kStr("application_name", "The application_name the standby connects to the primary with; default: the host's name.")),
		kStr("ssh_key", "The public key of layout.user on this host (ssh-ed25519 AAAA…), needed where the host logs in to others."),
		kStr("ssh_key_file", "The same, read from a .pub file (relative to the spec's folder)."),
		kStr("host_key", "This host's sshd host key, for known_hosts: give one for every host others log in to, or for none."),
		kStr("host_key_file", "The same, read from a file."),
		{Name: "heartbeat_addresses", Type: TStrings, MinItems: 1, MaxItems: 8, Needs: true,
			Doc: "Where the other pgpool hosts send this one's watchdog heartbeat; default: [address]."},
		kStr("interface", "The network interface this pgpool host puts the virtual IP on; default: watchdog.interface."),
	}},
	{Name: "pcp_user", Keys: userKeys("pcp user", `32 lowercase hex digits, what "pg_md5 PASSWORD" prints`),
		OneOf: passwordSources, OneOfRequired: true},
	{Name: "pool_user", Keys: userKeys("pool_passwd user", `"md5" and 32 lowercase hex digits, what "pg_md5 -m -u USER PASSWORD" writes; with no password source at all, setup takes the password at apply time`),
		OneOf: passwordSources},
	{Name: "hba", Keys: []Key{
		kEnum("type", []string{"local", "host", "hostssl", "hostnossl"}, "host", "The connection type."),
		kStrDefault("database", "all", "all, or database names separated by commas."),
		kStrDefault("user", "all", "all, or user names separated by commas."),
		{Name: "address", Type: TString, Unless: &Condition{"type", "local"},
			Doc: "The client address in CIDR form (samehost and samenet from 3.7); required except with type = \"local\", which takes none."},
		kRequired(kEnum("method", pgpool.HBAMethods(pgpool.Series[len(pgpool.Series)-1]), nil, "The authentication method, one the target series knows.")),
		kStrDefault("options", "", "name=value options after the method: pamservice with pam, ldap* with ldap."),
	}},
	{Name: "parameters", Open: true},
}

// tableKeys lists the key names each table takes, by table name ("" for the document), from
// SpecTables. A reader may ask only for these (get panics on any other, a bug caught by every
// test that reads the key), and an unknown-key message offers exactly these. [parameters]
// has none: it takes any pgpool.conf parameter and checks each name itself.
var tableKeys = func() map[string][]string {
	m := map[string][]string{}
	for _, t := range SpecTables {
		if t.Open {
			continue
		}
		names := make([]string, len(t.Keys))
		for i, k := range t.Keys {
			names[i] = k.Name
		}
		m[t.Name] = names
	}
	return m
}()
