package schema

import (
	"fmt"
	"strings"

	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/postgres"
)

// PGSettings is what the bundle sets on the backends' own servers ([postgresql]): the file of
// settings each backend includes, the pg_hba.conf block, and the roles setup creates.
type PGSettings struct {
	// DataChecksums says the clusters were made with data checksums (initdb -k), which
	// pg_rewind can use instead of wal_log_hints.
	DataChecksums bool
	// Slots: a physical replication slot per standby keeps the WAL it still needs. Without
	// slots, WALKeepMB of WAL is kept (wal_keep_size, wal_keep_segments before 13).
	Slots     bool
	WALKeepMB int
	// Sync is "" (asynchronous), "ANY" or "FIRST": synchronous_standby_names waits for
	// SyncCount standbys of the list.
	Sync      string
	SyncCount int
	// HBAMethod is the method of every host line of the bundle's pg_hba.conf block.
	HBAMethod string
}

// A DBRole is a PostgreSQL role that a program of the cluster logs in as. setup creates it on
// the primary, or updates it there, from the spec and the apply-time secret of its password.
type DBRole struct {
	Name string
	// Secret names the apply-time secret that holds its password; "" when nothing of the
	// cluster sends one (pgpool-II before 4.0 sends none for its own users).
	Secret string
	For    []string // who logs in as it, for comments and messages
	// Attributes and grants, the union of what its uses need.
	Superuser   bool
	Replication bool
	Monitor     bool // pg_monitor (10+): pg_stat_replication for the streaming check
	Rewind      bool // the functions pg_rewind calls (11+; a superuser before)
	// PoolPasswd: pgpool-II logs in as it, so pool_passwd holds it as an AES entry.
	PoolPasswd bool
	// App is an application user of [[pool_user]] whose password is given at apply time.
	App bool
}

// Defaults of [postgresql] and of the roles.
const (
	defaultCheckUser  = "pgpool" // health check and streaming check: a role of its own, no superuser
	defaultRewindUser = "rewind"
	defaultWALKeepMB  = 1024
)

