// Package gen renders a validated cluster (schema.Cluster) into a bundle: every file each host
// needs, held in memory, plus a manifest. Only Write touches the disk.
//
// A bundle is laid out by host, so that a host's folder can be copied to it as it is:
//
//	manifest.json                               every file (host, destination, mode, owner,
//	                                            sha256), the ssh trust graph, the secrets
//	trust.txt                                   the trust graph, for reviewers
//	README.md                                   the cluster summarized for people (readme.go)
//	ansible/, deploy.sh                         apply the bundle from the operator's machine
//	hosts/<host>/setup.sh                       run on the host: applies its part
//	hosts/<host>/files/<destination path>       the file that goes to <destination path>
//	hosts/<host>/merge/<destination path>       lines merged into <destination path>
package gen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"path"
	"slices"
	"strings"

	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
)

// ManifestName is the bundle's manifest, at its root. Its presence marks a folder as written by
// pgpoolgen.
const ManifestName = "manifest.json"

// A File is one file of a bundle.
type File struct {
	Host    string      // the host it belongs to; empty for the bundle's own files
	Dest    string      // absolute path on that host, for Replace and Merge
	Name    string      // file name, for Run, Read and Apply
	Install Install     // what the host's setup does with it
	Mode    fs.FileMode // permission bits
	Owner   string      // OS user and group that own it on the host
	Group   string
	Data    []byte
	// About says in a line what one of the bundle's own files is, for its README.
	About string
}

// Install says what becomes of a file of the bundle.
type Install string

const (
	// Replace: the file is put at Dest as it is (the zero value).
	Replace Install = ""
	// Merge: setup merges the file into Dest, leaving the rest of Dest alone: a block between
	// marker lines (authorized_keys), or the lines of the users it names (pool_passwd, which
	// has no comments).
	Merge Install = "merge"
	// Run: the file is run from the bundle on its host (setup.sh).
	Run Install = "run"
	// Read: the file is for people reviewing the bundle (trust.txt).
	Read Install = "read"
	// Apply: the file is run on the operator's machine to apply the bundle to the hosts (the
	// Ansible inventory and playbook, deploy.sh).
	Apply Install = "apply"
)

func (i Install) String() string {
	if i == Replace {
		return "replace"
	}
	return string(i)
}

// Path is where the file lies inside the bundle.
func (f *File) Path() string {
	switch f.Install {
	case Merge:
		return path.Join("hosts", f.Host, "merge", f.Dest)
	case Run:
		return path.Join("hosts", f.Host, f.Name)
	case Read, Apply:
		return f.Name
	}
	return path.Join("hosts", f.Host, "files", f.Dest)
}

// A Bundle is the rendered output of one spec, in memory.
type Bundle struct {
	Cluster string
	Files   []*File // sorted by Path
	Trust   []trustEntry
	Secrets []secretEntry
}

