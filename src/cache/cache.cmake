# Libraries of the compilation cache and serialised modules (src/cache,
# src/runtime/serialize.c): OpenSSL's libcrypto for the SHA-256 cache keys
# (Debian: libssl-dev) and xxHash for the payload checksums (libxxhash-dev).
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_path(XXHASH_INCLUDE_DIR xxhash.h)
find_library(XXHASH_LIBRARY xxhash)
if(NOT XXHASH_INCLUDE_DIR OR NOT XXHASH_LIBRARY)
  message(FATAL_ERROR "xxHash not found (Debian: libxxhash-dev)")
endif()
target_include_directories(whirl PRIVATE ${XXHASH_INCLUDE_DIR})
target_link_libraries(whirl PUBLIC OpenSSL::Crypto ${XXHASH_LIBRARY})
