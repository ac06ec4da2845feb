# Every dependency comes from a Debian package; a missing one stops configuration with a
# message naming the package to install (./run.sh installs them all).
include_guard(GLOBAL)
include(FindPackageHandleStandardArgs)

function(sessionring_require what package)
  message(FATAL_ERROR "sessionring: ${what} not found. Install the Debian package '${package}' "
                      "(apt-get install ${package}), or run ./run.sh which installs it.")
endfunction()

find_package(Threads REQUIRED)

# Boost.Lockfree (header-only, libboost-dev)
find_path(SESSIONRING_BOOST_LOCKFREE_DIR boost/lockfree/queue.hpp)
if(NOT SESSIONRING_BOOST_LOCKFREE_DIR)
  sessionring_require("Boost.Lockfree (boost/lockfree/queue.hpp)" libboost-dev)
endif()

# moodycamel ConcurrentQueue (header-only, libconcurrentqueue-dev)
find_path(SESSIONRING_CONCURRENTQUEUE_DIR concurrentqueue/concurrentqueue.h)
if(NOT SESSIONRING_CONCURRENTQUEUE_DIR)
  sessionring_require("moodycamel ConcurrentQueue (concurrentqueue/concurrentqueue.h)" libconcurrentqueue-dev)
endif()

# xxHash (libxxhash-dev): XXH3 checksums for log records, hashing of event ids.
find_path(SESSIONRING_XXHASH_INCLUDE_DIR xxhash.h)
find_library(SESSIONRING_XXHASH_LIBRARY NAMES xxhash)
if(NOT SESSIONRING_XXHASH_INCLUDE_DIR OR NOT SESSIONRING_XXHASH_LIBRARY)
  sessionring_require("xxHash (xxhash.h, libxxhash)" libxxhash-dev)
endif()
if(NOT TARGET sessionring_xxhash)
  add_library(sessionring_xxhash INTERFACE IMPORTED GLOBAL)
  target_include_directories(sessionring_xxhash INTERFACE ${SESSIONRING_XXHASH_INCLUDE_DIR})
  target_link_libraries(sessionring_xxhash INTERFACE ${SESSIONRING_XXHASH_LIBRARY})
endif()

if(SESSIONRING_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  if(NOT GTest_FOUND)
    sessionring_require("GoogleTest/GoogleMock" "libgtest-dev libgmock-dev")
  endif()
endif()
if(SESSIONRING_BUILD_BENCH)
  find_package(benchmark CONFIG QUIET)
  if(NOT benchmark_FOUND)
    sessionring_require("Google Benchmark" libbenchmark-dev)
  endif()
endif()
if(SESSIONRING_BUILD_TOOLS OR SESSIONRING_BUILD_BENCH)
  find_package(CLI11 CONFIG QUIET)
  if(NOT CLI11_FOUND)
    sessionring_require("CLI11" libcli11-dev)
  endif()
  find_package(nlohmann_json CONFIG QUIET)
  if(NOT nlohmann_json_FOUND)
    sessionring_require("nlohmann JSON" nlohmann-json3-dev)
  endif()
endif()

# NATS C client (libnats-dev 3.4): JetStreamStore (docs/store.md "JetStreamStore"). Its JetStream
# API replies are JSON, parsed with nlohmann JSON (nlohmann-json3-dev). The tests start their own
# nats-server (Debian package nats-server) and fail with a message naming it when it is missing.
if(SESSIONRING_JETSTREAM)
  # Not find_package(cnats): Debian's cnats-config.cmake names a libnats_static.a the package
  # does not ship, so it fails. The header and the shared library are enough.
  find_path(SESSIONRING_NATS_INCLUDE_DIR nats/nats.h)
  find_library(SESSIONRING_NATS_LIBRARY NAMES nats)
  if(NOT SESSIONRING_NATS_INCLUDE_DIR OR NOT SESSIONRING_NATS_LIBRARY)
    sessionring_require("the NATS C client libnats (nats/nats.h, libnats.so)" libnats-dev)
  endif()
  if(NOT TARGET sessionring_nats)
    add_library(sessionring_nats INTERFACE IMPORTED GLOBAL)
    target_include_directories(sessionring_nats INTERFACE ${SESSIONRING_NATS_INCLUDE_DIR})
    target_link_libraries(sessionring_nats INTERFACE ${SESSIONRING_NATS_LIBRARY})
  endif()
  if(NOT TARGET nlohmann_json::nlohmann_json)
    find_package(nlohmann_json CONFIG QUIET)
    if(NOT nlohmann_json_FOUND)
      sessionring_require("nlohmann JSON" nlohmann-json3-dev)
    endif()
  endif()
  find_program(SESSIONRING_NATS_SERVER nats-server PATHS /usr/sbin /usr/bin /usr/local/bin)
endif()
