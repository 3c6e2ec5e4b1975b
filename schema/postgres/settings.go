// Package postgres holds what pgpoolgen knows of PostgreSQL itself: the postgresql.conf
// settings the bundle writes, the major versions that have each, and the values that depend on
// the version. It is the one place for these facts: the renderers ask it, and a test holds
// every setting the bundle writes for a version to this table (and, for 15, to Debian's real
// postgres -C).
package postgres

import (
	"fmt"
	"strconv"
	"strings"
)

// A Version is a PostgreSQL major version: {9, 6} for 9.6, {15, 0} for 15.
type Version struct{ Major, Minor int }

func (v Version) String() string {
	if v.Major >= 10 {
		return strconv.Itoa(v.Major)
	}
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor)
}

// AtLeast reports whether v is w or newer.
func (v Version) AtLeast(w Version) bool {
	if v.Major != w.Major {
		return v.Major > w.Major
	}
	return v.Minor >= w.Minor
}

// Oldest and Newest bound the versions pgpoolgen targets; Versions lists them all.
var (
	Oldest   = Version{9, 0}
	Newest   = Version{18, 0}
	Versions = []Version{{9, 0}, {9, 1}, {9, 2}, {9, 3}, {9, 4}, {9, 5}, {9, 6},
		{10, 0}, {11, 0}, {12, 0}, {13, 0}, {14, 0}, {15, 0}, {16, 0}, {17, 0}, {18, 0}}
)

// A Kind is how postgresql.conf writes a setting's value.
type Kind int

const (
	Word   Kind = iota // a boolean, a number or an enum word: written bare
	String             // a string: written in single quotes
)

// A Setting is a postgresql.conf setting the bundle writes.
type Setting struct {
	Name  string
	Since Version // the first major version that has it
	Until Version // the last one that has it; zero while PostgreSQL still has it
	Kind  Kind
	// Restart: a changed value takes effect at the next server start (the postmaster reads
	// it); the others take effect on a reload.
	Restart bool
	Why     string // what the bundle sets it for, for the settings file's header
}

// In reports whether version v has the setting.
func (s *Setting) In(v Version) bool {
	return v.AtLeast(s.Since) && (s.Until == Version{} || s.Until.AtLeast(v))
}

// Settings lists every setting the bundle writes into a backend's postgresql.conf, in the
// order the settings file has them. Facts from PostgreSQL's release notes and the
// documentation of each version (runtime-config-*.html); 15's are checked against Debian's
// postgres -C by gen's TestSettingsOnRealPostgres.
var Settings = []*Setting{
	{Name: "listen_addresses", Since: Version{9, 0}, Kind: String, Restart: true,
		Why: "the host's address, for pgpool-II and the other backends, and localhost, for setup's checks"},
	{Name: "port", Since: Version{9, 0}, Restart: true,
		Why: "the port pgpool-II's backend_port gives"},
	// hot_standby and archive were folded into replica in 9.6 (still read as replica).
	{Name: "wal_level", Since: Version{9, 0}, Restart: true,
		Why: "enough WAL for standbys, pg_basebackup and pg_rewind"},
	{Name: "max_wal_senders", Since: Version{9, 0}, Restart: true,
		Why: "a WAL sender per standby and two for pg_basebackup (online recovery)"},
	{Name: "max_replication_slots", Since: Version{9, 4}, Restart: true,
		Why: "a slot per backend and pg_basebackup's temporary one"},
	{Name: "hot_standby", Since: Version{9, 0}, Restart: true,
		Why: "standbys take read-only queries, and pgpool-II's checks"},
	{Name: "wal_log_hints", Since: Version{9, 4}, Restart: true,
		Why: "pg_rewind needs it (or data checksums) to rewind an old primary"},
	// A boolean before 10 (on = md5); md5 or scram-sha-256 from 10, where on stays an alias of
	// md5 until 14 drops the boolean spellings (15's postgres -C refuses on).
	{Name: "password_encryption", Since: Version{9, 0},
		Why: "how ALTER ROLE ... PASSWORD stores a password: the form the pg_hba.conf method checks"},
	{Name: "wal_keep_segments", Since: Version{9, 0}, Until: Version{12, 0},
		Why: "WAL kept for standbys that stream without a replication slot, in 16 MB segments"},
	{Name: "wal_keep_size", Since: Version{13, 0},
		Why: "WAL kept for standbys that stream without a replication slot, in MB"},
	{Name: "synchronous_standby_names", Since: Version{9, 1}, Kind: String,
		Why: "a commit waits until standbys of the list have its WAL"},
	// The backend timeouts: pgpool-II has no setting that ends a client session blocked on a
	// backend after a failover, so the backend ends it. idle_session_timeout (14) is left out:
	// it would close pgpool-II's cached connections.
	{Name: "idle_in_transaction_session_timeout", Since: Version{9, 6},
		Why: "a session idle inside a transaction is ended: pgpool-II then sees the connection close"},
	{Name: "tcp_keepalives_idle", Since: Version{9, 0},
		Why: "seconds of silence before the server probes a client's connection (pgpool-II's, a standby's)"},
	{Name: "tcp_keepalives_interval", Since: Version{9, 0},
		Why: "seconds between unanswered probes"},
	{Name: "tcp_keepalives_count", Since: Version{9, 0},
		Why: "unanswered probes after which the connection is dropped"},
	{Name: "tcp_user_timeout", Since: Version{12, 0},
		Why: "milliseconds data sent may stay unacknowledged before the connection is dropped"},
	{Name: "default_transaction_isolation", Since: Version{9, 0}, Kind: String,
		Why: "snapshot isolation mode: every transaction sees one snapshot on every backend"},
}

