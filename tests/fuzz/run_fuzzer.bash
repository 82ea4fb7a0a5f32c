#!/usr/bin/env bash
# run_fuzzer.bash FUZZER SEEDS: runs one libFuzzer target for LOCKRUN_FUZZ_SECONDS (default
# 10) of wall time on a copy of its seed corpus (SEEDS, a directory); fails on a crash, a
# sanitizer report or a broken invariant. Its log (NAME.log) and any crashing input
# (NAME-crash-...) stay in the working directory (ctest's: build-fuzz/tests).
set -uo pipefail
fuzzer=$1 seeds=$2 seconds=${LOCKRUN_FUZZ_SECONDS:-10}
name=$(basename "$fuzzer")
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp "$seeds"/* "$corpus/"
status=0
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 \
    -artifact_prefix="$PWD/$name-" "$corpus" >"$name.log" 2>&1 || status=$?
if [[ $status -eq 0 ]]; then
    echo "fuzz $name: ${seconds}s, $(ls "$corpus" | wc -l) inputs in the corpus, no crash"
else
    echo "fuzz $name: FAILED (exit $status; $PWD/$name.log):"
    tail -n 40 "$name.log"
fi
exit "$status"
