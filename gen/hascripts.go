package gen

import "pgpoolgen/schema"

// haPgpoolScripts renders the scripts pgpool.conf names on a pgpool host: in streaming mode the
// failover script and the follow script, in the config folder, mode 0755.
func haPgpoolScripts(c *schema.Cluster, h *schema.Host) []*File {
	return nil
}

// haBackendScripts renders the online recovery scripts into a backend's data directory:
// recovery_1st_stage, recovery_2nd_stage (native replication) and pgpool_remote_start.
func haBackendScripts(c *schema.Cluster, h *schema.Host) []*File {
	return nil
}
