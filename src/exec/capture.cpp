#include "exec/capture.hpp"

#include <algorithm>

namespace lockrun {

void Capture::add(OutputStream stream, std::string_view bytes) {
    if (!wants_bytes()) return;
    size += bytes.size();
    if (size > limit) {
        over_limit = true;
        std::vector<OutputChunk>().swap(chunks);  // gives the memory back now
        return;
    }
    // A read this large means a command that streams: its blocks are made whole at once,
    // not grown (and copied) by doubling from a few bytes.
    const bool streaming = bytes.size() >= k_streaming_read;
    while (!bytes.empty()) {
        if (chunks.empty() || chunks.back().stream != stream ||
            chunks.back().bytes.size() == k_capture_block) {
            chunks.push_back({stream, {}});
            if (streaming) chunks.back().bytes.reserve(k_capture_block);
        }
        std::string& block = chunks.back().bytes;
        std::size_t take = std::min(bytes.size(), k_capture_block - block.size());
        if (block.size() + take > block.capacity()) {
            // Doubling, as std::string would, but never past one block.
            block.reserve(
                std::min(k_capture_block, std::max(2 * block.capacity(), block.size() + take)));
        }
        block.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
    }
}

}  // namespace lockrun
