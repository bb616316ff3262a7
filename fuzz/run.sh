#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build dir build-fuzz) and fuzzes each for a bounded
# time. New inputs go to a scratch directory, never into the committed corpus; a crash leaves its
# input in build-fuzz/fuzz-artifacts/ and fails the script.
#   fuzz/run.sh [SECONDS_PER_TARGET=40] [TARGET...]
# CI runs every target at the default: 7 targets x 40 s keeps the fuzz step under ~5 minutes
# plus the build.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-40}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(batch_protobuf batch_json filter series_chunk spool notebook http)
dir=${NEREID_FUZZ_BUILD_DIR:-build-fuzz}
if [ ! -f "$dir/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNEREID_FUZZ=ON -DNEREID_BUILD_TESTS=OFF -DNEREID_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$dir" -j "${NEREID_JOBS:-$(nproc)}" --target "${targets[@]/%/_fuzzer}"
mkdir -p "$dir/fuzz-artifacts"
status=0
for t in "${targets[@]}"; do
  scratch="$dir/fuzz-scratch/$t"
  mkdir -p "$scratch"
  echo "fuzz: $t for ${seconds}s"
  # -rss_limit_mb: a decoder that allocates without bound is a finding too.
  if ! "$dir/fuzz/${t}_fuzzer" "$scratch" "fuzz/corpus/$t" -max_total_time="$seconds" \
       -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$dir/fuzz-artifacts/${t}-" 2>"$dir/fuzz-$t.log"; then
    echo "fuzz: $t FAILED; see $dir/fuzz-$t.log and $dir/fuzz-artifacts/" >&2
    tail -n 40 "$dir/fuzz-$t.log" >&2
    status=1
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|cov: " "$dir/fuzz-$t.log" | tail -n 3
done
exit $status
