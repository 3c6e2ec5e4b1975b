package text

import "testing"

// refused holds one character of each kind Fault refuses, with what Visible writes for it.
var refused = []struct{ in, visible, name string }{
	{"\n", `\n`, "a line break (U+000A)"},
	{"\r", `\r`, "a line break (U+000D)"},
	{"\t", `\t`, "a tab"},
	{"\x00", `\x00`, "a control character (U+0000)"},
	{"\x1b", `\x1b`, "a control character (U+001B)"},
	{"\x7f", `\x7f`, "a control character (U+007F)"},
	{"\u0085", `\u0085`, "a line break (U+0085)"},
	{"\u009b", `\u009b`, "a control character (U+009B)"},
	{"\u2028", `\u2028`, "a line break (U+2028)"},
	{"\u2029", `\u2029`, "a line break (U+2029)"},
	{"\u061c", `\u061c`, "a bidirectional control (U+061C)"},
	{"\u200e", `\u200e`, "a bidirectional control (U+200E)"},
	{"\u200f", `\u200f`, "a bidirectional control (U+200F)"},
	{"\u202a", `\u202a`, "a bidirectional control (U+202A)"},
	{"\u202e", `\u202e`, "a bidirectional control (U+202E)"},
	{"\u2066", `\u2066`, "a bidirectional control (U+2066)"},
	{"\u2069", `\u2069`, "a bidirectional control (U+2069)"},
	{"\ufeff", `\ufeff`, "a byte order mark (U+FEFF)"},
	{"\xff", `\xff`, "a byte that is not UTF-8 (0xff)"},
}

func TestFaultAndVisible(t *testing.T) {
	for _, c := range refused {
		s := "a" + c.in + "b"
		if got := Fault(s); got != c.name {
			t.Errorf("Fault(%q) = %q, want %q", s, got, c.name)
		}
		if got, want := Visible(s), "a"+c.visible+"b"; got != want {
			t.Errorf("Visible(%q) = %q, want %q", s, got, want)
		}
	}
	// Text at the edges of what is refused passes as it is.
	for _, s := range []string{"", "plain", "ü 日本 'q' \"d\" `b` $HOME", "\u00a0\u00a1", "\u2027\u202f\u2065\u206a", "\ufefe\ufffd"} {
		if got := Fault(s); got != "" {
			t.Errorf("Fault(%q) = %q, want it fit", s, got)
		}
		if got := Visible(s); got != s {
			t.Errorf("Visible(%q) = %q, want it unchanged", s, got)
		}
	}
}

// Visible leaves nothing Fault refuses, whatever the input: what it writes is free text.
func FuzzVisible(f *testing.F) {
	for _, c := range refused {
		f.Add("x" + c.in + "\u00e9")
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := Visible(s)
		if d := Fault(v); d != "" {
			t.Errorf("Visible(%q) = %q holds %s", s, v, d)
		}
		if Fault(s) == "" && v != s {
			t.Errorf("Visible changed free text %q to %q", s, v)
		}
	})
}
