#!/bin/sh
# CTest splits a discovered test's name at ';' (it is CMake's list
# separator), and each half then runs no test at all while reporting
# "Passed". Fails if any Catch2 test name of the given binaries holds one.
status=0
for binary in "$@"; do
  bad=$("$binary" --list-test-names-only | grep -F ';') || continue
  echo "$binary: test names with ';' (write ' – ' instead):"
  echo "$bad"
  status=1
done
exit $status
