# With strace(1), what lockrun's own process does: for the tests of what a run reads and
# sends (tests/cli/startup.bats, tests/cli/redis/round_trips.bats, tests/cli/redis/tls.bats).

# traced ARGS...: runs lockrun ARGS under strace; ./trace is what lockrun's own process did
# (not the command's, nor the group watcher's): the files it opened, the sockets it
# connected, what it sent and wrote.
traced() {
    rm -rf traces
    mkdir traces
    local status=0
    strace -ff -qq -s 64 -o traces/t -e trace=execve,open,openat,connect,sendto,write \
        "$LOCKRUN" "$@" || status=$?
    cat "$(grep -l "^execve(\"$LOCKRUN\"" traces/t.*)" >trace
    return "$status"
}

# opened: the paths lockrun opened, one a line.
opened() {
    sed -n 's/^\(open\|openat\)([^"]*"\([^"]*\)".*/\2/p' trace
}

# requests: how many times lockrun sent to the server (a pipelined batch counts once: this
# counts round trips).
requests() {
    grep -c '^sendto(' trace || true
}
