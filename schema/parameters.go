package schema

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"pgpoolgen/schema/pgpool"
)

// generated lists the pgpool.conf parameters pgpoolgen sets itself, with the spec key that sets
// them, or why no key does. [parameters] may not set them: a second, conflicting value would
// be silently taken or silently lost.
var generated = map[string]string{
	"backend_clustering_mode":    "key:cluster.mode",
	"master_slave_mode":          "key:cluster.mode",
	"master_slave_sub_mode":      "key:cluster.mode",
	"replication_mode":           "key:cluster.mode",
	"listen_addresses":           "key:pgpool.listen_addresses",
	"port":                       "key:pgpool.port",
	"pcp_listen_addresses":       "key:pgpool.pcp_listen_addresses",
	"pcp_port":                   "key:pgpool.pcp_port",
	"socket_dir":                 "key:layout.pgpool_socket_dir",
	"unix_socket_directories":    "key:layout.pgpool_socket_dir",
	"pcp_socket_dir":             "key:layout.pcp_socket_dir",
	"backend_hostnameN":          "key:host[].address",
	"backend_portN":              "key:host[].port",
	"backend_weightN":            "key:host[].weight",
	"backend_data_directoryN":    "key:host[].data_directory",
	"backend_application_nameN":  "key:host[].application_name",
	"pid_file_name":              "key:layout.pgpool_run_dir",
	"logdir":                     "key:layout.pgpool_log_dir",
	"work_dir":                   "key:layout.pgpool_log_dir",
	"load_balance_mode":          "key:pgpool.load_balance",
	"sr_check_period":            "key:sr_check.period",
	"sr_check_user":              "key:sr_check.user",
	"sr_check_database":          "key:sr_check.database",
	"health_check_period":        "key:health_check.period",
	"health_check_timeout":       "key:health_check.timeout",
	"health_check_user":          "key:health_check.user",
	"health_check_database":      "key:health_check.database",
	"health_check_max_retries":   "key:health_check.max_retries",
	"health_check_retry_delay":   "key:health_check.retry_delay",
	"connect_timeout":            "key:health_check.connect_timeout",
	"recovery_user":              "key:recovery.user",
	"recovery_timeout":           "key:recovery.timeout",
	"enable_pool_hba":            "pgpoolgen always turns it on and writes pool_hba.conf from the [[hba]] rules",
	"pool_passwd":                "pgpoolgen always uses pool_passwd beside pgpool.conf",
	"failover_command":           "pgpoolgen points it at the failover script it generates",
	"follow_master_command":      "pgpoolgen points it at the follow script it generates",
	"follow_primary_command":     "pgpoolgen points it at the follow script it generates",
	"recovery_1st_stage_command": "pgpoolgen points it at the recovery script it generates",
	"recovery_2nd_stage_command": "pgpoolgen points it at the recovery script it generates",
	"use_watchdog":               "pgpoolgen does not generate watchdog configurations yet and keeps it off",
}

// isSecret reports whether a parameter holds a password or key. pgpoolgen never writes one into
// the bundle: pgpool-II 4.0 and later look passwords up in pool_passwd when these are empty.
func isSecret(record string) bool {
	return strings.HasSuffix(record, "_password") || strings.HasSuffix(record, "_passwordN") || record == "wd_authkey"
}

func (l *loader) parameters(t *table) {
	if !t.present() {
		return
	}
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		raw, _ := t.get(name)
		at := t.at(name)
		if !l.versionOK {
			continue
		}
		p, err := pgpool.Check(name, l.c.Pgpool)
		if err != nil {
			l.d.atKey(at, "%v", err)
			continue
		}
		if why, ok := generated[p.Name]; ok {
			if key, isKey := strings.CutPrefix(why, "key:"); isKey {
				l.d.atKey(at, "pgpoolgen sets %s from the spec key %s; set that instead", name, key)
			} else {
				l.d.atKey(at, "%s cannot be set here: %s", name, why)
			}
			continue
		}
		if isSecret(p.Name) {
			l.d.atKey(at, "%s is a secret, and pgpoolgen never writes one into the bundle; leave it out (pgpool-II 4.0 and later read passwords from pool_passwd)", name)
			continue
		}
		if p.Indexed && strings.HasPrefix(p.Name, "backend_") || strings.HasPrefix(p.Name, "health_check_") && p.Indexed || p.Name == "connect_timeoutN" {
			n, _ := strconv.Atoi(strings.TrimPrefix(name, strings.TrimSuffix(p.Name, "N")))
			if n >= len(l.c.Backends) {
				l.d.atKey(at, "%s names backend %d, but the cluster has %d backends (ids 0 to %d, in [[host]] order)", name, n, len(l.c.Backends), len(l.c.Backends)-1)
				continue
			}
		}
		value, err := renderValue(p, raw)
		if err != nil {
			l.d.atValue(at, "%v", err)
			continue
		}
		l.c.Parameters = append(l.c.Parameters, Parameter{Name: name, Record: p.Name, Value: value})
	}
}

