# The Redis Cluster that tests/cli/redis/cluster*.bats start once per file, and what the
# tests ask of it. Loaded after ../common.

# start_cluster MASTERS REPLICAS: MASTERS masters with REPLICAS replicas each, on free
# loopback ports whose bus ports (port + 10000) are free too, joined by redis-cli --cluster
# create and up (cluster_state:ok on every node). Exports CLUSTER_DIR and CLUSTER_PORTS
# (every node, masters first as created).
start_cluster() {
    export CLUSTER_DIR=$BATS_FILE_TMPDIR/cluster
    mkdir -p "$CLUSTER_DIR"
    local ports=() i
    for ((i = 1; i <= $1 * (1 + $2); i++)); do
        start_redis_server "$CLUSTER_DIR" "node$i" cluster -- --cluster-enabled yes \
            --cluster-config-file "nodes-{port}.conf" --cluster-node-timeout 2000 \
            --cluster-require-full-coverage no
        ports+=("$REDIS_SERVER_PORT")
    done
    redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas "$2" --cluster-yes \
        >"$CLUSTER_DIR/create.log" 2>&1
    export CLUSTER_PORTS="${ports[*]}"
    local port deadline=$((SECONDS + 30))
    for port in "${ports[@]}"; do
        until [[ $(redis-cli -p "$port" CLUSTER INFO) == *cluster_state:ok* ]]; do
            if ((SECONDS > deadline)); then
                echo "the cluster did not come up; node $port says:" >&2
                redis-cli -p "$port" CLUSTER INFO >&2
                return 1
            fi
            sleep 0.1
        done
    done
}

stop_cluster() { stop_redis_servers "$CLUSTER_DIR"; }

# cluster_test_setup: for setup(); an empty cluster, and no default Redis URL.
cluster_test_setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    unset LOCKRUN_REDIS_URL
    local port
    for port in $CLUSTER_PORTS; do
        [[ $(redis-cli -p "$port" ROLE | head -1) == master ]] || continue
        redis-cli -p "$port" FLUSHALL >/dev/null
    done
}

# slot_of KEY: the cluster slot of KEY's names (lockrun:{KEY}:lock and the others).
slot_of() { redis-cli -p "${CLUSTER_PORTS%% *}" CLUSTER KEYSLOT "lockrun:{$1}:lock"; }

# owner_port KEY / other_port KEY: the port of the master that owns KEY's slot, and of
# another master.
owner_port() {
    local slot port
    slot=$(slot_of "$1")
    for port in $CLUSTER_PORTS; do
        # Only the owner answers a key of the slot itself; the others say MOVED.
        if [[ $(redis-cli -p "$port" GET "lockrun:{$1}:probe" 2>&1) != *MOVED* ]]; then
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
        [[ $port != "$owner" && $(redis-cli -p "$port" ROLE | head -1) == master ]] &&
            { echo "$port"; return; }
    done
}

# node_id PORT: the cluster id of the node on PORT.
node_id() { redis-cli -p "$1" CLUSTER MYID; }

# migrate_slot SLOT FROM TO: moves SLOT and its keys from node FROM to node TO, as
# redis-cli --cluster reshard does.
migrate_slot() {
    local slot=$1 from=$2 to=$3 keys port
    redis-cli -p "$to" CLUSTER SETSLOT "$slot" IMPORTING "$(node_id "$from")" >/dev/null
    redis-cli -p "$from" CLUSTER SETSLOT "$slot" MIGRATING "$(node_id "$to")" >/dev/null
    keys=$(redis-cli -p "$from" CLUSTER GETKEYSINSLOT "$slot" 100)
    # shellcheck disable=SC2086
    [[ -z $keys ]] || redis-cli -p "$from" MIGRATE 127.0.0.1 "$to" "" 0 5000 KEYS $keys >/dev/null
    for port in $CLUSTER_PORTS; do
        redis-cli -p "$port" CLUSTER SETSLOT "$slot" NODE "$(node_id "$to")" >/dev/null 2>&1 || true
    done
}
