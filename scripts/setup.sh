#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (as root) and for CI:
#
#   scripts/setup.sh run    install what is missing, build, run the service on its embedded defaults
#   scripts/setup.sh test   install what is missing, build, run the whole test suite
#                           (normal build, then ASan+UBSan, then the fuzzers for a bounded time,
#                           then clang-format) — .ci/run calls this
#
# Environment: BUILD_DIR (default build), JOBS (default: number of cores),
# FUZZ_SECONDS (default 15 per fuzzer).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODE=${1:-}
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}

say() { printf '\n==> %s\n' "$*"; }

# Debian 12 packages the build, the tests and the tools need.
PACKAGES=(
  build-essential cmake pkg-config git python3 tzdata ca-certificates openssl
  clang clang-format
  libpoco-dev rapidjson-dev libpugixml-dev libcurl4-openssl-dev libssl-dev
  libboost-test-dev libsqlite3-dev libpq-dev
  nodejs npm
  rsyslog rsyslog-gnutls
)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    # nodejs/npm may come from elsewhere on the machine (a newer Node is fine).
    if [[ $p == nodejs ]] && command -v node >/dev/null; then continue; fi
    if [[ $p == npm ]] && command -v npm >/dev/null; then continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "installing: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
      echo "setup.sh: packages are missing and this is not root: apt-get install ${missing[*]}" >&2
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# The service and the normal test build: optimised, no debug info (debug info makes the build about
# 40% slower on two cores and nothing here reads it). Later arguments override these.
configure_and_build() {  # dir, extra cmake args...
  local dir=$1
  shift
  cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DFHIRBRIDGE_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

# Sanitizer and fuzz builds: -O1 with line tables only, enough for ASan/UBSan reports to name the
# file and line, and asserts left on.
SANITIZER_FLAGS=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -g1")

run_tests() {  # dir
  (cd "$1" && ctest --output-on-failure -j "$JOBS")
}

# Seeds for one fuzz target, copied into a fresh folder (libFuzzer adds to its corpus).
fuzz_seeds() {  # target dir
  case "$1" in
    er7_fuzz | pcd01_fuzz | mllp_frame_fuzz)
      cp "$ROOT"/mappers/testdata/pcd01/*.hl7 "$2"/
      if [[ -d "$ROOT/../shared/data/hl7v2" ]]; then cp "$ROOT"/../shared/data/hl7v2/*.hl7 "$2"/; fi
      ;;
    phd_fuzz)
      cp "$ROOT"/mappers/testdata/phd/*.apdus "$2"/ 2>/dev/null || true
      if [[ -d "$ROOT/../shared/data/ieee11073/phd_20601_apdu" ]]; then
        cp "$ROOT"/../shared/data/ieee11073/phd_20601_apdu/*.bin "$2"/
      fi
      ;;
    json_mapper_fuzz)
      # The first byte picks the mapping: even = cgm, odd = wearable.
      for f in "$ROOT"/mappers/testdata/json/*_*.json; do
        case "$(basename "$f")" in
          wearable_*) (printf '\001'; cat "$f") >"$2/$(basename "$f")" ;;
          *) (printf '\000'; cat "$f") >"$2/$(basename "$f")" ;;
        esac
      done
      ;;
    sdc_fuzz)
      cp "$ROOT"/mappers/testdata/sdc/*.xml "$2"/
      if [[ -d "$ROOT/../shared/data/ieee11073/sdc_mdib" ]]; then
        cp "$ROOT"/../shared/data/ieee11073/sdc_mdib/*.xml "$2"/
      fi
      ;;
    ucum_fuzz)
      printf 'mg/dL' >"$2/a"
      printf '10*3/uL' >"$2/b"
      printf 'kg.m/s2' >"$2/c"
      printf '[degF]' >"$2/d"
      ;;
  esac
}

fuzz() {
  local targets=(er7_fuzz pcd01_fuzz mllp_frame_fuzz phd_fuzz ucum_fuzz json_mapper_fuzz sdc_fuzz)
  say "fuzzing (${FUZZ_SECONDS}s per target, clang libFuzzer + ASan/UBSan): ${targets[*]}"
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR-fuzz" "${SANITIZER_FLAGS[@]}" \
    -DFHIRBRIDGE_FUZZ=ON >/dev/null
  cmake --build "$BUILD_DIR-fuzz" -j "$JOBS" --target "${targets[@]}"
  local seeds
  for target in "${targets[@]}"; do
    seeds=$(mktemp -d)
    fuzz_seeds "$target" "$seeds"
    "$(find "$BUILD_DIR-fuzz" -type f -name "$target" -perm -u+x | head -n 1)" -max_total_time="$FUZZ_SECONDS" -max_len=65536 \
      -print_final_stats=1 "$seeds" 2>&1 | tail -n 12
    rm -rf "$seeds"
  done
}

check_format() {
  say "clang-format"
  local files
  files=$(git ls-files '*.cpp' '*.h')
  clang-format --dry-run --Werror $files
}

case "$MODE" in
  run)
    install_missing
    say "fetching the FHIR definitions and the test FHIR server (npm ci)"
    (cd conformance/fhir-server && npm ci --no-audit --no-fund --loglevel=error)
    say "building"
    configure_and_build "$BUILD_DIR"
    say "fhirbridge run on its embedded defaults: MLLP on 127.0.0.1:2575, admin API on" \
      "127.0.0.1:8080, store and outbox under ./var (Ctrl-C stops it)"
    exec "$BUILD_DIR/engine/app/fhirbridge" run
    ;;
  test)
    install_missing
    say "installing the test FHIR server (npm ci)"
    (cd conformance/fhir-server && npm ci --no-audit --no-fund --loglevel=error)
    say "build and test"
    configure_and_build "$BUILD_DIR"
    run_tests "$BUILD_DIR"
    say "build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
    # -Werror is the normal build's job: GCC 12 reports false maybe-uninitialized warnings inside
    # libstdc++ (std::function in <regex>) when ASan instruments it.
    configure_and_build "$BUILD_DIR-asan" "${SANITIZER_FLAGS[@]}" -DFHIRBRIDGE_SANITIZE=ON \
      -DFHIRBRIDGE_WERROR=OFF
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests "$BUILD_DIR-asan"
    fuzz
    check_format
    say "all checks passed"
    ;;
  *)
    echo "usage: scripts/setup.sh run|test" >&2
    exit 2
    ;;
esac
