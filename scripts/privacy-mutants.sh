#!/usr/bin/env bash
# Breaks the production wiring of footfall's privacy guarantees on purpose, one mutant at a
# time, and runs the privacy suite (Tests/FootfallPrivacyTests) against each: an auditor's
# check that the suite tests the wiring and not only the parts (PRIVACY.md, "Mutants").
#
#   scripts/privacy-mutants.sh            every mutant
#   scripts/privacy-mutants.sh NAME...    only these (names as printed by --list)
#   scripts/privacy-mutants.sh --list     the names and what each one breaks
#   scripts/privacy-mutants.sh --check    only check that every mutant still applies (no build)
#
# Prints `killed NAME` (the suite failed, as it must) or `survived NAME` (the suite passed
# with the guarantee broken) per mutant; exits 0 only if every mutant was killed.
#
# The working tree is never touched: the sources are copied to .build-mutants/src (listed
# in .gitignore), each mutant is applied there and undone afterwards, and the builds use
# their own scratch path, .build-mutants/build, so the first build is a full one and later
# ones are incremental. Needs root for the tests that capture on lo (as CI runs them) and
# strace for the file test. Slow: one debug build per mutant.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/.build-mutants"
src="$work/src"
scratch="$work/build"
jobs="${MUTANT_JOBS:-1}"

# name|what it breaks
mutants=(
  "constant-key|KeyStore.rotate writes a constant instead of random key words"
  "clock-seeded-key|the key comes from a generator seeded with the time of day"
  "no-rotation|the key epoch never rotates, whatever the schedule says"
  "tables-kept-across-rotation|the tracker keeps its pseudonym tables when the key period ends"
  "strict-one-key|strict mode hashes every zone under one key"
  "writer-k1|the hours are published with k = 1"
  "dwell-under-k|dwell statistics are published for a zone whose visitors are withheld"
  "visits-under-k|visits are published for a zone whose visitors are withheld"
  "pseudonym-logged|the pipeline logs each pseudonym at trace level"
  "key-written-to-file|the key words are written to /tmp/footfall-key"
  "run-unhardened|footfall run skips process hardening"
  "opt-out-removed|the gate no longer checks the opt-out list"
  "metrics-count-opted-out|a live metric counts every frame, opted-out ones included"
  "ring-not-zeroed|frame ring slots keep the raw frame after it is parsed"
  "ring-not-locked|the frame ring is not locked in RAM"
  "pcap-ring-not-zeroed|frames stay in libpcap's ring after they are copied out"
  "key-life-wall-clock-only|a key may outlive 24 h of real time when the clock is set back"
  "no-difference-protection|published counts may differ by 1..k-1 (overlapping zones)"
  "replay-batch-not-zeroed|replay's batches keep their probe requests after the core took them"
  "replay-batches-kept-on-stop|a replay stopped by a failed write leaves probe requests in its batches"
  "read-buffer-not-zeroed|a capture file read to its end leaves raw frames in the reader's buffer"
)

# edit ANCHOR PERL: applies the perl substitution to the one file under Sources/ that
# contains ANCHOR (so the mutant survives files moving between modules); fails loudly if
# the anchor or the substitution no longer applies.
edit() {
  local anchor=$1 expression=$2 files
  files=$(grep -rlF -- "$anchor" "$src/Sources" || true)
  if [ -z "$files" ] || [ "$(printf '%s\n' "$files" | wc -l)" -ne 1 ]; then
    echo "mutant does not apply: anchor found in ${files:-no file}: $anchor" >&2
    return 1
  fi
  cp "$files" "$files.orig-mutant"
  perl -0pi -e "$expression" "$files"
  if cmp -s "$files" "$files.orig-mutant"; then
    echo "mutant does not apply: substitution changed nothing in $files" >&2
    rm "$files.orig-mutant"
    return 1
  fi
  rm "$files.orig-mutant"
}

