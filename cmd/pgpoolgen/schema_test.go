package main

import (
	"bytes"
	"os"
	"testing"
)

const schemaFile = "../../docs/pgpoolgen.schema.json"

// TestSchemaFile: docs/pgpoolgen.schema.json is exactly what "pgpoolgen schema" prints (make
// golden rewrites it).
func TestSchemaFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"schema"}, &stdout, &stderr); code != exitOK || stderr.Len() > 0 {
		t.Fatalf("pgpoolgen schema: exit %d, stderr %q", code, stderr.String())
	}
	if *update {
		if err := os.WriteFile(schemaFile, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("docs/pgpoolgen.schema.json is not what pgpoolgen schema prints; run make golden and read the diff")
	}
}

// TestSchemaArgs: the command takes no arguments.
func TestSchemaArgs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"schema", "cluster.toml"}, &stdout, &stderr); code != exitUsage || stdout.Len() > 0 {
		t.Errorf("pgpoolgen schema cluster.toml: exit %d, stdout %d bytes; want exit %d and nothing", code, stdout.Len(), exitUsage)
	}
}
