//go:build e2e

package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"pgpoolgen/e2e/internal/proc"
)

func TestMainE2E(t *testing.T) {
	t.Run("streaming", func(t *testing.T) { testStreaming(t, "streaming") })
	t.Run("native", testNative)
	// The same cluster and checks on pgpool-II 4.7 (the build and its pgpool_recovery): the
	// scripts' arguments and the recovery functions' database changed after 4.3.
	t.Run("streaming-47", func(t *testing.T) { testStreaming(t, "streaming-47") })
	printSummary()
}

// testStreaming runs the streaming replication checks on the spec in e2e/<spec>.
func testStreaming(t *testing.T, spec string) {
	c := bringUp(t, spec)
	defer teardown(c)
	if c.via != "" && !c.checkHandoffFirst(t) {
		return
	}
	c.newPrimary, c.follower = "pg2", "pg3" // until failover says otherwise
	c.startPgpool(t)
	check(t, "pgpool_show_reads_back_every_parameter", c.checkPgpoolShow)
	check(t, "pcp_node_info_password", c.checkPCP)
	if c.trust {
		check(t, "trust_logins_through_pgpool_and_no_aes_entries", c.checkTrustOnly)
	} else {
		check(t, "scram_logins_through_pgpool", c.checkPoolHBA)
		check(t, "scram_rules_only_and_no_superuser_checks", c.checkScramOnly)
	}
	check(t, "ssh_trust_is_exactly_the_graph", func(t *testing.T) { c.checkSSHTrust(t, "pg2", "pgpool") })
	if !check(t, "pcp_recovery_node_makes_the_standbys", func(t *testing.T) {
		c.recover(t, 1)
		c.recover(t, 2)
	}) {
		return
	}
	check(t, "pool_nodes_roles_status_replication", func(t *testing.T) {
		// A standby that has just begun streaming may show "async" until PostgreSQL gives it
		// its place in synchronous_standby_names (seen once on 4.7): wait for that too.
		nodes := c.waitNodes(t, 30*time.Second, "3 nodes, both standbys streaming, pg2 sync and pg3 potential", func(nodes []node) bool {
			return len(nodes) == 3 && nodes[1].replState == "streaming" && nodes[2].replState == "streaming" &&
				nodes[1].syncState == "sync" && nodes[2].syncState == "potential"
		})
		want := []string{"primary", "standby", "standby"}
		for i, n := range nodes {
			if addr := fmt.Sprintf("%s.%d", testNet, 11+i); n.status != "up" || n.role != want[i] || n.host != addr {
				t.Errorf("node %d: %+v, want %s up at %s", i, n, want[i], addr)
			}
		}
		// The check user reads pg_stat_replication (pg_monitor): each standby's lag and its
		// place in synchronous_standby_names (FIRST 1: pg2 is the synchronous one).
		for i, sync := range map[int]string{1: "sync", 2: "potential"} {
			if _, err := strconv.ParseFloat(nodes[i].delay, 64); err != nil || nodes[i].syncState != sync {
				t.Errorf("node %d: replication_delay %q, replication_sync_state %q; want a number and %q", i, nodes[i].delay, nodes[i].syncState, sync)
			}
		}
	})
	check(t, "standbys_stream_from_their_slots", func(t *testing.T) {
		c.checkSlots(t, c.h("pg1"), "pg2:t:streaming\npg3:t:streaming")
	})
	if c.via != "" {
		c.checkHandoffCheck(t) // on the whole cluster: setup.sh checks that every port answers
	}

	check(t, "connections_come_from_the_real_host", func(t *testing.T) {
		// The source a server sees is what its pg_hba.conf rules match: the standbys' WAL
		// receivers must come from their own addresses, pgpool from its host's.
		want := testNet + ".12\n" + testNet + ".13"
		if got, err := c.direct(c.h("pg1"), "SELECT host(client_addr) FROM pg_stat_replication ORDER BY client_addr"); err != nil || got != want {
			t.Errorf("the standbys' connections to pg1 come from %q (%v), want %q", got, err, want)
		}
		// Asked through pgpool, a backend answers with the source of pgpool's connection to it.
		if got, err := c.sql("postgres", "SELECT host(inet_client_addr())"); err != nil || got != pgpoolIP {
			t.Errorf("pgpool's connection to a backend comes from %q (%v), want %s", got, err, pgpoolIP)
		}
	})

	check(t, "failover_promotes_and_follow_repoints", func(t *testing.T) {
		if out, err := c.sql("postgres", "CREATE TABLE kept (n int); INSERT INTO kept SELECT generate_series(1, 100); CREATE TABLE acked (n int PRIMARY KEY); GRANT INSERT ON acked TO "+c.app); err != nil {
			t.Fatalf("write before the kill: %v %s", err, out)
		}
		// Wait until both standbys have the rows, as a client would not, to compare afterwards.
		if _, ok := proc.WaitFor(20*time.Second, func() bool {
			a, _ := c.direct(c.h("pg2"), "SELECT count(*) FROM kept")
			b, _ := c.direct(c.h("pg3"), "SELECT count(*) FROM kept")
			return a == "100" && b == "100"
		}); !ok {
			t.Fatalf("the standbys do not have the 100 rows written through pgpool after 20 s")
		}
		// A client writes through pgpool, one row per transaction, from before the kill until
		// after the failover, and keeps the numbers of the rows whose commit was acknowledged.
		w := c.startWriter()
		if !w.waitAcked(10, 20*time.Second) {
			t.Fatalf("the writer got no 10 commits acknowledged before the kill")
		}
		start := time.Now()
		c.h("pg1").mustRun(t, time.Minute, osUser, pgBin+"/pg_ctl", "-D", dataDir, "-m", "immediate", "stop")
		// A try that failed for the client may have committed on the server all the same (pgpool
		// ends its sessions when the follow script attaches node 2 again, and a commit can wait
		// for the synchronous standby meanwhile), so the retry adds the row only once.
		took, ok := proc.WaitFor(90*time.Second, func() bool {
			_, err := c.sql("postgres", "INSERT INTO kept SELECT 101 WHERE NOT EXISTS (SELECT FROM kept WHERE n = 101)")
			return err == nil
		})
		if !ok {
			t.Fatalf("no write through pgpool succeeded within %s of killing the primary", took)
		}
		fmt.Printf("e2e: failover: %.1f s from killing the primary to the first successful write through pgpool\n", time.Since(start).Seconds())
		// pgpool shows the new primary, and the follow script attaches the other standby again
		// once it streams from it. failover.sh promotes the standby that has received the most
		// WAL (ties to the lower node id): pg2, the synchronous one, unless pg3 got further.
		nodes := c.waitNodes(t, 60*time.Second, "node 1 or 2 primary, node 0 down, the other up and streaming", func(nodes []node) bool {
			if len(nodes) != 3 || nodes[0].status != "down" {
				return false
			}
			p, q := nodes[1], nodes[2]
			if q.role == "primary" {
				p, q = q, p
			}
			return p.role == "primary" && q.status == "up" && q.replState == "streaming"
		})
		c.newPrimary, c.follower = "pg2", "pg3"
		if nodes[2].role == "primary" {
			c.newPrimary, c.follower = "pg3", "pg2"
		}
		fmt.Printf("e2e: failover.sh promoted %s\n", c.newPrimary)
		primary, follower := c.h(c.newPrimary), c.h(c.follower)
		// Counted on the new primary itself: a read through pgpool may go to a standby that is
		// still catching up.
		if n, err := c.direct(primary, "SELECT count(*) FROM kept"); err != nil || n != "101" {
			t.Errorf("rows on the new primary after failover: %s %v, want 101 (100 before the kill and 1 after)", n, err)
		}
		c.checkSlots(t, primary, c.follower+":t:streaming")
		// The follow script brought the other standby in line with pg_rewind, not a new copy.
		c.checkRewound(t, c.follower)
		// With synchronous replication (FIRST 1, pg2 the synchronous standby), every commit
		// acknowledged before the failover is on the new primary: on pg2, or on pg3 when it had
		// received more WAL than pg2 (the same stream, so all of pg2's too).
		acked := w.stop(t, 10, 30*time.Second)
		c.checkAcked(t, primary, acked)
		var got string
		if _, ok := proc.WaitFor(20*time.Second, func() bool {
			got, _ = c.direct(follower, "SELECT count(*) FROM kept")
			return got == "101"
		}); !ok {
			t.Errorf("%s has %s rows 20 s after following the new primary, want 101", c.follower, got)
		}
	})
	check(t, "pcp_recovery_node_brings_back_old_primary", func(t *testing.T) {
		c.recover(t, 0)
		c.waitNodes(t, 30*time.Second, "node 0 a streaming standby of "+c.newPrimary, func(nodes []node) bool {
			return len(nodes) == 3 && nodes[0].role == "standby" && nodes[0].replState == "streaming" &&
				(nodes[1].role == "primary") == (c.newPrimary == "pg2")
		})
		slots := "pg1:t:streaming\n" + c.follower + ":t:streaming"
		c.checkSlots(t, c.h(c.newPrimary), slots)
		var got string
		if _, ok := proc.WaitFor(20*time.Second, func() bool {
			got, _ = c.direct(c.h("pg1"), "SELECT count(*) FROM kept")
			return got == "101"
		}); !ok {
			t.Errorf("the recovered pg1 has %s rows, want 101", got)
		}
	})
	check(t, "setup_reloads_only_when_asked", func(t *testing.T) { c.checkReload(t, c.h(c.newPrimary)) })
	check(t, "setup_second_run_changes_nothing", c.checkSetupIdempotent)
	if c.via != "" {
		c.checkHandoffLast(t)
	}
}

