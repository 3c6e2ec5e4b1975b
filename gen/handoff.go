package gen

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"text/template"
	"unicode/utf8"

	"pgpoolgen/schema"
)

// The hand-off files apply the bundle from the operator's machine: an Ansible inventory, a
// playbook with one play per host in the order the cluster needs and the tasks each play runs
// (ansible/), and deploy.sh, the same with rsync (or scp) over ssh. Both copy hosts/<host>/
// to StagingDir/<cluster> on the host, check every file's sha256 against manifest.json, hand
// the secrets over in a folder under SecretsParent and run setup.sh.

//go:embed templates/handoff/*.tmpl
var handoffFS embed.FS

// The YAML templates take [% %] as delimiters: {{ }} is Ansible's own (Jinja).
var (
	yamlTemplates = template.Must(template.New("yaml").Delims("[%", "%]").
			Funcs(template.FuncMap{"cm": cm, "yq": yq}).
			ParseFS(handoffFS, "templates/handoff/*.yml.tmpl"))
	deployTemplate = template.Must(template.New("deploy").Funcs(shellFuncs).
			ParseFS(handoffFS, "templates/handoff/deploy.sh.tmpl"))
)

const (
	// StagingDir holds each cluster's copy of a host's folder of the bundle, on the host. It
	// is root's alone (0700): setup.sh refuses a bundle the OS user could change. It lies
	// under /var/lib, which only root writes, and not in a home or /tmp, and it persists, so
	// that a second run finds the files there and copies nothing.
	StagingDir = "/var/lib/pgpoolgen"
	// SecretsParent holds, on the host, the root-only temporary folder of each run's secrets
	// (and of the new files a check runs setup.sh --dry-run on): /run is a tmpfs, so a secret
	// never reaches a disk, and the folder goes on every exit path or, at the latest, at boot.
	SecretsParent = "/run/pgpoolgen"
	// SetupChanged matches the last line of a setup.sh run that changed something, or would
	// (--dry-run): "setup of pg1: 3 changes made", "... 2 changes would be made, 1 left for
	// later". "nothing to change" and "0 changes would be made" do not match.
	SetupChanged = `: [1-9][0-9]* changes (would be )?made(, [0-9]+ left for later)?$`
)

// handoffHost is a host as the hand-off files name it, in apply order.
type handoffHost struct {
	Name, Address string
	What          string // its roles, for the play's name: "primary (backend 0)"
	// SecretList is deploy.sh's list of the secrets its setup.sh reads: name:ENV, by spaces.
	SecretList string
}

type handoffGroup struct {
	Name  string
	Hosts []string
}

type handoffData struct {
	Cluster, SpecName string
	Hosts             []handoffHost
	// Groups are the inventory's: pgpool, backends, and primary and standbys where the mode
	// has those roles (Roles); their hosts in apply order.
	Groups                                []handoffGroup
	Roles                                 bool
	Staging, StagingParent, SecretsParent string
	SetupChanged                          string
}

// handoffFiles renders ansible/inventory.yml, ansible/playbook.yml, ansible/apply.yml and
// deploy.sh, given the secrets of every host.
func handoffFiles(c *schema.Cluster, secrets []secretEntry) []*File {
	d := handoffData{Cluster: c.Name, SpecName: c.SpecName, Staging: StagingDir + "/" + c.Name, StagingParent: StagingDir,
		SecretsParent: SecretsParent, SetupChanged: SetupChanged}
	for _, h := range c.ApplyOrder() {
		hh := handoffHost{Name: h.Name, Address: h.Address, What: roles(h)}
		var list []string
		for _, s := range secrets {
			if s.Host == h.Name {
				list = append(list, s.Name+":"+s.Env)
			}
		}
		hh.SecretList = strings.Join(list, " ")
		d.Hosts = append(d.Hosts, hh)
		d.Roles = d.Roles || h.Role != schema.NoRole
	}
	group := func(name string, in func(h *schema.Host) bool) {
		g := handoffGroup{Name: name}
		for _, h := range c.ApplyOrder() {
			if in(h) {
				g.Hosts = append(g.Hosts, h.Name)
			}
		}
		d.Groups = append(d.Groups, g)
	}
	group("pgpool", func(h *schema.Host) bool { return h.Pgpool })
	group("backends", func(h *schema.Host) bool { return h.Backend })
	if d.Roles {
		group("primary", func(h *schema.Host) bool { return h.Role == schema.Primary })
		group("standbys", func(h *schema.Host) bool { return h.Role == schema.Standby })
	}
	render := func(name string, mode fs.FileMode, about string) *File {
		var buf bytes.Buffer
		tmpl := yamlTemplates
		if path.Ext(name) == ".sh" {
			tmpl = deployTemplate
		}
		if err := tmpl.ExecuteTemplate(&buf, path.Base(name)+".tmpl", d); err != nil {
			panic(err) // the templates and their data are ours: a failure is a bug
		}
		return &File{Name: name, Install: Apply, Mode: mode, Data: buf.Bytes(), About: about}
	}
	return []*File{
		render("ansible/inventory.yml", 0o644, "Ansible's inventory: the hosts, in the groups pgpool and backends (and primary and standbys where the mode has them)"),
		render("ansible/playbook.yml", 0o644, "Ansible: copies each host's folder, checks its sha256, hands over its secrets and runs its setup, host by host in the order below"),
		render("ansible/apply.yml", 0o644, "the playbook's tasks for one host"),
		render("deploy.sh", 0o755, "what the playbook does, with rsync (or scp) over ssh"),
	}
}

// yq makes a YAML scalar of s: in single quotes, where only the quote itself needs escaping
// (doubled), when s is printable; else in double quotes with escapes, so that no character of
// it (a line break, a control character) can end the scalar or be read back otherwise. The
// model's values are validated names, paths and addresses: they always take the first form.
func yq(s string) string {
	plain := utf8.ValidString(s)
	for _, r := range s {
		if unprintable(r) {
			plain = false
		}
	}
	if plain {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i]) // a stray byte: its value as a code point
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case unprintable(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	b.WriteByte('"')
	return b.String()
}

// unprintable reports whether YAML would not keep r as it is in a quoted scalar, or a reader
// would not see it: C0, DEL, C1, the line and paragraph separators, the byte order mark.
func unprintable(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff
}
