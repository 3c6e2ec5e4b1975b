package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"pgpoolgen/gen/jsonschema"
)

var schemaCommand = &command{name: "schema", summary: "print the JSON Schema of a cluster spec, for editors",
	help: `Schema prints the JSON Schema (draft-07) of a cluster spec: every table and key with its
type, default, allowed values, range and description, and additionalProperties false on every
table, so that a misspelt key is flagged. Editors that read JSON Schema for TOML (Taplo, VS
Code's Even Better TOML) then complete and check cluster.toml as it is typed:

    pgpoolgen schema > pgpoolgen.schema.json

and, as the first line of cluster.toml:

    #:schema ./pgpoolgen.schema.json

The schema is the same for every pgpool-II series; pgpoolgen check still decides which keys
the target series has and the rules between keys. docs/pgpoolgen.schema.json is a copy.`,
	run: runSchema}

func runSchema(c *command, _ *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "pgpoolgen %s: takes no arguments\n", c.name)
		return exitUsage
	}
	if _, err := stdout.Write(jsonschema.Render()); err != nil {
		fmt.Fprintf(stderr, "pgpoolgen %s: %v\n", c.name, err)
		return exitUsage
	}
	return exitOK
}