apply_mutant() {
  case "$1" in
  constant-key)
    edit 'for i in 0 ..< 2 * slots { words[i] = rng.next() }' \
      's/for i in 0 \.\.< 2 \* slots \{ words\[i\] = rng\.next\(\) \}/for i in 0 ..< 2 * slots { words[i] = 0x0123_4567_89AB_CDEF \&+ UInt64(i); _ = rng.next() }/' ;;
  clock-seeded-key)
    edit 'for i in 0 ..< 2 * slots { words[i] = rng.next() }' \
      's/var rng = SystemRandomNumberGenerator\(\)\n(\s*for i in 0 \.\.< 2 \* slots)/var rng = ClockSeededGenerator()\n$1/; $_ .= "\nimport Foundation\nstruct ClockSeededGenerator: RandomNumberGenerator {\n    var state = UInt64(Date().timeIntervalSince1970)\n    mutating func next() -> UInt64 {\n        state \&+= 0x9E37_79B9_7F4A_7C15\n        var z = state\n        z = (z ^ (z >> 30)) \&* 0xBF58_476D_1CE4_E5B9\n        z = (z ^ (z >> 27)) \&* 0x94D0_49BB_1331_11EB\n        return z ^ (z >> 31)\n    }\n}\n"' ;;
  no-rotation)
    edit 'guard nowSeconds >= due else { return false }' \
      's/guard nowSeconds >= due else \{ return false \}/guard nowSeconds >= due, nowSeconds < 0 else { return false }/' ;;
  tables-kept-across-rotation)
    edit 'extension Tracker: PseudonymScope {' \
      's/(public mutating func endKeyPeriod\(at instantSeconds: Int64\) \{\n)(\s*)reset\(\)/$1$2_ = instantSeconds/' ;;
  strict-one-key)
    edit 'public func keySlot(sensorZone: Int) -> Int { strict ? sensorZone : 0 }' \
      's/public func keySlot\(sensorZone: Int\) -> Int \{ strict \? sensorZone : 0 \}/public func keySlot(sensorZone: Int) -> Int { 0 }/' ;;
  writer-k1)
    edit 'guard let epsilon = privacy.epsilon else { return apply(report, k: privacy.k) }' \
      's/guard let epsilon = privacy\.epsilon else \{ return apply\(report, k: privacy\.k\) \}/guard let epsilon = privacy.epsilon else { return apply(report, k: 1) }/' ;;
  dwell-under-k)
    edit 'return visitorsWithheld || noisy ? .withheld : .value(value)' \
      's/return visitorsWithheld \|\| noisy \? \.withheld : \.value\(value\)/return noisy ? .withheld : .value(value)/' ;;
  visits-under-k)
    edit 'visits: visitorsWithheld || isSmall(row.visits, k: k)' \
      's/visits: visitorsWithheld \|\| isSmall\(row\.visits, k: k\)/visits: isSmall(row.visits, k: k)/' ;;
  pseudonym-logged)
    edit 'public var debugDescription: String { "Pseudonym(redacted)" }' \
      's/$/\nextension Pseudonym {\n    public var mutantBits: UInt64 { value }\n}\n/' &&
    edit 'epoch.scope.observe(observation)' \
      's/(\n(\s*)epoch\.scope\.observe\(observation\)\n)/$1$2lastDeviceBits = observation.device.mutantBits\n/; s/(public struct PipelineCore: ~Copyable \{\n)/$1    public private(set) var lastDeviceBits: UInt64 = 0\n/' &&
    edit 'probesPerSensor[sensor] += 1' \
      's/(\n(\s*)core\.process\(request, sensor: sensor\)\n)/$1$2logger.trace("observation", metadata: ["device": "\\(String(core.lastDeviceBits, radix: 16))"])\n/' ;;
  key-written-to-file)
    edit 'for i in 0 ..< 2 * slots { words[i] = rng.next() }' \
      's/(for i in 0 \.\.< 2 \* slots \{ words\[i\] = rng\.next\(\) \})/$1\n        if let file = fopen("\/tmp\/footfall-key", "w") { fwrite(words, 8, 2 * slots, file); fclose(file) }/; $_ = "#if canImport(Glibc)\nimport Glibc\n#endif\n" . $_' ;;
  run-unhardened)
    # A stand-in with the members `run` reads (Report's memberwise init is internal to its
    # module), claiming success, so the only change is that nothing is applied.
    edit 'let hardening = ProcessHardening.apply()' \
      's/let hardening = ProcessHardening\.apply\(\)/let hardening = (problems: [String](), isComplete: true)/' ;;
  opt-out-removed)
    edit 'if optOut.contains(request.source) { return .drop(.optedOut) }' \
      's/if optOut\.contains\(request\.source\) \{ return \.drop\(\.optedOut\) \}/_ = optOut/' ;;
  metrics-count-opted-out)
    edit 'keyAge = gauge("footfall_key_age_seconds")' \
      's/(\n(\s*)keyAge = gauge\("footfall_key_age_seconds"\)\n)/$1$2mutantFrames = counter("footfall_frames_total")\n/; s/(\n(\s*)let keyAge: Metrics\.Gauge\n)/$1$2let mutantFrames: Metrics.Counter\n/' &&
    edit 'framesPerSensor[sensor] += 1' \
      's/(\n(\s*)framesPerSensor\[sensor\] \+= 1\n)/$1$2metrics.mutantFrames.increment()\n/' ;;
  ring-not-zeroed)
    edit 'SensitiveMemory.zero(slot, length)' 's/SensitiveMemory\.zero\(slot, length\)/_ = length/' ;;
  pcap-ring-not-zeroed)
    edit 'SensitiveMemory.zero(UnsafeMutableRawPointer(mutating: bytes), captured)' \
      's/SensitiveMemory\.zero\(UnsafeMutableRawPointer\(mutating: bytes\), captured\)/_ = captured/' ;;
  ring-not-locked)
    edit 'lockStatus = mlock(mapped, bytes) == 0 ? .locked' \
      's/lockStatus = mlock\(mapped, bytes\) == 0 \? \.locked/lockStatus = false ? .locked/' ;;
  key-life-wall-clock-only)
    edit '} else if monotonic - keyStartMonotonic >= Self.maxKeyLifeNanos {' \
      's/\} else if monotonic - keyStartMonotonic >= Self\.maxKeyLifeNanos \{/} else if false, monotonic - keyStartMonotonic >= Self.maxKeyLifeNanos {/' ;;
  no-difference-protection)
    edit 'changed = protectDifferences(rows: rows, flows: report.flows' \
      's/changed = protectDifferences\(rows: rows, flows: report\.flows[^\n]*\|\| changed/_ = protectDifferences/' ;;
  replay-batch-not-zeroed)
    edit 'SensitiveMemory.zero(UnsafeMutableRawPointer(requests + batch &* batchCapacity), batchCapacity' \
      's/SensitiveMemory\.zero\(UnsafeMutableRawPointer\(requests \+ batch &\* batchCapacity\), batchCapacity[^\n]*\)\n/_ = batch\n/' ;;
  replay-batches-kept-on-stop)
    edit 'SensitiveMemory.zero(memory.base, batchCount &* batchCapacity' \
      's/SensitiveMemory\.zero\(memory\.base, batchCount &\* batchCapacity[^\n]*\)\n/_ = memory\n/' ;;
  read-buffer-not-zeroed)
    edit 'SensitiveMemory.zero(buffer, BufferedPcapFile.blockSize)' \
      's/SensitiveMemory\.zero\(buffer, BufferedPcapFile\.blockSize\)\n/_ = buffer\n/' ;;
  *) echo "unknown mutant: $1" >&2; return 1 ;;
  esac
}

