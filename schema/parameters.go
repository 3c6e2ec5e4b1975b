package schema

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"pgpoolgen/schema/pgpool"
)

// isSecret reports whether a parameter holds a password or key. pgpoolgen never writes one into
// the bundle: pgpool-II 4.0 and later look passwords up in pool_passwd when these are empty.
func isSecret(record string) bool {
	return strings.HasSuffix(record, "_password") || strings.HasSuffix(record, "_passwordN") || record == "wd_authkey"
}

func (l *loader) parameters(t *table) {
	if !t.present() {
		return
	}
	v := l.c.Pgpool
	// TOML refuses a key written twice, and numbers with leading zeros are refused below, so
	// no two names set one parameter.
	for _, name := range sortedKeys(t.m) {
		raw, _ := t.get(name)
		at := t.at(name)
		if !l.versionOK {
			continue
		}
		// What pgpoolgen sets, and secrets, are refused whatever the version: telling the
		// user the right name for the target would only lead to the next refusal.
		if p := pgpool.Lookup(name); p != nil {
			if isSecret(p.Name) {
				l.d.atKey(at, "%s", secretMessage(name, p.Name, v))
				continue
			}
			b := bindingOf(name)
			written := b != nil && (b.When == nil || b.When(l.c))
			if p.Group == "WATCHDOG" && l.c.Watchdog == nil && len(l.c.Hosts) > 0 && !written {
				l.d.atKey(at, "%s is a watchdog setting, and this cluster has one pgpool host: pgpoolgen turns the watchdog on when two or more hosts have the role \"pgpool\"; remove it", name)
				continue
			}
			if b != nil {
				if b.Key != "" {
					l.d.atKey(at, "pgpoolgen sets %s from the spec key %s; set that instead", name, b.Key)
				} else {
					l.d.atKey(at, "%s cannot be set here: %s", name, b.Why)
				}
				continue
			}
		}
		p, err := pgpool.Check(name, v)
		if err != nil && l.release != nil && pgpool.ReleaseReads(name, *l.release) {
			p, err = pgpool.Lookup(name), nil // ssl_ca_cert_dir in 3.4.0-3.4.22
		}
		if err != nil {
			l.d.atKey(at, "%v", err)
			continue
		}
		if err := l.releaseReads(name); err != nil {
			l.d.atKey(at, "%s came in %s; pgpool-II %s skips it without a word: remove it or raise cluster.pgpool_release to %s or later", name, err.Added, err.Release, err.Added)
			continue
		}
		index := -1
		if p.Indexed {
			digits := strings.TrimPrefix(name, strings.TrimSuffix(p.Name, "N"))
			index, _ = strconv.Atoi(digits)
			if digits != strconv.Itoa(index) {
				l.d.atKey(at, "write the number without leading zeros: %s%d", strings.TrimSuffix(p.Name, "N"), index)
				continue
			}
			// The indexed parameters [parameters] may set count backends: the watchdog's are
			// pgpoolgen's own, refused above.
			if limit := len(l.c.Backends); index >= limit {
				l.d.atKey(at, "%s names backend %d, but the cluster has %d backends (ids 0 to %d, in [[host]] order)", name, index, limit, limit-1)
				continue
			}
		}
		value, err := checkValue(p, v, raw)
		if err != nil {
			l.d.atValue(at, "%v", err)
			continue
		}
		if strings.HasPrefix(p.Name, "health_check_period") && value == IntValue(0) {
			l.d.atValue(at, "0 turns health checking off for this backend, and pgpool-II then does not notice it die; use 1 or more seconds")
			continue
		}
		l.c.Parameters = append(l.c.Parameters, Parameter{Name: name, Record: p.Name, Index: max(index, 0), Value: value})
	}
}

// releaseReads says, when the spec names a release, whether it reads the parameter name; the
// message begins with the name.
func (l *loader) releaseReads(name string) *pgpool.ReleaseError {
	if l.release == nil {
		return nil
	}
	var re *pgpool.ReleaseError
	if err := pgpool.ReleaseCheck(name, *l.release); errors.As(err, &re) {
		return re
	}
	return nil
}

// secretMessage explains why a secret parameter is refused, and what to do instead.
func secretMessage(name, record string, v pgpool.Version) string {
	switch {
	case record == "wd_authkey":
		return name + " is the watchdog's shared key, a secret; pgpoolgen never writes secrets into the bundle: setup.sh adds it to the installed pgpool.conf from the apply-time secret wd_authkey (watchdog.authkey)"
	case v.AtLeast(pgpool.V40):
		return name + " is a password, and pgpoolgen never writes one into the bundle; leave it out: pgpool-II " + v.String() + " reads the password from pool_passwd when it is empty"
	}
	return name + " is a password, and pgpoolgen never writes one into the bundle; leave it out: with pgpool-II " + v.String() + " the backends must admit this user without a password"
}

// backendFlags are the words backend_flagN accepts, joined with '|', by series.
func backendFlags(v pgpool.Version) []string {
	f := []string{"ALLOW_TO_FAILOVER", "DISALLOW_TO_FAILOVER"}
	switch {
	case v.AtLeast(pgpool.V42):
		f = append(f, "ALWAYS_PRIMARY")
	case v.AtLeast(pgpool.V40):
		f = append(f, "ALWAYS_MASTER")
	}
	return f
}

