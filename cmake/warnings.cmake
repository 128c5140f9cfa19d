# SPDX-License-Identifier: Apache-2.0
# Warning flags for every etch target (house style 1.8); -Werror in CI.
set(ETCH_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wvla -Wcast-qual -Wno-format-nonliteral)
if(ETCH_WERROR)
  list(APPEND ETCH_WARNINGS -Werror)
endif()

function(etch_warnings target)
  target_compile_options(${target} PRIVATE ${ETCH_WARNINGS})
endfunction()
