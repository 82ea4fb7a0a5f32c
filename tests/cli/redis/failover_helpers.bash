# For the failover tests (cluster_failover.bats, sentinel.bats): a holder's and a waiter's
# commands that write when they ran (in ns), and the check that they never overlapped. A
# holder stopped for losing its lock (SIGTERM, 76) writes its end too.

# shellcheck disable=SC2016
HOLDER_COMMAND='trap "date +%s%N >holder.end; exit 143" TERM; date +%s%N >holder.start; touch started; sleep 5 & wait; date +%s%N >holder.end; echo held'
# shellcheck disable=SC2016
WAITER_COMMAND='date +%s%N >waiter.start; echo waited'

# assert_failover_outcome: after a failover, the spawned holder ended 0 (it kept its lock
# on the new master) or 76 (it lost it), the spawned waiter ran, and after the holder.
assert_failover_outcome() {
    wait_exit holder 30
    [[ $EXIT_STATUS == 0 || $EXIT_STATUS == 76 ]] || fail "holder exited $EXIT_STATUS: $(cat holder.err)"
    assert_exit waiter 0 40
    run cat waiter.out
    assert_output waited
    assert_one_after_the_other
}

# assert_one_after_the_other: the waiter's command started after the holder's ended.
assert_one_after_the_other() {
    [[ -s holder.end && -s waiter.start ]] || fail "missing holder.end or waiter.start"
    (($(cat waiter.start) > $(cat holder.end))) ||
        fail "the waiter started $(( ($(cat holder.end) - $(cat waiter.start)) / 1000000 )) ms before the holder ended"
}
