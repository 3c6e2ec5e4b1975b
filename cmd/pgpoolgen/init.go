package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"pgpoolgen/gen/fixture"
	"pgpoolgen/schema"
	"pgpoolgen/schema/pgpool"
	"pgpoolgen/schema/text"
)

var initCommand = &command{name: "init", args: "[--mode M] [--backends N] [--layout P] [--pgpool-hosts K] [-o SPEC]",
	summary: "write a commented starter spec",
	help: `Init writes a commented starter spec for a clustering mode, a number of backends and pgpool
hosts, and a layout, to standard output or, with -o, to the file SPEC (refused if it exists,
unless --force). The spec builds as it is once the key files and secrets it names exist: the
public ssh key of the OS user of each host that logs in to others (keys/<host>.pub) and the
pcp password (environment variable PCP_PASSWORD). Its addresses are from 192.0.2.0/24, a
range for documentation: change them to your hosts'. Two or more pgpool hosts get the
watchdog, with a virtual IP.

The defaults: streaming_replication, 3 backends, 1 pgpool host, the debian layout, the newest
pgpool-II series that has the mode, PostgreSQL 15. Before writing, init loads the spec as
build does (with stand-in keys and secrets): a combination the loader refuses is an error,
exit status 2.`,
	flags: func(fs *pflag.FlagSet) {
		fs.String("mode", schema.Streaming.String(), "clustering mode: "+modeNames())
		fs.Int("backends", 3, fmt.Sprintf("number of PostgreSQL backends, 1 to %d", pgpool.MaxBackends))
		fs.String("layout", "debian", "layout preset: "+presetNames())
		fs.String("pgpool-version", "", "pgpool-II series (default: the newest that has the mode)")
		fs.String("postgresql-version", "15", "PostgreSQL major version")
		fs.Int("pgpool-hosts", 1, fmt.Sprintf("number of pgpool hosts, 1 to %d; 2 or more run the watchdog", maxInitPgpools))
		fs.StringP("output", "o", "", "file to write the spec to (default: standard output)")
		fs.Bool("force", false, "replace the file -o names if it exists")
	},
	run: runInit}

// maxInitPgpools bounds --pgpool-hosts: the starter's pgpool hosts are 192.0.2.11-19, its
// backends from 192.0.2.21, its virtual IP 192.0.2.10.
const maxInitPgpools = 9

// modeNames lists the modes' names, in the order of schema.Modes.
func modeNames() string {
	var names []string
	for _, m := range schema.Modes {
		names = append(names, m.Name)
	}
	return strings.Join(names, ", ")
}

