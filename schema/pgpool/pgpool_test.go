package pgpool

import (
	"os"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	v := func(s string) Version { return MustVersion(s) }
	for _, tc := range []struct {
		name    string
		version string
		want    string // "" for accepted, else a substring of the error
	}{
		{"port", "3.1", ""},
		{"backend_flag12", "3.1", ""},
		{"health_check_period", "4.3", ""},
		{"health_check_period3", "4.3", ""},
		{"health_check_period3", "3.6", `"health_check_period3" is not a parameter of pgpool-II 3.6: it exists in 3.7 and later`},
		{"follow_primary_command", "4.3", ""},
		{"follow_master_command", "4.3", `it was renamed "follow_primary_command" in 4.2`},
		{"follow_primary_command", "3.1", `in 3.1 write "follow_master_command"`},
		{"socket_dir", "4.4", `renamed "unix_socket_directories" in 4.4`},
		{"fail_over_on_backend_error", "4.7", ""}, // old name still accepted
		{"delegate_IP", "4.7", ""},
		{"enable_query_cache", "3.4", "removed without a successor"},
		{"num_init_chidlren", "4.3", `did you mean "num_init_children"?`},
		{"Port", "4.3", `did you mean "port"?`},
		{"backend_portN", "4.3", "indexed parameter"},
		{"nonsense_parameter_x", "4.3", `pgpool-II 4.3 has no parameter "nonsense_parameter_x"`},
	} {
		_, err := Check(tc.name, v(tc.version))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Check(%s, %s) = %v, want accepted", tc.name, tc.version, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Check(%s, %s) = %v, want an error with %q", tc.name, tc.version, err, tc.want)
		}
	}
}

// TestCounts checks the table against the counts of accepted name forms per series that the
// reference gives (pgpool-facts.md §0), which were read from pgpool-II's source.
func TestCounts(t *testing.T) {
	want := map[string]int{"3.1": 81, "3.2": 115, "3.3": 129, "3.4": 141, "3.5": 139, "3.6": 135,
		"3.7": 147, "4.0": 153, "4.1": 164, "4.2": 171, "4.3": 176, "4.4": 185, "4.5": 187, "4.6": 188, "4.7": 194}
	for _, s := range Series {
		if got := len(Names(s)); got != want[s.String()] {
			t.Errorf("pgpool-II %s accepts %d name forms in params.tsv, want %d", s, got, want[s.String()])
		}
	}
}

// TestLayout checks that every parameter of a series' sample layout is a parameter of that
// series, and that the layout keeps the sample's first groups in order.
func TestLayout(t *testing.T) {
	for _, s := range Series {
		names := Names(s)
		accepted := map[string]bool{}
		for _, n := range names {
			accepted[n] = true
		}
		if len(layouts[s]) == 0 {
			t.Errorf("no layout for %s", s)
		}
		for name, slot := range layouts[s] {
			if _, gap := Lookup(name).Gaps[s]; !accepted[name] && !gap {
				t.Errorf("layout %s lists %s, which %s does not accept", s, name, s)
			}
			if slot.Family > slot.Order {
				t.Errorf("layout %s: %s has family %d after its order %d", s, name, slot.Family, slot.Order)
			}
		}
	}
	if g := SlotOf(MustVersion("3.1"), "health_check_period").Group; g != "HEALTH CHECK" {
		t.Errorf("3.1 health_check_period is in %q, want HEALTH CHECK", g)
	}
	if g := SlotOf(MustVersion("4.2"), "sr_check_period").Group; g != "STREAMING REPLICATION MODE" {
		t.Errorf("4.2 sr_check_period is in %q, want STREAMING REPLICATION MODE", g)
	}
	a, b := SlotOf(MustVersion("4.3"), "backend_hostnameN"), SlotOf(MustVersion("4.3"), "backend_application_nameN")
	if a.Family != b.Family {
		t.Errorf("backend_hostnameN and backend_application_nameN are in different families: %d, %d", a.Family, b.Family)
	}
}

// TestParamsMatchReference keeps the embedded table equal to the team's reference copy when it
// is beside the checkout, as it is in CI.
func TestParamsMatchReference(t *testing.T) {
	ref, err := os.ReadFile("../../../shared/reference/pgpool-params.tsv")
	if err != nil {
		t.Skipf("reference table not beside the checkout: %v", err)
	}
	if string(ref) != paramsTSV {
		t.Errorf("schema/pgpool/params.tsv differs from shared/reference/pgpool-params.tsv; copy the reference over it")
	}
}

func TestParseVersion(t *testing.T) {
	for _, bad := range []string{"4", "4.", ".3", "4.3.5", "v4.3", "4.-1", "4.3 ", "four.three"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted it", bad)
		}
	}
	if v, err := ParseVersion("4.10"); err != nil || v != (Version{4, 10}) || v.Known() {
		t.Errorf("ParseVersion(4.10) = %v, %v; want 4.10, unknown", v, err)
	}
}

func TestGap(t *testing.T) {
	if _, err := Check("ssl_ca_cert_dir", MustVersion("3.4")); err == nil || !strings.Contains(err.Error(), "not accepted by pgpool-II 3.4") {
		t.Errorf("ssl_ca_cert_dir on 3.4: %v", err)
	}
	if _, err := Check("ssl_ca_cert_dir", MustVersion("3.5")); err != nil {
		t.Errorf("ssl_ca_cert_dir on 3.5: %v", err)
	}
}

func TestNotesSpans(t *testing.T) {
	ctt := Lookup("check_temp_table")
	if got := ctt.TypeIn(MustVersion("3.5")); got != "bool" {
		t.Errorf("check_temp_table in 3.5 is %s, want bool", got)
	}
	if got := ctt.TypeIn(MustVersion("4.3")); got != "enum" {
		t.Errorf("check_temp_table in 4.3 is %s, want enum", got)
	}
	rqt := Lookup("relcache_query_target")
	if got := rqt.ValuesIn(MustVersion("4.1")); got != "master|load_balance_node" {
		t.Errorf("relcache_query_target values in 4.1: %s", got)
	}
	if got := rqt.ValuesIn(MustVersion("4.2")); got != "primary|load_balance_node" {
		t.Errorf("relcache_query_target values in 4.2: %s", got)
	}
	if got := Lookup("reset_query_list").Sep; got != ";" {
		t.Errorf("reset_query_list separator %q, want ;", got)
	}
	if got := Lookup("write_function_list").Sep; got != "," {
		t.Errorf("write_function_list separator %q, want ,", got)
	}
}

// TestRanges: params.tsv's ranges as numbers, an octal one (a file mode) read as octal.
func TestRanges(t *testing.T) {
	v44 := MustVersion("4.4")
	if lo, hi, octal, ok := Lookup("unix_socket_permissions").IntRange(v44); !ok || lo != 0 || hi != 0o777 || !octal {
		t.Errorf("unix_socket_permissions: %d..%d octal %v ok %v, want 0..0o777 octal", lo, hi, octal, ok)
	}
	if lo, hi, octal, ok := Lookup("port").IntRange(v44); !ok || lo != 1024 || hi != 65535 || octal {
		t.Errorf("port: %d..%d octal %v ok %v, want 1024..65535", lo, hi, octal, ok)
	}
	if _, _, _, ok := Lookup("listen_addresses").IntRange(v44); ok {
		t.Error("listen_addresses has no range")
	}
	if lo, hi, ok := Lookup("backend_weightN").FloatRange(v44); !ok || lo != 0 || hi <= lo {
		t.Errorf("backend_weightN: %g..%g ok %v", lo, hi, ok)
	}
}
