#!/usr/bin/env bats
# --help and the man page say the same: every long option of --help is documented in
# man/lockrun.1, and the page is clean for groff.

load common

MAN_PAGE="$BATS_TEST_DIRNAME/../../man/lockrun.1"

@test "every long option of --help is in the man page" {
    run "$LOCKRUN" --help
    assert_success
    local option missing=()
    for option in $(grep -oE -- '--[a-z][a-z-]+' <<<"$output" | sort -u); do
        grep -qF -- "${option//-/\\-}" "$MAN_PAGE" || missing+=("$option")
    done
    [ ${#missing[@]} -eq 0 ] || fail "not in man/lockrun.1: ${missing[*]}"
}

@test "every subcommand of --help is in the man page" {
    local subcommand
    for subcommand in status release "cache show" "cache drop" config doctor; do
        grep -qF -- "$subcommand" "$MAN_PAGE" || fail "man/lockrun.1 lacks $subcommand"
    done
}

@test "groff reports nothing about the man page" {
    run groff -man -ww -z "$MAN_PAGE"
    assert_success
    assert_output ""
}
