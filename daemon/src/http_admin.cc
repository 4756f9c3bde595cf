#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "gongkai/log.h"
#include "http_handlers.h"
#include "json_writer.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

namespace {

// The request body, at most 64 KiB (413 beyond).
std::string ReadBody(Call& call) {
  constexpr std::streamsize kLimit = std::streamsize{64} * 1024;
  std::string body(static_cast<size_t>(kLimit) + 1, '\0');
  call.req.stream().read(body.data(), kLimit + 1);
  body.resize(static_cast<size_t>(call.req.stream().gcount()));
  if (static_cast<std::streamsize>(body.size()) > kLimit)
    throw ApiError{HTTPResponse::HTTP_REQUESTENTITYTOOLARGE, "too_large",
                   "request body over 64 KiB"};
  return body;
}

// The classification a body {"classification": "public"|"restricted"} asks for.
Classification RequestedClassification(const std::string& body) {
  std::string value;
  try {
    auto o = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    value = o->optValue<std::string>("classification", "");
  } catch (const std::exception&) {
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request",
                   "body must be {\"classification\": \"public\"|\"restricted\"}"};
  }
  const std::optional<Classification> wanted = ParseClassification(value);
  if (!wanted)
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request",
                   "classification must be public or restricted"};
  return *wanted;
}

// The document as the catalog has it now; 404 when there is none.
storage::DocumentRow Existing(const Call& call, const std::string& id) {
  auto catalog = call.BorrowCatalog();
  auto doc = OrThrow(catalog->GetDocument(id));
  if (!doc.has_value()) throw NotFound();
  return std::move(*doc);
}

// Commits `change` through the catalog's single writer and waits until
// searches reflect it: after a "restricted" answer, no anonymous search may
// still find or count the document.
void Submit(Call& call, const ledger::Change& change) {
  auto done = call.ctx.submit(change);
  if (!done.ok()) {
    if (done.status().code() == Status::Code::kInvalid)
      throw ApiError{HTTPResponse::HTTP_CONFLICT, "conflict", done.status().message()};
    if (done.status().code() == Status::Code::kBusy)
      throw ApiError{HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "busy", done.status().message()};
    throw std::runtime_error(done.status().ToString());
  }
  const bool indexed = !call.ctx.wait_indexed || call.ctx.wait_indexed(done->record.seq);
  if (!indexed)
    log::Warning("index still behind record " + std::to_string(done->record.seq) + " after 10 s");
  JsonWriter w;
  w.BeginObject()
      .Field("id", change.doc_id)
      .Field("version", done->version)
      .Field("log_index", done->record.seq);
  w.Field("indexed", indexed);
  if (change.kind == ledger::Change::Kind::kApprove)
    w.Field("review", "approved");
  else
    w.Field("classification", change.classification);
  w.Field("changed", true).EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_OK, w.str());
}

}  // namespace

void ServeApprove(Call& call) {
  ReadBody(call);
  ledger::Change change;
  change.doc_id = call.path.at("id");
  change.kind = ledger::Change::Kind::kApprove;
  Existing(call, change.doc_id);
  Submit(call, change);
}

void ServeClassification(Call& call) {
  const std::string body = ReadBody(call);
  ledger::Change change;
  change.doc_id = call.path.at("id");
  change.kind = ledger::Change::Kind::kClassify;
  change.classification = RequestedClassification(body);
  if (Existing(call, change.doc_id).classification == change.classification) {
    JsonWriter w;
    w.BeginObject().Field("id", change.doc_id).Field("classification", change.classification);
    w.Field("changed", false).EndObject();
    return SendJson(call.resp, HTTPResponse::HTTP_OK, w.str());
  }
  Submit(call, change);
}

}  // namespace gongkai::daemon
