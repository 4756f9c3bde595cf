// gongkai, the admin and inspector CLI: its command table and what every
// command gets. The commands live in files by group (archive_commands.cc,
// check_commands.cc, copy_commands.cc, admin_commands.cc); commands.cc holds
// the one table that names them, their usage, their arguments and options,
// and what they need before they run; main.cc checks all of that once.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gongkai/config.h"
#include "gongkai/daemon/layout.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::cli {

// The command line after the command's name.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --share S as "share" = "S"; --csv as "csv" = ""
  bool json = false;
  bool no_drop = false;

  bool Has(const std::string& option) const { return options.count(option) != 0; }
  // The option's value, "" when not given.
  std::string Option(const std::string& option) const {
    auto it = options.find(option);
    return it == options.end() ? "" : it->second;
  }
};

// What a command runs with; main.cc fills in what the command needs.
struct Context {
  std::string config_file;  // --config, $GONGKAI_CONFIG or the packaged default
  Config config;
  daemon::DataLayout layout{""};
  std::unique_ptr<storage::Catalog> catalog;  // Needs::kCatalog: a reader
};

enum class Needs {
  kNothing,  // no configuration (verify-bag; config check loads its own)
  kConfig,   // the configuration, as the data folder's owner when run as root
  kArchive,  // ...and an archive the daemon has created (nothing opened)
  kCatalog,  // ...and the catalog open for reading
};

struct Command {
  const char* name;                  // "status", or a group and a subcommand: "token add"
  const char* usage;                 // the synopsis --help shows, starting with the name
  const char* summary;               // what it does, one or more lines
  size_t min_args, max_args;         // positional arguments after the name
  std::vector<std::string> options;  // the --options it takes besides --json and --no-drop
  Needs needs;
  bool daemon_stopped;  // runs under the data folder's lock, refused while gongkaid runs
  int (*run)(Context&, const Args&);
};

// Every command, in the order --help lists them.
const std::vector<Command>& AllCommands();
// The command a group name alone runs ("keys" runs "keys list"), or nullptr.
const Command* DefaultOfGroup(const std::string& group);
// Every option any command takes, and whether it takes a value.
const std::map<std::string, bool>& AllOptions();

// The full usage text, and one command's (or one group's) usage.
std::string UsageText();
std::string CommandUsage(const std::string& name);

// Runs the CLI; returns the exit status.
int Main(int argc, char** argv);

// The commands, by group.
int CmdStatus(Context& ctx, const Args& args);
int CmdSearch(Context& ctx, const Args& args);
int CmdShow(Context& ctx, const Args& args);
int CmdReport(Context& ctx, const Args& args);
int CmdReportAnnual(Context& ctx, const Args& args);
int CmdReportTimeliness(Context& ctx, const Args& args);
int CmdReportFigures(Context& ctx, const Args& args);
int CmdCatalogue(Context& ctx, const Args& args);
int CmdReindex(Context& ctx, const Args& args);

int CmdVerify(Context& ctx, const Args& args);
int CmdVerifyBag(Context& ctx, const Args& args);
int CmdConfigCheck(Context& ctx, const Args& args);

int CmdExport(Context& ctx, const Args& args);
int CmdBackup(Context& ctx, const Args& args);

int CmdApprove(Context& ctx, const Args& args);
int CmdClassify(Context& ctx, const Args& args);
int CmdKeysList(Context& ctx, const Args& args);
int CmdKeysRotate(Context& ctx, const Args& args);
int CmdTokenAdd(Context& ctx, const Args& args);
int CmdTokenList(Context& ctx, const Args& args);
int CmdTokenRevoke(Context& ctx, const Args& args);

int CmdWorkdays(Context& ctx, const Args& args);
int CmdRequestsList(Context& ctx, const Args& args);
int CmdRequestsShow(Context& ctx, const Args& args);
int CmdRequestsAdd(Context& ctx, const Args& args);
int CmdRequestsEvent(Context& ctx, const Args& args);

}  // namespace gongkai::cli
