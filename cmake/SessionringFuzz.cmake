# libFuzzer builds (SESSIONRING_BUILD_FUZZ=ON, tests/fuzz, docs/fuzzing.md). Clang only. The
# whole build tree is instrumented for coverage (-fsanitize=fuzzer-no-link) and runs under
# AddressSanitizer + UndefinedBehaviorSanitizer (SESSIONRING_SANITIZE=address, selected here
# when left empty); only the fuzz targets link the fuzzer runtime (-fsanitize=fuzzer).
include_guard(GLOBAL)

if(SESSIONRING_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "sessionring: SESSIONRING_BUILD_FUZZ=ON needs Clang with libFuzzer "
                        "(found ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER}). Configure a fresh build "
                        "directory with CC=clang CXX=clang++ (Debian packages 'clang' and "
                        "'libclang-rt-14-dev'), or run ./run.sh fuzz which does that.")
  endif()
  if(SESSIONRING_SANITIZE STREQUAL "")
    set(SESSIONRING_SANITIZE "address")  # this directory scope only: the cache keeps ''
  elseif(NOT SESSIONRING_SANITIZE STREQUAL "address")
    message(FATAL_ERROR "sessionring: SESSIONRING_BUILD_FUZZ=ON runs under AddressSanitizer; "
                        "SESSIONRING_SANITIZE must be '' or 'address', not '${SESSIONRING_SANITIZE}'")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