// presetNames lists the presets' names, in the order of schema.Presets.
func presetNames() string {
	var names []string
	for _, p := range schema.Presets {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// An initSpec is what the flags ask for, checked.
type initSpec struct {
	mode     *schema.ModeInfo
	preset   *schema.Preset
	series   pgpool.Version
	pg       string
	backends int
	pgpools  int
	file     string // the spec's file name, for its comments and the loader's check
	command  string // the command line that makes the same spec, for its first comment
	// keyed lists the hosts that log in to others over ssh, which need ssh_key_file; nil
	// before the first check, when every host gets one.
	keyed map[string]bool
}

// pgVersionRE is what --postgresql-version may hold before the loader checks it: the shape of
// a major version ("15", "9.6"), so that it can be written into the spec as it is.
var pgVersionRE = regexp.MustCompile(`^[0-9]{1,2}(\.[0-9])?$`)

func runInit(c *command, fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "pgpoolgen init: "+format+"\n", a...)
		return exitUsage
	}
	if len(args) > 0 {
		return fail("takes no arguments, got %q; usage: pgpoolgen init %s", args[0], c.args)
	}
	s := &initSpec{}
	modeArg, _ := fs.GetString("mode")
	for i := range schema.Modes {
		if m := &schema.Modes[i]; m.Name == modeArg || contains(m.Aliases, modeArg) {
			s.mode = m
		}
	}
	if s.mode == nil {
		return fail("--mode: unknown mode %q; use one of %s", modeArg, modeNames())
	}
	layoutArg, _ := fs.GetString("layout")
	if s.preset = schema.PresetNamed(layoutArg); s.preset == nil {
		return fail("--layout: unknown layout %q; use one of %s", layoutArg, presetNames())
	}
	if v, _ := fs.GetString("pgpool-version"); v != "" {
		ver, err := pgpool.ParseVersion(v)
		if err != nil || !ver.Known() {
			return fail("--pgpool-version: %q is not a pgpool-II series pgpoolgen knows; use one of %s", v, pgpool.SeriesList())
		}
		if !s.mode.In(ver) {
			return fail("--pgpool-version: pgpool-II %s has no %s mode (pgpool-II %s has); choose another --mode or --pgpool-version", ver, s.mode.Name, s.mode.Series())
		}
		s.series = ver
	} else {
		for _, ver := range pgpool.Series {
			if s.mode.In(ver) {
				s.series = ver // the newest that has the mode
			}
		}
	}
	s.pg, _ = fs.GetString("postgresql-version")
	if !pgVersionRE.MatchString(s.pg) {
		return fail("--postgresql-version: %q is not a PostgreSQL major version; write one such as 15 or 9.6", s.pg)
	}
	s.backends, _ = fs.GetInt("backends")
	if s.backends < 1 || s.backends > pgpool.MaxBackends {
		return fail("--backends: %d is out of range; pgpool-II takes 1 to %d backends", s.backends, pgpool.MaxBackends)
	}
	s.pgpools, _ = fs.GetInt("pgpool-hosts")
	if s.pgpools < 1 || s.pgpools > maxInitPgpools {
		return fail("--pgpool-hosts: %d is out of range; the starter spec has 1 to %d (add more [[host]]s by hand)", s.pgpools, maxInitPgpools)
	}
	out, _ := fs.GetString("output")
	force, _ := fs.GetBool("force")
	if force && out == "" {
		return fail("--force replaces the file -o names; give -o")
	}
	s.file = "cluster.toml"
	if out != "" {
		s.file = filepath.Base(out)
	}
	s.command = fmt.Sprintf("pgpoolgen init --mode %s --backends %d --layout %s --pgpool-version %s --postgresql-version %s --pgpool-hosts %d",
		s.mode.Name, s.backends, s.preset.Name, s.series, s.pg, s.pgpools)

	// First with a key on every host, to learn from the loader which hosts log in to others;
	// then with keys on those only, checked again.
	cluster, err := s.check(s.render())
	if err != nil {
		return s.refused(err, stderr)
	}
	s.keyed = map[string]bool{}
	for _, e := range cluster.Trust {
		s.keyed[e.From.Name] = true
	}
	spec := s.render()
	cluster, err = s.check(spec)
	if err != nil {
		return s.refused(err, stderr)
	}
	// What build will warn of, said now.
	for _, w := range cluster.Warnings {
		fmt.Fprintf(stderr, "pgpoolgen init: warning: %s: %s\n", w.Path, w.Msg)
	}
	if out == "" {
		_, err := io.WriteString(stdout, spec)
		if err != nil {
			return fail("%v", err)
		}
		return exitOK
	}
	if err := writeSpec(out, []byte(spec), force); err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stderr, "wrote %s: add the key files and secrets it names, then run pgpoolgen build %s\n", text.Visible(out), text.Visible(out))
	return exitOK
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// check loads the spec as build would, with stand-ins for what the operator adds: a key of its
// own for every key file, a value for every secret.
func (s *initSpec) check(spec string) (*schema.Cluster, error) {
	env := schema.Env{
		LookupEnv: func(string) (string, bool) { return "stand-in-secret", true },
		ReadFile: func(name string) ([]byte, error) {
			if strings.HasSuffix(name, ".pub") {
				return []byte(fixture.SSHKey(filepath.Base(name)) + "\n"), nil
			}
			return nil, errors.New("init's check reads key files only")
		},
	}
	return schema.Load(s.file, []byte(spec), env)
}

