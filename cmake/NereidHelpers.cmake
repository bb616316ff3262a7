# Helpers that give every subsystem the same shape: one library target, its tests beside it.

# Warnings are errors on our own code only (never on generated protobuf code).
set(NEREID_WARNINGS -Wall -Wextra -Werror)

# nereid_library(NAME SRCS ... DEPS ...): a static library target `nereid_NAME`.
function(nereid_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(nereid_${name} STATIC ${ARG_SRCS})
  target_include_directories(nereid_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(nereid_${name} PRIVATE ${NEREID_WARNINGS})
  target_link_libraries(nereid_${name} PUBLIC ${ARG_DEPS})
endfunction()

# nereid_test(NAME SRCS ... DEPS ... LABEL unit|integration|slow): a GoogleTest binary registered
# with ctest under the given label.
function(nereid_test name)
  if(NOT NEREID_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "LABEL" "SRCS;DEPS" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_compile_options(${name} PRIVATE ${NEREID_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT 600)
endfunction()
