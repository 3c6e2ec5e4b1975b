//go:build versions

package versions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pgpoolgen/e2e/internal/proc"
)

// A pgpool.conf with use_watchdog = on starts as one node of its cluster, alone: its other
// nodes are moved onto addresses of its namespace where nothing listens (peerAddr). What a
// leader runs goes to stand-ins in the case's folder (moves): the escalation scripts record
// that they ran, and sudo, which pgpool starts from if_cmd_path and arping_path, records its
// arguments and fails, as sudo -n does without a rule. Besides, pgpool runs with no_new_privs
// (asUser) in a namespace with only its loopback: no command it runs can become root or reach
// an interface of the machine, and the virtual IP is no address the machine routes to.

// standIn is the test's sudo: it records each call's arguments, each in [ ], on one line.
const standIn = `#!/bin/sh
# The versions test's stand-in for sudo: records its arguments and fails like sudo -n without a rule.
for a; do printf '[%%s]' "$a"; done >> %[1]s/sudo.log
echo >> %[1]s/sudo.log
exit 1
`

// writeStandIns writes the stand-ins the watchdog settings are moved onto, root's.
func writeStandIns(t *testing.T, dir string) {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	must(t, os.Mkdir(bin, 0o755))
	must(t, os.WriteFile(filepath.Join(bin, "sudo"), []byte(fmt.Sprintf(standIn, dir)), 0o755))
	for _, f := range []string{"escalation", "de-escalation"} {
		script := fmt.Sprintf("#!/bin/sh\necho %s >> %s/%s.log\n", f, dir, f)
		must(t, os.WriteFile(filepath.Join(dir, f+".sh"), []byte(script), 0o755))
	}
}

// sudoArgs is how the stand-in records command line cmd if pgpool runs it as written: its
// words after the first (sudo), or "" when the first word is not sudo.
func sudoArgs(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) == 0 || f[0] != "sudo" {
		return ""
	}
	return "[" + strings.Join(f[1:], "][") + "]"
}

// checkEscalation checks what a lone watchdog node ran, while it runs (running) or once it
// stopped: nothing but the three commands as written, each word one argument (the sudoers
// rule allows exactly those); and, while it runs, whether it escalated. From 3.5 the watchdog
// escalates only with a quorum (loneQuorum), so a lone node of three must not have put the
// virtual IP up or run wd_escalation_command; before 3.5, and with a quorum, it does both
// before it takes clients, which is where the commands' arguments are seen.
func checkEscalation(t *testing.T, label, release, ser, dir string, settings []line, running bool) {
	t.Helper()
	val := map[string]string{}
	for _, s := range settings {
		val[record(s.name)] = s.value
	}
	vip := val["delegate_IP"] + val["delegate_ip"]
	allowed := map[string]string{}
	for _, c := range []string{"if_up_cmd", "if_down_cmd", "arping_cmd"} {
		if a := sudoArgs(val[c]); a != "" && vip != "" {
			allowed[a] = c
		}
	}
	// seen reads what the stand-ins recorded: the commands sudo was given, and whether the
	// escalation script ran.
	var data []byte
	seen := func() (ran map[string]bool, others []string, escalated bool) {
		data, _ = os.ReadFile(filepath.Join(dir, "sudo.log"))
		ran = map[string]bool{}
		for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if c, ok := allowed[l]; ok {
				ran[c] = true
			} else if l != "" {
				others = append(others, l)
			}
		}
		_, err := os.Stat(filepath.Join(dir, "escalation.log"))
		return ran, others, err == nil
	}
	n := nodes(settings)
	quorum := loneQuorum(ser, n, bools[strings.ToLower(val["enable_consensus_with_half_votes"])] == "on")
	wantUp := quorum && vip != "" && sudoArgs(val["if_up_cmd"]) != ""
	wantEscalation := quorum && val["wd_escalation_command"] != ""
	ran, others, escalated := seen()
	if running && (wantUp && !ran["if_up_cmd"] || wantEscalation && !escalated) {
		// From 3.5 a child process escalates, beside the one that starts taking clients.
		proc.WaitFor(15*time.Second, func() bool {
			ran, others, escalated = seen()
			return (!wantUp || ran["if_up_cmd"]) && (!wantEscalation || escalated)
		})
	}
	for _, l := range others {
		t.Errorf("%s: pgpool-II %s ran sudo with the arguments %s, which are none of if_up_cmd, if_down_cmd and arping_cmd as written (%q, %q, %q)",
			label, release, l, val["if_up_cmd"], val["if_down_cmd"], val["arping_cmd"])
	}
	switch {
	case !running:
	case quorum:
		if wantUp && !ran["if_up_cmd"] {
			t.Errorf("%s: pgpool-II %s, a lone watchdog node of %d that needs no other for a quorum, did not run if_up_cmd %q as written within 15 s (its sudo calls: %q)",
				label, release, n, val["if_up_cmd"], data)
		}
		if wantEscalation && !escalated {
			t.Errorf("%s: pgpool-II %s, a lone watchdog node of %d that needs no other for a quorum, did not run wd_escalation_command within 15 s", label, release, n)
		}
	default:
		if ran["if_up_cmd"] {
			t.Errorf("%s: pgpool-II %s put the virtual IP up (if_up_cmd) as one node of %d without a quorum", label, release, n)
		}
		if escalated {
			t.Errorf("%s: pgpool-II %s ran wd_escalation_command as one node of %d without a quorum", label, release, n)
		}
	}
}

// loneQuorum says whether one node of n alone makes a quorum in series ser: always before
// 3.5 (no quorum at all); from 3.5 a majority, where exactly half counts before 4.1 and, from
// 4.1, with enable_consensus_with_half_votes (src/watchdog/watchdog.c,
// get_minimum_remote_nodes_required_for_quorum).
func loneQuorum(ser string, n int, halfVotes bool) bool {
	switch {
	case before(ser, "3.5") || n == 1:
		return true
	case n == 2:
		return before(ser, "4.1") || halfVotes
	}
	return false
}

// nodes says how many watchdog nodes a pgpool.conf lists.
func nodes(settings []line) int {
	n := 1
	for _, s := range settings {
		switch record(s.name) {
		case "hostnameN":
			if index(s.name)+1 > n {
				n = index(s.name) + 1
			}
		case "other_pgpool_hostnameN":
			if index(s.name)+2 > n {
				n = index(s.name) + 2
			}
		}
	}
	return n
}

// shownName is the name under which a series reports a setting: before 3.7, SHOW pool_status
// lists other_wd_portN as other_pgpool_wd_portN (src/utils/pool_process_reporting.c).
func shownName(ser, name string) string {
	if record(name) == "other_wd_portN" && before(ser, "3.7") {
		return "other_pgpool_wd_port" + strings.TrimPrefix(name, "other_wd_port")
	}
	return name
}
