#include "http_hub.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include <chrono>
#include <exception>
#include <istream>
#include <string>
#include <tuple>
#include <vector>

#include "gongkai/log.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/record.h"
#include "hub.h"
#include "json_writer.h"
#include "metrics.h"
#include "page_chrome.h"
#include "search_api.h"
#include "web_assets.h"

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
    if (path == "/api/v1/search") {
      if (!get) return NotAllowed(resp, "GET, HEAD");
      return Search(req, resp);
    }
    if (path == "/api/v1/county") {
      if (!get) return NotAllowed(resp, "GET, HEAD");
      return County(req, resp);
    }
    if (path == "/county" || path.rfind("/static/", 0) == 0) {
      if (!get) return NotAllowed(resp, "GET, HEAD");
      return Page(path, resp);
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
    const storage::VerifierKey& key = hub_->witness_key();
    auto at = storage::VerifyCosignature((*held)->note, key.name, key.raw_public);
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
    const std::vector<MirrorStatus> mirrors = hub_->mirror().Statuses();
    w.Key("nodes").BeginObject();
    for (size_t i = 0; i < hub_->config().nodes.size(); ++i) {
      const HubNodeConfig& node = hub_->config().nodes[i];
      const std::string& origin = hub_->OriginOf(i);
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
      w.Field("split_views", split_views);
      WriteMirror(w, mirrors[i]);
      w.Field("documents", mirrors[i].documents)
          .Field("refused", mirrors[i].refused)
          .Field("problem", mirrors[i].problem)
          .EndObject();
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
    const std::vector<HubNodeConfig>& nodes = hub_->config().nodes;
    for (size_t i = 0; i < nodes.size(); ++i) {
      int n = 0;
      for (const storage::SplitView& a : *alarms) n += a.origin == hub_->OriginOf(i);
      daemon::MetricLine(out, "gongkai_hub_split_views", NodeLabel(nodes[i].name), n);
    }
    daemon::MetricHeader(out, "gongkai_hub_witnessed_tree_size", "gauge",
                         "The tree size of the latest checkpoint the witness cosigned per node.");
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto witnessed = WitnessedOf(hub_->OriginOf(i));
      if (!witnessed.ok()) return SendError(resp, 503, "unavailable", witnessed.status().message());
      daemon::MetricLine(out, "gongkai_hub_witnessed_tree_size", NodeLabel(nodes[i].name),
                         static_cast<double>(witnessed->size));
    }
    daemon::MetricHeader(out, "gongkai_hub_add_checkpoint_total", "counter",
                         "add-checkpoint requests answered, by node and HTTP status.");
    for (const auto& [key, count] : hub_->WitnessAnswers())
      daemon::MetricLine(out, "gongkai_hub_add_checkpoint_total",
                         NodeLabel(key.first) + ",code=\"" + std::to_string(key.second) + "\"",
                         static_cast<double>(count));
    const std::vector<MirrorStatus> mirrors = hub_->mirror().Statuses();
    for (auto [name, type, help, value] :
         {std::tuple{"gongkai_hub_mirror_tree_size", "gauge",
                     "Records of each node's log the mirror verified and applied.",
                     +[](const MirrorStatus& m) { return static_cast<double>(m.tree_size); }},
          std::tuple{"gongkai_hub_mirror_documents", "gauge",
                     "Index entries in each node's mirror shard (public documents).",
                     +[](const MirrorStatus& m) { return static_cast<double>(m.documents); }},
          std::tuple{"gongkai_hub_mirror_stale", "gauge",
                     "1 while a node's last sync failed (its documents are as of the one before).",
                     +[](const MirrorStatus& m) { return m.stale ? 1.0 : 0.0; }},
          std::tuple{"gongkai_hub_mirror_refused_total", "counter",
                     "Syncs refused because a checkpoint, record or document did not verify.",
                     +[](const MirrorStatus& m) { return static_cast<double>(m.refused); }}}) {
      daemon::MetricHeader(out, name, type, help);
      for (const MirrorStatus& m : mirrors)
        daemon::MetricLine(out, name, NodeLabel(m.name), value(m));
    }
    Send(resp, 200, "text/plain; version=0.0.4; charset=utf-8", out);
  }

  // GET /api/v1/county: the inspector's view across townships, for a token
  // in [hub] tokens.
  void County(HTTPServerRequest& req, HTTPServerResponse& resp) {
    const auto role = hub_->tokens().Authenticate(req.get("Authorization", ""));
    if (!role || (*role != ledger::Role::kInspector && *role != ledger::Role::kAdmin)) {
      resp.set("WWW-Authenticate", "Bearer");
      return SendError(resp, 401, "unauthorized",
                       hub_->config().tokens_file.empty()
                           ? "the county view needs a token, and this hub has no [hub] tokens file"
                           : "the county view needs an inspector's token from [hub] tokens");
    }
    auto alarms = hub_->store().SplitViews();
    if (!alarms.ok()) return SendError(resp, 503, "unavailable", alarms.status().message());
    const std::vector<MirrorStatus> mirrors = hub_->mirror().Statuses();
    std::map<std::string, std::map<std::string, int64_t>> table3;
    std::map<std::string, int64_t> totals = {{"requests_open", 0},     {"requests_overdue", 0},
                                             {"requests_due_soon", 0}, {"overdue_offices", 0},
                                             {"stale_nodes", 0},       {"split_views", 0},
                                             {"not_inspected", 0}};
    daemon::JsonWriter w;
    w.BeginObject().Field("generated", When(PosixNow()));
    int year = 0;
    w.Key("nodes").BeginObject();
    for (size_t i = 0; i < mirrors.size(); ++i) {
      const MirrorStatus& m = mirrors[i];
      const Inspection& in = m.inspection;
      int split_views = 0;
      for (const storage::SplitView& a : *alarms) split_views += a.origin == hub_->OriginOf(i);
      auto witnessed = WitnessedOf(hub_->OriginOf(i));
      if (!witnessed.ok()) return SendError(resp, 503, "unavailable", witnessed.status().message());
      w.Key(m.name).BeginObject();
      WriteMirror(w, m);
      w.Field("witnessed_size", witnessed->size).Field("split_views", split_views);
      w.Key("inspected");
      if (in.fetched)
        w.String(When(in.fetched));
      else
        w.Null();
      w.Field("problem", in.problem).Key("requests").BeginObject();
      for (const auto& [k, v] : in.requests) w.Field(k, v);
      w.EndObject();
      int64_t overdue_offices = 0;
      w.Key("offices").BeginArray();
      for (const Inspection::Office& o : in.offices) {
        overdue_offices += o.overdue;
        w.BeginObject().Field("share", o.share).Field("office", o.office).Key("last_version");
        if (o.last_version.empty())
          w.Null();
        else
          w.String(o.last_version);
        w.Key("days_since");
        if (o.days_since < 0)
          w.Null();
        else
          w.Int(o.days_since);
        w.Field("overdue", o.overdue).EndObject();
      }
      w.EndArray().Field("overdue_offices", overdue_offices).EndObject();
      if (in.fetched) {
        year = in.year;
        for (const auto& [row, cells] : in.table3)
          for (const auto& [col, n] : cells) table3[row][col] += n;
        auto count = [&in](const char* k) {
          auto it = in.requests.find(k);
          return it == in.requests.end() ? int64_t{0} : it->second;
        };
        totals["requests_open"] += count("open");
        totals["requests_overdue"] += count("overdue");
        totals["requests_due_soon"] += count("due_soon");
        totals["overdue_offices"] += overdue_offices;
      } else {
        ++totals["not_inspected"];
      }
      totals["stale_nodes"] += m.stale;
      totals["split_views"] += split_views;
    }
    w.EndObject();
    w.Field("year", year).Key("table3").BeginObject();
    for (const auto& [row, cells] : table3) {
      w.Key(row).BeginObject();
      for (const auto& [col, n] : cells) w.Field(col, n);
      w.EndObject();
    }
    w.EndObject().Key("totals").BeginObject();
    for (const auto& [k, v] : totals) w.Field(k, v);
    w.EndObject().EndObject();
    Send(resp, 200, "application/json; charset=utf-8", w.str());
  }

  // GET /county (the county view's page, filled by county.js) and the
  // portal's files under /static/.
  void Page(const std::string& path, HTTPServerResponse& resp) {
    const std::string name = path == "/county" ? "county.html" : path.substr(8);
    auto it = daemon::WebAssets().find(name);
    const bool page = std::string_view(daemon::AssetType(name)).starts_with("text/html");
    if (it == daemon::WebAssets().end() || (page && name != "county.html"))
      return SendError(resp, 404, "not_found", "no such page: " + path);
    const std::string body = page ? daemon::FillHubChrome(it->second) : std::string(it->second);
    resp.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
    resp.setContentType(daemon::AssetType(name));
    daemon::SetPageHeaders(resp);
    resp.setContentLength(static_cast<std::streamsize>(body.size()));
    resp.send() << body;
  }

  static void WriteMirror(daemon::JsonWriter& w, const MirrorStatus& m) {
    w.Field("tree_size", m.tree_size).Key("synced");
    if (m.synced)
      w.String(When(m.synced));
    else
      w.Null();
    w.Field("stale", m.stale);
  }

  // GET /api/v1/search: the node's search over every node's mirror shard,
  // each result with its node, and the state of every node's mirror.
  void Search(HTTPServerRequest& req, HTTPServerResponse& resp) {
    const Poco::URI uri(req.getURI());
    const Poco::URI::QueryParameters params = uri.getQueryParameters();
    auto q = daemon::ReadSearchQuery([&params](const std::string& name) {
      for (const auto& [k, v] : params)
        if (k == name) return v;
      return std::string();
    });
    if (!q.ok()) return SendError(resp, 400, "bad_request", q.status().message());
    Result<indexer::SearchResult> result = indexer::SearchResult{};
    std::vector<MachineStatus> machines;
    if (Machines* across = hub_->machines()) {
      auto answer = across->Search(*q);
      if (answer.ok()) {
        result = std::move(answer->result);
        machines = std::move(answer->machines);
      } else {
        result = answer.status();
      }
    } else {
      result = hub_->mirror().Search(*q);
    }
    if (!result.ok() && result.status().code() == Status::Code::kInvalid)
      return SendError(resp, 400, "bad_request", result.status().message());
    if (!result.ok()) return SendError(resp, 503, "unavailable", result.status().message());
    std::vector<const indexer::SearchHit*> hits;
    hits.reserve(result->hits.size());
    for (const indexer::SearchHit& h : result->hits) hits.push_back(&h);
    const std::vector<MirrorStatus> mirrors = hub_->mirror().Statuses();
    Send(resp, 200, "application/json; charset=utf-8",
         daemon::SearchAnswerJson(
             *q, *result, hits,
             [&](daemon::JsonWriter& w, size_t i) { w.Field("node", hits[i]->doc.origin); },
             [&](daemon::JsonWriter& w) {
               w.Key("nodes").BeginObject();
               for (const MirrorStatus& m : mirrors) {
                 w.Key(m.name).BeginObject();
                 WriteMirror(w, m);
                 w.EndObject();
               }
               for (const MachineStatus& m : machines)
                 for (const RemoteNode& n : m.nodes) {
                   w.Key(n.name).BeginObject().Field("tree_size", n.tree_size).Key("synced");
                   if (n.synced.empty())
                     w.Null();
                   else
                     w.String(n.synced);
                   w.Field("stale", n.stale)
                       .Field("machine", m.name)
                       .Field("missing", m.serving.empty())
                       .EndObject();
                 }
               w.EndObject();
               if (!hub_->machines()) return;
               w.Key("machines").BeginObject();
               for (const MachineStatus& m : machines) {
                 w.Key(m.name).BeginObject().Key("serving");
                 if (m.serving.empty())
                   w.Null();
                 else
                   w.String(m.serving);
                 w.Field("problem", m.problem).EndObject();
               }
               w.EndObject().Key("missing").BeginArray();
               for (const MachineStatus& m : machines)
                 if (m.serving.empty())
                   for (const RemoteNode& n : m.nodes) w.String(n.name);
               w.EndArray();
             }));
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
