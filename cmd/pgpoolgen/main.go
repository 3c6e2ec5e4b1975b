// Command pgpoolgen compiles a pgpool-II cluster spec (TOML) into a bundle of configuration
// files for every host. See docs/spec.md for the spec.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"

	"pgpoolgen/gen"
	"pgpoolgen/schema"
	"pgpoolgen/schema/text"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Exit statuses.
const (
	exitOK    = 0
	exitSpec  = 1 // the spec is wrong
	exitUsage = 2 // the command line is wrong, or the output cannot be written
)

// version is set at link time by release builds (-ldflags "-X main.version=…"); otherwise the
// module version recorded by the Go toolchain is used.
var version = ""

type command struct {
	name    string
	args    string
	summary string
	help    string
	run     func(c *command, fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) int
	flags   func(fs *pflag.FlagSet)
}

var commands []*command

func init() {
	commands = []*command{
		{name: "build", args: "SPEC [-o DIR]", summary: "write the bundle for a cluster spec",
			help: `Build reads the cluster spec SPEC, validates it, and writes the bundle into DIR
(default "out"). The bundle is written to a staging folder beside DIR and swapped into
place only when complete, so DIR always holds the old or the new bundle. DIR must be
missing, empty, or a bundle that pgpoolgen wrote before; files of the old bundle that the
new one does not have are removed. A folder holding any file or folder that its
manifest.json does not list is refused untouched, and so is a bundle file edited since it
was written (its sha256 no longer matches the manifest) unless --force is given. Staging
folders left by an interrupted build are put back or removed by the next build.

Passwords named by password_env are read from the environment, and files named by
password_file from beside the spec; neither is ever written into the bundle.

With --check, build writes nothing and does what "pgpoolgen diff" does: exit 0 when DIR is
exactly what the spec builds, 1 with a unified diff on stdout when it is not, 2 when the spec
or the command line is wrong or DIR cannot be read.`,
			flags: func(fs *pflag.FlagSet) {
				fs.StringP("output", "o", "out", "folder to write the bundle into")
				fs.BoolP("verbose", "v", false, "list the files written")
				fs.Bool("force", false, "replace bundle files edited since pgpoolgen wrote them (other files still refuse)")
				fs.Bool("check", false, "write nothing: exit 0 if DIR is what the spec builds, 1 with the diff if not, 2 on errors (as diff)")
			},
			run: runBuild},
		{name: "check", args: "SPEC", summary: "validate a cluster spec without writing anything",
			help: `Check reads and validates the cluster spec SPEC exactly as build does, renders the
bundle in memory, and writes nothing. It prints every problem at once.`,
			run: runCheck},
		initCommand,
		explainCommand,
		diffCommand,
		lintCommand,
		schemaCommand,
		{name: "version", summary: "print pgpoolgen's version", help: "Version prints pgpoolgen's version.",
			run: runVersion},
		{name: "help", args: "[COMMAND]", summary: "show help for pgpoolgen or a command",
			help: "Help shows how to use pgpoolgen, or one of its commands.", run: runHelp},
	}
}

func find(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run is the whole program; main only turns its result into an exit status, so tests call it
// in process.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help":
		usage(stdout)
		return exitOK
	case "--version":
		return runVersion(nil, nil, nil, stdout, stderr)
	}
	c := find(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "pgpoolgen: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	if c.flags != nil {
		c.flags(fs)
	}
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args[1:]); err != nil {
		fmt.Fprintf(stderr, "pgpoolgen %s: %v\n", c.name, err)
		fmt.Fprintf(stderr, "usage: pgpoolgen %s %s (see pgpoolgen help %s)\n", c.name, c.args, c.name)
		return exitUsage
	}
	if *help {
		commandHelp(stdout, c, fs)
		return exitOK
	}
	return c.run(c, fs, fs.Args(), stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, "pgpoolgen compiles a pgpool-II cluster spec into a bundle of configuration files.\n\n")
	fmt.Fprint(w, "Usage:\n  pgpoolgen COMMAND [ARGUMENTS]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun \"pgpoolgen help COMMAND\" or \"pgpoolgen COMMAND --help\" for more.\n")
	fmt.Fprint(w, "Exit status: 0 success, 1 the spec is wrong, 2 the command line is wrong or the output\ncannot be written.\n")
	fmt.Fprint(w, "diff and build --check: 0 the folder is what the spec builds, 1 it differs, 2 any error\n(the spec or the command line is wrong, the folder cannot be read).\n")
}

