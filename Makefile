# pgpoolgen. `make test` and `make fuzz` are what CI runs (through .ci/run, which first installs
# the Debian packages the tests use: pgpool2 for pg_md5).

GO ?= go
export GOFLAGS := -trimpath

.PHONY: all build test lint golden bench fuzz clean e2e faults versions watchdog

all: build

build:
	$(GO) build -o bin/pgpoolgen ./cmd/pgpoolgen

test: lint
	$(GO) test -count=1 -timeout 30m ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# Rewrite the golden bundles, error texts and docs/pgpoolgen.schema.json from what the program
# produces now. Read the diff line by line before committing it.
golden:
	$(GO) test ./cmd/pgpoolgen -run 'TestGolden|TestErrors|TestSchemaFile' -update

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Fuzz each target for FUZZTIME (go test takes one target per run). make test replays the
# seeds and gen/testdata/fuzz/ without fuzzing; an input that finds something is kept there.
# Minimizing a new input is capped so that slow inputs do not eat the run.
FUZZTIME ?= 15s
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s

fuzz:
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzLoad$$' ./gen
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzGenerate$$' ./gen
	$(GO) test $(FUZZFLAGS) -fuzz '^FuzzValue$$' ./gen

clean:
	rm -rf bin out

# End to end on real servers (Debian 12, as root): PostgreSQL 15, pgpool-II 4.3 and OpenSSH,
# each host a mount and network namespace of its own; then the streaming cluster again on
# pgpool-II 4.7, the build in ../shared/pgpool-builds (or $$PGPOOL_BUILDS), which it skips
# without the build and fails in CI. Installs what it needs first.
e2e:
	bash e2e/install-deps.sh
	$(GO) test -tags e2e -count=1 -v -timeout 25m ./e2e/

# The fault benchmark on the e2e's real servers (as root on Debian 12): each fault TRIALS times
# on a fresh cluster of the bundle's defaults (e2e/faults/cluster.toml), and a table of the
# times to the first write through pgpool, with pgpool's log milestones. Not a test of the
# times: it fails only when it cannot run a fault.
TRIALS ?= 3

faults:
	bash e2e/install-deps.sh
	$(GO) test -tags 'e2e faults' -run TestFaults -count=1 -v -timeout 60m ./e2e/ -args -trials=$(TRIALS)

# Watchdog on real servers (as root on Debian 12): three pgpool hosts with a virtual IP in front
# of three backends (e2e/watchdog/cluster.toml), the leader killed, quorum lost, a backend
# failover with three pgpools watching.
watchdog:
	bash e2e/install-deps.sh
	$(GO) test -tags 'e2e watchdog' -run TestWatchdog -count=1 -v -timeout 15m ./e2e/

# Every pgpool-II series 3.1-4.7 reads back the pgpool.conf pgpoolgen writes: the builds in
# ../shared/pgpool-builds (or $$PGPOOL_BUILDS) on one throwaway PostgreSQL 15, as root on
# Debian 12. Skips, with a message, when the builds are not there.
versions:
	bash e2e/versions/install-deps.sh
	$(GO) test -tags versions -count=1 -v -timeout 15m ./e2e/versions/