// What the spec can ask of PostgreSQL, by the version that brought it. The loader refuses a
// choice the target version lacks, and the renderers and the scripts write it from these.
var (
	ReplicationSlots = Version{9, 4}  // physical replication slots (max_replication_slots)
	SyncReplication  = Version{9, 1}  // synchronous_standby_names: the first standby of a list
	SyncMany         = Version{9, 6}  // "n (...)": several synchronous standbys, by priority
	SyncQuorum       = Version{10, 0} // "ANY n (...)" and "FIRST n (...)"
	Scram            = Version{10, 0} // scram-sha-256 passwords and pg_hba.conf method
	Rewind           = Version{9, 5}  // pg_rewind, in PostgreSQL itself
	RewindGrants     = Version{11, 0} // pg_rewind as a role with grants, not a superuser
	Monitor          = Version{10, 0} // the pg_monitor role (pg_stat_replication for all)
	Logical          = Version{10, 0} // logical replication: publications and subscriptions
)

// What the HA scripts and setup use, by the version that brought it (the release notes and the
// documentation of each version): gen decides each command at generation time from these.
var (
	PgIsReady       = Version{9, 3}  // pg_isready
	Promote         = Version{9, 1}  // pg_ctl promote
	PromoteWait     = Version{10, 0} // pg_ctl -w promote waits for the promotion
	BaseBackup      = Version{9, 1}  // pg_basebackup
	StreamWAL       = Version{9, 2}  // pg_basebackup -X stream (-x before)
	StatReplication = Version{9, 1}  // the pg_stat_replication view
	LSNFunctions    = Version{9, 4}  // pg_lsn and the replay positions pgpoolgen compares
	WALNames        = Version{10, 0} // "xlog" renamed "wal", "location" renamed "lsn"
	SlotReserve     = Version{9, 6}  // pg_create_physical_replication_slot(name, immediately_reserve)
	StandbySignal   = Version{12, 0} // standby.signal and primary_conninfo in postgresql.conf, not recovery.conf
)

// RewindFunctions are the functions pg_rewind calls on its source server, which a role that is
// not a superuser may run once granted EXECUTE on them (from RewindGrants; pg_rewind's
// documentation, "Notes").
var RewindFunctions = []string{
	"pg_catalog.pg_ls_dir(text, boolean, boolean)",
	"pg_catalog.pg_stat_file(text, boolean)",
	"pg_catalog.pg_read_binary_file(text)",
	"pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)",
}

