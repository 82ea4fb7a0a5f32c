#!/usr/bin/env bats
# `lockrun status KEY [--json]` and `lockrun release KEY --force` (SPEC §7): status tells
# free or held, the holder and the cache entry, and exits 0 either way; release frees a
# stuck lock, wakes the waiters, and the holder stops its command at its next renewal
# (lease/3) and exits 76 (SPEC §3). Backend-neutral.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# status_json KEY: `lockrun status KEY --json`, which must exit 0, into $json.
status_json() {
    json=$(lockrun status "$1" --json) || fail "lockrun status $1 --json exited $?"
}

is_held() {
    local json
    json=$(lockrun status "$1" --json) || return 1
    [[ $(jq -r .held <<<"$json") == true ]]
}

is_free() {
    local json
    json=$(lockrun status "$1" --json) || return 1
    [[ $(jq -r .held <<<"$json") == false ]]
}

# term_holder_cmd NAME: like hold_cmd NAME, but the command writes NAME.term (its time in
# ms) when it gets SIGTERM, and exits 143.
term_holder_cmd() {
    printf '%s' "trap 'date +%s%3N > $1.term; exit 143' TERM; $(hold_cmd "$1")"
}

# --- status ----------------------------------------------------------------------------

@test "status of a free key exits 0: held false, no holder, no cache" {
    run --separate-stderr lockrun status status:free --json
    assert_status 0
    assert_equal "$(jq -r .key <<<"$output")" status:free
    assert_equal "$(jq -r .held <<<"$output")" false
    assert_equal "$(jq -c .holder <<<"$output")" null
    assert_equal "$(jq -c .cache <<<"$output")" null
}

@test "status without --json of a free key exits 0 and says free" {
    run --separate-stderr lockrun status status:free
    assert_status 0
    assert_output --partial status:free
    assert_output --partial free
    refute_output --partial held
}

@test "status of a held key: held true, the holder's pid, user, host and command, a fence" {
    start_holder holder --lease 30s --key status:held
    local json
    status_json status:held
    assert_equal "$(jq -r .held <<<"$json")" true
    assert_equal "pid $(jq -r .holder.pid <<<"$json")" "pid ${SPAWNED[holder]}"
    assert_equal "$(jq -r .holder.user <<<"$json")" "$(id -un)"
    assert_equal "$(jq -r .holder.host <<<"$json")" "$(uname -n)"
    assert_regex "$(jq -r .holder.command <<<"$json")" 'holder\.started'
    local fence
    fence=$(jq -r .fence <<<"$json")
    assert_regex "$fence" '^[0-9]+$'
    assert [ "$fence" -gt 0 ]
    release holder
    assert_exit holder 0 10
}

@test "a holder that waited for the lock is shown as started when it took it, not when it started waiting" {
    # lockrun 0.1 wrote its own start: a caller that waited 2 s was "held by ... for 2s" as
    # soon as it took the lock.
    start_holder first --lease 30s --key status:since
    local spawned_at
    spawned_at=$(now_ms)
    spawn second "$LOCKRUN" --no-cache --wait 30s --key status:since -c "$(hold_cmd second)"
    wait_for_waiter status:since 0 second
    sleep_until_ms $((spawned_at + 2000))
    release first
    wait_until 10 test -s second.started
    local json started
    status_json status:since
    started=$(jq -r .holder.started_unix_ms <<<"$json")
    assert_equal "pid $(jq -r .holder.pid <<<"$json")" "pid ${SPAWNED[second]}"
    assert_between "ms from its spawn to its start as a holder" $((started - spawned_at)) 2000 60000
    assert [ "$started" -le "$(<second.started)" ]
    release second
    assert_exit second 0 10
}

@test "status of a held key: the fence is the command's LOCKRUN_FENCING_TOKEN" {
    spawn holder "$LOCKRUN" --no-cache --key status:fence \
        -c "echo \"\$LOCKRUN_FENCING_TOKEN\" > fence.seen; $(hold_cmd holder)"
    wait_until 10 test -s holder.started
    local json
    status_json status:fence
    assert_equal "fence $(jq -r .fence <<<"$json")" "fence $(<fence.seen)"
    release holder
    assert_exit holder 0 10
}

