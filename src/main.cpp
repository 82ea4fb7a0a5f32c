#include "cli/run_main.hpp"

#if LOCKRUN_OPENSSL_LINKED_IN
#include <sys/prctl.h>
#endif

// CMakeLists.txt builds this file twice: into lockrun (0) and into lockrun-openssl (1).
int main(int argc, char** argv) {
#if LOCKRUN_OPENSSL_LINKED_IN
    // lockrun-openssl does a lockrun's run in its place: named so, `pgrep -x lockrun`,
    // `pkill -x lockrun` and `ps -C lockrun` find a TLS run as any other.
    ::prctl(PR_SET_NAME, "lockrun");
#endif
    return lockrun::run_main(argc, argv, LOCKRUN_OPENSSL_LINKED_IN != 0);
}
