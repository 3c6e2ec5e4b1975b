package gen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// WriteOptions change what Write accepts in the output folder.
type WriteOptions struct {
	// Force replaces files of the earlier bundle whose bytes no longer match the sha256 its
	// manifest recorded (hand-edited files). Files and folders the earlier bundle does not list
	// are refused all the same.
	Force bool
}

// Write puts the bundle into the folder dir, replacing what an earlier build wrote there.
//
// dir may be missing, empty, or a bundle that pgpoolgen wrote: a folder whose manifest.json is
// pgpoolgen's (exact format, clean relative paths, a sha256 for every file) and which holds
// nothing the manifest does not list. Anything else is refused untouched, as is a listed file
// whose bytes no longer match its sha256 (unless opt.Force). A non-empty folder without a
// manifest is refused without reading past its first entry, and the walk of a bundle descends
// only into the folders its manifest lists.
//
// The bundle is written whole into a staging folder beside dir (.<dir>.new-<n>), then swapped
// into place. On Linux the swap is one renameat2(RENAME_EXCHANGE), so a kill at any point leaves
// either the old or the new bundle under the name dir. Where that call is missing, the old bundle
// steps aside (.<dir>.new-<n>.old) for the time of two renames; the next Write puts it back if a
// kill came between them. The next Write also removes staging folders that killed builds left
// beside dir, when they are provably pgpoolgen's, and refuses otherwise. Nothing is deleted but
// files a manifest lists, and the folders holding them once they are empty.
func Write(dir string, b *Bundle, opt WriteOptions) error {
	dir = filepath.Clean(dir)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("cannot find the output folder %s: %w", dir, err)
	}
	w := &writer{show: dir, path: abs, parent: filepath.Dir(abs), base: filepath.Base(abs), force: opt.Force}
	// Refuse a folder that is plainly not a bundle before anything else reads the disk.
	if err := w.precheck(); err != nil {
		return err
	}
	if w.parent == abs {
		return fmt.Errorf("cannot write the bundle into %s, the file system's root; choose a folder with -o", dir)
	}
	if err := os.MkdirAll(w.parent, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", w.parent, err)
	}
	unlock, err := lockDir(w.parent)
	if err != nil {
		return fmt.Errorf("cannot write beside %s: %w", dir, err)
	}
	defer unlock()
	return w.write(b)
}

// A writer is one Write call.
type writer struct {
	show   string // the output folder as the user named it, for messages
	path   string // the output folder, absolute
	parent string // the folder holding it, where staging folders go
	base   string // its name
	force  bool
}

// errStopped is returned when stepHook stopped Write, as a kill would have.
var errStopped = errors.New("stopped by the test hook")

// stepHook, set by tests, is called between the writer's steps on disk; when it returns true,
// Write returns errStopped at once, skipping every later step and all cleanup, as if the
// process had been killed there.
var stepHook func(step string) bool

func stopped(step string) bool { return stepHook != nil && stepHook(step) }

// visitHook, set by tests, is called for each entry of an output or leftover folder that the
// writer examines, so tests can bound the walk.
var visitHook func(path string)

func visited(p string) {
	if visitHook != nil {
		visitHook(p)
	}
}

// Staging names: stagingInfix and digits after ".<base>", and asideSuffix for the old bundle
// while the fallback swap runs.
const (
	stagingInfix = ".new-"
	asideSuffix  = ".old"
)

func (w *writer) write(b *Bundle) error {
	if err := w.recover(); err != nil {
		return err
	}
	if stopped("recovered") {
		return errStopped
	}
	old, err := w.check(w.path, outRole(w.show))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(w.parent, "."+w.base+stagingInfix)
	if err != nil {
		return fmt.Errorf("cannot write beside %s: %w", w.show, err)
	}
	if stopped("staging created") {
		return errStopped
	}
	if err := writeTree(tmp, b); err != nil {
		if !errors.Is(err, errStopped) {
			os.RemoveAll(tmp) // our own staging folder, made above
		}
		return err
	}
	if old == nil {
		if err := renameNoReplace(tmp, w.path); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("cannot move the bundle into %s: %w", w.show, err)
		}
		return nil
	}
	err = exchange(tmp, w.path)
	if err != nil && !errors.Is(err, errNoExchange) {
		os.RemoveAll(tmp)
		return fmt.Errorf("cannot replace %s: %w", w.show, err)
	}
	aside := tmp
	if err != nil {
		// No atomic exchange here: the old bundle steps aside, the new one takes its name. A
		// kill between the two renames leaves no dir; recover puts the aside folder back.
		aside = tmp + asideSuffix
		if err := os.Rename(w.path, aside); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("cannot replace %s: %w", w.show, err)
		}
		if stopped("old bundle aside") {
			return errStopped
		}
		if err := renameNoReplace(tmp, w.path); err != nil {
			os.Rename(aside, w.path)
			os.RemoveAll(tmp)
			return fmt.Errorf("cannot replace %s: %w", w.show, err)
		}
	}
	if stopped("swapped") {
		return errStopped
	}
	if err := removeTree(aside, old); err != nil {
		return fmt.Errorf("the bundle is in %s, but the previous one is left in %s: %w", w.show, aside, err)
	}
	return nil
}

