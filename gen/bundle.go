// Package gen renders a validated cluster (schema.Cluster) into a bundle: every file each host
// needs, held in memory, plus a manifest. Only Write touches the disk.
//
// A bundle is laid out by host, so that a host's folder can be copied to it as it is:
//
//	manifest.json                               every file: host, destination, mode, owner, sha256
//	hosts/<host>/files/<destination path>       the file that goes to <destination path>
package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"path"
	"sort"

	"pgpoolgen/schema"
)

// ManifestName is the bundle's manifest, at its root. Its presence marks a folder as written by
// pgpoolgen.
const ManifestName = "manifest.json"

// A File is one file of a bundle.
type File struct {
	Host  string      // the host it belongs to
	Dest  string      // absolute path on that host
	Mode  fs.FileMode // permission bits
	Owner string      // OS user and group that own it on the host
	Group string
	Data  []byte
}

// Path is where the file lies inside the bundle.
func (f *File) Path() string { return path.Join("hosts", f.Host, "files", f.Dest) }

// A Bundle is the rendered output of one spec, in memory.
type Bundle struct {
	Cluster string
	Files   []*File // sorted by Path
}

// Generate renders every file of the cluster's bundle. It cannot fail on a validated cluster:
// anything that could go wrong was refused by schema.
func Generate(c *schema.Cluster) *Bundle {
	b := &Bundle{Cluster: c.Name}
	for _, h := range c.Hosts {
		if h.Pgpool {
			b.add(h, c.Layout.PgpoolConfigDir+"/pgpool.conf", 0o640, c, pgpoolConf(c, h))
			b.add(h, c.Layout.PgpoolConfigDir+"/pcp.conf", 0o600, c, pcpConf(c))
			b.add(h, c.Layout.PgpoolConfigDir+"/pool_hba.conf", 0o640, c, poolHBAConf(c))
			b.Files = append(b.Files, haPgpoolScripts(c, h)...)
		}
		if h.Backend {
			b.Files = append(b.Files, haBackendScripts(c, h)...)
		}
	}
	sort.Slice(b.Files, func(i, j int) bool { return b.Files[i].Path() < b.Files[j].Path() })
	return b
}

func (b *Bundle) add(h *schema.Host, dest string, mode fs.FileMode, c *schema.Cluster, data []byte) {
	b.Files = append(b.Files, &File{Host: h.Name, Dest: dest, Mode: mode, Owner: c.Layout.User, Group: c.Layout.Group, Data: data})
}

// manifestEntry is one file in manifest.json; the field order is the JSON order.
type manifestEntry struct {
	Host   string `json:"host"`
	Path   string `json:"path"`
	Dest   string `json:"destination"`
	Mode   string `json:"mode"`
	Owner  string `json:"owner"`
	Group  string `json:"group"`
	SHA256 string `json:"sha256"`
}

type manifest struct {
	Format  int             `json:"format"`
	Cluster string          `json:"cluster"`
	Files   []manifestEntry `json:"files"`
}

// manifestFormat is the version of manifest.json's layout, for tools that read it.
const manifestFormat = 1

// Manifest renders manifest.json: every file of the bundle with where it goes, its mode, owner
// and sha256, in path order.
func (b *Bundle) Manifest() []byte {
	m := manifest{Format: manifestFormat, Cluster: b.Cluster, Files: []manifestEntry{}}
	for _, f := range b.Files {
		sum := sha256.Sum256(f.Data)
		m.Files = append(m.Files, manifestEntry{
			Host: f.Host, Path: f.Path(), Dest: f.Dest, Mode: modeString(f.Mode),
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
