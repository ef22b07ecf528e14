#!/bin/sh
# run.sh - `make fuzz`: runs each harness for a set time from its seed corpus.
#
#     sh tests/fuzz/run.sh BUILD_DIR SECONDS NAME...
#
# For each NAME, BUILD_DIR/fuzz_NAME runs for SECONDS (libFuzzer's
# -max_total_time) on a work copy of tests/fuzz/corpus/NAME/ and
# tests/fuzz/regress/NAME/ (BUILD_DIR/work/NAME/: what it learns stays
# there, the checked-in seeds are not touched).  A crash, leak, timeout
# (-timeout=10 s an input) or out-of-memory (-rss_limit_mb=2048) stops that
# harness; its input is written to BUILD_DIR/crashes/NAME/.  Every harness
# runs; the exit status is 1 when any of them failed.  FUZZ_NICE=0 runs them
# at normal priority (default: nice -n 19); FUZZ_ARGS adds libFuzzer options.
set -u
build=$1 secs=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
nice=${FUZZ_NICE:-19}
failed=""
for h in "$@"; do
	bin=$build/fuzz_$h work=$build/work/$h crashes=$build/crashes/$h log=$build/fuzz_$h.log
	mkdir -p "$work" "$crashes"
	stamp=$build/work/.start.$h
	: >"$stamp"
	for d in "$root/tests/fuzz/corpus/$h" "$root/tests/fuzz/regress/$h"; do
		[ -d "$d" ] && cp -p "$d"/* "$work"/ 2>/dev/null
	done
	echo "== fuzz_$h: ${secs}s from $(find "$work" -type f | wc -l) inputs (log: $log)"
	# shellcheck disable=SC2086
	nice -n "$nice" "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/" ${FUZZ_ARGS:-} "$work" >"$log" 2>&1
	rc=$?
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" |
		sed 's/^stat::/   /'
	echo "   corpus now: $(find "$work" -type f | wc -l) inputs"
	if [ $rc -ne 0 ]; then
		failed="$failed $h"
		echo "   FAILED (exit $rc): $(grep -m1 -E 'ERROR|SUMMARY|property failed' "$log")"
		find "$crashes" -type f -newer "$stamp" | sed 's/^/   input: /'
		echo "   Reproduce: $bin INPUT.  Once fixed, keep it as a regression test:"
		echo "     mkdir -p tests/fuzz/regress/$h && cp INPUT tests/fuzz/regress/$h/"
	fi
done
if [ -n "$failed" ]; then
	echo "make fuzz: failed:$failed"
	exit 1
fi
echo "make fuzz: no crash in $*"
