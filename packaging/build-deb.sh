#!/usr/bin/env bash
# Builds dist/footfall_<version>_<arch>.deb: the footfall binary with the Swift runtime linked
# in statically (it runs on a Debian machine without the Swift toolchain), the systemd unit,
# /etc/footfall/footfall.yaml as a conffile, a `footfall` system user and /var/lib/footfall.
#
#   bash packaging/build-deb.sh            # release build, then the package
#   FOOTFALL_BINARY=path bash packaging/build-deb.sh   # package an already built binary
#
# Needs swift, dpkg-deb and dpkg-shlibdeps (dpkg-dev). See docs/packaging.md.
# tzdata is a dependency: site.time_zone is looked up in /usr/share/zoneinfo.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/.*static let string = "\([^"]*\)".*/\1/p' Sources/FootfallPipeline/Version.swift)
arch=$(dpkg --print-architecture)
if [ -z "$version" ]; then echo "build-deb: cannot read the version from Sources/FootfallPipeline/Version.swift" >&2; exit 1; fi

binary=${FOOTFALL_BINARY:-}
if [ -z "$binary" ]; then
    # SWIFT_BUILD_JOBS=1 keeps the build to one core on a shared machine.
    swift build -c release --static-swift-stdlib --product footfall ${SWIFT_BUILD_JOBS:+-j "$SWIFT_BUILD_JOBS"}
    binary="$(swift build -c release --static-swift-stdlib --show-bin-path)/footfall"
fi

# The binary must not need the toolchain: no RUNPATH but SwiftPM's harmless $ORIGIN, and no
# library from it.
runpath=$(readelf -d "$binary" | sed -n 's/.*R\(UN\)\{0,1\}PATH.*\[\(.*\)\]/\2/p')
if [ -n "$runpath" ] && [ "$runpath" != '$ORIGIN' ]; then
    echo "build-deb: $binary has the RUNPATH $runpath; build it with --static-swift-stdlib" >&2
    exit 1
fi
if ldd "$binary" | grep -q 'swift'; then
    echo "build-deb: $binary links Swift libraries dynamically:" >&2
    ldd "$binary" | grep swift >&2
    exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/footfall_${version}_${arch}"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/footfall" \
    "$root/usr/lib/sysusers.d" "$root/usr/share/doc/footfall"
install -m 0755 "$binary" "$root/usr/bin/footfall"
strip --strip-unneeded "$root/usr/bin/footfall"
# The unit of config/ with the package's paths.
sed -e 's|/usr/local/bin/footfall|/usr/bin/footfall|g' \
    -e 's|file:/usr/local/share/doc/footfall/README.md|file:/usr/share/doc/footfall/README.md|' \
    config/footfall.service > "$root/lib/systemd/system/footfall.service"
chmod 0644 "$root/lib/systemd/system/footfall.service"
install -m 0644 config/footfall.yaml "$root/etc/footfall/footfall.yaml"
# The example's site.floor_plan, next to it (relative to the configuration file).
install -m 0644 config/footfall-plan.svg "$root/etc/footfall/footfall-plan.svg"
install -m 0644 README.md PRIVACY.md "$root/usr/share/doc/footfall/"
install -m 0644 docs/operating.md docs/packaging.md "$root/usr/share/doc/footfall/"
printf 'u footfall - "footfall collector" /var/lib/footfall\n' > "$root/usr/lib/sysusers.d/footfall.conf"
{
    echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    echo "Upstream-Name: footfall"
    echo
    echo "Files: usr/bin/footfall"
    echo "Comment: contains the Swift runtime and Foundation, linked statically, under the"
    echo " Apache License 2.0 with the Runtime Library Exception; its text follows."
    echo "License: Apache-2.0 WITH Swift-exception"
    sed -e 's/^$/./' -e 's/^/ /' /opt/swift/usr/share/swift/LICENSE.txt 2>/dev/null || sed -e 's/^$/./' -e 's/^/ /' "$(dirname "$(command -v swift)")/../share/swift/LICENSE.txt"
} > "$root/usr/share/doc/footfall/copyright"

# Shared libraries the binary still uses (libpcap, the C and C++ runtimes), as versioned
# Debian dependencies: dpkg-shlibdeps reads the binary's NEEDED entries and the symbols
# files of the packages that provide them.
mkdir -p "$stage/debian"
printf 'Source: footfall\n\nPackage: footfall\nArchitecture: any\n' > "$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O "$root/usr/bin/footfall" | sed -n 's/^shlibs:Depends=//p')
if [ -z "$depends" ] || ! grep -q libpcap <<<"$depends"; then
    echo "build-deb: dpkg-shlibdeps found no dependency on libpcap ('$depends'); is libpcap-dev installed?" >&2
    exit 1
fi
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

cat > "$root/DEBIAN/control" <<CONTROL
Package: footfall
Version: $version
Architecture: $arch
Maintainer: footfall maintainers <root@localhost>
Installed-Size: $installed_size
Depends: $depends, tzdata
Recommends: systemd
Section: net
Priority: optional
Description: anonymous in-store Wi-Fi footfall collector
 Captures 802.11 probe requests (monitor-mode interfaces, TZSP and PEEKREMOTE streams,
 pcap replay), pseudonymises every address at once under a key that is destroyed within
 24 hours, and writes hourly heatmap CSV files with small counts withheld.
CONTROL
printf '/etc/footfall/footfall.yaml\n/etc/footfall/footfall-plan.svg\n' > "$root/DEBIAN/conffiles"

cat > "$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    # The system user, from the package's sysusers.d entry (or useradd without systemd).
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers footfall.conf
    elif ! getent passwd footfall >/dev/null; then
        useradd --system --user-group --home-dir /var/lib/footfall --no-create-home --shell /usr/sbin/nologin footfall
    fi
    install -d -o footfall -g footfall -m 0750 /var/lib/footfall
    # The configuration may name the chain database's password: readable by footfall only.
    chgrp footfall /etc/footfall /etc/footfall/footfall.yaml /etc/footfall/footfall-plan.svg
    chmod 0750 /etc/footfall
    chmod 0640 /etc/footfall/footfall.yaml /etc/footfall/footfall-plan.svg
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
        # An upgrade: a running collector restarts on the new binary (the hour in progress
        # is written as partial at the stop). A fresh install starts nothing.
        if [ -n "$2" ]; then systemctl try-restart footfall.service || true; fi
    fi
fi
exit 0
POSTINST
cat > "$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    systemctl stop footfall.service || true
    systemctl disable footfall.service || true
fi
exit 0
PRERM
cat > "$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
# The output files belong to the store: purge leaves /var/lib/footfall for the operator.
exit 0
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p dist
deb="dist/footfall_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
