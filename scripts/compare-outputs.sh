#!/usr/bin/env bash
# Replays every bundled fixture day under several configurations, and runs `stats --json` on
# every fixture, with two footfall binaries, and diffs what they write. A refactoring that
# changes no behaviour must leave every file byte-identical.
#
# Usage: scripts/compare-outputs.sh OLD_FOOTFALL NEW_FOOTFALL [WORK_DIR]
#
# Configurations (written to WORK_DIR from config/examples/brno-lab.yaml): both sensors in
# one zone; one sensor; two zones (one sensor each); randomised addresses `count`; `ignore`;
# strict mode (two zones); epsilon 1.0. Noise is drawn from the system's random generator
# (there is deliberately no seed), so for epsilon only the file names and the number of
# fields per line are compared.
# Exit status: 0 when everything matches, 1 when something differs (the diff is printed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OLD="${1:?usage: compare-outputs.sh OLD_FOOTFALL NEW_FOOTFALL [WORK_DIR]}"
NEW="${2:?usage: compare-outputs.sh OLD_FOOTFALL NEW_FOOTFALL [WORK_DIR]}"
WORK="${3:-$(mktemp -d "${TMPDIR:-/tmp}/footfall-compare-outputs.XXXXXX")}"
FIXTURES="$ROOT/Tests/Fixtures/brno-sc6-61"
BASE="$ROOT/config/examples/brno-lab.yaml"
mkdir -p "$WORK/config"
# Files the example names relative to itself (the floor plan) go beside the variants.
find "$ROOT/config/examples" -maxdepth 1 -type f ! -name '*.yaml' -exec cp {} "$WORK/config/" \;
shopt -s nullglob

# The example's zones and sensors replaced by two zones, one sensor in each.
two_zones() {
    sed '/^zones:/,$d' "$BASE"
    cat <<'YAML'
zones:
  - id: lab
    name: Laboratory
    rssi_threshold: -75
  - id: door
    name: Door
    rssi_threshold: -70

sensors:
  - id: position_1
    zone: lab
    file: true
  - id: position_2
    zone: door
    file: true
YAML
}
cp "$BASE" "$WORK/config/one-zone.yaml"
cp "$BASE" "$WORK/config/one-sensor.yaml"
two_zones > "$WORK/config/two-zones.yaml"
{ cat "$BASE"; printf '\nprivacy:\n  randomised_addresses: count\n'; } > "$WORK/config/count.yaml"
{ cat "$BASE"; printf '\nprivacy:\n  randomised_addresses: ignore\n'; } > "$WORK/config/ignore.yaml"
{ two_zones; printf '\nprivacy:\n  strict: true\n'; } > "$WORK/config/strict.yaml"
{ two_zones; printf '\nprivacy:\n  epsilon: 1.0\n'; } > "$WORK/config/epsilon.yaml"

days=$(cd "$FIXTURES" && ls *_position_1.pcap | sed 's/_position_1.pcap//')
status=0

run_all() {  # binary label
    local bin="$1" out="$WORK/$2"
    rm -rf "$out"; mkdir -p "$out"
    for day in $days; do
        local p1="$FIXTURES/${day}_position_1.pcap@position_1" p2="$FIXTURES/${day}_position_2.pcap@position_2"
        for variant in one-zone two-zones count ignore strict epsilon one-sensor; do
            local inputs=("$p1" "$p2")
            [[ "$variant" == one-sensor ]] && inputs=("$p1")
            local dir="$out/replay/$variant/$day"
            mkdir -p "$dir"
            set +e
            "$bin" replay --config "$WORK/config/$variant.yaml" --output "$dir" "${inputs[@]}" > "$out/replay/$variant/$day.stdout" 2> "$out/replay/$variant/$day.stderr"
            echo "exit $?" >> "$out/replay/$variant/$day.stdout"
            set -e
        done
    done
    mkdir -p "$out/stats"
    for f in "$FIXTURES"/*.pcap; do
        "$bin" stats --json "$f" > "$out/stats/$(basename "$f").json" 2>&1 || echo "exit $?" >> "$out/stats/$(basename "$f").json"
    done
    "$bin" stats --json "$FIXTURES"/*.pcap > "$out/stats/all.json" 2>&1 || echo "exit $?" >> "$out/stats/all.json"
    # Noise makes epsilon's values random: keep its file names and each line's field count.
    for f in "$out"/replay/epsilon/*/*.csv; do
        awk -F, '{ print NF }' "$f" > "$f.shape" && rm "$f"
    done
}

run_all "$OLD" old
run_all "$NEW" new
if diff -r "$WORK/old" "$WORK/new"; then
    echo "compare-outputs: identical ($(find "$WORK/old" -type f | wc -l) files) in $WORK"
else
    echo "compare-outputs: DIFFERENT (see above; outputs in $WORK)" >&2
    status=1
fi
exit $status
