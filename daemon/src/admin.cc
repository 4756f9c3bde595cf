#include "admin.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <array>
#include <stdexcept>
#include <utility>

#include "gongkai/disclosure/report_figures.h"
#include "gongkai/log.h"
#include "json_writer.h"

namespace gongkai::daemon {
namespace {

using Kind = AdminRequest::Kind;

constexpr std::array<std::pair<Kind, const char*>, 8> kKindNames = {
    {{Kind::kApprove, "approve"},
     {Kind::kClassify, "classify"},
     {Kind::kAddToken, "token add"},
     {Kind::kRevokeTokens, "token revoke"},
     {Kind::kRotateKey, "keys rotate"},
     {Kind::kRegisterRequest, "request add"},
     {Kind::kRequestEvent, "request event"},
     {Kind::kReportFigures, "report figures"}}};

constexpr std::array<std::pair<Status::Code, const char*>, 6> kCodeNames = {
    {{Status::Code::kNotFound, "not_found"},
     {Status::Code::kInvalid, "invalid"},
     {Status::Code::kIOError, "io_error"},
     {Status::Code::kCorruption, "corruption"},
     {Status::Code::kBusy, "busy"},
     {Status::Code::kNoSpace, "no_space"}}};

const char* NameOf(Kind kind) {
  for (const auto& [k, name] : kKindNames)
    if (k == kind) return name;
  return "?";
}

Status StatusOf(const std::string& code, const std::string& message) {
  if (code == "not_found") return Status::NotFound(message);
  if (code == "invalid") return Status::Invalid(message);
  if (code == "corruption") return Status::Corruption(message);
  if (code == "busy") return Status::Busy(message);
  if (code == "no_space") return Status::NoSpace(message);
  return Status::IOError(message);
}

// approve or classify: NotFound without the document, nothing to do when it
// has the classification asked for already.
Result<AdminAnswer> ChangeDocument(const AdminRequest& request, const AdminTarget& target) {
  const bool classify = request.kind == Kind::kClassify;
  auto doc = target.find_document(request.doc_id);
  if (!doc.ok()) return doc.status();
  if (!doc->has_value()) return Status::NotFound("no document " + request.doc_id);
  AdminAnswer answer;
  answer.doc_id = request.doc_id;
  answer.share = (*doc)->share;
  answer.path = (*doc)->path;
  answer.classification = classify ? request.classification : (*doc)->classification;
  if (classify && (*doc)->classification == request.classification) return answer;
  ledger::Change change;
  change.kind = classify ? ledger::Change::Kind::kClassify : ledger::Change::Kind::kApprove;
  change.doc_id = request.doc_id;
  if (classify) change.classification = request.classification;
  auto done = target.apply(std::move(change));
  if (!done.ok()) return done.status();
  answer.changed = true;
  answer.version = done->version;
  answer.log_index = done->record.seq;
  answer.indexed = target.wait_indexed && target.wait_indexed(answer.log_index);
  return answer;
}

// The tokens file was rewritten: whoever holds tokens must take it up.
Status TokensChanged(const AdminTarget& target) {
  if (!target.reload_tokens) return Status::OK();
  Status s = target.reload_tokens();
  if (s.ok()) return s;
  return Status::IOError(target.tokens_file +
                         " was changed, but the daemon kept its old tokens: " + s.ToString());
}

Result<AdminAnswer> ChangeTokens(const AdminRequest& request, const AdminTarget& target) {
  if (target.tokens_file.empty())
    return Status::Invalid("no [auth] tokens_file in the configuration");
  AdminAnswer answer;
  if (request.kind == Kind::kAddToken) {
    auto made = AddToken(target.tokens_file, request.role, request.name);
    if (!made.ok()) return AsIoError(made.status());
    answer.token = std::move(*made);
  } else {
    auto removed = RevokeTokens(target.tokens_file, request.match);
    if (!removed.ok()) return removed.status();
    answer.revoked = static_cast<int64_t>(*removed);
  }
  if (Status s = TokensChanged(target); !s.ok()) return s;
  return answer;
}

Result<AdminAnswer> ChangeRequest(const AdminRequest& request, const AdminTarget& target) {
  if (!target.register_request || !target.add_request_event)
    return Status::Invalid("disclosure requests are not kept here");
  auto done = request.kind == Kind::kRegisterRequest ? target.register_request(request.new_request)
                                                     : target.add_request_event(request.change);
  if (!done.ok()) return done.status();
  AdminAnswer answer;
  answer.request = done->first;
  answer.log_index = done->second;
  answer.changed = true;
  return answer;
}

// The socket's form of a request's fields (personal data: the socket is 0600).
void EncodeRequestFields(JsonWriter& w, const AdminRequest& r) {
  const ledger::NewRequest& n = r.new_request;
  const ledger::Applicant& a = n.applicant;
  w.Field("channel", n.channel).Field("received", disclosure::FormatDate(n.received));
  w.Field("applicant_type", a.type).Field("applicant_name", a.name);
  w.Field("applicant_id_number", a.id_number).Field("applicant_contact", a.contact);
  w.Field("applicant_address", a.address).Field("description", n.description);
  w.Field("delivery", n.delivery);
  const ledger::RequestChange& c = r.change;
  w.Field("code", c.code).Field("event", disclosure::ToString(c.in.event));
  w.Field("date", disclosure::FormatDate(c.in.date)).Field("outcome", c.in.outcome);
  w.Field("days", int64_t{c.in.days}).Field("approved_by", c.in.approved_by);
  w.Field("note", c.note).Field("reply_document", c.reply_document);
}

Status DecodeRequestFields(const Poco::JSON::Object& o, AdminRequest& r) {
  auto str = [&](const char* key) { return o.optValue<std::string>(key, ""); };
  auto date = [&](const char* key) -> Result<disclosure::Date> {
    auto d = disclosure::ParseDate(str(key));
    if (!d) return Status::Invalid(std::string(key) + " must be a date YYYY-MM-DD");
    return *d;
  };
  if (r.kind == Kind::kRegisterRequest) {
    auto received = date("received");
    if (!received.ok()) return received.status();
    r.new_request = ledger::NewRequest{
        str("channel"),
        *received,
        {str("applicant_type"), str("applicant_name"), str("applicant_id_number"),
         str("applicant_contact"), str("applicant_address")},
        str("description"),
        str("delivery")};
    return Status::OK();
  }
  auto event = disclosure::ParseRequestEvent(str("event"));
  if (!event) return Status::Invalid("unknown event '" + str("event") + "'");
  auto when = date("date");
  if (!when.ok()) return when.status();
  r.change.code = str("code");
  r.change.in = {*event, *when, str("outcome"),
                 static_cast<int>(o.optValue<Poco::Int64>("days", 0)), str("approved_by")};
  r.change.note = str("note");
  r.change.reply_document = str("reply_document");
  return Status::OK();
}

void EncodeFields(JsonWriter& w, const AdminAnswer& a) {
  w.Field("id", a.doc_id)
      .Field("share", a.share)
      .Field("path", a.path)
      .Field("classification", a.classification);
  w.Field("changed", a.changed).Field("version", a.version).Field("log_index", a.log_index);
  w.Field("indexed", a.indexed).Field("revoked", a.revoked).Field("key_id", a.key_id);
  w.Field("request", a.request);
  if (a.token)
    w.Field("token", a.token->token)
        .Field("role", ToString(a.token->entry.role))
        .Field("sha256", a.token->entry.sha256_hex)
        .Field("name", a.token->entry.name);
}

AdminAnswer DecodeFields(const Poco::JSON::Object& o) {
  AdminAnswer a;
  a.doc_id = o.optValue<std::string>("id", "");
  a.share = o.optValue<std::string>("share", "");
  a.path = o.optValue<std::string>("path", "");
  // "" from a gongkaid before domain.h, in answers about no document.
  const std::string classification = o.optValue<std::string>("classification", "");
  if (auto c = ParseClassification(classification))
    a.classification = *c;
  else if (!classification.empty())
    throw std::invalid_argument("classification '" + classification + "'");
  a.changed = o.optValue<bool>("changed", false);
  a.version = o.optValue<Poco::Int64>("version", 0);
  a.log_index = o.optValue<Poco::Int64>("log_index", -1);
  a.indexed = o.optValue<bool>("indexed", false);
  a.revoked = o.optValue<Poco::Int64>("revoked", 0);
  a.key_id = o.optValue<std::string>("key_id", "");
  a.request = o.optValue<std::string>("request", "");
  if (o.has("token")) {
    const Role role =
        ledger::ParseTokenRole(o.optValue<std::string>("role", "")).value_or(Role::kInspector);
    a.token = NewToken{o.getValue<std::string>("token"),
                       {role, o.getValue<std::string>("sha256"), o.getValue<std::string>("name")}};
  }
  return a;
}

Result<Poco::JSON::Object::Ptr> ParseObject(const std::string& line) {
  try {
    auto object = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    if (object) return object;
  } catch (const std::exception&) {
  }
  return Status::Invalid("not a JSON object: " + line.substr(0, 80));
}

}  // namespace

Status AsIoError(const Status& status) {
  if (status.code() != Status::Code::kNotFound && status.code() != Status::Code::kInvalid)
    return status;
  return Status::IOError(status.message());
}

void SetRequestFunctions(AdminTarget& target,
                         const std::function<Status(const LedgerFn&)>& with_ledger,
                         const disclosure::WorkCalendar* calendar) {
  using Made = std::pair<std::string, int64_t>;
  using Change = std::function<Result<ledger::RequestState>(
      ledger::Ledger&, const disclosure::WorkCalendar&, const storage::SigningKey&)>;
  auto run = [with_ledger, calendar](const Change& change) -> Result<Made> {
    Made made;
    Status s = with_ledger([&](ledger::Ledger& ledger, const storage::SigningKey& key) -> Status {
      auto state = change(ledger, *calendar, key);
      if (!state.ok()) return state.status();
      const storage::RequestEventRow& last = state->events.back();
      made = {state->row.code, last.log_index};
      // The code and dates only: nothing personal enters the log.
      log::Info("request " + state->row.code + ": " + last.event + " on " + last.date + ", due " +
                disclosure::FormatDate(state->clock.due) +
                (state->clock.provisional ? " (provisional)" : "") + ", log " +
                std::to_string(last.log_index));
      return Status::OK();
    });
    if (!s.ok()) return s;
    return made;
  };
  target.register_request = [run](const ledger::NewRequest& request) {
    return run([&](ledger::Ledger& l, const disclosure::WorkCalendar& c,
                   const storage::SigningKey& k) { return l.Register(request, c, k); });
  };
  target.add_request_event = [run](const ledger::RequestChange& change) {
    return run([&](ledger::Ledger& l, const disclosure::WorkCalendar& c,
                   const storage::SigningKey& k) { return l.AddRequestEvent(change, c, k); });
  };
  target.set_report_figures =
      [with_ledger](int year, const disclosure::ReportFigures& figures) -> Result<int64_t> {
    int64_t log_index = -1;
    Status s = with_ledger([&](ledger::Ledger& ledger, const storage::SigningKey& key) -> Status {
      auto row = ledger.SetReportFigures(year, figures, key);
      if (!row.ok()) return row.status();
      log_index = row->log_index;
      return Status::OK();
    });
    if (!s.ok()) return s;
    return log_index;
  };
}

Result<AdminAnswer> RunAdmin(const AdminRequest& request, const AdminTarget& target) {
  switch (request.kind) {
    case Kind::kApprove:
    case Kind::kClassify:
      return ChangeDocument(request, target);
    case Kind::kAddToken:
    case Kind::kRevokeTokens:
      return ChangeTokens(request, target);
    case Kind::kRotateKey: {
      auto key_id = target.rotate_key();
      if (!key_id.ok()) return key_id.status();
      AdminAnswer answer;
      answer.key_id = *key_id;
      return answer;
    }
    case Kind::kRegisterRequest:
    case Kind::kRequestEvent:
      return ChangeRequest(request, target);
    case Kind::kReportFigures: {
      if (!target.set_report_figures) return Status::Invalid("report figures are not kept here");
      auto figures = disclosure::ParseReportFigures(request.figures);
      if (!figures.ok()) return figures.status();
      auto log_index = target.set_report_figures(static_cast<int>(request.year), *figures);
      if (!log_index.ok()) return log_index.status();
      AdminAnswer answer;
      answer.changed = true;
      answer.log_index = *log_index;
      return answer;
    }
  }
  return Status::Invalid("unknown request");
}

std::string Describe(const AdminRequest& r) {
  switch (r.kind) {
    case Kind::kApprove:
      return "approve " + r.doc_id;
    case Kind::kClassify:
      return "classify " + r.doc_id + " " + ToString(r.classification);
    case Kind::kAddToken:
      return std::string("token add ") + ToString(r.role) + " '" + r.name + "'";
    case Kind::kRevokeTokens:
      return "token revoke '" + r.match + "'";
    case Kind::kRotateKey:
      return "keys rotate";
    case Kind::kRegisterRequest:  // nothing personal, nothing unchecked: this goes into the log
      return ledger::IsChannel(r.new_request.channel)
                 ? "request add (" + r.new_request.channel + ")"
                 : std::string("request add");
    case Kind::kRequestEvent:
      return "request event " + log::Printable(r.change.code.substr(0, 40)) + " " +
             disclosure::ToString(r.change.in.event);
    case Kind::kReportFigures:
      return "report figures " + std::to_string(r.year);
  }
  return "?";
}

std::string Describe(const AdminRequest& r, const AdminAnswer& a) {
  switch (r.kind) {
    case Kind::kApprove:
    case Kind::kClassify:
      if (!a.changed) return a.share + ":" + a.path + " is already " + ToString(a.classification);
      return std::string(r.kind == Kind::kApprove ? "approved " : "classified ") + a.share + ":" +
             a.path + " v" + std::to_string(a.version) + " log " + std::to_string(a.log_index);
    case Kind::kAddToken:
      return a.token ? "added token sha256 " + a.token->entry.sha256_hex.substr(0, 12)
                     : "added a token";
    case Kind::kRevokeTokens:
      return "revoked " + std::to_string(a.revoked) + " token(s)";
    case Kind::kRotateKey:
      return "signing with key " + a.key_id;
    case Kind::kRegisterRequest:
      return "registered request " + a.request + " log " + std::to_string(a.log_index);
    case Kind::kRequestEvent:
      return "request " + a.request + " " + disclosure::ToString(r.change.in.event) + " log " +
             std::to_string(a.log_index);
    case Kind::kReportFigures:
      return "report figures of " + std::to_string(r.year) + " log " + std::to_string(a.log_index);
  }
  return "?";
}

std::string EncodeRequest(const AdminRequest& r) {
  JsonWriter w;
  w.BeginObject()
      .Field("kind", NameOf(r.kind))
      .Field("id", r.doc_id)
      .Field("classification", r.classification);
  w.Field("role", ToString(r.role)).Field("name", r.name).Field("match", r.match);
  if (r.kind == Kind::kRegisterRequest || r.kind == Kind::kRequestEvent) EncodeRequestFields(w, r);
  if (r.kind == Kind::kReportFigures) w.Field("year", r.year).Field("figures", r.figures);
  return w.EndObject().str();
}

Result<AdminRequest> DecodeRequest(const std::string& line) {
  auto o = ParseObject(line);
  if (!o.ok()) return o.status();
  AdminRequest r;
  const std::string kind = (*o)->optValue<std::string>("kind", "");
  bool known = false;
  for (const auto& [k, name] : kKindNames)
    if (kind == name) r.kind = k, known = true;
  if (!known) return Status::Invalid("unknown request '" + kind + "'");
  r.doc_id = (*o)->optValue<std::string>("id", "");
  // Only a classify request's classification means anything.
  if (r.kind == Kind::kClassify) {
    auto classification = ParseClassification((*o)->optValue<std::string>("classification", ""));
    if (!classification) return Status::Invalid("classification must be public or restricted");
    r.classification = *classification;
  }
  const std::string role = (*o)->optValue<std::string>("role", "");
  r.role = ledger::ParseTokenRole(role).value_or(Role::kAnonymous);
  r.name = (*o)->optValue<std::string>("name", "");
  r.match = (*o)->optValue<std::string>("match", "");
  if (r.kind == Kind::kRegisterRequest || r.kind == Kind::kRequestEvent)
    if (Status s = DecodeRequestFields(**o, r); !s.ok()) return s;
  if (r.kind == Kind::kReportFigures) {
    r.year = (*o)->optValue<Poco::Int64>("year", 0);
    r.figures = (*o)->optValue<std::string>("figures", "");
  }
  return r;
}

std::string EncodeAnswer(const Result<AdminAnswer>& answer) {
  JsonWriter w;
  w.BeginObject().Field("ok", answer.ok());
  if (answer.ok()) {
    EncodeFields(w, *answer);
  } else {
    const char* code = "io_error";
    for (const auto& [c, name] : kCodeNames)
      if (c == answer.status().code()) code = name;
    w.Field("code", code).Field("message", answer.status().message());
  }
  return w.EndObject().str();
}

Result<AdminAnswer> DecodeAnswer(const std::string& line) {
  auto o = ParseObject(line);
  if (!o.ok()) return Status::IOError("gongkaid answered " + o.status().message());
  try {
    if (!(*o)->getValue<bool>("ok"))
      return StatusOf((*o)->getValue<std::string>("code"), (*o)->getValue<std::string>("message"));
    return DecodeFields(**o);
  } catch (const std::exception& e) {
    return Status::IOError(std::string("gongkaid answered something unexpected: ") + e.what());
  }
}

}  // namespace gongkai::daemon