if [ "${1:-}" = "--list" ]; then
  for m in "${mutants[@]}"; do printf '%-28s %s\n' "${m%%|*}" "${m#*|}"; done
  exit 0
fi
selected=("$@")
if [ "${1:-}" = "--check" ]; then selected=(); fi
if [ ${#selected[@]} -eq 0 ]; then for m in "${mutants[@]}"; do selected+=("${m%%|*}"); done; fi

# A pristine copy of the sources next to the scratch build (same path every time, so builds
# stay incremental across runs).
# sync FROM TO: makes TO's files equal to FROM's, copying only files whose bytes differ
# (so they get a new modification time and unchanged ones keep theirs) and deleting extra
# ones; build directories and git metadata are left out.
sync() {
  local from=$1 to=$2 file
  mkdir -p "$to"
  (cd "$from" && find . \( -name '.build*' -o -name .git -o -name .swiftpm \) -prune -o -type f -print) | sort >"$work/from.list"
  (cd "$to" && find . \( -name '.build*' -o -name .git -o -name .swiftpm \) -prune -o -type f -print) | sort >"$work/to.list"
  while IFS= read -r file; do
    if ! cmp -s "$from/$file" "$to/$file"; then mkdir -p "$(dirname "$to/$file")"; cp -p "$from/$file" "$to/$file"; touch "$to/$file"; fi
  done <"$work/from.list"
  comm -13 "$work/from.list" "$work/to.list" | while IFS= read -r file; do rm -f "$to/$file"; done
}

mkdir -p "$work"
sync "$root" "$src"
sync "$src/Sources" "$work/Sources.pristine"

build() { swift build --package-path "$src" --scratch-path "$scratch" --build-tests -j "$jobs" >"$work/build.log" 2>&1; }
suite() { swift test --package-path "$src" --scratch-path "$scratch" --skip-build --filter FootfallPrivacyTests >"$work/test-$1.log" 2>&1; }
# Only files that differ are copied back, with a new modification time, so the next build
# sees them as changed (see sync).
restore() { sync "$work/Sources.pristine" "$src/Sources"; }

if [ "${1:-}" = "--check" ]; then
  failed=0
  for m in "${mutants[@]}"; do
    restore
    if apply_mutant "${m%%|*}"; then echo "applies ${m%%|*}"; else echo "error ${m%%|*}"; failed=1; fi
  done
  restore
  exit $failed
fi

echo "building the unmutated tree (scratch path $scratch)…"
if ! build; then echo "error: the unmutated tree does not build; see $work/build.log" >&2; exit 2; fi
if ! suite unmutated; then echo "error: the privacy suite fails without any mutant; see $work/test-unmutated.log" >&2; exit 2; fi

survivors=0
for name in "${selected[@]}"; do
  restore
  if ! apply_mutant "$name"; then echo "error $name (does not apply to this tree)"; survivors=$((survivors + 1)); continue; fi
  rm -f /tmp/footfall-key
  if ! build; then
    echo "error $name (does not compile; see $work/build.log)"; survivors=$((survivors + 1)); continue
  fi
  if suite "$name"; then
    echo "survived $name"; survivors=$((survivors + 1))
  else
    echo "killed $name"
  fi
  rm -f /tmp/footfall-key
done
restore
if [ "$survivors" -eq 0 ]; then echo "all ${#selected[@]} mutants killed"; exit 0; fi
echo "$survivors of ${#selected[@]} mutants not killed"
exit 1