// pgSettings reads [postgresql]. It needs the PostgreSQL version, the pgpool-II series and
// the mode, read before.
func (l *loader) pgSettings(t *table) {
	p := &l.c.PG
	pg := l.c.PostgreSQL
	// Slots are for standbys that stream for good: in native replication a recovered node
	// streams only until the second stage promotes it, and WAL is kept by size instead.
	p.Slots = pg.has(postgres.ReplicationSlots) && (l.c.Mode == 0 || l.c.Mode.Info().Has(FeatFollow))
	p.WALKeepMB = defaultWALKeepMB
	p.HBAMethod = "md5"
	if pg.has(postgres.Scram) && (!l.versionOK || l.c.Pgpool.AtLeast(pgpool.V40)) {
		p.HBAMethod = "scram-sha-256"
	}
	if b, ok := t.boolean("data_checksums"); ok {
		p.DataChecksums = b
	}
	if b, ok := t.boolean("replication_slots"); ok {
		if b && l.c.Mode != 0 && !l.c.Mode.Info().Has(FeatFollow) {
			l.d.atValue(t.at("replication_slots"), "%s mode keeps no standby for good (a recovered node streams only until the second stage promotes it): slots are for streaming replication; remove the key, and WAL is kept by wal_keep_mb", l.c.Mode)
		} else if b && pg.Major != 0 && !pg.has(postgres.ReplicationSlots) {
			l.d.atValue(t.at("replication_slots"), "PostgreSQL %s has no replication slots (they came in %s); remove the key, and WAL is kept by wal_keep_segments (wal_keep_mb)", pg, postgres.ReplicationSlots)
		} else {
			p.Slots = b
		}
	}
	if n, ok := t.integer("wal_keep_mb", 16, 1<<24); ok {
		p.WALKeepMB = n
		if p.Slots {
			l.d.atKey(t.at("wal_keep_mb"), "is used only with replication_slots = false: with slots, each standby's slot keeps the WAL it needs")
		}
	}
	if l.c.Mode == Logical && pg.Major != 0 && !pg.has(postgres.Logical) {
		l.d.atValue("cluster.postgresql_version", "logical_replication mode needs PostgreSQL's logical replication, which came in %s; target PostgreSQL %s or later", postgres.Logical, postgres.Logical)
	}
	if s, ok := t.str("hba_method"); ok {
		switch {
		case s == "scram-sha-256" && pg.Major != 0 && !pg.has(postgres.Scram):
			l.d.atValue(t.at("hba_method"), "PostgreSQL %s has no scram-sha-256 (it came in %s); use \"md5\"", pg, postgres.Scram)
		case s == "scram-sha-256" && l.versionOK && !l.c.Pgpool.AtLeast(pgpool.V40):
			l.d.atValue(t.at("hba_method"), "pgpool-II %s cannot log in to a backend with scram-sha-256 (4.0 can); use \"md5\"", l.c.Pgpool)
		case s == "scram-sha-256", s == "md5", s == "trust":
			p.HBAMethod = s
		default:
			l.d.atValue(t.at("hba_method"), "unknown method %q for the bundle's pg_hba.conf lines; use \"scram-sha-256\", \"md5\", or \"trust\" (no password at all: only on a network you trust)", s)
		}
	}
	if s, ok := t.str("synchronous"); ok {
		switch s {
		case "off":
		case "any", "first":
			p.Sync = strings.ToUpper(s)
			p.SyncCount = 1
			switch {
			case pg.Major == 0:
			case !pg.has(postgres.SyncReplication):
				l.d.atValue(t.at("synchronous"), "PostgreSQL %s has no synchronous replication (it came in %s); use \"off\"", pg, postgres.SyncReplication)
			case s == "any" && !pg.has(postgres.SyncQuorum):
				l.d.atValue(t.at("synchronous"), "PostgreSQL %s has no quorum commit (ANY came in %s); use \"first\"", pg, postgres.SyncQuorum)
			}
		default:
			l.d.atValue(t.at("synchronous"), "unknown choice %q; use \"off\" (asynchronous, the default), \"any\" (a commit waits for any synchronous_count standbys) or \"first\" (for the first synchronous_count standbys of the list)", s)
		}
	}
	if n, ok := t.integer("synchronous_count", 1, 127); ok {
		switch {
		case p.Sync == "" && !t.has("synchronous"):
			l.d.atKey(t.at("synchronous_count"), "is used only with synchronous = \"any\" or \"first\"")
		case p.Sync == "FIRST" && n > 1 && pg.Major != 0 && !pg.has(postgres.SyncMany):
			l.d.atValue(t.at("synchronous_count"), "PostgreSQL %s waits for one synchronous standby at a time (several came in %s); use 1", pg, postgres.SyncMany)
		default:
			p.SyncCount = n
		}
	}
	t.finish()
}

// has reports whether v has what PostgreSQL brought in version f (schema/postgres's table).
func (v PGVersion) has(f postgres.Version) bool { return v.AtLeast(f.Major, f.Minor) }

// checkPGSettings checks [postgresql] against the hosts, read after it.
func (l *loader) checkPGSettings() {
	p := &l.c.PG
	n := len(l.c.Backends)
	if p.Sync != "" && l.c.Mode != 0 && !l.c.Mode.Info().Has(FeatFollow) {
		l.d.atValue("postgresql.synchronous", "synchronous replication is PostgreSQL's streaming replication; %s mode does not use it: remove the key", l.c.Mode)
		p.Sync = ""
	}
	if p.Sync != "" && n > 0 && p.SyncCount > n-1 {
		l.d.atValue("postgresql.synchronous_count", "a commit would wait for %d standbys, and the cluster has %d: every write would hang; set synchronous_count to at most %d", p.SyncCount, n-1, max(n-1, 1))
	}
	// A slot per backend, named for its application_name: every backend can be a standby.
	slots := map[string]*Host{}
	for _, b := range l.c.Backends {
		b.SlotName = slotName(b.ApplicationName)
		if b.ApplicationName == "" {
			continue // its name was refused
		}
		first, dup := slots[b.SlotName]
		// Equal application names were reported already, as such or as equal host names.
		told := dup && first.ApplicationName == b.ApplicationName && (first.Name == b.Name || pgpool.Spelling("backend_application_nameN", l.c.Pgpool) != "")
		if dup && p.Slots && !told {
			l.d.atValue(l.hostPath[b]+".application_name", "its replication slot would be %q, like %s's; slot names are application names in lower case with '-' and '.' as '_': rename one", b.SlotName, first.Name)
		}
		slots[b.SlotName] = b
	}
}

