# The installable library, built from the objects of the internal `whirl`
# target (compiled with -fvisibility=hidden; include/whirl.h and
# include/whirl/*.h mark the public API visible with `#pragma GCC visibility`):
#
#   libwhirl.so  (target whirl-shared)  exports the public API only
#   libwhirl.a   (target whirl-static)  one relocatable object (`ld -r`) in
#                which every symbol but the API is made local, so that a host
#                may define `memory_grow` or `arena_alloc` itself
#   whirl.pc     pkg-config file, relocatable (paths relative to itself)
#
# `cmake --install build --prefix P` installs those, the headers and the
# `whirl` command. tests/install checks all of it.
include(GNUInstallDirs)

# The ABI version: the SONAME is libwhirl.so.${WHIRL_ABI_VERSION}. Bump it
# when a release changes or removes something include/whirl*.h declares.
set(WHIRL_ABI_VERSION 0)

add_library(whirl-shared SHARED $<TARGET_OBJECTS:whirl>)
set_target_properties(whirl-shared PROPERTIES
  OUTPUT_NAME whirl
  VERSION ${PROJECT_VERSION}
  SOVERSION ${WHIRL_ABI_VERSION})
target_include_directories(whirl-shared INTERFACE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(whirl-shared PRIVATE m Threads::Threads ${XXHASH_LIBRARY})
if(WHIRL_JIT)
  target_link_libraries(whirl-shared PRIVATE ${WHIRL_LLVM_LIBRARY}) # the LLVM tier
endif()
if(WHIRL_DWARF)
  target_link_libraries(whirl-shared PRIVATE ${LIBDW_LINK_LIBRARIES})
endif()
if(NOT WHIRL_SANITIZE AND NOT WHIRL_TSAN)
  # Every symbol the library needs comes from the libraries named above.
  target_link_options(whirl-shared PRIVATE -Wl,--no-undefined)
endif()

# The static archive: link the internal archive's objects into one object,
# then localise what is hidden (everything but the API). Internal calls are
# already resolved inside the object, so nothing outside can clash with them.
set(WHIRL_STATIC_ARCHIVE ${CMAKE_BINARY_DIR}/libwhirl.a)
set(whirl_api_object ${CMAKE_BINARY_DIR}/CMakeFiles/whirl-static.dir/whirl.o)
add_custom_command(
  OUTPUT ${WHIRL_STATIC_ARCHIVE}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/CMakeFiles/whirl-static.dir
  COMMAND ${CMAKE_LINKER} -r --whole-archive $<TARGET_FILE:whirl> -o ${whirl_api_object}
  COMMAND ${CMAKE_OBJCOPY} --localize-hidden ${whirl_api_object}
  COMMAND ${CMAKE_COMMAND} -E rm -f ${WHIRL_STATIC_ARCHIVE}
  COMMAND ${CMAKE_AR} qcs ${WHIRL_STATIC_ARCHIVE} ${whirl_api_object}
  DEPENDS whirl $<TARGET_FILE:whirl>
  COMMENT "libwhirl.a: one object exporting the public API only"
  VERBATIM)
add_custom_target(whirl-static ALL DEPENDS ${WHIRL_STATIC_ARCHIVE})

# whirl.pc: only what the engine library itself needs (libc, libm, pthreads,
# libxxhash); the static link needs them, the shared one records them.
file(RELATIVE_PATH WHIRL_PC_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${CMAKE_CURRENT_LIST_DIR}/whirl.pc.in ${CMAKE_BINARY_DIR}/whirl.pc @ONLY)

install(TARGETS whirl-shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${WHIRL_STATIC_ARCHIVE} DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_BINARY_DIR}/whirl.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${PROJECT_SOURCE_DIR}/include/whirl.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/whirl DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
if(TARGET whirl-cli)
  install(TARGETS whirl-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
