#!/usr/bin/env bats
# Redis Cluster (SPEC §8): three masters on loopback, started and joined once for the file
# (redis-cli --cluster create). Every name of a KEY is in one slot; lockrun reaches its
# owner from any seed by following MOVED, follows ASK while the slot migrates, retries
# TRYAGAIN, and skips a dead seed.

LOCKRUN_TEST_BACKEND=redis
load ../common
load cluster_fixture

setup_file() { start_cluster 3 0; }
teardown_file() { stop_cluster; }
setup() { cluster_test_setup; }
teardown() { per_test_teardown; }

@test "a seed that does not own the key's slot: the run follows MOVED, and a second caller replays it" {
    local seed
    seed=$(other_port cl:1)
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$seed" -k cl:1 -- printf 'one\ntwo\n'
    assert_success
    assert_output $'one\ntwo'
    # The names live on the owner, and nowhere else.
    run redis-cli -p "$(owner_port cl:1)" EXISTS "lockrun:{cl:1}:out"
    assert_output 1
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$seed" -k cl:1 -- echo never
    assert_success
    assert_output $'one\ntwo'
    [[ $stderr == *replayed* ]]
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$seed" status cl:1 --json
    assert_success
    run jq -e '.cache.exit_code == 0' <<<"$output"
    assert_success
}

@test "seeds are tried in turn: a dead one is skipped" {
    local dead
    dead=$(free_port)
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$dead,127.0.0.1:$(other_port cl:2)" \
        --no-cache -k cl:2 -- echo ran
    assert_success
    assert_output ran
    # Every seed dead: 69, naming them.
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$dead,127.0.0.1:$(free_port)" \
        --no-cache -k cl:2 -- echo ran
    assert_status 69
    assert_one_error_line "127.0.0.1:$dead"
}

@test "20 callers of one key through different seeds never overlap" {
    local i seeds=($CLUSTER_PORTS)
    for i in $(seq 20); do
        spawn "caller$i" "$LOCKRUN" --redis "redis://127.0.0.1:${seeds[i % 3]}" --no-cache -w 60 \
            -k cl:many -c 'mkdir inside || exit 9; echo x >>ran; sleep 0.05; rmdir inside'
    done
    for i in $(seq 20); do assert_exit "caller$i" 0 60; done
    run wc -l <ran
    assert_output 20
}

@test "a waiter on another seed is woken by the release on the owner, through sharded pub/sub there" {
    local seed owner
    seed=$(other_port cl:wake)
    owner=$(owner_port cl:wake)
    LOCKRUN_REDIS_URL="redis://127.0.0.1:$owner" start_holder holder -k cl:wake || fail "$(cat holder.err)"
    spawn waiter "$LOCKRUN" -v --redis "redis://127.0.0.1:$seed" --no-cache -w 30 -k cl:wake -- echo waited
    # SPEC §8: on the node that owns the slot, where the MOVED sent the look.
    assert_listening waiter "cl:wake: listening for its release with sharded and global pub/sub (SSUBSCRIBE and SUBSCRIBE) on redis://127.0.0.1:$owner (a Redis Cluster)"
    release_and_assert_woken holder waiter
    run cat waiter.out
    assert_output waited
}

@test "a waiter whose seed owns the slot (no MOVED to tell it) also subscribes sharded" {
    local owner
    owner=$(owner_port cl:own)
    LOCKRUN_REDIS_URL="redis://127.0.0.1:$owner" start_holder holder -k cl:own
    spawn waiter "$LOCKRUN" -v --redis "redis://127.0.0.1:$owner" --no-cache -w 30 -k cl:own -- echo waited
    assert_listening waiter "sharded and global pub/sub (SSUBSCRIBE and SUBSCRIBE) on redis://127.0.0.1:$owner (a Redis Cluster)"
    release_and_assert_woken holder waiter
}

