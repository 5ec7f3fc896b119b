# `cmake --install build [--prefix DIR]`: the public headers, libzpartisan (static and shared),
# zpartisan-node and zpartisan-ctl, a CMake package and a pkg-config file (README.md, Install).
include(CMakePackageConfigHelpers)

set(ZPARTISAN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/zpartisan
    CACHE STRING "Where the CMake package goes, under the install prefix")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/zpartisan DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/include/zpartisan/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/zpartisan)

# One export set per variant, each defining zpartisan::zpartisan; zpartisan-config.cmake picks one.
install(TARGETS zpartisan EXPORT zpartisan-static-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS zpartisan_shared EXPORT zpartisan-shared-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(variant static shared)
  install(EXPORT zpartisan-${variant}-targets NAMESPACE zpartisan::
          DESTINATION ${ZPARTISAN_CMAKE_DIR})
endforeach()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/zpartisan-config.cmake.in
                              ${PROJECT_BINARY_DIR}/zpartisan-config.cmake
                              INSTALL_DESTINATION ${ZPARTISAN_CMAKE_DIR})
# Before 1.0 a minor release may break the API: find_package(zpartisan 0.2) accepts 0.2.x only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/zpartisan-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/zpartisan-config.cmake ${PROJECT_BINARY_DIR}/zpartisan-config-version.cmake
        DESTINATION ${ZPARTISAN_CMAKE_DIR})

# zpartisan.pc finds its prefix from where it lies (${pcfiledir}), so an installed tree may move.
set(pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(pc_prefix "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH pc_up /prefix/${pc_dir} /prefix)
  string(REGEX REPLACE "/$" "" pc_up "${pc_up}")
  set(pc_prefix "\${pcfiledir}/${pc_up}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/zpartisan.pc.in ${PROJECT_BINARY_DIR}/zpartisan.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/zpartisan.pc DESTINATION ${pc_dir})

install(TARGETS zpartisan-node zpartisan-ctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
