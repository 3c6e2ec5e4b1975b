//go:build unix

package npm

import (
	"errors"
	"os"
	"syscall"
)

// ownFolder checks that dir is a folder of this user's that no one else may write to.
func ownFolder(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return errors.New("is not a folder")
	case !ok || int(st.Uid) != os.Getuid():
		return errors.New("belongs to another user")
	case fi.Mode().Perm()&0o022 != 0:
		return errors.New("others may write to it")
	}
	return nil
}
