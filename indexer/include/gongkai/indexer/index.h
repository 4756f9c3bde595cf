// The Xapian full-text index of each document's current version.
//
// The index is derived data (invariant 3): it is rebuilt from the catalog and
// blobs by replaying records, and it stores the last catalog seq it applied
// (the watermark) in the same commit as the documents, so after a crash the
// feeder resumes exactly where the durable index ends.
//
// Inspectors search each document's current version (unique term Q<id>,
// filter term XINSP); anonymous users search its latest approved version, if
// it is public (filter term XANON). Usually both are the same version: one
// entry carries both terms. When a newer version is pending review, the
// public view is a second entry (P<id>, XANON only). Anonymous searches only
// ever match XANON entries, so a pending or restricted text cannot match,
// count, facet or snippet for them.
//
// An archive's members (Extracted::members) are entries of their own, one
// per member and view: they carry exactly the XINSP/XANON terms of their
// archive's entry, its id, version and status, the path
// "ARCHIVE_PATH!/member/path" and their own title, type and text; they have
// no Q/P term but XM<Q|P><id>!<hash of the member path>, group terms
// XG<id> (all members of the document) and XGP<id> (those of its separate
// public entry), and XMEMBER plus XMINSP/XMANON so that the document counts
// leave them out. Empty-query listings list documents only.
//
// Terms: Chinese is indexed with FLAG_CJK_NGRAM after Traditional->Simplified
// folding; boolean filter terms: XS<share>, XO<office>, XT<type>, XST<status>,
// XC<category>, XN<origin> (a hub's mirror). A document's entries (not its members) also carry, for
// suggestions, XPT<p> for each prefix p of 1 to kSuggestPrefixChars code
// points of NormalizeForSuggest(title), and XPN<p> the same of doc_number.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gongkai/domain.h"
#include "gongkai/status.h"
#include "gongkai/turns.h"

namespace Xapian {
class WritableDatabase;
class Database;
class Document;
}  // namespace Xapian

namespace gongkai::indexer {

struct IndexDoc {
  std::string id, share, path, office, title, type, sha256, modified, published, status;
  std::string classification;
  std::string category;  // from sidecar metadata, may be empty
  int64_t version = 0;
  int64_t size = 0;
  bool for_inspectors = true;  // the current version: entry Q<id>, term XINSP
  bool for_public = false;  // anonymous users' view: term XANON (entry P<id> if not for_inspectors)
  std::string text;         // extracted UTF-8 text
  std::string metadata_text;  // doc_number, agency, keywords: indexed with extra weight
  std::string doc_number;     // 文号 from the sidecar, "" if none: for suggestions
  std::string text_note;      // why the text is missing or incomplete (Extracted::note)
  // Set on an archive member's entry: its path inside the archive (`path` is
  // then "ARCHIVE_PATH!member"); "" on a document's own entry.
  std::string member;
  // In a hub's mirror, the node the entry came from (term XN<origin>, see
  // IndexWriter::RemoveOrigin); "" in a node's own index.
  std::string origin;
};

// One index entry with its terms generated, ready for IndexWriter::Replace().
// Generating the terms (script folding, CJK n-grams) is most of the cost of
// indexing a text, so it is done by Prepare() on any thread, in parallel,
// while the single writer only stores prepared entries. Movable; an object
// belongs to one thread at a time.
class PreparedDoc {
 public:
  PreparedDoc(PreparedDoc&&) noexcept;
  PreparedDoc& operator=(PreparedDoc&&) noexcept;
  ~PreparedDoc();

