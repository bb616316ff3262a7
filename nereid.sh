#!/usr/bin/env bash
# Nereid's one entry point on a Debian 12 machine (as root, or with sudo available):
#   ./nereid.sh run [server flags]   install what is missing, build, start the server
#   ./nereid.sh test                 install what is missing, build, run every test
#   ./nereid.sh sanitize             build and run the C++ tests under ASan+UBSan
#   ./nereid.sh tsan                 build and run the client's tests under TSan
#   ./nereid.sh build | deps         just build / just install packages
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the build and tests need. Keep in sync with docs/operations.md.
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libprotobuf-dev protobuf-compiler libsqlite3-dev libzstd-dev zlib1g-dev libssl-dev
  libcurl4-openssl-dev libgit2-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsodium-dev libpq-dev postgresql
  python3 python3-pytest python3-requests zstd
  chromium
  python3-dev python3-pip python3-venv pybind11-dev python3-numpy python3-pandas python3-psutil
  python3-torch
  clang libclang-rt-14-dev
)
BUILD_DIR=${NEREID_BUILD_DIR:-build}
JOBS=${NEREID_JOBS:-$(nproc)}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # The web UI is built with Node.js and npm. Checked by command, not package: a machine may have
  # Node.js from elsewhere (its package then provides npm and conflicts with Debian's).
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "nereid: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
}

configure() {  # configure DIR [cmake args...]
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  fi
}

build() {
  configure "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

cmd=${1:-help}
shift || true
case "$cmd" in
  deps) deps ;;
  build) deps; build ;;
  run)
    deps; build
    exec "$BUILD_DIR/nereid" server "$@"
    ;;
  test)
    deps; build
    (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" "$@")
    ;;
  sanitize)
    deps
    dir=${BUILD_DIR}-asan
    configure "$dir" -DCMAKE_BUILD_TYPE=Debug -DNEREID_SANITIZE=address -DNEREID_BUILD_BENCH=OFF
    cmake --build "$dir" -j "$JOBS"
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       ctest --output-on-failure -j "$JOBS" -LE slow "$@")
    ;;
  tsan)
    # Only the client library's tests: it is the multi-threaded code users run in their process.
    deps
    dir=${BUILD_DIR}-tsan
    configure "$dir" -DCMAKE_BUILD_TYPE=Debug -DNEREID_SANITIZE=thread -DNEREID_BUILD_BENCH=OFF
    cmake --build "$dir" -j "$JOBS" --target client_spool_test client_run_test client_git_test \
      client_float_points_test client_send_period_test
    (cd "$dir" && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
       ctest --output-on-failure -j "$JOBS" -R '^client_' "$@")
    ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    [ "$cmd" = help ] || exit 2
    ;;
esac
