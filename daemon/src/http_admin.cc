#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "admin.h"
#include "gongkai/log.h"
#include "http_handlers.h"
#include "json_writer.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

namespace {

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
  const AdminAnswer done = RunAdminOrThrow(call, request);
  JsonWriter w;
  w.BeginObject().Field("id", done.doc_id);
  if (done.changed) {
    if (!done.indexed) log::Warning("index still behind record " + std::to_string(done.log_index));
    w.Field("version", done.version).Field("log_index", done.log_index);
    w.Field("indexed", done.indexed);
  }
  if (request.kind == AdminRequest::Kind::kApprove)
    w.Field("review", "approved");
  else
    w.Field("classification", done.classification);
  w.Field("changed", done.changed).EndObject();
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
