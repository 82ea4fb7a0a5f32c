#include "cli/prometheus_text.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace lockrun {
namespace {

bool name_character(char c, bool first) {
    bool letter = std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
    return letter || (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// Reads a name at the front of `rest` and removes it; "" when there is none.
std::string take_name(std::string_view& rest) {
    std::size_t length = 0;
    while (length < rest.size() && name_character(rest[length], length == 0)) ++length;
    std::string name(rest.substr(0, length));
    rest.remove_prefix(length);
    return name;
}

// `"..."` with its escapes, removed from the front of `rest`.
std::optional<std::string> take_quoted(std::string_view& rest) {
    if (rest.empty() || rest.front() != '"') return std::nullopt;
    std::string value;
    for (std::size_t i = 1; i < rest.size(); ++i) {
        char c = rest[i];
        if (c == '"') {
            rest.remove_prefix(i + 1);
            return value;
        }
        if (c == '\\') {
            if (++i == rest.size()) return std::nullopt;
            char escaped = rest[i];
            if (escaped == 'n') {
                value += '\n';
            } else if (escaped == '\\' || escaped == '"') {
                value += escaped;
            } else {
                return std::nullopt;
            }
        } else {
            value += c;
        }
    }
    return std::nullopt;
}

std::optional<PrometheusLabels> take_labels(std::string_view& rest) {
    PrometheusLabels labels;
    if (rest.empty() || rest.front() != '{') return labels;
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() != '}') {
        std::string name = take_name(rest);
        if (name.empty() || rest.empty() || rest.front() != '=') return std::nullopt;
        rest.remove_prefix(1);
        auto value = take_quoted(rest);
        if (!value) return std::nullopt;
        labels.emplace_back(std::move(name), std::move(*value));
        if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
    }
    if (rest.empty()) return std::nullopt;
    rest.remove_prefix(1);
    return labels;
}

std::optional<double> parse_number(std::string_view text) {
    if (text == "+Inf") return HUGE_VAL;
    if (text == "-Inf") return -HUGE_VAL;
    if (text == "NaN") return std::nan("");
    // strtod, not std::from_chars: libstdc++'s from_chars for a double is the one thing that
    // linked libm into lockrun (fesetround), which every run then loaded (250 KiB of RSS).
    // lockrun sets no locale, so the decimal point is '.'. What strtod takes and from_chars
    // does not is refused first: a sign '+', leading blanks, hexadecimal.
    if (text.empty() || text.front() == '+' ||
        std::isspace(static_cast<unsigned char>(text.front())) ||
        text.find_first_of("xX") != std::string_view::npos) {
        return std::nullopt;
    }
    const std::string terminated(text);
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(terminated.c_str(), &end);
    // Out of range: past the largest double, or below the least but not zero. A subnormal
    // value is in range for from_chars; strtod says ERANGE for it too.
    const bool out_of_range = errno == ERANGE && (std::isinf(value) || value == 0);
    if (out_of_range || end != terminated.c_str() + terminated.size()) return std::nullopt;
    return value;
}

std::optional<PrometheusSample> parse_sample(std::string_view line) {
    PrometheusSample sample;
    sample.name = take_name(line);
    if (sample.name.empty()) return std::nullopt;
    auto labels = take_labels(line);
    if (!labels) return std::nullopt;
    sample.labels = std::move(*labels);
    if (line.empty() || (line.front() != ' ' && line.front() != '\t')) return std::nullopt;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    // The value, then an optional timestamp.
    std::string_view value = line.substr(0, line.find_first_of(" \t"));
    auto number = parse_number(value);
    if (!number) return std::nullopt;
    sample.value = *number;
    return sample;
}

}  // namespace

std::string prometheus_label_value(std::string_view text) {
    std::string escaped;
    for (char c : text) {
        if (c == '\\') {
            escaped += "\\\\";
        } else if (c == '"') {
            escaped += "\\\"";
        } else if (c == '\n') {
            escaped += "\\n";
        } else {
            escaped += c;
        }
    }
    return escaped;
}

std::string prometheus_labels(const PrometheusLabels& labels) {
    if (labels.empty()) return "";
    std::string text = "{";
    for (const auto& [name, value] : labels) {
        if (text.size() > 1) text += ',';
        text += name + "=\"" + prometheus_label_value(value) + "\"";
    }
    return text + "}";
}

std::string prometheus_number(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    // fmt's default for a double is the shortest representation that reads back exactly.
    return fmt::format("{}", value);
}

std::optional<std::vector<PrometheusSample>> parse_prometheus_samples(std::string_view text) {
    std::vector<PrometheusSample> samples;
    while (!text.empty()) {
        std::size_t end = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        if (line.empty() || line.front() == '#') continue;
        auto sample = parse_sample(line);
        if (!sample) return std::nullopt;
        samples.push_back(std::move(*sample));
    }
    return samples;
}

}  // namespace lockrun
