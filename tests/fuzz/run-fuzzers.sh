#!/usr/bin/env bash
# Build every libFuzzer harness (tests/fuzz/fuzz_*.c) with clang, ASan
# and UBSan, then run each one for FUZZ_SECONDS on a scratch copy of its
# seed corpus.  Fails if any harness does not build, crashes, leaks,
# hits undefined behaviour, times out on an input or runs out of memory.
#
# Usage: tests/fuzz/run-fuzzers.sh [BUILD_DIR] [HARNESS...]
#   BUILD_DIR  clang build directory (default: <source>/build-fuzz); it
#              is configured here if needed and must use clang.
#   HARNESS    only these (e.g. fuzz_ike_msg); default: all.
# Environment:
#   FUZZ_SECONDS  run time per harness (default 30)
#   FUZZ_TIMEOUT  per-input timeout in seconds (default 10)
#   FUZZ_RSS_MB   memory limit per harness (default 2048)
#   FUZZ_JOBS     build parallelism (default: nproc)
#   FUZZ_ARGS     extra libFuzzer flags (e.g. "-dict=x.dict -jobs=2")
#   CC            clang binary (default: clang)
#
# The repository corpus is never written to: new inputs go to a
# temporary copy that is deleted afterwards.  Crash, leak, timeout and
# OOM reproducers are kept in BUILD_DIR/fuzz-artifacts/<harness>/.
set -u -o pipefail

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=${1:-$src_dir/build-fuzz}
[ $# -gt 0 ] && shift
seconds=${FUZZ_SECONDS:-30}
per_input_timeout=${FUZZ_TIMEOUT:-10}
rss_mb=${FUZZ_RSS_MB:-2048}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
cc=${CC:-clang}
read -r -a extra_args <<<"${FUZZ_ARGS:-}"

die() {
	echo "run-fuzzers: $*" >&2
	exit 2
}

case $seconds in '' | *[!0-9]*) die "FUZZ_SECONDS must be a number" ;; esac
command -v "$cc" >/dev/null 2>&1 || die "$cc not found (clang is required)"
"$cc" --version 2>/dev/null | grep -q clang || die "$cc is not clang"

# Harness list: every tests/fuzz/fuzz_*.c, optionally filtered.
harnesses=()
for f in "$src_dir"/tests/fuzz/fuzz_*.c; do
	[ -e "$f" ] || continue
	harnesses+=("$(basename "$f" .c)")
done
if [ $# -gt 0 ]; then
	wanted=()
	for h in "$@"; do
		h=${h%.c}
		[ -e "$src_dir/tests/fuzz/$h.c" ] || die "no harness $h"
		wanted+=("$h")
	done
	harnesses=("${wanted[@]}")
fi
if [ ${#harnesses[@]} -eq 0 ]; then
	echo "run-fuzzers: no tests/fuzz/fuzz_*.c harnesses, nothing to do"
	exit 0
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/vpnr-fuzz.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$scratch"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Configure (or re-use) a clang build with the fuzzers enabled.  The
# examples stay on: minigw's config harness links minigw's modules (only
# the harness targets and what they need are built).
if [ -f "$build_dir/CMakeCache.txt" ]; then
	cached_cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' \
	    "$build_dir/CMakeCache.txt")
	case $(basename "${cached_cc:-none}") in
	clang*) ;;
	*) die "$build_dir is configured with '${cached_cc}', not clang; use another directory" ;;
	esac
fi
echo "run-fuzzers: configuring $build_dir"
if ! CC=$cc cmake -S "$src_dir" -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVPNR_BUILD_FUZZERS=ON \
    -DBUILD_TESTING=ON -DVPNR_BUILD_EXAMPLES=ON -DVPNR_BUILD_BENCH=OFF \
    -DVPNR_INTEROP=OFF >"$scratch/configure.log" 2>&1; then
	cat "$scratch/configure.log" >&2
	die "cmake configure failed"
fi
echo "run-fuzzers: building ${#harnesses[@]} harness(es)"
if ! cmake --build "$build_dir" -j "$jobs" --target "${harnesses[@]}"; then
	die "build failed"
fi

# Abort on the first UBSan report (the fuzz flags keep it recoverable)
# and on leaks; keep the caller's extra options.
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

failed=0
summary=()
for h in "${harnesses[@]}"; do
	bin=$(find "$build_dir" -type f -name "$h" -perm -u+x 2>/dev/null | head -n 1)
	if [ -z "$bin" ]; then
		summary+=("$(printf '%-28s FAIL  binary not found' "$h")")
		failed=1
		continue
	fi
	corpus_src=$src_dir/tests/fuzz/corpus/$h
	work=$scratch/$h
	artifacts=$build_dir/fuzz-artifacts/$h
	mkdir -p "$work/corpus" "$artifacts"
	seeds=0
	if [ -d "$corpus_src" ]; then
		cp -R "$corpus_src/." "$work/corpus/"
		seeds=$(find "$work/corpus" -type f | wc -l)
	fi
	log=$artifacts/last-run.log
	echo "run-fuzzers: $h for ${seconds}s on $seeds seed(s)"
	# Bounded even if libFuzzer ignores -max_total_time (stuck input).
	timeout --kill-after=30 $((seconds + per_input_timeout + 120)) \
	    "$bin" -max_total_time="$seconds" -timeout="$per_input_timeout" \
	    -rss_limit_mb="$rss_mb" -print_final_stats=1 \
	    -artifact_prefix="$artifacts/" "${extra_args[@]}" "$work/corpus" \
	    >"$log" 2>&1
	rc=$?
	runs=$(sed -n -E 's/^stat::number_of_executed_(runs|units):[[:space:]]*//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	after=$(find "$work/corpus" -type f | wc -l)
	if [ $rc -eq 0 ] && ! grep -q -E '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer)' "$log"; then
		summary+=("$(printf '%-28s OK    runs=%s cov=%s corpus=%s->%s' \
		    "$h" "${runs:-?}" "${cov:-?}" "$seeds" "$after")")
	else
		failed=1
		what=$(grep -m 1 -o -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [a-zA-Z-]+|runtime error: .*|ERROR: [a-zA-Z]+Sanitizer[^ ]*' "$log" | head -n 1)
		[ $rc -eq 124 ] || [ $rc -eq 137 ] && what="killed by timeout(1)"
		art=$(grep -o -E "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/Test unit written to //')
		summary+=("$(printf '%-28s FAIL  exit=%s %s%s' "$h" "$rc" \
		    "${what:-see log}" "${art:+ reproducer=$art}")")
		echo "---- $h: last 40 lines of $log" >&2
		tail -n 40 "$log" >&2
	fi
done

echo
echo "run-fuzzers summary (${seconds}s each, build $build_dir):"
for line in "${summary[@]}"; do
	echo "  $line"
done
if [ $failed -ne 0 ]; then
	echo "run-fuzzers: FAILED (logs and reproducers in $build_dir/fuzz-artifacts/)"
	exit 1
fi
echo "run-fuzzers: all ${#harnesses[@]} harness(es) passed"
exit 0
