// gongkai COMMAND ...: the admin and inspector CLI (gongkai(1)). The commands
// are in cli/, listed in cli/commands.cc.
#include "cli/cli.h"

int main(int argc, char** argv) { return gongkai::cli::Main(argc, argv); }
