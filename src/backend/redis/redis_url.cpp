#include "backend/redis/redis_url.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <system_error>

#include "core/errors.hpp"
#include "util/hex.hpp"
#include "util/utf8.hpp"

namespace lockrun {

namespace {

// Where the user info ends. The last '@' rather than the first, so that a password with an
// unencoded '@', '/', '?' or '#' (common in generated passwords) still parses, and so that
// whatever the parser takes for a password is inside what redact_raw() hides.
std::size_t userinfo_end(std::string_view rest) {
    return rest.rfind('@');
}

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

void append_hex_escape(std::string& out, char c, char escape) {
    out += escape;
    if (escape == '\\') out += 'x';
    out += hex_upper(std::string_view(&c, 1));
}

bool is_scheme_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.';
}

// Where "://" is, if what precedes it is a scheme. Checking the characters matters for
// redaction: in "user:pa://ss@host" the "://" belongs to the password, not to a scheme.
std::size_t scheme_end(std::string_view text) {
    const std::size_t end = text.find("://");
    if (end == std::string_view::npos || end == 0) return std::string_view::npos;
    for (std::size_t i = 0; i < end; ++i) {
        if (!is_scheme_char(text[i])) return std::string_view::npos;
    }
    return end;
}

// Escapes control bytes so that an error quoting user input stays on one line.
std::string escape_controls(std::string_view text) {
    std::string escaped;
    for (const char c : text) {
        if (is_control_character(std::string_view(&c, 1))) {
            append_hex_escape(escaped, c, '\\');
        } else {
            escaped += c;
        }
    }
    return escaped;
}

// A bad URL is quoted back to the user, so it is redacted before anything has been parsed:
// everything between "://" and the last '@' (user and password: in "redis://secret@host" the
// secret may be meant as a password, as redis-cli reads it), and the value of every query
// parameter but db.
std::string redact_raw(std::string_view text) {
    const std::size_t end_of_scheme = scheme_end(text);
    const std::size_t start = end_of_scheme == std::string_view::npos ? 0 : end_of_scheme + 3;
    std::string redacted(text.substr(0, start));
    std::string_view rest = text.substr(start);
    if (const std::size_t at = userinfo_end(rest); at != std::string_view::npos) {
        redacted += "***";
        rest.remove_prefix(at);
    }
    std::string_view query;
    if (const std::size_t question = rest.find('?'); question != std::string_view::npos) {
        query = rest.substr(question);
        rest = rest.substr(0, question);
    }
    redacted += rest;
    bool in_value = false;
    bool hide_value = false;
    for (std::size_t i = 0; i < query.size(); ++i) {
        const char c = query[i];
        if (c == '?' || c == '&') {
            in_value = false;
            hide_value = query.substr(i + 1, 3) != "db=";
            redacted += c;
        } else if (!in_value && c == '=') {
            in_value = true;
            redacted += hide_value ? "=***" : "=";
        } else if (!in_value || !hide_value) {
            redacted += c;
        }
    }
    return escape_controls(redacted);
}

class UrlParser {
public:
    explicit UrlParser(std::string_view text) : text_(text) {}

    RedisUrl parse() {
        if (text_.empty()) fail("is empty");
        // A URL is printable text; a control byte (a NUL above all) cannot reach connect()
        // intact, and would make the URL print as something else than what is used.
        for (char c : text_) {
            if (is_control_character(std::string_view(&c, 1))) {
                fail("contains a control character");
            }
        }
        std::string_view rest = text_;
        const std::size_t end_of_scheme = scheme_end(rest);
        if (end_of_scheme == std::string_view::npos) {
            fail("has no scheme (expected redis://, rediss:// or unix://)");
        }
        const std::string scheme = lower(rest.substr(0, end_of_scheme));
        rest.remove_prefix(end_of_scheme + 3);
        if (scheme == "redis" || scheme == "redis+sentinel") {
            url_.transport = RedisUrl::Transport::tcp;
        } else if (scheme == "rediss" || scheme == "rediss+sentinel") {
            url_.transport = RedisUrl::Transport::tls;
        } else if (scheme == "unix") {
            url_.transport = RedisUrl::Transport::unix_socket;
        } else {
            fail("unknown scheme '" + scheme +
                 "' (expected redis://, rediss://, unix://, redis+sentinel:// or "
                 "rediss+sentinel://)");
        }
        sentinel_ = scheme.ends_with("+sentinel");

        if (url_.transport == RedisUrl::Transport::unix_socket) {
            parse_unix(rest);
        } else {
            parse_tcp(rest);
        }
        return url_;
    }

private:
    [[noreturn]] void fail(const std::string& reason) const {
        throw ConfigError("invalid Redis URL '" + redact_raw(text_) + "': " + reason);
    }

