//go:build !unix

package npm

import (
	"errors"
	"os"
)

// ownFolder checks that dir is a folder; file owners are a Unix matter.
func ownFolder(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New("is not a folder")
	}
	return nil
}
