package schema

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/text"
)

func (l *loader) hosts(root *table, list []*table) {
	c := l.c
	names := map[string]string{} // host name → path of its first use
	type use struct{ path, spelling string }
	addresses := map[string]use{} // normalised address → its first use
	appNames := map[string]string{}
	sshKeys := map[string]string{} // key line → path of the host that has it
	l.hostPath = map[*Host]string{}
	var primaries []string
	var pgpools []string
	for _, t := range list {
		h := &Host{Port: defaultBackendPort, DataDirectory: c.Layout.DataDirectory, Weight: 1}
		t.require("name", `name the host, such as name = "node1"`)
		t.require("address", "give its IPv4 or IPv6 address or DNS name")
		t.require("roles", `give its roles, such as roles = ["pgpool"] or roles = ["primary"]`)
		nameDup := false
		if s, ok := t.str("name"); ok && l.checkName(t.at("name"), s) {
			if first, dup := names[s]; dup {
				nameDup = true
				l.d.atValue(t.at("name"), "host name %q is already used by %s; every host needs a name of its own", s, first)
			} else {
				names[s] = t.path
			}
			h.Name = s
		}
		if s, ok := t.str("address"); ok {
			if norm, good := l.checkAddress(t.at("address"), s); good {
				if first, dup := addresses[norm]; dup {
					same := ""
					if first.spelling != s {
						same = fmt.Sprintf(" (written %q there)", first.spelling)
					}
					l.d.atValue(t.at("address"), "address %q is already used by %s%s; a machine that runs pgpool and PostgreSQL is one host with both roles", s, first.path, same)
				} else {
					addresses[norm] = use{t.path, s}
				}
				h.Address = s
			}
		}
		l.roles(t, h)
		if h.Role == Primary {
			primaries = append(primaries, t.path)
		}
		if h.Pgpool {
			pgpools = append(pgpools, t.path)
		}
		for _, key := range []string{"port", "data_directory", "weight", "application_name"} {
			if t.has(key) && !h.Backend && t.has("roles") {
				l.d.atKey(t.at(key), "is a PostgreSQL setting, and this host has no backend role; pgpool's own port is pgpool.port")
			}
		}
		if n, ok := t.integer("port", 1024, 65535); ok {
			h.Port = n
		}
		if s, ok := t.str("data_directory"); ok && l.checkPath(t.at("data_directory"), s) {
			h.DataDirectory = s
		}
		if f, ok := t.number("weight", 0, 1e8); ok {
			h.Weight = f
		}
		h.SSHKey = l.publicKey(t, "ssh_key", "ssh_key_file")
		h.HostKey = l.publicKey(t, "host_key", "host_key_file")
		if h.SSHKey != nil {
			at := t.at("ssh_key")
			if !t.has("ssh_key") {
				at = t.at("ssh_key_file")
			}
			if first, dup := sshKeys[h.SSHKey.Line]; dup {
				l.d.atValue(at, "is the same key as %s's; give every host a key of its own, so that from= restrictions and revoking one host work", first)
			} else {
				sshKeys[h.SSHKey.Line] = t.path
			}
		}
		h.ApplicationName = h.Name
		if l.needs(t, "application_name") {
			if s, ok := t.str("application_name"); ok && l.checkName(t.at("application_name"), s) {
				h.ApplicationName = s
			}
		}
		// A duplicate name was reported already; its default application_name repeats it.
		if h.Backend && h.ApplicationName != "" && (t.has("application_name") || !nameDup) && pgpool.Spelling("backend_application_nameN", l.c.Pgpool) != "" {
			if first, dup := appNames[h.ApplicationName]; dup {
				key := "application_name"
				if !t.has(key) {
					key = "name"
				}
				l.d.atValue(t.at(key), "application_name %q is already used by %s; pgpool-II matches replication state by it, so each backend needs its own", h.ApplicationName, first)
			} else {
				appNames[h.ApplicationName] = t.path
			}
		}
		if h.Backend && h.Pgpool {
			for _, p := range []struct {
				n   int
				key string
			}{{c.Port, "pgpool.port"}, {c.PCPPort, "pgpool.pcp_port"}} {
				if p.n == h.Port {
					l.d.atKey(t.at("roles"), "this host runs pgpool and PostgreSQL, and %s is %d, the same as its PostgreSQL port; give one of them another port", p.key, p.n)
				}
			}
		}
		l.hostWatchdog(t, h)
		t.finish()
		l.hostPath[h] = t.path
		c.Hosts = append(c.Hosts, h)
		if h.Backend {
			h.NodeID = len(c.Backends)
			c.Backends = append(c.Backends, h)
		}
	}
	if list == nil {
		return
	}
	switch {
	case len(c.Backends) == 0:
		l.d.atKey("host", "no host has a backend role; a cluster needs at least one PostgreSQL server")
	case len(c.Backends) > pgpool.MaxBackends:
		first := c.Backends[pgpool.MaxBackends]
		for i, t := range list {
			if c.Hosts[i] == first {
				l.d.atKey(t.path, "is backend %d of %d, but pgpool-II handles at most %d backends; remove %d", pgpool.MaxBackends+1, len(c.Backends), pgpool.MaxBackends, len(c.Backends)-pgpool.MaxBackends)
			}
		}
	}
	switch {
	case len(pgpools) == 0:
		l.d.atKey("host", `no host has the role "pgpool"; add it to the host that runs pgpool-II`)
	case len(pgpools) > pgpool.MaxBackends:
		l.d.atKey(pgpools[pgpool.MaxBackends]+".roles", "is pgpool host %d of %d, but pgpool-II's watchdog handles at most %d; remove %d", pgpool.MaxBackends+1, len(pgpools), pgpool.MaxBackends, len(pgpools)-pgpool.MaxBackends)
	}
	if m := c.Mode.Info(); m.Has(FeatPrimaryStandby) && len(c.Backends) > 0 {
		switch {
		case len(primaries) == 0:
			l.d.atKey("host", `%s mode needs exactly one host with the role "primary"; none has it`, c.Mode)
		case len(primaries) > 1:
			l.d.atKey(primaries[1]+".roles", "%s mode has exactly one primary, and %s is one already; make this host a \"standby\"%s", c.Mode, primaries[0], alsoHosts(primaries[2:]))
		case !m.Has(FeatFailover) && c.Backends[0].Role != Primary:
			// pgpool-II takes the first live backend for the primary where PostgreSQL cannot
			// tell (no server is in recovery in logical replication or Slony).
			l.d.atKey(primaries[0]+".roles", "in %s mode pgpool-II sends writes to the first live backend, so the primary must be the first backend of [[host]]; move this host above %s", c.Mode, c.Backends[0].Name)
		}
	}
}

