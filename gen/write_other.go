//go:build !linux

package gen

// exchangeDirs has no atomic form here, so Write uses its two-rename swap and the next build's
// recovery.
func exchangeDirs(a, b string) error { return errNoExchange }

func renameNoReplace(from, to string) error { return renameIfMissing(from, to) }

// lockDir does nothing here: concurrent builds into one folder are the user's to avoid.
func lockDir(dir string) (unlock func(), err error) { return func() {}, nil }
