#pragma once

namespace hasg::cli {

// Parses the command line, dispatches to a subcommand, returns the exit code. `main` only calls this.
int run(int argc, char** argv);

}  // namespace hasg::cli
