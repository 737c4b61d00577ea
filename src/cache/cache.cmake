# Library of the compilation cache and serialised modules (src/cache,
# src/runtime/serialize.c): xxHash (Debian: libxxhash-dev) for payload
# checksums (XXH3-64) and cache keys (XXH3-128).
find_path(XXHASH_INCLUDE_DIR xxhash.h)
find_library(XXHASH_LIBRARY xxhash)
if(NOT XXHASH_INCLUDE_DIR OR NOT XXHASH_LIBRARY)
  message(FATAL_ERROR "xxHash not found (Debian: libxxhash-dev)")
endif()
target_include_directories(whirl PRIVATE ${XXHASH_INCLUDE_DIR})
target_link_libraries(whirl PUBLIC ${XXHASH_LIBRARY})
