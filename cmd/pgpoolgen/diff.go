package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"pgpoolgen/gen"
	"pgpoolgen/gen/udiff"
)

// Exit statuses of diff and build --check.
const (
	exitSame    = 0 // the folder is what the spec builds
	exitDiffers = 1 // it is not: the diff is on stdout
	exitFailed  = 2 // the spec is wrong, the command line is wrong, or the folder cannot be read
)

var diffCommand = &command{name: "diff", args: "SPEC [-o DIR] [--stat]",
	summary: "show how DIR differs from the bundle the spec builds",
	help: `Diff builds the bundle of SPEC in memory and compares it with DIR (default "out"): every
file's bytes and mode, and files missing or extra. It writes nothing. The diff goes from DIR
("a/") to what the spec builds ("b/"), in path order and without timestamps. A change that is
the same in several hosts' files (the same path under hosts/<host>/ and the same lines) is
shown once, with the hosts it applies to in spec order, before the changes that differ. With --stat, one line
per file: its path and the lines added and removed. DIR is read by the rules build trusts it
by: it must be missing, empty, or a bundle pgpoolgen wrote.

Exit status: 0 DIR is what the spec builds (nothing is printed), 1 it differs, 2 the spec is
wrong (its problems are printed as by build), the command line is wrong, or DIR cannot be read.
"pgpoolgen build SPEC --check" does the same.`,
	flags: func(fs *pflag.FlagSet) {
		fs.StringP("output", "o", "out", "the bundle folder to compare")
		fs.Bool("stat", false, "one line per file: path, +added -removed")
	},
	run: runDiff}

func runDiff(c *command, fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	out, _ := fs.GetString("output")
	stat, _ := fs.GetBool("stat")
	return diffBundle(c, args, out, stat, stdout, stderr)
}

func diffBundle(c *command, args []string, out string, stat bool, stdout, stderr io.Writer) int {
	cluster, _ := load(c, args, stderr)
	if cluster == nil {
		return exitFailed
	}
	if strings.TrimSpace(out) == "" {
		fmt.Fprintf(stderr, "pgpoolgen %s: -o needs a folder\n", c.name)
		return exitFailed
	}
	diffs, err := gen.Compare(out, gen.Generate(cluster))
	if err != nil {
		fmt.Fprintf(stderr, "pgpoolgen %s: %v\n", c.name, err)
		return exitFailed
	}
	if len(diffs) == 0 {
		return exitSame
	}
	files := make([]fileDiff, len(diffs))
	for i, d := range diffs {
		files[i] = describe(d)
	}
	if stat {
		printStat(stdout, files)
	} else {
		order := map[string]int{} // lookups: a host's place in the spec
		for i, h := range cluster.Hosts {
			order[h.Name] = i
		}
		printDiff(stdout, files, order)
	}
	return exitDiffers
}

// A fileDiff is one Difference as printed: its pieces are a note on the file (missing, extra,
// mode) and its hunks, each a block of text that can be compared with other hosts'.
type fileDiff struct {
	path             string
	host, rest       string // hosts/<host>/<rest>; host empty for the bundle's own files
	pieces           []piece
	added, removed   int
	note             string // for --stat
	oldName, newName string
}

type piece struct {
	header string // the @@ line, whose numbers may differ between hosts; empty for a note
	body   string
}

const context = 3

func describe(d gen.Difference) fileDiff {
	f := fileDiff{path: d.Path, oldName: "a/" + d.Path, newName: "b/" + d.Path}
	if rest, ok := strings.CutPrefix(d.Path, "hosts/"); ok {
		if host, r, ok := strings.Cut(rest, "/"); ok {
			f.host, f.rest = host, r
		}
	}
	note := func(s string) { f.pieces = append(f.pieces, piece{body: s + "\n"}); f.note = s }
	switch {
	case d.Foreign:
		f.newName = "/dev/null"
		note("only in the folder, and not listed in its manifest.json: build refuses the folder until it is moved away")
		return f
	case d.TooLarge:
		note(fmt.Sprintf("not a regular file of at most 64 MiB in the folder: not read (mode %04o)", d.NewMode))
		return f
	case d.Missing:
		f.oldName = "/dev/null"
		note(fmt.Sprintf("new file mode %04o", d.NewMode))
	case d.Extra:
		f.newName = "/dev/null"
		note(fmt.Sprintf("deleted file mode %04o", d.OldMode))
	case d.OldMode != d.NewMode:
		note(fmt.Sprintf("old mode %04o\nnew mode %04o", d.OldMode, d.NewMode))
	}
	for _, h := range udiff.Diff(d.Old, d.New, context) {
		a, r := h.Counts()
		f.added += a
		f.removed += r
		f.pieces = append(f.pieces, piece{header: h.Header(), body: h.Body()})
	}
	return f
}

