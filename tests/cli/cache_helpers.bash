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
