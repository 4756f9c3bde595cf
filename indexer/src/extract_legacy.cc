// Legacy binary Office documents (OLE compound files): Word 97-2003 .doc,
// Kingsoft WPS .wps, Excel .xls and PowerPoint .ppt, through Debian's catdoc
// package (catdoc, xls2csv, catppt) run as a child process under limits.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>

#include "child_process.h"
#include "extract_internal.h"
#include "gongkai/utf8.h"

namespace gongkai::indexer::detail {
namespace {

constexpr std::string_view kOleMagic("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
constexpr auto kConverterTimeout = std::chrono::seconds(60);

enum class Kind { kUnknown, kText, kSheet, kSlides };

Kind KindFromType(const std::string& type) {
  static const std::set<std::string> kText = {"doc", "dot", "wps", "wpt"};
  static const std::set<std::string> kSheet = {"xls", "xlt", "et", "ett"};
  static const std::set<std::string> kSlides = {"ppt", "pps", "pot", "dps", "dpt"};
  if (kText.count(type)) return Kind::kText;
  if (kSheet.count(type)) return Kind::kSheet;
  if (kSlides.count(type)) return Kind::kSlides;
  return Kind::kUnknown;
}

// The main stream's name in the compound file's directory (UTF-16LE), for a
// file whose name does not say what it is.
Kind KindFromStreams(std::string_view bytes) {
  auto has = [bytes](std::string_view ascii) {
    std::string utf16;
    for (char c : ascii) utf16 += {c, '\0'};
    return bytes.find(utf16) != std::string_view::npos;
  };
  if (has("WordDocument")) return Kind::kText;
  if (has("Workbook") || has("Book")) return Kind::kSheet;
  if (has("PowerPoint Document")) return Kind::kSlides;
  return Kind::kUnknown;
}

}  // namespace

TempCopy::TempCopy(std::string_view bytes) {
  const char* dir = std::getenv("TMPDIR");
  std::string name = std::string(dir && *dir ? dir : "/tmp") + "/gongkai-extract-XXXXXX";
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    error = std::string("cannot create a temporary file: ") + std::strerror(errno);
    return;
  }
  for (std::string_view rest = bytes; !rest.empty();) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error =
          std::string("cannot write a temporary file: ") + std::strerror(n < 0 ? errno : ENOSPC);
      break;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fd);
  if (error.empty())
    path = name;
  else
    ::unlink(name.c_str());
}

TempCopy::~TempCopy() {
  if (!path.empty()) ::unlink(path.c_str());
}

bool IsOleCompoundFile(std::string_view bytes) {
  return bytes.substr(0, kOleMagic.size()) == kOleMagic;
}

void ExtractLegacyOffice(std::string_view bytes, const std::string& source_path, Extracted* e) {
  Kind kind = KindFromType(e->type);
  if (kind == Kind::kUnknown) kind = KindFromStreams(bytes);
  std::vector<std::string> argv;
  std::string what;
  switch (kind) {
    case Kind::kText:
      argv = {"/usr/bin/catdoc", "-w", "-d", "utf-8"};
      what = "Word/WPS document";
      if (e->type == "file") e->type = "doc";
      break;
    case Kind::kSheet:
      argv = {"/usr/bin/xls2csv", "-d", "utf-8", "-q", "0", "-c", "\t", "-b", "\n"};
      what = "Excel workbook";
      if (e->type == "file") e->type = "xls";
      break;
    case Kind::kSlides:
      argv = {"/usr/bin/catppt", "-d", "utf-8"};
      what = "PowerPoint presentation";
      if (e->type == "file") e->type = "ppt";
      break;
    case Kind::kUnknown:
      e->note = "OLE compound file of an unknown kind (not Word, WPS, Excel or PowerPoint)";
      return;
  }
  const std::string who = "legacy " + what + ": " + argv[0].substr(argv[0].rfind('/') + 1);
  if (::access(argv[0].c_str(), X_OK) != 0) {
    e->note = who + " is not installed (Debian package catdoc)";
    return;
  }
  std::unique_ptr<TempCopy> copy;
  if (source_path.empty()) {
    copy = std::make_unique<TempCopy>(bytes);
    if (copy->path.empty()) {
      e->note = "legacy " + what + ": " + copy->error;
      return;
    }
  }
  argv.push_back(copy ? copy->path : source_path);
  ChildLimits limits;  // RLIMIT_FSIZE 0: they write nothing
  limits.address_space = 1ull << 30;
  limits.cpu_seconds = kConverterTimeout.count();
  auto run = RunConverter(argv, limits, kConverterTimeout, kMaxTextBytes + 1);
  if (!run.ok()) {
    e->note = who + " could not start: " + run.status().message();
    return;
  }
  // A converter that crashed or hung is a parser failure (a warning for the
  // caller); one that refused the file (exit status) is just a note.
  if (run->timed_out) {
    e->note = who + " timed out after " + std::to_string(kConverterTimeout.count()) + " s";
    e->parser_failed = true;
    return;
  }
  if (run->wait_status != 0 && run->output.size() <= kMaxTextBytes) {
    e->note = who + " failed (" + DescribeWaitStatus(run->wait_status) + ")";
    e->parser_failed = WIFSIGNALED(run->wait_status);
    return;
  }
  // catdoc converts from the document's own code page (GBK, Big5, ...) to
  // UTF-8 itself; check, as its tables may leave stray bytes.
  std::string text =
      IsValidUtf8(run->output) ? std::move(run->output) : ToUtf8(run->output, &e->encoding);
  FinishText(text, "no text in the legacy " + what, e);
}

}  // namespace gongkai::indexer::detail
