# All dependencies come from Debian 12 packages (see scripts/install-deps.sh).

find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(CURL REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS unit_test_framework)
find_package(pugixml REQUIRED)

# Debian's Poco::DataPostgreSQL target names PostgreSQL::client, which no package defines.
find_package(PostgreSQL REQUIRED)
if(NOT TARGET PostgreSQL::client)
  add_library(PostgreSQL::client INTERFACE IMPORTED)
  target_link_libraries(PostgreSQL::client INTERFACE PostgreSQL::PostgreSQL)
endif()
find_package(Poco REQUIRED COMPONENTS Foundation Util Net NetSSL Crypto JSON JWT Data DataSQLite DataPostgreSQL)

# RapidJSON 1.1 ships no CMake target: wrap its include directory.
find_path(RAPIDJSON_INCLUDE_DIR rapidjson/document.h REQUIRED)
if(NOT TARGET RapidJSON::RapidJSON)
  add_library(RapidJSON::RapidJSON INTERFACE IMPORTED)
  target_include_directories(RapidJSON::RapidJSON SYSTEM INTERFACE "${RAPIDJSON_INCLUDE_DIR}")
  # RapidJSON's SSE4.2 paths would tie the binary to the build machine's CPU; keep them off.
endif()

find_package(benchmark QUIET)
