#!/usr/bin/env bats
# Every subcommand's --json (SPEC §7): one JSON document on stdout, whatever happened (a
# hit, a miss, an error), with the exit code the text form has; each parsed with jq.

load common

setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# one_document: $output is exactly one JSON value (jq -s counts them); $output is kept.
one_document() {
    jq -e -s 'length == 1' <<<"$output" >/dev/null ||
        fail "expected one JSON document on stdout, got: $output"
}

# An unreachable backend for the current one: a closed port, or a state dir that cannot
# be made.
unreachable() {
    if backend_is redis; then
        echo --redis redis://127.0.0.1:1
    else
        echo --state-dir /proc/no-such/dir
    fi
}

@test "status --json: free, held, and an unreachable backend" {
    run --separate-stderr lockrun status json:s --json
    assert_success
    one_document
    run jq -e '.key == "json:s" and .held == false and .cache == null and .backend.name != null' <<<"$output"
    assert_success

    start_holder holder -k json:s
    run --separate-stderr lockrun status json:s --json
    release holder
    run jq -e '.held == true and (.holder.pid | type == "number") and (.fence | type == "number")' <<<"$output"
    assert_success

    run --separate-stderr lockrun status json:s --json $(unreachable)
    local code=$status
    [ "$code" -eq 69 ] || [ "$code" -eq 78 ]
    one_document
    run jq -e --argjson code "$code" '.key == "json:s" and .error.exit_code == $code
        and (.error.message | length > 0)' <<<"$output"
    assert_success
}

@test "list --json: empty, some keys, and an unreachable backend" {
    run --separate-stderr lockrun list --json
    assert_success
    assert_output '[]'
    lockrun -k json:l1 -- echo one >/dev/null
    run --separate-stderr lockrun list --json
    assert_success
    one_document
    run jq -e 'map(.key) | index("json:l1") != null' <<<"$output"
    assert_success

    run --separate-stderr lockrun list --json $(unreachable)
    [ "$status" -eq 69 ] || [ "$status" -eq 78 ]
    one_document
    run jq -e '.error.exit_code >= 69 and (has("key") | not)' <<<"$output"
    assert_success
}

@test "cache show --json: a hit, a miss (exit 1), and an unreachable backend" {
    lockrun -k json:c -- printf 'line\n' >/dev/null
    run --separate-stderr lockrun cache show json:c --json
    assert_success
    run jq -e '.key == "json:c" and .cached == true and .exit_code == 0
        and .output[0].text == "line\n"' <<<"$output"
    assert_success

    run --separate-stderr lockrun cache show json:nothing --json
    assert_status 1
    one_document
    run jq -e '.key == "json:nothing" and .cached == false' <<<"$output"
    assert_success
    assert_one_error_line 'nothing is cached'

    run --separate-stderr lockrun cache show json:c --json $(unreachable)
    [ "$status" -eq 69 ] || [ "$status" -eq 78 ]
    one_document
    run jq -e '.key == "json:c" and (.error.message | length > 0)' <<<"$output"
    assert_success
}

@test "doctor --json: usable, and unusable with the same exit code as its text" {
    run --separate-stderr lockrun doctor --json
    assert_success
    one_document
    run jq -e '.usable == true and (.backend | IN("redis", "local")) and (.findings | length > 0)
        and all(.findings[]; (.check | type == "string") and (.level | IN("ok", "warn", "fail"))
                and (.detail | type == "string"))' <<<"$output"
    assert_success

    run --separate-stderr lockrun doctor $(unreachable)
    local text_status=$status
    run --separate-stderr lockrun doctor --json $(unreachable)
    assert_status "$text_status"
    [ "$status" -ne 0 ]
    one_document
    run jq -e '.usable == false or (.error.exit_code | type == "number")' <<<"$output"
    assert_success
}

@test "config --json: every setting with its value, source and where" {
    printf 'lease = "45s"\nmetrics-label = ["team=ops"]\n' >lockrun.toml
    LOCKRUN_WAIT=5s run --separate-stderr lockrun config --json --config lockrun.toml --cache-ttl 10m
    assert_success
    one_document
    run jq -e '(.config_file | endswith("lockrun.toml"))
        and .settings.lease == {"value": "45s", "source": "file", "where": (.config_file + ":1")}
        and .settings.wait.source == "environment" and .settings.wait.where == "LOCKRUN_WAIT"
        and .settings["cache-ttl"] == {"value": "10m", "source": "flag", "where": "--cache-ttl"}
        and .settings["no-cache"].value == false and .settings["conflict-exit-code"].value == 75
        and .settings["metrics-label"].value == ["team=ops"]
        and .settings.prefix.source == "default"' <<<"$output"
    assert_success
}

@test "config --json hides the password of a URL" {
    run --separate-stderr lockrun config --json --redis 'redis://:s3cret@127.0.0.1:1'
    assert_success
    refute_output --partial s3cret
    run jq -e '.settings.redis.value | contains("127.0.0.1")' <<<"$output"
    assert_success
}

@test "a bad command line of a --json subcommand: the error as a document too, exit 64" {
    run --separate-stderr lockrun status --json
    assert_status 64
    one_document
    run jq -e '.error.exit_code == 64 and (.error.message | length > 0)' <<<"$output"
    assert_success
    run --separate-stderr lockrun cache show json:x --json --lease nonsense
    assert_status 64
    one_document
    run jq -e '.error.exit_code == 64' <<<"$output"
    assert_success
}

@test "config --json writes numbers as JSON numbers, whatever their spelling" {
    run --separate-stderr lockrun config --json -E 075
    assert_success
    /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["settings"]["conflict-exit-code"]["value"] == 75, d' <<<"$output"
    run --separate-stderr lockrun config -E 075
    assert_line --regexp '^conflict-exit-code = 75 '
}