// writeTree writes the manifest and then every file under root, in the manifest's order and
// with the bundle's modes whatever the umask. The manifest goes first so that a staging folder
// left by a kill is recognisably ours: the files its manifest lists, complete up to the one
// being written.
func writeTree(root string, b *Bundle) error {
	if err := os.Chmod(root, folderPerm); err != nil {
		return fmt.Errorf("cannot write the bundle: %w", err)
	}
	write := func(rel string, data []byte, mode fs.FileMode) error {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := mkdirs(root, filepath.Dir(p)); err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if err != nil {
			return err
		}
		half := len(data) / 2
		if _, err := f.Write(data[:half]); err != nil {
			f.Close()
			return err
		}
		if stopped("writing " + rel) {
			f.Close()
			return errStopped
		}
		if _, err := f.Write(data[half:]); err != nil {
			f.Close()
			return err
		}
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if stopped("wrote " + rel) {
			return errStopped
		}
		return nil
	}
	if err := write(ManifestName, b.Manifest(), 0o644); err != nil {
		return wrapWrite(err)
	}
	for _, f := range b.Files {
		if err := write(f.Path(), f.Data, f.Mode); err != nil {
			return wrapWrite(err)
		}
	}
	return nil
}

func wrapWrite(err error) error {
	if errors.Is(err, errStopped) {
		return err
	}
	return fmt.Errorf("cannot write the bundle: %w", err)
}

// mkdirs creates dir and its parents below root with mode 0755, whatever the umask.
func mkdirs(root, dir string) error {
	if dir == root {
		return nil
	}
	if _, err := os.Lstat(dir); err == nil {
		return nil
	}
	if err := mkdirs(root, filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, folderPerm); err != nil {
		return err
	}
	return os.Chmod(dir, folderPerm)
}

// precheck refuses an output folder that cannot be a bundle, reading no more than its first
// entry: a link, a file, or a non-empty folder without a manifest.
func (w *writer) precheck() error {
	info, err := os.Lstat(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the output folder: %w", err)
	}
	if err := folderKind(info, "output folder "+w.show); err != nil {
		return err
	}
	if _, err := os.Lstat(filepath.Join(w.path, ManifestName)); err == nil {
		return nil
	}
	first, err := firstEntry(w.path)
	if err != nil {
		return fmt.Errorf("cannot read the output folder: %w", err)
	}
	if first != "" {
		return notBundle("output folder "+w.show, first)
	}
	return nil
}

func folderKind(info fs.FileInfo, what string) error {
	if info.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; give the folder it points to", what)
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is a file, not a folder", what)
	}
	return nil
}

func notBundle(what, first string) error {
	return fmt.Errorf("%s is not empty (it holds %s) and has no %s, so pgpoolgen did not write it; pgpoolgen replaces the whole folder, so it leaves this one alone: choose a missing or empty folder with -o",
		what, first, ManifestName)
}

// firstEntry returns the name of one entry of dir, or "" when dir is empty.
func firstEntry(dir string) (string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return "", err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	visited(names[0])
	return names[0], nil
}

