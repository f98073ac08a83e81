#!/usr/bin/env bash
# Checks a built package the way an operator's machine would see it.
#
#   bash scripts/check-deb.sh dist/footfall_<version>_<arch>.deb            # contents and binary
#   bash scripts/check-deb.sh --install dist/footfall_<version>_<arch>.deb  # and install it here
#
# 1. Contents (dpkg-deb -I / -c): the control fields, libpcap among the dependencies, both
#    files under /etc/footfall marked as conffiles, the binary, unit and sysusers entry.
# 2. The binary with the Swift toolchain hidden: as root, in a private mount namespace with an
#    empty tmpfs over the toolchain (/opt/swift, or wherever `swift` comes from), and with an
#    empty environment (env -i): ldd lists nothing from the toolchain and no libswift*, there
#    is no RUNPATH but $ORIGIN, `footfall --version` answers, and a replay of the bundled example (README,
#    Quick start) writes the counts of README's "What you get" for 15:00.
# 3. With --install (root): apt-get installs the package here; the `footfall` user exists,
#    /var/lib/footfall belongs to it (0750), the configuration is a conffile readable by its
#    group only, the installed unit passes `systemd-analyze verify` and rates 3.0 or less in
#    `systemd-analyze security --offline=yes`, and `footfall check-config` passes as the
#    footfall user.
# Exit status 0 when every check holds. See docs/packaging.md.
set -euo pipefail
cd "$(dirname "$0")/.."
install=false
if [ "${1:-}" = --install ]; then install=true; shift; fi
deb=${1:?usage: check-deb.sh [--install] PACKAGE.deb}
deb=$(readlink -f "$deb")
fail() { echo "check-deb: FAILED: $*" >&2; exit 1; }
pass() { echo "check-deb: ok: $*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Contents.
info=$(dpkg-deb -I "$deb")
contents=$(dpkg-deb -c "$deb")
echo "$info"
grep -q '^ Package: footfall$' <<<"$info" || fail "Package is not footfall"
grep -Eq '^ Depends: .*libpcap0\.8' <<<"$info" || fail "Depends does not name libpcap"
if grep -E '^ Depends:' <<<"$info" | grep -qi swift; then fail "Depends names a Swift package"; fi
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles > "$work/conffiles"
for f in /etc/footfall/footfall.yaml /etc/footfall/footfall-plan.svg; do
    grep -qx "$f" "$work/conffiles" || fail "$f is not a conffile"
done
for f in ./usr/bin/footfall ./lib/systemd/system/footfall.service ./etc/footfall/footfall.yaml \
         ./usr/lib/sysusers.d/footfall.conf ./usr/share/doc/footfall/copyright; do
    grep -q " $f\$" <<<"$contents" || fail "$f is missing"
done
pass "control fields, dependencies, conffiles and files"

# 2. The binary without the toolchain.
dpkg-deb -x "$deb" "$work/root"
binary="$work/root/usr/bin/footfall"
swift_path=$(command -v swift || true)
toolchain=/opt/swift
if [ -n "$swift_path" ]; then toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$swift_path")")")"); fi
# README's "What you get" shows the lab's 15:00 row of this replay; its headline counts (hour,
# zone, devices, visitors, visits, average and peak present, median and p90 dwell, passers-by)
# must come out the same.
readme_counts=$(grep -m1 '^2024-03-14T15:00:00+01:00,lab,' README.md | cut -d, -f1-10) || fail "README.md no longer shows the 15:00 lab row"

cat > "$work/checks.sh" <<CHECKS
set -euo pipefail
if [ -d "$toolchain" ] && [ -e "$toolchain/usr/bin/swift" ]; then echo "check-deb: the toolchain is still visible at $toolchain" >&2; exit 1; fi
if ldd "$binary" | grep -E "swift|$toolchain"; then echo "check-deb: the binary loads toolchain libraries" >&2; exit 1; fi
if readelf -d "$binary" | grep -E 'R(UN)?PATH' | grep -v '\[\\\$ORIGIN\]'; then echo "check-deb: the binary has a RUNPATH other than \$ORIGIN" >&2; exit 1; fi
ldd "$binary" | sed 's/^/check-deb: ldd: /'
env -i "$binary" --version
mkdir "$work/out"
env -i "$binary" replay --config "$PWD/config/examples/brno-lab.yaml" --output "$work/out" \
    "$PWD/Tests/Fixtures/brno-sc6-61/2024-03-14_position_1.pcap@position_1" \
    "$PWD/Tests/Fixtures/brno-sc6-61/2024-03-14_position_2.pcap@position_2" 2>"$work/replay.log"
grep -qxF '$readme_counts' <(tr -d '\r' < "$work/out/heatmap-2024-03-14T15.csv" | cut -d, -f1-10)
echo "check-deb: replay wrote \$(ls "$work/out" | grep -c '^heatmap-') hourly heatmap files, 15:00 as README shows it"
CHECKS
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    echo "check-deb: hiding $toolchain under an empty tmpfs in a private mount namespace"
    unshare --mount --propagation private bash -c "mkdir -p '$toolchain' && mount -t tmpfs none '$toolchain' && bash '$work/checks.sh'" \
        || fail "the binary with the toolchain hidden (see above; replay log: $(tail -3 "$work/replay.log" 2>/dev/null))"
    pass "the binary runs and replays with $toolchain hidden"