@test "a release is published both sharded and global: a 0.1 waiter on any node hears it too" {
    local owner other
    owner=$(owner_port cl:both)
    other=$(other_port cl:both)
    spawn sharded timeout 20 redis-cli -p "$owner" SSUBSCRIBE "lockrun:{cl:both}:released"
    spawn global timeout 20 redis-cli -p "$other" SUBSCRIBE "lockrun:{cl:both}:released"
    wait_until 10 grep -q ssubscribe sharded.out
    wait_until 10 grep -q subscribe global.out
    run lockrun --redis "redis://127.0.0.1:$other" --no-cache -k cl:both -- true
    assert_success
    wait_until 10 grep -q smessage sharded.out
    wait_until 10 grep -qx message global.out
    # Both carry the run's fence, the same number.
    [[ $(tail -1 sharded.out) =~ ^[0-9]+$ && $(tail -1 sharded.out) == "$(tail -1 global.out)" ]] ||
        fail "sharded: $(cat sharded.out); global: $(cat global.out)"
}

@test "a slot that moves while a caller waits: it subscribes again at the new owner, and is woken there" {
    local src dst slot key=cl:waitmove
    src=$(owner_port "$key")
    dst=$(other_port "$key")
    slot=$(slot_of "$key")
    spawn holder "$LOCKRUN" --redis "redis://127.0.0.1:$src" --no-cache --lease 30 -k "$key" \
        -c "touch started; $(wait_for_go_cmd); echo held"
    wait_until 10 test -e started || fail "$(cat holder.err)"
    spawn waiter "$LOCKRUN" -v --redis "redis://127.0.0.1:$src" --no-cache -w 30 -k "$key" -- echo waited
    wait_until 10 grep -q "SUBSCRIBE) on redis://127.0.0.1:$src" waiter.err
    migrate_slot "$slot" "$src" "$dst"
    # The old owner unsubscribed it: it looked again, and listens where the slot went.
    wait_until 10 grep -q "SUBSCRIBE) on redis://127.0.0.1:$dst" waiter.err
    local released_at
    released_at=$(now_ms)
    touch go
    assert_exit holder 0 20
    assert_exit waiter 0 20
    # Woken by the release on the new owner, not by the end of the 30 s lease.
    (($(now_ms) - released_at < 5000))
    run cat waiter.out
    assert_output waited
}

@test "a release made through ASK on the node a slot is moving to wakes a waiter subscribed on the old owner" {
    local src dst slot key=cl:askwake
    src=$(owner_port "$key")
    dst=$(other_port "$key")
    slot=$(slot_of "$key")
    spawn holder "$LOCKRUN" --redis "redis://127.0.0.1:$src" --no-cache --lease 30 -k "$key" \
        -c "touch started; $(wait_for_go_cmd)"
    wait_until 10 test -e started
    spawn waiter "$LOCKRUN" -v --redis "redis://127.0.0.1:$src" --no-cache -w 60 -k "$key" -- echo waited
    wait_until 10 grep -q "SUBSCRIBE) on redis://127.0.0.1:$src" waiter.err
    # The lock's keys move to dst; the slot stays half migrated, so the holder's release goes
    # there through ASK, and is published there.
    begin_migration "$slot" "$src" "$dst"
    move_slot_keys "$slot" "$src" "$dst"
    touch go
    assert_exit holder 0 30
    local released_at
    released_at=$(now_ms)
    # Woken by that release (its look meets the half-migrated slot and tries again), not by
    # the end of the holder's 30 s lease.
    wait_until 15 grep -q "trying again while --wait lasts" waiter.err || fail "$(cat waiter.err)"
    (($(now_ms) - released_at < 12000))
    end_migration "$slot" "$src" "$dst"
    assert_exit waiter 0 30
    run cat waiter.out
    assert_output waited
}

