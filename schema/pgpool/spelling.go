package pgpool

import "regexp"

// The series by name: the one set of version constants pgpoolgen compares with. A comparison
// says what changed in that series; a parameter's own life (added, renamed, removed) is never
// compared here but read from the table through Spelling and Since.
var (
	V31 = Version{3, 1}
	V32 = Version{3, 2}
	V33 = Version{3, 3}
	V34 = Version{3, 4}
	V35 = Version{3, 5}
	V36 = Version{3, 6}
	V37 = Version{3, 7}
	V40 = Version{4, 0}
	V41 = Version{4, 1}
	V42 = Version{4, 2}
	V43 = Version{4, 3}
	V44 = Version{4, 4}
	V45 = Version{4, 5}
	V46 = Version{4, 6}
	V47 = Version{4, 7}
)

// pureRenameRE matches a renamed_from cell that names exactly one parameter and the series of
// the rename, "socket_dir (4.4)": the same setting under a new name. Cells that merge several
// parameters ("master_slave_mode + master_slave_sub_mode, …") or name an alias of another
// meaning ("allow_inet_domain_socket (compat alias until 3.5)") are not renames of one value.
var pureRenameRE = regexp.MustCompile(`^([a-zA-Z_]+N?) \(\d+\.\d+\)$`)

// predecessorOf returns the parameter p is a pure rename of, or nil.
func predecessorOf(p *Param) *Param {
	m := pureRenameRE.FindStringSubmatch(p.renamedFrom)
	if m == nil {
		return nil
	}
	if q := paramIndex[m[1]]; q != nil && q.RenamedTo == p.Name {
		return q
	}
	return nil
}

// successorOf returns the pure rename of p, or nil.
func successorOf(p *Param) *Param {
	if q := paramIndex[p.RenamedTo]; q != nil && predecessorOf(q) == p {
		return q
	}
	return nil
}

// Record is the newest name of the parameter a pgpool.conf name refers to, following pure
// renames: "logdir" and "work_dir" give "work_dir", "backend_port3" gives "backend_portN". It
// returns "" for a name no series knows.
func Record(name string) string {
	p := Lookup(name)
	if p == nil {
		return ""
	}
	for n := 0; n < len(params); n++ { // bounded: the chain cannot be longer than the table
		q := successorOf(p)
		if q == nil {
			break
		}
		p = q
	}
	return p.Name
}

// Spellings lists every name a parameter record has had, oldest first:
// "unix_socket_directories" gives socket_dir, unix_socket_directories.
func Spellings(record string) []string {
	var out []string
	for p, n := paramIndex[record], 0; p != nil && n < len(params); p, n = predecessorOf(p), n+1 {
		out = append([]string{p.Name}, out...)
	}
	return out
}

// Spelling is the name series v reads a parameter record under, or "" when v has no such
// parameter: "unix_socket_directories" is socket_dir in 4.3, "health_check_max_retries" is
// absent from 3.1. Where a series accepts an old name beside the new (logdir in 4.7), the
// newest wins.
func Spelling(record string, v Version) string {
	for p, n := paramIndex[record], 0; p != nil && n < len(params); p, n = predecessorOf(p), n+1 {
		if p.In(v) {
			return p.Name
		}
	}
	return ""
}

// Since is the first series that has a parameter record under any of its names, or zero for
// a record the table does not hold.
func Since(record string) Version {
	for _, s := range Series {
		if Spelling(record, s) != "" {
			return s
		}
	}
	return Version{}
}
