package pgpool

// oldNames are the names a series still reads after their rename (the parameter table's
// renamed_to and renamed_in, with no last series), and what that series does with them: the
// table says a name is accepted, not whether its value counts.
var oldNames = []struct {
	name    string
	from    Version
	applied bool   // the value is set on the new name
	does    string // what pgpool-II does when it reads the name
}{
	// DelegateIPAssignMessage, LogDirAssignMessage (src/config/pool_config_variables.c).
	{"delegate_IP", Version{4, 4}, true, "sets delegate_ip from it, with a WARNING"},
	{"logdir", Version{4, 7}, true, "sets work_dir from it, with a WARNING"},
	// FailOverOnBackendErrorAssignMessage: the record has no variable.
	{"fail_over_on_backend_error", Version{4, 0}, false, "reads it only to warn that it has no effect"},
	// pool_config.l 3.4-3.5: a NOTICE "is not supported anymore" and nothing else.
	{"print_timestamp", Version{3, 4}, false, "ignores it with a NOTICE"},
	{"print_user", Version{3, 4}, false, "ignores it with a NOTICE"},
	// A bool with no assign function: backend_clustering_mode alone selects the mode.
	{"replication_mode", Version{4, 2}, false, "reads it but does not select a mode with it"},
}

// OldName says what series v does with a name renamed before v that it still reads: whether
// the value is applied (to the new name), and in words what pgpool-II does. ok is false for
// any other name.
func OldName(name string, v Version) (applied bool, does string, ok bool) {
	for _, o := range oldNames {
		if o.name == name && v.AtLeast(o.from) {
			return o.applied, o.does, true
		}
	}
	return false, "", false
}
