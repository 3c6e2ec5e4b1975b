package schema

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// docTypes is how docs/spec.md's Type column starts for each type.
var docTypes = map[Type]string{TString: "string", TInteger: "integer", TNumber: "integer or float", TBoolean: "boolean",
	TStrings: "array of", TStringOrInteger: "string or integer"}

// docEnumAsRange are the enums docs/spec.md gives as ranges of versions, not value by value.
var docEnumAsRange = map[string]bool{"cluster.pgpool_version": true, "cluster.postgresql_version": true}

// docNumber writes a bound as docs/spec.md does.
func docNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// TestSpecDocKeys checks docs/spec.md against SpecTables: every table has its section, whose
// table of keys has a row for each key of SpecTables, in order, and for no other; each row's
// type, bounds, default, "required" and enum values are the table's.
func TestSpecDocKeys(t *testing.T) {
	lines := specDoc(t)
	doc := strings.Join(lines, "\n")
	for _, k := range SpecTables[0].Keys {
		heading := "## [" + k.Name + "]"
		if k.Type == TTables {
			heading = "## [[" + k.Name + "]]"
		}
		if !contains(lines, heading) {
			t.Errorf("docs/spec.md has no section %q for the table %s", heading, k.Name)
		}
	}
	for _, tb := range SpecTables[1:] {
		if tb.Open {
			continue
		}
		heading := "## [" + tb.Name + "]"
		if SpecTables[0].Key(tb.Name).Type == TTables {
			heading = "## [[" + tb.Name + "]]"
		}
		if tb.Name == "pool_user" {
			// Its section refers to [[pcp_user]]'s keys, which must be the same.
			if !strings.Contains(doc, "The keys are those of `[[pcp_user]]`") {
				t.Errorf("docs/spec.md %s does not say its keys are those of [[pcp_user]]", heading)
			}
			if fmt.Sprint(tableKeys["pool_user"]) != fmt.Sprint(tableKeys["pcp_user"]) {
				t.Errorf("pool_user's keys %v are not pcp_user's %v, as docs/spec.md says", tableKeys["pool_user"], tableKeys["pcp_user"])
			}
			continue
		}
		var documented []string
		rows := map[string][]string{}
		for _, r := range docTable(t, lines, heading) {
			cells := strings.Split(strings.Trim(r, "|"), " | ")
			if len(cells) != 4 {
				t.Errorf("docs/spec.md %s: a row without the four cells Key, Type, Default, Meaning: %s", heading, r)
				continue
			}
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			key := strings.Trim(cells[0], "`")
			documented = append(documented, key)
			rows[key] = cells
		}
		if got, want := strings.Join(documented, " "), strings.Join(tableKeys[tb.Name], " "); got != want {
			t.Errorf("docs/spec.md %s documents the keys\n\t%s\nSpecTables has\n\t%s", heading, got, want)
		}
		for _, k := range tb.Keys {
			cells, ok := rows[k.Name]
			if !ok {
				continue
			}
			path := tb.Path(k.Name)
			typ, def, meaning := cells[1], cells[2], cells[3]
			if !strings.HasPrefix(typ, docTypes[k.Type]) {
				t.Errorf("docs/spec.md %s: type %q, want it to start with %q", path, typ, docTypes[k.Type])
			}
			if r := k.Range; r != nil && k.Type != TStringOrInteger {
				if want := docNumber(r.Lo) + "–" + docNumber(r.Hi); !strings.Contains(typ, want) {
					t.Errorf("docs/spec.md %s: type %q does not give the range %s", path, typ, want)
				}
			}
			if k.MaxItems > 0 {
				if want := fmt.Sprintf("%d–%d", k.MinItems, k.MaxItems); !strings.Contains(typ, want) {
					t.Errorf("docs/spec.md %s: type %q does not give the number of items %s", path, typ, want)
				}
			}
			switch {
			case k.Required:
				if def != "required" {
					t.Errorf("docs/spec.md %s: default %q, want \"required\"", path, def)
				}
			case def == "required":
				t.Errorf("docs/spec.md %s says required; SpecTables does not", path)
			case k.Default != nil:
				want := "`" + docDefault(k.Default) + "`"
				if !strings.HasPrefix(def, want) {
					t.Errorf("docs/spec.md %s: default %s, want %s", path, def, want)
				}
			case isDocLiteral(def):
				t.Errorf("docs/spec.md %s: default %s, but SpecTables gives none (it depends on other keys: say on which)", path, def)
			}
			if want := "Needs pgpool-II " + Since(path).String() + "+"; k.Needs && !strings.Contains(meaning, want) {
				t.Errorf("docs/spec.md %s does not say %q", path, want)
			}
			if docEnumAsRange[path] {
				continue
			}
			row := typ + " " + def + " " + meaning
			for _, v := range k.Enum {
				if !strings.Contains(row, "`\""+v+"\"`") && !strings.Contains(row, "`"+v+"`") {
					t.Errorf("docs/spec.md %s does not name the value %q", path, v)
				}
			}
		}
	}
}

// docDefault writes a default as docs/spec.md does: TOML, with a whole float as an integer.
func docDefault(v any) string {
	if f, ok := v.(float64); ok {
		return docNumber(f)
	}
	return tomlValue(v)
}

// isDocLiteral reports whether a Default cell is one TOML value alone (`9999`, `"all"`), not a
// reference to another key (`layout.data_directory`) or a value with its condition.
func isDocLiteral(cell string) bool {
	v, ok := strings.CutPrefix(cell, "`")
	if v, ok = strings.CutSuffix(v, "`"); !ok || strings.Contains(v, "`") {
		return false
	}
	return v == "true" || v == "false" || strings.HasPrefix(v, `"`) || v != "" && strings.Trim(v, "0123456789.") == ""
}