@test "status of a held key: the start time is when the holder started" {
    local before after
    before=$(now_ms)
    start_holder holder --lease 30s --key status:started
    after=$(now_ms)
    local json
    status_json status:started
    assert_between started_unix_ms "$(jq -r .holder.started_unix_ms <<<"$json")" \
        $((before - 1000)) $((after + 1000))
    # Redis counts the lease down; the local backend's locks do not expire (null).
    local left
    left=$(jq -r .lease_left_ms <<<"$json")
    if [[ $left != null ]]; then
        assert_between lease_left_ms "$left" 1 30000
    fi
    release holder
    assert_exit holder 0 10
}

@test "status without --json of a held key exits 0 and names the holder's pid" {
    start_holder holder --lease 30s --key status:heldtext
    run --separate-stderr lockrun status status:heldtext
    assert_status 0
    assert_output --partial held
    assert_output --partial "${SPAWNED[holder]}"
    release holder
    assert_exit holder 0 10
}

@test "status of a key that was held and released is free again" {
    start_holder holder --lease 30s --key status:after
    release holder
    assert_exit holder 0 10
    local json
    status_json status:after
    assert_equal "$(jq -r .held <<<"$json")" false
}

@test "status after a stored run shows its cache entry: exit code, sizes, age, TTL" {
    local before
    before=$(now_ms)
    lockrun --cache-ttl 120s --key status:cache -c 'printf "twelve bytes"' >/dev/null
    local json
    status_json status:cache
    assert_equal "$(jq -r .held <<<"$json")" false
    assert_equal "$(jq -r .cache.exit_code <<<"$json")" 0
    assert_equal "$(jq -r .cache.output_bytes <<<"$json")" 12
    assert_between size_bytes "$(jq -r .cache.size_bytes <<<"$json")" 12 100000
    assert_between age_ms "$(jq -r .cache.age_ms <<<"$json")" 0 10000
    assert_between ttl_left_ms "$(jq -r .cache.ttl_left_ms <<<"$json")" 100000 120000
    assert_between created_unix_ms "$(jq -r .cache.created_unix_ms <<<"$json")" \
        $((before - 1000)) $(($(now_ms) + 1000))
    assert_equal "$(jq -r .cache.host <<<"$json")" "$(uname -n)"
    assert_regex "$(jq -r .cache.duration_ms <<<"$json")" '^[0-9]+$'
}

@test "status after a stored failure (--cache-failures) shows its exit code" {
    run lockrun --cache-failures --key status:failed -c 'exit 3'
    assert_status 3
    local json
    status_json status:failed
    assert_equal "$(jq -r .cache.exit_code <<<"$json")" 3
}

@test "status without --json after a stored run exits 0 and mentions the exit code" {
    lockrun --key status:cachetext -c 'echo hi' >/dev/null
    run --separate-stderr lockrun status status:cachetext
    assert_status 0
    assert_output --partial 'exit 0'
}

@test "status reads without changing: the holder keeps the lock, the fence stays" {
    start_holder holder --lease 30s --key status:readonly
    local json first
    status_json status:readonly
    first=$(jq -r .fence <<<"$json")
    status_json status:readonly
    assert_equal "$(jq -r .fence <<<"$json")" "$first"
    assert_equal "$(jq -r .holder.pid <<<"$json")" "${SPAWNED[holder]}"
    release holder
    assert_exit holder 0 10
}

@test "status with a bad key is a usage error (64), one line" {
    run --separate-stderr lockrun status "$(printf 'bad\tkey')"
    assert_status 64
    assert_one_error_line 'key'
}

@test "status with an empty key is a usage error (64), one line" {
    run --separate-stderr lockrun status '' --json
    assert_status 64
    assert_one_error_line 'key'
}

@test "status without a key is a usage error (64)" {
    run --separate-stderr lockrun status
    assert_status 64
    assert_one_error_line
}

# --- release ---------------------------------------------------------------------------

@test "release without --force exits 64 with one line, and the lock stays held" {
    start_holder holder --lease 30s --key release:noforce
    run --separate-stderr lockrun release release:noforce
    assert_status 64
    assert_one_error_line 'force'
    assert is_held release:noforce
    assert is_running "${SPAWNED[holder]}"
    release holder
    assert_exit holder 0 10
}