// checkValue checks a TOML value against the parameter's type and values in series v and
// returns it typed; a string is also checked for pgpool.conf's quoting (checkConf).
func checkValue(p *pgpool.Param, v pgpool.Version, raw any) (Value, error) {
	values := p.ValuesIn(v)
	oneOf := func() string { return strings.ReplaceAll(values, "|", ", ") }
	switch p.TypeIn(v) {
	case "bool":
		b, ok := raw.(bool)
		if !ok {
			return Value{}, fmt.Errorf("is %s; %s is a boolean in pgpool-II %s: write true or false", tomlType(raw), p.Name, v)
		}
		return BoolValue(b), nil
	case "int":
		n, ok := raw.(int64)
		if !ok {
			return Value{}, fmt.Errorf("is %s; %s takes an integer", tomlType(raw), p.Name)
		}
		lo, hi, octal, ok := p.IntRange(v)
		if ok && (n < lo || n > hi) {
			if octal {
				return Value{}, fmt.Errorf("0o%o is out of range for %s: want 0o%o to 0o%o (write the mode in TOML's octal form, such as 0o770)", n, p.Name, lo, hi)
			}
			return Value{}, fmt.Errorf("%d is out of range for %s: want %d to %d", n, p.Name, lo, hi)
		}
		if octal {
			return OctalValue(n), nil
		}
		return IntValue(n), nil
	case "double":
		var f float64
		switch x := raw.(type) {
		case int64:
			f = float64(x)
		case float64:
			f = x
		default:
			return Value{}, fmt.Errorf("is %s; %s takes a number", tomlType(raw), p.Name)
		}
		if lo, hi, ok := p.FloatRange(v); ok && (f < lo || f > hi) {
			return Value{}, fmt.Errorf("%s is out of range for %s: want %s to %s", fmtFloat(f), p.Name, fmtFloat(lo), fmtFloat(hi))
		}
		return FloatValue(f), nil
	case "enum":
		s, ok := raw.(string)
		if !ok {
			return Value{}, fmt.Errorf("is %s; %s takes one of %s", tomlType(raw), p.Name, oneOf())
		}
		if values != "" && !contains(strings.Split(values, "|"), s) {
			return Value{}, fmt.Errorf("%q is not a value of %s in pgpool-II %s; it takes one of %s%s", s, p.Name, v, oneOf(), renamedValue(p.Name, s, v))
		}
		return stringValue(s)
	case "list":
		switch x := raw.(type) {
		case string:
			return stringValue(x)
		case []any:
			var items []string
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return Value{}, fmt.Errorf("holds %s; %s takes strings", tomlType(e), p.Name)
				}
				if strings.Contains(s, p.Sep) {
					return Value{}, fmt.Errorf("item %q holds %q, which separates the items of %s", s, p.Sep, p.Name)
				}
				items = append(items, s)
			}
			return stringValue(strings.Join(items, p.Sep))
		}
		return Value{}, fmt.Errorf("is %s; %s takes a string or an array of strings", tomlType(raw), p.Name)
	default: // string
		s, ok := raw.(string)
		if !ok {
			return Value{}, fmt.Errorf("is %s; %s takes a string", tomlType(raw), p.Name)
		}
		switch p.Name {
		case "backend_flagN":
			flags := backendFlags(v)
			for _, w := range strings.Split(s, "|") {
				if !contains(flags, w) {
					return Value{}, fmt.Errorf("%q is not a flag of pgpool-II %s; join with | the words %s%s", w, v, strings.Join(flags, ", "), renamedValue(p.Name, w, v))
				}
			}
		case "log_destination":
			// Checked as written, without trimming: what is checked is what pgpool-II reads.
			for _, w := range strings.Split(s, ",") {
				if !contains(strings.Split(values, "|"), w) {
					return Value{}, fmt.Errorf("%q is not a log destination; use %s, or several joined with \",\" and no space", w, oneOf())
				}
			}
		}
		return stringValue(s)
	}
}

// valueRenames are the values pgpool-II 4.2 renamed (language clean-up), by parameter record.
var valueRenames = map[string][2]string{
	"relcache_query_target": {"master", "primary"},
	"backend_flagN":         {"ALWAYS_MASTER", "ALWAYS_PRIMARY"},
}

// renamedValue explains a value the target does not take because it was renamed.
func renamedValue(record, value string, v pgpool.Version) string {
	r, ok := valueRenames[record]
	switch {
	case !ok:
	case value == r[0] && v.AtLeast(pgpool.V42):
		return fmt.Sprintf(" (%s was renamed %s in 4.2)", r[0], r[1])
	case value == r[1] && !v.AtLeast(pgpool.V42):
		return fmt.Sprintf(" (%s is called %s before 4.2)", r[1], r[0])
	}
	return ""
}

// stringValue checks s with checkConf and returns it as a string Value.
func stringValue(s string) (Value, error) {
	if err := checkConf(s); err != nil {
		return Value{}, err
	}
	return StringValue(s), nil
}

// checkConf says whether s can be written in single quotes in pgpool.conf. pgpool-II's parser
// has no escapes: a quote or line break cannot be written at all, and a backslash before the
// closing quote would keep the string open. Beyond that, the value is free text and passes
// textFault.
func checkConf(s string) error {
	if strings.Contains(s, "'") {
		return fmt.Errorf("contains a single quote ('), which pgpool.conf cannot hold in a value")
	}
	if d := textFault(s); d != "" {
		return fmt.Errorf("contains %s, which pgpool.conf cannot hold in a value", d)
	}
	if strings.HasSuffix(s, `\`) {
		return fmt.Errorf("ends in a backslash, which pgpool-II would read as escaping the closing quote")
	}
	return nil
}
