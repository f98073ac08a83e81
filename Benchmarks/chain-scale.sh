#!/usr/bin/env bash
# The chain's day at scale: STORES stores × 24 hours × ZONES zones (with flows) pushed into
# one local PostgreSQL by `footfall push`, PARALLEL stores at a time, as a chain's gateways
# catching up after an outage would. Prints rows, wall time and rows/s (docs/chain.md, Scale).
#
# Usage: Benchmarks/chain-scale.sh            (builds footfall in release mode first)
# Environment:
#   STORES    stores (default 1000)      ZONES     zones per store (default 10)
#   FLOWS     flow rows per hour (default 30, of ZONES × (ZONES − 1) pairs)
#   PARALLEL  concurrent pushes (default 8)
#   FOOTFALL  a footfall binary to use instead of building one
#   WORK_DIR  where the hour files go (default $TMPDIR/footfall-chain-scale; regenerated)
# Needs: a PostgreSQL server package (apt-get install postgresql), python3, swift. Starts
# and stops its own throwaway server with scripts/test-postgres.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STORES="${STORES:-1000}"
ZONES="${ZONES:-10}"
FLOWS="${FLOWS:-30}"
PARALLEL="${PARALLEL:-8}"
WORK_DIR="${WORK_DIR:-${TMPDIR:-/tmp}/footfall-chain-scale}"

if [[ -z "${FOOTFALL:-}" ]]; then
    echo "== building footfall (release)"
    swift build --package-path "$ROOT" -c release --product footfall > /dev/null
    FOOTFALL="$(swift build --package-path "$ROOT" -c release --show-bin-path)/footfall"
fi

echo "== starting a throwaway PostgreSQL"
eval "$("$ROOT/scripts/test-postgres.sh" start)"
trap '"$ROOT/scripts/test-postgres.sh" stop' EXIT
url="$FOOTFALL_TEST_DATABASE_URL"
hostport="${url#postgresql://postgres@}"; hostport="${hostport%%/*}"

echo "== writing $STORES stores × 24 hours × $ZONES zones (+ ALL) and $FLOWS flows an hour to $WORK_DIR"
rm -rf "$WORK_DIR"
mkdir -p "$WORK_DIR"
python3 - "$WORK_DIR" "$STORES" "$ZONES" "$FLOWS" "$FOOTFALL_TEST_DATABASE_PASSWORD_FILE" "$hostport" <<'PY'
import os, random, sys
work, stores, zones, flows, password_file, hostport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
rng = random.Random(7)
zone_ids = [f"z{i:02d}" for i in range(zones)]
pairs = [(a, b) for a in zone_ids for b in zone_ids if a != b]
H = ("hour_start,zone,devices,visitors,visits,avg_present,peak_present,median_dwell_s,p90_dwell_s,passersby,"
     "dwell_0_5m,dwell_5_15m,dwell_15_30m,dwell_30_60m,dwell_60m_plus,listened_s,suppressed,partial")
F = "hour_start,from_zone,to_zone,transitions,suppressed"
for s in range(stores):
    site = f"store-{s:05d}"
    d = os.path.join(work, site)
    os.makedirs(d)
    for h in range(24):
        start = f"2024-03-07T{h:02d}:00:00+01:00"
        rows = [H]
        for z in zone_ids + ["ALL"]:
            n = rng.randint(0, 60)
            if 0 < n < 5:
                rows.append(f'{start},{z},,,,,,,,,,,,,,3600,"devices;visitors;visits;avg_present;peak_present;median_dwell_s;p90_dwell_s;passersby",false')
            else:
                v = n * 3 // 4
                b = [v // 5, v // 5, v // 5, v // 5, v - 4 * (v // 5)]
                rows.append(f"{start},{z},{n},{v},{v + 1},{n / 3:.2f},{n // 2},{rng.randint(60, 900)},{rng.randint(900, 3600)},{n - v},"
                            f"{b[0]},{b[1]},{b[2]},{b[3]},{b[4]},3600,,false")
        with open(os.path.join(d, f"heatmap-2024-03-07T{h:02d}.csv"), "w", newline="") as f:
            f.write("\r\n".join(rows) + "\r\n")
        frows = [F]
        for a, b in sorted(rng.sample(pairs, min(flows, len(pairs)))):
            t = rng.randint(0, 40)
            frows.append(f"{start},{a},{b},{t}," if t == 0 or t >= 5 else f"{start},{a},{b},,transitions")
        with open(os.path.join(d, f"flows-2024-03-07T{h:02d}.csv"), "w", newline="") as f:
            f.write("\r\n".join(frows) + "\r\n")
    with open(os.path.join(work, site + ".yaml"), "w") as f:
        f.write(f"""site:
  id: {site}
  time_zone: Europe/Prague
zones:
{chr(10).join(f"  - id: {z}" for z in zone_ids)}
sensors:
  - id: s1
    zone: z00
    file: true
output:
  directory: {d}
  database:
    url: postgresql://postgres@{hostport}/postgres
    password_file: {password_file}
    tls: disable
""")
PY
"$FOOTFALL" db migrate --config "$WORK_DIR/store-00000.yaml"

echo "== pushing $STORES stores, $PARALLEL at a time"
start=$(date +%s.%N)
ls "$WORK_DIR"/*.yaml | xargs -P "$PARALLEL" -I{} sh -c '"$0" push --config "$1" > /dev/null' "$FOOTFALL" {}
end=$(date +%s.%N)
export PGPASSWORD="$(cat "$FOOTFALL_TEST_DATABASE_PASSWORD_FILE")"
heatmap=$(psql "$url" -tAc "SELECT count(*) FROM footfall.heatmap")
flows=$(psql "$url" -tAc "SELECT count(*) FROM footfall.flows")
size=$(psql "$url" -tAc "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'footfall' AND c.relkind = 'r'")
expected=$((STORES * 24 * (ZONES + 1)))
python3 - "$start" "$end" "$heatmap" "$flows" "$expected" "$size" <<'PY'
import sys
start, end, heatmap, flows, expected, size = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
wall = end - start
rows = heatmap + flows
print(f"heatmap rows {heatmap} (expected {expected}), flow rows {flows}, on disk {size}")
print(f"wall time {wall:.1f} s, {rows / wall:,.0f} rows/s, {heatmap / (24 * 11) / wall:,.1f} store-days/s")
if heatmap != expected:
    sys.exit("error: the database does not hold every heatmap row")
PY
