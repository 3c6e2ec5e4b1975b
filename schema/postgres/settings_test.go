package postgres

import (
	"testing"
)

// TestTable checks the table's own shape: names once each, ranges within 9.0-18 and not
// empty, Versions in order and complete.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Settings {
		if seen[s.Name] {
			t.Errorf("%s is listed twice", s.Name)
		}
		seen[s.Name] = true
		if !s.Since.AtLeast(Oldest) || !Newest.AtLeast(s.Since) {
			t.Errorf("%s: since %s is outside %s-%s", s.Name, s.Since, Oldest, Newest)
		}
		if s.Until != (Version{}) && !s.Until.AtLeast(s.Since) {
			t.Errorf("%s: until %s is before since %s", s.Name, s.Until, s.Since)
		}
		if s.Why == "" {
			t.Errorf("%s says nothing of what it is for", s.Name)
		}
		if Lookup(s.Name) != s {
			t.Errorf("Lookup(%q) does not find it", s.Name)
		}
	}
	// A feature and the setting that turns it on came together.
	if ReplicationSlots != Lookup("max_replication_slots").Since || SyncReplication != Lookup("synchronous_standby_names").Since {
		t.Error("a feature's version and its setting's differ")
	}
	if Lookup("primary_conninfo_x") != nil {
		t.Error("Lookup found a name the table does not have")
	}
	if Versions[0] != Oldest || Versions[len(Versions)-1] != Newest || len(Versions) != 16 {
		t.Errorf("Versions = %v", Versions)
	}
	for i := 1; i < len(Versions); i++ {
		if Versions[i-1].AtLeast(Versions[i]) {
			t.Errorf("Versions out of order at %s", Versions[i])
		}
	}
}

// TestVersionFacts pins each version-dependent fact at the versions where it changes.
func TestVersionFacts(t *testing.T) {
	v := func(major, minor int) Version { return Version{major, minor} }
	in := func(name string, ver Version) bool { return Lookup(name).In(ver) }
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"wal_level 9.5", WALLevel(v(9, 5)), "hot_standby"},
		{"wal_level 9.6", WALLevel(v(9, 6)), "replica"},
		{"password_encryption 9.6 scram", PasswordEncryption(v(9, 6), true), "on"},
		{"password_encryption 10 scram", PasswordEncryption(v(10, 0), true), "scram-sha-256"},
		{"password_encryption 10 md5", PasswordEncryption(v(10, 0), false), "md5"},
		{"wal_keep_segments in 12", in("wal_keep_segments", v(12, 0)), true},
		{"wal_keep_segments in 13", in("wal_keep_segments", v(13, 0)), false},
		{"wal_keep_size in 12", in("wal_keep_size", v(12, 0)), false},
		{"wal_keep_size in 18", in("wal_keep_size", v(18, 0)), true},
		{"max_replication_slots in 9.3", in("max_replication_slots", v(9, 3)), false},
		{"max_replication_slots in 9.4", in("max_replication_slots", v(9, 4)), true},
		{"wal_log_hints in 9.3", in("wal_log_hints", v(9, 3)), false},
		{"synchronous_standby_names in 9.0", in("synchronous_standby_names", v(9, 0)), false},
		{"synchronous_standby_names in 9.1", in("synchronous_standby_names", v(9, 1)), true},
		{"idle_in_transaction_session_timeout in 9.5", in("idle_in_transaction_session_timeout", v(9, 5)), false},
		{"idle_in_transaction_session_timeout in 9.6", in("idle_in_transaction_session_timeout", v(9, 6)), true},
		{"tcp_keepalives_idle in 9.0", in("tcp_keepalives_idle", v(9, 0)), true},
		{"tcp_user_timeout in 11", in("tcp_user_timeout", v(11, 0)), false},
		{"tcp_user_timeout in 12", in("tcp_user_timeout", v(12, 0)), true},
		{"include 9.2", Include(v(9, 2)), "include"},
		{"include 9.3", Include(v(9, 3)), "include_if_exists"},
		{"max_wal_senders 9.6, 3 backends", MaxWALSenders(v(9, 6), 3), 4},
		{"max_wal_senders 10, 3 backends", MaxWALSenders(v(10, 0), 3), 10},
		{"max_wal_senders 15, 12 backends", MaxWALSenders(v(15, 0), 12), 13},
		{"max_replication_slots 9.4, 2 backends", MaxReplicationSlots(v(9, 4), 2), 3},
		{"max_replication_slots 10, 2 backends", MaxReplicationSlots(v(10, 0), 2), 10},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	for _, c := range []struct {
		ver         Version
		mb          int
		name, value string
	}{
		{v(12, 0), 1024, "wal_keep_segments", "64"},
		{v(12, 0), 1000, "wal_keep_segments", "63"}, // rounded up: never less than asked
		{v(9, 0), 16, "wal_keep_segments", "1"},
		{v(13, 0), 1000, "wal_keep_size", "1000"},
	} {
		if n, val := WALKeep(c.ver, c.mb); n != c.name || val != c.value {
			t.Errorf("WALKeep(%s, %d) = %s %s, want %s %s", c.ver, c.mb, n, val, c.name, c.value)
		}
	}
}

// TestSyncStandbyNames checks each version's form of synchronous_standby_names, and that a
// choice the version lacks panics instead of being written some other way.
func TestSyncStandbyNames(t *testing.T) {
	names := []string{"pg1", "pg-2"}
	for _, c := range []struct {
		ver    Version
		method string
		n      int
		want   string
	}{
		{Version{18, 0}, "ANY", 2, `ANY 2 ("pg1", "pg-2")`},
		{Version{10, 0}, "FIRST", 1, `FIRST 1 ("pg1", "pg-2")`},
		{Version{9, 6}, "FIRST", 2, `2 ("pg1", "pg-2")`},
		{Version{9, 5}, "FIRST", 1, `"pg1", "pg-2"`},
		{Version{9, 1}, "FIRST", 1, `"pg1", "pg-2"`},
	} {
		if got := SyncStandbyNames(c.ver, c.method, c.n, names); got != c.want {
			t.Errorf("%s %s %d: %s, want %s", c.ver, c.method, c.n, got, c.want)
		}
	}
	for _, c := range []struct {
		ver    Version
		method string
		n      int
	}{
		{Version{9, 6}, "ANY", 1},
		{Version{9, 5}, "FIRST", 2},
		{Version{9, 0}, "FIRST", 1},
		{Version{15, 0}, "SOME", 1},
		{Version{15, 0}, "ANY", 0},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s %s %d did not panic", c.ver, c.method, c.n)
				}
			}()
			SyncStandbyNames(c.ver, c.method, c.n, names)
		}()
	}
}
