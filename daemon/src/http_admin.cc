#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "admin.h"
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

// Makes the change through RunAdmin(), as `gongkai` does, and answers with
// what was done. RunAdmin waits until searches reflect it: after a
// "restricted" answer, no anonymous search may still find or count the
// document.
void Change(Call& call, const AdminRequest& request) {
  auto done = RunAdmin(request, *call.ctx.admin);
  if (!done.ok()) {
    switch (done.status().code()) {
      case Status::Code::kNotFound:
        throw NotFound();
      case Status::Code::kInvalid:
        throw ApiError{HTTPResponse::HTTP_CONFLICT, "conflict", done.status().message()};
      case Status::Code::kBusy:
        throw ApiError{HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "busy", done.status().message()};
      default:
        throw std::runtime_error(done.status().ToString());
    }
  }
  JsonWriter w;
  w.BeginObject().Field("id", done->doc_id);
  if (done->changed) {
    if (!done->indexed)
      log::Warning("index still behind record " + std::to_string(done->log_index));
    w.Field("version", done->version).Field("log_index", done->log_index);
    w.Field("indexed", done->indexed);
  }
  if (request.kind == AdminRequest::Kind::kApprove)
    w.Field("review", "approved");
  else
    w.Field("classification", done->classification);
  w.Field("changed", done->changed).EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_OK, w.str());
}

}  // namespace

void ServeApprove(Call& call) {
  ReadBody(call);
  AdminRequest request;
  request.kind = AdminRequest::Kind::kApprove;
  request.doc_id = call.path.at("id");
  Change(call, request);
}

void ServeClassification(Call& call) {
  AdminRequest request;
  request.kind = AdminRequest::Kind::kClassify;
  request.doc_id = call.path.at("id");
  request.classification = RequestedClassification(ReadBody(call));
  Change(call, request);
}

}  // namespace gongkai::daemon
