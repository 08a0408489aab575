# install-finish.cmake - run by `cmake --install` (make install) after the
# files are in place, with DBSSL_LIBDIR and DBSSL_PC_IN set by CMakeLists.txt.
#
# 1. dbssl.pc is written with the prefix the files were installed to (the one
#    given to --prefix, known only now), not the one of the configure step.
# 2. The dynamic loader must find libdbssl.so.1: in a directory it searches
#    (/usr/local/lib on Debian, through /etc/ld.so.conf.d/libc.conf) ldconfig
#    refreshes its cache, as `libtool --finish` does; elsewhere (a prefix such
#    as /opt/dbssl or /tmp/x) applications are linked with -Wl,-rpath, which
#    the message and the README say.  Nothing is run for a DESTDIR install:
#    the package manager does that.
set(libdir "${CMAKE_INSTALL_PREFIX}/${DBSSL_LIBDIR}")

file(READ "${DBSSL_PC_IN}" pc)
string(REPLACE "@DBSSL_PC_PREFIX@" "${CMAKE_INSTALL_PREFIX}" pc "${pc}")
file(WRITE "${DBSSL_PC_OUT}" "${pc}")

if(NOT "$ENV{DESTDIR}" STREQUAL "")
  return()
endif()

# the directories the loader searches: ldconfig's own list (-N -X: change nothing)
find_program(DBSSL_LDCONFIG ldconfig PATHS /sbin /usr/sbin NO_CACHE)
set(searched FALSE)
if(DBSSL_LDCONFIG)
  execute_process(COMMAND "${DBSSL_LDCONFIG}" -v -N -X OUTPUT_VARIABLE dirs ERROR_QUIET
                  RESULT_VARIABLE rc)
  get_filename_component(real_libdir "${libdir}" REALPATH)
  string(REPLACE "\n" ";" dirs "${dirs}")
  foreach(line IN LISTS dirs)
    if(line MATCHES "^(/[^:\t]*):")
      get_filename_component(d "${CMAKE_MATCH_1}" REALPATH)
      if(d STREQUAL real_libdir)
        set(searched TRUE)
      endif()
    endif()
  endforeach()
endif()

if(searched)
  execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(uid STREQUAL "0")
    execute_process(COMMAND "${DBSSL_LDCONFIG}")
    message(STATUS "ldconfig: ${libdir} is in the loader's cache")
  else()
    message(STATUS "dbssl: run 'ldconfig' as root so that programs find ${libdir}/libdbssl.so.1")
  endif()
else()
  message(STATUS "dbssl: ${libdir} is not searched by the dynamic loader: link programs with "
                 "-Wl,-rpath,${libdir} (as in: cc app.c $(pkg-config --cflags --libs dbssl) "
                 "-Wl,-rpath,$(pkg-config --variable=libdir dbssl)), or add it to /etc/ld.so.conf.d")
endif()