// trust derives who must reach whom over ssh from what the generated scripts do, and requires a
// public key of every host that must log in somewhere.
//
//   - streaming replication: every pgpool host reaches every backend (the failover script
//     promotes the new primary there; the follow script re-points a standby); every backend
//     reaches every other (online recovery runs on the primary and works on the target);
//   - native replication: every backend reaches every other (online recovery);
//   - with a watchdog's virtual IP, every pgpool host reaches every other (the escalation
//     script takes the virtual IP down on the others when a pgpool host becomes the leader).
//
// The graph is built only when [[host]] is right: otherwise Load fails anyway, and which keys
// are needed depends on the hosts that are wrong. [[host]] being right bounds it too (at most
// 128 backends and 128 pgpool hosts), and each step is linear in the number of edges.
func (l *loader) trust(hostsOK bool) {
	if !hostsOK {
		return
	}
	c := l.c
	mode := c.Mode.Info()
	recovery := []string{RecoveryFirstStage, RemoteStartScript}
	if mode.Has(FeatSecondStage) {
		recovery = []string{RecoveryFirstStage, RecoverySecondStage, RemoteStartScript}
	}
	// Each (from, to) pair comes up once, with reasons that depend on the source only: its
	// edges share them, rather than merging into an edge found by searching.
	dest := map[*Host]bool{}
	for _, from := range c.Hosts {
		var why []string
		if from.Pgpool && mode.Has(FeatFailover) {
			why = append(why, FailoverScript)
		}
		if from.Pgpool && mode.Has(FeatFollow) {
			why = append(why, c.FollowScript())
		}
		if from.Backend && mode.Has(FeatRecovery) {
			why = append(why, recovery...)
		}
		why = why[:len(why):len(why)] // an append to one edge's reasons must copy them
		escalates := from.Pgpool && c.Escalates()
		for _, to := range c.Hosts {
			w := why
			if !to.Backend {
				w = nil
			}
			if escalates && to.Pgpool {
				w = append(w, EscalationScript) // takes the virtual IP down there
			}
			if from != to && len(w) > 0 {
				c.Trust = append(c.Trust, &Edge{From: from, To: to, Why: w})
				dest[to] = true
			}
		}
	}
	var without []string
	with := 0
	for _, h := range c.Hosts {
		switch {
		case !dest[h]:
		case h.HostKey != nil:
			with++
		default:
			without = append(without, h.Name)
		}
	}
	c.KnownHosts = with > 0 && len(without) == 0
	if with > 0 && len(without) > 0 {
		l.missingHostKeys(without)
	}
	// The edges are in source order, so each host's are one run of the list.
	var missing []*Host
	targetsOf := map[*Host][]string{}
	whyOf := map[*Host][]string{}
	for i := 0; i < len(c.Trust); {
		from := c.Trust[i].From
		var targets, why []string
		for ; i < len(c.Trust) && c.Trust[i].From == from; i++ {
			e := c.Trust[i]
			targets = append(targets, e.To.Name)
			for _, w := range e.Why {
				if !contains(why, w) {
					why = append(why, w)
				}
			}
		}
		if from.SSHKey == nil && l.hostPath[from] != "" {
			missing = append(missing, from)
			targetsOf[from], whyOf[from] = targets, why
		}
	}
	l.missingSSHKeys(missing, targetsOf, whyOf)
}

