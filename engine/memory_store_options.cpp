// MemoryStoreOptions validation (include/sessionring/memory_store_options.hpp).
#include <sessionring/memory_store_options.hpp>

#include "detail/retention_options.hpp"

#include <string>

namespace sessionring {

Status validate(const MemoryStoreOptions& o) {
  if (o.chunk_bytes < 4096 || o.chunk_bytes > (std::size_t{1} << 30))
    return Status(Errc::validation_error, "MemoryStoreOptions::chunk_bytes = " + std::to_string(o.chunk_bytes) +
                                              " is outside [4096, 2^30]");
  return detail::validate_retention_options(o.retention, o.session_retention, "MemoryStoreOptions");
}

}  // namespace sessionring
