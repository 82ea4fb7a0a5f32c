# For the tests that run lockrun with its default state dir, /tmp/lockrun-$UID (SPEC §6),
# which is the developer's own: `load default_dir`, call use_default_dir in the test and
# cleanup_default_dir in teardown. Teardown removes what the test created there (the files
# of its own key, and the directory with its sweep marker only when the test created it),
# so that the developer's state dir is left as it was.
DEFAULT_DIR=
DEFAULT_DIR_EXISTED=
DEFAULT_DIR_KEY=
cleanup_default_dir() {
    [[ -n $DEFAULT_DIR ]] || return 0
    if [[ -n $DEFAULT_DIR_KEY && -d $DEFAULT_DIR && ! -L $DEFAULT_DIR ]]; then
        rm -f -- "$DEFAULT_DIR/$(key_hash "$DEFAULT_DIR_KEY")".*
    fi
    if [[ $DEFAULT_DIR_EXISTED == no ]]; then
        rm -f -- "$DEFAULT_DIR/.swept"
        rmdir -- "$DEFAULT_DIR" 2>/dev/null || true
    fi
}

# use_default_dir: the test runs lockrun with its default state dir, /tmp/lockrun-$UID
# (LOCKRUN_STATE_DIR unset), under the key $DEFAULT_DIR_KEY, its own.
use_default_dir() {
    unset LOCKRUN_STATE_DIR
    DEFAULT_DIR=/tmp/lockrun-$(id -u)
    if [[ -e $DEFAULT_DIR || -L $DEFAULT_DIR ]]; then
        DEFAULT_DIR_EXISTED=yes
    else
        DEFAULT_DIR_EXISTED=no
    fi
    # A key of its own, so that the files it leaves in a dir that was there are ours alone.
    DEFAULT_DIR_KEY=bats-default-dir-$$-$RANDOM-$BATS_TEST_NUMBER
}
