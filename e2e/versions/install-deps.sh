#!/bin/bash
# Installs the Debian packages make versions runs, if any is missing: PostgreSQL 15; pgpool2,
# Debian's 4.3.5, read back beside the 4.3 build; util-linux (unshare, setpriv) and iproute2
# for the network namespaces; xz-utils for the builds.
# Without the pgpool-II builds the test skips, so nothing is installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
builds=${PGPOOL_BUILDS:-$(dirname "$(cd "$here/../.." && pwd)")/shared/pgpool-builds}
if [ ! -d "$builds" ]; then
	echo "no pgpool-II builds at $builds: nothing to install"
	exit 0
fi
exec bash "$here/../install-deps.sh" postgresql-15 pgpool2 util-linux iproute2 xz-utils