func commandHelp(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "Usage: pgpoolgen %s %s\n\n%s\n", c.name, c.args, c.help)
	if fs != nil && fs.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
	}
}

func runHelp(_ *command, _ *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	switch len(args) {
	case 0:
		usage(stdout)
		return exitOK
	case 1:
		c := find(args[0])
		if c == nil {
			fmt.Fprintf(stderr, "pgpoolgen help: unknown command %q\n", args[0])
			return exitUsage
		}
		fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
		fs.SortFlags = false
		if c.flags != nil {
			c.flags(fs)
		}
		fs.BoolP("help", "h", false, "show this help")
		commandHelp(stdout, c, fs)
		return exitOK
	}
	fmt.Fprintln(stderr, "usage: pgpoolgen help [COMMAND]")
	return exitUsage
}

func runVersion(_ *command, _ *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: pgpoolgen version")
		return exitUsage
	}
	v := version
	if v == "" {
		v = "(devel)"
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
			v = info.Main.Version
		}
	}
	fmt.Fprintf(stdout, "pgpoolgen %s\n", v)
	return exitOK
}

// load reads and validates a spec, printing its problems. ok is false on failure, with the
// exit status to return.
func load(c *command, args []string, stderr io.Writer) (*schema.Cluster, int) {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "pgpoolgen %s: want one spec file, got %d arguments\nusage: pgpoolgen %s %s\n", c.name, len(args), c.name, c.args)
		return nil, exitUsage
	}
	file := args[0]
	src, err := schema.ReadSpec(file) // regular files only, and bounded: Load checks the size
	if err != nil {
		fmt.Fprintf(stderr, "pgpoolgen %s: cannot read the spec: %v\n", c.name, err)
		return nil, exitUsage
	}
	cluster, err := schema.Load(file, src, schema.Env{LookupEnv: os.LookupEnv, ReadFile: schema.ReadFile})
	if err != nil {
		var list schema.ErrorList
		if errors.As(err, &list) {
			fmt.Fprintln(stderr, list.Error())
			fmt.Fprintf(stderr, "pgpoolgen %s: %d %s in %s\n", c.name, len(list), plural(len(list), "problem", "problems"), text.Visible(file))
		} else {
			fmt.Fprintf(stderr, "pgpoolgen %s: %v\n", c.name, err)
		}
		return nil, exitSpec
	}
	for _, w := range cluster.Warnings {
		fmt.Fprintln(stderr, w.Warning())
	}
	return cluster, exitOK
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func runCheck(c *command, _ *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	cluster, status := load(c, args, stderr)
	if cluster == nil {
		return status
	}
	b := gen.Generate(cluster)
	fmt.Fprintf(stdout, "%s: cluster %q is valid: %d hosts, %d backends, %d files\n", args[0], cluster.Name, len(cluster.Hosts), len(cluster.Backends), len(b.Files)+1)
	return exitOK
}

func runBuild(c *command, fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if check, _ := fs.GetBool("check"); check {
		force, _ := fs.GetBool("force")
		verbose, _ := fs.GetBool("verbose")
		if force || verbose {
			fmt.Fprintln(stderr, "pgpoolgen build: --check writes nothing, so it takes neither --force nor --verbose")
			return exitFailed
		}
		out, _ := fs.GetString("output")
		return diffBundle(c, args, out, false, stdout, stderr)
	}
	cluster, status := load(c, args, stderr)
	if cluster == nil {
		return status
	}
	out, _ := fs.GetString("output")
	verbose, _ := fs.GetBool("verbose")
	force, _ := fs.GetBool("force")
	if strings.TrimSpace(out) == "" {
		fmt.Fprintln(stderr, "pgpoolgen build: -o needs a folder")
		return exitUsage
	}
	b := gen.Generate(cluster)
	if err := gen.Write(out, b, gen.WriteOptions{Force: force}); err != nil {
		fmt.Fprintf(stderr, "pgpoolgen build: %v\n", err)
		return exitUsage
	}
	if verbose {
		for _, f := range b.Files {
			fmt.Fprintf(stdout, "%s %s  %s -> %s:%s\n", modeOf(f), f.Owner+":"+f.Group, f.Path(), f.Host, f.Dest)
		}
	}
	fmt.Fprintf(stdout, "wrote %d files for cluster %q to %s\n", len(b.Files)+1, cluster.Name, out)
	return exitOK
}

func modeOf(f *gen.File) string { return fmt.Sprintf("%04o", f.Mode.Perm()) }
