package gen

import (
	"crypto/ed25519"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"pgpoolgen/schema"
)

var benchEnv = schema.Env{
	LookupEnv: func(string) (string, bool) { return "bench-password", true },
	ReadFile:  os.ReadFile,
}

// BenchmarkBuild measures loading, validating and rendering each golden spec in memory (no
// disk writes): go test -run '^$' -bench . ./gen
func BenchmarkBuild(b *testing.B) {
	for _, name := range []string{"seed-master-slave", "seed-replication", "debian-streaming", "wide-ipv6-native"} {
		file := filepath.Join("..", "golden", name, "cluster.toml")
		src, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) { benchBuild(b, file, src) })
	}
}

// BenchmarkGenerate128 measures the same for the largest cluster pgpool-II takes: one pgpool
// host and 128 backends, every one with an ssh key and a host key, so that the trust graph
// (16,384 edges) and every authorized_keys and known_hosts file are at their largest:
// go test -run '^$' -bench Generate128 -benchmem ./gen
func BenchmarkGenerate128(b *testing.B) {
	benchBuild(b, "big.toml", bigSpec(128))
}

func benchBuild(b *testing.B, file string, src []byte) {
	b.ReportAllocs()
	for b.Loop() {
		c, err := schema.Load(file, src, benchEnv)
		if err != nil {
			b.Fatal(err)
		}
		bundle := Generate(c)
		_ = bundle.Manifest()
	}
}

// write128 lets the spec of BenchmarkGenerate128 be measured as a whole process too:
// go test ./gen -run TestBigSpec -args -write128=/tmp/big.toml
// /usr/bin/time -v bin/pgpoolgen build /tmp/big.toml -o /tmp/big-out
var write128 = flag.String("write128", "", "write the 128-backend spec of BenchmarkGenerate128 to this file")

// TestBigSpec checks that the benchmark's spec is valid, so that the benchmark measures a
// whole build rather than an early error.
func TestBigSpec(t *testing.T) {
	src := bigSpec(128)
	c, err := schema.Load("big.toml", src, benchEnv)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Backends) != 128 || len(c.Trust) != 128+128*127 {
		t.Fatalf("%d backends and %d trust edges; want 128 and %d", len(c.Backends), len(c.Trust), 128+128*127)
	}
	if *write128 != "" {
		if err := os.WriteFile(*write128, src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// bigSpec writes a valid streaming replication spec with one pgpool host and n backends, each
// with an ssh key and a host key of its own (ed25519, from fixed seeds).
func bigSpec(n int) []byte {
	key := func(seed int) string {
		var s [ed25519.SeedSize]byte
		copy(s[:], fmt.Sprintf("pgpoolgen bench key %d", seed))
		pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(s[:]).Public())
		if err != nil {
			panic(err)
		}
		return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	}
	var b strings.Builder
	b.WriteString(`[cluster]
name = "big"
mode = "streaming_replication"
pgpool_version = "4.3"
postgresql_version = "15"

[layout]
preset = "debian"

[[pcp_user]]
name = "pgpool"
md5 = "9b3a625e6e238d2161ca6caea6d16aca" # pg_md5 bench-password

[[hba]]
address = "10.0.0.0/8"
method = "scram-sha-256"
`)
	host := func(i int, name, addr, role string) {
		fmt.Fprintf(&b, "\n[[host]]\nname = %q\naddress = %q\nroles = [%q]\nssh_key = %q\nhost_key = %q\n",
			name, addr, role, key(2*i), key(2*i+1))
	}
	host(0, "pgpool", "10.0.0.1", "pgpool")
	for i := 0; i < n; i++ {
		role := "standby"
		if i == 0 {
			role = "primary"
		}
		host(i+1, fmt.Sprintf("node%d", i), fmt.Sprintf("10.0.%d.%d", 1+i/250, 1+i%250), role)
	}
	return []byte(b.String())
}

// BenchmarkCompare128 measures what `pgpoolgen diff` and `build --check` spend reading out/
// back: the 128-backend bundle on disk against itself (nothing differs), and against the
// bundle of the same spec with one ssh setting changed, which changes a line in every
// backend's scripts: go test -run '^$' -bench Compare128 -benchmem ./gen
func BenchmarkCompare128(b *testing.B) {
	src := bigSpec(128)
	c, err := schema.Load("big.toml", src, benchEnv)
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "out")
	if err := Write(out, Generate(c), WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	changed := strings.Replace(string(src), "[[pcp_user]]", "[ssh]\nconnect_timeout = 7\n\n[[pcp_user]]", 1)
	c2, err := schema.Load("big.toml", []byte(changed), benchEnv)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		c     *schema.Cluster
		diffs bool
	}{{"same", c, false}, {"every-backend-changed", c2, true}} {
		bundle := Generate(tc.c)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := Compare(out, bundle)
				if err != nil {
					b.Fatal(err)
				}
				if (len(d) > 0) != tc.diffs {
					b.Fatalf("%d differences; want some: %v", len(d), tc.diffs)
				}
			}
		})
	}
}
