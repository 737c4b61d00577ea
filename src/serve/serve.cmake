# `whirl serve` (src/serve): the HTTP server on libmicrohttpd, linked into
# the whirl command. spin.toml is read by tomlplusplus (C++17) behind a C
# shim, the only C++ in the tree: CXX is enabled for that one file.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(MHD QUIET IMPORTED_TARGET libmicrohttpd)
endif()
if(NOT MHD_FOUND OR NOT TARGET whirl-cli)
  message(WARNING "libmicrohttpd (libmicrohttpd-dev) not found: `whirl serve` is not built")
  return()
endif()
pkg_check_modules(TOMLPP QUIET IMPORTED_TARGET tomlplusplus)
# Outbound HTTP (wasi:http/outgoing-handler): libcurl's multi interface.
pkg_check_modules(CURL QUIET IMPORTED_TARGET libcurl)
if(NOT CURL_FOUND)
  message(WARNING "libcurl (libcurl4-openssl-dev) not found: `whirl serve` is not built")
  return()
endif()
if(NOT TOMLPP_FOUND)
  message(WARNING "tomlplusplus (libtomlplusplus-dev) not found: `whirl serve` is not built")
  return()
endif()
# Spin's key-value and SQLite interfaces (src/serve/spin_*.c).
pkg_check_modules(SQLITE3 QUIET IMPORTED_TARGET sqlite3)
pkg_check_modules(HIREDIS QUIET IMPORTED_TARGET hiredis)
pkg_check_modules(MOSQUITTO QUIET IMPORTED_TARGET libmosquitto)
pkg_check_modules(LIBPQ QUIET IMPORTED_TARGET libpq)
pkg_check_modules(MARIADB QUIET IMPORTED_TARGET libmariadb)
# rediss:// (spin_redis_net.c): Debian's hiredis 0.14 has no TLS.
pkg_check_modules(OPENSSL QUIET IMPORTED_TARGET openssl)
if(NOT SQLITE3_FOUND OR NOT HIREDIS_FOUND OR NOT MOSQUITTO_FOUND OR NOT LIBPQ_FOUND OR NOT MARIADB_FOUND OR NOT OPENSSL_FOUND)
  message(WARNING "sqlite3 (libsqlite3-dev), hiredis (libhiredis-dev), libmosquitto (libmosquitto-dev), libpq (libpq-dev), libmariadb (libmariadb-dev) or openssl (libssl-dev) not found: `whirl serve` is not built")
  return()
endif()
enable_language(CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)

file(GLOB WHIRL_SERVE_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/serve/*.c)
add_library(whirl-serve STATIC ${WHIRL_SERVE_SOURCES} ${CMAKE_SOURCE_DIR}/src/serve/toml_shim.cpp)
target_include_directories(whirl-serve PRIVATE ${CMAKE_SOURCE_DIR}/src)
# The shim keeps exceptions inside (toml++ reports parse errors with them).
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/serve/toml_shim.cpp PROPERTIES
  COMPILE_OPTIONS "-fexceptions")
target_link_libraries(whirl-serve PUBLIC whirl PkgConfig::MHD PkgConfig::TOMLPP
  PkgConfig::CURL PkgConfig::SQLITE3 PkgConfig::HIREDIS PkgConfig::MOSQUITTO PkgConfig::LIBPQ
  PkgConfig::MARIADB PkgConfig::OPENSSL)
target_compile_definitions(whirl-cli PRIVATE WHIRL_HAVE_SERVE=1)
target_link_libraries(whirl-cli PRIVATE whirl-serve)
