#include "http_hub.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include <chrono>
#include <exception>
#include <istream>
#include <string>

#include "gongkai/log.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/record.h"
#include "hub.h"
#include "json_writer.h"
#include "metrics.h"

namespace gongkai::hub {
namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// An add-checkpoint body is a checkpoint, its signatures and at most 63
// proof lines: a few KiB. Anything longer is refused before it is read.
constexpr std::streamsize kMaxWitnessBody = std::streamsize{64} * 1024;
constexpr std::streamsize kMaxDrained = std::streamsize{1024} * 1024;

void Send(HTTPServerResponse& resp, int status, const std::string& type, const std::string& body) {
  resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  resp.setContentType(type);
  resp.set("Cache-Control", "no-store");
  resp.setContentLength(static_cast<std::streamsize>(body.size()));
  resp.send() << body;
}

// RFC 3339 UTC of POSIX seconds.
std::string When(int64_t posix) {
  return storage::Rfc3339(std::chrono::system_clock::time_point(std::chrono::seconds(posix)));
}

std::string NodeLabel(const std::string& node) {
  return "node=\"" + daemon::LabelValue(node) + "\"";
}

void SendError(HTTPServerResponse& resp, int status, const std::string& code,
               const std::string& message) {
  daemon::JsonWriter w;
  w.BeginObject()
      .Key("error")
      .BeginObject()
      .Field("code", code)
      .Field("message", message)
      .EndObject()
      .EndObject();
  Send(resp, status, "application/json; charset=utf-8", w.str());
}

class HubHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit HubHandler(Hub* hub) : hub_(hub) {}

  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    try {
      Dispatch(req, resp);
    } catch (const std::exception& e) {
      log::Error("hub: " + req.getMethod() + " " + req.getURI() + ": " + e.what());
      if (!resp.sent()) SendError(resp, 500, "internal", "internal error; the hub's log says more");
    }
  }

 private:
  void Dispatch(HTTPServerRequest& req, HTTPServerResponse& resp) {
    const std::string path = Poco::URI(req.getURI()).getPath();
    const std::string& method = req.getMethod();
    const bool get = method == "GET" || method == "HEAD";
    if (path == "/witness/add-checkpoint") {
      if (method != "POST") return NotAllowed(resp, "POST");
      return AddCheckpoint(req, resp);
    }
    const std::string prefix = "/witness/", suffix = "/checkpoint";
    if (path.size() == prefix.size() + 64 + suffix.size() && path.rfind(prefix, 0) == 0 &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      if (!get) return NotAllowed(resp, "GET, HEAD");
      return WitnessedCheckpoint(path.substr(prefix.size(), 64), resp);
    }
    if (path == "/api/v1/status") {
      if (!get) return NotAllowed(resp, "GET, HEAD");
      return StatusJson(resp);
    }
    if (path == "/metrics") {
      if (!get) return NotAllowed(resp, "GET, HEAD");
      return Metrics(resp);
    }
    SendError(resp, 404, "not_found", "no such route: " + path);
  }

  void NotAllowed(HTTPServerResponse& resp, const std::string& allow) {
    resp.set("Allow", allow);
    SendError(resp, 405, "method_not_allowed", "use " + allow);
  }

  // C2SP tlog-witness: the answer is the witness's, status and body as the
  // spec has them (plain text).
  void AddCheckpoint(HTTPServerRequest& req, HTTPServerResponse& resp) {
    // The body is read up to the limit; a longer one is read on (up to 1 MiB,
    // a bounded cost) so that its sender gets the 413 rather than a reset.
    std::string body(static_cast<size_t>(kMaxWitnessBody) + 1, '\0');
    req.stream().read(body.data(), kMaxWitnessBody + 1);
    body.resize(static_cast<size_t>(req.stream().gcount()));
    if (static_cast<std::streamsize>(body.size()) > kMaxWitnessBody) {
      req.stream().ignore(kMaxDrained);
      resp.setKeepAlive(false);
      return Send(resp, 413, "text/plain; charset=utf-8",
                  "an add-checkpoint body is at most 64 KiB\n");
    }
    const storage::Witness::Answer a = hub_->witness().AddCheckpoint(body);
    const std::string node = hub_->NodeOf(a.origin);
    hub_->CountWitnessAnswer(node, a.status);
    const std::string who = node.empty() ? "a client" : "node " + node;
    if (a.split_view)
      log::Error("SPLIT VIEW: " + who + " (" + a.origin +
                 ") signed a checkpoint inconsistent with the one " +
                 "the witness cosigned; refused, evidence kept (GET /api/v1/status): " +
                 a.split_view->reason);
    else if (a.status == 200)
      log::Debug("witness: cosigned " + who + "'s checkpoint");
    else if (a.status != 409)
      log::Warning("witness: refused " + who + "'s checkpoint from " +
                   req.clientAddress().host().toString() + " with " + std::to_string(a.status) +
                   ": " + a.body.substr(0, a.body.size() - 1));
    Send(resp, a.status, a.content_type, a.body);
  }

  void WitnessedCheckpoint(const std::string& origin_hash, HTTPServerResponse& resp) {
    auto note = hub_->witness().CheckpointFor(origin_hash);
    if (!note.ok()) return SendError(resp, 503, "unavailable", note.status().message());
    if (!*note) return SendError(resp, 404, "not_found", "no checkpoint cosigned for this origin");
    Send(resp, 200, "text/plain; charset=utf-8", **note);
  }

  // The witnessed size of each node's log and its cosignature time.
  struct Witnessed {
    uint64_t size = 0;
    int64_t at = 0;  // 0: never cosigned
  };
  Result<Witnessed> WitnessedOf(const std::string& origin) {
    auto held = hub_->store().Latest(origin);
    if (!held.ok()) return held.status();
    Witnessed w;
    if (!*held) return w;
    w.size = (*held)->size;
    auto vkey = storage::ParseVerifierKey(hub_->witness().VerifierKey());
    auto at = storage::VerifyCosignature((*held)->note, vkey->name, vkey->raw_public);
    w.at = at.ok() ? static_cast<int64_t>(*at) : 0;
    return w;
  }

  void StatusJson(HTTPServerResponse& resp) {
    auto alarms = hub_->store().SplitViews();
    if (!alarms.ok()) return SendError(resp, 503, "unavailable", alarms.status().message());
    daemon::JsonWriter w;
    w.BeginObject();
    w.Key("witness")
        .BeginObject()
        .Field("name", hub_->witness().name())
        .Field("key", hub_->witness().VerifierKey());
    w.EndObject();
    w.Key("nodes").BeginObject();
    for (const HubNodeConfig& node : hub_->config().nodes) {
      const std::string origin = storage::ParseVerifierKey(node.note_key)->name;
      auto witnessed = WitnessedOf(origin);
      if (!witnessed.ok()) return SendError(resp, 503, "unavailable", witnessed.status().message());
      int split_views = 0;
      for (const storage::SplitView& a : *alarms) split_views += a.origin == origin;
      w.Key(node.name).BeginObject().Field("url", node.url).Field("origin", origin);
      w.Field("witnessed_size", witnessed->size);
      w.Key("witnessed_at");
      if (witnessed->at)
        w.String(When(witnessed->at));
      else
        w.Null();
      w.Field("split_views", split_views).EndObject();
    }
    w.EndObject();
    w.Key("split_views").BeginArray();
    for (const storage::SplitView& a : *alarms)
      w.BeginObject()
          .Field("node", hub_->NodeOf(a.origin))
          .Field("origin", a.origin)
          .Field("reason", a.reason)
          .Field("at", When(a.at))
          .Field("held", a.held)
          .Field("submitted", a.submitted)
          .EndObject();
    w.EndArray().EndObject();
    Send(resp, 200, "application/json; charset=utf-8", w.str());
  }

  void Metrics(HTTPServerResponse& resp) {
    auto alarms = hub_->store().SplitViews();
    if (!alarms.ok()) return SendError(resp, 503, "unavailable", alarms.status().message());
    std::string out;
    daemon::MetricHeader(
        out, "gongkai_hub_split_views", "gauge",
        "Split views a node's log was caught in (inconsistent checkpoints it signed), ever.");
    for (const HubNodeConfig& node : hub_->config().nodes) {
      const std::string origin = storage::ParseVerifierKey(node.note_key)->name;
      int n = 0;
      for (const storage::SplitView& a : *alarms) n += a.origin == origin;
      daemon::MetricLine(out, "gongkai_hub_split_views", NodeLabel(node.name), n);
    }
    daemon::MetricHeader(out, "gongkai_hub_witnessed_tree_size", "gauge",
                         "The tree size of the latest checkpoint the witness cosigned per node.");
    for (const HubNodeConfig& node : hub_->config().nodes) {
      auto witnessed = WitnessedOf(storage::ParseVerifierKey(node.note_key)->name);
      if (!witnessed.ok()) return SendError(resp, 503, "unavailable", witnessed.status().message());
      daemon::MetricLine(out, "gongkai_hub_witnessed_tree_size", NodeLabel(node.name),
                         static_cast<double>(witnessed->size));
    }
    daemon::MetricHeader(out, "gongkai_hub_add_checkpoint_total", "counter",
                         "add-checkpoint requests answered, by node and HTTP status.");
    for (const auto& [key, count] : hub_->WitnessAnswers())
      daemon::MetricLine(out, "gongkai_hub_add_checkpoint_total",
                         NodeLabel(key.first) + ",code=\"" + std::to_string(key.second) + "\"",
                         static_cast<double>(count));
    Send(resp, 200, "text/plain; version=0.0.4; charset=utf-8", out);
  }

  Hub* hub_;
};

class HubHandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HubHandlerFactory(Hub* hub) : hub_(hub) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new HubHandler(hub_);
  }

 private:
  Hub* hub_;
};

}  // namespace

Poco::Net::HTTPRequestHandlerFactory* NewHubHandlerFactory(Hub* hub) {
  return new HubHandlerFactory(hub);
}

}  // namespace gongkai::hub