// renderValue checks a TOML value against the parameter's type and writes it in pgpool.conf
// syntax: strings in single quotes, booleans as on/off.
func renderValue(p *pgpool.Param, raw any) (string, error) {
	switch p.Type {
	case "bool":
		b, ok := raw.(bool)
		if !ok {
			return "", fmt.Errorf("is %s; %s is a boolean: write true or false", tomlType(raw), p.Name)
		}
		if b {
			return "on", nil
		}
		return "off", nil
	case "int":
		n, ok := raw.(int64)
		if !ok {
			return "", fmt.Errorf("is %s; %s takes an integer", tomlType(raw), p.Name)
		}
		if lo, hi, ok := intRange(p.Values); ok && (n < lo || n > hi) {
			return "", fmt.Errorf("%d is out of range for %s: want %d to %d", n, p.Name, lo, hi)
		}
		return strconv.FormatInt(n, 10), nil
	case "double":
		switch x := raw.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
		return "", fmt.Errorf("is %s; %s takes a number", tomlType(raw), p.Name)
	case "enum":
		s, ok := raw.(string)
		if !ok {
			return "", fmt.Errorf("is %s; %s takes one of %s", tomlType(raw), p.Name, strings.ReplaceAll(p.Values, "|", ", "))
		}
		if p.Values != "" && !contains(strings.Split(p.Values, "|"), s) {
			return "", fmt.Errorf("%q is not a value of %s; it takes one of %s", s, p.Name, strings.ReplaceAll(p.Values, "|", ", "))
		}
		return quoteConf(s)
	case "list":
		var items []string
		switch x := raw.(type) {
		case string:
			return quoteConf(x)
		case []any:
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return "", fmt.Errorf("holds %s; %s takes strings", tomlType(e), p.Name)
				}
				if strings.Contains(s, ",") {
					return "", fmt.Errorf("item %q holds a comma, which separates items in %s", s, p.Name)
				}
				items = append(items, s)
			}
			return quoteConf(strings.Join(items, ","))
		}
		return "", fmt.Errorf("is %s; %s takes a string or an array of strings", tomlType(raw), p.Name)
	default: // string
		s, ok := raw.(string)
		if !ok {
			return "", fmt.Errorf("is %s; %s takes a string", tomlType(raw), p.Name)
		}
		return quoteConf(s)
	}
}

// quoteConf puts s in single quotes for pgpool.conf. pgpool-II's parser has no escapes: a quote
// or line break cannot be written at all, and a backslash before the closing quote would keep
// the string open.
func quoteConf(s string) (string, error) {
	if strings.ContainsAny(s, "'\n\r") {
		return "", fmt.Errorf("contains a quote or line break, which pgpool.conf cannot hold in a value")
	}
	if d := describe(s, func(r rune) bool { return r >= ' ' && r != 0x7f }); d != "" {
		return "", fmt.Errorf("contains %s, which pgpool.conf cannot hold in a value", d)
	}
	if strings.HasSuffix(s, `\`) {
		return "", fmt.Errorf("ends in a backslash, which pgpool-II would read as escaping the closing quote")
	}
	return "'" + s + "'", nil
}

// intRange reads "min..max".
func intRange(s string) (lo, hi int64, ok bool) {
	a, b, found := strings.Cut(s, "..")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseInt(a, 10, 64)
	hi, err2 := strconv.ParseInt(b, 10, 64)
	return lo, hi, err1 == nil && err2 == nil
}
