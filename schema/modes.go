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
	// Generated is false for modes pgpoolgen knows of but does not generate yet: a spec
	// naming one is refused.
	Generated bool
}

// Has reports whether the mode needs feature f.
func (m *ModeInfo) Has(f Feature) bool { return m.Features&f != 0 }

// Modes lists pgpool-II's clustering modes, the generated ones first.
var Modes = []ModeInfo{
	{Mode: Streaming, Name: "streaming_replication", Aliases: []string{"master_slave"},
		Legacy: true, MasterSlave: true, SubMode: "stream",
		Features: FeatPrimaryStandby | FeatSRCheck | FeatFailover | FeatFollow, Generated: true},
	{Mode: Native, Name: "native_replication", Aliases: []string{"replication"},
		Legacy: true, ReplicationMode: true, Features: FeatSecondStage, Generated: true},
	{Mode: Logical, Name: "logical_replication", Legacy: true, MasterSlave: true, SubMode: "logical"},
	{Mode: Slony, Name: "slony", Legacy: true, MasterSlave: true, SubMode: "slony"},
	{Mode: SnapshotIsolation, Name: "snapshot_isolation", ReplicationMode: true},
	{Mode: Raw, Name: "raw", Legacy: true},
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
