// Xapian exceptions are caught here and become Status values.
#include "gongkai/indexer/index.h"

#include <Poco/Exception.h>
#include <xapian.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "entry_data.h"
#include "gongkai/indexer/chinese.h"
#include "gongkai/indexer/extract.h"
#include "gongkai/indexer/question.h"
#include "gongkai/indexer/sharded_index.h"
#include "gongkai/utf8.h"

namespace gongkai::indexer {
namespace {

enum Slot : Xapian::valueno {
  // The file's date, then '\0' and the entry's id term (EntryTerm): the
  // order of dates, and no two entries alike in any number of shards.
  kModified = 0,
  kSnippetText = 1,
  kShare = 2,
  kType = 3,
  kOffice = 4,
  kDate = 5,
  kCategory = 6
};
constexpr size_t kSnippetTextMax = size_t{16} * 1024;  // snippets come from the first 16 KiB
constexpr size_t kIndexTextMax = size_t{16} * 1024 * 1024;
const char* const kWatermarkKey = "gongkai.watermark";
// Bump when the index layout changes: an older index is emptied on open and
// rebuilt by replaying the catalog from the start.
const char* const kSchemaKey = "gongkai.schema";
const char* const kSchema = "10";

// Xapian 1.4's parser refuses some input outright: unbalanced quotes and
// the like, and, with FLAG_CJK_NGRAM, some mixes of numbers, Latin words and
// Chinese ("第 9 章 Unix 服务", "9 章 Unix"). Such a query is retried without
// the operators, then taken word by word (split at spaces), each word parsed
// on its own and all of them required, except that a word after NOT or with
// a leading "-" is excluded (never required instead), and AND and OR are
// dropped; a word still refused is dropped.
Xapian::Query ParseLeniently(Xapian::QueryParser& qp, const std::string& text, unsigned flags) {
  for (unsigned f : {flags, unsigned{Xapian::QueryParser::FLAG_CJK_NGRAM}}) {
    try {
      return qp.parse_query(text, f);
    } catch (const Xapian::QueryParserError&) {
    }
  }
  std::vector<Xapian::Query> words, excluded;
  std::istringstream in(text);
  bool negate_next = false;
  for (std::string word; in >> word;) {
    if (word == "AND" || word == "OR") continue;
    if (word == "NOT") {
      negate_next = true;
      continue;
    }
    bool negate = negate_next;
    negate_next = false;
    if (word.size() > 1 && (word[0] == '-' || word[0] == '+')) {
      negate = negate || word[0] == '-';
      word.erase(0, 1);
    }
    try {
      (negate ? excluded : words)
          .push_back(qp.parse_query(word, Xapian::QueryParser::FLAG_CJK_NGRAM));
    } catch (const Xapian::QueryParserError&) {
    }
  }
  Xapian::Query query(Xapian::Query::OP_AND, words.begin(), words.end());
  if (excluded.empty()) return query;
  // Only excluded words: everything but them, as FLAG_PURE_NOT allows.
  if (words.empty()) query = Xapian::Query(std::string());
  return Xapian::Query(Xapian::Query::OP_AND_NOT, query,
                       Xapian::Query(Xapian::Query::OP_OR, excluded.begin(), excluded.end()));
}

// English words are also indexed and searched by their stem ("licences"
// finds "licence", "publishing" finds "published"); a capitalised query word
// or a quoted phrase still matches exactly. Chinese n-grams are not stemmed.
// A new handle each time: Xapian's handles count references without atomics,
// so one shared between request threads would race (as Query::MatchAll did).
Xapian::Stem EnglishStemmer() { return Xapian::Stem("english"); }

// With STOP_STEMMED (the term generator's default), a term its stopper
// names is indexed as it is, positions and all, but gets no "Z" stem. This
// one names the CJK n-grams: the parser never stems them (a CJK query is an
// AND of n-grams), so their stems could never be searched, and were half of
// a Chinese page's terms.
class CjkStemsLeftOut final : public Xapian::Stopper {
 public:
  bool operator()(const std::string& term) const override {
    return !term.empty() && IsCjkNgramCodePoint(*Xapian::Utf8Iterator(term));
  }
};

std::string Utf8Prefix(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

// A filter term: prefix + value, cut (on a character boundary) to what
// Xapian can store. A longer term makes replace_document throw, and the
// document could not be indexed at all: a file named "x." + 250 letters has
// a type that long, a sidecar may hold any category. Queries cut the same way.
std::string FilterTerm(const char* prefix, const std::string& value) {
  constexpr size_t kMaxTermBytes = 240;  // Xapian's limit is 245
  const std::string p(prefix);
  return p + Utf8Prefix(value, kMaxTermBytes - p.size());
}

// A hub mirror's node: names are 1-64 letters, digits, '-', '_' or '.'.
std::string OriginTerm(const std::string& origin) { return "XN" + origin; }

// The unique term of an entry: Q<id> or P<id> for a document, for an
// archive member XM<Q|P><id>!<64-bit FNV-1a of its path> (a path may be
// longer than a term may be).
std::string EntryTerm(const IndexDoc& d) {
  const std::string view = d.for_inspectors ? "Q" : "P";
  if (d.member.empty()) return view + d.id;
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : d.member) h = (h ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return "XM" + view + d.id + "!" + hex;
}

template <typename F>
auto Guard(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Xapian::Error& e) {
    return Status::IOError(std::string("index ") + what + ": " + e.get_description());
  } catch (const Poco::Exception& e) {
    return Status::Corruption(std::string("index ") + what + ": " + e.displayText());
  } catch (const std::exception& e) {
    return Status::IOError(std::string("index ") + what + ": " + e.what());
  }
}

// A commit by the writer can invalidate blocks a reader is using
// (DatabaseModifiedError): reopen `db` at the newest revision and read again.
// While the writer commits often (a burst of files), one read can lose the
// race a few times in a row.
constexpr int kModifiedRetries = 20;

template <typename F>
auto Reading(Xapian::Database& db, F&& f) -> decltype(f()) {
  for (int attempt = 0;; ++attempt) {
    try {
      return f();
    } catch (const Xapian::DatabaseModifiedError&) {
      if (attempt >= kModifiedRetries) throw;
      db.reopen();
    }
  }
}

size_t Utf8Len(unsigned char c) {
  return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

bool IsSingleCjk(const std::string& t) {
  return (t.size() == 3 || t.size() == 4) &&
         Utf8Len(static_cast<unsigned char>(t[0])) == t.size() &&
         static_cast<unsigned char>(t[0]) >= 0xE2;
}

// Xapian highlights only what it matched: not a phrase's characters where
// the phrase is not in the snippet, and, on a snippet cut from the original
// text, not a Traditional character queried in Simplified (環 for 环).
// Folding is per character, so the folded snippet lines up with the
// original one code point by code point: mark every unmarked character
// whose folded form is a single-character query term.
std::string HighlightFolded(const std::string& snippet, const std::set<std::string>& query_chars) {
  if (query_chars.empty()) return snippet;
  const std::string folded = FoldScript(snippet);
  std::string out;
  out.reserve(snippet.size() + 64);
  size_t i = 0, j = 0;
  bool in_mark = false, open = false;
  while (i < snippet.size() && j < folded.size()) {
    if (snippet.compare(i, 3, "<b>") == 0 || snippet.compare(i, 4, "</b>") == 0) {
      if (open) out += "</b>", open = false;
      const size_t n = snippet[i + 1] == '/' ? 4 : 3;
      in_mark = n == 3;
      out.append(snippet, i, n);
      i += n;
      j += n;
      continue;
    }
    const size_t a = Utf8Len(static_cast<unsigned char>(snippet[i]));
    const size_t b = Utf8Len(static_cast<unsigned char>(folded[j]));
    const bool mark = !in_mark && query_chars.count(folded.substr(j, b)) > 0;
    if (mark && !open) out += "<b>", open = true;
    if (!mark && open) out += "</b>", open = false;
    out.append(snippet, i, a);
    i += a;
    j += b;
  }
  if (open) out += "</b>";
  if (i < snippet.size() || j < folded.size()) return snippet;  // did not line up: keep Xapian's
  return out;
}

// Writes `cut`, a snippet Xapian cut from `folded` (FoldScript of
// `original`), in `original`'s own script. Folding maps code point to code
// point and Xapian's snippet is a span of its input with "<b>"/"</b>"
// around matches, "…" at a cut end and & < > escaped, so the span is found
// in `folded` and the same code points are taken from `original`. nullopt if
// they do not line up (the caller then snippets the original text).
std::optional<std::string> InOriginalScript(const std::string& cut, const std::string& folded,
                                            const std::string& original) {
  static const std::string kEllipsis = "…";
  struct Piece {
    std::string
        literal;  // as written in `cut`: markup, an ellipsis Xapian added, or a character (escaped)
    std::string plain;  // the character of the span it stands for; "" for markup and ellipses
  };
  std::vector<Piece> pieces;
  std::string span;  // the span's characters, unescaped: what `folded` contains
  size_t i = 0, end = cut.size();
  if (cut.compare(0, kEllipsis.size(), kEllipsis) == 0) {
    pieces.push_back({kEllipsis});
    i = kEllipsis.size();
  }
  const bool trailing = end >= i + kEllipsis.size() &&
                        cut.compare(end - kEllipsis.size(), kEllipsis.size(), kEllipsis) == 0;
  if (trailing) end -= kEllipsis.size();
  while (i < end) {
    if (cut[i] == '<') {
      const size_t close = cut.find('>', i);
      if (close == std::string::npos || close >= end) return std::nullopt;
      pieces.push_back({cut.substr(i, close + 1 - i)});
      i = close + 1;
    } else if (cut[i] == '&') {
      static const std::pair<const char*, char> kEntities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}};
      bool known = false;
      for (const auto& [entity, c] : kEntities) {
        if (cut.compare(i, std::strlen(entity), entity) != 0) continue;
        pieces.push_back({entity, std::string(1, c)});
        span += c;
        i += std::strlen(entity);
        known = true;
        break;
      }
      if (!known) return std::nullopt;
    } else {
      const size_t n = std::min(Utf8Len(static_cast<unsigned char>(cut[i])), end - i);
      pieces.push_back({cut.substr(i, n), cut.substr(i, n)});
      span.append(cut, i, n);
      i += n;
    }
  }
  if (trailing) pieces.push_back({kEllipsis});
  const size_t at = folded.find(span);
  if (span.empty() || at == std::string::npos) return std::nullopt;
  // Walk both texts to the span's first code point.
  size_t f = 0, o = 0;
  while (f < at && o < original.size()) {
    f += Utf8Len(static_cast<unsigned char>(folded[f]));
    o += Utf8Len(static_cast<unsigned char>(original[o]));
  }
  if (f != at) return std::nullopt;
  std::string out;
  out.reserve(cut.size() + 16);
  for (const Piece& p : pieces) {
    if (p.plain.empty()) {
      out += p.literal;
      continue;
    }
    if (o >= original.size()) return std::nullopt;
    const size_t n = Utf8Len(static_cast<unsigned char>(original[o]));
    if (static_cast<unsigned char>(p.plain[0]) < 0x80) {
      // ASCII is not folded: it must be the very same character.
      if (original[o] != p.plain[0]) return std::nullopt;
      out += p.literal;
    } else {
      out.append(original, o, n);
    }
    o += n;
  }
  if (!IsValidUtf8(out)) return std::nullopt;  // text that was not UTF-8 (folding repaired it)
  return out;
}

// The bytes of the first `chars` code points of `s`.
size_t PrefixBytes(const std::string& s, size_t chars) {
  size_t end = 0;
  for (; chars > 0 && end < s.size(); --chars) end += Utf8Len(static_cast<unsigned char>(s[end]));
  return std::min(end, s.size());
}

// Suggestion terms (index.h): `prefix` + each prefix of 1 to
// kSuggestPrefixChars code points of `normalized`, at most 3 + 16 * 4 bytes.
void AddSuggestTerms(Xapian::Document& doc, const char* prefix, const std::string& normalized) {
  for (size_t chars = 1, end = 0; chars <= kSuggestPrefixChars && end < normalized.size();
       ++chars) {
    end = PrefixBytes(normalized, chars);
    doc.add_boolean_term(prefix + normalized.substr(0, end));
  }
}

// Entries Suggest() looks at for one prefix, newest first.
constexpr Xapian::doccount kSuggestExamined = 256;

}  // namespace

