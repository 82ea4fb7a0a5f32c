#!/usr/bin/env bats
# The lease: renewed while the command runs, so that a holder keeps the key as long as its
# command runs (SPEC §2 --lease, §5, §6). What frees the key of a holder that died without
# releasing it differs: the lease running out (redis/lease_expiry.bats), or the kernel at
# once (local/crashed_holder.bats).

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "a holder whose command runs longer than its lease keeps the key" {
    start_holder holder --lease 1s --key renewed
    local holder_before
    holder_before=$(holder_of renewed)
    assert_regex "$holder_before" "^held pid=${SPAWNED[holder]} fence=[0-9]+\$"
    # Wait on the clock, not on state: 2.5 leases into the run.
    sleep_until_ms $(($(<holder.started) + 2500))

    run --separate-stderr lockrun --no-cache --wait 0 --key renewed -- touch ran
    assert_status 75
    assert [ ! -e ran ]
    assert_equal "$(holder_of renewed)" "$holder_before"

    release holder
    assert_exit holder 0 10
    assert_nothing_held
}
