package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"pgpoolgen/schema/pgpool"
)

// Secret reports whether a setting's value must never be repeated in output: passwords
// (health_check_password, sr_check_password, …) and anything else whose name says so.
func Secret(name string) bool { return strings.Contains(strings.ToLower(name), "pass") }

// CheckValue says whether series v takes the value of setting s for parameter p, as
// pgpool-II's own checks do: the type, the range and the allowed words of the parameter in
// that series. It returns "" when the value is fit, else what is wrong and what would be
// right.
func CheckValue(p *pgpool.Param, s Setting, v pgpool.Version) string {
	val := s.Value
	shown := fmt.Sprintf("%q", val)
	if Secret(s.Name) {
		shown = "the value"
	}
	if p.Name == "backend_flagN" {
		return checkFlags(val, v)
	}
	switch p.TypeIn(v) {
	case "string", "list":
		// 3.1-3.5 test the token of every string parameter but the indexed ones: a number
		// stops pgpool-II ("parse error").
		if v.Less(pgpool.Version{Major: 3, Minor: 6}) && !p.Indexed && s.Kind != KindString && s.Kind != KindBare && s.Kind != KindKey {
			return fmt.Sprintf("%s is %s: pgpool-II %s takes a string only in quotes (or as a bare word)", shown, s.Kind, v)
		}
	case "bool":
		if _, ok := ParseBool(val); !ok {
			return fmt.Sprintf("%s is not a boolean: write on or off", shown)
		}
	case "int":
		// 3.1-3.5 test the token: a quoted number is refused ("must be 1024 or higher
		// numeric value" for port).
		if v.Less(pgpool.Version{Major: 3, Minor: 6}) && s.Kind != KindInteger {
			return fmt.Sprintf("%s is not a bare integer: pgpool-II %s takes a number only unquoted", shown, v)
		}
		n, msg := parseInt(val, p.Unit(), v)
		if msg != "" {
			return shown + " " + msg
		}
		if lo, hi, octal, ok := p.IntRange(v); ok && (n < lo || n > hi) {
			if octal {
				return fmt.Sprintf("%s is out of range: pgpool-II %s takes %#o to %#o, a mode written in octal", shown, v, lo, hi)
			}
			return fmt.Sprintf("%s is out of range: pgpool-II %s takes %d to %d%s", shown, v, lo, hi, unitWord(p.Unit()))
		}
	case "double":
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || math.IsNaN(f) {
			return fmt.Sprintf("%s is not a number", shown)
		}
		if lo, hi, ok := p.FloatRange(v); ok && (f < lo || f > hi) {
			return fmt.Sprintf("%s is out of range: pgpool-II %s takes %s", shown, v, strings.ReplaceAll(p.ValuesIn(v), "..", " to "))
		}
	case "enum":
		words := strings.Split(p.ValuesIn(v), "|")
		for _, w := range words {
			if strings.EqualFold(w, val) { // config_enum_lookup_by_name uses strcasecmp
				return ""
			}
		}
		return fmt.Sprintf("%s is not one of pgpool-II %s's values: %s", shown, v, strings.Join(words, ", "))
	}
	return ""
}

// checkFlags checks backend_flagN's words joined with '|'.
func checkFlags(val string, v pgpool.Version) string {
	known := pgpool.BackendFlags(v)
	seen := map[string]bool{}
	for _, w := range strings.Split(val, "|") {
		if w == "" {
			continue // strtok skips empty pieces
		}
		seen[w] = true
		ok := false
		for _, k := range known {
			ok = ok || k == w
		}
		if !ok {
			msg := fmt.Sprintf("%q is not a backend flag of pgpool-II %s: it takes %s, joined with '|' and without spaces", w, v, strings.Join(known, ", "))
			switch {
			case w == "ALWAYS_MASTER" && v.AtLeast(pgpool.Version{Major: 4, Minor: 2}):
				msg += "; ALWAYS_MASTER was renamed ALWAYS_PRIMARY in 4.2"
			case w == "ALWAYS_PRIMARY" && v.AtLeast(pgpool.Version{Major: 3, Minor: 7}):
				msg += "; before 4.2 it is spelled ALWAYS_MASTER"
			}
			return msg
		}
	}
	if seen["ALLOW_TO_FAILOVER"] && seen["DISALLOW_TO_FAILOVER"] {
		return "ALLOW_TO_FAILOVER and DISALLOW_TO_FAILOVER together: pgpool-II refuses to start; keep one"
	}
	return ""
}

