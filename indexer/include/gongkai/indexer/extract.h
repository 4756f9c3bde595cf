// Text extraction: archived bytes in, UTF-8 text and a title out.
//
// Formats: plain text in any common encoding, HTML, PDF (poppler-cpp), Office
// Open XML (docx, xlsx, pptx), OpenDocument (odt, ods, odp), OFD, and the
// legacy binary Office formats (OLE compound files: Word .doc, Kingsoft WPS
// .wps, Excel .xls, PowerPoint .ppt) through Debian's catdoc package. The
// content decides before the name: a PDF, a zip package or an OLE compound
// file is recognised by its magic bytes whatever it is called.
//
// Archives (zip, tar, tar.gz/.bz2/.xz/.zst, 7z, rar; recognised by content,
// a zip only when it is not an office package) are read in memory, never
// written anywhere: each regular-file member is extracted like a file of its
// own and returned in Extracted::members as `member/path` (an archive inside
// is expanded too, `inner.zip!/file`, up to kMaxArchiveDepth levels). The
// archive's own Extracted lists the member paths as its text and sums up in
// its note what was indexed and what skipped, and why. The limits of one
// archive, nested ones included (detail::ArchiveLimits): 10,000 entries
// read (of any kind; then reading stops, with a note), 64 MiB uncompressed
// per member (a larger one, or a sparse one claiming more, is skipped,
// unread in a plain tar or a zip; in a compressed tar, 7z or rar skipping
// decompresses it, so its bytes count against the next two limits),
// 256 MiB uncompressed in all, 100:1 against the archive's own
// size (checked past 16 MiB), 3 levels of nesting, 128 MiB of member text in
// all, and 40 s of extraction.
// Member names: UTF-8 as is, else decoded as GB18030 (the GBK/CP936 names
// of zips made on Chinese Windows, which set no UTF-8 flag), else the bad
// bytes escaped as %XX. A backslash is a separator (Windows tools write
// them); a leading "/", a drive letter, and empty, "." and ".." segments are
// dropped, never resolved; control characters and bidirectional overrides
// are escaped as %XX. Symbolic and hard links, directories and devices are
// skipped: nothing outside the archive's own bytes is ever read. Encrypted
// members are skipped; legacy Office files inside an archive are not
// converted (their converter needs a file on disk).
//
// Extract() never throws and never fails on bad input: an unreadable or
// unsupported file yields has_text = false and a note saying why (encrypted,
// no text layer, probable zip bomb, ...), so it is archived and listed, just
// not full-text searchable. A zip package is decompressed only within fixed
// limits (256 MiB in all, 64 MiB per part, 100:1), XML is parsed without
// DTDs or entity expansion, and text stops at 64 MiB. The legacy converters
// always run as child processes under resource limits and a 60 s timeout.
//
// Extract() runs every other parser (poppler, libxml2, libarchive) in the
// calling process, so a crash, a hang or runaway memory there would take the
// caller with it: the daemon and `gongkai reindex` call it only inside
// worker processes (extract_worker.h); calling it directly is for tests and
// tools. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gongkai::indexer {

struct ArchiveMember;

struct Extracted {
  std::string type;      // from the name: txt, html, pdf, docx, ...; if it has none, from the
                         // content (pdf, docx, odt, ofd, ...); else "file"
  std::string title;     // from <title>, the first heading or the first line; may be empty
  std::string text;      // UTF-8, whitespace-normalised
  std::string encoding;  // the source encoding that was detected, where that applies
  bool has_text = false;
  std::string note;            // why there is no text, or what was repaired
  bool parser_failed = false;  // the parser crashed, hung or ran out of memory (see note)
  // An archive's members, nested archives' members flattened into it
  // ("inner.zip!/file"), in archive order; empty for any other file.
  std::vector<ArchiveMember> members;
};

struct ArchiveMember {
  std::string path;     // sanitised UTF-8 path inside the archive (see above)
  Extracted extracted;  // its members are always empty (flattened into the archive's)
};

// How many archives deep members are expanded: outer.zip!/a.zip!/b.zip!/c.zip!/x.txt.
inline constexpr int kMaxArchiveDepth = 3;

Extracted Extract(std::string_view bytes, const std::string& filename);

// The lowercase extension without the dot (htm -> html), or "file".
std::string TypeFromName(const std::string& filename);

// Converts bytes in an unknown encoding to UTF-8: BOMs (UTF-8, UTF-16LE/BE),
// valid UTF-8 as is, else the charset uchardet detects (GB18030 for GBK/GB2312,
// Big5, ...) through iconv. Undecodable bytes become U+FFFD; never truncates.
// `*encoding` receives the charset used.
std::string ToUtf8(std::string_view bytes, std::string* encoding);
// Converts from a named charset (iconv name); bad bytes become U+FFFD.
std::string ConvertToUtf8(std::string_view bytes, const std::string& charset);

// Collapses whitespace runs to one space (or one newline if the run had one),
// and removes whitespace between two CJK characters entirely: layout breaks
// inside a Chinese sentence must not split its words.
std::string NormalizeWhitespace(std::string_view utf8);

}  // namespace gongkai::indexer
