#!/usr/bin/env bats
# Fault injection on the client side: a lockrun SIGKILLed (no handler runs, nothing is
# released) while it holds the lock, or while it waits for one. What is left in Redis is then
# whatever lockrun had already written, and the lease is the only thing that cleans up after
# it (SPEC §5: "a crashed holder is noticed when its lease runs out"; the README: "crashed
# holder: freed at lease expiry").

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# connected_clients: how many connections the server has (this redis-cli's one included).
connected_clients() {
    local line
    while IFS= read -r line; do
        if [[ $line == connected_clients:* ]]; then
            line=${line#connected_clients:}
            echo "${line%$'\r'}"
            return
        fi
    done < <(rcli INFO clients)
}

clients_at_most() {
    (($(connected_clients) <= $1))
}

@test "a SIGKILLed holder: its key stays held until its lease runs out, not after; then a waiter proceeds" {
    spawn holder "$LOCKRUN" --no-cache --lease 3s --key crashed -c 'echo $$ > holder.cmd.pid; exec sleep 30'
    wait_until 10 test -s holder.cmd.pid
    local fence token
    fence=$(rcli HGET "$(lock_key crashed)" fence)
    token=$(rcli HGET "$(lock_key crashed)" token)
    assert_regex "$fence" '^[0-9]{13}$' # a fence starts from the clock (ms)

    kill -KILL "${SPAWNED[holder]}"
    wait_exit holder 5
    assert_equal "$EXIT_STATUS" 137
    # When Redis will expire the lock: its lease as the last renewal left it (renewals come
    # every lease/3, so 2-3 s). Read after the kill, so no renewal can follow.
    local read_at left expires_at
    read_at=$(now_ms)
    left=$(rcli PTTL "$(lock_key crashed)")
    expires_at=$((read_at + left))
    assert_between "ms of lease left at the kill" "$left" 1500 3000

    spawn waiter "$LOCKRUN" --no-cache --wait 15 --lease 3s --key crashed \
        -c 'date +%s%3N > waiter.ran; echo "fence=$LOCKRUN_FENCING_TOKEN"'
    wait_for_waiter crashed 0 waiter

    # Not before: a quarter second before the lease ends, the dead holder still holds the key
    # and the waiter still waits. (A wait on the clock itself, not on state.)
    sleep_until_ms $((expires_at - 250))
    assert [ ! -e waiter.ran ]
    assert_equal "$(rcli HGET "$(lock_key crashed)" token)" "$token"

    # Then: the waiter, woken by the end of the lease it was told (SPEC §5), takes the key.
    assert_exit waiter 0 10
    assert_between "ms from the lease's end to the waiter's start" $(($(<waiter.ran) - expires_at)) -20 1500
    assert_equal "$(<waiter.out)" "fence=$((fence + 1))"
    assert_nothing_held

    # The killed holder's command is an orphan now (nothing could stop it); not past this test.
    kill -KILL "$(<holder.cmd.pid)" 2>/dev/null || true
}

@test "a waiter SIGKILLed while waiting holds nothing: the holder's lock is unchanged, its subscription is gone" {
    start_holder holder --lease 5s --key abandoned
    local subscribed_before clients_before keys_before holder_before token_before
    subscribed_before=$(subscribers abandoned)
    clients_before=$(connected_clients)
    keys_before=$(rcli --scan --pattern '*' | sort)
    holder_before=$(holder_of abandoned)
    token_before=$(rcli HGET "$(lock_key abandoned)" token)

    spawn waiter "$LOCKRUN" --wait 30 --key abandoned -- touch waiter.ran
    wait_for_waiter abandoned "$subscribed_before" waiter
    kill -KILL "${SPAWNED[waiter]}"
    wait_exit waiter 5
    assert_equal "$EXIT_STATUS" 137

    # The server drops both of its connections (the waiting one and the one that looked at
    # the lock): back to the baseline, with no subscriber left on the release channel.
    wait_until 5 subscribers_at_most abandoned "$subscribed_before"
    wait_until 5 clients_at_most "$clients_before"
    assert_equal "subscribers: $(subscribers abandoned)" "subscribers: $subscribed_before"
    # Nothing of the waiter is in Redis: same keys, same holder, same token, lease still running.
    assert_equal "$(rcli --scan --pattern '*' | sort)" "$keys_before"
    assert_equal "$(holder_of abandoned)" "$holder_before"
    assert_equal "$(rcli HGET "$(lock_key abandoned)" token)" "$token_before"
    assert_between "ms of the holder's lease left" "$(rcli PTTL "$(lock_key abandoned)")" 1 5000

    # And the holder carries on to a normal end.
    release holder
    assert_exit holder 0 10
    assert [ ! -e waiter.ran ]
    assert_nothing_held
}
