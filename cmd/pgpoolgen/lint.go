package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"pgpoolgen/schema/conf"
	"pgpoolgen/schema/pgpool"
)

var lintCommand = &command{name: "lint", args: "PGPOOL.CONF --pgpool-version X.Y [--release X.Y.Z] [--pcp FILE] [--hba FILE]",
	summary: "check a hand-written pgpool.conf against a pgpool-II series",
	help: `Lint reads PGPOOL.CONF as pgpool-II's own parser does and reports, each as
file:line:col: name: severity: message,
  - syntax pgpool-II stops on, or reads otherwise than it looks (a value left out,
    a bare /tmp, two words, '' inside quotes);
  - names the series does not know (pgpool-II skips them without a word), with the
    nearest known name, and names of other series (renamed, removed, added later);
  - with --release, names that minor release does not read yet (4.3.5 and
    notice_per_node_statement);
  - values of the wrong type, out of range, or not one of the allowed words;
  - a setting given twice (pgpool-II takes the last one);
  - settings that defeat high availability: health checking off with failover_command
    set, streaming replication over three or more backends with no follow command,
    empty check users where the series' default became empty, passwords in clear.
From 4.3, included files are read too. --pcp checks a pcp.conf, --hba a pool_hba.conf.

Exit status: 0 nothing wrong (warnings alone, unless --strict), 1 errors (or warnings
with --strict), 2 the command line is wrong or a file cannot be read.`,
	flags: func(fs *pflag.FlagSet) {
		fs.String("pgpool-version", "", "pgpool-II series the file is for, such as 4.3 (taken from --release if not given)")
		fs.String("release", "", "exact pgpool-II release, such as 4.3.5")
		fs.String("pcp", "", "also check this pcp.conf")
		fs.String("hba", "", "also check this pool_hba.conf")
		fs.String("format", "text", "text, or json for CI")
		fs.Bool("strict", false, "exit 1 on warnings too")
	},
	run: runLint}

// lintFinding is one diagnostic in --format json.
type lintFinding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

func runLint(c *command, fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "pgpoolgen lint: "+format+"\nusage: pgpoolgen lint %s\n", append(a, c.args)...)
		return exitUsage
	}
	if len(args) != 1 {
		return usageErr("want one pgpool.conf, got %d arguments", len(args))
	}
	series, _ := fs.GetString("pgpool-version")
	release, _ := fs.GetString("release")
	format, _ := fs.GetString("format")
	strict, _ := fs.GetBool("strict")
	pcp, _ := fs.GetString("pcp")
	hba, _ := fs.GetString("hba")
	if format != "text" && format != "json" {
		return usageErr("--format is text or json, not %q", format)
	}
	opt := conf.Options{ReadFile: readBounded}
	if release != "" {
		r, err := pgpool.ParseRelease(release)
		if err != nil {
			return usageErr("--release: %v", err)
		}
		opt.Release = &r
		if series == "" {
			series = r.Version.String()
		}
	}
	if series == "" {
		return usageErr("--pgpool-version is required (the series the file is for: %s)", pgpool.SeriesList())
	}
	v, err := pgpool.ParseVersion(series)
	if err != nil || !v.Known() {
		return usageErr("--pgpool-version %q: pgpoolgen knows %s", series, pgpool.SeriesList())
	}
	if opt.Release != nil && opt.Release.Version != v {
		return usageErr("--release %s is not of series %s", opt.Release, v)
	}
	opt.Version = v

	var ds []conf.Diagnostic
	src, err := readBounded(args[0])
	if err != nil {
		return usageErr("%v", err)
	}
	ds = append(ds, conf.Lint(args[0], src, opt).Diagnostics...)
	if pcp != "" {
		data, err := readBounded(pcp)
		if err != nil {
			return usageErr("%v", err)
		}
		ds = append(ds, conf.LintPCP(pcp, data)...)
	}
	if hba != "" {
		data, err := readBounded(hba)
		if err != nil {
			return usageErr("%v", err)
		}
		ds = append(ds, conf.LintHBA(hba, data, v)...)
	}

	errs, warns := 0, 0
	for _, d := range ds {
		if d.Severity == conf.Error {
			errs++
		} else {
			warns++
		}
	}
	if format == "json" {
		out := struct {
			Version  string        `json:"pgpool_version"`
			Release  string        `json:"release,omitempty"`
			Errors   int           `json:"errors"`
			Warnings int           `json:"warnings"`
			Findings []lintFinding `json:"findings"`
		}{Version: v.String(), Errors: errs, Warnings: warns, Findings: []lintFinding{}}
		if opt.Release != nil {
			out.Release = opt.Release.String()
		}
		for _, d := range ds {
			out.Findings = append(out.Findings, lintFinding{d.File, d.Pos.Line, d.Pos.Col, d.Name, d.Severity.String(), d.Msg})
		}
		data, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintf(stdout, "%s\n", data)
	} else {
		for _, d := range ds {
			fmt.Fprintln(stdout, d)
		}
		if len(ds) > 0 {
			fmt.Fprintf(stdout, "pgpoolgen lint: %d %s, %d %s (pgpool-II %s)\n", errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"), v)
		}
	}
	if errs > 0 || strict && warns > 0 {
		return exitSpec
	}
	return exitOK
}

// readBounded reads a regular file of at most conf.MaxFileSize bytes: a bigger one is refused
// before it is read whole.
func readBounded(name string) ([]byte, error) {
	// A FIFO or a device would block or never end: only a regular file is read.
	if info, err := os.Stat(name); err == nil && !info.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot read %s: not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, conf.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if len(data) > conf.MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: it is no pgpool-II configuration file", name, conf.MaxFileSize)
	}
	return data, nil
}
