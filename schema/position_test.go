package schema

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScanPositions(t *testing.T) {
	src := `# comment with = and [brackets]
[cluster]
name = "x"   # trailing
  mode="y"
"quoted key" = 1
dotted.inner = 2

[[host]]
name = """
multi = line [ not a table
"""
roles = ["a",
  "b", # comment inside an array
]

[[host]]
name = 'literal'
opts = { port = 5432, deep = { k = 'v' } }
"ünï" = "é"

[host.extra]
x = 1

[parameters]
list = [ { a = 1 }, { a = 2 } ]
date = 1979-05-27 07:32:00Z
last = '''
'''
`
	p := scanPositions(src)
	for path, want := range map[string]Pos{
		"cluster":                 {2, 2},
		"cluster.name":            {3, 1},
		"cluster.mode":            {4, 3},
		`cluster."quoted key"`:    {5, 1},
		"cluster.dotted":          {6, 1},
		"cluster.dotted.inner":    {6, 1},
		"host":                    {8, 3},
		"host[0]":                 {8, 3},
		"host[0].name":            {9, 1},
		"host[0].roles":           {12, 1},
		"host[1]":                 {16, 3},
		"host[1].opts":            {18, 1},
		"host[1].opts.port":       {18, 10},
		"host[1].opts.deep.k":     {18, 32},
		`host[1]."ünï"`:           {19, 1},
		"host[1].extra":           {21, 2},
		"host[1].extra.x":         {22, 1},
		"parameters.list[1].a":    {25, 23},
		"parameters.date":         {26, 1},
		"parameters.last":         {27, 1},
		"parameters.missing.deep": {24, 2}, // falls back to the nearest written parent
	} {
		if got := p.keyPos(path); got != want {
			t.Errorf("keyPos(%s) = %v, want %v", path, got, want)
		}
	}
	for path, want := range map[string]Pos{
		"cluster.name":       {3, 8},
		"host[0].roles[1]":   {13, 3},
		"host[1].opts.port":  {18, 17},
		`host[1]."ünï"`:      {19, 9},
		"parameters.date":    {26, 8},
		"parameters.list[1]": {25, 21},
	} {
		if got := p.valuePos(path); got != want {
			t.Errorf("valuePos(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestParentPath(t *testing.T) {
	var got []string
	for p := `host[2].opts."a.b"`; p != ""; p = parentPath(p) {
		got = append(got, p)
	}
	want := []string{`host[2].opts."a.b"`, "host[2].opts", "host[2]", "host"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parentPath chain (-want +got):\n%s", diff)
	}
}
