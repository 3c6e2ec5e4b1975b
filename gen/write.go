package gen

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Write puts the bundle into the folder dir, replacing what an earlier build wrote there.
//
// The bundle is written whole into a temporary folder beside dir and moved into place only when
// complete, so a failed write leaves dir as it was. dir may be missing, empty, or an earlier
// bundle: a folder holding anything the earlier bundle's manifest does not list is refused
// untouched, since replacing it would delete files that are not ours.
func Write(dir string, b *Bundle) error {
	dir = filepath.Clean(dir)
	exists, err := checkOwned(dir)
	if err != nil {
		return err
	}
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".new-")
	if err != nil {
		return fmt.Errorf("cannot write beside %s: %w", dir, err)
	}
	if err := writeTree(tmp, b); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if !exists {
		if err := os.Rename(tmp, dir); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("cannot move the bundle into %s: %w", dir, err)
		}
		return nil
	}
	// Swap: the old bundle steps aside, the new one takes its name, then the old one goes. If
	// the second rename fails, the old bundle is put back.
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("cannot replace %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		os.RemoveAll(tmp)
		return fmt.Errorf("cannot replace %s: %w", dir, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("the bundle is in %s, but the previous one is left in %s: %w", dir, old, err)
	}
	return nil
}

// writeTree writes every file and the manifest under root with the bundle's modes, whatever the
// umask.
func writeTree(root string, b *Bundle) error {
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	write := func(rel string, data []byte, mode fs.FileMode) error {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := mkdirs(root, filepath.Dir(p)); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			return err
		}
		return os.Chmod(p, mode)
	}
	for _, f := range b.Files {
		if err := write(f.Path(), f.Data, f.Mode); err != nil {
			return fmt.Errorf("cannot write the bundle: %w", err)
		}
	}
	if err := write(ManifestName, b.Manifest(), 0o644); err != nil {
		return fmt.Errorf("cannot write the bundle: %w", err)
	}
	return nil
}

// mkdirs creates dir and its parents below root with mode 0755, whatever the umask.
func mkdirs(root, dir string) error {
	if dir == root {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := mkdirs(root, filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	return os.Chmod(dir, 0o755)
}

// checkOwned reports whether dir exists, and refuses it when it holds files that the bundle
// recorded in its manifest did not write.
func checkOwned(dir string) (exists bool, err error) {
	info, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot read the output folder: %w", err)
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return false, fmt.Errorf("output folder %s is a symbolic link; give the folder it points to", dir)
	}
	if !info.IsDir() {
		return false, fmt.Errorf("output folder %s is a file, not a folder", dir)
	}
	ours := map[string]bool{ManifestName: true}
	if data, err := os.ReadFile(filepath.Join(dir, ManifestName)); err == nil {
		var m manifest
		if err := json.Unmarshal(data, &m); err != nil || m.Format == 0 {
			return false, fmt.Errorf("output folder %s holds a %s that pgpoolgen did not write; choose another folder", dir, ManifestName)
		}
		for _, e := range m.Files {
			ours[e.Path] = true
		}
	}
	var foreign []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() || rel == "." {
			return nil
		}
		if !d.Type().IsRegular() || !ours[rel] {
			foreign = append(foreign, rel)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("cannot read the output folder: %w", err)
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		more := ""
		if len(foreign) > 5 {
			more = fmt.Sprintf(" and %d more", len(foreign)-5)
			foreign = foreign[:5]
		}
		return false, fmt.Errorf("output folder %s holds files pgpoolgen did not write (%s%s); pgpoolgen replaces the whole folder, so it leaves this one alone: move those files or choose another folder with -o",
			dir, strings.Join(foreign, ", "), more)
	}
	return true, nil
}
