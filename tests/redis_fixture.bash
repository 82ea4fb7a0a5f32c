#!/usr/bin/env bash
# The unit tests' redis-server, as a CTest fixture (tests/CMakeLists.txt):
#   redis_fixture.bash start DIR   starts a redis-server on a free loopback port, its files in
#                                  DIR, and writes its URL to DIR/url for run_with_redis_url.bash
#   redis_fixture.bash stop DIR    stops it by its PID, and removes DIR/url
# The server outlives the setup test: it is stopped by the cleanup test, which ctest runs
# after the last test that needs it, also when tests failed.
set -euo pipefail
action=$1 dir=$2
source "$(dirname "${BASH_SOURCE[0]}")/redis_server.bash"
case $action in
  start)
    mkdir -p "$dir"
    stop_redis_servers "$dir" # a server that an interrupted run left behind
    rm -f "$dir/url"
    start_redis_server "$dir" unit-tests any
    echo "redis://127.0.0.1:$REDIS_SERVER_PORT" >"$dir/url.new"
    mv "$dir/url.new" "$dir/url"
    echo "redis-server pid $REDIS_SERVER_PID: $(<"$dir/url")"
    ;;
  stop)
    rm -f "$dir/url"
    stop_redis_servers "$dir"
    ;;
  *)
    echo "usage: redis_fixture.bash start|stop DIR" >&2
    exit 64
    ;;
esac
