package schema

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// Limits on what Load reads. They are far above any real cluster (the largest, 128 backends
// with every key and a few hundred parameters, is some 40 kB, 1,500 values and depth 3), and
// low enough that neither the TOML library nor the checks can be made to take long or use
// much memory.
const (
	// MaxSpecSize is the largest spec Load reads, in bytes.
	MaxSpecSize = 1 << 20
	// MaxFileSize is the largest file a spec may name (ssh_key_file, host_key_file,
	// password_file), in bytes: an RSA key of 16384 bits is under 3 kB.
	MaxFileSize = 8 << 10
	// MaxDepth is how deeply arrays and inline tables may nest, table headers included.
	MaxDepth = 16
	// MaxValues is how many keys and array elements a spec may hold.
	MaxValues = 50000
	// MaxReported is how many problems ErrorList.Error lists; a last line counts the rest.
	MaxReported = 100
)

// ReadSpec reads a spec file for Load: a regular file only, and no more than MaxSpecSize+1
// bytes, so that Load can tell that it is too large without reading all of it.
func ReadSpec(name string) ([]byte, error) { return readRegular(name, MaxSpecSize) }

// ReadFile reads a file that a spec names, for Env.ReadFile: a regular file only, and no more
// than MaxFileSize+1 bytes.
func ReadFile(name string) ([]byte, error) { return readRegular(name, MaxFileSize) }

// readRegular reads at most limit+1 bytes of the regular file name. It opens without blocking,
// so that a named pipe with no writer cannot hang the build, and refuses anything that fstat
// does not call a regular file (a pipe, a device such as /dev/zero that never ends, a folder)
// before reading a byte.
func readRegular(name string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: notRegularError{fi.Mode()}}
	}
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// A notRegularError says what a path is instead of a regular file.
type notRegularError struct{ mode fs.FileMode }

func (e notRegularError) Error() string {
	what := "not a regular file"
	switch t := e.mode.Type(); {
	case t&fs.ModeDir != 0:
		what = "a folder"
	case t&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case t&fs.ModeSocket != 0:
		what = "a socket"
	case t&fs.ModeDevice != 0:
		what = "a device"
	}
	return "is " + what + ", not a regular file"
}

// sizeString writes a limit in bytes for people: 8 KiB, 1 MiB.
func sizeString(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// checkBounds scans the source before the TOML library sees it, and reports the first limit it
// crosses, where it crosses it: the library's time and memory grow much faster than the input
// with nesting, so the input it gets must be bounded first. The scan knows just enough TOML
// (strings, comments, brackets) to find brackets, '=' and ',' that are not inside a string or
// a comment; on valid TOML it counts exactly, and on invalid TOML the library reports the
// syntax error.
func checkBounds(file string, src []byte) *Error {
	if len(src) > MaxSpecSize {
		return &Error{File: file, Msg: fmt.Sprintf("the spec is larger than %s (%d bytes), the most pgpoolgen reads; a cluster spec is a few kilobytes", sizeString(MaxSpecSize), MaxSpecSize)}
	}
	var (
		line, col = 1, 1
		stack     []byte // the open brackets, '[' or '{'
		values    int
	)
	limitAt := func(msg string, args ...any) *Error {
		return &Error{File: file, Pos: Pos{line, col}, Msg: fmt.Sprintf(msg, args...)}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '\n':
			line, col = line+1, 1
			continue
		case '#':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			end := i + stringLen(src[i:])
			for _, b := range src[i:end] {
				switch {
				case b == '\n':
					line, col = line+1, 1
				case b&0xc0 != 0x80: // the first byte of a character
					col++
				}
			}
			i = end - 1
			continue
		case '[', '{':
			if len(stack) == MaxDepth {
				return limitAt("arrays and tables nest more than %d deep here; a cluster spec needs 3", MaxDepth)
			}
			stack = append(stack, c)
		case ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case '=', ',':
			if c == ',' && (len(stack) == 0 || stack[len(stack)-1] != '[') {
				break
			}
			if values++; values > MaxValues {
				return limitAt("the spec holds more than %d keys and array elements; a cluster spec needs a few thousand at most", MaxValues)
			}
		}
		if c&0xc0 != 0x80 {
			col++
		}
	}
	return nil
}

// stringLen returns the length of the TOML string that src starts with, quotes included: a
// basic or literal string, or a multi-line one (three quotes, and up to two more quotes at the
// end, which belong to the text). A one-line string that is not closed ends at the line break.
func stringLen(src []byte) int {
	q := src[0]
	if len(src) >= 3 && src[1] == q && src[2] == q {
		for j := 3; j+2 < len(src); j++ {
			switch {
			case q == '"' && src[j] == '\\':
				j++
			case src[j] == q && src[j+1] == q && src[j+2] == q:
				j += 3
				for n := 0; n < 2 && j < len(src) && src[j] == q; n++ {
					j++
				}
				return j
			}
		}
		return len(src)
	}
	for j := 1; j < len(src); j++ {
		switch {
		case src[j] == '\n':
			return j
		case q == '"' && src[j] == '\\':
			j++
		case src[j] == q:
			return j + 1
		}
	}
	return len(src)
}