// refused reports what the loader found wrong with the spec the flags make.
func (s *initSpec) refused(err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "pgpoolgen init: the spec for %s would not build:\n", strings.TrimPrefix(s.command, "pgpoolgen init "))
	var list schema.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			if e.Path != "" {
				fmt.Fprintf(stderr, "  %s: %s\n", e.Path, e.Msg)
			} else {
				fmt.Fprintf(stderr, "  %s\n", e.Msg)
			}
		}
	} else {
		fmt.Fprintf(stderr, "  %v\n", err)
	}
	return exitUsage
}

// writeSpec writes the spec to path: a new file, or with force one that replaces a regular file
// by rename (never through a link).
func writeSpec(path string, data []byte, force bool) error {
	info, err := os.Lstat(path)
	switch {
	case err == nil && !force:
		return fmt.Errorf("%s exists; give --force to replace it", text.Visible(path))
	case err == nil && !info.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file; init replaces only a spec file", text.Visible(path))
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	}
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			os.Remove(path)
			return err
		}
		return f.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pgpoolgen-init-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// An initHost is one [[host]] of the starter spec.
type initHost struct {
	name, address, role string
}

// hosts lists the starter's hosts: the pgpool hosts first (watchdog node ids count them in
// this order), then the backends, the primary first where the mode has one (logical
// replication and Slony need it first).
func (s *initSpec) hosts() []initHost {
	var hs []initHost
	for i := 1; i <= s.pgpools; i++ {
		hs = append(hs, initHost{fmt.Sprintf("pgpool%d", i), fmt.Sprintf("192.0.2.%d", 10+i), "pgpool"})
	}
	for i := 1; i <= s.backends; i++ {
		role := "backend"
		if s.mode.Has(schema.FeatPrimaryStandby) {
			role = "standby"
			if i == 1 {
				role = "primary"
			}
		}
		hs = append(hs, initHost{fmt.Sprintf("pg%d", i), fmt.Sprintf("192.0.2.%d", 20+i), role})
	}
	return hs
}

