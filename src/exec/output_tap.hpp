#pragma once
// Where a relay hands the bytes it reads (exec/output_relay.hpp): the copy kept for the
// cache, and the live feed of the run's followers (core/live_output.hpp). While neither
// wants bytes, the relay moves output without reading it.

#include <string_view>

#include "core/live_output.hpp"
#include "exec/capture.hpp"

namespace lockrun {

struct OutputTap {
    Capture& capture;
    LivePublisher* live = nullptr;  // null: the run publishes nothing

    bool wants_bytes() const { return capture.wants_bytes() || (live && live->wants_bytes()); }
    bool holds_back() const { return live && live->holds_back(); }
    void add(OutputStream stream, std::string_view bytes) {
        capture.add(stream, bytes);
        if (live && live->wants_bytes()) live->publish(stream, bytes);
    }
};

}  // namespace lockrun
