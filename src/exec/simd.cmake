# How the SIMD instructions are built (included from the top-level
# CMakeLists.txt, after the whirl target).
#
# On x86-64 the interpreter is compiled with -msse4.1, so that src/exec/simd.h
# can use SSE2, SSSE3 and SSE4.1 intrinsics: every x86-64 CPU since 2008 has
# them (they are part of the x86-64-v2 level that current distributions
# require), and the interpreter is a single function dispatching by computed
# goto, so per-function target attributes would mean two copies of it.
# WHIRL_SIMD_PORTABLE=ON builds the portable C lanes instead, for CPUs without
# SSE4.1 and to test that code on x86. Other architectures always get the
# portable code.
option(WHIRL_SIMD_PORTABLE "SIMD instructions in portable C only (no SSE intrinsics)" OFF)

if(WHIRL_SIMD_PORTABLE)
  target_compile_definitions(whirl PRIVATE WHIRL_SIMD_PORTABLE=1)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  include(CheckCCompilerFlag)
  check_c_compiler_flag(-msse4.1 WHIRL_CC_HAS_MSSE41)
  if(WHIRL_CC_HAS_MSSE41)
    set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/interp.c PROPERTIES COMPILE_OPTIONS -msse4.1)
  endif()
endif()
