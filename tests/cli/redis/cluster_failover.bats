#!/usr/bin/env bats
# A Redis Cluster failover (SPEC §8) while one caller runs and another waits: three masters
# with a replica each, started once for the file; CLUSTER FAILOVER on the replica of the
# key's master. Both callers end, the holder keeps its lock (0) or stops (76), the waiter
# runs after it, and they never overlap.

LOCKRUN_TEST_BACKEND=redis
load ../common
load failover_helpers
load cluster_fixture

setup_file() { start_cluster 3 1; }
teardown_file() { stop_cluster; }
setup() { cluster_test_setup; }
teardown() { per_test_teardown; }

# replica_of PORT: the port of a replica of the master on PORT.
replica_of() {
    local id port
    id=$(node_id "$1")
    for port in $CLUSTER_PORTS; do
        [[ $(redis-cli -p "$port" CLUSTER NODES | grep myself) == *"slave $id "* ]] &&
            { echo "$port"; return; }
    done
    return 1
}

is_master() { [[ $(redis-cli -p "$1" ROLE | head -1) == master ]]; }

# fail_over REPLICA: CLUSTER FAILOVER on REPLICA until it is master, 30 s in all. Redis gives
# up a manual failover whose replica has not reached its master's offset within 5 s
# (CLUSTER_MF_TIMEOUT), as a loaded machine can make it, without a word: it is asked again.
fail_over() {
    local deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        run redis-cli -p "$1" CLUSTER FAILOVER
        assert_output OK
        if poll_until 7 is_master "$1"; then return 0; fi
    done
    fail "the replica on $1 is not master after 30 s: $(redis-cli -p "$1" INFO replication)"
}

@test "CLUSTER FAILOVER of the key's master while one caller runs and another waits" {
    local owner replica seed key=clf:1
    owner=$(owner_port "$key")
    replica=$(replica_of "$owner")
    seed=$(other_port "$key")
    spawn holder "$LOCKRUN" --redis "redis://127.0.0.1:$owner" --no-cache --lease 8s -k "$key" \
        -c "$HOLDER_COMMAND"
    wait_until 10 test -e started
    spawn waiter "$LOCKRUN" --redis "redis://127.0.0.1:$seed" --no-cache -w 60 -k "$key" \
        -c "$WAITER_COMMAND"
    sleep 0.5
    fail_over "$replica"
    assert_failover_outcome
}
