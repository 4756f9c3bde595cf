// The CLI's entry: reads the command line, finds the command in the table
// (commands.cc), checks its arguments and options, provides what it needs
// (the configuration, the archive, the data folder's lock) and runs it.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/cli.h"
#include "cli/output.h"
#include "gongkai/storage/env.h"
#include "privileges.h"

#ifndef GONGKAI_VERSION
#define GONGKAI_VERSION "unknown"
#endif

namespace gongkai::cli {
namespace {

constexpr char kPackagedConfig[] = "/etc/gongkai/gongkaid.conf";

// The words and options of a command line.
struct CommandLine {
  std::vector<std::string> words;  // the command's name, then its arguments
  Args args;
  std::string config_file;  // "" when --config was not given
  bool help = false, version = false;
};

Result<CommandLine> Parse(int argc, char** argv) {
  CommandLine line;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string name = a.rfind("--", 0) == 0 ? a.substr(2) : "";
    auto option = AllOptions().find(name);
    if (a == "--version")
      line.version = true;
    else if (a == "-h" || a == "--help")
      line.help = true;
    else if ((a == "--config" || a == "-c") && i + 1 < argc)
      line.config_file = argv[++i];
    else if (a.rfind("--config=", 0) == 0)
      line.config_file = a.substr(9);
    else if (a == "--json")
      line.args.json = true;
    else if (a == "--no-drop")
      line.args.no_drop = true;
    else if (option != AllOptions().end() && !option->second)
      line.args.options[name] = "";
    else if (option != AllOptions().end() && i + 1 < argc)
      line.args.options[name] = argv[++i];
    else if (!name.empty() || a == "--")
      return Status::Invalid("unknown option " + a);
    else
      line.words.push_back(a);
  }
  return line;
}

// The command `words` names; its name's words are taken off `words`.
Result<const Command*> Find(std::vector<std::string>& words) {
  if (words.empty()) return Status::Invalid("no command given");
  for (size_t n : {2, 1}) {
    if (words.size() < n) continue;
    const std::string name = n == 2 ? words[0] + " " + words[1] : words[0];
    for (const Command& c : AllCommands())
      if (c.name == name) {
        words.erase(words.begin(), words.begin() + static_cast<long>(n));
        return &c;
      }
  }
  std::string subcommands;
  for (const Command& c : AllCommands())
    if (std::string(c.name).rfind(words[0] + " ", 0) == 0)
      subcommands +=
          (subcommands.empty() ? "" : ", ") + std::string(c.name).substr(words[0].size() + 1);
  if (subcommands.empty()) return Status::Invalid("unknown command '" + words[0] + "'");
  const Command* fallback = words.size() == 1 ? DefaultOfGroup(words[0]) : nullptr;
  if (!fallback) return Status::NotFound(words[0] + " takes one of: " + subcommands);
  words.clear();
  return fallback;
}

// The arguments and options `c` takes; a usage error otherwise.
Status CheckArgs(const Command& c, const Args& args) {
  for (const auto& [option, value] : args.options)
    if (std::find(c.options.begin(), c.options.end(), option) == c.options.end())
      return Status::Invalid(std::string(c.name) + " does not take --" + option);
  const size_t n = args.positional.size();
  if (n < c.min_args || n > c.max_args)
    return Status::Invalid(std::string(c.name) + " takes " +
                           (c.min_args == c.max_args ? std::to_string(c.min_args)
                                                     : std::to_string(c.min_args) + " to " +
                                                           std::to_string(c.max_args)) +
                           (c.max_args == 1 && c.min_args == 1 ? " argument" : " arguments") +
                           ", not " + std::to_string(n));
  return Status::OK();
}

// $GONGKAI_CONFIG, "" when unset.
std::string ConfigVariable() {
  const char* value = std::getenv("GONGKAI_CONFIG");
  return value ? value : "";
}

// --config, else $GONGKAI_CONFIG, else the packaged file.
std::string ConfigFile(const std::string& given) {
  if (!given.empty()) return given;
  return ConfigVariable().empty() ? kPackagedConfig : ConfigVariable();
}

// Without --config, a missing file gets one line that says what to do.
Status CheckDefaultConfig(const std::string& given) {
  const std::string file = ConfigFile(given);
  if (!given.empty() || ::access(file.c_str(), F_OK) == 0) return Status::OK();
  return Status::NotFound(
      "no configuration at " + file +
      (ConfigVariable().empty() ? " (is gongkaid installed?)" : " ($GONGKAI_CONFIG)") +
      "; give --config FILE or set GONGKAI_CONFIG");
}

// Loads the configuration; then, for a root caller, becomes the data
// folder's owner (unless --no-drop), before anything in the folder is opened.
Status LoadContext(const std::string& given, const Args& args, Context& ctx) {
  if (Status s = CheckDefaultConfig(given); !s.ok()) return s;
  ctx.config_file = ConfigFile(given);
  auto config = LoadConfig(ctx.config_file);
  if (!config.ok()) return config.status();
  ctx.config = std::move(*config);
  ctx.layout = daemon::DataLayout(ctx.config.data_dir);
  if (args.no_drop) return Status::OK();
  auto dropped = daemon::DropRootToOwnerOf(ctx.config.data_dir);
  if (!dropped.ok()) return dropped.status();
  if (*dropped)
    std::cerr << "gongkai: running as " << (*dropped)->user << " (uid " << (*dropped)->uid
              << ", gid " << (*dropped)->gid << "), the owner of " << ctx.config.data_dir
              << "; --no-drop to stay root\n";
  return Status::OK();
}

// What `c` needs before it runs: the configuration, the archive, the catalog.
Status Provide(const Command& c, const std::string& given_config, const Args& args, Context& ctx) {
  if (c.needs == Needs::kNothing) {
    ctx.config_file = ConfigFile(given_config);
    return Status::OK();
  }
  if (Status s = LoadContext(given_config, args, ctx); !s.ok()) return s;
  if (c.needs == Needs::kConfig) return Status::OK();
  // The daemon's first start makes the SQLite catalog, or beside a PostgreSQL one the keys.
  const bool postgres = !ctx.config.catalog_postgres.empty();
  if (::access((postgres ? ctx.layout.keys() : ctx.layout.catalog()).c_str(), F_OK) != 0)
    return Status::NotFound("no archive in " + ctx.config.data_dir + " yet (has gongkaid run?)");
  if (c.needs == Needs::kArchive) return Status::OK();
  auto catalog = storage::OpenCatalog(ctx.config.catalog_postgres, ctx.layout.catalog(),
                                      storage::Env::Default());
  if (!catalog.ok()) return catalog.status();
  ctx.catalog = std::move(*catalog);
  return Status::OK();
}

// Runs `c` with what it needs, under the data folder's lock if it must run
// with the daemon stopped.
int Run(const Command& c, const std::string& given_config, const Args& args) {
  if (Status s = CheckArgs(c, args); !s.ok()) return UsageError(c.name, s.message());
  Context ctx;
  if (Status s = Provide(c, given_config, args, ctx); !s.ok()) return Error(s.message());
  if (!c.daemon_stopped) return c.run(ctx, args);
  std::string error;
  const int lock = daemon::LockDataDir(ctx.layout.lock_file(), &error);
  if (lock < 0) return Error(error + "; stop the daemon first (systemctl stop gongkaid)");
  const int code = c.run(ctx, args);
  ::close(lock);
  return code;
}

}  // namespace

int Main(int argc, char** argv) {
  auto line = Parse(argc, argv);
  if (!line.ok()) return Error(line.status().message() + "\n" + UsageText());
  if (line->version) return std::cout << "gongkai " GONGKAI_VERSION "\n", 0;
  if (line->help && line->words.empty()) return std::cout << UsageText(), 0;
  if (line->help) return std::cout << CommandUsage(line->words[0]), 0;
  auto command = Find(line->words);
  if (!command.ok()) {
    if (command.status().IsNotFound())
      return UsageError(line->words[0], command.status().message());
    return Error(command.status().message() + "\n" + UsageText());
  }
  line->args.positional = std::move(line->words);
  return Run(**command, line->config_file, line->args);
}

}  // namespace gongkai::cli
