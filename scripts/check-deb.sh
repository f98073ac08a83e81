#!/usr/bin/env bash
# Checks a built package: its binary needs nothing from the Swift toolchain.
#
#   bash scripts/check-deb.sh dist/footfall_<version>_<arch>.deb
#
# Unpacks the package, then with the toolchain hidden — as root, /opt/swift (or the
# toolchain the `swift` on PATH comes from) is covered by an empty tmpfs in a private mount
# namespace; otherwise only LD_LIBRARY_PATH and PATH are cleared — checks that ldd lists no
# toolchain library, that `footfall --version` answers and that a replay of a fixture capture
# writes its hours. Exit status 0 when all hold. See docs/packaging.md.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:?usage: check-deb.sh PACKAGE.deb}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/root"
binary="$work/root/usr/bin/footfall"
toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift || echo /opt/swift/usr/bin/swift)")")")")
capture="$PWD/Tests/Fixtures/brno-sc6-61/2024-03-14_position_1.pcap"

checks=$(cat <<CHECKS
set -euo pipefail
if ldd "$binary" | grep -E "swift|$toolchain"; then echo "check-deb: the binary loads toolchain libraries" >&2; exit 1; fi
if readelf -d "$binary" | grep -E 'R(UN)?PATH'; then echo "check-deb: the binary has a RUNPATH" >&2; exit 1; fi
env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH= "$binary" --version
env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH= "$binary" replay --config "$PWD/config/examples/brno-lab.yaml" --output "$work/out" "$capture@position_1"
hours=\$(ls "$work/out" | grep -c '^heatmap-')
echo "check-deb: replay wrote \$hours hourly files with the toolchain hidden"
test "\$hours" -gt 0
CHECKS
)
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && [ -d "$toolchain" ]; then
    echo "check-deb: hiding $toolchain in a private mount namespace"
    unshare --mount bash -c "mount -t tmpfs none '$toolchain' && $checks"
else
    echo "check-deb: not root (or no unshare): the toolchain stays mounted; only LD_LIBRARY_PATH and PATH are cleared"
    bash -c "$checks"
fi
