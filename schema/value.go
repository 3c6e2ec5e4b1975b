package schema

import (
	"fmt"
	"strconv"
)

// A Value is a pgpool.conf value as the model holds it: typed, so that it is formatted once,
// when pgpool.conf is written, and any other reader (setup's list of files to check) takes the
// value itself rather than trimming quotes off the rendered text. String values are checked
// for pgpool.conf (checkConf, or the spec's own rules for names and paths) before they become
// Values.
type Value struct {
	kind  valueKind
	text  string
	num   int64
	float float64
}

type valueKind int

const (
	kindString valueKind = iota
	kindInt
	kindOctal // a file mode, written 0770
	kindFloat
	kindBool
)

// StringValue is a quoted string, enum or list value.
func StringValue(s string) Value { return Value{kind: kindString, text: s} }

// IntValue is an integer.
func IntValue(n int64) Value { return Value{kind: kindInt, num: n} }

// OctalValue is an integer written in octal, for file modes.
func OctalValue(n int64) Value { return Value{kind: kindOctal, num: n} }

// FloatValue is a double.
func FloatValue(f float64) Value { return Value{kind: kindFloat, float: f} }

// BoolValue is a boolean, written on or off.
func BoolValue(b bool) Value {
	if b {
		return Value{kind: kindBool, num: 1}
	}
	return Value{kind: kindBool}
}

// Text is the value of a string parameter, unquoted; ok is false for other types.
func (v Value) Text() (s string, ok bool) { return v.text, v.kind == kindString }

// Conf is the value in pgpool.conf syntax: strings in single quotes, booleans on/off.
func (v Value) Conf() string {
	switch v.kind {
	case kindInt:
		return strconv.FormatInt(v.num, 10)
	case kindOctal:
		return fmt.Sprintf("0%o", v.num)
	case kindFloat:
		return strconv.FormatFloat(v.float, 'f', -1, 64)
	case kindBool:
		if v.num != 0 {
			return "on"
		}
		return "off"
	}
	return "'" + v.text + "'"
}