    static std::string lower(std::string_view text) {
        std::string out(text);
        for (char& c : out) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        return out;
    }

    std::string percent_decode(std::string_view text) const {
        std::string out;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] != '%') {
                out += text[i];
                continue;
            }
            if (i + 2 >= text.size() || !is_hex_digit(text[i + 1]) || !is_hex_digit(text[i + 2])) {
                fail("bad percent-encoding in the user or password");
            }
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        }
        return out;
    }

    // As redis-cli reads it: "user:password", ":password", and a userinfo without ':' is the
    // password of the default user (so "redis://SECRET@host" logs in, and is never shown).
    void parse_userinfo(std::string_view userinfo) {
        const std::size_t colon = userinfo.find(':');
        if (colon == std::string_view::npos) {
            url_.password = percent_decode(userinfo);
            url_.password_without_colon = !url_.password.empty();
            return;
        }
        url_.user = percent_decode(userinfo.substr(0, colon));
        url_.password = percent_decode(userinfo.substr(colon + 1));
    }

    void parse_tcp(std::string_view rest) {
        if (const std::size_t at = userinfo_end(rest); at != std::string_view::npos) {
            parse_userinfo(rest.substr(0, at));
            rest.remove_prefix(at + 1);
        }
        const std::size_t authority_end = rest.find_first_of("/?#");
        std::string_view hosts = rest.substr(0, authority_end);
        rest.remove_prefix(hosts.size());
        // Seeds of a cluster, comma-separated; the first is the URL's host.
        if (sentinel_) default_port_ = 26379;
        std::string_view first = hosts.substr(0, hosts.find(','));
        RedisNode node = parse_node(first);
        url_.host = node.host;
        url_.port = node.port;
        for (std::size_t comma = hosts.find(','); comma != std::string_view::npos;) {
            std::string_view remaining = hosts.substr(comma + 1);
            std::size_t next = remaining.find(',');
            url_.more_seeds.push_back(parse_node(remaining.substr(0, next)));
            comma = next == std::string_view::npos ? next : comma + 1 + next;
        }

        if (sentinel_) {
            // "/MASTER[/db]": the name the Sentinels know the master by.
            if (rest.empty() || rest.front() != '/') {
                fail(
                    "a Sentinel URL names the master after the hosts: "
                    "redis+sentinel://host:26379/MASTER");
            }
            rest.remove_prefix(1);
            const std::string_view name = rest.substr(0, rest.find_first_of("/?#"));
            if (name.empty()) fail("the master's name after the hosts is empty");
            url_.sentinel_master = std::string(name);
            rest.remove_prefix(name.size());
        }
        if (!rest.empty() && rest.front() == '/') {
            rest.remove_prefix(1);
            const std::size_t path_end = rest.find_first_of("?#");
            const std::string_view db_text = rest.substr(0, path_end);
            rest.remove_prefix(db_text.size());
            if (!db_text.empty()) set_db(db_text);
        }
        parse_query_and_end(rest);
    }

    RedisNode parse_node(std::string_view host_port) const {
        RedisNode node;
        node.port = default_port_;
        std::optional<std::string_view> port_text;
        if (!host_port.empty() && host_port.front() == '[') {
            const std::size_t close = host_port.find(']');
            if (close == std::string_view::npos) fail("IPv6 address has no closing ']'");
            node.host = std::string(host_port.substr(1, close - 1));
            in6_addr address{};
            if (node.host.empty() || inet_pton(AF_INET6, node.host.c_str(), &address) != 1) {
                fail("'[" + escape_controls(node.host) + "]' is not an IPv6 address");
            }
            host_port.remove_prefix(close + 1);
            if (!host_port.empty()) {
                if (host_port.front() != ':') fail("trailing garbage after the host");
                port_text = host_port.substr(1);
            }
        } else {
            const std::size_t colon = host_port.find(':');
            if (colon != std::string_view::npos &&
                host_port.find(':', colon + 1) != std::string_view::npos) {
                fail("an IPv6 address must be in brackets, as in redis://[::1]:6379");
            }
            node.host = std::string(host_port.substr(0, colon));
            if (node.host.empty()) fail("host is empty");
            for (const char c : node.host) {
                const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
                if (!ok) fail("host '" + escape_controls(node.host) + "' contains a bad character");
            }
            if (colon != std::string_view::npos) port_text = host_port.substr(colon + 1);
        }
        if (port_text) node.port = parse_port(*port_text);
        return node;
    }

    void parse_unix(std::string_view rest) {
        // The path starts with '/', so user info is present exactly when rest does not start
        // with one; it ends at the last "@/" because a socket path may itself contain '@'.
        if (!rest.empty() && rest.front() != '/') {
            const std::size_t at = rest.rfind("@/");
            if (at == std::string_view::npos) {
                fail("unix socket path must be absolute, as in unix:///run/redis.sock");
            }
            parse_userinfo(rest.substr(0, at));
            rest.remove_prefix(at + 1);
        }
        const std::size_t path_end = rest.find_first_of("?#");
        url_.socket_path = std::string(rest.substr(0, path_end));
        rest.remove_prefix(url_.socket_path.size());
        if (url_.socket_path.empty()) {
            fail("unix socket path must be absolute, as in unix:///run/redis.sock");
        }
        parse_query_and_end(rest);
    }

    std::uint16_t parse_port(std::string_view text) const {
        unsigned port = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || port == 0 ||
            port > 65535) {
            fail("port must be 1-65535");
        }
        return static_cast<std::uint16_t>(port);
    }

    void set_db(std::string_view text) {
        if (db_seen_) fail("db is given twice");
        db_seen_ = true;
        int db = 0;
        // from_chars on an int accepts a '-', which a db number never has.
        const bool digits_only = !text.empty() && text.front() != '-';
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), db);
        if (!digits_only || ec != std::errc{} || end != text.data() + text.size()) {
            fail("db must be a number 0-2147483647");
        }
        url_.db = db;
    }

    void parse_query_and_end(std::string_view rest) {
        if (!rest.empty() && rest.front() == '?') {
            rest.remove_prefix(1);
            const std::string_view query = rest.substr(0, rest.find('#'));
            rest.remove_prefix(query.size());
            if (query.empty()) fail("empty query after '?'");
            std::string_view params = query;
            while (true) {
                const std::size_t amp = params.find('&');
                const std::string_view param = params.substr(0, amp);
                const std::string_view name = param.substr(0, param.find('='));
                if (name != "db") {
                    // Only the name is shown: redis-py also reads ?password=..., so a value
                    // here may well be a secret.
                    fail("unknown query parameter '" + escape_controls(name) + "' (only db=N)");
                }
                set_db(param.substr(std::min<std::size_t>(3, param.size())));  // after "db="
                if (amp == std::string_view::npos) break;
                params.remove_prefix(amp + 1);
            }
        }
        if (!rest.empty()) fail("trailing garbage");
    }

    std::string_view text_;
    RedisUrl url_;
    bool db_seen_ = false;
    bool sentinel_ = false;
    std::uint16_t default_port_ = 6379;
};

