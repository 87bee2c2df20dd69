#!/usr/bin/env bash
# Installs the Debian packages listed in rootfs/ (the one source of truth for dev machines, CI and
# the VM image). Idempotent and quick when everything is there already.
#   rootfs/install-packages.sh            runtime packages (packages.txt)
#   rootfs/install-packages.sh --dev      + headers and toolchain to build the addon
#   rootfs/install-packages.sh --test     + dev + what the tests drive (Chromium, coturn, Xvfb tools)
#   rootfs/install-packages.sh --list ... print the package names instead of installing
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lists=("$here/packages.txt")
list_only=0
for arg in "$@"; do
  case "$arg" in
    --dev) lists+=("$here/packages-dev.txt") ;;
    --test) lists+=("$here/packages-dev.txt" "$here/packages-test.txt") ;;
    --list) list_only=1 ;;
    *) echo "install-packages.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
packages=$(sed -e 's/#.*//' "${lists[@]}" | awk 'NF { print $1 }' | sort -u)
if [ "$list_only" = 1 ]; then echo "$packages"; exit 0; fi

missing=()
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "rootfs/install-packages.sh: all $(echo "$packages" | wc -w) Debian packages are installed"
  exit 0
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install as root: apt-get install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "rootfs/install-packages.sh: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
