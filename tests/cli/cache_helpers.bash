# Shared by the cache tests (tests/cli/cache_*.bats and */cache_records.bats), loaded after
# common. Every counted command appends a line to ./runs, so the number of lines is the
# number of times it ran.

# runs_count: how many times the counted commands ran (lines of ./runs).
runs_count() {
    if [[ -e runs ]]; then
        wc -l <runs | tr -d ' '
    else
        echo 0
    fi
}

# assert_runs N: the counted commands ran N times.
assert_runs() {
    assert_equal "runs: $(runs_count)" "runs: $1"
}

# assert_one_run_with_a_waiter KEY: a caller runs a gated command under KEY while a second
# one waits for it; both print the first run's output and the command ran once.
assert_one_run_with_a_waiter() {
    local key=$1
    local gated="echo run >> runs; $(wait_for_go_cmd); echo fresh"
    spawn first "$LOCKRUN" --key "$key" -c "$gated"
    wait_until 10 test -s runs
    spawn second "$LOCKRUN" -v --wait 30 --key "$key" -c "$gated"
    wait_until 10 grep -q 'waiting for' second.err
    touch go
    assert_exit first 0 10
    assert_exit second 0 10
    assert_equal "$(<first.out)" fresh
    assert_equal "$(<second.out)" fresh
    assert_runs 1
}

# as_format VERSION FILE OUT [AT]: the format-4 record in FILE, of a run without --files (AT
# bytes into it: a local result file has a 12-byte header first), written to OUT as lockrun
# 0.2 wrote it before --files (VERSION 3: without the files' count, the record's last 4
# bytes) or also before compression (VERSION 2: without the output-kind byte that format 3
# added after the host (its u64 length at offset 25, then its bytes) and the fence (u64)).
as_format() {
    local version=$1 at=${4:-0} host_length kind_at
    host_length=$(od -An -t u8 -j $((at + 25)) -N 8 "$2" | tr -d ' ')
    kind_at=$((at + 25 + 8 + host_length + 8))
    case $version in
        3) { head -c $((at + 4)) "$2"; printf '\003'; tail -c +$((at + 6)) "$2" | head -c -4; } >"$3"
           assert_equal "$(($(wc -c <"$3") + 4))" "$(wc -c <"$2")" ;;
        2) { head -c $((at + 4)) "$2"; printf '\002'; head -c "$kind_at" "$2" | tail -c +$((at + 6))
             tail -c +$((kind_at + 2)) "$2" | head -c -4; } >"$3"
           assert_equal "$(($(wc -c <"$3") + 5))" "$(wc -c <"$2")" ;;
        *) fail "as_format: no format $version" ;;
    esac
}

# assert_replayed_without_running KEY OUTPUT: a call with KEY replays OUTPUT; its command
# does not run.
assert_replayed_without_running() {
    run --separate-stderr lockrun --key "$1" -c 'echo run >> runs; echo fresh'
    assert_status 0
    assert_output "$2"
    assert_regex "$stderr" 'replayed the run of'
    [[ ! -e runs ]] || fail "the command ran"
}
