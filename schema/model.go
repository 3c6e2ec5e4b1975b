// Package schema reads a cluster spec (TOML), applies its defaults and validates it. What it
// returns, a *Cluster, is the validated model: the renderers in gen trust it without checking
// again. Every name, path and value in it is safe to write into a config file or a shell
// script.
package schema

import (
	"strconv"

	"pgpoolgen/schema/pgpool"
)

// Mode is the clustering mode; Modes describes each.
type Mode int

const (
	// Streaming is streaming replication: PostgreSQL replicates, pgpool routes and fails over.
	// pgpool-II before 4.2 calls it master/slave mode with sub-mode stream.
	Streaming Mode = iota + 1
	// Native is pgpool-II's own replication: pgpool sends every write to every backend.
	Native
	// Logical, Slony, SnapshotIsolation and Raw are modes pgpoolgen does not generate yet.
	Logical
	Slony
	SnapshotIsolation
	Raw
)

func (m Mode) String() string {
	if n := m.Info().Name; n != "" {
		return n
	}
	return "unknown"
}

// Role is what a backend is in streaming replication.
type Role int

const (
	NoRole Role = iota // native replication: every backend is alike
	Primary
	Standby
)

func (r Role) String() string {
	switch r {
	case Primary:
		return "primary"
	case Standby:
		return "standby"
	}
	return "backend"
}

// A PGVersion is a PostgreSQL major version: 15, or 9.6 before version 10.
type PGVersion struct{ Major, Minor int }

func (v PGVersion) String() string {
	if v.Major >= 10 {
		return strconv.Itoa(v.Major)
	}
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
}

// AtLeast reports whether v is major (and minor, before 10) or newer.
func (v PGVersion) AtLeast(major, minor int) bool {
	if v.Major != major {
		return v.Major > major
	}
	return v.Minor >= minor
}

// Cluster is a validated cluster spec with every default filled in.
type Cluster struct {
	// SpecName is the spec file's base name, for comments in generated files.
	SpecName   string
	Name       string
	Mode       Mode
	Pgpool     pgpool.Version
	PostgreSQL PGVersion

	Layout Layout

	Port               int
	PCPPort            int
	ListenAddresses    string
	PCPListenAddresses string
	LoadBalance        bool

	HealthCheck HealthCheck
	SRCheck     SRCheck // streaming mode only
	Recovery    Recovery

	// Hosts in spec order. Backends is the subset that runs PostgreSQL, in pgpool node id order.
	Hosts    []*Host
	Backends []*Host

	PCPUsers   []PCPUser
	PoolUsers  []PoolUser
	HBA        []HBARule
	Parameters []Parameter

	// PG is what the bundle sets on the backends' own servers; Roles are the PostgreSQL
	// roles the cluster's programs log in as, which setup creates on the primary.
	PG    PGSettings
	Roles []*DBRole

	SSH         SSH
	Replication Replication
	Rewind      Rewind
	Install     Install
	// Trust is who reaches whom over ssh, derived from what the generated scripts do; sorted
	// by source, then destination host order.
	Trust []*Edge
	// KnownHosts is set when the spec gives the host key of every host that is an ssh
	// destination: the bundle then carries known_hosts and the scripts check host keys
	// strictly. Otherwise they accept a new host key on first contact (accept-new).
	KnownHosts bool
	// Watchdog is set when two or more hosts run pgpool-II: they watch each other.
	Watchdog *Watchdog
	// Warnings are what Load found questionable but not wrong; the build goes on.
	Warnings ErrorList
}

// SSH holds how the generated scripts use ssh.
type SSH struct {
	Port           int  // sshd port on every host
	ConnectTimeout int  // seconds, ssh -o ConnectTimeout
	CommandTimeout int  // seconds a whole remote command may take before the script gives up
	CopyTimeout    int  // the same for a remote command that copies a data directory
	RestrictFrom   bool // authorized_keys lines carry from="source address"
}

// Replication holds the replication role the scripts use.
type Replication struct {
	User string // the role pg_basebackup (online recovery) and standbys (primary_conninfo) connect as
}

// Rewind holds how the follow script brings a standby in line with a new primary.
type Rewind struct {
	User string // the role pg_rewind logs in to the new primary as; "" without pg_rewind
}

// Install says how setup installs pgpool-II and the pgpool_recovery extension.
type Install struct {
	Method        string // "package", "source" or "none"
	SourceTarball string // for "source": the tarball's path on the hosts
}

// An Edge is one ssh trust relation: From's OS user logs in to To as the same user, for the
// scripts named in Why.
type Edge struct {
	From, To *Host
	Why      []string
}

