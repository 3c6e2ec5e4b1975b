package conf

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"pgpoolgen/schema/pgpool"
)

// pcpHashRE is pg_md5's output, the only form pcp.conf holds.
var pcpHashRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// maxUserPasswd is MAX_USER_PASSWD_LEN, the longest user or hash pcp_worker.c reads.
const maxUserPasswd = 128

// LintPCP checks a pcp.conf as pcp_worker.c's user_authenticate reads it: one user:md5hex a
// line, a line starting with '#' or empty skipped, nothing else. A line without ':' sends
// the reader past its end, so no pcp command authenticates.
func LintPCP(file string, src []byte) []Diagnostic {
	if d, ok := bounded(file, src); !ok {
		return []Diagnostic{d}
	}
	var ds []Diagnostic
	add := func(line, col int, name string, sev Severity, format string, args ...any) {
		ds = append(ds, Diagnostic{File: file, Pos: Pos{line, col}, Name: name, Severity: sev, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	lines := strings.Split(string(src), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		n := i + 1
		if l == "" || l[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(l, ":")
		switch {
		case !ok:
			add(n, 1, "", Error, "a line without ':' (only an empty line or one starting with '#' is skipped): pgpool-II's reader runs past it and pcp logins fail; write user:md5hash")
			continue
		case user == "":
			add(n, 1, "", Error, "no user name before ':'")
			continue
		case strings.TrimSpace(user) != user:
			add(n, 1, user, Error, "spaces around the user name are part of it: pgpool-II compares the name as written")
		case len(user) > maxUserPasswd:
			add(n, 1, "", Error, "a user name longer than %d bytes: pgpool-II refuses every pcp login", maxUserPasswd)
			continue
		}
		hcol := len([]rune(user)) + 2
		switch {
		case strings.HasSuffix(hash, "\r"):
			add(n, hcol, user, Error, "the line ends in a carriage return, which pgpool-II takes as part of the hash: save the file with Unix line ends")
		case !pcpHashRE.MatchString(hash):
			add(n, hcol, user, Error, "not an md5 hash: pcp.conf holds pg_md5's output (32 lowercase hex digits), never the password itself")
		}
		if prev, dup := seen[user]; dup {
			add(n, 1, user, Warning, "listed again (first on line %d): pgpool-II accepts the password of any of its lines", prev)
		} else {
			seen[user] = n
		}
	}
	return ds
}

// hbaTypes are the connection types of pool_hba.conf, the same in every series.
var hbaTypes = []string{"local", "host", "hostssl", "hostnossl"}

// LintHBA checks a pool_hba.conf for series v: each line's connection type, address and
// method, as pool_hba.c parses them.
func LintHBA(file string, src []byte, v pgpool.Version) []Diagnostic {
	if d, ok := bounded(file, src); !ok {
		return []Diagnostic{d}
	}
	var ds []Diagnostic
	add := func(line, col int, name string, format string, args ...any) {
		ds = append(ds, Diagnostic{File: file, Pos: Pos{line, col}, Name: name, Severity: Error, Msg: fmt.Sprintf(format, args...)})
	}
	methods := pgpool.HBAMethods(v)
	for i, l := range strings.Split(string(src), "\n") {
		n := i + 1
		if c := strings.IndexByte(l, '#'); c >= 0 {
			l = l[:c]
		}
		type field struct {
			text string
			col  int
		}
		var fs []field
		for j := 0; j < len(l); {
			if l[j] == ' ' || l[j] == '\t' || l[j] == '\r' {
				j++
				continue
			}
			k := j
			for k < len(l) && l[k] != ' ' && l[k] != '\t' && l[k] != '\r' {
				k++
			}
			fs = append(fs, field{l[j:k], len([]rune(l[:j])) + 1})
			j = k
		}
		if len(fs) == 0 {
			continue
		}
		typ := fs[0].text
		if !slices.Contains(hbaTypes, typ) {
			add(n, fs[0].col, "", "%q is not a connection type: write local, host, hostssl or hostnossl", typ)
			continue
		}
		rest := fs[3:]
		if typ != "local" {
			if len(fs) < 5 {
				add(n, fs[0].col, typ, "a %s line needs a database, a user, an address and a method", typ)
				continue
			}
			addr := fs[3]
			rest = fs[4:]
			switch {
			case slices.Contains(pgpool.HBASpecialAddresses(v), addr.text), addr.text == "all":
			case strings.Contains(addr.text, "/"):
				if _, err := netip.ParsePrefix(addr.text); err != nil {
					add(n, addr.col, typ, "%q is not an address/prefix such as 192.0.2.0/24", addr.text)
				}
			default:
				if _, err := netip.ParseAddr(addr.text); err == nil {
					// An address with its mask in the next column.
					if len(rest) < 2 {
						add(n, addr.col, typ, "an address without /prefix needs a mask column and a method")
						continue
					}
					if _, err := netip.ParseAddr(rest[0].text); err != nil {
						add(n, rest[0].col, typ, "%q is not a mask such as 255.255.255.0", rest[0].text)
					}
					rest = rest[1:]
				} else if addr.text == "samehost" || addr.text == "samenet" {
					add(n, addr.col, typ, "%s came in pgpool-II 3.7; pgpool-II %s wants an address/prefix", addr.text, v)
				}
			}
		} else if len(fs) < 4 {
			add(n, fs[0].col, typ, "a local line needs a database, a user and a method")
			continue
		}
		m := rest[0]
		if !slices.Contains(methods, m.text) {
			msg := fmt.Sprintf("%q is not a method of pgpool-II %s: it knows %s", m.text, v, strings.Join(methods, ", "))
			if since := pgpool.HBAMethodSince(m.text); !since.IsZero() {
				msg = fmt.Sprintf("%q came in pgpool-II %s: pgpool-II %s knows %s", m.text, since, v, strings.Join(methods, ", "))
			}
			add(n, m.col, typ, "%s", msg)
		}
	}
	return ds
}
