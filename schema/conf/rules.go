package conf

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/text"
)

// bounded refuses a file too large to be a pgpool.conf before it is read.
func bounded(file string, src []byte) (Diagnostic, bool) {
	d := Diagnostic{File: file, Severity: Error}
	if len(src) > MaxFileSize {
		d.Msg = fmt.Sprintf("the file is %d bytes; pgpoolgen lint reads at most %d", len(src), MaxFileSize)
		return d, false
	}
	if n := strings.Count(string(src), "\n"); n > MaxLines {
		d.Msg = fmt.Sprintf("the file has %d lines; pgpoolgen lint reads at most %d", n, MaxLines)
		return d, false
	}
	return d, true
}

// sortDiagnostics orders findings by file (in the order the files were read), line, column.
func sortDiagnostics(ds []Diagnostic, files []string) {
	order := map[string]int{}
	for i, f := range files {
		if _, ok := order[f]; !ok {
			order[f] = i
		}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return order[a.File] < order[b.File]
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		return a.Pos.Col < b.Pos.Col
	})
}

// md5RE is pg_md5's pool_passwd form, which is no password in clear.
var md5RE = regexp.MustCompile(`^md5[0-9a-f]{32}$`)

// check runs the checks that need the whole file: each name against the series and release,
// each value against its parameter, repeats, and the settings that defeat high availability.
func check(file string, settings []Setting, opt Options) []Diagnostic {
	v := opt.Version
	var ds []Diagnostic
	add := func(s Setting, sev Severity, format string, args ...any) {
		ds = append(ds, Diagnostic{File: s.File, Pos: s.NamePos, Name: s.Name, Severity: sev, Msg: fmt.Sprintf(format, args...)})
	}
	last := map[string]int{} // name → index of the setting pgpool-II keeps
	for i, s := range settings {
		last[s.Name] = i
	}
	known := map[string]*pgpool.Param{}
	for i, s := range settings {
		if s.Name == "include" && v.Less(pgpool.Version{Major: 4, Minor: 3}) {
			add(s, Error, "include directives came in pgpool-II 4.3: %s reads \"include\" as a parameter it does not know, and skips the file", v)
			continue
		}
		p, err := pgpool.Check(s.Name, v)
		if err != nil && !(opt.Release != nil && pgpool.ReleaseReads(s.Name, *opt.Release)) {
			add(s, Error, "%s; pgpool-II skips it", err)
			continue
		}
		if p == nil {
			p = pgpool.Lookup(s.Name)
		}
		if opt.Release != nil {
			if err := pgpool.ReleaseCheck(s.Name, *opt.Release); err != nil {
				add(s, Error, "%s; pgpool-II skips it", err)
				continue
			}
		}
		if p.Indexed {
			idx, _ := strconv.Atoi(s.Name[len(strings.TrimRight(s.Name, "0123456789")):])
			if max := p.MaxIndex(); idx > max {
				add(s, Error, "index %d is out of range: pgpool-II takes 0 to %d", idx, max)
				continue
			}
		}
		if p.RenamedTo != "" && !p.RenamedIn.IsZero() && v.AtLeast(p.RenamedIn) {
			applied, does, ok := pgpool.OldName(s.Name, v)
			switch {
			case !ok:
				add(s, Warning, "renamed %q in %s: write the new name", p.RenamedTo, p.RenamedIn)
			case applied:
				add(s, Warning, "renamed %q in %s: pgpool-II %s %s; write the new name", p.RenamedTo, p.RenamedIn, v, does)
			case s.Name == "replication_mode":
				if on, _ := ParseBool(s.Value); on {
					add(s, Error, "from 4.2 pgpool-II %s: write backend_clustering_mode = native_replication", does)
				} else {
					add(s, Warning, "from 4.2 pgpool-II %s: remove it, backend_clustering_mode chooses the mode", does)
				}
			default:
				add(s, Error, "renamed %q in %s: pgpool-II %s %s; write the new name", p.RenamedTo, p.RenamedIn, v, does)
			}
		}
		if s.Kind == KindEOL || s.Kind == KindEOF {
			// parse reported the missing value.
		} else if msg := CheckValue(p, s, v); msg != "" {
			add(s, Error, "%s", msg)
		}
		if j := last[s.Name]; j != i {
			w := settings[j]
			where := fmt.Sprintf("line %d", w.NamePos.Line)
			if w.File != s.File {
				where = fmt.Sprintf("%s:%d", text.Visible(w.File), w.NamePos.Line)
			}
			add(s, Warning, "set again on %s, which wins: pgpool-II takes the last setting", where)
		}
		if i == last[s.Name] {
			known[s.Name] = p
		}
	}
	return append(ds, checkHA(file, settings, last, known, v)...)
}

