#include "cli/doctor.hpp"

#include <iostream>

#include "core/exit_code.hpp"

namespace lockrun {

int report_diagnosis(const Diagnosis& diagnosis) {
    bool usable = true;
    for (const Finding& finding : diagnosis) {
        const char* level = finding.level == Finding::Level::ok     ? "ok  "
                            : finding.level == Finding::Level::warn ? "warn"
                                                                    : "FAIL";
        std::string check = finding.check + ":";
        check.resize(std::max<std::size_t>(check.size(), 18), ' ');
        std::cout << level << "  " << check << finding.detail << "\n";
        usable = usable && finding.level != Finding::Level::fail;
    }
    std::cout << (usable ? "usable\n" : "NOT usable\n") << std::flush;
    return usable ? 0 : exit_code::k_backend_unavailable;
}

}  // namespace lockrun
