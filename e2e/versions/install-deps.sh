#!/bin/bash
# Installs the Debian packages make versions runs, if any is missing: PostgreSQL 15; pgpool2,
# Debian's 4.3.5, read back beside the 4.3 build; util-linux (unshare, setpriv) and iproute2
# for the network namespaces; xz-utils for the builds.
# Without the pgpool-II builds the test skips, so nothing is installed.
set -euo pipefail
builds=${PGPOOL_BUILDS:-$(dirname "$(cd "$(dirname "$0")/../.." && pwd)")/shared/pgpool-builds}
if [ ! -d "$builds" ]; then
	echo "no pgpool-II builds at $builds: nothing to install"
	exit 0
fi
packages=(postgresql-15 pgpool2 util-linux iproute2 xz-utils)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
