# cmake -DNPM=... -DWEB_DIR=... -DSTAMP=... -P WebNpmCi.cmake
# Runs `npm ci` only when web/node_modules is missing or older than package-lock.json (npm writes
# node_modules/.package-lock.json on every install), so a rebuild does not reinstall, and a
# fresh clone installs exactly the locked versions.
set(lock "${WEB_DIR}/package-lock.json")
set(installed "${WEB_DIR}/node_modules/.package-lock.json")
if(NOT EXISTS "${installed}" OR "${lock}" IS_NEWER_THAN "${installed}")
  message(STATUS "web: npm ci in ${WEB_DIR}")
  execute_process(COMMAND "${NPM}" ci --no-audit --no-fund --loglevel=error
                  WORKING_DIRECTORY "${WEB_DIR}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "web: `npm ci` failed in ${WEB_DIR} (exit ${rc}); the UI cannot be built. "
                        "It needs the npm registry (or a filled npm cache).")
  endif()
endif()
file(TOUCH "${STAMP}")