// missingSSHKeys reports the hosts that log in elsewhere without a public key: one error, at
// the first, however many there are, so that a wide cluster without keys gets one line.
func (l *loader) missingSSHKeys(missing []*Host, targets, why map[*Host][]string) {
	if len(missing) == 0 {
		return
	}
	first := missing[0]
	var others []string
	for _, h := range missing[1:] {
		others = append(others, h.Name)
	}
	also := ""
	if len(others) > 0 {
		also = fmt.Sprintf("; %d more %s that log in elsewhere %s no key either: %s", len(others), plural(len(others), "host", "hosts"), plural(len(others), "has", "have"), fewNames(others))
	}
	l.d.atKey(l.hostPath[first], "logs in over ssh to %s (for %s); give the public key of its %s user: ssh_key = \"ssh-ed25519 AAAA…\" or ssh_key_file = \"keys/%s.pub\"%s",
		fewNames(targets[first]), strings.Join(why[first], ", "), l.c.Layout.User, first.Name, also)
}

// missingHostKeys reports, once, the ssh destinations without a host key when others have one.
func (l *loader) missingHostKeys(without []string) {
	for _, h := range l.c.Hosts {
		if h.Name == without[0] {
			l.d.atKey(l.hostPath[h], "other hosts give their host_key, this one does not; the scripts check host keys strictly only when every host they log in to has one: add host_key or host_key_file (its /etc/ssh/ssh_host_ed25519_key.pub)%s", alsoHosts(without[1:]))
			return
		}
	}
}

// fewNames lists names for a message: all of them when there are at most four, else the first
// three and how many more, so that no message grows with the size of the cluster.
func fewNames(names []string) string {
	if len(names) <= 4 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}