// Include directives of postgresql.conf, by the version that has each. A missing file named
// by include stops the server from starting; include_if_exists skips it with a message.
var (
	IncludeIfExists = Version{9, 3} // include_if_exists
	IncludeDir      = Version{9, 3} // include_dir, which Debian's postgresql.conf ends with
)

// Include is the directive that includes a file from postgresql.conf: include_if_exists from
// 9.3, include before.
func Include(v Version) string {
	if v.AtLeast(IncludeIfExists) {
		return "include_if_exists"
	}
	return "include"
}

// Lookup returns the setting of that name, or nil when the bundle writes no such setting.
func Lookup(name string) *Setting {
	for _, s := range Settings {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// WALLevel is the wal_level that standbys need: replica from 9.6, hot_standby before.
func WALLevel(v Version) string {
	if v.AtLeast(Version{9, 6}) {
		return "replica"
	}
	return "hot_standby"
}

// PasswordEncryption is the password_encryption that stores passwords for scram-sha-256
// (10 and later) or for md5: before 10 the setting is a boolean and on means md5.
func PasswordEncryption(v Version, scram bool) string {
	switch {
	case !v.AtLeast(Scram):
		return "on"
	case scram:
		return "scram-sha-256"
	}
	return "md5"
}

// SegmentMB is the size of a WAL segment that initdb makes unless told otherwise (initdb
// --wal-segsize, 11 and later).
const SegmentMB = 16

// WALKeep is the setting and value that keep mb megabytes of WAL for standbys without a slot:
// wal_keep_size in MB from 13, wal_keep_segments (rounded up to whole segments) before.
func WALKeep(v Version, mb int) (name, value string) {
	if v.AtLeast(Version{13, 0}) {
		return "wal_keep_size", strconv.Itoa(mb)
	}
	return "wal_keep_segments", strconv.Itoa((mb + SegmentMB - 1) / SegmentMB)
}

// defaultSenders is what max_wal_senders and max_replication_slots are by default from 10 (0
// before): the bundle never sets fewer.
func defaultSenders(v Version) int {
	if v.AtLeast(Version{10, 0}) {
		return 10
	}
	return 0
}

// MaxWALSenders sizes max_wal_senders for a cluster of backends: one WAL sender per standby
// (backends - 1) and the two connections of pg_basebackup -X stream (online recovery), never
// below the version's default.
func MaxWALSenders(v Version, backends int) int {
	return max(backends+1, defaultSenders(v))
}

// MaxReplicationSlots sizes max_replication_slots: a slot for every backend (each can be a
// standby, and an old primary's slot may remain until a script drops it) and the temporary
// slot pg_basebackup takes from 10, never below the version's default.
func MaxReplicationSlots(v Version, backends int) int {
	return max(backends+1, defaultSenders(v))
}

// SyncStandbyNames is the synchronous_standby_names value, as the string between its quotes,
// that makes a commit wait for count standbys of names: "ANY n (...)" (quorum) or
// "FIRST n (...)" (priority) from 10, "n (...)" in 9.6 (FIRST), and the bare list before 9.6,
// which waits for the first standby of the list. Each name is double-quoted, so that a name
// with '-' or '.' or upper case letters is read as written. method is "ANY" or "FIRST"; a
// choice the version does not have (the loader refuses it) is a bug and panics.
func SyncStandbyNames(v Version, method string, count int, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	list := strings.Join(q, ", ")
	switch {
	case method != "ANY" && method != "FIRST" || count < 1 || !v.AtLeast(SyncReplication):
	case v.AtLeast(SyncQuorum):
		return fmt.Sprintf("%s %d (%s)", method, count, list)
	case method == "ANY":
	case v.AtLeast(SyncMany):
		return fmt.Sprintf("%d (%s)", count, list)
	case count == 1:
		return list
	}
	panic(fmt.Sprintf("postgres: PostgreSQL %s has no synchronous_standby_names for %s %d", v, method, count))
}
