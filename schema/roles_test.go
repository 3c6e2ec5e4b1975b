package schema

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRolesSecrets: pgpool-II's own users (health check, recovery) get an apply-time password
// and an AES entry exactly where pgpool-II sends one: from 4.0, to backends that ask for it.
// With hba_method = "trust" nothing asks, and a pgpool-II built without OpenSSL (which cannot
// read an AES entry) runs the bundle.
func TestRolesSecrets(t *testing.T) {
	spec := func(series, postgresql string) string {
		s := wdSpec(series, 1, "")
		s = strings.Replace(s, "\n[watchdog]\n\n", "\n[postgresql]\n"+postgresql+"\n", 1)
		return s
	}
	for _, tc := range []struct {
		series, postgresql string
		secrets            bool
	}{
		{"4.3", "", true},
		{"4.3", `hba_method = "md5"`, true},
		{"4.3", `hba_method = "trust"`, false},
		{"3.7", `hba_method = "md5"`, false}, // before 4.0 pgpool-II sends no password of its own users
	} {
		c, err := Load(filepath.Join("..", "golden", "errors", "roles.toml"), []byte(spec(tc.series, tc.postgresql)), testEnv)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.series, tc.postgresql, err)
		}
		for _, r := range c.Roles {
			pgpools := r.Name == c.HealthCheck.User || r.Name == c.Recovery.User
			if !pgpools {
				continue
			}
			if (r.Secret != "") != tc.secrets || r.PoolPasswd != tc.secrets {
				t.Errorf("%s %q: role %s has secret %q, pool_passwd %v; want a secret and an AES entry: %v", tc.series, tc.postgresql, r.Name, r.Secret, r.PoolPasswd, tc.secrets)
			}
		}
	}
}
