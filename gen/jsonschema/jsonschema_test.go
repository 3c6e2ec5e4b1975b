package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"pgpoolgen/schema"
)

// decoded is the rendered schema read back as generic JSON.
func decoded(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(Render()))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("Render is not JSON: %v", err)
	}
	return m
}

// TestRenderDeterministic: the same bytes every time, one line feed at the end.
func TestRenderDeterministic(t *testing.T) {
	a, b := Render(), Render()
	if !bytes.Equal(a, b) {
		t.Fatal("two renders differ")
	}
	if !bytes.HasSuffix(a, []byte("}\n")) || bytes.HasSuffix(a, []byte("\n\n")) {
		t.Error("the schema does not end in one line feed")
	}
	if bytes.Contains(a, []byte(`\u003c`)) {
		t.Error("the schema escapes < as \\u003c")
	}
}

// TestRenderTables checks the schema, read back, against SpecTables: every table is an object
// with exactly its keys (additionalProperties false) and its required keys, arrays of tables
// are arrays of such objects, and each key has its type, default, enum and bounds.
func TestRenderTables(t *testing.T) {
	doc := decoded(t)
	if doc["$schema"] != "http://json-schema.org/draft-07/schema#" || doc["$id"] != ID {
		t.Errorf("$schema %v, $id %v", doc["$schema"], doc["$id"])
	}
	checkTable(t, "the document", doc, schema.SpecTable(""))
}

func checkTable(t *testing.T, where string, s map[string]any, tb *schema.Table) {
	t.Helper()
	if s["type"] != "object" {
		t.Errorf("%s: type %v, want object", where, s["type"])
	}
	if tb.Open {
		extra, _ := s["additionalProperties"].(map[string]any)
		if extra == nil || s["properties"] != nil {
			t.Errorf("%s: want an open table, got %v", where, s)
		}
		return
	}
	if s["additionalProperties"] != false {
		t.Errorf("%s: additionalProperties %v, want false: a misspelt key would pass", where, s["additionalProperties"])
	}
	props, _ := s["properties"].(map[string]any)
	var want []any
	for _, k := range tb.Keys {
		if k.Required {
			want = append(want, k.Name)
		}
	}
	if got, _ := s["required"].([]any); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: required %v, want %v", where, got, want)
	}
	var alts []any
	for _, k := range tb.OneOf {
		alts = append(alts, map[string]any{"required": []any{k}})
	}
	if tb.OneOf != nil && !tb.OneOfRequired {
		alts = append(alts, map[string]any{"not": map[string]any{"anyOf": alts}})
	}
	if got, _ := s["oneOf"].([]any); !reflect.DeepEqual(got, alts) {
		t.Errorf("%s: oneOf %v, want %v", where, got, alts)
	}
	var rules []any
	for _, k := range tb.Keys {
		if c := k.Unless; c != nil {
			rules = append(rules, map[string]any{
				"if":   map[string]any{"properties": map[string]any{c.Key: map[string]any{"const": c.Value}}, "required": []any{c.Key}},
				"then": map[string]any{"not": map[string]any{"required": []any{k.Name}}},
				"else": map[string]any{"required": []any{k.Name}},
			})
		}
	}
	if got, _ := s["allOf"].([]any); !reflect.DeepEqual(got, rules) {
		t.Errorf("%s: allOf %v, want %v", where, got, rules)
	}
	if len(props) != len(tb.Keys) {
		t.Errorf("%s: %d properties, want the table's %d keys", where, len(props), len(tb.Keys))
	}
	for i := range tb.Keys {
		k := &tb.Keys[i]
		p, _ := props[k.Name].(map[string]any)
		at := tb.Path(k.Name)
		if p == nil {
			t.Errorf("%s has no property %s", where, k.Name)
			continue
		}
		if d, _ := p["description"].(string); d == "" {
			t.Errorf("%s: no description", at)
		}
		checkKey(t, at, p, k)
	}
}

func checkKey(t *testing.T, at string, p map[string]any, k *schema.Key) {
	t.Helper()
	num := func(v any) string { // json.Number, int64 or float64 as JSON writes it
		if f, ok := v.(float64); ok {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return fmt.Sprint(v)
	}
	wantType := map[schema.Type]string{schema.TString: "string", schema.TInteger: "integer", schema.TNumber: "number",
		schema.TBoolean: "boolean", schema.TStrings: "array", schema.TTable: "object", schema.TTables: "array"}[k.Type]
	if k.Type != schema.TStringOrInteger && p["type"] != wantType {
		t.Errorf("%s: type %v, want %s", at, p["type"], wantType)
	}
	if k.Default == nil && p["default"] != nil || k.Default != nil && num(p["default"]) != num(k.Default) {
		t.Errorf("%s: default %v, want %v", at, p["default"], k.Default)
	}
	values := p
	switch k.Type {
	case schema.TTable:
		checkTable(t, at, p, schema.SpecTable(k.Name))
	case schema.TTables:
		items, _ := p["items"].(map[string]any)
		checkTable(t, at+"[]", items, schema.SpecTable(k.Name))
	case schema.TStrings:
		values, _ = p["items"].(map[string]any)
	case schema.TStringOrInteger:
		alts, _ := p["anyOf"].([]any)
		if len(alts) != 2 {
			t.Fatalf("%s: anyOf %v, want a string and an integer", at, p["anyOf"])
		}
		values, _ = alts[0].(map[string]any)
		p, _ = alts[1].(map[string]any)
		if values["type"] != "string" || p["type"] != "integer" {
			t.Errorf("%s: anyOf %v, want a string and an integer", at, alts)
		}
	}
	if r := k.Range; r != nil && (num(p["minimum"]) != num(r.Lo) || num(p["maximum"]) != num(r.Hi)) {
		t.Errorf("%s: minimum %v, maximum %v, want %v to %v", at, p["minimum"], p["maximum"], r.Lo, r.Hi)
	}
	if k.Range == nil && (p["minimum"] != nil || p["maximum"] != nil) {
		t.Errorf("%s: bounds the table does not give", at)
	}
	var enum []any
	for _, v := range k.Enum {
		enum = append(enum, v)
	}
	if got, _ := values["enum"].([]any); !reflect.DeepEqual(got, enum) {
		t.Errorf("%s: enum %v, want %v", at, got, enum)
	}
	if k.MinItems > 0 && num(p["minItems"]) != num(k.MinItems) || k.MaxItems > 0 && num(p["maxItems"]) != num(k.MaxItems) ||
		k.Unique != (p["uniqueItems"] == true) {
		t.Errorf("%s: minItems %v, maxItems %v, uniqueItems %v; want %d, %d, %v", at, p["minItems"], p["maxItems"], p["uniqueItems"], k.MinItems, k.MaxItems, k.Unique)
	}
}
