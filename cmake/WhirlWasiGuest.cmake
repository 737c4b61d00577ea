# Building C programs into wasm32-wasi modules ("guests") with Debian's
# clang-19, wasm-ld (lld-19), wasi-libc and the wasm32 compiler-rt builtins.
#
#   whirl_wasi_guest(OUTPUT SOURCE [DEPENDS files...] [FLAGS flags...])
#
# WHIRL_WASI_GUESTS is TRUE when the toolchain is present. The compiler gets
# a private sysroot that holds only the wasm32-wasi headers and libraries,
# so that the host's glibc headers can never leak into a guest.
include_guard(DIRECTORY)

find_program(WHIRL_CLANG19 clang-19)
set(_wasi_inc /usr/include/wasm32-wasi)
set(_wasi_lib /usr/lib/wasm32-wasi)
set(_wasi_rt /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a)
find_program(WHIRL_WASM_LD19 wasm-ld-19)
if(WHIRL_CLANG19 AND WHIRL_WASM_LD19 AND EXISTS ${_wasi_inc}/stdio.h AND EXISTS ${_wasi_lib}/libc.a
   AND EXISTS ${_wasi_rt})
  set(WHIRL_WASI_GUESTS TRUE)
  set(WHIRL_WASI_SYSROOT ${CMAKE_BINARY_DIR}/wasi-sysroot)
  file(MAKE_DIRECTORY ${WHIRL_WASI_SYSROOT}/lib)
  if(NOT EXISTS ${WHIRL_WASI_SYSROOT}/include)
    file(CREATE_LINK ${_wasi_inc} ${WHIRL_WASI_SYSROOT}/include SYMBOLIC)
  endif()
  if(NOT EXISTS ${WHIRL_WASI_SYSROOT}/lib/wasm32-wasi)
    file(CREATE_LINK ${_wasi_lib} ${WHIRL_WASI_SYSROOT}/lib/wasm32-wasi SYMBOLIC)
  endif()
else()
  set(WHIRL_WASI_GUESTS FALSE)
  message(WARNING "clang-19, lld-19, wasi-libc or libclang-rt-19-dev-wasm32 missing: "
                  "WASI guest programs (examples/hello.wasm, tests/guests) are not built")
endif()

# Compiling and linking are two steps: given an optimisation level at link
# time, clang runs binaryen's wasm-opt when it is installed, and wasm-opt
# drops the `name` section that trap backtraces take function names from.
function(whirl_wasi_guest output source)
  cmake_parse_arguments(G "" "" "DEPENDS;FLAGS" ${ARGN})
  get_filename_component(name ${output} NAME)
  set(obj ${output}.o)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${WHIRL_CLANG19} --target=wasm32-wasi --sysroot=${WHIRL_WASI_SYSROOT}
            -O2 -Wall -Wextra -Werror ${G_FLAGS} -c ${source} -o ${obj}
    COMMAND ${WHIRL_CLANG19} --target=wasm32-wasi --sysroot=${WHIRL_WASI_SYSROOT}
            -Wl,--strip-debug ${obj} -o ${output}
    DEPENDS ${source} ${G_DEPENDS}
    BYPRODUCTS ${obj}
    COMMENT "clang-19 --target=wasm32-wasi ${name}"
    VERBATIM)
endfunction()
