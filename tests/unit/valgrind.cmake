# Runs each unit test binary (BINARIES, separated by |) under valgrind with
# CK_FORK=no, so every test runs in one process and leaks are attributed.
# Runs all of them, then fails if any had a test failure, memory error or leak.
string(REPLACE "|" ";" binaries "${BINARIES}")
set(ENV{CK_FORK} "no")
set(failed "")
foreach(bin IN LISTS binaries)
  get_filename_component(name "${bin}" NAME)
  message(STATUS "valgrind ${name}")
  execute_process(
    COMMAND ${VALGRIND} --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible
            --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "${bin}"
    RESULT_VARIABLE rc)
  if(rc EQUAL 99)
    list(APPEND failed "${name} (valgrind found errors or leaks)")
  elseif(NOT rc EQUAL 0)
    list(APPEND failed "${name} (tests failed, exit ${rc})")
  endif()
endforeach()
if(failed)
  string(REPLACE ";" "\n  " text "${failed}")
  message(FATAL_ERROR "valgrind-unit failed:\n  ${text}")
endif()
message(STATUS "valgrind-unit: all unit tests clean")
