package conf

import (
	"fmt"
	"path/filepath"

	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/text"
)

// Options say what Lint checks a pgpool.conf against.
type Options struct {
	Version pgpool.Version
	// Release, when set, is the exact minor release: names a later release of the series
	// added are then errors (Debian 12's 4.3.5 does not read notice_per_node_statement).
	Release *pgpool.Release
	// ReadFile reads an included file (4.3+); nil means includes are not followed.
	ReadFile func(string) ([]byte, error)
}

// A Result is what Lint read and found.
type Result struct {
	Settings    []Setting // in the order pgpool-II reads them, includes expanded
	Diagnostics []Diagnostic
}

// Lint reads a pgpool.conf (and, from 4.3, what it includes) and reports everything that
// pgpool-II of the given series would refuse, ignore, or take otherwise than it reads, and
// the settings that defeat high availability. The diagnostics are sorted by file and place.
func Lint(file string, src []byte, opt Options) Result {
	var r Result
	var files []string
	var read func(file string, src []byte, depth int)
	read = func(file string, src []byte, depth int) {
		files = append(files, file)
		if d, ok := bounded(file, src); !ok {
			r.Diagnostics = append(r.Diagnostics, d)
			return
		}
		add := func(s Setting) { r.Settings = append(r.Settings, s) }
		diags := parse(file, src, opt.Version, add, func(inc Setting) {
			path := inc.Value
			if !filepath.IsAbs(path) {
				path = filepath.Join(filepath.Dir(file), path)
			}
			fail := func(msg string) {
				r.Diagnostics = append(r.Diagnostics, Diagnostic{File: file, Pos: inc.ValuePos, Name: "include", Severity: Error, Msg: msg})
			}
			switch {
			case depth+1 > MaxIncludeDepth:
				fail(fmt.Sprintf("includes nest deeper than %d files: pgpool-II stops (maximum nesting depth exceeded)", MaxIncludeDepth))
			case len(files) >= MaxFiles:
				fail(fmt.Sprintf("more than %d files included: pgpoolgen lint reads no more", MaxFiles))
			case opt.ReadFile == nil:
			default:
				data, err := opt.ReadFile(path)
				if err != nil {
					fail(fmt.Sprintf("cannot read %s: pgpool-II stops with a syntax error when an included file cannot be opened", text.Visible(path)))
					return
				}
				read(path, data, depth+1)
			}
		})
		r.Diagnostics = append(r.Diagnostics, diags...)
	}
	read(file, src, 0)
	r.Diagnostics = append(r.Diagnostics, check(file, r.Settings, opt)...)
	sortDiagnostics(r.Diagnostics, files)
	return r
}