// recover deals with the staging folders that killed builds left beside the output folder: the
// old bundle set aside by the fallback swap goes back when the output folder is missing, and
// every other leftover is removed when it is provably ours, or refused.
func (w *writer) recover() error {
	names, err := w.leftovers()
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	if _, err := os.Lstat(w.path); errors.Is(err, fs.ErrNotExist) {
		var asides []string
		for _, n := range names {
			if strings.HasSuffix(n, asideSuffix) {
				asides = append(asides, n)
			}
		}
		switch {
		case len(asides) > 1:
			return fmt.Errorf("%s is missing and %d earlier bundles were left beside it (%s): pgpoolgen cannot tell which one to put back; rename the right one to %s and remove the others",
				w.show, len(asides), strings.Join(asides, ", "), w.base)
		case len(asides) == 1:
			// Nothing is deleted here: the folder gets its name back and is then checked as
			// the output folder.
			a := filepath.Join(w.parent, asides[0])
			if _, err := readManifest(a); err != nil {
				if first, ferr := firstEntry(a); ferr != nil || first != "" {
					return fmt.Errorf("%s is missing, and the folder %s beside it, where an interrupted build may have set it aside, %v, so pgpoolgen does not put it back; move it away", w.show, a, err)
				}
				// An empty output folder that was set aside.
			}
			if err := renameNoReplace(a, w.path); err != nil {
				return fmt.Errorf("cannot put the earlier bundle %s back as %s: %w", a, w.show, err)
			}
			names = without(names, asides[0])
		}
	}
	for _, n := range names {
		p := filepath.Join(w.parent, n)
		info, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", p, err)
		}
		if !info.IsDir() || info.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is not a folder, so pgpoolgen did not make it; move it away", p)
		}
		o, err := w.check(p, leftoverRole(p, w.show))
		if err != nil {
			return err
		}
		if err := removeTree(p, o); err != nil {
			return fmt.Errorf("cannot remove %s, left by an interrupted build: %w", p, err)
		}
	}
	return nil
}

// leftovers lists, sorted, the names in the parent folder that Write makes for staging.
func (w *writer) leftovers() ([]string, error) {
	f, err := os.Open(w.parent)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", w.parent, err)
	}
	defer f.Close()
	prefix := "." + w.base + stagingInfix
	var out []string
	for {
		names, err := f.Readdirnames(1024)
		for _, n := range names {
			if isStagingName(n, prefix) {
				out = append(out, n)
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(names) == 0) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", w.parent, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

// isStagingName reports whether name is prefix, digits (os.MkdirTemp's random part) and
// optionally asideSuffix.
func isStagingName(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	rest = strings.TrimSuffix(rest, asideSuffix)
	if rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func without(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// folderPerm is the mode of every folder Write makes, out/ included; umask plays no part.
const folderPerm fs.FileMode = 0o755

// Bounds on what the writer reads from an output folder.
const (
	maxManifestBytes = 64 << 20 // far above the manifest of 128 backends
	maxFileBytes     = 64 << 20 // a listed file above this is not ours
	maxNamed         = 5        // problems named in one error; the rest are counted
)

// ownedTree is what a manifest on disk says a folder holds.
type ownedTree struct {
	files []string        // listed files, in the manifest's order
	dirs  map[string]bool // folders on the way to them
}

// A role says which folder check looks at, for its messages and rules.
type role struct {
	what     string // names the folder, to start a sentence
	advice   string // what the user can do when it is refused
	leftover bool   // a staging folder that a killed build left: it may be cut short
}

func outRole(show string) role {
	return role{what: "output folder " + show,
		advice: "pgpoolgen replaces the whole folder, so it leaves this one alone: move those away or choose another folder with -o"}
}

func leftoverRole(p, show string) role {
	return role{what: "folder " + p + ", left beside " + show + " by an interrupted build,",
		advice: "pgpoolgen removes only what it provably made, so it leaves this one alone: move it away", leftover: true}
}

// check returns what the bundle in root holds, or an error naming what is not ours: anything
// its manifest does not list, or a listed file whose bytes no longer match (unless force, or, in
// a leftover, the one file a kill interrupted). It returns nil, nil when root is missing, and an
// empty ownedTree for an empty folder.
func (w *writer) check(root string, r role) (*ownedTree, error) {
	info, err := os.Lstat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the %s: %w", r.what, err)
	}
	if err := folderKind(info, r.what); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(filepath.Join(root, ManifestName)); errors.Is(err, fs.ErrNotExist) {
		first, err := firstEntry(root)
		if err != nil {
			return nil, fmt.Errorf("cannot read the %s: %w", r.what, err)
		}
		if first != "" {
			return nil, notBundle(r.what, first)
		}
		return &ownedTree{dirs: map[string]bool{}}, nil
	}
	m, err := readManifest(root)
	if err != nil {
		if r.leftover && partialManifest(root) {
			// Killed while writing the manifest, the first file of a staging folder.
			return &ownedTree{dirs: map[string]bool{}}, nil
		}
		return nil, fmt.Errorf("%s %v; %s", r.what, err, r.advice)
	}
	o := &ownedTree{dirs: map[string]bool{}}
	sums := map[string]string{}
	index := map[string]int{}
	for i, e := range m.Files {
		o.files = append(o.files, e.Path)
		sums[e.Path] = e.SHA256
		index[e.Path] = i
		for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
			o.dirs[d] = true
		}
	}
	s := &scan{root: root, o: o, sums: sums}
	if err := s.walk(""); err != nil {
		return nil, fmt.Errorf("cannot read the %s: %w", r.what, err)
	}
	if len(s.foreign) > 0 {
		sort.Strings(s.foreign)
		more := ""
		if s.truncated {
			more = " and more"
		}
		return nil, fmt.Errorf("%s holds files or folders that its %s does not list (%s%s); %s",
			r.what, ManifestName, strings.Join(s.foreign, ", "), more, r.advice)
	}
	if len(s.changed) == 0 || w.force {
		return o, nil
	}
	if r.leftover && len(s.changed) == 1 {
		// A kill while writing a staging folder leaves its files complete in manifest order
		// up to one, the last present, cut short.
		last := -1
		for p := range s.present {
			last = max(last, index[p])
		}
		if index[s.changed[0]] == last {
			return o, nil
		}
	}
	sort.Strings(s.changed)
	n := len(s.changed)
	return nil, fmt.Errorf("%s holds %s of the earlier bundle edited since pgpoolgen wrote %s (%s): %s no longer match the sha256 in %s; save your changes elsewhere, or run the build with --force to replace %s",
		r.what, plural(n, "a file", "files"), plural(n, "it", "them"), nameSome(s.changed),
		plural(n, "its bytes", "their bytes"), ManifestName, plural(n, "it", "them"))
}

// manifestStart is how every manifest.json that Manifest renders begins.
var manifestStart = fmt.Sprintf("{\n  \"format\": %d,\n", manifestFormat)

// partialManifest reports whether root holds nothing but a manifest.json cut short while
// being written: its bytes and the start every manifest has agree as far as both go.
func partialManifest(root string) bool {
	f, err := os.Open(root)
	if err != nil {
		return false
	}
	names, err := f.Readdirnames(2)
	f.Close()
	if err != nil || len(names) != 1 || names[0] != ManifestName {
		return false
	}
	p := filepath.Join(root, ManifestName)
	if info, err := os.Lstat(p); err != nil || !info.Mode().IsRegular() {
		return false
	}
	mf, err := os.Open(p)
	if err != nil {
		return false
	}
	defer mf.Close()
	head := make([]byte, len(manifestStart))
	n, _ := io.ReadFull(mf, head)
	return string(head[:n]) == manifestStart[:n]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// nameSome joins the first maxNamed names and counts the rest.
func nameSome(names []string) string {
	if len(names) <= maxNamed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxNamed], ", "), len(names)-maxNamed)
}