@test "release --force of a free key exits 0" {
    run --separate-stderr lockrun release release:free --force
    assert_status 0
    assert is_free release:free
}

@test "release --force frees a held key at once" {
    start_holder holder --lease 30s --key release:frees
    run --separate-stderr lockrun release release:frees --force
    assert_status 0
    assert is_free release:frees
}

@test "release --force: the holder's command gets SIGTERM within lease/3 + 1 s, the holder exits 76" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s --key release:term -c "$(term_holder_cmd holder)"
    wait_until 10 test -s holder.started
    local released_at
    released_at=$(now_ms)
    run --separate-stderr lockrun release release:term --force
    assert_status 0
    wait_until 5 test -s holder.term
    assert_between "ms from the release to the command's SIGTERM" \
        $(($(<holder.term) - released_at)) 0 1333
    assert_exit holder 76 10
    # The command's shell may report its own death ("Terminated"); lockrun says one line.
    stderr=$(grep '^lockrun: ' holder.err || true)
    assert_one_error_line 'lost'
}

@test "release --force: a waiter proceeds right after, long before the holder's lease ends" {
    # Lease 30 s: the holder notices only at its renewal in 10 s; the waiter must not wait.
    start_holder holder --lease 30s --key release:waiter
    spawn waiter "$LOCKRUN" -v --no-cache --wait 30 --key release:waiter \
        -c 'date +%s%3N > waiter.ran'
    wait_until 10 grep -q 'waiting for' waiter.err
    local released_at
    released_at=$(now_ms)
    run --separate-stderr lockrun release release:waiter --force
    assert_status 0
    assert_exit waiter 0 10
    assert_between "ms from the release to the waiter's command" \
        $(($(<waiter.ran) - released_at)) 0 2000
}

@test "release --force: the key can be taken at once by a new caller" {
    start_holder holder --lease 30s --key release:retake
    run --separate-stderr lockrun release release:retake --force
    assert_status 0
    run --separate-stderr lockrun --no-cache --key release:retake -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert_regex "$output" '^[0-9]+$'
}

@test "release --force leaves the stored result alone" {
    lockrun --key release:keepcache -c 'echo stored' >/dev/null
    start_holder holder --lease 30s --key release:keepcache
    run --separate-stderr lockrun release release:keepcache --force
    assert_status 0
    run --separate-stderr lockrun cache show release:keepcache
    assert_status 0
    assert_output stored
}

@test "release with a bad key is a usage error (64)" {
    run --separate-stderr lockrun release '' --force
    assert_status 64
    assert_one_error_line 'key'
}

# --- subcommand forms (SPEC §2, §7) ----------------------------------------------------

@test "status accepts --json before the key" {
    run --separate-stderr lockrun status --json status:order
    assert_status 0
    assert_equal "$(jq -r .key <<<"$output")" status:order
    assert_equal "$(jq -r .held <<<"$output")" false
}

@test "a logging option may stand before or after the subcommand's name" {
    run --separate-stderr lockrun -q status status:logging --json
    assert_status 0
    local before=$output
    run --separate-stderr lockrun status status:logging -q --json
    assert_status 0
    assert_equal "$output" "$before"
}

@test "status rejects an option of another subcommand (64)" {
    run --separate-stderr lockrun status status:badopt --force
    assert_status 64
    assert_one_error_line 'force'
}

@test "release --force wakes the waiter, which then runs with a new fencing token" {
    spawn holder "$LOCKRUN" --no-cache --key release:fence \
        -c "echo \"\$LOCKRUN_FENCING_TOKEN\" > holder.fence; $(hold_cmd holder)"
    wait_until 10 test -s holder.started
    spawn waiter "$LOCKRUN" -v --no-cache --wait 30 --key release:fence \
        -c 'echo "$LOCKRUN_FENCING_TOKEN" > waiter.fence'
    wait_until 10 grep -q 'waiting for' waiter.err
    run --separate-stderr lockrun release release:fence --force
    assert_status 0
    assert_exit waiter 0 20
    assert [ "$(<waiter.fence)" -gt "$(<holder.fence)" ]
}
