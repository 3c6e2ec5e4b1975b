package schema

import (
	"fmt"
	"path/filepath"

	"pgpoolgen/schema/text"
)

// textFault is text.Fault under the name parameters.go calls it by (that file is being
// changed on another branch; the call can go to text.Fault once both are in).
func textFault(s string) string { return text.Fault(s) }

// maxSpecName bounds the spec's file name, which every generated file repeats: NAME_MAX, what
// a Linux file system allows anyway.
const maxSpecName = 255

// specName returns the spec's file name as generated files name it, or an error saying why it
// cannot be written there.
func specName(file string) (string, *Error) {
	const why = "it is written into the header comment of the generated files: rename the file to one without control, line-break or bidirectional characters"
	name := filepath.Base(file)
	msg := ""
	switch {
	case len(name) > maxSpecName:
		msg = fmt.Sprintf("the spec's file name is %d bytes long, more than the %d a file name has; %s", len(name), maxSpecName, why)
	case text.Fault(name) != "":
		msg = fmt.Sprintf("the spec's file name holds %s; %s", text.Fault(name), why)
	default:
		return name, nil
	}
	return "", &Error{File: file, Msg: msg}
}
