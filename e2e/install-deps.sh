#!/bin/bash
# Installs the Debian packages named as arguments, if any is missing; with no argument, those
# the end-to-end test runs (xz-utils unpacks the pgpool-II 4.7 build; ansible-core and rsync
# apply two of its clusters, through the bundle's playbook and deploy.sh). make versions (e2e/versions/install-deps.sh) names its own.
set -euo pipefail
if [ $# -gt 0 ]; then
	packages=("$@")
else
	packages=(postgresql-15 pgpool2 postgresql-15-pgpool2 openssh-server openssh-client rsync util-linux iproute2 openssl sudo iputils-arping xz-utils ansible-core)
fi
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