@test "a slot migrated while the command runs: ASK and MOVED are followed, and it runs once" {
    local src dst slot key=cl:moving
    src=$(owner_port "$key")
    dst=$(other_port "$key")
    slot=$(slot_of "$key")
    spawn holder "$LOCKRUN" --redis "redis://127.0.0.1:$src" --lease 600ms -k "$key" \
        -c 'echo x >>ran; touch started; sleep 2; echo done'
    wait_until 10 test -e started
    begin_migration "$slot" "$src" "$dst"
    sleep 0.5 # renewals now meet a migrating slot
    move_slot_keys "$slot" "$src" "$dst"
    sleep 0.5 # and then ASK, the keys being on the importing node
    end_migration "$slot" "$src" "$dst"
    assert_exit holder 0 20
    run cat holder.out
    assert_output done
    run wc -l <ran
    assert_output 1
    # The result is on the new owner, and replayed from any seed.
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$src" -k "$key" -- echo never
    assert_success
    assert_output done
}

@test "SCRIPT FLUSH on the owner is recovered" {
    lockrun --redis "redis://127.0.0.1:$(other_port cl:flush)" --no-cache -k cl:flush -- true
    redis-cli -p "$(owner_port cl:flush)" SCRIPT FLUSH >/dev/null
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$(other_port cl:flush)" -k cl:flush -- echo again
    assert_success
    assert_output again
}

@test "a db other than 0 on a cluster is a configuration error" {
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$(other_port cl:db)/2" -k cl:db -- true
    assert_status 78
    assert_one_error_line 'db 2'
}

@test "list on a cluster names the keys of every master" {
    local i seed=${CLUSTER_PORTS%% *}
    for i in $(seq 12); do
        lockrun --redis "redis://127.0.0.1:$seed" -k "cl:list:$i" -- echo "$i" >/dev/null
    done
    # Twelve keys spread over the three masters' slots.
    local port owners=()
    for i in $(seq 12); do owners+=("$(owner_port "cl:list:$i")"); done
    [ "$(printf '%s\n' "${owners[@]}" | sort -u | wc -l)" -gt 1 ]
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$seed" list --json
    assert_success
    run jq -r '[.[].key] | sort | join(" ")' <<<"$output"
    assert_output "$(for i in $(seq 12); do echo "cl:list:$i"; done | sort | tr '\n' ' ' | sed 's/ $//')"
}

@test "a renewal that meets CLUSTERDOWN does not hold up the run: a SIGTERM reaches the command at once" {
    local owner slot key=cl:down
    owner=$(owner_port "$key")
    slot=$(slot_of "$key")
    spawn holder "$LOCKRUN" --redis "redis://127.0.0.1:$owner" --no-cache --lease 6s -k "$key" \
        -c 'trap "date +%s%3N >term; exit 3" TERM; touch started; sleep 20 & wait'
    wait_until 10 test -e started
    redis-cli -p "$owner" CLUSTER DELSLOTS "$slot" >/dev/null
    sleep 2.5 # the renewal at lease/3 meets CLUSTERDOWN
    local sent
    sent=$(now_ms)
    kill -TERM "${SPAWNED[holder]}"
    wait_until 5 test -s term
    redis-cli -p "$owner" CLUSTER ADDSLOTS "$slot" >/dev/null
    (($(cat term) - sent < 1000)) || fail "the command got SIGTERM $(($(cat term) - sent)) ms late"
    wait_exit holder 20
}

