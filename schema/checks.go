package schema

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/text"
)

// The character sets below are what pgpoolgen writes unquoted into pgpool.conf commands and
// into shell scripts. They are narrow on purpose: every value is also safe in single quotes,
// in double quotes and as a bare shell word, so no spec can break out of any of them.
var (
	// nameRE: host, cluster and application names.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`)
	// userRE: OS and database user, group and database names.
	userRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,62}$`)
	// pathRE: the characters of an absolute path.
	pathRE      = regexp.MustCompile(`^/[A-Za-z0-9._/+@-]*$`)
	envNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	md5RE       = regexp.MustCompile(`^[0-9a-f]{32}$`)
	poolMD5RE   = regexp.MustCompile(`^md5[0-9a-f]{32}$`)
	hbaOptionRE = regexp.MustCompile(`^[A-Za-z_]+=[A-Za-z0-9._/:@,+=-]+$`)
	dnsLabelRE  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

// describe names the first character of s outside the allowed set, for error messages that say
// what is wrong without echoing control characters.
func describe(s string, ok func(rune) bool) string {
	for i, r := range s {
		if _, n := utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError && n == 1 {
			return text.Fault(s[i:])
		}
		if !ok(r) {
			return text.RuneName(r)
		}
	}
	return ""
}

func isNameChar(r rune) bool {
	return r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-')
}

// checkName accepts a host, cluster or application name.
func (l *loader) checkName(p, s string) bool {
	return l.checkWord(p, s, nameRE, "a name uses letters, digits, '.', '_' and '-'", "must start and end with a letter or digit")
}

// checkUser accepts an OS or database user, group or database name.
func (l *loader) checkUser(p, s string) bool {
	return l.checkWord(p, s, userRE, "use letters, digits, '_', '.' and '-'", "must start with a letter or '_'")
}

// checkWord reports why s does not match re: empty, too long, a character outside the set
// (named with charset), or else its first or last character (edges).
func (l *loader) checkWord(p, s string, re *regexp.Regexp, charset, edges string) bool {
	if re.MatchString(s) {
		return true
	}
	switch {
	case s == "":
		l.d.atValue(p, "is empty")
	case len(s) > 63:
		l.d.atValue(p, "is longer than 63 characters")
	case describe(s, isNameChar) != "":
		l.d.atValue(p, "%q contains %s; %s", s, describe(s, isNameChar), charset)
	default:
		l.d.atValue(p, "%q %s", s, edges)
	}
	return false
}

// checkNameList accepts a pool_hba.conf database or user column: all, or a comma list of names.
func (l *loader) checkNameList(p, s string) bool {
	for _, n := range strings.Split(s, ",") {
		if !userRE.MatchString(n) {
			l.d.atValue(p, "%q is not \"all\" or a comma-separated list of names (letters, digits, '_', '.' and '-')", s)
			return false
		}
	}
	return true
}

func (l *loader) checkPath(p, s string) bool {
	switch {
	case !strings.HasPrefix(s, "/"):
		l.d.atValue(p, "%q is not an absolute path; it is used on the hosts, so start it with /", s)
	case !pathRE.MatchString(s):
		what := describe(s, func(r rune) bool { return r == '/' || r == '+' || r == '@' || isNameChar(r) })
		l.d.atValue(p, "%q contains %s; pgpoolgen puts paths in config files and shell commands, so it allows only letters, digits and / . _ - + @", s, what)
	case containsDotDot(s):
		l.d.atValue(p, "%q contains \"..\"; give the path without it", s)
	case s == "/":
		// Every path of the spec is a folder that holds the bundle's files or a file itself;
		// files joined onto "/" would be named "//name", and a home or data directory of / is
		// a mistake.
		l.d.atValue(p, "is the root folder; name the folder itself")
	case path.Clean(s) != s:
		l.d.atValue(p, "%q is not in clean form; write %q", s, path.Clean(s))
	default:
		return true
	}
	return false
}

func containsDotDot(s string) bool {
	for _, e := range strings.Split(s, "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

// checkAddress accepts an IPv4 or IPv6 address or a DNS name and returns the form used to find
// duplicates.
func (l *loader) checkAddress(p, s string) (string, bool) {
	canon, err := addressFault(s)
	if err != nil {
		l.d.atValue(p, "%q %v", s, err)
		return "", false
	}
	return canon, true
}

// addressFault checks an address as the hosts and pgpool-II will use it: an IPv4 or IPv6
// address without a zone, or a DNS name. It returns the canonical form, under which two
// spellings of one address compare equal, or what is wrong. Two forms that name an address
// another way are refused rather than folded: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) and
// a DNS name with its root dot. Both would be written as given into from= of authorized_keys
// and into known_hosts, where sshd and ssh see the plain form, so they would match nothing.
func addressFault(s string) (canon string, err error) {
	if a, err := netip.ParseAddr(s); err == nil {
		switch {
		case a.Zone() != "":
			return "", fmt.Errorf("has a zone; give the address without %%%s", a.Zone())
		case a.Is4In6():
			return "", fmt.Errorf("is an IPv4 address written as IPv6, which ssh's from= and known_hosts would not match; write %q", a.Unmap().String())
		}
		return a.String(), nil
	}
	if t, ok := strings.CutSuffix(s, "."); ok && isDNSName(t) {
		return "", fmt.Errorf("ends in the root dot, which ssh's from= and known_hosts would not match; write %q", t)
	}
	if isDNSName(s) {
		return strings.ToLower(s), nil
	}
	return "", errNotAddress
}

var errNotAddress = errors.New("is neither an IPv4 or IPv6 address nor a DNS name")

func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, lb := range labels {
		if !dnsLabelRE.MatchString(lb) {
			return false
		}
	}
	// A name whose last label is all digits would be read as a (bad) IPv4 address.
	last := labels[len(labels)-1]
	return strings.TrimLeft(last, "0123456789") != ""
}

// checkListen accepts listen_addresses: "*", an address or a host name; from 4.4 a comma list.
// Each part is checked exactly as it is written, without trimming: a space or line break is
// refused, not dropped.
func (l *loader) checkListen(p, s string) bool {
	list := pgpool.Lookup("listen_addresses").TypeIn(l.c.Pgpool) == "list"
	want := "want \"*\" (all addresses), one address or one host name; a comma-separated list needs pgpool_version 4.4 or later"
	if list {
		want = "want \"*\" (all addresses), or a comma-separated list of addresses and host names"
	}
	parts := []string{s}
	if list {
		parts = strings.Split(s, ",")
	}
	for _, part := range parts {
		if part == "*" {
			continue
		}
		if d := describe(part, func(r rune) bool { return r > ' ' && r < 0x7f }); d != "" {
			l.d.atValue(p, "%q contains %s; %s, written without spaces", s, d, want)
			return false
		}
		if _, err := addressFault(part); err != nil {
			if err != errNotAddress {
				l.d.atValue(p, "%q: %q %v", s, part, err)
				return false
			}
			l.d.atValue(p, "%q: %s", s, want)
			return false
		}
	}
	return true
}
