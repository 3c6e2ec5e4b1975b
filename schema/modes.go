package schema

import (
	"strings"

	"pgpoolgen/schema/pgpool"
)

// A Feature is something a clustering mode needs: settings, scripts, trust edges or checks.
// Bindings name the feature they belong to, so a mode is a row of modes, not a branch in the
// renderer.
type Feature uint

const (
	// FeatPrimaryStandby: backends are one "primary" and "standby"s, not alike "backend"s.
	FeatPrimaryStandby Feature = 1 << iota
	// FeatSRCheck: pgpool checks streaming replication ([sr_check], sr_check_*).
	FeatSRCheck
	// FeatFailover: failover_command runs the generated failover.sh, and the pgpool hosts
	// log in to every backend for it.
	FeatFailover
	// FeatFollow: the follow command runs the generated follow script (same trust edges).
	FeatFollow
	// FeatSecondStage: online recovery has a second stage (recovery_2nd_stage_command), run
	// after pgpool has stopped taking new sessions.
	FeatSecondStage
	// FeatRecovery: online recovery (pcp_recovery_node) copies a backend from the primary or
	// main node with pg_basebackup: the recovery scripts, the pgpool_recovery extension, the
	// replication user and the backends' trust edges.
	FeatRecovery
)

// A ModeInfo describes one clustering mode of pgpool-II.
type ModeInfo struct {
	Mode Mode
	// Name is the cluster.mode value and, from 4.2, backend_clustering_mode's value.
	Name string
	// Aliases are other cluster.mode spellings: the names of pgpool-II 3.x.
	Aliases []string
	// Before backend_clustering_mode (4.2), the mode is three switches, if Legacy: the
	// series before 4.2 have the mode. SubMode is master_slave_sub_mode's value; "" writes none.
	Legacy                       bool
	ReplicationMode, MasterSlave bool
	SubMode                      string
	Features                     Feature
	// WALLevel is what the backends' wal_level must be: "replica" where PostgreSQL's
	// streaming copies the data (streaming replication, and pg_basebackup in online
	// recovery), "logical" for logical replication, "" where the bundle sets no WAL settings
	// (slony and raw: replication, if any, is not PostgreSQL's).
	WALLevel string
	// Isolation is the default_transaction_isolation every backend must have, or "".
	Isolation string
	// Why says, for the mode's docs and errors, what pgpool-II does in it.
	Why string
}

// Has reports whether the mode needs feature f.
func (m *ModeInfo) Has(f Feature) bool { return m.Features&f != 0 }

// Modes lists pgpool-II's clustering modes.
var Modes = []ModeInfo{
	{Mode: Streaming, Name: "streaming_replication", Aliases: []string{"master_slave"},
		Legacy: true, MasterSlave: true, SubMode: "stream", WALLevel: "replica",
		Features: FeatPrimaryStandby | FeatSRCheck | FeatFailover | FeatFollow | FeatRecovery,
		Why:      "PostgreSQL's streaming replication copies the primary to the standbys; pgpool-II sends writes to the primary, balances reads, promotes a standby when the primary fails and re-points the others"},
	{Mode: Native, Name: "native_replication", Aliases: []string{"replication"},
		Legacy: true, ReplicationMode: true, WALLevel: "replica", Features: FeatSecondStage | FeatRecovery,
		Why: "pgpool-II sends every write to every backend; a failed backend is detached and comes back by online recovery"},
	// PostgreSQL's logical replication (publications and subscriptions, 10+) is the
	// operator's, table by table: pgpool-II writes to the primary, balances reads, and
	// detaches a failed node; nothing promotes or copies a node.
	{Mode: Logical, Name: "logical_replication", Legacy: true, MasterSlave: true, SubMode: "logical", WALLevel: "logical",
		Features: FeatPrimaryStandby,
		Why:      "PostgreSQL's logical replication, which the operator sets up table by table, copies the primary (the publisher) to the standbys (the subscribers); pgpool-II sends writes to the primary, balances reads and detaches a failed node"},
	{Mode: Slony, Name: "slony", Legacy: true, MasterSlave: true, SubMode: "slony", Features: FeatPrimaryStandby,
		Why: "Slony-I, set up by the operator, copies the primary (the origin) to the standbys (the subscribers); pgpool-II sends writes to the primary, balances reads and detaches a failed node"},
	// Native replication whose reads see one snapshot on every backend: REPEATABLE READ on
	// each (src/test/pgpool_setup.in of 4.2-4.7 sets it for this mode).
	{Mode: SnapshotIsolation, Name: "snapshot_isolation", ReplicationMode: true, WALLevel: "replica", Isolation: "repeatable read",
		Features: FeatSecondStage | FeatRecovery,
		Why:      "native replication where every transaction sees the same snapshot on every backend (REPEATABLE READ everywhere)"},
	{Mode: Raw, Name: "raw", Legacy: true,
		Why: "no replication: pgpool-II pools connections, sends each session to the first live backend and detaches a failed one"},
}

// Series lists the series that have the mode, as a range for messages: "3.7-4.7".
func (m *ModeInfo) Series() string {
	var first, last pgpool.Version
	for _, v := range pgpool.Series {
		if m.In(v) {
			if first.IsZero() {
				first = v
			}
			last = v
		}
	}
	if first == last {
		return first.String()
	}
	return first.String() + "-" + last.String()
}

// In reports whether series v has the mode, from the values params.tsv gives
// backend_clustering_mode (4.2 on) or master_slave_sub_mode (before): logical replication
// from 3.7, slony up to 4.6, snapshot isolation from 4.2.
func (m *ModeInfo) In(v pgpool.Version) bool {
	values := func(record string) []string { return strings.Split(pgpool.Lookup(record).ValuesIn(v), "|") }
	switch {
	case pgpool.Spelling("backend_clustering_mode", v) != "":
		return contains(values("backend_clustering_mode"), m.Name)
	case !m.Legacy:
		return false
	case m.SubMode != "":
		return contains(values("master_slave_sub_mode"), m.SubMode)
	}
	return true
}

// Info is the mode's row of Modes; an unset mode has an empty row, with no features.
func (m Mode) Info() *ModeInfo {
	for i := range Modes {
		if Modes[i].Mode == m {
			return &Modes[i]
		}
	}
	return &ModeInfo{}
}

// modeNamed finds the mode a cluster.mode value names, by name or alias.
func modeNamed(s string) *ModeInfo {
	for i := range Modes {
		if Modes[i].Name == s || contains(Modes[i].Aliases, s) {
			return &Modes[i]
		}
	}
	return nil
}
