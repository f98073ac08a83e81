#!/usr/bin/env bash
# Side-by-side: footfall stats, footfall replay, the C reference and tshark over the same
# ~4 M-frame capture.
#
# The capture is the Brno fixtures (Tests/Fixtures/brno-sc6-61) merged by time, followed by
# time-shifted copies of that merge (editcap -t), so every copy is later than the one
# before and the file stays in time order, as a real multi-week capture would be.
#
# The C reference (Benchmarks/reference/probe-distinct.c: libpcap, SipHash-2-4 of each
# probe request's source, an open-addressing table per hour) is compiled with cc -O2 and
# timed in the same rounds, so the ratios compare programs run on the same machine under
# the same load.
#
# Usage: Benchmarks/compare.sh [rounds]        (default 3 rounds of footfall and the C reference)
# Environment:
#   FOOTFALL       a footfall binary to measure instead of building this tree in release
#                  (e.g. an older build, to compare two versions under the same load)
#   WORK_DIR       where the big capture and outputs go (default: $TMPDIR/footfall-compare;
#                  the capture is kept there and reused by later runs)
#   COPIES         copies of the merged fixtures (default 39: 39 × 102,560 ≈ 4.0 M frames)
#   TSHARK_ROUNDS  tshark rounds (default 1: at ~40 k frames/s one round takes ~100 s)
#   OUT_DIR        where replay writes its CSV files (default: /dev/shm/footfall-compare-out
#                  when /dev/shm exists, so the time is the pipeline's and not the file
#                  system's inode allocation; set it to a disk directory to include that)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${1:-3}"
COPIES="${COPIES:-39}"
TSHARK_ROUNDS="${TSHARK_ROUNDS:-1}"
WORK_DIR="${WORK_DIR:-${TMPDIR:-/tmp}/footfall-compare}"
FIXTURES="$ROOT/Tests/Fixtures/brno-sc6-61"
CONFIG="$ROOT/config/examples/brno-lab.yaml"

for tool in mergecap editcap capinfos tshark swift cc; do
    command -v "$tool" > /dev/null || { echo "compare.sh: $tool is not installed" >&2; exit 1; }
done

if [[ -z "${FOOTFALL:-}" ]]; then
    echo "== building footfall (release)"
    swift build --package-path "$ROOT" -c release --product footfall > /dev/null
    FOOTFALL="$(swift build --package-path "$ROOT" -c release --show-bin-path)/footfall"
fi
echo "== footfall: $FOOTFALL"

mkdir -p "$WORK_DIR"
echo "== building the C reference (cc -O2)"
REFERENCE="$WORK_DIR/probe-distinct"
cc -O2 -o "$REFERENCE" "$ROOT/Benchmarks/reference/probe-distinct.c" -lpcap

mkdir -p "$WORK_DIR"
BIG="$WORK_DIR/brno-x${COPIES}.pcap"
if [[ ! -s "$BIG" ]]; then
    echo "== making $BIG"
    BASE="$WORK_DIR/base.pcap"
    mergecap -F pcap -w "$BASE" "$FIXTURES"/*.pcap
    # The fixtures span 2024-02-08 … 2024-03-16; a 40-day shift puts each copy after the last.
    SHIFT=$((40 * 86400))
    parts=("$BASE")
    for ((i = 1; i < COPIES; i++)); do
        editcap -F pcap -t $((i * SHIFT)) "$BASE" "$WORK_DIR/part-$i.pcap"
        parts+=("$WORK_DIR/part-$i.pcap")
    done
    mergecap -F pcap -a -w "$BIG.tmp" "${parts[@]}"
    mv "$BIG.tmp" "$BIG"
    rm -f "$WORK_DIR"/part-*.pcap "$BASE"
fi
FRAMES="$(capinfos -c -M "$BIG" | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }')"
echo "== $BIG: $FRAMES frames, $(du -h "$BIG" | cut -f1)"

if [[ -z "${OUT_DIR:-}" && -d /dev/shm ]]; then OUT_DIR=/dev/shm/footfall-compare-out; fi
OUT="${OUT_DIR:-$WORK_DIR/out}"
echo "== replay writes to $OUT"
TIMEFORMAT=%R
declare -A best

# Runs a command with stdout/stderr to files and records its wall-clock seconds and frames/s.
measure() {
    local name="$1" file="$2"; shift 2
    if ! { time "$@" > "$WORK_DIR/$file.stdout" 2> "$WORK_DIR/$file.stderr"; } 2> "$WORK_DIR/$file.time"; then
        echo "compare.sh: $name failed; see $WORK_DIR/$file.stderr" >&2
        exit 1
    fi
    local seconds rate
    seconds="$(tail -n 1 "$WORK_DIR/$file.time")"
    rate=$(awk -v f="$FRAMES" -v s="$seconds" 'BEGIN { printf "%.0f", f / s }')
    printf '  %-16s %8.2f s  %12s frames/s\n' "$name" "$seconds" "$rate"
    if [[ -z "${best[$name]:-}" || "$rate" -gt "${best[$name]}" ]]; then best[$name]="$rate"; fi
}

stats_run() { "$FOOTFALL" stats --json "$BIG"; }
reference_run() { "$REFERENCE" "$BIG"; }
replay_run() { "$FOOTFALL" replay --config "$CONFIG" --output "$OUT" "$BIG@position_1"; }
tshark_run() {
    tshark -r "$BIG" -Y 'wlan.fc.type_subtype == 4' -T fields -e wlan.sa | sort -u | wc -l
}

# Alternate the tools within each round so that whatever else the machine does affects all
# of them alike.
for ((r = 1; r <= ROUNDS; r++)); do
    echo "== round $r"
    measure "C reference" reference reference_run
    measure "footfall stats" stats stats_run
    rm -rf "$OUT" # not timed: removing the previous run's files is not the replay's work
    measure "footfall replay" replay replay_run
    if ((r <= TSHARK_ROUNDS)); then
        measure "tshark" tshark tshark_run
    fi
done

echo "== best of each (frames/s)"
for name in "C reference" "footfall stats" "footfall replay" "tshark"; do
    [[ -n "${best[$name]:-}" ]] || continue
    awk -v n="$name" -v b="${best[$name]}" -v c="${best[C reference]}" -v t="${best[tshark]:-0}" 'BEGIN {
        line = sprintf("  %-16s %12d frames/s  %5.2f× the C reference", n, b, b / c)
        if (t > 0 && n != "tshark") line = line sprintf("  %7.1f× tshark", b / t)
        print line
    }'
done
echo "== C reference: $(cat "$WORK_DIR/reference.stdout")"
echo "== footfall stats: $(head -c 200 "$WORK_DIR/stats.stdout")…"
echo "== tshark distinct source addresses: $(cat "$WORK_DIR/tshark.stdout" 2> /dev/null || echo -)"
