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
  # SSE2 is part of every x86-64 CPU: with it RapidJSON skips whitespace and scans strings 16
  # bytes at a time (its SSE4.2 paths would tie the binary to the build machine's CPU, so they
  # stay off). Those aligned 16-byte reads may pass a buffer's end within the same block, which
  # AddressSanitizer reports, so sanitizer and fuzzing builds keep the byte-by-byte code.
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$" AND NOT FHIRBRIDGE_SANITIZE
     AND NOT FHIRBRIDGE_FUZZ)
    target_compile_definitions(RapidJSON::RapidJSON INTERFACE RAPIDJSON_SSE2)
  endif()
endif()

find_package(benchmark QUIET)
