package gen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
)

// A Difference is one way a folder on disk is not the bundle: a file whose bytes or mode
// differ, a file the bundle has and the folder lacks (Missing), or an entry of the folder the
// bundle does not have (Extra).
type Difference struct {
	Path    string
	Missing bool // only in the bundle: Old is nil
	Extra   bool // only on disk: New is nil
	// Foreign marks an Extra entry that the folder's manifest.json does not list, which a build
	// refuses (not removes); Old is nil for it, and Path ends in "/" for a folder.
	Foreign bool
	// TooLarge marks an entry on disk that is not a regular file or is above the writer's
	// bound (64 MiB): it is not read, and Old is nil.
	TooLarge         bool
	OldMode, NewMode fs.FileMode
	Old, New         []byte
}

// maxForeign bounds the entries of a folder that Compare reports as not listed; past it, the
// walk stops and a last Difference says so.
const maxForeign = 1000

// Compare reports, in path order, how the folder dir differs from the bundle b, manifest.json
// included, reading dir by the rules Write trusts a folder by: a missing or empty folder holds
// nothing, any other must hold a manifest.json that pgpoolgen wrote, and only the folders that
// manifest or the bundle lists are read. It writes nothing. Each file is read up to the
// writer's bound (64 MiB); memory is the bundle plus the files on disk that differ from it.
func Compare(dir string, b *Bundle) ([]Difference, error) {
	dir = filepath.Clean(dir)
	show := "output folder " + dir
	want := map[string]*File{} // lookups only
	manifest := &File{Name: ManifestName, Install: Read, Mode: 0o644, Data: b.Manifest()}
	files := append([]*File{manifest}, b.Files...)
	for _, f := range files {
		want[f.Path()] = f
	}
	listed := map[string]bool{}     // the files out/'s manifest lists
	dirs := map[string]bool{}       // folders that may be read
	bundleDirs := map[string]bool{} // folders the bundle has
	for p := range want {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d], bundleDirs[d] = true, true
		}
	}
	info, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("cannot read the %s: %w", show, err)
	default:
		if err := folderKind(info, show); err != nil {
			return nil, err
		}
		if _, err := os.Lstat(filepath.Join(dir, ManifestName)); err != nil {
			first, ferr := firstEntry(dir)
			if ferr != nil {
				return nil, fmt.Errorf("cannot read the %s: %w", show, ferr)
			}
			if first != "" {
				return nil, notBundle(show, first)
			}
			break
		}
		m, err := readManifest(dir)
		if err != nil {
			return nil, fmt.Errorf("%s %v", show, err)
		}
		for _, e := range m.Files {
			listed[e.Path] = true
			for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
				dirs[d] = true
			}
		}
		listed[ManifestName] = true
	}
	var out []Difference
	seen := map[string]bool{}
	foreign := 0
	var walk func(rel string) error
	walk = func(rel string) error {
		return eachEntry(dir, rel, func(p string, e fs.DirEntry) (bool, error) {
			w := want[p]
			switch {
			case dirs[p] && e.IsDir():
				if err := folderMode(p, e, bundleDirs, &out); err != nil {
					return false, err
				}
				return false, walk(p)
			case w == nil && !listed[p]:
				if foreign++; foreign <= maxForeign {
					d := Difference{Path: p, Extra: true, Foreign: true}
					if e.IsDir() {
						d.Path += "/"
					}
					out = append(out, d)
				}
			default:
				d, err := compareFile(dir, p, e, w)
				if err != nil {
					return false, err
				}
				seen[p] = true
				if d != nil {
					out = append(out, *d)
				}
			}
			return false, nil
		})
	}
	if info != nil {
		if m := info.Mode().Perm(); m != folderPerm {
			out = append(out, Difference{Path: "./", OldMode: m, NewMode: folderPerm})
		}
		if err := walk(""); err != nil {
			return nil, fmt.Errorf("cannot read the %s: %w", show, err)
		}
	}
	for _, f := range files {
		if p := f.Path(); !seen[p] {
			out = append(out, Difference{Path: p, Missing: true, NewMode: f.Mode, New: f.Data})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	if foreign > maxForeign {
		out = append(out, Difference{Path: fmt.Sprintf("(%d more entries not listed in %s)", foreign-maxForeign, ManifestName), Extra: true, Foreign: true})
	}
	return out, nil
}

// folderMode reports the folder p when the bundle has it and its mode is not the one Write
// gives every folder: a build would change it.
func folderMode(p string, e fs.DirEntry, bundleDirs map[string]bool, out *[]Difference) error {
	info, err := e.Info()
	if err != nil {
		return err
	}
	if m := info.Mode().Perm(); m != folderPerm && bundleDirs[p] {
		*out = append(*out, Difference{Path: p + "/", OldMode: m, NewMode: folderPerm})
	}
	return nil
}

// compareFile compares the entry p of dir with the bundle's file w (nil: a file out/'s
// manifest lists that the bundle no longer has). It returns nil when they agree.
func compareFile(dir, p string, e fs.DirEntry, w *File) (*Difference, error) {
	d := &Difference{Path: p, Extra: w == nil}
	if w != nil {
		d.NewMode, d.New = w.Mode, w.Data
	}
	if !e.Type().IsRegular() {
		d.TooLarge = true
		return d, nil
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(p)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	d.OldMode = info.Mode().Perm()
	if !info.Mode().IsRegular() || info.Size() > maxFileBytes {
		d.TooLarge = true
		return d, nil
	}
	d.Old, err = io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(d.Old) > maxFileBytes {
		d.Old, d.TooLarge = nil, true
		return d, nil
	}
	if w != nil && d.OldMode == w.Mode && bytes.Equal(d.Old, w.Data) {
		return nil, nil
	}
	return d, nil
}
