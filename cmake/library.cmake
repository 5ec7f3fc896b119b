# The public library: the four layers' objects (core, wire, transport, runtime) in one
# libzpartisan, static and shared. Inside this build both also hand their users what the
# repository's own tests and tools need (the private headers under src/, spdlog, libzmq);
# installed, they carry only the public headers and their own dependencies.

# include/zpartisan/version.hpp, from the project's version.
configure_file(${PROJECT_SOURCE_DIR}/include/zpartisan/version.hpp.in
               ${PROJECT_BINARY_DIR}/include/zpartisan/version.hpp @ONLY)

set(zpartisan_layers zpartisan_core zpartisan_wire zpartisan_transport zpartisan_runtime)
set(zpartisan_layer_objects)
foreach(layer IN LISTS zpartisan_layers)
  list(APPEND zpartisan_layer_objects $<TARGET_OBJECTS:${layer}>)
endforeach()

add_library(zpartisan_internals INTERFACE)
target_include_directories(zpartisan_internals INTERFACE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(zpartisan_internals INTERFACE PkgConfig::LIBZMQ spdlog::spdlog)

add_library(zpartisan STATIC ${zpartisan_layer_objects})
add_library(zpartisan_shared SHARED ${zpartisan_layer_objects})
# Pre-1.0, a minor release may break the ABI: the SONAME carries major.minor (libzpartisan.so.0.2).
set_target_properties(zpartisan_shared PROPERTIES
  OUTPUT_NAME zpartisan
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})

foreach(library zpartisan zpartisan_shared)
  add_dependencies(${library} ${zpartisan_layers})
  set_target_properties(${library} PROPERTIES EXPORT_NAME zpartisan)
  target_compile_features(${library} PUBLIC cxx_std_20)
  target_include_directories(${library} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  # cereal: zpartisan/typed.hpp serializes typed payloads with it (header-only).
  target_link_libraries(${library} PUBLIC cereal::cereal $<BUILD_INTERFACE:zpartisan_internals>)
endforeach()
# A static library's users link what it uses; a shared one's users need none of it.
target_link_libraries(zpartisan PUBLIC Threads::Threads PRIVATE PkgConfig::LIBZMQ spdlog::spdlog)
target_link_libraries(zpartisan_shared PRIVATE Threads::Threads PkgConfig::LIBZMQ spdlog::spdlog)
