# The LLVM tier (src/jit, issue 15). WHIRL_JIT defaults to ON when LLVM 19
# is found through llvm-config-19 (Debian: llvm-19-dev); -DWHIRL_JIT=OFF
# builds the interpreter only.
find_program(WHIRL_LLVM_CONFIG NAMES llvm-config-19)
if(WHIRL_LLVM_CONFIG)
  set(WHIRL_JIT_DEFAULT ON)
else()
  set(WHIRL_JIT_DEFAULT OFF)
endif()
option(WHIRL_JIT "Build the LLVM compiler tier (needs llvm-19-dev)" ${WHIRL_JIT_DEFAULT})

if(WHIRL_JIT)
  if(NOT WHIRL_LLVM_CONFIG)
    message(FATAL_ERROR "WHIRL_JIT=ON needs llvm-config-19 (Debian: llvm-19-dev); "
                        "configure with -DWHIRL_JIT=OFF for an interpreter-only build")
  endif()
  execute_process(COMMAND ${WHIRL_LLVM_CONFIG} --includedir
                  OUTPUT_VARIABLE WHIRL_LLVM_INCLUDE_DIR OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${WHIRL_LLVM_CONFIG} --libdir
                  OUTPUT_VARIABLE WHIRL_LLVM_LIB_DIR OUTPUT_STRIP_TRAILING_WHITESPACE)
  find_library(WHIRL_LLVM_LIBRARY NAMES LLVM-19 LLVM PATHS ${WHIRL_LLVM_LIB_DIR} NO_DEFAULT_PATH)
  if(NOT WHIRL_LLVM_LIBRARY)
    message(FATAL_ERROR "libLLVM-19 not found in ${WHIRL_LLVM_LIB_DIR}")
  endif()
  # The tier is not wired into the runtime yet: it is its own internal
  # library, linked by its tests and tools only, so the installed libwhirl
  # does not depend on LLVM before it uses it.
  file(GLOB WHIRL_JIT_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.c)
  add_library(whirl-jit STATIC ${WHIRL_JIT_SOURCES})
  target_include_directories(whirl-jit PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_include_directories(whirl-jit SYSTEM PRIVATE ${WHIRL_LLVM_INCLUDE_DIR})
  target_link_libraries(whirl-jit PUBLIC whirl ${WHIRL_LLVM_LIBRARY})
  # The SIMD translator matches the interpreter's min/max NaN lanes, which
  # differ between its SSE and portable code (src/exec/simd.cmake).
  if(WHIRL_SIMD_PORTABLE)
    target_compile_definitions(whirl-jit PRIVATE WHIRL_SIMD_PORTABLE=1)
  endif()
  message(STATUS "whirl: LLVM tier on (${WHIRL_LLVM_LIBRARY})")
else()
  message(STATUS "whirl: LLVM tier off (interpreter only)")
endif()