// A scan walks a folder against its manifest, descending only into the folders the manifest
// lists and stopping once more than maxNamed foreign entries are found.
type scan struct {
	root      string
	o         *ownedTree
	sums      map[string]string
	present   map[string]bool
	foreign   []string
	truncated bool
	changed   []string
}

func (s *scan) walk(rel string) error {
	return eachEntry(s.root, rel, func(p string, e fs.DirEntry) (bool, error) {
		if err := s.entry(p, e); err != nil {
			return false, err
		}
		if len(s.foreign) > maxNamed {
			s.foreign = s.foreign[:maxNamed]
			s.truncated = true
		}
		return s.truncated, nil
	})
}

// eachEntry calls fn on each entry of the folder rel of root, as a slash path under root, a
// bounded number read at a time, until fn says stop or fails: the one way the writer and
// Compare read a folder of the user's.
func eachEntry(root, rel string, fn func(p string, e fs.DirEntry) (stop bool, err error)) error {
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		entries, err := f.ReadDir(256)
		for _, e := range entries {
			p := path.Join(rel, e.Name())
			visited(p)
			if stop, err := fn(p, e); err != nil || stop {
				return err
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && len(entries) == 0) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *scan) entry(p string, e fs.DirEntry) error {
	switch {
	case p == ManifestName:
		if !e.Type().IsRegular() {
			s.foreign = append(s.foreign, p)
		}
	case s.sums[p] != "":
		if !e.Type().IsRegular() {
			s.foreign = append(s.foreign, p)
			return nil
		}
		if s.present == nil {
			s.present = map[string]bool{}
		}
		s.present[p] = true
		same, err := s.matches(p)
		if err != nil {
			return err
		}
		if !same {
			s.changed = append(s.changed, p)
		}
	case s.o.dirs[p] && e.IsDir():
		if err := s.walk(p); err != nil {
			return err
		}
		if s.truncated {
			return nil
		}
	case e.IsDir():
		s.foreign = append(s.foreign, p+"/")
	default:
		s.foreign = append(s.foreign, p)
	}
	return nil
}

// matches reports whether the listed file p still holds the bytes its manifest recorded.
func (s *scan) matches(p string) (bool, error) {
	name := filepath.Join(s.root, filepath.FromSlash(p))
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, err
	}
	if !info.Mode().IsRegular() || info.Size() > maxFileBytes {
		return false, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, maxFileBytes+1)); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == s.sums[p], nil
}