 private:
  friend class IndexWriter;
  friend class ShardedWriter;
  friend Result<PreparedDoc> Prepare(const IndexDoc& doc);
  PreparedDoc();
  std::string doc_id_;   // IndexDoc::id
  std::string id_term_;  // Q<id> or P<id>
  std::unique_ptr<Xapian::Document> doc_;
};

// Generates the entry of `doc`. Thread-safe. English words are indexed with
// "Z" stems beside them (Xapian's STEM_SOME); CJK n-grams are not: no query
// can reach such a stem.
Result<PreparedDoc> Prepare(const IndexDoc& doc);

// True for a code point that Xapian's term generator and parser take as CJK
// (indexed and searched as n-grams, never stemmed). Exposed for tests.
bool IsCjkNgramCodePoint(unsigned code_point);

// The single index writer. Not thread-safe: one thread owns it.
class IndexWriter {
 public:
  static Result<std::unique_ptr<IndexWriter>> Open(const std::string& dir);
  ~IndexWriter();

  // Adds or replaces the entry Q<id> (for_inspectors) or P<id> (public only).
  Status Replace(const IndexDoc& doc);
  Status Replace(PreparedDoc doc);
  // Removes both entries of a document, or only a separate public entry P<id>.
  Status Remove(const std::string& id);
  Status RemovePublicEntry(const std::string& id);
  // Removes a separate public entry P<id> and every archive member entry of
  // the document: before its current entries are stored again, so that none
  // it no longer has stays behind.
  Status RemoveSecondaryEntries(const std::string& id);
  // Removes every entry of `origin` (IndexDoc::origin), and counts them.
  Status RemoveOrigin(const std::string& origin);
  uint64_t OriginCount(const std::string& origin) const;
  // Starts holding the changes from here on apart: Cancel() drops them, and
  // Commit() makes them durable (and ends the holding). Without Begin(),
  // changes since the last commit cannot be dropped.
  Status Begin();
  Status Cancel();
  // Makes everything since the last commit durable, with `watermark`.
  Status Commit(int64_t watermark);
  // User metadata stored with the next Commit (keys must not start with
  // "gongkai."), and read back as last set or committed ("" if none).
  Status SetMetadata(const std::string& key, const std::string& value);
  Result<std::string> Metadata(const std::string& key) const;
  int64_t watermark() const { return watermark_; }
  uint64_t doc_count() const;

