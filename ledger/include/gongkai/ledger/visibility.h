// Who sees what: the one rule every reader goes through (HTTP answers,
// listings, the index entries the feeder writes, export).
//
// Inspectors and admins see every document and every version. Anonymous
// callers see a document only if it is public, and of it only its approved
// versions whose bytes no restricted document holds, unless the document was
// classified public after both that restriction began and the version was
// archived (the newer decision stands: an admin may publish a copy
// knowingly). So a copy of restricted bytes never becomes public by the back
// door, even when the original is restricted only after the copy was archived.
// A document a disclosure request's reply names as its letter (requests.h)
// is never anonymous, whatever its classification: it is addressed to one
// applicant.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gongkai/status.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::ledger {

// kHub is a county hub's token at a node (CONTRACT.md section 10): the
// router lets it read the log's entries, the status and the reports as an
// inspector, and everything else only as anonymous (daemon/src/http_router.h).
// It is below kAnonymous so that no `role >= ...` check grants it anything.
enum class Role { kHub = -1, kAnonymous = 0, kInspector = 1, kAdmin = 2 };
const char* ToString(Role role);  // "hub", "anonymous", "inspector", "admin"
// A token's role as the tokens file and `gongkai token add` name it
// (inspector, admin or hub); nullopt for anything else.
std::optional<Role> ParseTokenRole(const std::string& name);

// What the rule needs to know of one document.
struct DocumentState {
  storage::DocumentRow doc;
  std::vector<storage::VersionRow> versions;  // oldest first
  // SHA-256 (hex) of those versions' contents that a restricted document
  // other than this one also holds, with the log index from which it did
  // (Catalog::RestrictedAmong).
  std::map<std::string, int64_t> restricted_elsewhere;
  // A request's reply names it as its letter (filled for public documents).
  bool reply_letter = false;

  const storage::VersionRow* Find(int64_t version) const;
};

// The versions of `state` that `role` may see, oldest first. Empty means the
// document does not exist for `role` (HTTP answers 404).
std::vector<storage::VersionRow> VisibleVersions(Role role, const DocumentState& state);

// The newest version `role` may see: the one a search hit or a document page
// shows. nullopt when the document does not exist for `role`.
std::optional<storage::VersionRow> ShownVersion(Role role, const DocumentState& state);

// Reads what the rule needs from the catalog. nullopt: no such document.
Result<std::optional<DocumentState>> LoadDocument(storage::Catalog& catalog, const std::string& id);

// The same for many documents at once (a page of search hits); ids not in
// the catalog are absent from the map.
Result<std::map<std::string, DocumentState>> LoadDocuments(storage::Catalog& catalog,
                                                           const std::vector<std::string>& ids);

}  // namespace gongkai::ledger
