package schema

import (
	"fmt"
	"strings"
	"testing"
)

// TestPresetsInDocs: docs/spec.md's table of preset values is Presets, path for path and
// preset for preset, with <PG> for the PostgreSQL version, and [install] method's default.
func TestPresetsInDocs(t *testing.T) {
	lines := specDoc(t)
	var header string
	for i, l := range lines {
		if strings.HasPrefix(l, "Preset values (") {
			header = lines[i+2]
		}
	}
	cols := strings.Split(strings.Trim(header, "| "), " | ")
	if len(cols) != len(Presets)+1 {
		t.Fatalf("the preset table's header %q has %d columns, want Key and %d presets", header, len(cols), len(Presets))
	}
	for i, p := range Presets {
		if !strings.HasPrefix(cols[i+1], "`"+p.Name+"`") {
			t.Errorf("column %d of the preset table is %q, want preset %q", i+1, cols[i+1], p.Name)
		}
	}
	var presetRows []string
	for i, l := range lines {
		if l == header {
			for _, r := range lines[i+2:] {
				if !strings.HasPrefix(r, "|") {
					break
				}
				presetRows = append(presetRows, r)
			}
		}
	}
	if len(presetRows) == 0 {
		t.Fatal("docs/spec.md has no table of preset values")
	}
	seen := map[string]bool{}
	for _, r := range presetRows {
		cells := strings.Split(strings.Trim(r, "| "), " | ")
		key := strings.Trim(cells[0], "`")
		seen[key] = true
		for i, p := range Presets {
			want := ""
			lay := p.Layout
			if key == "[install] method" {
				want = p.Install
			} else {
				found := false
				for _, f := range lay.paths() {
					if f.key == key {
						want, found = strings.ReplaceAll(*f.dst, "%s", "<PG>"), true
					}
				}
				if !found {
					t.Errorf("the preset table's row %q is no layout path", key)
					continue
				}
			}
			cell := cells[i+1]
			got := cell[1 : strings.Index(cell[1:], "`")+1]
			if want == "" {
				want = `""`
			} else if key == "[install] method" {
				want = fmt.Sprintf("%q", want)
			}
			if got != want {
				t.Errorf("docs/spec.md: %s of preset %s is %q, Presets say %q", key, p.Name, got, want)
			}
		}
	}
	for _, f := range (&Layout{}).paths() {
		if !seen[f.key] {
			t.Errorf("the preset table has no row for %s", f.key)
		}
	}
}

// TestRHELPreset: RHEL's paths with the PostgreSQL version in them, in 10+ and 9.x form; no
// software installed by default, and Debian's packages refused.
func TestRHELPreset(t *testing.T) {
	spec := func(pg, install string) string {
		s := strings.Replace(baseSpec, `preset = "debian"`, `preset = "rhel"`, 1)
		s = strings.Replace(s, `postgresql_version = "15"`, `postgresql_version = "`+pg+`"`, 1)
		return s + install
	}
	for pg, want := range map[string][3]string{"16": {"/usr/pgsql-16/bin", "/usr/pgsql-16/lib", "/var/lib/pgsql/16/data"}, "9.6": {"/usr/pgsql-9.6/bin", "/usr/pgsql-9.6/lib", "/var/lib/pgsql/9.6/data"}} {
		c := mustLoad(t, "rhel.toml", spec(pg, ""))
		lay := c.Layout
		if got := [3]string{lay.PostgresBinDir, lay.PostgresLibDir, lay.DataDirectory}; got != want {
			t.Errorf("PostgreSQL %s: bin, lib, data %q, want %q", pg, got, want)
		}
		if lay.PgpoolConfigDir != "/etc/pgpool-II" || lay.PgpoolBinDir != "/usr/bin" || lay.Home != "/var/lib/pgsql" || lay.PostgresConfigDir != "" {
			t.Errorf("PostgreSQL %s: layout %+v", pg, lay)
		}
		if c.Install.Method != "none" {
			t.Errorf("PostgreSQL %s: install method %q, want none", pg, c.Install.Method)
		}
	}
	_, err := Load("rhel.toml", []byte(spec("16", "\n[install]\nmethod = \"package\"\n")), testEnv)
	if err == nil || !strings.Contains(err.Error(), `install.method: "package" installs Debian's packages, which need preset = "debian"`) {
		t.Errorf("rhel with method = \"package\": %v, want it refused", err)
	}
}