const char* ToString(SuggestionKind kind) {
  return kind == SuggestionKind::kDocNumber ? "doc_number" : "title";
}

// ------------------------------------------------------------------ writer

IndexWriter::~IndexWriter() {
  if (db_) {
    try {
      db_->close();  // commits what is pending outside a transaction, with the old watermark
    } catch (const Xapian::Error&) {
    }
  }
}

Result<std::unique_ptr<IndexWriter>> IndexWriter::Open(const std::string& dir) {
  return Guard("open", [&]() -> Result<std::unique_ptr<IndexWriter>> {
    std::unique_ptr<IndexWriter> w(new IndexWriter);
    w->db_ = std::make_unique<Xapian::WritableDatabase>(dir, Xapian::DB_CREATE_OR_OPEN);
    if (w->db_->get_metadata(kSchemaKey) != kSchema) {
      // An index of another layout is thrown away whole (deleting its
      // documents one by one takes minutes) and rebuilt by replay.
      const bool had_documents = w->db_->get_doccount() > 0;
      w->db_->close();
      w->db_.reset();
      if (had_documents) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        if (ec)
          return Status::IOError("index: cannot remove the old index " + dir + ": " + ec.message());
      }
      w->db_ = std::make_unique<Xapian::WritableDatabase>(dir, Xapian::DB_CREATE_OR_OPEN);
      w->db_->set_metadata(kWatermarkKey, "");
      w->db_->set_metadata(kSchemaKey, kSchema);
      w->db_->commit();
    }
    std::string mark = w->db_->get_metadata(kWatermarkKey);
    w->watermark_ = mark.empty() ? -1 : std::stoll(mark);
    return w;
  });
}

