#include "cli/run_main.hpp"

#include <cstdio>
#include <iostream>

#include <memory>

#include "backend/local/local_backend.hpp"
#include "backend/local/state_dir.hpp"
#include "backend/redis/redis_backend.hpp"
#include "cli/operator_commands.hpp"
#include "cli/options.hpp"
#include "cli/terminal_reporter.hpp"
#include "core/errors.hpp"
#include "core/single_flight.hpp"
#include "exec/host_identity.hpp"
#include "exec/signal_watch.hpp"
#include "exec/supervisor.hpp"
#include "util/random_token.hpp"

namespace lockrun {
namespace {

std::unique_ptr<Backend> make_backend(const Options& o, InterruptSource& interrupt) {
    bool use_redis = o.backend == Options::BackendKind::redis ||
                     (o.backend == Options::BackendKind::automatic && !o.redis_url.empty());
    if (!use_redis) {
        return std::make_unique<LocalBackend>(
            o.state_dir.empty() ? default_state_dir() : o.state_dir, o.key, &interrupt);
    }
    if (o.redis_url.empty()) {
        throw ConfigError("--backend redis needs a server: give --redis URL or set "
                          "LOCKRUN_REDIS_URL");
    }
    ConnectionSettings connection{parse_redis_url(o.redis_url), o.connect_timeout, o.io_timeout};
    return std::make_unique<RedisBackend>(connection, o.prefix, o.key, &interrupt);
}

int run_command(const Options& o) {
    // From here on, a signal is a value the loops poll for, not an interruption.
    SignalWatch signals;
    TerminalReporter reporter(o.verbosity);
    std::unique_ptr<Backend> backend = make_backend(o, signals);
    Supervisor supervisor(signals);

    SingleFlightSettings settings;
    settings.key = o.key;
    settings.command.argv = o.command;
    settings.lease = o.lease;
    settings.wait = o.wait;
    settings.conflict_exit_code = o.conflict_exit_code;
    settings.use_cache = !o.no_cache;
    settings.refresh = o.refresh;
    settings.cache_failures = o.cache_failures;
    settings.cache_stderr = o.cache_stderr;
    settings.cache_ttl = o.cache_ttl;
    settings.cache_max_bytes = o.cache_max_bytes;
    settings.on_lock_lost = o.on_lock_lost;
    settings.kill_after = o.kill_after;
    settings.io_timeout = o.io_timeout;
    settings.token = random_token();
    settings.me = current_holder(o.command);
    return run_single_flight(settings, *backend, supervisor, reporter);
}

int run_operator_command(const Invocation& invocation) {
    const Options& o = invocation.options;
    SignalWatch signals;
    std::unique_ptr<Backend> backend = make_backend(o, signals);
    switch (invocation.action) {
        case Invocation::Action::status:
            return show_status(*backend, o.key, invocation.json);
        case Invocation::Action::release:
            return release_lock(*backend, o.key, invocation.force);
        case Invocation::Action::cache_show:
            return show_cached_result(*backend, o.key, invocation.json);
        case Invocation::Action::cache_drop:
            return drop_cached_result(*backend, o.key);
        default:
            throw InternalError("no handler for this subcommand");
    }
}

}  // namespace

int run_main(int argc, const char* const* argv) {
    try {
        Invocation invocation = parse_command_line(argc, argv);
        if (invocation.action == Invocation::Action::help ||
            invocation.action == Invocation::Action::version) {
            std::cout << invocation.text << std::flush;
            return 0;
        }
        if (invocation.action == Invocation::Action::run) return run_command(invocation.options);
        return run_operator_command(invocation);
    } catch (const Interrupted& e) {
        // The user asked us to stop while waiting: the signal's own status, no message.
        return e.exit_code();
    } catch (const Error& e) {
        std::fprintf(stderr, "lockrun: %s\n", e.what());
        return e.exit_code();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lockrun: internal error: %s (please report it)\n", e.what());
        return exit_code::k_internal;
    }
}

}  // namespace lockrun