// diskManifest is the part of manifest.json the writer trusts, once readManifest checked it.
type diskManifest struct {
	Format *int `json:"format"`
	Files  []struct {
		Path   string `json:"path"`
		SHA256 string `json:"sha256"`
	} `json:"files"`
}

// readManifest reads and checks the manifest in root. Its error completes a sentence naming
// root: "holds a manifest.json that pgpoolgen did not write (…)", or "has no manifest.json".
func readManifest(root string) (*diskManifest, error) {
	bad := func(why string, args ...any) error {
		return fmt.Errorf("holds a %s that pgpoolgen did not write (%s)", ManifestName, fmt.Sprintf(why, args...))
	}
	p := filepath.Join(root, ManifestName)
	info, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("has no %s", ManifestName)
	}
	if err != nil {
		return nil, bad("%v", err)
	}
	if !info.Mode().IsRegular() {
		return nil, bad("it is not a regular file")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, bad("%v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return nil, bad("%v", err)
	}
	if len(data) > maxManifestBytes {
		return nil, bad("it is larger than %d MiB", maxManifestBytes>>20)
	}
	var m diskManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, bad("not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, bad("text after the JSON object")
	}
	if m.Format == nil || *m.Format != manifestFormat {
		return nil, bad("format is not %d", manifestFormat)
	}
	seen := map[string]bool{}
	for i, e := range m.Files {
		if !cleanRelative(e.Path) || e.Path == ManifestName {
			return nil, bad("files[%d].path %q is not a clean relative path inside the folder", i, e.Path)
		}
		if seen[e.Path] {
			return nil, bad("files[%d].path %q is listed twice", i, e.Path)
		}
		seen[e.Path] = true
		if !isSHA256(e.SHA256) {
			return nil, bad("files[%d].sha256 is not 64 lowercase hex digits", i)
		}
	}
	for p := range seen {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if seen[d] {
				return nil, bad("%q is listed both as a file and as a folder", d)
			}
		}
	}
	return &m, nil
}

// cleanRelative reports whether p is a clean slash path below the folder: no "..", no leading
// slash, no empty or "." element, no backslash or control character.
func cleanRelative(p string) bool {
	if p == "" || !utf8.ValidString(p) || path.Clean(p) != p || path.IsAbs(p) || p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// removeTree deletes the bundle in root that check described: its listed files, then its
// folders (each only once empty), then its manifest, then root itself, so that a kill at any
// point leaves a folder that check still recognises as ours. Anything else in root makes a
// folder removal fail, and the error says so.
func removeTree(root string, o *ownedTree) error {
	for _, p := range o.files {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if stopped("removed " + p) {
			return errStopped
		}
	}
	dirs := make([]string, 0, len(o.dirs))
	for d := range o.dirs {
		dirs = append(dirs, d)
	}
	// A folder sorts after its parent, so reverse order removes children first.
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if err := os.Remove(filepath.Join(root, filepath.FromSlash(d))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if stopped("removed " + d + "/") {
			return errStopped
		}
	}
	if err := os.Remove(filepath.Join(root, ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if stopped("removed " + ManifestName) {
		return errStopped
	}
	return os.Remove(root)
}

// exchange swaps two folders atomically, or returns errNoExchange; tests replace it to run the
// fallback.
var exchange = exchangeDirs

// errNoExchange says that folders cannot be swapped atomically here.
var errNoExchange = errors.New("no atomic exchange of folders")

// renameIfMissing renames from to to when to does not exist; unlike renameat2, it leaves a
// moment between the check and the rename.
func renameIfMissing(from, to string) error {
	if _, err := os.Lstat(to); !errors.Is(err, fs.ErrNotExist) {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: fs.ErrExist}
	}
	return os.Rename(from, to)
}
