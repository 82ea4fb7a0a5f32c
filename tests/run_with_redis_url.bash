#!/usr/bin/env bash
# run_with_redis_url.bash URL_FILE COMMAND...: runs a unit test binary with
# LOCKRUN_TEST_REDIS_URL read from URL_FILE, which the redis-server fixture writes
# (redis_fixture.bash); without the file (test discovery, or a server of the caller's own in
# LOCKRUN_TEST_REDIS_URL) the environment is left as it is.
url_file=$1
shift
if [[ -f $url_file ]]; then
    LOCKRUN_TEST_REDIS_URL=$(<"$url_file")
    export LOCKRUN_TEST_REDIS_URL
fi
exec "$@"