@test "a run that ends while its slot is mid-migration releases the lock, without storing" {
    local src dst slot key=cl:midway
    src=$(owner_port "$key")
    dst=$(other_port "$key")
    slot=$(slot_of "$key")
    spawn holder "$LOCKRUN" --redis "redis://127.0.0.1:$src" --lease 30s -k "$key" \
        -c 'touch started; until [ -e go ]; do sleep 0.05; done; echo done'
    wait_until 10 test -e started
    begin_migration "$slot" "$src" "$dst"
    touch go
    assert_exit holder 0 20
    run cat holder.err
    assert_output --partial 'result was not stored'
    # While the slot is split, a script of several keys is TRYAGAIN for as long as it waits:
    # 69. Once the migration is called off, the lock is free (not left to its 30 s lease).
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$src" --no-cache -k "$key" -- echo next
    assert_status 69
    assert_one_error_line 'TRYAGAIN'
    local port
    for port in "$src" "$dst"; do redis-cli -p "$port" CLUSTER SETSLOT "$slot" STABLE >/dev/null; done
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$src" --no-cache -k "$key" -- echo next
    assert_success
    assert_output next
}

@test "doctor on a cluster: its state, and with a key the node that owns the key's slot" {
    local seed owner
    seed=$(other_port cl:doc)
    owner=$(owner_port cl:doc)
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$seed" doctor -k cl:doc
    assert_success
    assert_line --regexp '^ok  +cluster: +state ok, 3 nodes, 3 serving slots$'
    assert_line --regexp "^ok  +slot: +the names of cl:doc are in slot $(slot_of cl:doc), owned by 127.0.0.1:$owner$"
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$seed" doctor --json
    run jq -e '.usable and any(.findings[]; .check == "cluster" and .level == "ok")' <<<"$output"
    assert_success
}