// ParseBool reads a boolean as parse_bool_with_len does in every series: a prefix of true,
// false, yes, no (any case), on, off (two letters at least), 1 or 0.
func ParseBool(s string) (value, ok bool) {
	if s == "" {
		return false, false
	}
	l := strings.ToLower(s)
	switch {
	case l == "1":
		return true, true
	case l == "0":
		return false, true
	case strings.HasPrefix("true", l), strings.HasPrefix("yes", l):
		return true, true
	case strings.HasPrefix("false", l), strings.HasPrefix("no", l):
		return false, true
	case len(l) >= 2 && strings.HasPrefix("on", l):
		return true, true
	case len(l) >= 2 && strings.HasPrefix("off", l):
		return false, true
	}
	return false, false
}

// Units of pgpool-II 4.2+'s parse_int (PostgreSQL's GUC units): a value with one is
// converted to the parameter's base unit.
var memoryUnits = map[string]float64{"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
var timeUnits = map[string]float64{"us": 0.001, "ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}

// parseInt reads an integer value as series v does, in the parameter's base unit. The message
// completes a sentence that begins with the value.
func parseInt(val, unit string, v pgpool.Version) (int64, string) {
	t := strings.TrimSpace(val)
	num, rest := splitNumber(t)
	if num == "" {
		return 0, "is not an integer"
	}
	n, err := strconv.ParseInt(num, 0, 64)
	f := float64(n)
	if err != nil {
		// parse_int falls back to strtod for 1.5 or 1e3 (4.2+); before, atoi stops at the dot.
		g, err2 := strconv.ParseFloat(num, 64)
		if err2 != nil || !v.AtLeast(pgpool.Version{Major: 4, Minor: 2}) {
			return 0, "is not an integer"
		}
		f = g
	}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return int64(math.Round(f)), ""
	}
	if unit == "" {
		return 0, "is not an integer: this parameter takes no unit"
	}
	if !v.AtLeast(pgpool.Version{Major: 4, Minor: 2}) {
		return 0, fmt.Sprintf("is not an integer: pgpool-II %s takes a bare number of %s (unit suffixes came in 4.2)", v, unitName(unit))
	}
	table, names := timeUnits, "us, ms, s, min, h, d"
	if _, ok := memoryUnits[unit]; ok {
		table, names = memoryUnits, "B, kB, MB, GB, TB"
	}
	mul, ok := table[rest]
	if !ok {
		return 0, fmt.Sprintf("has an unknown unit: write one of %s (case matters)", names)
	}
	return int64(math.Round(f * mul / table[unit])), ""
}

// splitNumber cuts a leading number (sign, decimal, 0x hex, fraction, exponent) off s.
func splitNumber(s string) (num, rest string) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	if strings.HasPrefix(s[i:], "0x") || strings.HasPrefix(s[i:], "0X") {
		j := i + 2
		for j < len(s) && isHex(s[j]) {
			j++
		}
		if j > i+2 {
			return s[:j], s[j:]
		}
	}
	j := i
	for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
		j++
	}
	if j < len(s) && j > i && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '-' || s[k] == '+') {
			k++
		}
		m := k
		for m < len(s) && isDigit(s[m]) {
			m++
		}
		if m > k {
			j = m
		}
	}
	if j == i || s[i:j] == "." {
		return "", s
	}
	return s[:j], s[j:]
}

func unitName(u string) string {
	switch u {
	case "s":
		return "seconds"
	case "ms":
		return "milliseconds"
	case "min":
		return "minutes"
	case "B":
		return "bytes"
	}
	return u
}

func unitWord(u string) string {
	if u == "" {
		return ""
	}
	return " " + unitName(u)
}

// Format writes one pgpool.conf setting, name = 'value', as every series reads it back: the
// value is taken literally between the quotes, so it cannot hold a quote or a line feed (no
// series has an escape for either), nor a backslash before the closing quote.
func Format(name, value string) (string, error) {
	if matchKey([]byte(name+" ")) != len(name) || name == "" {
		return "", fmt.Errorf("%q is not a pgpool.conf parameter name", name)
	}
	if strings.ContainsAny(value, "'\n\r") || strings.HasSuffix(value, `\`) {
		return "", fmt.Errorf("a pgpool.conf value cannot hold a single quote or a line break, or end in a backslash")
	}
	return name + " = '" + value + "'", nil
}
