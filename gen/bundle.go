// Package gen renders a validated cluster (schema.Cluster) into a bundle: every file each host
// needs, held in memory, plus a manifest. Only Write touches the disk.
//
// A bundle is laid out by host, so that a host's folder can be copied to it as it is:
//
//	manifest.json                               every file (host, destination, mode, owner,
//	                                            sha256), the ssh trust graph, the secrets
//	trust.txt                                   the trust graph, for reviewers
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

	"pgpoolgen/schema"
)

// ManifestName is the bundle's manifest, at its root. Its presence marks a folder as written by
// pgpoolgen.
const ManifestName = "manifest.json"

// A File is one file of a bundle.
type File struct {
	Host    string      // the host it belongs to; empty for the bundle's own files
	Dest    string      // absolute path on that host, for Replace and Merge
	Name    string      // file name, for Run and Read
	Install Install     // what the host's setup does with it
	Mode    fs.FileMode // permission bits
	Owner   string      // OS user and group that own it on the host
	Group   string
	Data    []byte
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
	case Read:
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
	for _, h := range c.Hosts {
		var files []*File
		add := func(dest string, install Install, mode fs.FileMode, data []byte) {
			files = append(files, &File{Host: h.Name, Dest: dest, Install: install, Mode: mode, Owner: c.Layout.User, Group: c.Layout.Group, Data: data})
		}
		if h.Pgpool {
			add(c.Layout.PgpoolConfigDir+"/pgpool.conf", Replace, 0o640, pgpoolConf(c, h))
			add(c.Layout.PgpoolConfigDir+"/pcp.conf", Replace, 0o600, pcpConf(c))
			add(c.Layout.PgpoolConfigDir+"/pool_hba.conf", Replace, 0o640, poolHBAConf(c))
			if len(c.PoolUsers) > 0 {
				add(c.Layout.PgpoolConfigDir+"/pool_passwd", Merge, 0o600, poolPasswd(c))
			}
			files = append(files, haPgpoolScripts(c, h)...)
		}
		if h.Backend {
			files = append(files, inDataDirectory(c, h, dataDir)...)
		}
		if h.Pgpool {
			if tf := tmpfiles(c); tf != nil {
				// A system file: root's, not the OS user's.
				files = append(files, &File{Host: h.Name, Dest: "/etc/tmpfiles.d/pgpoolgen-" + c.Name + ".conf", Mode: 0o644, Owner: "root", Group: "root", Data: tf})
			}
		}
		add(c.Layout.Home+"/.ssh/authorized_keys", Merge, 0o600, authorizedKeys(c, h))
		if kh := knownHosts(c, h); kh != nil {
			add(c.Layout.Home+"/.ssh/pgpoolgen_known_hosts", Replace, 0o644, kh)
		}
		sortFiles(files)
		secrets := hostSecrets(c, h)
		b.Secrets = append(b.Secrets, secrets...)
		b.Files = append(b.Files, files...)
		setup := setupScript(c, h, files, secrets)
		// The template's buffer grew by doubling: half of it can be slack, 6 MB of a
		// 128-backend bundle held until the end.
		setup.Data = bytes.Clone(setup.Data)
		b.Files = append(b.Files, setup)
	}
	b.Files = append(b.Files, &File{Name: "trust.txt", Install: Read, Mode: 0o644, Data: trustSummary(c)})
	sortFiles(b.Files)
	return b
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

type manifest struct {
	Format  int             `json:"format"`
	Cluster string          `json:"cluster"`
	Files   []manifestEntry `json:"files"`
	Trust   []trustEntry    `json:"trust"`
	Secrets []secretEntry   `json:"secrets"`
}

// manifestFormat is the version of manifest.json's layout, for tools that read it.
const manifestFormat = 1

// Manifest renders manifest.json: every file of the bundle with where it goes, its mode, owner
// and sha256, in path order.
func (b *Bundle) Manifest() []byte {
	m := manifest{Format: manifestFormat, Cluster: b.Cluster, Files: []manifestEntry{},
		Trust: append([]trustEntry{}, b.Trust...), Secrets: append([]secretEntry{}, b.Secrets...)}
	for _, f := range b.Files {
		sum := sha256.Sum256(f.Data)
		m.Files = append(m.Files, manifestEntry{
			Host: f.Host, Path: f.Path(), Install: f.Install.String(), Dest: f.Dest, Mode: modeString(f.Mode),
			Owner: f.Owner, Group: f.Group, SHA256: hex.EncodeToString(sum[:]),
		})
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // plain strings and ints always marshal
	}
	return append(out, '\n')
}

func modeString(m fs.FileMode) string {
	const digits = "01234567"
	p := m.Perm()
	return string([]byte{'0', digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}
