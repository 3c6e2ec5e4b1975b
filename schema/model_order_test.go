package schema

import (
	"slices"
	"testing"
)

// TestApplyOrder: the primary comes first even when it is not backend 0 (a spec may list a
// standby first), then the other backends in node id order, then the pgpool-only hosts.
func TestApplyOrder(t *testing.T) {
	pg0 := &Host{Name: "pg0", Backend: true, Role: Standby, NodeID: 0}
	pg1 := &Host{Name: "pg1", Backend: true, Role: Primary, NodeID: 1}
	pg2 := &Host{Name: "pg2", Backend: true, Role: Standby, NodeID: 2}
	pp1 := &Host{Name: "pp1", Pgpool: true}
	both := &Host{Name: "both", Pgpool: true, Backend: true, Role: Standby, NodeID: 3}
	pp2 := &Host{Name: "pp2", Pgpool: true}
	c := &Cluster{Hosts: []*Host{pp1, pg0, pg1, both, pg2, pp2}, Backends: []*Host{pg0, pg1, pg2, both}}
	var got []string
	for _, h := range c.ApplyOrder() {
		got = append(got, h.Name)
	}
	want := []string{"pg1", "pg0", "pg2", "both", "pp1", "pp2"}
	if !slices.Equal(got, want) {
		t.Errorf("ApplyOrder = %v, want %v", got, want)
	}
}
