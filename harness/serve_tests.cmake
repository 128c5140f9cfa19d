# SPDX-License-Identifier: Apache-2.0
# Tests of `etch serve`: the server test, its test control and its agreement with
# `etch handle` (raw sockets, standard library Python only) and the interoperability tests
# with real clients (botocore, AWS CLI v2, AWS SDK for JavaScript v3). Each script starts its
# own server on a free loopback port and stops it; CMake passes the etch binary.
if(NOT ETCH_BUILD_TESTS)
  return()
endif()
if(NOT ETCH_PYTHON3)
  message(STATUS "python3 not found: the `etch serve` tests are not registered")
  return()
endif()

set(ETCH_INTEROP_DIR ${CMAKE_CURRENT_LIST_DIR}/interop)

add_test(NAME serve.http
         COMMAND ${ETCH_PYTHON3} ${ETCH_INTEROP_DIR}/serve_test.py $<TARGET_FILE:etch>)
# `etch handle` gives the answer `etch serve` gives to requests far over the limits.
add_test(NAME serve.handle_agrees
         COMMAND ${ETCH_PYTHON3} ${ETCH_INTEROP_DIR}/serve_handle_test.py $<TARGET_FILE:etch>)
# `etch serve --test-control`: discovery off without the flag and on with it, a clock move,
# a seed and a set-status over HTTP (contract section 9).
add_test(NAME serve.test_control
         COMMAND ${ETCH_PYTHON3} ${ETCH_INTEROP_DIR}/serve_control_test.py $<TARGET_FILE:etch>)
# A malformed request gets the same answer as the first request on its connection, as the
# fifth after four good ones, and pipelined between good ones.
add_test(NAME serve.positions
         COMMAND ${ETCH_PYTHON3} ${ETCH_INTEROP_DIR}/serve_position_test.py $<TARGET_FILE:etch>)
# The idle and request timeouts and the bound on open connections, with short settings.
add_test(NAME serve.timeouts
         COMMAND ${ETCH_PYTHON3} ${ETCH_INTEROP_DIR}/serve_timeouts_test.py $<TARGET_FILE:etch>)
# The scripts import a helper next to them: no bytecode cache in the source tree.
set_tests_properties(serve.http serve.handle_agrees serve.test_control serve.positions
                     serve.timeouts PROPERTIES
                     LABELS serve TIMEOUT 120 ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)

# Exit code 77 means "client not installed": reported as skipped, not passed.
add_test(NAME interop.botocore
         COMMAND ${ETCH_PYTHON3} ${ETCH_INTEROP_DIR}/botocore_flow.py $<TARGET_FILE:etch>)
add_test(NAME interop.awscli
         COMMAND ${ETCH_PYTHON3} ${ETCH_INTEROP_DIR}/awscli_flow.py $<TARGET_FILE:etch>)
set_tests_properties(interop.botocore interop.awscli PROPERTIES
                     LABELS interop SKIP_RETURN_CODE 77 TIMEOUT 300
                     ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
# The AWS SDK for JavaScript v3, version pinned in interop/jssdk/: the script installs it
# with `npm ci` into the build tree (skipped when node, npm or the network is missing).
add_test(NAME interop.jssdk
         COMMAND ${ETCH_PYTHON3} ${ETCH_INTEROP_DIR}/jssdk_flow.py $<TARGET_FILE:etch>
                 ${CMAKE_CURRENT_BINARY_DIR}/interop-jssdk)
set_tests_properties(interop.jssdk PROPERTIES
                     LABELS interop SKIP_RETURN_CODE 77 TIMEOUT 420
                     ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
