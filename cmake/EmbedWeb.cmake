# Builds the web UI (web/, TypeScript + Vite) and embeds it in the server binary.
#
#   web/package-lock.json ──npm ci (when stale)──▶ web/node_modules
#   web/src/** ──tsc --noEmit, vite build──▶ ${CMAKE_BINARY_DIR}/web/dist
#   dist ──nereid_webui_embed_gen──▶ ${CMAKE_BINARY_DIR}/web/webui_assets.cc (byte arrays, and a
#                                    gzip copy of each text file)
#
# The UI is part of the product: without Node.js and npm the configure step stops with a message
# rather than building a server that silently ships no UI.
#
# nereid_embed_web(OUT_VAR): sets OUT_VAR to the generated .cc to compile into nereid_webui.

find_program(NEREID_NODE NAMES node nodejs)
find_program(NEREID_NPM NAMES npm)
if(NOT NEREID_NODE OR NOT NEREID_NPM)
  message(FATAL_ERROR
    "Nereid's web UI needs Node.js (>= 18) and npm to build, and neither may be skipped: the "
    "server embeds the UI. Install them (`apt-get install nodejs npm`, or run ./nereid.sh deps).")
endif()
execute_process(COMMAND "${NEREID_NODE}" --version OUTPUT_VARIABLE NEREID_NODE_VERSION
                OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REGEX MATCH "^v([0-9]+)" _ "${NEREID_NODE_VERSION}")
if(CMAKE_MATCH_1 LESS 18)
  message(FATAL_ERROR "Nereid's web UI needs Node.js >= 18; found ${NEREID_NODE_VERSION}")
endif()

function(nereid_embed_web out_var)
  set(web ${PROJECT_SOURCE_DIR}/web)
  set(out ${CMAKE_BINARY_DIR}/web)
  file(GLOB_RECURSE web_sources CONFIGURE_DEPENDS ${web}/src/*)
  set(web_config ${web}/index.html ${web}/vite.config.ts ${web}/tsconfig.json ${web}/package.json)

  add_custom_command(
    OUTPUT ${out}/npm-ci.stamp
    COMMAND ${CMAKE_COMMAND} -DNPM=${NEREID_NPM} -DWEB_DIR=${web} -DSTAMP=${out}/npm-ci.stamp
            -P ${PROJECT_SOURCE_DIR}/cmake/WebNpmCi.cmake
    DEPENDS ${web}/package-lock.json ${web}/package.json ${PROJECT_SOURCE_DIR}/cmake/WebNpmCi.cmake
    COMMENT "web: installing npm packages (npm ci) when package-lock.json changed"
    VERBATIM)

  # The dist goes to the build dir so that two build dirs (build, build-asan) never race on it.
  add_custom_command(
    OUTPUT ${out}/dist.stamp
    COMMAND ${NEREID_NODE} ${web}/node_modules/typescript/bin/tsc --noEmit -p ${web}/tsconfig.json
    COMMAND ${NEREID_NODE} ${web}/node_modules/vite/bin/vite.js build --logLevel warn
            --outDir ${out}/dist --emptyOutDir
    COMMAND ${CMAKE_COMMAND} -E touch ${out}/dist.stamp
    WORKING_DIRECTORY ${web}
    DEPENDS ${out}/npm-ci.stamp ${web_sources} ${web_config}
    COMMENT "web: type-checking and building the UI (vite build)"
    VERBATIM)

  # zlib gzips the text files once at build time (the server only picks the copy to send).
  find_package(ZLIB REQUIRED)
  add_executable(nereid_webui_embed_gen ${PROJECT_SOURCE_DIR}/src/webui/embed_gen.cc)
  target_compile_options(nereid_webui_embed_gen PRIVATE ${NEREID_WARNINGS})
  target_link_libraries(nereid_webui_embed_gen PRIVATE ZLIB::ZLIB)
  add_custom_command(
    OUTPUT ${out}/webui_assets.cc
    COMMAND nereid_webui_embed_gen ${out}/webui_assets.cc ${out}/dist
    DEPENDS ${out}/dist.stamp nereid_webui_embed_gen
    COMMENT "web: embedding the built UI"
    VERBATIM)
  set(${out_var} ${out}/webui_assets.cc PARENT_SCOPE)
endfunction()