// Generate renders every file of the cluster's bundle. It cannot fail on a validated cluster:
// anything that could go wrong was refused by schema.
func Generate(c *schema.Cluster) *Bundle {
	b := &Bundle{Cluster: c.Name, Trust: trustEntries(c)}
	dataDir := dataDirScripts(c)
	sh := newShared(c)
	for _, h := range c.Hosts {
		var files []*File
		add := func(dest string, install Install, mode fs.FileMode, data []byte) {
			files = append(files, &File{Host: h.Name, Dest: dest, Install: install, Mode: mode, Owner: c.Layout.User, Group: c.Layout.Group, Data: data})
		}
		if h.Pgpool {
			confMode := fs.FileMode(0o640)
			if c.Watchdog != nil && c.Watchdog.AuthKey {
				confMode = 0o600 // setup adds the watchdog's key to it
			}
			add(c.Layout.PgpoolConfigDir+"/pgpool.conf", Replace, confMode, pgpoolConf(c, h))
			add(c.Layout.PgpoolConfigDir+"/pcp.conf", Replace, 0o600, pcpConf(c))
			add(c.Layout.PgpoolConfigDir+"/pool_hba.conf", Replace, 0o640, poolHBAConf(c))
			if pp := poolPasswd(c); len(pp) > 0 {
				add(c.Layout.PgpoolConfigDir+"/pool_passwd", Merge, 0o600, pp)
			}
			if c.Watchdog != nil && pgpool.Spelling("hostnameN", c.Pgpool) != "" {
				add(c.Layout.PgpoolConfigDir+"/"+schema.NodeIDFile, Replace, 0o644, schema.NodeIDFileContent(h))
			}
			files = append(files, haPgpoolScripts(c, h)...)
		}
		if h.Backend {
			files = append(files, inDataDirectory(c, h, dataDir)...)
			files = append(files, backendServiceFiles(c, h)...)
			files = append(files, backendFiles(c, h)...)
		}
		if h.Pgpool {
			files = append(files, pgpoolUnitFiles(c, h)...)
			if rule := sudoersRule(c, h); rule != nil && !h.Backend { // a backend has it already
				files = append(files, rule)
			}
			if tf := tmpfiles(c); tf != nil {
				// A system file: root's, not the OS user's.
				files = append(files, &File{Host: h.Name, Dest: "/etc/tmpfiles.d/pgpoolgen-" + c.Name + ".conf", Mode: 0o644, Owner: "root", Group: "root", Data: tf})
			}
		}
		add(c.Layout.Home+"/.ssh/authorized_keys", Merge, 0o600, authorizedKeys(c, h, sh))
		if kh := knownHosts(c, h, sh); kh != nil {
			add(c.Layout.Home+"/.ssh/pgpoolgen_known_hosts", Replace, 0o644, kh)
		}
		sortFiles(files)
		secrets := hostSecrets(c, h)
		b.Secrets = append(b.Secrets, secrets...)
		b.Files = append(b.Files, files...)
		b.Files = append(b.Files, setupScript(c, h, files, secrets, sh))
	}
	b.Files = append(b.Files, &File{Name: "trust.txt", Install: Read, Mode: 0o644, Data: trustSummary(c, sh),
		About: "the ssh trust, one login a line, for people reviewing the bundle"})
	b.Files = append(b.Files, handoffFiles(c, b.Secrets)...)
	sortFiles(b.Files)
	readmeFile(c, b) // last: it lists every other file
	return b
}

// shared holds what the files of several hosts have in common, each rendered once per bundle:
// in a bundle of 128 backends every backend's line recurs in some 128 files.
type shared struct {
	from, to  map[*schema.Host][]*schema.Edge // the trust edges from and to each host, in order
	keyLines  map[keyFrom]string              // authorizedKeys: a host's key, for every host it logs in to
	hostKeys  map[*schema.Host]string         // knownHosts: a host's known_hosts line
	ports     map[portKey]string              // portChecks: one check of a port, of a backend or an ssh edge
	pgpass    string                          // pgpassLines, the same on every backend
	functions string                          // setup.sh's functions (setupCommon)
	why       map[whyKey]reasons              // reasonsOf
	whyIDs    map[string]int
	lastWhy   whyKey // the edges of a host come in a run, with one slice of reasons
	last      reasons
	// setup is the buffer each setup.sh is rendered in, then copied out at its size: grown by
	// doubling, a buffer per host would keep up to half of it as slack.
	setup bytes.Buffer
}

func newShared(c *schema.Cluster) *shared {
	sh := &shared{from: map[*schema.Host][]*schema.Edge{}, to: map[*schema.Host][]*schema.Edge{},
		keyLines: map[keyFrom]string{}, hostKeys: map[*schema.Host]string{}, ports: map[portKey]string{},
		why: map[whyKey]reasons{}, whyIDs: map[string]int{}}
	for _, e := range c.Trust {
		sh.from[e.From] = append(sh.from[e.From], e)
		sh.to[e.To] = append(sh.to[e.To], e)
	}
	return sh
}

// reasons are a trust edge's Why as the files give it: the scripts that log in, joined.
type reasons struct {
	text string
	id   int // the same for the same text, from 1
}

// A whyKey stands for a slice of reasons: schema gives the edges from one host the same one.
type whyKey struct {
	p *string
	n int
}

