package schema

import (
	"strconv"
	"strings"
	"testing"
)

// TestHealthCheckDefaults holds the health-check defaults (a spec with no [health_check]) to
// issue 11's targets, through the bounds pgpool-II's health_check.c gives each fault (see the
// comment on the defaults), and checks that docs/spec.md states the same defaults.
func TestHealthCheckDefaults(t *testing.T) {
	if strings.Contains(baseSpec, "[health_check]") {
		t.Fatal("baseSpec sets [health_check]: the defaults are not what loads")
	}
	h := mustLoad(t, "base.toml", baseSpec).HealthCheck
	p, T, r, d := h.Period, h.Timeout, h.MaxRetries, h.RetryDelay
	ct := (h.ConnectTimeout + 999) / 1000 // a try's connect() is bounded by it, in whole seconds up
	if T == 0 || h.ConnectTimeout == 0 {
		t.Fatalf("timeout %d, connect_timeout %d: 0 is no bound, and a frozen server then stalls the check", T, h.ConnectTimeout)
	}
	kill := p + r*d
	freeze := p + (r+1)*T + r*d
	vanish := p + (r+1)*min(ct, T) + r*d
	// failover.sh takes about 1 s; the first write must come within 2 s of a kill.
	if kill > 1 {
		t.Errorf("a killed server fails over after up to %d + %d·%d = %d s, want 1 s at most", p, r, d, kill)
	}
	// 15 s to the first write after a freeze or a vanished host, of which failover.sh, its
	// bounded fencing and pgpool-II's own search for the primary take up to about 5 s.
	if freeze > 10 {
		t.Errorf("a frozen server fails over after up to %d + %d·%d + %d·%d = %d s, want 10 s at most", p, r+1, T, r, d, freeze)
	}
	if vanish > 10 {
		t.Errorf("a vanished host fails over after up to %d + %d·min(%d, %d) + %d·%d = %d s, want 10 s at most", p, r+1, ct, T, r, d, vanish)
	}
	// A freeze of 3 s fails no try; one lost try (a dropped SYN after its resends) is retried.
	if T <= 3 {
		t.Errorf("timeout %d s: a 3 s freeze fails a try, want more than 3 s", T)
	}
	if r < 1 {
		t.Errorf("max_retries %d: one failed try fails over, want a retry", r)
	}
	// Linux sends a lost SYN again 1 s and 3 s after the first: a 3 s loss of packets then
	// fails no connect().
	if h.ConnectTimeout <= 3000 {
		t.Errorf("connect_timeout %d ms: the SYN resent at 3 s comes too late, want more than 3000", h.ConnectTimeout)
	}

	want := map[string]int{"period": p, "timeout": T, "max_retries": r, "retry_delay": d, "connect_timeout": h.ConnectTimeout}
	lines := specDoc(t)
	seen := 0
	for _, row := range docTable(t, lines, "## [health_check]") {
		cells := strings.Split(row, " | ")
		if len(cells) < 4 {
			continue
		}
		key := strings.Trim(strings.TrimPrefix(cells[0], "| "), "`")
		if v, ok := want[key]; ok {
			seen++
			if cells[2] != "`"+strconv.Itoa(v)+"`" {
				t.Errorf("docs/spec.md [health_check] %s: default %s, want `%d`", key, cells[2], v)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("docs/spec.md [health_check] has %d of the %d timing keys", seen, len(want))
	}
	// The table of "Why these health-check defaults": pgpoolgen's column.
	param := map[string]string{"period": "health_check_period", "timeout": "health_check_timeout",
		"max_retries": "health_check_max_retries", "retry_delay": "health_check_retry_delay", "connect_timeout": "connect_timeout"}
	unit := map[string]string{"period": " s", "timeout": " s", "max_retries": "", "retry_delay": " s", "connect_timeout": " ms"}
	var rows []string // of every table in the section
	in := false
	for _, l := range lines {
		switch {
		case l == "## Why these health-check defaults":
			in = true
		case strings.HasPrefix(l, "## "):
			in = false
		case in && strings.HasPrefix(l, "|"):
			rows = append(rows, l)
		}
	}
	for _, key := range []string{"period", "timeout", "max_retries", "retry_delay", "connect_timeout"} {
		cell := strconv.Itoa(want[key]) + unit[key]
		found := false
		for _, row := range rows {
			cells := strings.Split(row, " | ")
			if len(cells) >= 3 && cells[0] == "| `"+param[key]+"`" {
				found = true
				if cells[2] != cell {
					t.Errorf("docs/spec.md \"Why these health-check defaults\", %s: pgpoolgen default %q, want %q", param[key], cells[2], cell)
				}
			}
		}
		if !found {
			t.Errorf("docs/spec.md \"Why these health-check defaults\" has no row for %s", param[key])
		}
	}
}