// Script names. The pgpool host keeps the failover and follow scripts in its config folder;
// the recovery scripts live in every backend's data directory, where pgpool_recovery() runs
// them (pgpool_remote_start is a fixed name in pgpool-II).
const (
	FailoverScript      = "failover.sh"
	RecoveryFirstStage  = "recovery_1st_stage"
	RecoverySecondStage = "recovery_2nd_stage"
	RemoteStartScript   = "pgpool_remote_start"
	EscalationScript    = "escalation.sh"
	// NodeIDFile is the file beside pgpool.conf that tells pgpool-II 4.2 and later which
	// watchdog node it is.
	NodeIDFile = "pgpool_node_id"
)

// Layout says where things live on the hosts. Presets fill it; the spec may override any field.
type Layout struct {
	Preset          string
	User, Group     string // OS user and group that own and run pgpool and PostgreSQL
	PgpoolBinDir    string
	PgpoolConfigDir string // pgpool.conf, pcp.conf, pool_hba.conf, pool_passwd, the pgpool-side scripts
	PgpoolRunDir    string // the pid file
	PgpoolSocketDir string
	PCPSocketDir    string
	PgpoolLogDir    string // logdir (work_dir from 4.7): pgpool_status lives here
	PostgresBinDir  string
	PostgresLibDir  string
	DataDirectory   string // default data directory of a backend
	// PostgresConfigDir is where each backend's postgresql.conf is, when not in the data
	// directory: Debian's pg_createcluster keeps it in /etc/postgresql/<version>/<cluster>.
	PostgresConfigDir string
	Home              string // the OS user's home folder: .ssh, .pgpass, .pcppass, .profile
	// The programs the watchdog runs through sudo to move the virtual IP.
	SudoCommand, IPCommand, ArpingCommand string
}

// HealthCheck holds pgpool's health check settings. Times are in seconds but ConnectTimeout,
// which pgpool-II takes in milliseconds.
type HealthCheck struct {
	Period, Timeout, MaxRetries, RetryDelay, ConnectTimeout int
	User, Database                                          string
}

// SRCheck holds the streaming replication check settings.
type SRCheck struct {
	Period         int
	User, Database string
}

// Recovery holds the online recovery settings.
type Recovery struct {
	User    string
	Timeout int
}

// A Host is one machine of the cluster.
type Host struct {
	Name    string
	Address string
	Pgpool  bool // runs pgpool-II
	Backend bool // runs PostgreSQL
	Role    Role // streaming mode: Primary or Standby
	// Backend settings, set when Backend is true.
	NodeID          int
	Port            int
	DataDirectory   string
	Weight          float64
	ApplicationName string
	SlotName        string // the physical replication slot it streams through as a standby
	// SSHKey is the public key of the OS user on this host, authorized on the hosts it must
	// reach; HostKey is this host's sshd host key, for known_hosts. Either may be nil.
	SSHKey  *PublicKey
	HostKey *PublicKey
	// Watchdog settings of a pgpool host, set when the cluster has a watchdog: its pgpool
	// node id, the addresses its heartbeat is sent to, and the interface the virtual IP goes
	// on when it is the leader.
	WatchdogID int
	Heartbeat  []string
	Interface  string
}

// A PCPUser is a pcp.conf entry. MD5 is hex(md5(password)), what pg_md5 prints; the password
// itself is dropped as soon as the hash is made.
type PCPUser struct {
	Name string
	MD5  string
}

// A PoolUser is a pool_passwd entry: Secret is "md5" + hex(md5(password + name)), what
// pg_md5 -m writes. An AtApply user has no password in the spec: it is a secret given to
// setup, which writes the user's AES entry and creates its role.
type PoolUser struct {
	Name    string
	Secret  string
	AtApply bool
}

// An HBARule is a pool_hba.conf line.
type HBARule struct {
	Type     string // local, host, hostssl, hostnossl
	Database string
	User     string
	Address  string // empty for local
	Method   string
	Options  string
}

// A Parameter is a pgpool.conf setting the user gave in [parameters], checked against the
// target version.
type Parameter struct {
	Name   string // as written: backend_flag1
	Record string // the parameter record: backend_flagN
	Index  int    // the number of an indexed name, else 0
	Value  Value
}

// ApplyOrder is the order in which the hosts' setups run: the backends in node id order (in
// streaming and logical replication the primary first, since setup makes the roles there and
// the standbys are copied from it), then the pgpool hosts that are not backends, in spec order
// (pgpool-II checks the backends as soon as it starts). The bundle's README, its Ansible
// playbook and deploy.sh all follow it.
func (c *Cluster) ApplyOrder() []*Host {
	order := make([]*Host, 0, len(c.Hosts))
	for _, h := range c.Backends {
		if h.Role == Primary {
			order = append(order, h)
		}
	}
	for _, h := range c.Backends {
		if h.Role != Primary {
			order = append(order, h)
		}
	}
	for _, h := range c.Hosts {
		if !h.Backend {
			order = append(order, h)
		}
	}
	return order
}