// reasonsOf joins why once per slice, and numbers each text.
func (sh *shared) reasonsOf(why []string) reasons {
	var k whyKey
	if len(why) > 0 {
		k = whyKey{&why[0], len(why)}
	}
	if k == sh.lastWhy && k.p != nil {
		return sh.last
	}
	r, ok := sh.why[k]
	if !ok {
		r.text = strings.Join(why, ", ")
		if r.id = sh.whyIDs[r.text]; r.id == 0 {
			r.id = len(sh.whyIDs) + 1
			sh.whyIDs[r.text] = r.id
		}
		sh.why[k] = r
	}
	sh.lastWhy, sh.last = k, r
	return r
}

// keyFrom is the key of one host for one set of reasons.
type keyFrom struct {
	from *schema.Host
	why  int
}

// portKey is a port check: of a backend's port (why 0), or of ssh on to for the reasons why.
type portKey struct {
	to  *schema.Host
	why int
}

// manifestEntry is one file in manifest.json; the field order is the JSON order.
type manifestEntry struct {
	Host    string `json:"host,omitempty"`
	Path    string `json:"path"`
	Install string `json:"install"`
	Dest    string `json:"destination,omitempty"`
	Mode    string `json:"mode"`
	Owner   string `json:"owner,omitempty"`
	Group   string `json:"group,omitempty"`
	SHA256  string `json:"sha256"`
}

// trustEntry is one ssh trust edge in manifest.json: from logs in to to, for the scripts in why.
type trustEntry struct {
	From string   `json:"from"`
	To   string   `json:"to"`
	Why  []string `json:"why"`
}

// secretEntry is a secret a host's setup needs at apply time, and what it becomes there.
type secretEntry struct {
	Host string `json:"host"`
	Name string `json:"name"`
	Env  string `json:"env"`
	For  string `json:"for"`
}

// manifestFormat is the version of manifest.json's layout, for tools that read it.
const manifestFormat = 1

// entries lists the bundle's files with where they go, their mode, owner and sha256, in path
// order. Files that share their bytes (the data directory's scripts of every backend) are
// hashed once.
func (b *Bundle) entries() []manifestEntry {
	out := make([]manifestEntry, 0, len(b.Files))
	type bytesAt struct {
		p *byte
		n int
	}
	sums := map[bytesAt]string{}
	for _, f := range b.Files {
		var sum string
		if len(f.Data) > 0 {
			sum = sums[bytesAt{&f.Data[0], len(f.Data)}]
		}
		if sum == "" {
			h := sha256.Sum256(f.Data)
			sum = hex.EncodeToString(h[:])
			if len(f.Data) > 0 {
				sums[bytesAt{&f.Data[0], len(f.Data)}] = sum
			}
		}
		out = append(out, manifestEntry{
			Host: f.Host, Path: f.Path(), Install: f.Install.String(), Dest: f.Dest, Mode: modeString(f.Mode),
			Owner: f.Owner, Group: f.Group, SHA256: sum,
		})
	}
	return out
}

