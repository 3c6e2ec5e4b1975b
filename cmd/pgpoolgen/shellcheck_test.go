package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestScriptsPassShellcheck runs bash -n and shellcheck on every script of every golden bundle:
// the setup scripts and the HA scripts (every file the manifest gives mode 0755).
func TestScriptsPassShellcheck(t *testing.T) {
	shellcheck := realProgram(t, "shellcheck")
	n := 0
	for _, name := range goldenCases(t) {
		bundle := filepath.Join(goldenDir, name, "bundle")
		for _, f := range readManifest(t, bundle).Files {
			if f.Mode != "0755" {
				continue
			}
			n++
			p := filepath.Join(bundle, f.Path)
			if out, err := exec.Command("bash", "-n", p).CombinedOutput(); err != nil {
				t.Errorf("bash -n %s: %v\n%s", p, err, out)
			}
			if out, err := exec.Command(shellcheck, "-s", "bash", p).CombinedOutput(); err != nil {
				t.Errorf("shellcheck %s: %v\n%s", p, err, out)
			}
		}
	}
	if n < 8 {
		t.Errorf("checked %d scripts; the golden bundles should hold more", n)
	}
}
