package main

import (
	"io"

	"github.com/spf13/pflag"

	"pgpoolgen/gen"
)

var explainCommand = &command{name: "explain", args: "SPEC",
	summary: "print the cluster's summary: the bundle's README.md for a terminal",
	help: `Explain reads and validates SPEC exactly as check does, renders the bundle in memory, and
prints what the bundle's README.md says, as plain text: what the cluster is, its topology, the
ssh trust and what each login is for, the files of every host with their owner, group and
mode, the secrets to deliver and where, and the order in which to apply the bundle, with the
commands. The Mermaid picture is in README.md only. It writes nothing.

Exit status: as check: 0 success, 1 the spec is wrong (every problem listed), 2 the command
line is wrong.`,
	run: runExplain}

func runExplain(c *command, _ *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	cluster, status := load(c, args, stderr)
	if cluster == nil {
		return status
	}
	stdout.Write(gen.Explain(cluster, gen.Generate(cluster)))
	return exitOK
}
