# The Redis Cluster that tests/cli/redis/cluster*.bats start once per file, and what the
# tests ask of it. Loaded after ../common.

# start_cluster MASTERS REPLICAS: MASTERS masters with REPLICAS replicas each, on free
# loopback ports whose bus ports (port + 10000) are free too, joined by redis-cli --cluster
# create and up (cluster_state:ok on every node). Exports CLUSTER_DIR and CLUSTER_PORTS
# (every node, masters first as created). CLUSTER_CLI_ARGS (redis-cli's, e.g. for TLS) and
# CLUSTER_SERVER_ARGS (more of redis-server's; {port} is the node's port), when set, are
# split on spaces.
start_cluster() {
    export CLUSTER_DIR=$BATS_FILE_TMPDIR/cluster
    mkdir -p "$CLUSTER_DIR"
    local ports=() i
    for ((i = 1; i <= $1 * (1 + $2); i++)); do
        # shellcheck disable=SC2086
        start_redis_server "$CLUSTER_DIR" "node$i" cluster ${CLUSTER_CLI_ARGS:-} -- \
            --cluster-enabled yes --cluster-config-file "nodes-{port}.conf" \
            --cluster-node-timeout 2000 --cluster-require-full-coverage no \
            --repl-diskless-sync-delay 0 ${CLUSTER_SERVER_ARGS:-}
        ports+=("$REDIS_SERVER_PORT")
    done
    ccli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas "$2" --cluster-yes \
        >"$CLUSTER_DIR/create.log" 2>&1
    export CLUSTER_PORTS="${ports[*]}"
    local port deadline=$((SECONDS + 30))
    for port in "${ports[@]}"; do
        until [[ $(ccli -p "$port" CLUSTER INFO) == *cluster_state:ok* ]]; do
            if ((SECONDS > deadline)); then
                echo "the cluster did not come up; node $port says:" >&2
                ccli -p "$port" CLUSTER INFO >&2
                return 1
            fi
            sleep 0.1
        done
    done
    # And every replica synced: a replica still in its first sync (which Redis 7 delays 5 s
    # by default, repl-diskless-sync-delay, for more replicas to join it) makes a CLUSTER
    # FAILOVER time out, its master's offset out of its reach.
    for port in "${ports[@]}"; do
        [[ $(ccli -p "$port" ROLE | head -1) == slave ]] || continue
        until [[ $(ccli -p "$port" INFO replication) == *master_link_status:up* ]]; do
            if ((SECONDS > deadline)); then
                echo "the replica on $port did not sync with its master" >&2
                return 1
            fi
            sleep 0.1
        done
    done
}

stop_cluster() { stop_redis_servers "$CLUSTER_DIR"; }

# ccli ARG...: redis-cli to the cluster's nodes, with CLUSTER_CLI_ARGS.
# shellcheck disable=SC2086
ccli() { redis-cli ${CLUSTER_CLI_ARGS:-} "$@"; }

# cluster_test_setup: for setup(); an empty cluster, and no default Redis URL.
cluster_test_setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    unset LOCKRUN_REDIS_URL
    local port
    for port in $CLUSTER_PORTS; do
        [[ $(ccli -p "$port" ROLE | head -1) == master ]] || continue
        ccli -p "$port" FLUSHALL >/dev/null
    done
}

# slot_of KEY: the cluster slot of KEY's names (lockrun:{KEY}:lock and the others).
slot_of() { ccli -p "${CLUSTER_PORTS%% *}" CLUSTER KEYSLOT "lockrun:{$1}:lock"; }

# owner_port KEY / other_port KEY: the port of the master that owns KEY's slot, and of
# another master.
owner_port() {
    local slot port
    slot=$(slot_of "$1")
    for port in $CLUSTER_PORTS; do
        # Only the owner answers a key of the slot itself; the others say MOVED.
        if [[ $(ccli -p "$port" GET "lockrun:{$1}:probe" 2>&1) != *MOVED* ]]; then
            echo "$port"
            return
        fi
    done
    return 1
}
other_port() {
    local owner port
    owner=$(owner_port "$1")
    for port in $CLUSTER_PORTS; do
        [[ $port != "$owner" && $(ccli -p "$port" ROLE | head -1) == master ]] &&
            { echo "$port"; return; }
    done
}

# node_id PORT: the cluster id of the node on PORT.
node_id() { ccli -p "$1" CLUSTER MYID; }

# The three steps of moving SLOT from node FROM to node TO, as redis-cli --cluster reshard
# takes them (tests pause between them): mark it, move its keys, give it to TO.
begin_migration() {
    ccli -p "$3" CLUSTER SETSLOT "$1" IMPORTING "$(node_id "$2")" >/dev/null
    ccli -p "$2" CLUSTER SETSLOT "$1" MIGRATING "$(node_id "$3")" >/dev/null
}
move_slot_keys() {
    local keys
    keys=$(ccli -p "$2" CLUSTER GETKEYSINSLOT "$1" 100)
    # shellcheck disable=SC2086
    [[ -z $keys ]] || ccli -p "$2" MIGRATE 127.0.0.1 "$3" "" 0 5000 KEYS $keys >/dev/null
}
end_migration() {
    local port
    for port in $CLUSTER_PORTS; do
        ccli -p "$port" CLUSTER SETSLOT "$1" NODE "$(node_id "$3")" >/dev/null 2>&1 || true
    done
}

# migrate_slot SLOT FROM TO: the three at once.
migrate_slot() {
    begin_migration "$@"
    move_slot_keys "$@"
    end_migration "$@"
}

# assert_listening NAME TEXT: NAME (a lockrun -v that waits) said how it listens for the
# release, and the line holds TEXT.
assert_listening() {
    wait_until 10 grep -q "listening for its release" "$1.err" || fail "$(cat "$1.err")"
    grep -qF "$2" "$1.err" || fail "$(cat "$1.err")"
}

# release_and_assert_woken HOLDER WAITER...: HOLDER's command lets go (release), and each
# WAITER ends 0 within 5 s: woken by the release message, not by the end of HOLDER's lease.
release_and_assert_woken() {
    local holder=$1 waiter released_at
    shift
    released_at=$(now_ms)
    release "$holder"
    for waiter in "$@"; do assert_exit "$waiter" 0 20; done
    (($(now_ms) - released_at < 5000)) || fail "woken $(($(now_ms) - released_at)) ms after the release"
}