// Keeps unreserved characters, so that redacted() is itself a URL that parses back.
std::string percent_encode(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out += c;
        } else {
            append_hex_escape(out, c, '%');
        }
    }
    return out;
}

}  // namespace

std::string RedisUrl::redacted() const {
    std::string out;
    const bool sentinel = !sentinel_master.empty();
    switch (transport) {
        case Transport::tcp:
            out = sentinel ? "redis+sentinel://" : "redis://";
            break;
        case Transport::tls:
            out = sentinel ? "rediss+sentinel://" : "rediss://";
            break;
        case Transport::unix_socket:
            out = "unix://";
            break;
    }
    // Forms that parse back to the same meaning: a named user is "user:***@", or "user:@"
    // without a password ("user@" would read as a password); the default user's password
    // alone is ":***@", or "***@" as the URL wrote it.
    if (!user.empty()) {
        out += percent_encode(user);
        out += password.empty() ? ":@" : ":***@";
    } else if (!password.empty()) {
        out += password_without_colon ? "***@" : ":***@";
    }
    // Appended piece by piece: g++ 12 at -O3 warns falsely (-Wrestrict, GCC bug 105329) on
    // "literal" + std::string here.
    if (transport == Transport::unix_socket) {
        out += escape_controls(socket_path);
        if (db != 0) out.append("?db=").append(std::to_string(db));
    } else {
        out += RedisNode{host, port}.text();
        for (const RedisNode& node : more_seeds) out.append(",").append(node.text());
        if (sentinel) out.append("/").append(sentinel_master);
        if (db != 0) out.append("/").append(std::to_string(db));
    }
    return out;
}

std::string RedisNode::text() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    std::string out;
    if (ipv6) out += '[';
    out += host;
    if (ipv6) out += ']';
    out.append(":").append(std::to_string(port));
    return out;
}

std::vector<RedisNode> RedisUrl::seeds() const {
    std::vector<RedisNode> all{{host, port}};
    all.insert(all.end(), more_seeds.begin(), more_seeds.end());
    return all;
}

RedisUrl RedisUrl::at(const RedisNode& node) const {
    RedisUrl one = *this;
    one.host = node.host;
    one.port = node.port;
    one.more_seeds.clear();
    one.sentinel_master.clear();
    return one;
}

RedisUrl parse_redis_url(std::string_view text) {
    return UrlParser(text).parse();
}

}  // namespace lockrun
