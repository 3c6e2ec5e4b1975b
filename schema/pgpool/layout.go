package pgpool

import (
	_ "embed"
	"strings"
)

// layout.tsv lists, for each series, the groups of its sample pgpool.conf and the parameters in
// each, in the sample's order. Rendered files follow it so that they read like the sample an
// operator knows.
//
//go:embed layout.tsv
var layoutTSV string

// A Slot is where a parameter stands in a series' sample pgpool.conf.
type Slot struct {
	Group string // the sample's section heading, such as "HEALTH CHECK"
	Order int    // position in the whole file, from 0
	// Family is, for an indexed parameter, the Order of the first of the run of indexed
	// parameters it belongs to (backend_hostnameN … backend_application_nameN): the sample
	// writes such a run once per backend or node. For other parameters it is Order.
	Family int
}

var layouts = map[Version]map[string]Slot{}

func loadLayout() {
	var prevName string
	var prevIndexed bool
	for _, line := range strings.Split(strings.TrimRight(layoutTSV, "\n"), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "series\t") {
			continue
		}
		f := strings.Split(line, "\t")
		v := MustVersion(f[0])
		m := layouts[v]
		if m == nil {
			m = map[string]Slot{}
			layouts[v] = m
		}
		slot := Slot{Group: f[1], Order: len(m)}
		slot.Family = slot.Order
		if p := Lookup(f[2]); p != nil && p.Indexed {
			if prev, ok := m[prevName]; ok && prevIndexed && prev.Group == slot.Group {
				slot.Family = prev.Family
			}
			prevIndexed = true
		} else {
			prevIndexed = false
		}
		m[f[2]] = slot
		prevName = f[2]
	}
}

// SlotOf says where the parameter named by its record name (backend_portN, not backend_port0)
// stands in the sample of series v. Parameters the sample leaves out go after all others, in
// a group of their own.
func SlotOf(v Version, name string) Slot {
	if s, ok := layouts[v][name]; ok {
		return s
	}
	return Slot{Group: "NOT IN THE SAMPLE", Order: 1 << 20, Family: 1 << 20}
}
