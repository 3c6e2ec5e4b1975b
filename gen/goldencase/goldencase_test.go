package goldencase

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestListAndEnv(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b/cluster.toml", "a/cluster.toml", "a/test.env", "not-a-case/spec.toml", "c/test.env"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := List(dir); err != nil || !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("List = %q, %v; want a b", got, err)
	}
	os.WriteFile(filepath.Join(dir, "a/test.env"), []byte("# comment\n\nPCP_PASSWORD=s3=cret\n  OTHER=x  \n"), 0o644)
	if got, err := Env(filepath.Join(dir, "a")); err != nil || !reflect.DeepEqual(got, map[string]string{"PCP_PASSWORD": "s3=cret", "OTHER": "x"}) {
		t.Errorf("Env(a) = %q, %v", got, err)
	}
	if got, err := Env(filepath.Join(dir, "b")); err != nil || len(got) != 0 {
		t.Errorf("Env(b), no test.env: %q, %v; want empty", got, err)
	}
	os.WriteFile(filepath.Join(dir, "c/test.env"), []byte("NOEQUALS\n"), 0o644)
	if _, err := Env(filepath.Join(dir, "c")); err == nil || !strings.Contains(err.Error(), `"NOEQUALS" is not NAME=value`) {
		t.Errorf("Env(c) error %v, want the bad line named", err)
	}
}
