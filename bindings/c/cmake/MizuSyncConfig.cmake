# The CMake package of the mizu-sync C library (installed as <prefix>/lib/cmake/MizuSync/).
#
#   find_package(MizuSync 0.1 REQUIRED)        # CMAKE_PREFIX_PATH=<prefix> if not in a system path
#   target_link_libraries(app PRIVATE MizuSync::mizu_sync)          # the shared library
#   target_link_libraries(app PRIVATE MizuSync::mizu_sync_static)   # or the static one
#
# Relocatable: every path is relative to this file, so an unpacked tarball works where it lies.

get_filename_component(_mizu_sync_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

include(CMakeFindDependencyMacro)
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_dependency(Threads)

if(NOT TARGET MizuSync::mizu_sync)
    add_library(MizuSync::mizu_sync SHARED IMPORTED)
    set_target_properties(MizuSync::mizu_sync PROPERTIES
        IMPORTED_LOCATION "${_mizu_sync_prefix}/lib/libmizu_sync.so"
        # Cargo gives the library no SONAME: link it as -lmizu_sync, not by its path.
        IMPORTED_NO_SONAME TRUE
        INTERFACE_INCLUDE_DIRECTORIES "${_mizu_sync_prefix}/include")
endif()

if(NOT TARGET MizuSync::mizu_sync_static)
    add_library(MizuSync::mizu_sync_static STATIC IMPORTED)
    set_target_properties(MizuSync::mizu_sync_static PROPERTIES
        IMPORTED_LOCATION "${_mizu_sync_prefix}/lib/libmizu_sync.a"
        INTERFACE_INCLUDE_DIRECTORIES "${_mizu_sync_prefix}/include"
        # What the Rust standard library needs from the system (rustc --print native-static-libs).
        INTERFACE_LINK_LIBRARIES "Threads::Threads;gcc_s;util;rt;m;dl")
endif()

unset(_mizu_sync_prefix)
