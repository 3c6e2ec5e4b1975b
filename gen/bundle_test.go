package gen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"pgpoolgen/schema"
)

// manifest is what Manifest writes, for encoding/json: the field order is the JSON order.
type manifest struct {
	Format  int             `json:"format"`
	Cluster string          `json:"cluster"`
	Files   []manifestEntry `json:"files"`
	Trust   []trustEntry    `json:"trust"`
	Secrets []secretEntry   `json:"secrets"`
}

// TestManifestIsMarshalIndent holds Manifest, which writes its JSON itself, to what
// encoding/json's MarshalIndent makes of the same manifest: the golden bundles, the one of 128
// backends, and a bundle of strings that need escapes, empty lists and omitted fields.
func TestManifestIsMarshalIndent(t *testing.T) {
	bundles := map[string]*Bundle{}
	for _, name := range []string{"seed-master-slave", "seed-replication", "debian-streaming", "wide-ipv6-native"} {
		file := filepath.Join("..", "golden", name, "cluster.toml")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c, err := schema.Load(file, src, benchEnv)
		if err != nil {
			t.Fatal(err)
		}
		bundles[name] = Generate(c)
	}
	c, err := schema.Load("big.toml", bigSpec(128), benchEnv)
	if err != nil {
		t.Fatal(err)
	}
	bundles["128 backends"] = Generate(c)
	bundles["empty"] = &Bundle{}
	odd := []string{`"quoted" and \backslash\`, "<script>&amp;</script>", "a<b", "a>b", "a&b", `a"b`, `a\b`, "a\x7fb", "a\x1fb", "tab\tline\nbreak\r\x00\x1f\x7f",
		"é, ü and 日本", "line\u2028and\u2029paragraph", "invalid \xff\xfe UTF-8", "\u00e9\u0301", ""}
	weird := &Bundle{Cluster: odd[0]}
	for i, s := range odd {
		weird.Files = append(weird.Files, &File{Host: s, Dest: s, Name: s, Owner: s, Group: s, Mode: 0o640, Data: []byte(s)},
			&File{Name: s, Install: Read, Mode: 0o644})
		weird.Trust = append(weird.Trust, trustEntry{From: s, To: s, Why: odd[i:]}, trustEntry{From: s, To: s})
		weird.Secrets = append(weird.Secrets, secretEntry{Host: s, Name: s, Env: s, For: s})
	}
	weird.Trust = append(weird.Trust, trustEntry{Why: []string{}})
	bundles["odd strings"] = weird

	for name, b := range bundles {
		m := manifest{Format: manifestFormat, Cluster: b.Cluster, Files: b.entries(),
			Trust: append([]trustEntry{}, b.Trust...), Secrets: append([]secretEntry{}, b.Secrets...)}
		want, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if got := b.Manifest(); !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: Manifest differs from MarshalIndent at byte %d: got %q, want %q", name, i,
				got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
		}
	}
}
