#!/usr/bin/env bats
# `lockrun list` on the local backend (SPEC §7): every key in the state dir with a held lock
# or an unexpired stored result, sorted by key. The files are named by the key's SHA-256, so
# each run writes the key itself into STATE/<hash>.key; a key of lockrun 0.1, which wrote no
# .key file, is listed by its hash (JSON: "name_known": false).

# The local backend, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "list: held and stored keys by name, sorted; a key run without storing is not listed" {
    lockrun --key 'b:stored result' -- echo kept >/dev/null
    lockrun --no-cache --key c:ran -- true
    lockrun --cache-ttl 1s --key d:expired -- echo soon-gone >/dev/null
    start_holder holder --key a:held
    wait_until 5 result_expired d:expired
    run --separate-stderr lockrun list --json
    assert_status 0
    assert_equal "$(jq -r '[.[].key] | join(",")' <<<"$output")" 'a:held,b:stored result'
    assert_equal "$(jq -r '[.[].held] | join(",")' <<<"$output")" 'true,false'
    assert_equal "$(jq -r '[.[].name_known] | join(",")' <<<"$output")" 'true,true'
    release holder
    assert_exit holder 0 10
}

@test "list: a stored key without a .key file (lockrun 0.1) is listed by its hash" {
    lockrun --key old:key -- echo kept >/dev/null
    rm -- "$(state_file old:key key)"
    run --separate-stderr lockrun list --json
    assert_status 0
    assert_equal "$(jq -r '.[0].key' <<<"$output")" "$(key_hash old:key)"
    assert_equal "$(jq -r '.[0].name_known' <<<"$output")" false
}

@test "list of an empty state dir: nothing, exit 0" {
    run --separate-stderr lockrun list --json
    assert_status 0
    assert_equal "$(jq -r 'length' <<<"$output")" 0
}

# result_expired KEY: `cache show KEY` finds no result (exit 1).
result_expired() {
    ! lockrun cache show "$1" >/dev/null 2>&1
}
