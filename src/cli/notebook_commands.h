// `nereid notebook upload PATH --project P`: uploads a Jupyter notebook as a checkpoint of the
// project's notebook of the same name (or --name), over the HTTP API.
#pragma once

#include <CLI/CLI.hpp>

namespace nereid::cli {

// Registers `notebook` and its subcommands; the chosen one runs while parsing and stores its exit
// code in *exit_code. `app` and `exit_code` must outlive parsing.
CLI::App* AddNotebookCommands(CLI::App* app, int* exit_code);

}  // namespace nereid::cli
