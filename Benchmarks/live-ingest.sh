#!/usr/bin/env bash
# Live ingest: how many TZSP frames a second `footfall run` takes in without losing any.
#
#   sudo bash Benchmarks/live-ingest.sh                          # rates 10k 25k 50k 100k 200k, 5 s each
#   RATES="50000 100000" SECONDS_PER_RATE=10 BUFFER_MIB=32 sudo -E bash Benchmarks/live-ingest.sh
#
# Starts the built binary (FOOTFALL, default .build/release/footfall; build it first with
# `swift build -c release`) as `footfall run` with one TZSP source on loopback and the metrics
# endpoint on, then for each rate offers probe requests with Benchmarks/LiveIngest/tzsp-sender.c
# (compiled here with cc) and reads what was lost:
#   backlog  dropped by the kernel before any capture saw them (/proc/net/softnet_stat, all CPUs)
#   kernel   dropped from footfall's capture buffer (footfall_kernel_dropped_total)
#   ring     dropped from footfall's frame ring (footfall_ring_dropped_total)
# received = sent - backlog - kernel - ring. footfall exports no count of frames taken in (a
# live frame count is a count of people), so received is what was sent less every counted loss.
# The sender's achieved rate is printed next to the asked one: a rate the sender could not
# reach on this machine is not a measurement of footfall.
#
# Needs root (live capture on lo). Uses UDP port PORT (default 47008, not the 37008 of the
# tests, so a test running on the same machine does not see these frames) and metrics port
# METRICS_PORT (default 19464). Prints a Markdown table for docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."

FOOTFALL=${FOOTFALL:-.build/release/footfall}
RATES=${RATES:-"10000 25000 50000 100000 200000"}
SECONDS_PER_RATE=${SECONDS_PER_RATE:-5}
BUFFER_MIB=${BUFFER_MIB:-2}
PORT=${PORT:-47008}
METRICS_PORT=${METRICS_PORT:-19464}
DEVICES=${DEVICES:-2000}

if [ "$(id -u)" != 0 ]; then echo "live-ingest: needs root for live capture on lo" >&2; exit 1; fi
if [ ! -x "$FOOTFALL" ]; then echo "live-ingest: no $FOOTFALL; build it with swift build -c release (or set FOOTFALL=path)" >&2; exit 1; fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d)
footfall_pid=""
cleanup() {
    if [ -n "$footfall_pid" ]; then kill -TERM "$footfall_pid" 2>/dev/null || true; wait "$footfall_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -o "$work/tzsp-sender" Benchmarks/LiveIngest/tzsp-sender.c

cat > "$work/footfall.yaml" <<YAML
site:
  name: live ingest benchmark
  time_zone: Europe/Prague
  opening_hours: always
zones:
  - id: floor
    rssi_threshold: -60
sensors:
  - id: ap
    zone: floor
    tzsp: {interface: lo, port: $PORT, sender: 127.0.0.2}
    buffer_mib: $BUFFER_MIB
metrics:
  enabled: true
  address: 127.0.0.1
  port: $METRICS_PORT
YAML

mkdir "$work/out"
"$FOOTFALL" run --config "$work/footfall.yaml" --output "$work/out" --log-level info 2>"$work/run.log" &
footfall_pid=$!

metric() { # metric NAME_AND_LABEL_PREFIX → sum of matching samples (0 when absent)
    curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null | awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { printf "%d\n", s }'
}
# The second column of every CPU's line, in hexadecimal.
backlog_drops() { local s=0 line; while read -r _ d _; do s=$((s + 16#$d)); done < /proc/net/softnet_stat; echo "$s"; }

for _ in $(seq 100); do
    if [ "$(metric 'footfall_source_up{')" = 1 ]; then break; fi
    if ! kill -0 "$footfall_pid" 2>/dev/null; then cat "$work/run.log" >&2; echo "live-ingest: footfall run ended" >&2; exit 1; fi
    sleep 0.2
done
if [ "$(metric 'footfall_source_up{')" != 1 ]; then cat "$work/run.log" >&2; echo "live-ingest: the source did not come up" >&2; exit 1; fi

echo "| offered (frames/s) | achieved (frames/s) | sent | received | lost | backlog drops | kernel drops | ring drops |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for rate in $RATES; do
    b0=$(backlog_drops); k0=$(metric footfall_kernel_dropped_total); r0=$(metric footfall_ring_dropped_total)
    line=$("$work/tzsp-sender" "$rate" "$SECONDS_PER_RATE" "$PORT" 127.0.0.2 "$DEVICES")
    sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$line")
    achieved=$(sed -n 's/.*rate=\([0-9]*\).*/\1/p' <<<"$line")
    # The capture publishes kernel counts every 5 s; let it drain and publish.
    sleep 7
    b1=$(backlog_drops); k1=$(metric footfall_kernel_dropped_total); r1=$(metric footfall_ring_dropped_total)
    backlog=$((b1 - b0)); kernel=$((k1 - k0)); ring=$((r1 - r0))
    lost=$((backlog + kernel + ring))
    echo "| $rate | $achieved | $sent | $((sent - lost)) | $lost ($(awk -v l="$lost" -v s="$sent" 'BEGIN { printf "%.2f", 100 * l / s }') %) | $backlog | $kernel | $ring |"
done

kill -TERM "$footfall_pid"
wait "$footfall_pid" || { echo "live-ingest: footfall run exited with $?" >&2; cat "$work/run.log" >&2; exit 1; }
footfall_pid=""
echo
echo "buffer_mib: $BUFFER_MIB; $SECONDS_PER_RATE s per rate; $DEVICES devices; footfall: $("$FOOTFALL" --version); $(nproc) CPUs; load average (1, 5, 15 min) at the start: $load_before, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -h "footfall run stopped" "$work/run.log" || true
