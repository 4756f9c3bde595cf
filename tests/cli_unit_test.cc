// The CLI's command table: every command is complete, listed by --help and
// documented in gongkai(1).
#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "cli/cli.h"

using namespace gongkai;

namespace {

// The words of one roff macro line (".BR a " b" c"): quoted arguments keep their spaces.
std::string MacroText(const std::string& args) {
  std::string out;
  bool quoted = false;
  for (char c : args) {
    if (c == '"')
      quoted = !quoted;
    else if (c != ' ' || quoted)
      out += c;
  }
  return out;
}

// A line of gongkai(1) as text: font escapes gone, "\-" a hyphen.
std::string RoffText(const std::string& line) {
  std::string text = line;
  if (!text.empty() && text[0] == '.') text = MacroText(text.substr(text.find(' ') + 1));
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "\\f") == 0)
      ++i, ++i;  // \fB, \fI, \fR
    else if (text.compare(i, 2, "\\-") == 0)
      out += '-', ++i;
    else
      out += text[i];
  }
  return out;
}

// The headings of the COMMANDS section: the line after each .TP or .TQ.
std::vector<std::string> ManPageCommands() {
  std::ifstream page(std::string(GONGKAI_SOURCE_DIR) + "/docs/man/gongkai.1");
  std::vector<std::string> headings;
  std::string line;
  bool in_commands = false, heading_next = false;
  while (std::getline(page, line)) {
    if (line.rfind(".SH", 0) == 0) in_commands = line == ".SH COMMANDS";
    if (!in_commands) continue;
    if (heading_next) headings.push_back(RoffText(line));
    heading_next = line == ".TP" || line == ".TQ";
  }
  return headings;
}

}  // namespace

TEST_CASE(
    "cli: every command has a unique name, usage, summary, known options and its man page entry",
    "[cli]") {
  const std::vector<std::string> documented = ManPageCommands();
  REQUIRE(documented.size() >= 10);
  std::set<std::string> names;
  for (const cli::Command& c : cli::AllCommands()) {
    const std::string name = c.name;
    INFO(name);
    CHECK(names.insert(name).second);
    CHECK(std::string(c.usage).rfind(name, 0) == 0);
    CHECK(std::string(c.summary).size() > 5);
    CHECK(c.min_args <= c.max_args);
    CHECK(c.run != nullptr);
    for (const std::string& option : c.options) CHECK(cli::AllOptions().count(option) == 1);
    CHECK(cli::UsageText().find("  " + std::string(c.usage)) != std::string::npos);
    CHECK(cli::CommandUsage(name).find(c.usage) != std::string::npos);
    bool in_man_page = false;
    for (const std::string& heading : documented)
      in_man_page = in_man_page || heading == name || heading.rfind(name + " ", 0) == 0;
    CHECK(in_man_page);
  }
  for (const char* group : {"keys", "token"}) {
    REQUIRE(cli::DefaultOfGroup(group) != nullptr);
    CHECK(std::string(cli::DefaultOfGroup(group)->name).rfind(std::string(group) + " ", 0) == 0);
  }
  CHECK(cli::DefaultOfGroup("config") == nullptr);  // config alone is a usage error
  // Only reindex needs the daemon stopped; the changes go through it.
  for (const cli::Command& c : cli::AllCommands())
    CHECK(c.daemon_stopped == (std::string(c.name) == "reindex"));
}
