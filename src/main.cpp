#include "cli/run_main.hpp"

// CMakeLists.txt builds this file twice: into lockrun (0) and into lockrun-openssl (1).
int main(int argc, char** argv) {
    return lockrun::run_main(argc, argv, LOCKRUN_OPENSSL_LINKED_IN != 0);
}