func printStat(w io.Writer, files []fileDiff) {
	added, removed := 0, 0
	for _, f := range files {
		line := fmt.Sprintf("%s +%d -%d", f.path, f.added, f.removed)
		if f.note != "" && f.added+f.removed == 0 || f.oldName == "/dev/null" || f.newName == "/dev/null" {
			line += " (" + strings.ReplaceAll(f.note, "\n", ", ") + ")"
		}
		fmt.Fprintln(w, line)
		added += f.added
		removed += f.removed
	}
	fmt.Fprintf(w, "%d %s differ, +%d -%d\n", len(files), plural(len(files), "file", "files"), added, removed)
}

// changeKey is what makes two hunks the same change: their removed and added lines, in
// order, with each run of context only as its place (a host's own lines around a template
// change differ: escalation.sh's table of the other pgpool hosts, say).
func changeKey(body string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(body, "\n") {
		if strings.HasPrefix(l, " ") {
			l = " \n"
		}
		b.WriteString(l)
	}
	return b.String()
}

// printDiff prints the changes shared by several hosts first, each once with its hosts in
// spec order (order; hosts only out/ has come last, by name) and the context and line numbers
// of the first, then every file's other changes.
func printDiff(w io.Writer, files []fileDiff, order map[string]int) {
	type key struct{ rest, body string }
	hosts := map[key][]string{} // lookups; the order comes from files, which is sorted
	for _, f := range files {
		if f.host == "" {
			continue
		}
		for _, p := range f.pieces {
			k := key{f.rest, changeKey(p.body)}
			if hs := hosts[k]; len(hs) == 0 || hs[len(hs)-1] != f.host { // once per host
				hosts[k] = append(hs, f.host)
			}
		}
	}
	shared := func(f fileDiff, p piece) bool { return f.host != "" && len(hosts[key{f.rest, changeKey(p.body)}]) > 1 }
	// Shared changes, in the order of the rest of the path, then of the first host's file.
	type group struct {
		rest  string
		order int
		first fileDiff
		p     piece
	}
	var groups []group
	done := map[key]bool{}
	for _, f := range files {
		for i, p := range f.pieces {
			k := key{f.rest, changeKey(p.body)}
			if shared(f, p) && !done[k] {
				done[k] = true
				groups = append(groups, group{rest: f.rest, order: i, first: f, p: p})
			}
		}
	}
	inSpec := func(h string) (int, bool) { i, ok := order[h]; return i, ok }
	for _, hs := range hosts {
		sort.SliceStable(hs, func(i, j int) bool {
			a, aok := inSpec(hs[i])
			b, bok := inSpec(hs[j])
			if aok != bok {
				return aok
			}
			if aok {
				return a < b
			}
			return hs[i] < hs[j]
		})
	}
	for i := range groups { // the first host of each group is now the first in spec order
		g := &groups[i]
		first := hosts[key{g.rest, changeKey(g.p.body)}][0]
		for _, f := range files {
			if f.host == first && f.rest == g.rest {
				for _, p := range f.pieces {
					if changeKey(p.body) == changeKey(g.p.body) {
						g.first, g.p = f, p
						break
					}
				}
				break
			}
		}
	}
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].rest < groups[j].rest })
	for _, g := range groups {
		hs := hosts[key{g.rest, changeKey(g.p.body)}]
		fmt.Fprintf(w, "# the same change in %d hosts: %s\n", len(hs), strings.Join(hs, ", "))
		fmt.Fprintf(w, "--- %s\n+++ %s\n", hostsName(g.first.oldName, g.first.host), hostsName(g.first.newName, g.first.host))
		if g.p.header != "" {
			// The line numbers and context are the first host's; other hosts' may differ.
			fmt.Fprintf(w, "%s (lines and context of %s)\n", g.p.header, g.first.host)
		}
		fmt.Fprint(w, g.p.body)
	}
	for _, f := range files {
		var own []piece
		for _, p := range f.pieces {
			if !shared(f, p) {
				own = append(own, p)
			}
		}
		if len(own) == 0 {
			continue
		}
		fmt.Fprintf(w, "--- %s\n+++ %s\n", f.oldName, f.newName)
		for _, p := range own {
			if p.header != "" {
				fmt.Fprintln(w, p.header)
			}
			fmt.Fprint(w, p.body)
		}
	}
}

// hostsName replaces the host in a/hosts/<host>/... by "*".
func hostsName(name, host string) string {
	return strings.Replace(name, "/hosts/"+host+"/", "/hosts/*/", 1)
}
