#include "gongkai/ledger/visibility.h"

#include <algorithm>

namespace gongkai::ledger {
namespace {

// Whether a restricted document holding the bytes of `v` hides them: unless
// the document was classified (public) after both the restriction began and
// `v` was archived.
bool RestrictionHides(const DocumentState& s, const storage::VersionRow& v) {
  auto it = s.restricted_elsewhere.find(v.sha256);
  return it != s.restricted_elsewhere.end() &&
         std::max(it->second, v.log_index) >= s.doc.classified_seq;
}

bool AnonymousMaySee(const DocumentState& s, const storage::VersionRow& v) {
  return s.doc.classification == Classification::kPublic && !s.reply_letter &&
         v.review == ReviewState::kApproved && !RestrictionHides(s, v);
}

// Fills in restricted_elsewhere of each of `states`, with one catalog read
// for all. Only public documents need it: nobody anonymous sees anything of
// a restricted one. A public document is not restricted itself, so no
// holder found for their contents is one of them.
Status AddRestrictedElsewhere(storage::Catalog& catalog,
                              const std::vector<DocumentState*>& states) {
  std::vector<std::pair<DocumentState*, const std::string*>> asked;  // a state, a content
  std::vector<std::string> shas;
  for (DocumentState* s : states)
    if (s->doc.classification == Classification::kPublic)
      for (const auto& v : s->versions)
        if (v.review == ReviewState::kApproved) {
          asked.emplace_back(s, &v.sha256);
          shas.push_back(v.sha256);
        }
  if (shas.empty()) return Status::OK();
  auto restricted = catalog.RestrictedAmong(shas, "");
  if (!restricted.ok()) return restricted.status();
  for (const auto& [s, sha] : asked)
    if (auto it = restricted->find(*sha); it != restricted->end())
      s->restricted_elsewhere.insert(*it);
  return Status::OK();
}

}  // namespace

const char* ToString(Role role) {
  switch (role) {
    case Role::kAnonymous:
      return "anonymous";
    case Role::kInspector:
      return "inspector";
    case Role::kAdmin:
      return "admin";
    case Role::kHub:
      return "hub";
  }
  return "anonymous";
}

std::optional<Role> ParseTokenRole(const std::string& name) {
  for (Role r : {Role::kInspector, Role::kAdmin, Role::kHub})
    if (name == ToString(r)) return r;
  return std::nullopt;
}

const storage::VersionRow* DocumentState::Find(int64_t version) const {
  for (const auto& v : versions)
    if (v.version == version) return &v;
  return nullptr;
}

std::vector<storage::VersionRow> VisibleVersions(Role role, const DocumentState& state) {
  if (role != Role::kAnonymous) return state.versions;
  std::vector<storage::VersionRow> out;
  for (const auto& v : state.versions)
    if (AnonymousMaySee(state, v)) out.push_back(v);
  return out;
}

std::optional<storage::VersionRow> ShownVersion(Role role, const DocumentState& state) {
  for (auto v = state.versions.rbegin(); v != state.versions.rend(); ++v)
    if (role != Role::kAnonymous || AnonymousMaySee(state, *v)) return *v;
  return std::nullopt;
}

Result<std::optional<DocumentState>> LoadDocument(storage::Catalog& catalog,
                                                  const std::string& id) {
  auto doc = catalog.GetDocument(id);
  if (!doc.ok()) return doc.status();
  if (!doc->has_value()) return std::optional<DocumentState>();
  auto versions = catalog.Versions(id);
  if (!versions.ok()) return versions.status();
  DocumentState s{std::move(**doc), std::move(*versions), {}};
  if (Status st = AddRestrictedElsewhere(catalog, {&s}); !st.ok()) return st;
  if (s.doc.classification == Classification::kPublic) {
    auto letters = catalog.ReplyLetters({id});
    if (!letters.ok()) return letters.status();
    s.reply_letter = !letters->empty();
  }
  return std::optional<DocumentState>(std::move(s));
}

Result<std::map<std::string, DocumentState>> LoadDocuments(storage::Catalog& catalog,
                                                           const std::vector<std::string>& ids) {
  auto rows = catalog.DocumentsWithVersions(ids);
  if (!rows.ok()) return rows.status();
  std::map<std::string, DocumentState> out;
  std::vector<DocumentState*> states;
  std::vector<std::string> public_ids;
  for (auto& [doc, versions] : *rows) {
    const std::string id = doc.id;
    DocumentState& s =
        out.emplace(id, DocumentState{std::move(doc), std::move(versions), {}}).first->second;
    states.push_back(&s);
    if (s.doc.classification == Classification::kPublic) public_ids.push_back(id);
  }
  if (Status st = AddRestrictedElsewhere(catalog, states); !st.ok()) return st;
  auto letters = catalog.ReplyLetters(public_ids);
  if (!letters.ok()) return letters.status();
  for (const std::string& id : *letters) out.at(id).reply_letter = true;
  return out;
}

}  // namespace gongkai::ledger
