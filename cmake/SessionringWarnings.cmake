include_guard(GLOBAL)
add_library(sessionring_warnings INTERFACE)
target_compile_options(sessionring_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wno-sign-conversion)
if(SESSIONRING_WERROR)
  target_compile_options(sessionring_warnings INTERFACE -Werror)
endif()

# Sanitizers apply to everything built in this tree (library, tests, tools).
if(SESSIONRING_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -g -O1)
  add_link_options(-fsanitize=thread)
elseif(SESSIONRING_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer -g -O1)
  add_link_options(-fsanitize=address,undefined)
elseif(NOT SESSIONRING_SANITIZE STREQUAL "")
  message(FATAL_ERROR "SESSIONRING_SANITIZE must be '', 'thread' or 'address'")
endif()
