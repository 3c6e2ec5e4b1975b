package gen

import (
	"os"
	"path/filepath"
	"testing"

	"pgpoolgen/schema"
)

// BenchmarkBuild measures loading, validating and rendering each golden spec in memory (no
// disk writes): go test -run '^$' -bench . ./gen
func BenchmarkBuild(b *testing.B) {
	env := schema.Env{
		LookupEnv: func(string) (string, bool) { return "bench-password", true },
		ReadFile:  os.ReadFile,
	}
	for _, name := range []string{"seed-master-slave", "seed-replication", "debian-streaming", "wide-ipv6-native"} {
		file := filepath.Join("..", "golden", name, "cluster.toml")
		src, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := schema.Load(file, src, env)
				if err != nil {
					b.Fatal(err)
				}
				bundle := Generate(c)
				_ = bundle.Manifest()
			}
		})
	}
}
