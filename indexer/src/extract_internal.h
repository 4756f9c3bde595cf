// What the format extractors share. Private to gongkai::indexer.
//
// Each extractor fills text, title, has_text and note of the Extracted it is
// given (type is already set from the file name). Like Extract(), none of
// them fails on bad input: a broken file yields has_text = false and a note.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gongkai/indexer/extract.h"
#include "zip_reader.h"

namespace gongkai::indexer::detail {

// The most text one document yields. Bounded input is not enough: an xlsx
// cell refers to a shared string by index, so a small sheet can repeat a
// large string millions of times. Extractors stop growing their raw text
// near this size; FinishText cuts it here and says so in the note.
constexpr size_t kMaxTextBytes = 64u << 20;

std::string Lower(std::string s);

// One line, whitespace-normalised, trimmed, at most 200 bytes (cut on a
// UTF-8 boundary).
std::string TrimTitle(std::string t);

// The first non-empty line of `text`, as a title.
std::string FirstLineTitle(std::string_view text);

// Sets text (normalised, at most kMaxTextBytes), has_text and, if still
// empty, the title (first line) and the note (`empty_note`) from the raw
// text an extractor built.
void FinishText(std::string_view raw, const std::string& empty_note, Extracted* e);

// The offset of "%PDF-" if the bytes are a PDF, else npos: at the start or
// after a UTF-8 BOM; when `lenient` (the name says pdf) anywhere in the first
// 1024 bytes, as PDF readers accept junk before the header.
size_t PdfHeaderOffset(std::string_view bytes, bool lenient);

// PDF through poppler-cpp (extract_pdf.cc).
void ExtractPdf(std::string_view bytes, Extracted* e);

// OOXML (docx, xlsx, pptx and their template/macro variants) and ODF (odt,
// ods, odp, ...) from an opened zip (extract_office.cc). False, with *e
// untouched, when the members show the zip is neither.
bool ExtractOffice(ZipReader& zip, const std::vector<std::string>& names, Extracted* e);

// OFD, GB/T 33190 (extract_ofd.cc). False, with *e untouched, when the zip
// has no OFD.xml at its root.
bool ExtractOfd(ZipReader& zip, const std::vector<std::string>& names, Extracted* e);

// The note of a document whose extraction hit an allocation failure
// (parser_failed is set too).
inline constexpr std::string_view kOutOfMemoryNote = "extraction ran out of memory";

// Extract(), for bytes read from the file at `source_path` ("" when they
// were not): converters that must seek read that file instead of a copy.
Extracted ExtractFrom(std::string_view bytes, const std::string& filename,
                      const std::string& source_path);

// The limits on reading one archive, the archives nested in it included
// (extract.h explains them). One set, here; tests pass smaller ones.
struct ArchiveLimits {
  uint64_t max_entries = 10'000;               // headers read, of any kind
  uint64_t max_member = 64ull << 20;           // uncompressed bytes of one member
  uint64_t max_total = 256ull << 20;           // uncompressed bytes of all members
  uint64_t max_ratio = 100;                    // uncompressed bytes / the archive's own size ...
  uint64_t ratio_floor = 16ull << 20;          // ... checked once this many were read
  int max_depth = kMaxArchiveDepth;            // archives inside archives
  uint64_t max_text = 128ull << 20;            // extracted text of all members
  std::chrono::milliseconds max_time{40'000};  // wall clock for all members (the worker's is 60 s)
};

// What reading an archive has used so far, shared by the archives nested in it.
struct ArchiveBudget {
  explicit ArchiveBudget(uint64_t archive_size, ArchiveLimits l = {})
      : limits(l),
        compressed_size(archive_size),
        deadline(std::chrono::steady_clock::now() + l.max_time) {}
  ArchiveLimits limits;
  uint64_t compressed_size;  // of the outermost archive
  std::chrono::steady_clock::time_point deadline;
  uint64_t entries = 0, bytes = 0, text = 0;
  std::string stopped;  // why reading stopped everywhere ("" while it goes on)
};

// Whether the bytes start like an archive format ExtractArchive reads
// (7z, rar, gzip/bzip2/xz/zstd streams, a ustar header); zips are
// recognised separately (ZipReader::LooksLikeZip), as they may be packages.
bool LooksLikeArchive(std::string_view bytes);

// Reads the archive in `bytes` (extract_archive.cc) into e->members, e->text
// (the member paths) and e->note (the summary). `depth` is how many archives
// contain this one. False, with *e untouched, when libarchive does not
// recognise the bytes as an archive at all.
bool ExtractArchive(std::string_view bytes, int depth, ArchiveBudget* budget, Extracted* e);

// ExtractFrom for a member of an archive: nested archives are read within
// `budget`, and nothing that needs a file on disk is attempted.
Extracted ExtractMember(std::string_view bytes, const std::string& name, int depth,
                        ArchiveBudget* budget);

// A member's name as an index path: UTF-8 (else GB18030, else %XX escapes),
// a backslash is a separator, no empty, "." or ".." segments, no leading "/" or drive,
// control characters and bidi overrides escaped. "" if nothing is left.
std::string SanitizeMemberName(std::string_view raw);

// Test and extraction entry point with explicit limits (Extract() uses the defaults).
Extracted ExtractWithLimits(std::string_view bytes, const std::string& filename,
                            const ArchiveLimits& limits);

// Whether the bytes start with the OLE compound file magic (D0 CF 11 E0 A1 B1 1A E1).
bool IsOleCompoundFile(std::string_view bytes);

// Legacy .doc/.wps, .xls and .ppt (extract_legacy.cc): Debian's catdoc,
// xls2csv or catppt in a child process under resource limits and a
// timeout, reading `source_path` or, if that is empty, a TempCopy of the bytes
// (they need a file they can seek in; xls2csv cannot read stdin at all).
void ExtractLegacyOffice(std::string_view bytes, const std::string& source_path, Extracted* e);

// A copy of some bytes in a new file in $TMPDIR (or /tmp), removed again
// when this goes. `path` is empty, and `error` says why, if it could not be written.
struct TempCopy {
  explicit TempCopy(std::string_view bytes);
  ~TempCopy();
  TempCopy(const TempCopy&) = delete;
  TempCopy& operator=(const TempCopy&) = delete;
  std::string path;
  std::string error;
};

// The note for a zip that could not be read as a package.
std::string ZipFailureNote(const ZipReader& zip, const std::string& what);

}  // namespace gongkai::indexer::detail