// Manifest renders manifest.json: an object of format, cluster, files (entries), trust and
// secrets, laid out as encoding/json's MarshalIndent with two spaces does
// (TestManifestIsMarshalIndent holds it to that). It writes the JSON itself, into a buffer of
// about its size: through encoding/json, the 16,000 trust edges of 128 backends cost more than
// all the bundle's other files.
func (b *Bundle) Manifest() []byte {
	files := b.entries()
	size := 200 + len(b.Cluster)
	for _, f := range files {
		size += 240 + len(f.Host) + len(f.Path) + len(f.Install) + len(f.Dest) + len(f.Mode) + len(f.Owner) + len(f.Group) + len(f.SHA256)
	}
	for _, t := range b.Trust {
		size += 80 + len(t.From) + len(t.To)
		for _, w := range t.Why {
			size += 12 + len(w)
		}
	}
	for _, s := range b.Secrets {
		size += 90 + len(s.Host) + len(s.Name) + len(s.Env) + len(s.For)
	}
	j := jsonWriter{buf: make([]byte, 0, size)}
	j.buf = append(j.buf, manifestStart...)
	j.buf = append(j.buf, `  "cluster": `...)
	j.str(b.Cluster)
	j.buf = append(j.buf, ",\n  \"files\": "...)
	j.objects(len(files), func(i int) {
		f := files[i]
		j.field(f.Host, "host", f.Host != "")
		j.field(f.Path, "path", true)
		j.field(f.Install, "install", true)
		j.field(f.Dest, "destination", f.Dest != "")
		j.field(f.Mode, "mode", true)
		j.field(f.Owner, "owner", f.Owner != "")
		j.field(f.Group, "group", f.Group != "")
		j.field(f.SHA256, "sha256", true)
	})
	j.buf = append(j.buf, ",\n  \"trust\": "...)
	j.objects(len(b.Trust), func(i int) {
		t := b.Trust[i]
		j.field(t.From, "from", true)
		j.field(t.To, "to", true)
		j.buf = append(j.buf, ",\n      \"why\": "...)
		switch {
		case t.Why == nil:
			j.buf = append(j.buf, "null"...)
		case len(t.Why) == 0:
			j.buf = append(j.buf, "[]"...)
		default:
			j.buf = append(j.buf, '[')
			for k, w := range t.Why {
				if k > 0 {
					j.buf = append(j.buf, ',')
				}
				j.buf = append(j.buf, "\n        "...)
				j.str(w)
			}
			j.buf = append(j.buf, "\n      ]"...)
		}
	})
	j.buf = append(j.buf, ",\n  \"secrets\": "...)
	j.objects(len(b.Secrets), func(i int) {
		s := b.Secrets[i]
		j.field(s.Host, "host", true)
		j.field(s.Name, "name", true)
		j.field(s.Env, "env", true)
		j.field(s.For, "for", true)
	})
	return append(j.buf, "\n}\n"...)
}

// A jsonWriter appends manifest.json's parts laid out as MarshalIndent with two spaces does.
type jsonWriter struct {
	buf    []byte
	fields int // fields written in the current object
}

// objects writes an array of n objects, the second level of the manifest, each filled by item
// with field calls.
func (j *jsonWriter) objects(n int, item func(i int)) {
	if n == 0 {
		j.buf = append(j.buf, "[]"...)
		return
	}
	j.buf = append(j.buf, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			j.buf = append(j.buf, ',')
		}
		j.buf = append(j.buf, "\n    {"...)
		j.fields = 0
		item(i)
		j.buf = append(j.buf, "\n    }"...)
	}
	j.buf = append(j.buf, "\n  ]"...)
}

// field writes "key": value in an object of objects, when present (omitempty).
func (j *jsonWriter) field(value, key string, present bool) {
	if !present {
		return
	}
	if j.fields > 0 {
		j.buf = append(j.buf, ',')
	}
	j.fields++
	j.buf = append(j.buf, "\n      \""...)
	j.buf = append(j.buf, key...)
	j.buf = append(j.buf, "\": "...)
	j.str(value)
}

// jsonPlain are the bytes that encoding/json writes into a string as they are and that
// jsonWriter.str takes as they are: printable ASCII but " \\ < > &.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return t
}()

// str writes a JSON string. A string of jsonPlain bytes is written as it is, which is what
// encoding/json does with it; encoding/json quotes any other string, for its escapes.
func (j *jsonWriter) str(s string) {
	for i := 0; i < len(s); i++ {
		if !jsonPlain[s[i]] {
			q, err := json.Marshal(s)
			if err != nil {
				panic(err) // a string always marshals
			}
			j.buf = append(j.buf, q...)
			return
		}
	}
	j.buf = append(j.buf, '"')
	j.buf = append(j.buf, s...)
	j.buf = append(j.buf, '"')
}

// sortFiles orders files by their path in the bundle, each path made once.
func sortFiles(fs []*File) {
	type byPath struct {
		path string
		f    *File
	}
	s := make([]byPath, len(fs))
	for i, f := range fs {
		s[i] = byPath{f.Path(), f}
	}
	slices.SortFunc(s, func(a, b byPath) int { return strings.Compare(a.path, b.path) })
	for i, p := range s {
		fs[i] = p.f
	}
}

func modeString(m fs.FileMode) string {
	const digits = "01234567"
	p := m.Perm()
	return string([]byte{'0', digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}
