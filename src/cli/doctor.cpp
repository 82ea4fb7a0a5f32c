#include "cli/doctor.hpp"

#include <algorithm>
#include <sstream>

#include "cli/standard_output.hpp"
#include "core/exit_code.hpp"
#include "util/json.hpp"

namespace lockrun {
namespace {

std::string_view level_name(Finding::Level level) {
    return level == Finding::Level::ok ? "ok" : level == Finding::Level::warn ? "warn" : "fail";
}

}  // namespace

int report_diagnosis(const Diagnosis& diagnosis, std::string_view backend, bool json) {
    bool usable = std::ranges::none_of(
        diagnosis, [](const Finding& f) { return f.level == Finding::Level::fail; });
    std::ostringstream out;
    if (json) {
        std::vector<std::string> findings;
        for (const Finding& finding : diagnosis) {
            findings.push_back(JsonObject()
                                   .string("check", finding.check)
                                   .string("level", level_name(finding.level))
                                   .string("detail", finding.detail)
                                   .str());
        }
        out << JsonObject()
                   .string("backend", backend)
                   .boolean("usable", usable)
                   .raw("findings", json_array(findings))
                   .str()
            << "\n";
    } else {
        for (const Finding& finding : diagnosis) {
            std::string level(level_name(finding.level));
            level = level == "fail" ? "FAIL" : level;
            level.resize(4, ' ');
            std::string check = finding.check + ":";
            check.resize(std::max<std::size_t>(check.size() + 1, 18), ' ');
            out << level << "  " << check << finding.detail << "\n";
        }
        out << (usable ? "usable\n" : "NOT usable\n");
    }
    print_to_stdout(out.str());
    return usable ? 0 : exit_code::k_backend_unavailable;
}

}  // namespace lockrun
