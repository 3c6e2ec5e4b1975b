// Package jsonschema renders the spec's key table (schema.SpecTables) as a JSON Schema
// (draft-07, which Taplo and editors built on it read), so that an editor completes, explains
// and checks a cluster.toml as it is typed. What the schema says is what the table says; the
// table is proved against the loader, so the schema can refuse no spec the loader takes but
// for what JSON Schema cannot say (which series has a key, rules across keys): those the
// descriptions give, and pgpoolgen check decides.
package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"pgpoolgen/schema"
)

// ID names the schema. It carries no version or date: the same table renders the same bytes.
const ID = "urn:pgpoolgen:cluster-spec"

// Render returns the JSON Schema of a cluster spec, indented, ending in a line feed. The
// output is the same bytes for the same table, whatever the machine.
func Render() []byte {
	root := schema.SpecTable("")
	doc := obj{
		{"$schema", "http://json-schema.org/draft-07/schema#"},
		{"$id", ID},
		{"title", "pgpoolgen cluster spec"},
		{"description", "A pgpool-II cluster for pgpoolgen build; docs/spec.md describes every key. pgpoolgen check decides what the schema cannot say: which pgpool-II series has a key, and the rules between keys."},
	}
	doc = append(doc, tableSchema(root)...)
	var b bytes.Buffer
	write(&b, doc, "")
	b.WriteByte('\n')
	return b.Bytes()
}

// tableSchema is the schema of a table's value: an object with exactly its keys.
func tableSchema(t *schema.Table) obj {
	o := obj{{"type", "object"}}
	if t.Open {
		// Any pgpool-II parameter: its reader checks the name and the value's type for the
		// target series. A list parameter also takes an array of strings.
		return append(o, field{"additionalProperties", obj{
			{"type", []any{"string", "integer", "number", "boolean", "array"}},
			{"items", obj{{"type", "string"}}},
		}})
	}
	var req []any
	props := obj{}
	for i := range t.Keys {
		k := &t.Keys[i]
		if k.Required {
			req = append(req, k.Name)
		}
		props = append(props, field{k.Name, keySchema(t, k)})
	}
	if len(req) > 0 {
		o = append(o, field{"required", req})
	}
	o = append(o, field{"properties", props}, field{"additionalProperties", false})
	if t.OneOf != nil {
		// Exactly one alternative holds: one of the keys, or (when none is needed) none.
		var alts, each []any
		for _, k := range t.OneOf {
			alts = append(alts, obj{{"required", []any{k}}})
			each = append(each, obj{{"required", []any{k}}})
		}
		if !t.OneOfRequired {
			alts = append(alts, obj{{"not", obj{{"anyOf", each}}}})
		}
		o = append(o, field{"oneOf", alts})
	}
	var rules []any
	for _, k := range t.Keys {
		if c := k.Unless; c != nil {
			rules = append(rules, obj{
				{"if", obj{{"properties", obj{{c.Key, obj{{"const", c.Value}}}}}, {"required", []any{c.Key}}}},
				{"then", obj{{"not", obj{{"required", []any{k.Name}}}}}},
				{"else", obj{{"required", []any{k.Name}}}},
			})
		}
	}
	if rules != nil {
		o = append(o, field{"allOf", rules})
	}
	return o
}

// keySchema is the schema of one key's value.
func keySchema(t *schema.Table, k *schema.Key) obj {
	desc := k.Doc
	if v := schema.Since(t.Path(k.Name)); k.Needs && !v.IsZero() {
		desc += " Needs pgpool-II " + v.String() + "+."
	}
	o := obj{{"description", desc}}
	switch k.Type {
	case schema.TTable, schema.TTables:
		sub := tableSchema(schema.SpecTable(k.Name))
		if k.Type == schema.TTable {
			return append(o, sub...)
		}
		o = append(o, field{"type", "array"})
		o = append(o, items(k)...)
		return append(o, field{"items", sub})
	case schema.TString:
		o = append(o, field{"type", "string"})
		o = append(o, enum(k)...)
	case schema.TInteger, schema.TNumber:
		typ := "integer"
		if k.Type == schema.TNumber {
			typ = "number"
		}
		o = append(o, field{"type", typ})
		if r := k.Range; r != nil {
			o = append(o, field{"minimum", r.Lo}, field{"maximum", r.Hi})
		}
	case schema.TBoolean:
		o = append(o, field{"type", "boolean"})
	case schema.TStrings:
		o = append(o, field{"type", "array"})
		o = append(o, items(k)...)
		o = append(o, field{"items", append(obj{{"type", "string"}}, enum(k)...)})
	case schema.TStringOrInteger:
		o = append(o, field{"anyOf", []any{
			append(obj{{"type", "string"}}, enum(k)...),
			obj{{"type", "integer"}, {"minimum", k.Range.Lo}, {"maximum", k.Range.Hi}},
		}})
	}
	if k.Default != nil {
		o = append(o, field{"default", k.Default})
	}
	return o
}

func enum(k *schema.Key) obj {
	if k.Enum == nil {
		return nil
	}
	values := make([]any, len(k.Enum))
	for i, v := range k.Enum {
		values[i] = v
	}
	return obj{{"enum", values}}
}

func items(k *schema.Key) obj {
	var o obj
	if k.MinItems > 0 {
		o = append(o, field{"minItems", int64(k.MinItems)})
	}
	if k.MaxItems > 0 {
		o = append(o, field{"maxItems", int64(k.MaxItems)})
	}
	if k.Unique {
		o = append(o, field{"uniqueItems", true})
	}
	return o
}

// An obj is a JSON object whose members keep their order: the table's, so the file reads
// like docs/spec.md and never depends on a map's order.
type obj []field

type field struct {
	name  string
	value any
}

// write writes v as indented JSON: objects one member a line, arrays of plain values on one
// line, arrays of objects one a line.
func write(b *bytes.Buffer, v any, indent string) {
	switch x := v.(type) {
	case obj:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, f := range x {
			b.WriteString(indent + "  ")
			writeString(b, f.name)
			b.WriteString(": ")
			write(b, f.value, indent+"  ")
			if i < len(x)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		nested := false
		for _, e := range x {
			_, isObj := e.(obj)
			nested = nested || isObj
		}
		if !nested {
			b.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					b.WriteString(", ")
				}
				write(b, e, indent)
			}
			b.WriteByte(']')
			return
		}
		b.WriteString("[\n")
		for i, e := range x {
			b.WriteString(indent + "  ")
			write(b, e, indent+"  ")
			if i < len(x)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case string:
		writeString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	default:
		panic(fmt.Sprintf("jsonschema: cannot write a %T", v))
	}
}

// writeString writes s as a JSON string, without the HTML escapes (\u003c) encoding/json adds
// by default: descriptions hold <name>.
func writeString(b *bytes.Buffer, s string) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	b.Write(bytes.TrimSuffix(out.Bytes(), []byte("\n")))
}
