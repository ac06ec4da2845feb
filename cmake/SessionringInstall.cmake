# Install rules (google/benchmark style): public headers only, the static and the shared
# library, a relocatable CMake package with a version file, a pkg-config file and the
# `sessionring` program. Consumers:
#   find_package(sessionring 0.1 CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE sessionring::sessionring)         # static
#   target_link_libraries(app PRIVATE sessionring::sessionring_shared)  # shared
# or `pkg-config --cflags --libs sessionring`. Layout: README.md "Install".
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SESSIONRING_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/sessionring" CACHE STRING
    "Where the CMake package files go, relative to the prefix")

# Headers: include/sessionring/*.hpp only (engine/detail stays private). Same include path,
# <sessionring/...>, in the build tree and the install tree.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/sessionring"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        COMPONENT sessionring_Development
        FILES_MATCHING PATTERN "*.hpp")

set_target_properties(sessionring PROPERTIES EXPORT_NAME sessionring)
set_target_properties(sessionring_shared PROPERTIES EXPORT_NAME sessionring_shared)
install(TARGETS sessionring sessionring_shared
        EXPORT sessionringTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT sessionring_Development
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT sessionring_Runtime
                NAMELINK_COMPONENT sessionring_Development
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT sessionring_Runtime)
install(EXPORT sessionringTargets
        NAMESPACE sessionring::
        DESTINATION "${SESSIONRING_INSTALL_CMAKEDIR}"
        COMPONENT sessionring_Development)
# The same targets from the build tree, without installing: find_package(sessionring) with
# sessionring_DIR=<build dir> (google/benchmark's export()).
export(EXPORT sessionringTargets NAMESPACE sessionring:: FILE "${PROJECT_BINARY_DIR}/sessionringTargets.cmake")

# The JetStreamStore library, the package's `jetstream` component, in an export set of its own
# so that find_package(sessionring) without the component needs no libnats.
if(TARGET sessionring_jetstream)
  set_target_properties(sessionring_jetstream PROPERTIES EXPORT_NAME jetstream)
  install(TARGETS sessionring_jetstream
          EXPORT sessionringJetStreamTargets
          ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT sessionring_Development)
  install(EXPORT sessionringJetStreamTargets
          NAMESPACE sessionring::
          DESTINATION "${SESSIONRING_INSTALL_CMAKEDIR}"
          COMPONENT sessionring_Development)
  export(EXPORT sessionringJetStreamTargets NAMESPACE sessionring::
         FILE "${PROJECT_BINARY_DIR}/sessionringJetStreamTargets.cmake")
endif()

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/sessionringConfig.cmake.in"
                              "${PROJECT_BINARY_DIR}/sessionringConfig.cmake"
                              INSTALL_DESTINATION "${SESSIONRING_INSTALL_CMAKEDIR}")
# 0.x: a minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/sessionringConfigVersion.cmake"
                                 VERSION "${PROJECT_VERSION}"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/sessionringConfig.cmake" "${PROJECT_BINARY_DIR}/sessionringConfigVersion.cmake"
        DESTINATION "${SESSIONRING_INSTALL_CMAKEDIR}"
        COMPONENT sessionring_Development)

# pkg-config: relocatable (prefix derived from the .pc file's own location), so
# `cmake --install build --prefix DIR` yields a correct file for any DIR.
set(_sr_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SESSIONRING_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(SESSIONRING_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(SESSIONRING_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH _sr_pc_up "/_prefix_/${_sr_pc_dir}" "/_prefix_")
  string(REGEX REPLACE "/$" "" _sr_pc_up "${_sr_pc_up}")
  set(SESSIONRING_PC_PREFIX "\${pcfiledir}/${_sr_pc_up}")
  set(SESSIONRING_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(SESSIONRING_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/sessionring.pc.in" "${PROJECT_BINARY_DIR}/sessionring.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/sessionring.pc"
        DESTINATION "${_sr_pc_dir}"
        COMPONENT sessionring_Development)

# The command-line program.
if(TARGET sessionring_cli)
  install(TARGETS sessionring_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT sessionring_Runtime)
  install(FILES "${PROJECT_BINARY_DIR}/tools/sessionring.bash" RENAME sessionring
          DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" COMPONENT sessionring_Runtime)
  if(SESSIONRING_HELP2MAN)
    install(FILES "${PROJECT_BINARY_DIR}/tools/sessionring.1" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1"
            COMPONENT sessionring_Runtime)
  endif()
endif()

# The docs a user reads first.
install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT sessionring_Development)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/" DESTINATION "${CMAKE_INSTALL_DOCDIR}"
        COMPONENT sessionring_Development FILES_MATCHING PATTERN "*.md")
