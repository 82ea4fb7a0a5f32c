#include "cli/backend_choice.hpp"

#include "backend/local/state_dir.hpp"
#include "backend/redis/redis_url.hpp"
#include "core/errors.hpp"

namespace lockrun {
namespace {

std::string redacted(const std::string& url) {
    try {
        return parse_redis_url(url).redacted();
    } catch (const ConfigError&) {
        return "(a URL that does not parse)";
    }
}

const SettingValue* given(const SettingValues& settings, const char* name) {
    auto found = settings.find(name);
    if (found == settings.end() || found->second.origin == SettingValue::Origin::default_value) {
        return nullptr;
    }
    return &found->second;
}

}  // namespace

BackendChoice choose_backend(const Options& o, const SettingValues& settings) {
    BackendChoice choice;
    const SettingValue* backend = given(settings, "backend");
    const SettingValue* url = given(settings, "redis");
    choice.redis = o.backend == Options::BackendKind::redis ||
                   (o.backend == Options::BackendKind::automatic && !o.redis_url.empty());
    std::string why;
    if (backend != nullptr) {
        choice.source = backend->where;
        why = "from " + backend->where;
    } else if (url != nullptr && choice.redis) {
        choice.source = url->where;
        why = "a Redis URL is set by " + url->where;
    } else {
        choice.source = "default";
        why =
            "the default: no Redis URL is configured by --redis, LOCKRUN_REDIS_URL or a "
            "config file";
    }
    if (choice.redis) {
        std::string where = o.redis_url.empty() ? std::string("(no URL)") : redacted(o.redis_url);
        choice.description = "the Redis backend at " + where + " (" + why + ")";
    } else {
        std::string dir = o.state_dir.empty() ? default_state_dir() : o.state_dir;
        choice.description = "the local backend in " + dir + " (" + why + ")";
    }
    return choice;
}

}  // namespace lockrun
