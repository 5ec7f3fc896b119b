# `make docs` (or the `docs` target): the API reference from the public headers' comments, in
# BUILD_DIR/docs/html, when doxygen is installed. Nothing else needs doxygen.
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  set(DOXYGEN_PROJECT_NAME zpartisan)
  set(DOXYGEN_PROJECT_NUMBER ${PROJECT_VERSION})
  set(DOXYGEN_PROJECT_BRIEF "Cluster membership and messaging node on ZeroMQ")
  set(DOXYGEN_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/docs)
  set(DOXYGEN_GENERATE_LATEX NO)
  set(DOXYGEN_EXTRACT_ALL YES)  # plain structs' fields are documented by their trailing comments
  set(DOXYGEN_JAVADOC_AUTOBRIEF YES)
  set(DOXYGEN_FULL_PATH_NAMES YES)
  set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/include)
  set(DOXYGEN_STRIP_FROM_INC_PATH ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/include)
  set(DOXYGEN_USE_MDFILE_AS_MAINPAGE ${PROJECT_SOURCE_DIR}/docs/reference.md)
  set(DOXYGEN_WARN_IF_UNDOCUMENTED NO)
  set(DOXYGEN_QUIET YES)
  doxygen_add_docs(docs
    ${PROJECT_SOURCE_DIR}/docs/reference.md
    ${PROJECT_SOURCE_DIR}/include/zpartisan
    ${PROJECT_BINARY_DIR}/include/zpartisan/version.hpp
    COMMENT "API reference in ${PROJECT_BINARY_DIR}/docs/html")
endif()