// render writes the starter spec.
func (s *initSpec) render() string {
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	hosts := s.hosts()
	var keyFiles []string
	for _, h := range hosts {
		if s.keyed == nil || s.keyed[h.name] {
			keyFiles = append(keyFiles, "keys/"+h.name+".pub")
		}
	}

	// comment writes text as comment lines of at most 96 characters; indent starts the lines
	// after the first.
	comment := func(indent, text string) {
		lead := "# "
		cur := ""
		for _, w := range strings.Fields(text) {
			if cur != "" && len(lead)+len(cur)+1+len(w) > 96 {
				line("%s%s", lead, cur)
				lead, cur = "# "+indent, ""
			}
			if cur != "" {
				cur += " "
			}
			cur += w
		}
		line("%s%s", lead, cur)
	}

	line("# A starter spec for pgpoolgen, written by:")
	line("#   %s", s.command)
	comment("", "Every key, its type, default and meaning: docs/spec.md. It builds as it is once these exist:")
	if len(keyFiles) > 0 {
		comment("  ", "- "+strings.Join(keyFiles, ", ")+", beside this file: the public ssh key of the OS user (layout.user) on each host that logs in to others, for the HA scripts (ssh-keygen -t ed25519 there, as that user; the bundle's trust.txt says who logs in where);")
	}
	comment("  ", "- the environment variable PCP_PASSWORD, the pcp user's password, when you run pgpoolgen build.")
	comment("", "Other secrets (the roles' passwords, pool_passwd's AES key) are given to each host's setup.sh at apply time: the bundle's manifest.json lists them. The addresses are from 192.0.2.0/24, a range for documentation: change them to your hosts'.")
	line("")
	comment("", "The cluster: its name, clustering mode and the versions the bundle is written for (docs/spec.md, [cluster]). "+s.mode.Name+": "+s.mode.Why+".")
	line("[cluster]")
	line("name = %q", "main")
	line("mode = %q", s.mode.Name)
	line("pgpool_version = %q", s.series.String())
	line("postgresql_version = %q", s.pg)
	line("")
	comment("", fmt.Sprintf("Where pgpool-II and PostgreSQL live on the hosts (docs/spec.md, [layout]): %q is %s. Any path key set here replaces the preset's.", s.preset.Name, s.preset.Why))
	line("[layout]")
	line("preset = %q", s.preset.Name)
	if s.preset.Install == "source" {
		line("")
		line("# How setup installs pgpool-II (docs/spec.md, [install]): from this source tarball on the hosts,")
		line("# or method = \"none\" when it is installed by other means.")
		line("[install]")
		line("source_tarball = %q", "/usr/local/src/pgpool-II-"+s.series.String()+".0.tar.gz")
	}
	line("")
	optional := "Optional tables, each with its defaults in docs/spec.md: [pgpool] (ports, listen addresses), [health_check] (how pgpool-II checks the backends)"
	if s.mode.Has(schema.FeatSRCheck) {
		optional += ", [sr_check] (the streaming replication check)"
	}
	if s.mode.Has(schema.FeatRecovery) {
		optional += ", [recovery] (online recovery)"
	}
	comment("", optional+", [ssh], [postgresql], [parameters] (any other pgpool.conf parameter of pgpool-II "+s.series.String()+").")
	if s.pgpools > 1 {
		line("")
		line("# The pgpool hosts watch each other (pgpool-II's watchdog): they elect a leader, which holds the")
		line("# virtual IP clients connect to (docs/spec.md, [watchdog]).")
		line("[watchdog]")
		line("# An unused address in the pgpool hosts' network, with its prefix, and the interface it goes on.")
		line("virtual_ip = %q", "192.0.2.10/24")
		line("interface = %q", "eth0")
	}
	line("")
	comment("", "The hosts (docs/spec.md, [[host]]), each with its roles: \"pgpool\" runs pgpool-II; "+roleNote(s.mode)+".")
	for _, h := range hosts {
		line("")
		line("[[host]]")
		line("name = %q", h.name)
		line("address = %q", h.address)
		line("roles = [%q]", h.role)
		if s.keyed == nil || s.keyed[h.name] {
			line("ssh_key_file = %q", "keys/"+h.name+".pub")
		}
	}
	line("")
	line("# pcp's users (pcp_attach_node, pcp_recovery_node, ...): pcp.conf holds the md5 of the password,")
	line("# read from the environment when pgpoolgen builds (docs/spec.md, [[pcp_user]]).")
	line("[[pcp_user]]")
	line("name = %q", "pgpool")
	line("password_env = %q      # never a password in the spec", "PCP_PASSWORD")
	line("")
	line("# pool_hba.conf, who may connect to pgpool-II: the first rule that matches decides")
	line("# (docs/spec.md, [[hba]]). Users pgpool-II logs in as come from [[pool_user]] tables.")
	line("[[hba]]")
	line("address = %q", "192.0.2.0/24")
	line("method = %q", s.hbaMethod())
	return b.String()
}

// roleNote says what the backends' roles are in the mode.
func roleNote(m *schema.ModeInfo) string {
	if m.Has(schema.FeatPrimaryStandby) {
		return "\"primary\" (one, the first backend) and \"standby\" run PostgreSQL"
	}
	return "\"backend\" runs PostgreSQL, every backend alike"
}

// hbaMethod is the password method of the starter's pool_hba.conf rule: scram-sha-256 where
// the series has it, md5 before.
func (s *initSpec) hbaMethod() string {
	if contains(pgpool.HBAMethods(s.series), "scram-sha-256") {
		return "scram-sha-256"
	}
	return "md5"
}
