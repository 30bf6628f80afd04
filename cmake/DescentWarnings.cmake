# descent_target(<target>): the flags descent's own tests, examples and benchmarks
# build with: warnings on (and clean), and this machine's CPU when DESCENT_NATIVE.
function(descent_target target)
  target_link_libraries(${target} PRIVATE descent::descent)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # GCC 12 reports its own AVX-512 intrinsics as maybe-uninitialized when Eigen
      # inlines them (GCC bug 105593): a false positive in a system header.
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
      if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
        target_compile_options(${target} PRIVATE -Wno-uninitialized)  # the same bug, surer of itself
      endif()
    endif()
    if(DESCENT_NATIVE)
      target_compile_options(${target} PRIVATE -march=native)
    endif()
  endif()
endfunction()
