package pgpool

// BackendFlags lists the words series v takes in backend_flagN, joined with '|' and compared
// case-sensitively and split with strtok, so spaces are part of a word
// (BackendFlagsAssignFunc in src/config/pool_config_variables.c from 3.6, the backend_flag
// branch of pool_config.l before): ALWAYS_MASTER came in 3.7 and was renamed ALWAYS_PRIMARY
// in 4.2. An unknown word stops pgpool-II from 3.4 ("unknown backend flag"); 3.1-3.3 skip it
// without a word. ALLOW_TO_FAILOVER and DISALLOW_TO_FAILOVER together stop it in every series.
func BackendFlags(v Version) []string {
	f := []string{"ALLOW_TO_FAILOVER", "DISALLOW_TO_FAILOVER"}
	switch {
	case v.AtLeast(Version{4, 2}):
		f = append(f, "ALWAYS_PRIMARY")
	case v.AtLeast(Version{3, 7}):
		f = append(f, "ALWAYS_MASTER")
	}
	return f
}
