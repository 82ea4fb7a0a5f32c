#include "cli/standard_output.hpp"

#include <unistd.h>

#include "util/write_all.hpp"

namespace lockrun {

void print_to_stdout(std::string_view text) {
    (void)write_all(STDOUT_FILENO, text);
}

}  // namespace lockrun
