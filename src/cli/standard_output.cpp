#include "cli/standard_output.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "core/errors.hpp"
#include "util/write_all.hpp"

namespace lockrun {

void print_to_stdout(std::string_view text) {
    if (write_all(STDOUT_FILENO, text) || errno == EPIPE) return;
    throw OutputIncomplete(std::string("stdout: ") + std::strerror(errno) +
                           ": what lockrun printed is incomplete");
}

}  // namespace lockrun
