#include "cli/run_main.hpp"

int main(int argc, char** argv) {
    return lockrun::run_main(argc, argv);
}