// slotName is the physical replication slot a standby streams through: its application_name
// in lower case, '-' and '.' as '_' (slot names take [a-z0-9_]), as pgpool-II's sample
// scripts name theirs.
func slotName(app string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case r == '-' || r == '.':
			return '_'
		}
		return r
	}, app)
}

// dbRoles lists the roles the cluster's programs log in as, one per name: two uses with one
// name share the role, its attributes and its secret.
func (l *loader) dbRoles() {
	c := l.c
	// pgpool-II logs in with a password from pool_passwd from 4.0, and only where the
	// backends ask for one: with hba_method = "trust" its own users need none.
	aes := (!l.versionOK || c.Pgpool.AtLeast(pgpool.V40)) && c.PG.HBAMethod != "trust"
	var out []*DBRole
	byName := map[string]*DBRole{}
	use := func(name, secret, why string) *DBRole {
		r := byName[name]
		if r == nil {
			r = &DBRole{Name: name, Secret: secret}
			byName[name] = r
			out = append(out, r)
		} else if r.Secret == "" {
			r.Secret = secret
		}
		r.For = append(r.For, why)
		return r
	}
	if c.Mode.Info().Has(FeatRecovery) {
		use(c.Replication.User, "replication", "base backups and streaming replication").Replication = true
	}
	pgpoolSecret := func(name string) string {
		if aes {
			return name
		}
		return "" // pgpool-II sends no password for its own users (before 4.0, or to trust)
	}
	hc := use(c.HealthCheck.User, pgpoolSecret("check"), "pgpool-II's health check")
	hc.PoolPasswd = aes
	if c.Mode.Info().Has(FeatSRCheck) {
		secret := "check"
		if c.SRCheck.User != c.HealthCheck.User {
			secret = "sr_check"
		}
		sr := use(c.SRCheck.User, pgpoolSecret(secret), "pgpool-II's streaming replication check")
		sr.PoolPasswd = aes
		sr.Monitor = c.PostgreSQL.has(postgres.Monitor)
	}
	if c.Mode.Info().Has(FeatRecovery) {
		rec := use(c.Recovery.User, pgpoolSecret("recovery"), "pgpool-II's online recovery")
		rec.Superuser, rec.PoolPasswd = true, rec.PoolPasswd || aes
	}
	if c.Rewind.User != "" {
		rw := use(c.Rewind.User, "rewind", "pg_rewind in the follow script")
		rw.Rewind = true
		if !c.PostgreSQL.has(postgres.RewindGrants) {
			rw.Superuser = true
		}
	}
	for i, u := range c.PoolUsers {
		if !u.AtApply {
			continue
		}
		if r := byName[u.Name]; r != nil {
			r.PoolPasswd = true
			continue
		}
		r := use(u.Name, "user_"+strings.ToLower(strings.NewReplacer("-", "_", ".", "_").Replace(u.Name)), "an application user of pgpool-II")
		r.PoolPasswd, r.App = true, true
		for _, o := range out[:len(out)-1] {
			if o.Secret == r.Secret {
				l.d.atValue(fmt.Sprintf("pool_user[%d].name", i), "its password's secret would be %s, like %s's; names that differ only in case, '-', '.' or '_' cannot both be given at apply time", r.Secret, o.Name)
			}
		}
	}
	c.Roles = out
}

// rewindUser reads [replication] rewind_user: the role the follow script's pg_rewind logs in
// to the new primary as. Only streaming replication with pg_rewind (9.5+) has one.
func (l *loader) rewindUser(t *table) {
	c := l.c
	if !c.Mode.Info().Has(FeatFollow) || !c.PostgreSQL.has(postgres.Rewind) {
		if t.has("rewind_user") {
			t.get("rewind_user")
			l.d.atKey(t.at("rewind_user"), "pg_rewind runs in the follow script of streaming replication with PostgreSQL 9.5 and later only; remove the key")
		}
		return
	}
	c.Rewind.User = defaultRewindUser
	if !c.PostgreSQL.has(postgres.RewindGrants) {
		// pg_rewind needs a superuser before 11: the recovery user is one already.
		c.Rewind.User = c.Recovery.User
	}
	if v, ok := t.str("rewind_user"); ok && l.checkUser(t.at("rewind_user"), v) {
		c.Rewind.User = v
	}
}