else
    echo "check-deb: not root: the toolchain stays mounted; only the environment is emptied" >&2
    sed -i '2d' "$work/checks.sh"
    bash "$work/checks.sh" || fail "the binary with an empty environment"
    pass "the binary runs and replays with an empty environment (toolchain not hidden: not root)"
fi

# 3. Installed here.
if $install; then
    [ "$(id -u)" = 0 ] || fail "--install needs root"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
    getent passwd footfall >/dev/null || fail "no footfall user"
    shell=$(getent passwd footfall | cut -d: -f7)
    case "$shell" in */nologin|/bin/false) ;; *) fail "the footfall user has a login shell ($shell)";; esac
    [ "$(stat -c '%U:%G %a' /var/lib/footfall)" = "footfall:footfall 750" ] || fail "/var/lib/footfall is $(stat -c '%U:%G %a' /var/lib/footfall)"
    [ "$(stat -c '%U:%G %a' /etc/footfall/footfall.yaml)" = "root:footfall 640" ] || fail "/etc/footfall/footfall.yaml is $(stat -c '%U:%G %a' /etc/footfall/footfall.yaml)"
    dpkg-query -W -f='${Conffiles}\n' footfall | grep -q '/etc/footfall/footfall.yaml' || fail "dpkg does not list the configuration as a conffile"
    systemd-analyze verify --man=no /lib/systemd/system/footfall.service || fail "systemd-analyze verify"
    exposure=$(systemd-analyze security --offline=yes --no-pager /lib/systemd/system/footfall.service | sed -n 's/.*Overall exposure level for footfall.service: \([0-9.]*\).*/\1/p')
    awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 3.0) }' || fail "exposure $exposure is above 3.0"
    setpriv --reuid=footfall --regid=footfall --init-groups /usr/bin/footfall check-config /etc/footfall/footfall.yaml --output /var/lib/footfall >/dev/null \
        || fail "check-config as the footfall user"
    pass "installed: user footfall ($shell), /var/lib/footfall footfall:footfall 750, conffile root:footfall 640, unit verified, exposure $exposure, check-config as footfall"

    # Capture as the unit runs it: user footfall, only CAP_NET_RAW and CAP_NET_ADMIN (ambient
    # and bounding set), no new privileges; 20 phones over TZSP on lo from two access points.
    if command -v python3 >/dev/null; then
        chmod 0755 "$work"
        sed 's/port: 37008/port: 47119/' config/examples/tzsp-loopback.yaml > "$work/tzsp.yaml"
        install -d -o footfall -g footfall -m 0750 "$work/run-out"
        setpriv --reuid=footfall --regid=footfall --init-groups --inh-caps=-all,+net_raw,+net_admin \
            --ambient-caps=-all,+net_raw,+net_admin --bounding-set=-all,+net_raw,+net_admin --no-new-privs \
            /usr/bin/footfall run --config "$work/tzsp.yaml" --output "$work/run-out" 2>"$work/run.log" &
        run_pid=$!
        for _ in $(seq 100); do grep -q capturing "$work/run.log" && break; sleep 0.1; done
        grep -q capturing "$work/run.log" || { cat "$work/run.log" >&2; fail "footfall run as the footfall user did not start capturing"; }
        python3 - <<'PY'
import socket
for sender, base in (("127.0.0.2", 0), ("127.0.0.3", 10)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sender, 0))
    for device in range(base, base + 10):
        source = bytes([0x00, 0x1B, 0x63, 0x7A, 0x00, device])
        frame = bytes([0x40, 0, 0, 0]) + b"\xff" * 6 + source + b"\xff" * 6 + bytes([0x10, 0]) + bytes([0, 0, 1, 4, 2, 4, 11, 22])
        for _ in range(3):
            s.sendto(bytes([1, 0, 0, 18, 10, 1, 256 - 45, 1]) + frame, ("127.0.0.1", 47119))
PY
        sleep 1
        kill -TERM "$run_pid"
        wait "$run_pid" || { cat "$work/run.log" >&2; fail "footfall run as the footfall user exited with $?"; }
        devices=$(tr -d '\r' < "$(ls "$work"/run-out/heatmap-*.csv | head -1)" | awk -F, '$2 == "ALL" { print $3 }')
        [ "$devices" = 20 ] || { cat "$work/run.log" >&2; fail "the hour written as the footfall user counts '$devices' devices, not the 20 sent"; }
        pass "footfall run as user footfall with CAP_NET_RAW and CAP_NET_ADMIN only captured TZSP on lo: 20 devices sent, 20 counted"
    else
        echo "check-deb: python3 not found: the capture as the footfall user is not checked" >&2
    fi
fi
echo "check-deb: all checks passed"