# Kills a node: the last test of the file.
@test "the README's Redis Cluster recipe, run as written (its addresses replaced): also with a dead seed first" {
    local recipe ports=($CLUSTER_PORTS)
    recipe=$(readme_block "**Redis Cluster.** Point")
    [[ $recipe == *"redis://10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000"* ]] || fail "the README's recipe changed: $recipe"
    recipe=${recipe//10.0.0.1:7000/127.0.0.1:${ports[0]}}
    recipe=${recipe//10.0.0.2:7000/127.0.0.1:${ports[1]}}
    recipe=${recipe//10.0.0.3:7000/127.0.0.1:${ports[2]}}
    run_recipe "$recipe"
    assert_success
    assert_output "report made"
    # "so that one dead node is not an outage": the first seed a port nobody listens on.
    run_recipe "${recipe//127.0.0.1:${ports[0]}/127.0.0.1:$(free_port)}"
    assert_success
    assert_output "report made"
    assert_equal "$(redis-cli -c -p "${ports[0]}" EXISTS 'lockrun:{report:2026-11-22}:out')" 1
}

@test "nodes that send the request to each other (they disagree on the owner): 69 naming the nodes, and nothing held" {
    local a b slot key=cl:loop
    a=$(owner_port "$key")
    b=$(other_port "$key")
    slot=$(slot_of "$key")
    # Each says the other owns the slot, and neither claims it: a loop of MOVED.
    redis-cli -p "$a" CLUSTER SETSLOT "$slot" NODE "$(node_id "$b")" >/dev/null
    redis-cli -p "$b" CLUSTER SETSLOT "$slot" NODE "$(node_id "$a")" >/dev/null
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$a" -k "$key" -c 'touch ran'
    redis-cli -p "$a" CLUSTER SETSLOT "$slot" NODE "$(node_id "$a")" >/dev/null
    redis-cli -p "$b" CLUSTER SETSLOT "$slot" NODE "$(node_id "$a")" >/dev/null
    assert_status 69
    assert_one_error_line "^lockrun: the Redis Cluster sent the request for $key from node to node without serving it \\(127\\.0\\.0\\.1:$a -> 127\\.0\\.0\\.1:$b -> 127\\.0\\.0\\.1:$a -> .*\\): its nodes disagree on who owns the slot"
    [ ! -e ran ]
    # The slot back with its owner: the key is free, and a run goes through.
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$b" -k "$key" -- echo ran
    assert_success
    assert_output ran
}

# acl_user_on_masters GRANT...: the user lr (password pw) on every master, keys and channels
# limited to the prefix, with GRANT.
acl_user_on_masters() {
    local port
    for port in $CLUSTER_PORTS; do
        redis-cli -p "$port" ACL SETUSER lr reset on '>pw' '~lockrun:*' '&lockrun:*' "$@" >/dev/null
    done
}
drop_acl_user() {
    local port
    for port in $CLUSTER_PORTS; do redis-cli -p "$port" ACL DELUSER lr >/dev/null; done
}

@test "an ACL user with lockrun 0.1's grant (no SSUBSCRIBE, no INFO): a waiter listens globally, and is woken" {
    acl_user_on_masters +@scripting +@read +@write +publish +subscribe +time +asking
    local owner seed
    owner=$(owner_port cl:acl)
    seed=$(other_port cl:acl)
    export LOCKRUN_REDIS_PASSWORD=pw
    LOCKRUN_REDIS_URL="redis://lr:@127.0.0.1:$owner" start_holder holder -k cl:acl || fail "$(cat holder.err)"
    LOCKRUN_REDIS_URL="redis://lr:@127.0.0.1:$owner" spawn waiter "$LOCKRUN" -v --no-cache -w 30 -k cl:acl -- echo waited
    assert_listening waiter "global pub/sub (SUBSCRIBE) on redis://lr:***@127.0.0.1:$owner (INFO is not allowed to this user, so a cluster cannot be told apart)"
    # Through another seed, the MOVED tells it is a cluster: SSUBSCRIBE is refused instead.
    spawn waiter2 "$LOCKRUN" -v --redis "redis://lr:@127.0.0.1:$seed" --no-cache -w 30 -k cl:acl -- echo waited2
    assert_listening waiter2 "global pub/sub (SUBSCRIBE) on redis://lr:***@127.0.0.1:$owner (the ACL of this user forbids SSUBSCRIBE)"
    release_and_assert_woken holder waiter waiter2
    drop_acl_user
}

@test "an ACL user without +asking meets a slot on the move: 78 naming the grant, and nothing held" {
    acl_user_on_masters +@scripting +@read +@write +publish +subscribe +time
    local src dst slot key=cl:aclask
    src=$(owner_port "$key")
    dst=$(other_port "$key")
    slot=$(slot_of "$key")
    begin_migration "$slot" "$src" "$dst"
    LOCKRUN_REDIS_PASSWORD=pw run --separate-stderr lockrun --redis "redis://lr:@127.0.0.1:$src" \
        --no-cache -k "$key" -- echo never
    redis-cli -p "$src" CLUSTER SETSLOT "$slot" STABLE >/dev/null
    redis-cli -p "$dst" CLUSTER SETSLOT "$slot" STABLE >/dev/null
    drop_acl_user
    assert_status 78
    assert_equal "${#stderr_lines[@]}" 1
    assert_regex "$stderr" "the ACL of user 'lr' forbids ASKING .*\+asking on a Redis Cluster"
    assert_equal "$output" ""
    # The slot is back on its owner, with nothing of the key on it.
    assert_equal "$(redis-cli -p "$src" EXISTS "lockrun:{$key}:lock" "lockrun:{$key}:fence")" 0
}

# Last in the file: it kills a node, whose slots the tests after it would find unserved.
@test "the owner a MOVED named dies after its slot moved: lockrun goes back to the seeds" {
    local old new slot key=cl:gone
    old=$(owner_port "$key")
    new=$(other_port "$key")
    slot=$(slot_of "$key")
    spawn holder "$LOCKRUN" --redis "redis://127.0.0.1:$new" --lease 1500ms -k "$key" \
        -c 'touch started; sleep 3; echo done'
    wait_until 10 test -e started
    migrate_slot "$slot" "$old" "$new"
    kill -KILL "$(redis-cli -p "$old" INFO server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')"
    assert_exit holder 0 20
    run cat holder.out
    assert_output done
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$new" -k "$key" -- echo never
    assert_output done
}
