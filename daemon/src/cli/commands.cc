// The command table, as MPD's src/command/AllCommands.cxx: every command's
// name, usage, arguments, options and needs in one place. main.cc checks
// arguments, options and needs from it; --help and gongkai(1) list it.
#include <algorithm>
#include <sstream>

#include "cli/cli.h"

namespace gongkai::cli {
namespace {

constexpr size_t kSummaryColumn = 37;

// The usage text's head and tail around the commands.
const char kHead[] =
    "usage: gongkai [--config FILE] COMMAND [ARGS] [--json] [--no-drop]\n"
    "       gongkai verify-bag FILE [--json]     (no config needed)\n"
    "       gongkai config check [FILE] [--json]\n"
    "commands:\n";
const char kTail[] =
    "  --version\n"
    "  COMMAND --help                     that command's usage\n"
    "options:\n"
    "    --config FILE  the daemon's configuration (default: $GONGKAI_CONFIG, else\n"
    "                /etc/gongkai/gongkaid.conf)\n"
    "    --json      one JSON object on stdout; errors stay one line on stderr, stdout empty\n"
    "    --no-drop   as root, do not become the owner of the data folder first\n"
    "exit codes: 0 ok\n"
    "    1 the command ran and the answer is no: verify, verify-bag: problems found;\n"
    "      show, history, approve, classify: no such document; approve: nothing pending;\n"
    "      token revoke: no such token; export: nothing in scope; export, backup: a\n"
    "      damaged blob; reindex: a document could not be indexed; requests show,\n"
    "      event: no such request; requests add, event: refused (the reason is printed)\n"
    "    2 usage error, a config that does not load (config check too), the daemon\n"
    "      running (reindex) or not answering (a change), or an archive, file or\n"
    "      folder that cannot be read or written\n";

// "  usage           summary" and the summary's further lines below it.
std::string UsageLines(const Command& c) {
  std::string out = "  " + std::string(c.usage);
  std::istringstream summary(c.summary);
  std::string line;
  bool first = true;
  while (std::getline(summary, line)) {
    if (!first || out.size() > kSummaryColumn)
      out += "\n" + std::string(kSummaryColumn, ' ');
    else
      out += std::string(std::max<size_t>(1, kSummaryColumn - out.size()), ' ');
    out += line;
    first = false;
  }
  return out + "\n";
}

bool InGroup(const Command& c, const std::string& name) {
  const std::string n = c.name;
  return n == name || n.rfind(name + " ", 0) == 0;
}

}  // namespace

const std::vector<Command>& AllCommands() {
  using N = Needs;
  // clang-format off
  static const std::vector<Command> kCommands = {
      // name, usage,
      //   summary (one or more lines),
      //   min and max arguments, options, needs, daemon stopped, handler
      {"status", "status [--json]",
       "documents, versions, queue and failures",
       0, 0, {}, N::kCatalog, false, CmdStatus},
      {"search", "search QUERY [--share S] [--limit N] [--strict] [--json]",
       "full-text search (sees everything); --strict: never relaxed",
       1, 1, {"share", "limit", "strict"}, N::kCatalog, false, CmdSearch},
      {"show", "show PATH|SHARE:PATH|ID [--json]",
       "one document: metadata and every version",
       1, 1, {}, N::kCatalog, false, CmdShow},
      {"history", "history PATH|SHARE:PATH|ID [--json]",
       "the same as show",
       1, 1, {}, N::kCatalog, false, CmdShow},
      {"verify", "verify [--checkpoint FILE] [--json]",
       "check blobs, records, signatures, the Merkle log,\n"
       "checkpoints and the index; exit 1 on any problem",
       0, 0, {"checkpoint"}, N::kCatalog, false, CmdVerify},
      {"export", "export --out FILE.tar|FILE.zip [--share S] [--since YYYY-MM-DD] [--json]",
       "a BagIt bag of every archived version in scope, with\n"
       "signed records, keys, checkpoint and inclusion proofs",
       0, 0, {"out", "share", "since"}, N::kCatalog, false, CmdExport},
      {"verify-bag", "verify-bag FILE [--json]",
       "check a bag offline; exit 1 on any problem",
       1, 1, {}, N::kNothing, false, CmdVerifyBag},
      {"backup", "backup DIR [--json]",
       "consistent copy of the live archive (catalog, blobs,\n"
       "keys) into the empty or new folder DIR",
       1, 1, {}, N::kCatalog, false, CmdBackup},
      {"config check", "config check [FILE] [--json]",
       "validate a config (FILE or --config FILE); exit 2 if bad",
       0, 1, {}, N::kNothing, false, CmdConfigCheck},
      {"approve", "approve ID [--json]",
       "approve the document's latest pending version",
       1, 1, {}, N::kArchive, false, CmdApprove},
      {"classify", "classify ID public|restricted [--json]",
       "change a document's classification",
       2, 2, {}, N::kArchive, false, CmdClassify},
      {"keys list", "keys list [--json]",
       "every signing key, retired ones too (keys alone)",
       0, 0, {}, N::kCatalog, false, CmdKeysList},
      {"keys rotate", "keys rotate [--json]",
       "make a new active signing key; older ones are retired",
       0, 0, {}, N::kArchive, false, CmdKeysRotate},
      {"token add", "token add --role inspector|admin --name NAME [--json]",
       "prints a new token once, stores its hash",
       0, 0, {"role", "name"}, N::kConfig, false, CmdTokenAdd},
      {"token list", "token list [--json]",
       "each token's role, hash prefix and name (token alone)",
       0, 0, {}, N::kConfig, false, CmdTokenList},
      {"token revoke", "token revoke NAME|HASH-PREFIX [--json]",
       "remove the tokens of that name or hash",
       1, 1, {}, N::kConfig, false, CmdTokenRevoke},
      {"report freshness", "report freshness [--as-of YYYY-MM-DD] [--json|--csv]",
       "last update per share and category; overdue ones",
       0, 0, {"as-of", "csv"}, N::kCatalog, false, CmdReport},
      {"report annual", "report annual --year Y [--html FILE] [--json|--csv]",
       "the annual report's tables 二 (规章, 行政规范性文件) and\n"
       "三 (requests) as of 31 December; exit 1 when its checks fail",
       0, 0, {"year", "html", "csv"}, N::kCatalog, false, CmdReportAnnual},
      {"report figures", "report figures --year Y --from FILE|- [--json]",
       "sign the annual report's entered figures for year Y:\n"
       "table 二's 行政许可, 处罚, 强制, 收费 and table 四",
       0, 0, {"year", "from"}, N::kArchive, false, CmdReportFigures},
      {"report timeliness", "report timeliness [--year Y] [--json]",
       "documents published more than 20 working days after\n"
       "their 生成日期, and requests closed late (this year by default)",
       0, 0, {"year"}, N::kCatalog, false, CmdReportTimeliness},
      {"catalogue", "catalogue [--year Y] [--category C] [--json|--csv]",
       "the 公开目录: every public, approved document with its\n"
       "索引号, newest first (as GET /api/v1/catalogue)",
       0, 0, {"year", "category", "csv"}, N::kCatalog, false, CmdCatalogue},
      {"workdays", "workdays DATE N [--json]",
       "the date N working days after DATE, by China's\n"
       "holiday calendar (provisional where it has no data)",
       2, 2, {}, N::kConfig, false, CmdWorkdays},
      {"requests list", "requests list [--status open|paused|closed] [--overdue] [--year Y] [--json]",
       "disclosure requests, open ones first by due date",
       0, 0, {"status", "overdue", "year"}, N::kCatalog, false, CmdRequestsList},
      {"requests show", "requests show CODE [--json]",
       "one request: applicant, deadline and every event",
       1, 1, {}, N::kCatalog, false, CmdRequestsShow},
      {"requests add", "requests add --from FILE|- [--channel C] [--received YYYY-MM-DD] [--json]\n"
       "  or: requests add --name N --contact C --description D [--type T] [--id-number I]\n"
       "    [--address A] [--delivery D] [--channel C] [--received YYYY-MM-DD] [--json]",
       "register a request that came in person, by post, fax\n"
       "or email (channel in_person unless given; received today\n"
       "unless given); prints its tracking code and due date.\n"
       "--from reads the applicant as JSON from a file or stdin,\n"
       "keeping personal data off the command line",
       0, 0, {"name", "contact", "description", "channel", "received", "type", "id-number",
              "address", "delivery", "from"}, N::kArchive, false, CmdRequestsAdd},
      {"requests event", "requests event CODE EVENT [--date YYYY-MM-DD] [--outcome O] [--days N]\n"
       "    [--approved-by A] [--note T] [--reply-document ID] [--json]",
       "record what happened to a request (supplement_requested,\n"
       "supplemented, extended, consultation_started,\n"
       "consultation_ended, replied, withdrawn, abandoned); today\n"
       "unless --date; exit 1 when it cannot follow",
       2, 2, {"date", "outcome", "days", "approved-by", "note", "reply-document"}, N::kArchive,
       false, CmdRequestsEvent},
      {"reindex", "reindex [--json]",
       "rebuild the search index from the archive\n"
       "(stop the daemon first)",
       0, 0, {}, N::kCatalog, true, CmdReindex},
  };
  // clang-format on
  return kCommands;
}

const Command* DefaultOfGroup(const std::string& group) {
  static const std::map<std::string, std::string> kDefaults = {
      {"keys", "keys list"}, {"token", "token list"}, {"requests", "requests list"}};
  auto it = kDefaults.find(group);
  if (it == kDefaults.end()) return nullptr;
  for (const Command& c : AllCommands())
    if (c.name == it->second) return &c;
  return nullptr;
}

const std::map<std::string, bool>& AllOptions() {
  static const std::map<std::string, bool> kOptions = {
      {"share", true},    {"limit", true},          {"checkpoint", true}, {"out", true},
      {"since", true},    {"role", true},           {"name", true},       {"as-of", true},
      {"csv", false},     {"status", true},         {"overdue", false},   {"year", true},
      {"contact", true},  {"description", true},    {"channel", true},    {"received", true},
      {"type", true},     {"id-number", true},      {"address", true},    {"delivery", true},
      {"date", true},     {"outcome", true},        {"days", true},       {"approved-by", true},
      {"note", true},     {"reply-document", true}, {"html", true},       {"from", true},
      {"category", true}, {"strict", false}};
  return kOptions;
}

std::string UsageText() {
  std::string out = kHead;
  for (const Command& c : AllCommands()) out += UsageLines(c);
  return out + kTail;
}

std::string CommandUsage(const std::string& name) {
  std::string lines;
  for (const Command& c : AllCommands())
    if (InGroup(c, name)) lines += UsageLines(c);
  if (lines.empty()) return UsageText();
  const std::string tail = kTail;
  return "usage: gongkai [--config FILE]\n" + lines + tail.substr(tail.find("options:\n"));
}

}  // namespace gongkai::cli
