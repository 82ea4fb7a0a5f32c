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
