// Package goldencase reads the golden cases of golden/: each a folder holding cluster.toml,
// the bundle pgpoolgen builds from it in bundle/, and optionally test.env, the environment
// the build sees (NAME=value lines), as an operator would export pcp passwords before
// building. cmd/pgpoolgen's golden tests and make versions both read the cases through it.
package goldencase

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// List returns the names of the folders in dir that hold a cluster.toml, sorted.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, err
	}
	var cases []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "cluster.toml")); err == nil {
			cases = append(cases, e.Name())
		}
	}
	return cases, nil
}

// Env reads a case folder's test.env; a case without one has an empty environment.
func Env(caseDir string) (map[string]string, error) {
	env := map[string]string{}
	data, err := os.ReadFile(filepath.Join(caseDir, "test.env"))
	if os.IsNotExist(err) {
		return env, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s/test.env: %q is not NAME=value", caseDir, line)
		}
		env[k] = v
	}
	return env, sc.Err()
}
