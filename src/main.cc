#include "cli/cli.h"

int main(int argc, char** argv) { return hasg::cli::run(argc, argv); }
