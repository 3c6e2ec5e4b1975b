package pgpool

// An Escape is one %-escape pgpool-II replaces in failover_command and the follow command
// (pgpool-facts.md §3).
type Escape struct {
	Code  string // "%r"
	Since Version
}

// CommandEscapes are the escapes in the order the generated scripts read them as positional
// arguments; the follow script reads the first FollowEscapes of them.
var CommandEscapes = []Escape{
	{"%d", V31}, {"%h", V31}, {"%p", V31}, {"%D", V31}, {"%m", V31}, {"%H", V31}, {"%M", V31}, {"%P", V31},
	{"%r", V32}, {"%R", V32}, {"%N", V41}, {"%S", V41},
}

// FollowEscapes is how many of CommandEscapes the follow command passes: pgpool-II's own
// follow_primary.sh sample takes ten.
const FollowEscapes = 10

// EscapesIn lists the first n of CommandEscapes that series v replaces (n < 0: all of them).
func EscapesIn(v Version, n int) []string {
	var out []string
	for i, e := range CommandEscapes {
		if n >= 0 && i >= n {
			break
		}
		if v.AtLeast(e.Since) {
			out = append(out, e.Code)
		}
	}
	return out
}
