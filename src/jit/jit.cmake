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
  # The tier is part of the engine library: its sources compile into the
  # internal `whirl` target (hence into libwhirl.so/.a, whose API stays
  # whirl_* only), which links libLLVM. WHIRL_HAVE_JIT tells the runtime.
  # `whirl-jit` remains as a name for the tests and tools that reach the
  # translator's internals (the LLVM headers).
  file(GLOB WHIRL_JIT_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.c)
  target_sources(whirl PRIVATE ${WHIRL_JIT_SOURCES})
  target_include_directories(whirl SYSTEM PRIVATE ${WHIRL_LLVM_INCLUDE_DIR})
  target_compile_definitions(whirl PUBLIC WHIRL_HAVE_JIT=1)
  target_link_libraries(whirl PUBLIC ${WHIRL_LLVM_LIBRARY})
  # Backtraces of native code walk the frame-pointer chain from the
  # runtime functions generated code calls up to native_enter
  # (jit_binding.c): those two files keep their frame pointers.
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/jit_binding.c
    ${PROJECT_SOURCE_DIR}/src/runtime/tier.c PROPERTIES COMPILE_OPTIONS -fno-omit-frame-pointer)
  add_library(whirl-jit INTERFACE)
  target_include_directories(whirl-jit SYSTEM INTERFACE ${WHIRL_LLVM_INCLUDE_DIR})
  target_link_libraries(whirl-jit INTERFACE whirl)
  # For the installed libraries (cmake/WhirlLibrary.cmake, whirl.pc).
  set(WHIRL_PC_LIBS_PRIVATE "-L${WHIRL_LLVM_LIB_DIR} -lLLVM-19")
  # The SIMD translator matches the interpreter's min/max NaN lanes, which
  # differ between its SSE and portable code: WHIRL_SIMD_PORTABLE, which
  # src/exec/simd.cmake defines on `whirl`, reaches the translator too.
  message(STATUS "whirl: LLVM tier on (${WHIRL_LLVM_LIBRARY})")
else()
  message(STATUS "whirl: LLVM tier off (interpreter only)")
endif()

# WHIRL_JIT_BUILD_ID: part of the key of stored native code (.cwasm files,
# the compilation cache). Native code is tied to the translator and to the
# layouts it reads (context, runtime structures), so the id hashes those
# sources; editing one re-runs CMake (CONFIGURE_DEPENDS) and refuses older
# native code, while a rebuild of the same sources keeps it.
if(WHIRL_JIT)
  file(GLOB WHIRL_JIT_ID_SOURCES CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/src/jit/*.c ${PROJECT_SOURCE_DIR}/src/jit/*.h
    ${PROJECT_SOURCE_DIR}/src/runtime/*.h ${PROJECT_SOURCE_DIR}/src/compile/code.h
    ${PROJECT_SOURCE_DIR}/src/wasm/module.h ${PROJECT_SOURCE_DIR}/src/exec/numeric.h)
  list(SORT WHIRL_JIT_ID_SOURCES)
  set(whirl_jit_id_text "${PROJECT_VERSION} ${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER_VERSION}")
  foreach(f ${WHIRL_JIT_ID_SOURCES})
    file(SHA256 ${f} h)
    string(APPEND whirl_jit_id_text " ${h}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
  endforeach()
  string(SHA256 whirl_jit_id "${whirl_jit_id_text}")
  string(SUBSTRING ${whirl_jit_id} 0 16 whirl_jit_id)
  set_source_files_properties(${PROJECT_SOURCE_DIR}/src/jit/jit_object.c PROPERTIES
    COMPILE_DEFINITIONS WHIRL_JIT_BUILD_ID="${whirl_jit_id}")
endif()