// effective is what pgpool-II ends up with for one parameter: the last setting of a name the
// series knows, or the series' default.
type effective struct {
	settings []Setting
	last     map[string]int
	known    map[string]*pgpool.Param
	v        pgpool.Version
}

func (e effective) get(name string) (value string, s *Setting) {
	if _, ok := e.known[name]; ok {
		s := e.settings[e.last[name]]
		return s.Value, &s
	}
	if p := pgpool.Lookup(name); p != nil && p.In(e.v) {
		d := p.DefaultIn(e.v)
		if d == "''" || d == "(null)" {
			d = ""
		}
		return d, nil
	}
	return "", nil
}

func (e effective) on(name string) bool {
	val, _ := e.get(name)
	b, _ := ParseBool(val)
	return b
}

func (e effective) seconds(name string) int64 {
	val, _ := e.get(name)
	p := pgpool.Lookup(name)
	if p == nil {
		return 0
	}
	n, _ := parseInt(val, p.Unit(), e.v)
	return n
}

// indexed lists the settings of an indexed parameter that pgpool-II keeps, by index.
func (e effective) indexed(record string) []Setting {
	var out []Setting
	for i, s := range e.settings {
		p := e.known[s.Name]
		if i == e.last[s.Name] && p != nil && p.Name == record && s.Name != strings.TrimSuffix(record, "N") {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].NamePos, out[j].NamePos
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	return out
}

// checkHA finds settings that pgpool-II takes without a word but that leave a cluster
// without the failover or health checking it seems to have.
func checkHA(file string, settings []Setting, last map[string]int, known map[string]*pgpool.Param, v pgpool.Version) []Diagnostic {
	e := effective{settings, last, known, v}
	var ds []Diagnostic
	// at reports at setting s, else at the setting of fallback, else at the file as a whole
	// under the parameter's name.
	at := func(s *Setting, fallback string, sev Severity, format string, args ...any) {
		d := Diagnostic{File: file, Name: fallback, Severity: sev, Msg: fmt.Sprintf(format, args...)}
		if s != nil {
			d.File, d.Pos, d.Name = s.File, s.NamePos, s.Name
		} else if _, f := e.get(fallback); f != nil {
			d.File, d.Pos, d.Name = f.File, f.NamePos, f.Name
		}
		ds = append(ds, d)
	}

	healthOn := e.seconds("health_check_period") > 0
	for _, s := range e.indexed("health_check_periodN") {
		p := pgpool.Lookup(s.Name)
		if n, _ := parseInt(s.Value, p.Unit(), v); n > 0 {
			healthOn = true
		}
	}
	failover, fs := e.get("failover_command")
	if !healthOn && strings.TrimSpace(failover) != "" && fs != nil {
		_, hs := e.get("health_check_period")
		at(hs, "failover_command", Warning, "health checking is off (health_check_period = 0) while failover_command is set: pgpool-II fails a backend over only when a client's session hits the error; set health_check_period")
	}

	backends := e.indexed("backend_hostnameN")
	var streaming bool
	var modeAt *Setting
	follow := "follow_primary_command"
	if v.AtLeast(pgpool.Version{Major: 4, Minor: 2}) {
		mode, s := e.get("backend_clustering_mode")
		streaming, modeAt = strings.EqualFold(mode, "streaming_replication"), s
	} else {
		follow = "follow_master_command"
		sub, s := e.get("master_slave_sub_mode")
		_, ms := e.get("master_slave_mode")
		streaming, modeAt = e.on("master_slave_mode") && strings.EqualFold(sub, "stream"), ms
		if s != nil {
			modeAt = s
		}
	}
	if cmd, _ := e.get(follow); streaming && len(backends) >= 3 && strings.TrimSpace(cmd) == "" {
		if modeAt == nil {
			modeAt = &backends[len(backends)-1]
		}
		at(modeAt, "", Warning, "streaming replication with %d backends and no %s: after a failover the other standbys go on following the old primary", len(backends), follow)
	}

	// Check users whose default became '' (4.6 emptied health_check_user, sr_check_user,
	// wd_lifecheck_user and recovery_user): left unset, the check logs in as nobody at all.
	type user struct {
		name string
		used bool
		what string
	}
	recovery, _ := e.get("recovery_1st_stage_command")
	method, _ := e.get("wd_lifecheck_method")
	for _, u := range []user{
		{"health_check_user", healthOn && len(e.indexed("health_check_userN")) == 0, "health checks"},
		{"sr_check_user", streaming && len(backends) >= 2 && e.seconds("sr_check_period") > 0, "streaming replication delay checks"},
		{"wd_lifecheck_user", e.on("use_watchdog") && strings.EqualFold(method, "query"), "watchdog query life checks"},
		{"recovery_user", strings.TrimSpace(recovery) != "", "online recovery"},
	} {
		p := pgpool.Lookup(u.name)
		if !u.used || len(backends) == 0 || p == nil || !p.In(v) || !becameEmpty(p, v) {
			continue
		}
		if val, s := e.get(u.name); strings.TrimSpace(val) == "" {
			at(s, u.name, Warning, "empty, the default from %s: %s cannot log in; set a user", emptiedIn(p, v), u.what)
		}
	}

	// Passwords in clear text: pgpool.conf is readable by whoever reads the configuration.
	names := make([]string, 0, len(known))
	for name := range known {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimRight(name, "0123456789")
		if !strings.HasSuffix(base, "_password") {
			continue
		}
		s := settings[last[name]]
		val := strings.TrimSpace(s.Value)
		if md5RE.MatchString(val) {
			if from := known[name].MD5RejectedFrom(); !from.IsZero() && v.AtLeast(from) {
				at(&s, "", Error, "pgpool-II %s refuses the md5 form here (from %s): write pg_enc's AES form, or leave it '' to take it from pool_passwd", v, from)
			}
			continue
		}
		if val == "" || strings.HasPrefix(val, "AES") {
			continue
		}
		if v.AtLeast(pgpool.Version{Major: 4, Minor: 0}) {
			at(&s, "", Warning, "a password in clear text: leave it '' to take it from pool_passwd, or write pg_enc's AES form")
		} else {
			at(&s, "", Warning, "a password in clear text: pgpool-II %s reads only clear text here, so keep pgpool.conf readable by the pgpool user alone", v)
		}
	}
	return ds
}

// becameEmpty reports whether p's default is empty in v but was not in some earlier series.
func becameEmpty(p *pgpool.Param, v pgpool.Version) bool {
	return emptiedIn(p, v) != (pgpool.Version{})
}

// emptiedIn is the series from which p's default has been empty up to v, if an earlier series had
// another default.
func emptiedIn(p *pgpool.Param, v pgpool.Version) pgpool.Version {
	if p.DefaultIn(v) != "''" {
		return pgpool.Version{}
	}
	from := v
	for i := len(pgpool.Series) - 1; i >= 0; i-- {
		s := pgpool.Series[i]
		if v.Less(s) || !p.In(s) {
			continue
		}
		if p.DefaultIn(s) != "''" {
			return from
		}
		from = s
	}
	return pgpool.Version{}
}
