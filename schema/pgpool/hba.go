package pgpool

// HBAMethods lists the pool_hba.conf authentication methods that series v parses, in the order
// pgpool-II's documentation gives them. pam and ldap also need pgpool-II built with them.
func HBAMethods(v Version) []string {
	m := []string{"trust", "reject", "md5", "pam"}
	if v.AtLeast(V40) {
		m = append(m, "cert", "password", "scram-sha-256")
	}
	if v.AtLeast(V42) {
		m = append(m, "ldap")
	}
	return m
}

// HBASpecialAddresses are the address keywords pool_hba.conf accepts instead of a CIDR from 3.7.
func HBASpecialAddresses(v Version) []string {
	if v.AtLeast(V37) {
		return []string{"samehost", "samenet"}
	}
	return nil
}

// HBAMethodSince is the first series that knows a pool_hba.conf method, or zero for a method no
// series knows.
func HBAMethodSince(m string) Version {
	for _, s := range Series {
		if contains(HBAMethods(s), m) {
			return s
		}
	}
	return Version{}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
