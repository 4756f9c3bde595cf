#include "gongkai/ledger/requests.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <map>

#include "gongkai/ledger/ledger.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/record.h"
#include "gongkai/utf8.h"

namespace gongkai::ledger {
namespace {

using disclosure::RequestEvent;

bool Among(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// Invalid unless `value` is valid UTF-8 of at most `max` bytes, and not
// empty when `required`.
Status CheckText(const char* field, const std::string& value, size_t max, bool required) {
  if (required && value.empty()) return Status::Invalid(std::string(field) + " is required");
  if (value.size() > max)
    return Status::Invalid(std::string(field) + " is longer than " + std::to_string(max) +
                           " bytes");
  if (!IsValidUtf8(value)) return Status::Invalid(std::string(field) + " is not valid UTF-8");
  for (unsigned char c : value)  // NUL would cut a PostgreSQL text short; the rest is noise
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
      return Status::Invalid(std::string(field) + " holds a control character");
  return Status::OK();
}

Status CheckRequest(const NewRequest& r, disclosure::Date today) {
  // The values are not echoed: an answer to the public repeats nothing it was sent.
  if (!IsChannel(r.channel))
    return Status::Invalid(
        "channel must be one of online, in_person, post, registered_post, "
        "fax, email");
  if (!IsApplicantType(r.applicant.type))
    return Status::Invalid(
        "applicant type must be one of person, business, research, "
        "nonprofit, legal_service, other");
  if (r.received > today)
    return Status::Invalid("received " + disclosure::FormatDate(r.received) + " is after today (" +
                           disclosure::FormatDate(today) + ")");
  for (const auto& [field, value, required] :
       {std::tuple{"applicant.name", &r.applicant.name, true},
        std::tuple{"applicant.id_number", &r.applicant.id_number, false},
        std::tuple{"applicant.contact", &r.applicant.contact, true},
        std::tuple{"applicant.address", &r.applicant.address, false},
        std::tuple{"delivery", &r.delivery, false}})
    if (Status s = CheckText(field, *value, kMaxFieldBytes, required); !s.ok()) return s;
  return CheckText("description", r.description, kMaxDescriptionBytes, true);
}

disclosure::EventInput InputOf(const storage::RequestEventRow& e) {
  disclosure::EventInput in;
  in.event = disclosure::ParseRequestEvent(e.event).value_or(RequestEvent::kReceived);
  in.date = disclosure::ParseDate(e.date).value_or(disclosure::Date{});
  in.outcome = e.outcome;
  in.days = static_cast<int>(e.days);
  in.approved_by = e.approved_by;
  return in;
}

// Replays the stored events through the clock; a stored history the clock
// refuses is corruption (it was checked when written).
Result<disclosure::RequestClock> Replay(const disclosure::WorkCalendar& calendar,
                                        const std::vector<storage::RequestEventRow>& events) {
  std::optional<disclosure::RequestClock> clock;
  for (const auto& e : events) {
    if (!disclosure::ParseRequestEvent(e.event) || !disclosure::ParseDate(e.date))
      return Status::Corruption("request " + e.code + ": stored event '" + e.event + "' on '" +
                                e.date + "' does not parse");
    auto next = disclosure::Apply(calendar, clock, InputOf(e));
    if (!next.ok())
      return Status::Corruption("request " + e.code +
                                ": stored events do not replay: " + next.status().message());
    clock = *next;
  }
  if (!clock) return Status::Corruption("request has no events");
  return *clock;
}

Result<RequestState> Assemble(const disclosure::WorkCalendar& calendar, storage::RequestRow row,
                              std::vector<storage::RequestEventRow> events) {
  RequestState st;
  try {
    auto o = Poco::JSON::Parser().parse(row.details).extract<Poco::JSON::Object::Ptr>();
    auto a = o->getObject("applicant");
    if (!a) throw std::runtime_error("no applicant");
    st.applicant =
        Applicant{a->optValue<std::string>("type", ""), a->optValue<std::string>("name", ""),
                  a->optValue<std::string>("id_number", ""),
                  a->optValue<std::string>("contact", ""), a->optValue<std::string>("address", "")};
    st.description = o->optValue<std::string>("description", "");
    st.delivery = o->optValue<std::string>("delivery", "");
  } catch (const std::exception&) {
    return Status::Corruption("request " + row.code + ": stored details are not a JSON object");
  }
  auto clock = Replay(calendar, events);
  if (!clock.ok()) return clock.status();
  st.clock = *clock;
  st.row = std::move(row);
  st.events = std::move(events);
  return st;
}

}  // namespace

const std::vector<std::string>& Channels() {
  static const std::vector<std::string> kChannels = {"online",          "in_person", "post",
                                                     "registered_post", "fax",       "email"};
  return kChannels;
}

const std::vector<std::string>& ApplicantTypes() {
  static const std::vector<std::string> kTypes = {"person",    "business",      "research",
                                                  "nonprofit", "legal_service", "other"};
  return kTypes;
}

bool IsChannel(std::string_view channel) { return Among(Channels(), channel); }
bool IsApplicantType(std::string_view type) { return Among(ApplicantTypes(), type); }

bool SeesRequestDetails(Role role) { return role != Role::kAnonymous; }

std::string DetailsJson(const Applicant& a, const std::string& description,
                        const std::string& delivery) {
  using storage::JsonQuote;
  return "{\"applicant\":{\"type\":" + JsonQuote(a.type) + ",\"name\":" + JsonQuote(a.name) +
         ",\"id_number\":" + JsonQuote(a.id_number) + ",\"contact\":" + JsonQuote(a.contact) +
         ",\"address\":" + JsonQuote(a.address) + "},\"description\":" + JsonQuote(description) +
         ",\"delivery\":" + JsonQuote(delivery) + "}";
}

Result<RequestState> LoadRequest(storage::Catalog& catalog,
                                 const disclosure::WorkCalendar& calendar,
                                 const std::string& code) {
  auto row = catalog.GetRequest(code);
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("no request " + code);
  auto events = catalog.RequestEvents(code);
  if (!events.ok()) return events.status();
  return Assemble(calendar, std::move(**row), std::move(*events));
}

Result<std::vector<RequestState>> LoadRequests(storage::Catalog& catalog,
                                               const disclosure::WorkCalendar& calendar) {
  auto rows = catalog.AllRequests();
  if (!rows.ok()) return rows.status();
  auto events = catalog.AllRequestEvents();
  if (!events.ok()) return events.status();
  std::map<std::string, std::vector<storage::RequestEventRow>> by_code;
  for (auto& e : *events) by_code[e.code].push_back(std::move(e));
  std::vector<RequestState> out;
  out.reserve(rows->size());
  for (auto& row : *rows) {
    std::vector<storage::RequestEventRow> of_row = std::move(by_code[row.code]);
    auto st = Assemble(calendar, std::move(row), std::move(of_row));
    if (!st.ok()) return st.status();
    out.push_back(std::move(*st));
  }
  return out;
}

Result<RequestState> Ledger::Register(const NewRequest& request,
                                      const disclosure::WorkCalendar& calendar,
                                      const storage::SigningKey& key) {
  if (Status s = CheckRequest(request, disclosure::LocalDate(env_->Now())); !s.ok()) return s;
  storage::RequestRow row;
  row.code = storage::RandomBase32(15);  // 120 random bits, 24 URL-safe characters
  row.channel = request.channel;
  row.received = disclosure::FormatDate(request.received);
  row.applicant_type = request.applicant.type;
  row.details = DetailsJson(request.applicant, request.description, request.delivery);
  row.salt = storage::Hex(storage::Sha256Of(storage::RandomBytes(32)));
  Status s = Transaction(key, [&](int64_t& seq, const std::string& time) -> Status {
    storage::RequestRecordFields f;
    f.seq = static_cast<uint64_t>(seq);
    f.event = "request.received";
    f.request = row.code;
    f.date = row.received;
    f.channel = row.channel;
    f.applicant_type = row.applicant_type;
    f.details_sha256 = storage::SaltedSha256(row.salt, row.details);
    f.time = time;
    f.key = key.KeyId();
    const storage::RecordRow rec = Sign(seq, "", storage::SerializeRequestRecord(f), key);
    row.last_leaf = rec.leaf;
    row.created = time;
    if (Status i = catalog_->InsertRequest(row); !i.ok()) return i;
    if (Status i = catalog_->InsertRequestEvent(
            {row.code, seq, "received", row.received, "", 0, "", "", "", time});
        !i.ok())
      return i;
    ++seq;
    return Append(rec);
  });
  if (!s.ok()) return s;
  return LoadRequest(*catalog_, calendar, row.code);
}

Result<RequestState> Ledger::AddRequestEvent(const RequestChange& change,
                                             const disclosure::WorkCalendar& calendar,
                                             const storage::SigningKey& key) {
  const disclosure::EventInput& in = change.in;
  if (in.event == RequestEvent::kReceived)
    return Status::Invalid("the request was received already");
  const disclosure::Date today = disclosure::LocalDate(env_->Now());
  if (in.date > today)
    return Status::Invalid(std::string(disclosure::ToString(in.event)) + " on " +
                           disclosure::FormatDate(in.date) + " is after today (" +
                           disclosure::FormatDate(today) + ")");
  if (Status n = CheckText("note", change.note, kMaxDescriptionBytes, false); !n.ok()) return n;
  if (Status n = CheckText("approved_by", in.approved_by, kMaxFieldBytes, false); !n.ok()) return n;
  if (!change.reply_document.empty() && in.event != RequestEvent::kReplied)
    return Status::Invalid("reply_document belongs to a reply");
  Status s = Transaction(key, [&](int64_t& seq, const std::string& time) -> Status {
    // Read inside the transaction: a concurrent event on the same request
    // is either before this one (and checked against) or waits for it.
    auto current = LoadRequest(*catalog_, calendar, change.code);
    if (!current.ok()) return current.status();
    auto next = disclosure::Apply(calendar, current->clock, in);
    if (!next.ok()) return next.status();
    if (!change.reply_document.empty()) {
      auto doc = catalog_->GetDocument(change.reply_document);
      if (!doc.ok()) return doc.status();
      if (!*doc)
        return Status::Invalid("reply_document " + change.reply_document +
                               " is not an archived document");
      // Not made restricted here: naming a public document by mistake (the
      // regulation that was handed over, say) would take it and its copies
      // off the public site. The admin restricts the letter knowingly first.
      if ((*doc)->classification == Classification::kPublic)
        return Status::Invalid("document " + change.reply_document +
                               " is public; a reply letter is addressed to one applicant: "
                               "classify it restricted first");
    }
    const storage::RequestRow& row = current->row;
    const std::string note = storage::RequestNoteJson(change.note, in.approved_by);
    storage::RequestRecordFields f;
    f.seq = static_cast<uint64_t>(seq);
    f.event = std::string("request.") + disclosure::ToString(in.event);
    f.request = row.code;
    f.date = disclosure::FormatDate(in.date);
    if (in.event == RequestEvent::kReplied) f.outcome = in.outcome;
    if (in.event == RequestEvent::kExtended) f.days = in.days;
    f.reply_document = change.reply_document;
    f.details_sha256 = storage::SaltedSha256(row.salt, row.details);
    if (!note.empty()) f.note_sha256 = storage::SaltedSha256(row.salt, note);
    f.time = time;
    f.key = key.KeyId();
    f.prev = row.last_leaf;
    const storage::RecordRow rec = Sign(seq, "", storage::SerializeRequestRecord(f), key);
    if (Status i = catalog_->InsertRequestEvent({row.code, seq, disclosure::ToString(in.event),
                                                 f.date, f.outcome, f.days, in.approved_by,
                                                 change.note, change.reply_document, time});
        !i.ok())
      return i;
    if (Status i = catalog_->SetRequestLeaf(row.code, rec.leaf); !i.ok()) return i;
    ++seq;
    return Append(rec);
  });
  if (!s.ok()) return s;
  return LoadRequest(*catalog_, calendar, change.code);
}

}  // namespace gongkai::ledger
