# One compile-fail case: building it must fail, and the compiler's output must hold every
# message its source file expects, whole, from its first character to its last.
#   cmake -DBUILD_DIR=<dir> -DTARGET=<target> -DSOURCE=<case.cpp> -DCOMPILER_ID=<GNU|Clang|...> -P check.cmake
# The expectations are lines of the case's source:
#   // expect: <message>              for every compiler (a static_assert's text)
#   // expect <COMPILER_ID>: <text>   for one compiler (what it says of a concept that fails)
set(ENV{LC_ALL} C)  # GCC quotes with '...' then, not with the locale's quotation marks
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
                RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(status EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but must not")
endif()

file(STRINGS ${SOURCE} expectations REGEX "^// expect( ${COMPILER_ID})?: ")
if(NOT expectations)
  message(FATAL_ERROR "${SOURCE} expects no message from ${COMPILER_ID}: add an `// expect: ` line")
endif()
foreach(line IN LISTS expectations)
  string(REGEX REPLACE "^// expect[^:]*: " "" expected "${line}")
  string(FIND "${output}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${TARGET}: the compiler did not say\n  ${expected}\nIt said:\n${output}")
  endif()
  # The whole message: what follows it ends it (a line's end, or the quote around clang's text).
  string(LENGTH "${expected}" length)
  math(EXPR after "${at} + ${length}")
  string(SUBSTRING "${output}" ${after} 1 next)
  if(NOT next STREQUAL "" AND NOT next MATCHES "[\n\"']")
    message(FATAL_ERROR "${TARGET}: the compiler said more than\n  ${expected}\nIt said:\n${output}")
  endif()
  message(STATUS "${TARGET}: ${expected}")
endforeach()