 private:
  IndexWriter() = default;
  std::unique_ptr<Xapian::WritableDatabase> db_;
  int64_t watermark_ = -1;
  bool begun_ = false;
};

struct SearchQuery {
  std::string q;
  std::string share, office, type, category;
  std::string from, to;  // YYYY-MM-DD, on the published date (else the file's date)
  std::string sort;      // relevance | newest | oldest; "" = relevance with a query, else newest
  std::optional<DocumentStatus> status = DocumentStatus::kActive;  // nullopt: all
  int offset = 0;
  int limit = 20;
  bool anonymous = true;
  // When the query, as written, matches fewer than kRelaxBelow documents and
  // SplitQuestion finds something to relax (not the query language, not a
  // single word alone), the answer is
  // relaxed: those strict matches first, in their order, then documents
  // holding all the words without the question and function words (those
  // holding a word as typed first), then, while fewer than kRelaxBelow,
  // documents holding at least half of the words' character pairs (CJK
  // bigrams) or words, by relevance. At most kRelaxedMax documents in all;
  // totals and facets count them.
  // A query that matches kRelaxBelow or more is answered exactly as without
  // relaxation. false: the strict answer only.
  bool relax = true;
};

// See SearchQuery::relax.
constexpr int64_t kRelaxBelow = 3;
constexpr int64_t kRelaxedMax = 50;

struct SearchHit {
  IndexDoc doc;  // text left empty
  std::string snippet;
  double weight = 0;  // the match's relevance weight (0 in a relaxed answer)
};

struct SearchResult {
  int64_t total = 0;
  // Set when the answer was relaxed (SearchQuery::relax): how many documents
  // the query matched as written, the question and function words dropped,
  // and, when the last step ran, the words made optional (as typed).
  bool relaxed = false;
  int64_t strict_total = 0;
  std::vector<std::string> dropped, optional;
  std::vector<SearchHit> hits;
  std::map<std::string, std::map<std::string, int64_t>>
      facets;  // share/type/office -> value -> count
};

// Suggestions index prefixes of up to this many code points; a longer typed
// prefix is looked up by its first kSuggestPrefixChars and then compared whole.
constexpr size_t kSuggestPrefixChars = 16;
constexpr int kMaxSuggestions = 20;

struct SuggestQuery {
  std::string prefix;  // as typed; compared in NormalizeForSuggest form
  std::string share;   // "" = every share
  int limit = 10;      // clamped to 1..kMaxSuggestions
  bool anonymous = true;
};

enum class SuggestionKind { kTitle, kDocNumber };
const char* ToString(SuggestionKind kind);  // "title", "doc_number"

// A title or document number that starts with the typed prefix, and the
// entry it was found in.
struct Suggestion {
  std::string text;  // as the document has it (its own script and brackets)
  SuggestionKind kind = SuggestionKind::kTitle;
  std::string id;
  int64_t version = 0;
};

// Databases another machine serves with xapian-tcpsrv (Xapian's remote
// backend), as one.
struct RemoteDatabase {
  std::string host;
  uint16_t port = 0;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds timeout{5000};  // each exchange once connected
};

// Connects to `remote` and reads its document count: whether it answers, and
// in time. Never throws.
Result<uint64_t> ProbeRemote(const RemoteDatabase& remote);

// Thread-safe searcher: keeps a pool of read handles and reopens them when
// Invalidate() says the writer committed. Over several databases it searches
// them as one (Xapian's sharded database: global ranking statistics);
// Watermark() is the first one's.
//
// With remote databases, each search connects afresh (a remote database
// changes without Invalidate(), and xapian-tcpsrv drops idle connections),
// and fails with IOError when any of them is down or slower than its timeout:
// the caller decides what to leave out (hub/src/machines.h).
class Searcher {
 public:
  explicit Searcher(std::string dir);
  explicit Searcher(std::vector<std::string> dirs, std::vector<RemoteDatabase> remotes = {});
  ~Searcher();
  Result<SearchResult> Search(const SearchQuery& query);
  // Titles and document numbers of active documents (never archive members)
  // that start with query.prefix: for anonymous callers of XANON entries,
  // else of XINSP entries. Distinct by (kind, text); newest first, by the
  // published date (else the file's) and then the file's time. Looks at the
  // first 256 entries holding the prefix term only, so a long prefix shared
  // by more entries than that may find fewer than `limit`.
  Result<std::vector<Suggestion>> Suggest(const SuggestQuery& query);
  // The entry inspectors (or, with public_view, anonymous users) search for
  // one document, if there is one.
  Result<IndexDoc> Get(const std::string& id, bool public_view = false);
  // Number of indexed documents (inspector views) and of public views, and
  // the catalog seq the index has applied (the first database's; of a
  // sharded index, the least of its shards').
  Result<uint64_t> PublicCount();
  Result<uint64_t> DocCount();
  Result<int64_t> Watermark();
  // Archive member entries that do not match their archive's entry (missing,
  // another version, status or visibility): stale or leaked members, one
  // line each. For `gongkai verify`.
  Result<std::vector<std::string>> MemberProblems();
  void Invalidate() { generation_.fetch_add(1); }
  // At most n Search() calls match at once; the others wait their turn in
  // the order they came (0, the default: no limit). Matching is CPU work:
  // more searches at once than cores only share the cores, so each takes
  // longer, a long one most. Call before the first search.
  void LimitConcurrentSearches(size_t n) { search_turns_.set_limit(n); }

 private:
  struct Handle;
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> h);
  std::vector<std::string> dirs_;
  std::vector<RemoteDatabase> remotes_;
  std::atomic<uint64_t> generation_{0};
  std::mutex mutex_;
  std::vector<std::unique_ptr<Handle>> pool_;
  Turns search_turns_;
};

}  // namespace gongkai::indexer
