# Starts and stops a throwaway redis-server on a free loopback port (sourced by
# scripts/test and tests/cli/common.bash). A random port is tried; if the server dies
# because the port was taken, another one is.
#   start_redis_server DIR [extra redis-server args...]   -> DIR/port, DIR/pid, DIR/redis.sock
#   stop_redis_server DIR

start_redis_server() {
  local dir=$1; shift
  local attempt port pid deadline
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" \
      --logfile "$dir/redis.log" "$@" >/dev/null 2>&1 3>&- &
    pid=$!
    deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ]; do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
        echo "$port" >"$dir/port"
        echo "$pid" >"$dir/pid"
        return 0
      fi
      sleep 0.02
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "start_redis_server: could not start redis-server (see $dir/redis.log)" >&2
  return 1
}

stop_redis_server() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}