// alsoHosts ends a message that one host gets for a rule other hosts break too.
func alsoHosts(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return "; the same goes for " + fewNames(names)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// roles reads a host's roles. "master" and "slave", the names of pgpool-II 3.x, stand for
// primary and standby.
func (l *loader) roles(t *table, h *Host) {
	list, ok := t.strings("roles")
	if !ok {
		return
	}
	if len(list) == 0 {
		l.d.atValue(t.at("roles"), `is empty; give at least one of "pgpool", "primary", "standby" or "backend"`)
	}
	seen := map[string]bool{}
	for i, r := range list {
		at := indexPath(t.at("roles"), i)
		canon := r
		switch r {
		case "master":
			canon = "primary"
		case "slave":
			canon = "standby"
		}
		if seen[canon] {
			l.d.atValue(at, "role %q is given twice", r)
			continue
		}
		seen[canon] = true
		switch canon {
		case "pgpool":
			h.Pgpool = true
		case "backend":
			if l.c.Mode.Info().Has(FeatPrimaryStandby) {
				l.d.atValue(at, `in %s mode a backend is "primary" or "standby"; say which`, l.c.Mode)
			}
			h.Backend = true
		case "primary", "standby":
			if l.c.Mode != 0 && !l.c.Mode.Info().Has(FeatPrimaryStandby) {
				l.d.atValue(at, "%s mode has no %s (%s); use the role \"backend\"", l.c.Mode, canon, l.c.Mode.Info().Why)
			}
			if h.Role != NoRole {
				l.d.atValue(at, "a host is either primary or standby, not both")
				continue
			}
			h.Backend = true
			h.Role = Primary
			if canon == "standby" {
				h.Role = Standby
			}
		default:
			msg := fmt.Sprintf("unknown role %q; roles are \"pgpool\", \"primary\" (or \"master\"), \"standby\" (or \"slave\") and \"backend\"", r)
			l.d.atValue(at, "%s", msg)
		}
	}
}

// missingList reports an array of tables that is absent or empty.
func (l *loader) missingList(root *table, key, what string) {
	if root.has(key) {
		l.d.atKey(key, "is empty: %s", what)
	} else {
		l.d.add(Pos{}, key, "is missing: %s", what)
	}
}

func (l *loader) pcpUsers(root *table, list []*table) {
	if len(list) == 0 {
		l.missingList(root, "pcp_user", "add a [[pcp_user]] section; pcp commands such as pcp_recovery_node and pcp_attach_node need a pcp.conf user")
		return
	}
	for _, u := range l.users(list, pcpHash) {
		l.c.PCPUsers = append(l.c.PCPUsers, PCPUser{Name: u.Name, MD5: u.Secret})
	}
}

// poolUsers reads [[pool_user]]: the users whose md5 entries pool_passwd holds, so that pgpool
// can answer md5 authentication for them.
func (l *loader) poolUsers(list []*table) {
	for i, u := range l.users(list, poolHash) {
		l.c.PoolUsers = append(l.c.PoolUsers, u)
		if !u.AtApply && u.Name == l.c.Recovery.User && l.versionOK && l.c.Pgpool.AtLeast(pgpool.V42) {
			l.d.atValue(list[i].at("name"), "%s is recovery.user, and pgpool-II %s refuses an md5 entry for the recovery user (it needs the password itself, as an AES entry that pg_enc -m writes); leave this user out of [[pool_user]]", u.Name, l.c.Pgpool)
		}
	}
}

// poolUserMethods refuses a pool_passwd md5 entry for a user whose first matching TCP rule
// asks for scram-sha-256: pgpool-II answers SCRAM only from a password it can read (AES or
// text), so that user could never log in.
func (l *loader) poolUserMethods(list []*table) {
	for i, u := range l.c.PoolUsers {
		if u.AtApply {
			continue // an AES entry answers every method
		}
		for _, r := range l.c.HBA {
			if r.Type == "local" || !(r.User == "all" || contains(strings.Split(r.User, ","), u.Name)) {
				continue
			}
			if r.Method == "scram-sha-256" && i < len(list) {
				l.d.atValue(list[i].at("name"), "the first pool_hba.conf rule for %s asks for scram-sha-256, which pgpool-II answers only from a password it can read, never from an md5 entry; add an md5 rule for this user before it, or give the user an AES entry with pg_enc -m instead", u.Name)
			}
			break
		}
	}
}

// A hashKind says how a file keeps a user's password: pcp.conf and pool_passwd hash it
// differently.
type hashKind struct {
	atApply bool   // the password may be left to apply time (pool_passwd's AES entries)
	what    string // "pcp user", in messages
	hash    func(user, password string) string
	valid   *regexp.Regexp      // a hash given as md5 =
	want    string              // what md5 = takes
	other   func(s string) bool // md5 = holds the other file's form
	hint    string              // what to say then
}

var (
	pcpHash = hashKind{
		what: "pcp user", hash: func(_, pw string) string { return md5hex(pw) }, valid: md5RE,
		want:  `the 32 lowercase hex digits that "pg_md5 PASSWORD" prints`,
		other: func(s string) bool { return len(s) == 35 && strings.HasPrefix(s, "md5") },
		hint:  `starts with "md5" and has 35 characters: that is the pool_passwd form, salted with the user name; pcp.conf takes the 32 hex digits that "pg_md5 PASSWORD" prints`,
	}
	poolHash = hashKind{
		atApply: true,
		what:    "pool_passwd user", hash: func(user, pw string) string { return "md5" + md5hex(pw+user) }, valid: poolMD5RE,
		want:  `"md5" and 32 lowercase hex digits, what "pg_md5 -m -u USER PASSWORD" writes into pool_passwd`,
		other: md5RE.MatchString,
		hint:  `is the pcp.conf form, not salted with the user name; pool_passwd takes "md5" and md5(password + user name), what "pg_md5 -m -u USER PASSWORD" writes`,
	}
)

// users reads a list of users, each with exactly one password source, and returns their
// names and hashes. The password is never kept, printed or put in an error.
func (l *loader) users(list []*table, kind hashKind) []PoolUser {
	seen := map[string]string{}
	var out []PoolUser
	for _, t := range list {
		u := PoolUser{}
		t.require("name", fmt.Sprintf("name the %s, such as name = \"pgpool\"", kind.what))
		if s, ok := t.str("name"); ok && l.checkUser(t.at("name"), s) {
			if first, dup := seen[s]; dup {
				l.d.atValue(t.at("name"), "%s %q is already defined by %s", kind.what, s, first)
			}
			seen[s] = t.path
			u.Name = s
		}
		if kind.atApply && !t.has("password_env") && !t.has("password_file") && !t.has("md5") && !t.has("password") && !t.has("allow_plain_password") {
			// No password in the spec: it is a secret setup reads at apply time.
			u.AtApply = true
			if l.versionOK && !l.c.Pgpool.AtLeast(pgpool.V40) {
				l.d.atKey(t.path, "pgpool-II %s keeps only md5 entries in pool_passwd, made from the password at build time: give password_env, password_file or md5 (pgpool-II 4.0 and later take the password at apply time, as an AES entry)", l.c.Pgpool)
			}
		} else {
			u.Secret = l.secretHash(t, kind, u.Name)
		}
		t.finish()
		out = append(out, u)
	}
	return out
}

// secretHash reads the one password source of a user and returns its hash.
func (l *loader) secretHash(t *table, kind hashKind, user string) string {
	var given []string
	for _, k := range []string{"password_env", "password_file", "md5", "password"} {
		if t.has(k) {
			given = append(given, k)
		}
	}
	plainOK, _ := t.boolean("allow_plain_password")
	switch len(given) {
	case 0:
		l.d.atKey(t.path, "no password: give password_env (an environment variable to read it from), password_file (a file holding it) or md5 (%s)", kind.want)
		return ""
	case 1:
	default:
		l.d.atKey(t.at(given[1]), "a %s takes one of password_env, password_file, md5 and password; this one also has %s", kind.what, given[0])
		for _, k := range given {
			t.get(k)
		}
		return ""
	}
	hash := func(path, what, pw string) string {
		if l.checkPassword(path, what, pw) {
			return kind.hash(user, pw)
		}
		return ""
	}
	switch given[0] {
	case "password_env":
		name, ok := t.str("password_env")
		if !ok {
			return ""
		}
		if !envNameRE.MatchString(name) {
			l.d.atValue(t.at("password_env"), "%q is not an environment variable name; use letters, digits and _", name)
			return ""
		}
		pw, set := l.env.LookupEnv(name)
		if !set || pw == "" {
			l.d.atValue(t.at("password_env"), "environment variable %s is not set or empty; set it to the %s's password before running pgpoolgen, or give md5: %s", name, kind.what, kind.want)
			return ""
		}
		return hash(t.at("password_env"), "environment variable "+name, pw)
	case "password_file":
		data, path, ok := l.readFile(t, "password_file")
		if !ok {
			return ""
		}
		pw := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
		return hash(t.at("password_file"), "file "+path, pw)
	case "md5":
		s, ok := t.str("md5")
		if !ok {
			return ""
		}
		switch {
		case kind.valid.MatchString(s):
			return s
		case kind.other(s):
			l.d.atValue(t.at("md5"), "%s", kind.hint)
		default:
			l.d.atValue(t.at("md5"), "is not an md5 hash; want %s", kind.want)
		}
		return ""
	default: // password
		if _, ok := t.get("password"); !ok {
			return ""
		}
		pw, isStr := t.m["password"].(string)
		if !isStr {
			l.d.atValue(t.at("password"), "is %s; want a string", tomlType(t.m["password"]))
			return ""
		}
		if !plainOK {
			l.d.atKey(t.at("password"), "a password written in the spec ends up in version control; use password_env, password_file or md5 instead, or set allow_plain_password = true if you mean it")
			return ""
		}
		return hash(t.at("password"), "the password", pw)
	}
}

// checkPassword checks a password against what pg_md5, pcp and pool_passwd accept; what says
// where it came from, since the password itself is never shown.
func (l *loader) checkPassword(path, what, pw string) bool {
	switch {
	case pw == "":
		l.d.atValue(path, "%s is empty; a user needs a password", what)
	case len(pw) > 128:
		l.d.atValue(path, "%s is longer than 128 bytes, more than pg_md5 and pcp accept", what)
	case strings.ContainsAny(pw, "\n\r\x00"):
		l.d.atValue(path, "%s holds a line break or NUL byte; pcp and pgpool clients cannot send it", what)
	default:
		return true
	}
	return false
}

func (l *loader) hba(root *table, list []*table) {
	if len(list) == 0 {
		l.missingList(root, "hba", "add [[hba]] rules; pgpoolgen turns enable_pool_hba on, and an empty pool_hba.conf refuses every client")
		return
	}
	v := l.c.Pgpool
	for _, t := range list {
		r := HBARule{Type: "host", Database: "all", User: "all"}
		t.require("method", `give the authentication method, such as method = "md5"`)
		if s, ok := t.str("type"); ok {
			switch s {
			case "local", "host", "hostssl", "hostnossl":
				r.Type = s
			default:
				l.d.atValue(t.at("type"), "unknown type %q; use \"local\", \"host\", \"hostssl\" or \"hostnossl\"", s)
			}
		}
		if s, ok := t.str("database"); ok && l.checkNameList(t.at("database"), s) {
			r.Database = s
		}
		if s, ok := t.str("user"); ok && l.checkNameList(t.at("user"), s) {
			r.User = s
		}
		if r.Type == "local" {
			if t.has("address") {
				l.d.atKey(t.at("address"), "a local rule matches Unix-socket connections and takes no address; remove it or use type = \"host\"")
				t.get("address")
			}
		} else if !t.has("address") {
			l.d.atKey(t.path, "a %s rule needs an address, such as address = \"192.168.0.0/24\"", r.Type)
		} else if s, ok := t.str("address"); ok && l.checkCIDR(t.at("address"), s) {
			r.Address = s
		}
		if s, ok := t.str("method"); ok {
			if methods := pgpool.HBAMethods(v); !contains(methods, s) {
				if !l.versionOK {
					// the version's own error says enough
				} else if since := pgpool.HBAMethodSince(s); !since.IsZero() {
					l.d.atValue(t.at("method"), "pgpool-II %s does not know the method %q, which needs %s or later; it knows %s", v, s, since, strings.Join(methods, ", "))
				} else {
					l.d.atValue(t.at("method"), "unknown method %q; pgpool-II %s knows %s", s, v, strings.Join(methods, ", "))
				}
			} else {
				r.Method = s
			}
		}
		if r.Method == "cert" && r.Type != "hostssl" {
			l.d.atValue(t.at("method"), "cert authenticates a client by its SSL certificate, so it needs type = \"hostssl\"")
		}
		if s, ok := t.str("options"); ok {
			r.Options = l.hbaOptions(t.at("options"), r.Method, s)
		}
		if r.Type == "hostssl" && !l.sslParam {
			l.d.atValue(t.at("type"), "hostssl rules need SSL; set ssl = true in [parameters] (pgpool-II refuses hostssl lines without it)")
		}
		t.finish()
		l.c.HBA = append(l.c.HBA, r)
	}
}

// hbaOptions checks a rule's name=value options: pamservice for pam, the ldap* options for
// ldap, none for other methods. The LDAP bind password is a secret and stays out.
func (l *loader) hbaOptions(path, method, s string) string {
	if d := text.Fault(s); d != "" {
		l.d.atValue(path, "holds %s; separate options with spaces", d)
		return ""
	}
	for _, opt := range strings.Split(s, " ") {
		if opt == "" {
			continue
		}
		name, value, ok := strings.Cut(opt, "=")
		switch {
		case !ok || name == "" || value == "":
			l.d.atValue(path, "option %q is not of the form name=value", opt)
		case name == "ldapbindpasswd":
			l.d.atValue(path, "ldapbindpasswd is a password, and pgpoolgen never writes one into the bundle; bind anonymously or with a search filter instead")
		case !(method == "pam" && name == "pamservice") && !(method == "ldap" && strings.HasPrefix(name, "ldap")):
			l.d.atValue(path, "option %s does not apply to method %q (pamservice goes with pam, ldap* options with ldap)", name, method)
		case !hbaOptionRE.MatchString(opt):
			l.d.atValue(path, "the value of option %s holds %s; pgpoolgen allows letters, digits and . _ / : @ , + = -", name, describe(value, func(r rune) bool { return hbaOptionRE.MatchString("x=" + string(r)) }))
		}
	}
	return strings.Join(strings.Fields(s), " ")
}

// checkCIDR accepts an address in CIDR form without host bits, or samehost/samenet where the
// target knows them.
func (l *loader) checkCIDR(path, s string) bool {
	if contains(pgpool.HBASpecialAddresses(l.c.Pgpool), s) {
		return true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		msg := fmt.Sprintf("%q is not an address in CIDR form; write it like \"192.168.0.0/24\", \"127.0.0.1/32\" or \"::1/128\"", s)
		if addr, err := netip.ParseAddr(s); err == nil {
			msg = fmt.Sprintf("%q has no prefix length; write \"%s/%d\" for this one address", s, s, addr.BitLen())
		}
		l.d.atValue(path, "%s", msg)
		return false
	}
	if p.Masked() != p {
		l.d.atValue(path, "%q has bits set beyond its /%d prefix; write %q", s, p.Bits(), p.Masked().String())
		return false
	}
	return true
}
