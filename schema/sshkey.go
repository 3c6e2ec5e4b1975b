package schema

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// A PublicKey is an OpenSSH public key from the spec, parsed and checked. Line is its canonical
// authorized_keys form, "type base64", without options or comment: the comment a user wrote
// is free text and never reaches a generated file.
type PublicKey struct {
	Type string // ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, …
	Bits int    // for RSA
	Line string
}

// minRSABits is the smallest RSA key accepted: OpenSSH itself refuses shorter ones since 8.8.
const minRSABits = 2048

// parsePublicKey reads one public key in authorized_keys or .pub form and checks that OpenSSH
// still accepts its algorithm.
func parsePublicKey(text string) (*PublicKey, error) {
	text = strings.TrimSpace(text)
	if strings.Contains(text, "PRIVATE KEY") {
		return nil, fmt.Errorf("is a private key; give the public key (the .pub file), and keep the private key out of the spec")
	}
	if strings.Count(text, "\n") > 0 {
		return nil, fmt.Errorf("holds more than one line; give one public key")
	}
	key, _, options, _, err := ssh.ParseAuthorizedKey([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("is not an OpenSSH public key (%v); give a line such as \"ssh-ed25519 AAAA… user@host\"", err)
	}
	if len(options) > 0 {
		return nil, fmt.Errorf("carries authorized_keys options (%s); give the bare key: pgpoolgen writes the options itself", strings.Join(options, ","))
	}
	pk := &PublicKey{Type: key.Type()}
	switch key.Type() {
	case ssh.KeyAlgoDSA:
		return nil, fmt.Errorf("is a DSA key, which OpenSSH refuses since 7.0 and no longer builds since 9.8; make an ed25519 key with ssh-keygen -t ed25519")
	case ssh.KeyAlgoRSA:
		// x/crypto/ssh gives every ssh-rsa key as an *rsa.PublicKey.
		pk.Bits = key.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey).N.BitLen()
		if pk.Bits < minRSABits {
			return nil, fmt.Errorf("is a %d-bit RSA key; OpenSSH refuses RSA keys under %d bits: make an ed25519 key (ssh-keygen -t ed25519) or an RSA key of 3072 bits", pk.Bits, minRSABits)
		}
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
	default:
		return nil, fmt.Errorf("is a %s key; pgpoolgen accepts ed25519, ECDSA and RSA (2048 bits or more)", key.Type())
	}
	pk.Line = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	return pk, nil
}

// publicKey reads a key given inline (key) or as a file relative to the spec (key_file).
func (l *loader) publicKey(t *table, key, fileKey string) *PublicKey {
	if t.has(key) && t.has(fileKey) {
		l.d.atKey(t.at(fileKey), "give either %s or %s, not both", key, fileKey)
		t.get(key)
		t.get(fileKey)
		return nil
	}
	var text, at string
	if s, ok := t.str(key); ok {
		text, at = s, t.at(key)
	} else if t.has(fileKey) {
		data, _, ok := l.readFile(t, fileKey)
		if !ok {
			return nil
		}
		text, at = string(data), t.at(fileKey)
	} else {
		return nil
	}
	pk, err := parsePublicKey(text)
	if err != nil {
		l.d.atValue(at, "%v", err)
		return nil
	}
	return pk
}

// readFile reads the file a key names, relative to the spec's folder unless absolute: a
// regular file of at most MaxFileSize bytes.
func (l *loader) readFile(t *table, key string) (data []byte, path string, ok bool) {
	name, ok := t.str(key)
	if !ok {
		return nil, "", false
	}
	path = name
	if !filepath.IsAbs(path) {
		path = filepath.Join(l.dir, path)
	}
	data, err := l.env.ReadFile(path)
	var notRegular notRegularError
	switch {
	case errors.As(err, &notRegular):
		l.d.atValue(t.at(key), "%s %v; pgpoolgen reads keys and passwords from regular files only", path, notRegular)
	case os.IsNotExist(err):
		l.d.atValue(t.at(key), "%s does not exist; a relative path is taken from the spec's folder", path)
	case err != nil:
		l.d.atValue(t.at(key), "%s cannot be read; a relative path is taken from the spec's folder", path)
	case len(data) > MaxFileSize:
		l.d.atValue(t.at(key), "%s is larger than %s, the most pgpoolgen reads for a key or a password; give the file that holds just the one line", path, sizeString(MaxFileSize))
	default:
		return data, path, true
	}
	return nil, path, false
}
