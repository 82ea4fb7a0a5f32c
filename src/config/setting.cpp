#include "config/setting.hpp"

#include <cctype>

namespace lockrun {

const std::vector<SettingSpec>& setting_specs() {
    using K = SettingKind;
    static const std::vector<SettingSpec> specs = {
        {"backend", K::choice, "", true, {"local", "redis"}},
        {"redis", K::secret_url, "", true},
        {"redis-password-file", K::path, "", true},
        {"tls-ca-file", K::path, "", true},
        {"tls-cert-file", K::path, "", true},
        {"tls-key-file", K::path, "", true},
        {"tls-server-name", K::text, "", true},
        {"connect-timeout", K::duration, "2s", true},
        {"io-timeout", K::duration, "2s", true},
        {"prefix", K::text, "lockrun:", true},
        {"state-dir", K::path, "", true},
        {"on-backend-error", K::choice, "fail", true, {"fail", "run"}},
        {"lease", K::duration, "30s", true},
        {"wait", K::duration_or_inf, "0", true},
        {"conflict-exit-code", K::integer, "75", true},
        {"on-lock-lost", K::choice, "term", true, {"term", "kill", "ignore"}},
        {"kill-after", K::duration, "10s", true},
        {"no-cache", K::switch_, "false", true},
        {"cache-ttl", K::duration, "300s", true},
        {"cache-failures", K::switch_, "false", true},
        {"cache-stderr", K::switch_, "true", true},
        {"cache-max-bytes", K::size, "16MiB", true},
        {"key-from-command", K::switch_, "false", true},
        {"no-holder-command", K::switch_, "false", true},
        {"quiet", K::switch_, "false", true},
        {"verbose", K::integer, "0", true},
        {"log-format", K::choice, "text", true, {"text", "json"}},
        {"metrics-file", K::path, "", true},
    };
    return specs;
}

const SettingSpec* find_setting(std::string_view name) {
    for (const SettingSpec& spec : setting_specs()) {
        if (spec.name == name) return &spec;
    }
    return nullptr;
}

std::string environment_name(std::string_view setting_name) {
    if (setting_name == "redis") return "LOCKRUN_REDIS_URL";
    std::string name = "LOCKRUN_";
    for (char c : setting_name) {
        name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
}

}  // namespace lockrun