func testNative(t *testing.T) {
	c := bringUp(t, "native")
	defer teardown(c)
	if c.via != "" && !c.checkHandoffFirst(t) {
		return
	}
	c.startPgpool(t)
	check(t, "scram_logins_through_pgpool", c.checkPoolHBA)
	check(t, "scram_rules_only_and_no_superuser_checks", c.checkScramOnly)
	if !check(t, "pgpool_starts_and_recovers_nodes", func(t *testing.T) {
		c.recover(t, 1)
		c.recover(t, 2)
	}) {
		return
	}
	if c.via != "" {
		c.checkHandoffCheck(t) // on the whole cluster: setup.sh checks that every port answers
	}
	check(t, "pgpool_show_reads_back_every_parameter", c.checkPgpoolShow)
	check(t, "write_reaches_every_backend", func(t *testing.T) {
		if out, err := c.sql("postgres", "CREATE TABLE kept (n int); INSERT INTO kept SELECT generate_series(1, 50)"); err != nil {
			t.Fatalf("write: %v %s", err, out)
		}
		for _, n := range []string{"pg1", "pg2", "pg3"} {
			if got, err := c.direct(c.h(n), "SELECT count(*) FROM kept"); err != nil || got != "50" {
				t.Errorf("%s has %s rows (%v), want 50", n, got, err)
			}
		}
	})
	check(t, "online_recovery_of_a_detached_node", func(t *testing.T) {
		c.detach(t, 2)
		if out, err := c.sql("postgres", "INSERT INTO kept SELECT generate_series(51, 80)"); err != nil {
			t.Fatalf("write while node 2 is detached: %v %s", err, out)
		}
		c.recover(t, 2)
		want, _ := c.direct(c.h("pg1"), "SELECT count(*), sum(n) FROM kept")
		for _, n := range []string{"pg2", "pg3"} {
			if got, _ := c.direct(c.h(n), "SELECT count(*), sum(n) FROM kept"); got != want {
				t.Errorf("%s has %q, pg1 has %q", n, got, want)
			}
		}
		if want != "80|"+strconv.Itoa(80*81/2) {
			t.Errorf("pg1 has %q, want 80 rows", want)
		}
	})
	check(t, "ssh_trust_is_exactly_the_graph", func(t *testing.T) { c.checkSSHTrust(t, "pg2", "pgpool") })
	check(t, "setup_second_run_changes_nothing", c.checkSetupIdempotent)
	if c.via != "" {
		c.checkHandoffLast(t)
	}
}