PreparedDoc::PreparedDoc() = default;
PreparedDoc::PreparedDoc(PreparedDoc&&) noexcept = default;
PreparedDoc& PreparedDoc::operator=(PreparedDoc&&) noexcept = default;
PreparedDoc::~PreparedDoc() = default;

bool IsCjkNgramCodePoint(unsigned c) {
  // Blocks that every Xapian 1.4 release splits into n-grams (its
  // CJK::codepoint_is_cjk); later releases add more, which only means that
  // their stems are kept.
  return (c >= 0x2E80 && c <= 0x2EFF) || (c >= 0x3000 && c <= 0x9FFF) ||
         (c >= 0xA700 && c <= 0xA71F) || (c >= 0xAC00 && c <= 0xD7AF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
         (c >= 0xFF00 && c <= 0xFFEF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2F800 && c <= 0x2FA1F);
}

Result<PreparedDoc> Prepare(const IndexDoc& d) {
  return Guard("prepare", [&]() -> Result<PreparedDoc> {
    PreparedDoc prepared;
    prepared.doc_ = std::make_unique<Xapian::Document>();
    Xapian::Document& doc = *prepared.doc_;
    Xapian::TermGenerator tg;
    tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    tg.set_stemmer(EnglishStemmer());  // STEM_SOME: "Z" stems beside the exact words
    const CjkStemsLeftOut cjk;
    tg.set_stopper(&cjk);
    tg.set_stopper_strategy(Xapian::TermGenerator::STOP_STEMMED);
    tg.set_document(doc);
    const std::string title = FoldScript(d.title);
    tg.index_text(title, 5);
    tg.index_text(title, 1, "S");
    tg.increase_termpos();
    tg.index_text(FoldScript(d.path), 1);
    tg.increase_termpos();
    tg.index_text(FoldScript(d.metadata_text), 3);
    tg.increase_termpos();
    tg.index_text(FoldScript(Utf8Prefix(d.text, kIndexTextMax)));
    const std::string id_term = EntryTerm(d);
    doc.add_boolean_term(id_term);
    doc.add_boolean_term(FilterTerm("XS", d.share));
    doc.add_boolean_term(FilterTerm("XO", d.office));
    doc.add_boolean_term(FilterTerm("XT", d.type));
    doc.add_boolean_term(FilterTerm("XST", d.status));
    if (!d.category.empty()) {
      doc.add_boolean_term(FilterTerm("XC", d.category));
      doc.add_value(kCategory, d.category);
    }
    doc.add_value(kDate, (d.published.empty() ? d.modified : d.published).substr(0, 10));
    if (!d.origin.empty()) doc.add_boolean_term(OriginTerm(d.origin));
    if (d.for_inspectors) doc.add_boolean_term("XINSP");
    if (d.for_public) doc.add_boolean_term("XANON");
    if (!d.member.empty()) {  // an archive member: see index.h
      doc.add_boolean_term("XG" + d.id);
      if (!d.for_inspectors) doc.add_boolean_term("XGP" + d.id);
      doc.add_boolean_term("XMEMBER");
      if (d.for_inspectors) doc.add_boolean_term("XMINSP");
      if (d.for_public) doc.add_boolean_term("XMANON");
    } else {
      AddSuggestTerms(doc, "XPT", NormalizeForSuggest(d.title));
      AddSuggestTerms(doc, "XPN", NormalizeForSuggest(d.doc_number));
    }
    doc.add_value(kModified, d.modified + '\0' + id_term);
    doc.add_value(kSnippetText, Utf8Prefix(d.text, kSnippetTextMax));
    doc.add_value(kShare, d.share);
    doc.add_value(kType, d.type);
    doc.add_value(kOffice, d.office);
    doc.set_data(EncodeData(d));
    prepared.doc_id_ = d.id;
    prepared.id_term_ = id_term;
    return prepared;
  });
}

Status IndexWriter::Replace(const IndexDoc& d) {
  auto prepared = Prepare(d);
  return prepared.ok() ? Replace(std::move(*prepared)) : prepared.status();
}

Status IndexWriter::Replace(PreparedDoc d) {
  return Guard("replace", [&]() -> Status {
    db_->replace_document(d.id_term_, *d.doc_);
    return Status::OK();
  });
}

Status IndexWriter::Remove(const std::string& id) {
  return Guard("remove", [&]() -> Status {
    db_->delete_document("Q" + id);
    db_->delete_document("P" + id);
    db_->delete_document("XG" + id);
    return Status::OK();
  });
}

Status IndexWriter::RemovePublicEntry(const std::string& id) {
  return Guard("remove", [&]() -> Status {
    db_->delete_document("P" + id);
    db_->delete_document("XGP" + id);
    return Status::OK();
  });
}

Status IndexWriter::RemoveSecondaryEntries(const std::string& id) {
  return Guard("remove", [&]() -> Status {
    db_->delete_document("P" + id);
    db_->delete_document("XG" + id);
    return Status::OK();
  });
}

Status IndexWriter::RemoveOrigin(const std::string& origin) {
  return Guard("remove", [&]() -> Status {
    db_->delete_document(OriginTerm(origin));
    return Status::OK();
  });
}

uint64_t IndexWriter::OriginCount(const std::string& origin) const {
  return db_->get_termfreq(OriginTerm(origin));
}

Status IndexWriter::Begin() {
  return Guard("begin", [&]() -> Status {
    if (!begun_) db_->begin_transaction(false);  // committed by Commit()
    begun_ = true;
    return Status::OK();
  });
}

Status IndexWriter::Cancel() {
  return Guard("cancel", [&]() -> Status {
    if (begun_) db_->cancel_transaction();
    begun_ = false;
    return Status::OK();
  });
}

Status IndexWriter::Commit(int64_t watermark) {
  return Guard("commit", [&]() -> Status {
    db_->set_metadata(kWatermarkKey, std::to_string(watermark));
    if (begun_) db_->commit_transaction();
    begun_ = false;
    db_->commit();
    watermark_ = watermark;
    return Status::OK();
  });
}

Status IndexWriter::SetMetadata(const std::string& key, const std::string& value) {
  if (key.rfind("gongkai.", 0) == 0)
    return Status::Invalid("index metadata key " + key + " is reserved");
  return Guard("metadata", [&]() -> Status {
    db_->set_metadata(key, value);
    return Status::OK();
  });
}

Result<std::string> IndexWriter::Metadata(const std::string& key) const {
  return Guard("metadata", [&]() -> Result<std::string> { return db_->get_metadata(key); });
}

uint64_t IndexWriter::doc_count() const {
  return db_->get_termfreq("XINSP") - db_->get_termfreq("XMINSP");
}

// ------------------------------------------------------------------ searcher

struct Searcher::Handle {
  Xapian::Database db;
  uint64_t generation = 0;
  bool opened = false;
};

namespace {

Xapian::Database OpenRemote(const RemoteDatabase& r) {
  return Xapian::Remote::open(r.host, r.port, static_cast<useconds_t>(r.timeout.count()),
                              static_cast<useconds_t>(r.connect_timeout.count()));
}

}  // namespace

Result<uint64_t> ProbeRemote(const RemoteDatabase& remote) {
  return Guard("probe", [&]() -> Result<uint64_t> {
    Xapian::Database db = OpenRemote(remote);
    return uint64_t{db.get_doccount()};
  });
}

Searcher::Searcher(std::string dir) : dirs_{std::move(dir)} {}
Searcher::Searcher(std::vector<std::string> dirs, std::vector<RemoteDatabase> remotes)
    : dirs_(std::move(dirs)), remotes_(std::move(remotes)) {}
Searcher::~Searcher() = default;

std::unique_ptr<Searcher::Handle> Searcher::Acquire() {
  std::unique_ptr<Handle> h;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!pool_.empty()) {
      h = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (!h) h = std::make_unique<Handle>();
  const uint64_t gen = generation_.load();
  if (!h->opened) {
    for (const std::string& dir : dirs_) h->db.add_database(Xapian::Database(dir));
    for (const RemoteDatabase& r : remotes_) h->db.add_database(OpenRemote(r));
    h->opened = true;
    h->generation = gen;
  } else if (h->generation != gen) {
    h->db.reopen();
    h->generation = gen;
  }
  return h;
}

void Searcher::Release(std::unique_ptr<Handle> h) {
  if (!remotes_.empty()) return;  // see the class comment
  std::lock_guard<std::mutex> lock(mutex_);
  if (pool_.size() < 64) pool_.push_back(std::move(h));
}

Result<uint64_t> Searcher::DocCount() {
  return Guard("count", [&]() -> Result<uint64_t> {
    auto h = Acquire();
    uint64_t n =
        Reading(h->db, [&] { return h->db.get_termfreq("XINSP") - h->db.get_termfreq("XMINSP"); });
    Release(std::move(h));
    return n;
  });
}

Result<uint64_t> Searcher::PublicCount() {
  return Guard("count", [&]() -> Result<uint64_t> {
    auto h = Acquire();
    uint64_t n =
        Reading(h->db, [&] { return h->db.get_termfreq("XANON") - h->db.get_termfreq("XMANON"); });
    Release(std::move(h));
    return n;
  });
}

Result<int64_t> Searcher::Watermark() {
  return Guard("watermark", [&]() -> Result<int64_t> {
    // A sharded index's is the least of its shards' (sharded_index.h).
    std::vector<std::string> shards = ShardDirs(dirs_.front());
    if (shards.empty()) shards.push_back(dirs_.front());
    int64_t least = std::numeric_limits<int64_t>::max();
    for (const std::string& dir : shards) {
      const std::string mark = Xapian::Database(dir).get_metadata(kWatermarkKey);
      least = std::min<int64_t>(least, mark.empty() ? -1 : std::stoll(mark));
    }
    return least;
  });
}

Result<std::vector<std::string>> Searcher::MemberProblems() {
  return Guard("members", [&]() -> Result<std::vector<std::string>> {
    auto h = Acquire();
    Xapian::Database& db = h->db;
    std::vector<std::string> problems = Reading(db, [&] {
      std::vector<std::string> out;
      for (auto p = db.postlist_begin("XMEMBER"); p != db.postlist_end("XMEMBER"); ++p) {
        const IndexDoc m = DecodeData(db.get_document(*p).get_data());
        const std::string term = (m.for_inspectors ? "Q" : "P") + m.id;
        const Xapian::PostingIterator a = db.postlist_begin(term);
        std::string why;
        if (a == db.postlist_end(term)) {
          why = "its archive's entry is missing";
        } else {
          const IndexDoc archive = DecodeData(db.get_document(*a).get_data());
          if (archive.version != m.version)
            why = "version " + std::to_string(m.version) + ", its archive's " +
                  std::to_string(archive.version);
          else if (archive.status != m.status)
            why = "status " + m.status + ", its archive's " + archive.status;
          else if (archive.for_public != m.for_public || archive.for_inspectors != m.for_inspectors)
            why = "visible to other users than its archive";
        }
        if (!why.empty()) out.push_back(m.path + " (document " + m.id + "): " + why);
      }
      return out;
    });
    Release(std::move(h));
    return problems;
  });
}

Result<IndexDoc> Searcher::Get(const std::string& id, bool public_view) {
  return Guard("get", [&]() -> Result<IndexDoc> {
    auto h = Acquire();
    std::optional<IndexDoc> found = Reading(h->db, [&]() -> std::optional<IndexDoc> {
      for (const char* prefix : {"P", "Q"}) {
        if (!public_view && prefix[0] == 'P') continue;
        const std::string term = prefix + id;
        Xapian::PostingIterator p = h->db.postlist_begin(term);
        if (p == h->db.postlist_end(term)) continue;
        IndexDoc d = DecodeData(h->db.get_document(*p).get_data());
        if (public_view ? d.for_public : d.for_inspectors) return d;
      }
      return std::nullopt;
    });
    Release(std::move(h));
    if (!found) return Status::NotFound("document " + id + " not in the index");
    return *found;
  });
}

namespace {

constexpr unsigned kQueryFlags = Xapian::QueryParser::FLAG_DEFAULT |
                                 Xapian::QueryParser::FLAG_CJK_NGRAM |
                                 Xapian::QueryParser::FLAG_PURE_NOT;

Xapian::QueryParser Parser(const Xapian::Database& db) {
  Xapian::QueryParser qp;
  qp.set_database(db);
  qp.set_default_op(Xapian::Query::OP_AND);
  qp.add_prefix("title", "S");
  qp.set_stemmer(EnglishStemmer());
  qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  return qp;
}

// `query` AND_MAYBE `boost`: the matches of `query`, those also matching
// `boost` first.
Xapian::Query Boosted(const Xapian::Query& query, const Xapian::Query& boost) {
  return Xapian::Query(Xapian::Query::OP_AND_MAYBE, query, boost);
}

// `phrase` as AND when `query` is an AND that holds, as one of its own terms,
// the two terms of `phrase` joined: a two-character CJK word, whose bigram is
// indexed only where its characters stand side by side. Then the phrase
// matches every document the query does, and AND weighs it the same without
// reading positions, the dearest part of a search (docs/performance.md).
Xapian::Query WithoutNeedlessPositions(const Xapian::Query& phrase, const Xapian::Query& query) {
  if (phrase.get_type() != Xapian::Query::OP_PHRASE || phrase.get_num_subqueries() != 2 ||
      query.get_type() != Xapian::Query::OP_AND)
    return phrase;
  const Xapian::Query a = phrase.get_subquery(0), b = phrase.get_subquery(1);
  if (a.get_type() != Xapian::Query::LEAF_TERM || b.get_type() != Xapian::Query::LEAF_TERM)
    return phrase;
  const std::string joined = *a.get_terms_begin() + *b.get_terms_begin();
  for (size_t i = 0; i < query.get_num_subqueries(); ++i) {
    const Xapian::Query term = query.get_subquery(i);
    if (term.get_type() == Xapian::Query::LEAF_TERM && *term.get_terms_begin() == joined)
      return Xapian::Query(Xapian::Query::OP_AND, a, b);
  }
  return phrase;
}

// The query as written (`folded`: FoldScript and QuoteDocumentNumbers of it).
// Xapian ranks without proximity: unquoted 第三十五條第三項 matches every law
// that has the characters somewhere. Documents holding the words as typed,
// in that order, come first; the matches stay the same.
Xapian::Query StrictQuery(Xapian::QueryParser& qp, const std::string& folded) {
  Xapian::Query query = ParseLeniently(qp, folded, kQueryFlags);
  if (folded.find('"') == std::string::npos && query.get_length() > 1)
    query = Boosted(query, WithoutNeedlessPositions(
                               ParseLeniently(qp, '"' + folded + '"', kQueryFlags), query));
  return query;
}

// `query` restricted to the entries the caller may see and asked for.
Xapian::Query Filtered(const Xapian::Query& query, const SearchQuery& sq, bool listing) {
  std::vector<Xapian::Query> filters;
  filters.emplace_back(sq.anonymous ? "XANON" : "XINSP");
  if (sq.status) filters.emplace_back(FilterTerm("XST", ToString(*sq.status)));
  if (!sq.share.empty()) filters.emplace_back(FilterTerm("XS", sq.share));
  if (!sq.office.empty()) filters.emplace_back(FilterTerm("XO", sq.office));
  if (!sq.type.empty()) filters.emplace_back(FilterTerm("XT", sq.type));
  if (!sq.category.empty()) filters.emplace_back(FilterTerm("XC", sq.category));
  if (!sq.from.empty() || !sq.to.empty())
    filters.emplace_back(Xapian::Query::OP_VALUE_RANGE, kDate,
                         sq.from.empty() ? "0000-00-00" : sq.from,
                         sq.to.empty() ? "9999-99-99" : sq.to);
  Xapian::Query out(Xapian::Query::OP_FILTER, query,
                    Xapian::Query(Xapian::Query::OP_AND, filters.begin(), filters.end()));
  // A listing lists documents; archive members are found by what they say.
  if (listing) out = Xapian::Query(Xapian::Query::OP_AND_NOT, out, Xapian::Query("XMEMBER"));
  return out;
}

// Single CJK characters among a query's (folded) terms: HighlightFolded's.
std::set<std::string> QueryChars(const Xapian::Query& query) {
  std::set<std::string> out;
  for (auto t = query.get_unique_terms_begin(); t != query.get_unique_terms_end(); ++t)
    if (IsSingleCjk(*t)) out.insert(*t);
  return out;
}

// The snippet of a hit of `mset` (which marks its query's terms).
std::string Snippet(const Xapian::MSet& mset, const Xapian::Document& doc, bool listing,
                    const std::set<std::string>& query_chars) {
  const std::string text = doc.get_value(kSnippetText);
  if (listing) return Utf8Prefix(text, 300);
  // Cut from the folded text, where the (folded) query terms match in
  // either script: on the original text of a Traditional document Xapian
  // found none, scanned all 16 KiB for them (a phrase: half a millisecond a
  // hit) and gave the text's start.
  const std::string folded = FoldScript(text);
  auto snippet = InOriginalScript(mset.snippet(folded, 200, EnglishStemmer(),
                                               Xapian::MSet::SNIPPET_CJK_NGRAM, "<b>", "</b>", "…"),
                                  folded, text);
  if (!snippet)
    snippet = mset.snippet(text, 200, EnglishStemmer(), Xapian::MSet::SNIPPET_CJK_NGRAM, "<b>",
                           "</b>", "…");
  return HighlightFolded(*snippet, query_chars);
}

const std::pair<const char*, Xapian::valueno> kFacets[] = {
    {"share", kShare}, {"type", kType}, {"office", kOffice}, {"category", kCategory}};

bool IsCjkBigram(const std::string& term) {
  return term.size() == 6 && IsSingleCjk(term.substr(0, 3)) && IsSingleCjk(term.substr(3));
}

// What the relaxed search (SearchQuery::relax) looks for: each word's
// character pairs (CJK bigrams), or, for a word without any (one Chinese
// character, a Latin word, a number), its own terms. Distinct, in order.
std::vector<std::string> RelaxedTerms(Xapian::QueryParser& qp,
                                      const std::vector<std::string>& folded_words) {
  std::vector<std::string> out;
  for (const std::string& word : folded_words) {
    std::vector<std::string> all, pairs;
    try {
      const Xapian::Query q = qp.parse_query(word, Xapian::QueryParser::FLAG_CJK_NGRAM);
      for (auto t = q.get_unique_terms_begin(); t != q.get_unique_terms_end(); ++t) {
        all.push_back(*t);
        if (IsCjkBigram(*t)) pairs.push_back(*t);
      }
    } catch (const Xapian::QueryParserError&) {
      continue;
    }
    for (const std::string& t : pairs.empty() ? all : pairs)
      if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}

// Orders hits by `sort`: newest or oldest by date, else by relevance, and
// equally relevant hits newest first. kModified holds no two values alike,
// so hits are never left in the order of Xapian's document ids, which
// depends on the shard count: one shard or N give the same pages. (Not a
// KeyMaker: the remote backend, which a front hub searches, cannot sort by
// one.)
void Order(Xapian::Enquire& enquire, const std::string& sort) {
  if (sort == "newest" || sort == "oldest")
    enquire.set_sort_by_value_then_relevance(kModified, /*reverse=*/sort == "newest");
  else
    enquire.set_sort_by_relevance_then_value(kModified, /*reverse=*/true);
}

// One step of a relaxed search: its own Enquire, so that its hits' snippets
// mark its own query's terms.
struct Step {
  Step(const Xapian::Database& db, const Xapian::Query& q) : enquire(db), chars(QueryChars(q)) {
    Order(enquire, "relevance");
    enquire.set_query(q);
    mset = enquire.get_mset(0, kRelaxedMax);
  }
  Xapian::Enquire enquire;
  Xapian::MSet mset;
  std::set<std::string> chars;
};

// SearchQuery::relax, for a query whose strict form is `strict`.
SearchResult Relaxed(const Xapian::Database& db, Xapian::QueryParser& qp, const SearchQuery& sq,
                     const Xapian::Query& strict, const QuestionWords& question) {
  SearchResult out;
  out.relaxed = true;
  out.dropped = question.dropped;
  std::vector<std::string> words;  // folded
  for (const std::string& w : question.words) words.push_back(FoldScript(w));

  std::deque<Step> steps;  // stable addresses
  struct Found {
    Xapian::Document doc;
    const Step* step;
  };
  std::vector<Found> found;
  std::set<Xapian::docid> seen;
  auto take = [&](const Step& step, const std::function<bool(const Xapian::MSetIterator&)>& keep) {
    for (auto it = step.mset.begin(); it != step.mset.end(); ++it)
      if (static_cast<int64_t>(found.size()) < kRelaxedMax && keep(it) && seen.insert(*it).second)
        found.push_back({it.get_document(), &step});
  };
  const auto all = [](const Xapian::MSetIterator&) { return true; };

  // The strict matches, first and in their order.
  out.strict_total = steps.emplace_back(db, Filtered(strict, sq, false)).mset.size();
  take(steps.back(), all);
  // 1. All the words, without the question and function words; documents
  // holding a word of two characters or more as typed (a phrase) first.
  if (!words.empty() && !question.dropped.empty()) {
    std::string joined;
    std::vector<Xapian::Query> phrases;
    for (const std::string& w : words) {
      joined += (joined.empty() ? "" : " ") + w;
      if (w.size() > 3) phrases.push_back(ParseLeniently(qp, '"' + w + '"', kQueryFlags));
    }
    Xapian::Query query = ParseLeniently(qp, joined, kQueryFlags);
    if (!phrases.empty())
      query = Boosted(query, Xapian::Query(Xapian::Query::OP_OR, phrases.begin(), phrases.end()));
    take(steps.emplace_back(db, Filtered(query, sq, false)), all);
  }
  // 2. At least half of the words' pairs (or words), ranked by how rare what
  // matched is and how often (BM25; titles are indexed with extra weight). A
  // phrase bonus here, as in step 1, read positions for every candidate and
  // tripled the step's time for no measured gain (bench/README.md).
  if (static_cast<int64_t>(found.size()) < kRelaxBelow) {
    const std::vector<std::string> terms = RelaxedTerms(qp, words);
    if (!terms.empty()) {
      const Step& step = steps.emplace_back(
          db, Filtered(Xapian::Query(Xapian::Query::OP_OR, terms.begin(), terms.end()), sq, false));
      // Which terms each hit holds: from the terms' posting lists, walked
      // once over the hits in docid order (a hit's own term list can hold
      // tens of thousands of terms).
      std::vector<Xapian::docid> ids;
      for (auto it = step.mset.begin(); it != step.mset.end(); ++it) ids.push_back(*it);
      std::sort(ids.begin(), ids.end());
      std::map<Xapian::docid, size_t> matched;
      for (const std::string& t : terms) {
        std::set<Xapian::docid> holders;
        Xapian::PostingIterator p = db.postlist_begin(t);
        for (Xapian::docid id : ids) {
          p.skip_to(id);
          if (p == db.postlist_end(t)) break;
          if (*p == id) holders.insert(id);
        }
        for (Xapian::docid id : holders) ++matched[id];
      }
      take(step, [&](const Xapian::MSetIterator& it) { return 2 * matched[*it] >= terms.size(); });
      out.optional = question.words;
    }
  }

  const std::string sort = sq.sort.empty() ? "relevance" : sq.sort;
  if (sort != "relevance")
    std::stable_sort(found.begin(), found.end(), [&](const Found& a, const Found& b) {
      const std::string x = a.doc.get_value(kModified), y = b.doc.get_value(kModified);
      return sort == "newest" ? x > y : x < y;
    });
  out.total = static_cast<int64_t>(found.size());
  for (const Found& f : found)
    for (const auto& [name, slot] : kFacets)
      if (std::string v = f.doc.get_value(slot); !v.empty()) ++out.facets[name][v];
  for (int64_t i = sq.offset; i < out.total && i < int64_t{sq.offset} + sq.limit; ++i) {
    const Found& f = found[static_cast<size_t>(i)];
    SearchHit hit;
    hit.doc = DecodeData(f.doc.get_data());
    hit.snippet = Snippet(f.step->mset, f.doc, false, f.step->chars);
    out.hits.push_back(std::move(hit));
  }
  return out;
}

}  // namespace

Result<SearchResult> Searcher::Search(const SearchQuery& sq) {
  return Guard("search", [&]() -> Result<SearchResult> {
    const Turns::Held turn(search_turns_);
    std::unique_ptr<Handle> h = Acquire();
    Xapian::Database& db = h->db;
    Result<SearchResult> result = Reading(db, [&]() -> Result<SearchResult> {
      // Not Xapian::Query::MatchAll: copying that shared static bumps a
      // non-atomic reference count from every request thread at once
      // (ThreadSanitizer). An empty term is the same query, owned here.
      Xapian::Query query{std::string()};
      const bool listing = sq.q.find_first_not_of(" \t\r\n") == std::string::npos;
      Xapian::QueryParser qp = Parser(db);
      if (!listing) {
        query = StrictQuery(qp, QuoteDocumentNumbers(FoldScript(sq.q)));
        if (query.get_length() > 4096) return Status::Invalid("query has too many terms");
      }
      Xapian::Enquire enquire(db);
      enquire.set_query(Filtered(query, sq, listing));
      Order(enquire, sq.sort.empty() ? (listing ? "newest" : "relevance") : sq.sort);
      std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> spies;
      for (const auto& [name, slot] : kFacets) {
        spies.push_back(std::make_unique<Xapian::ValueCountMatchSpy>(slot));
        enquire.add_matchspy(spies.back().get());
      }
      Xapian::MSet mset = enquire.get_mset(static_cast<Xapian::doccount>(sq.offset),
                                           static_cast<Xapian::doccount>(sq.limit),
                                           // Exact totals and facets for listings (docs/api.md's
                                           // "empty q"); for a query, counted over the first 2,000
                                           // matches and estimated beyond.
                                           listing ? db.get_doccount() : 2000);
      SearchResult out;
      out.total = mset.get_matches_estimated();
      out.strict_total = out.total;
      if (!listing && sq.relax && out.total < kRelaxBelow)
        if (const auto question = SplitQuestion(sq.q)) return Relaxed(db, qp, sq, query, *question);
      for (size_t i = 0; i < spies.size(); ++i) {
        auto& facet = out.facets[kFacets[i].first];
        for (auto it = spies[i]->values_begin(); it != spies[i]->values_end(); ++it)
          facet[*it] = it.get_termfreq();
      }
      const std::set<std::string> query_chars = QueryChars(query);
      for (auto it = mset.begin(); it != mset.end(); ++it) {
        const Xapian::Document doc = it.get_document();
        SearchHit hit;
        hit.doc = DecodeData(doc.get_data());
        hit.snippet = Snippet(mset, doc, listing, query_chars);
        hit.weight = it.get_weight();
        out.hits.push_back(std::move(hit));
      }
      return out;
    });
    Release(std::move(h));
    return result;
  });
}

Result<std::vector<Suggestion>> Searcher::Suggest(const SuggestQuery& sq) {
  const std::string typed = NormalizeForSuggest(sq.prefix);
  if (typed.empty()) return std::vector<Suggestion>{};
  const size_t limit = static_cast<size_t>(std::clamp(sq.limit, 1, kMaxSuggestions));
  return Guard("suggest", [&]() -> Result<std::vector<Suggestion>> {
    std::unique_ptr<Handle> h = Acquire();
    Xapian::Database& db = h->db;
    std::vector<Suggestion> found = Reading(db, [&] {
      const std::string indexed = typed.substr(0, PrefixBytes(typed, kSuggestPrefixChars));
      Xapian::Query match(Xapian::Query::OP_OR, Xapian::Query("XPT" + indexed),
                          Xapian::Query("XPN" + indexed));
      std::vector<Xapian::Query> filters;
      filters.emplace_back(sq.anonymous ? "XANON" : "XINSP");
      filters.emplace_back(FilterTerm("XST", ToString(DocumentStatus::kActive)));
      if (!sq.share.empty()) filters.emplace_back(FilterTerm("XS", sq.share));
      Xapian::Query query(Xapian::Query::OP_FILTER, match,
                          Xapian::Query(Xapian::Query::OP_AND, filters.begin(), filters.end()));
      // Members carry no suggestion terms; this keeps it so should one ever.
      query = Xapian::Query(Xapian::Query::OP_AND_NOT, query, Xapian::Query("XMEMBER"));
      Xapian::MultiValueKeyMaker newest;  // outlives `enquire`, which points to it
      newest.add_value(kDate, true);
      newest.add_value(kModified, true);
      Xapian::Enquire enquire(db);
      enquire.set_query(query);
      enquire.set_weighting_scheme(Xapian::BoolWeight());
      enquire.set_sort_by_key(&newest, false);
      const Xapian::MSet mset = enquire.get_mset(0, kSuggestExamined);
      std::vector<Suggestion> out;
      std::set<std::pair<SuggestionKind, std::string>> seen;
      for (auto it = mset.begin(); it != mset.end() && out.size() < limit; ++it) {
        const IndexDoc d = DecodeData(it.get_document().get_data());
        for (const auto& [kind, text] : {std::pair{SuggestionKind::kTitle, &d.title},
                                         std::pair{SuggestionKind::kDocNumber, &d.doc_number}}) {
          // The term holds the first kSuggestPrefixChars; a longer prefix is compared whole.
          if (text->empty() || out.size() >= limit ||
              NormalizeForSuggest(*text).compare(0, typed.size(), typed) != 0 ||
              !seen.emplace(kind, *text).second)
            continue;
          out.push_back({*text, kind, d.id, d.version});
        }
      }
      return out;
    });
    Release(std::move(h));
    return found;
  });
}

}  // namespace gongkai::indexer
