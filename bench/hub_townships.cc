// Simulated townships for bench/hub.sh: one process serving N nodes' logs and
// public documents on one loopback port, so that a county of 200 townships
// fits on a 2-core machine (200 real gongkaid processes do not).
//
//   hub_townships --pages-dir DIR --nodes N --pages P --nodes-out FILE [--port PORT]
//
// Node k (t000, t001, ...) is served under http://127.0.0.1:PORT/tNNN exactly
// as gongkaid serves what the hub's mirror reads (CONTRACT.md section 10):
//   /tlog/checkpoint                  signed by the node's own Ed25519 key
//   /tlog/tile/entries/N[.p/W]        its records, one per page, in bundles
//   /api/v1/documents/ID              the document's JSON (office, meta, versions)
//   /api/v1/documents/ID/versions/1/content
// Page j of node k is file (k*P + j) mod F of DIR (the HTML pages
// bench/make_html.py writes, F of them), with one comment line naming the
// node appended, so that no two nodes serve the same bytes. Everything else
// answers 404 (the hub's inspection reads then fail, which the mirror only
// notes).
//
// FILE receives one [node.tNNN] section per node (url, note_key) for the hub's
// configuration; the program prints "ready PORT" when it serves.
//
// Control, for the benchmark's scenarios (GET, answers JSON):
//   /_control/down?count=K   nodes 0..K-1 answer 503 from now on (down)
//   /_control/up             every node answers again
//   /_control/add?node=K&marker=WORD
//                            node K appends a new public document whose text
//                            holds WORD (its new checkpoint is signed at once)
//   /_control/fork?node=K    node K rewrites its history: record 0 names other
//                            bytes, and one record is appended, so its new
//                            checkpoint is signed but inconsistent with the old
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/keys.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"
#include "gongkai/storage/tiles.h"

namespace {

namespace st = gongkai::storage;

struct Page {
  size_t file = 0;     // index into the page files
  std::string extra;   // appended to the file's bytes ("" for none)
  std::string sha256;  // of file + extra
  uint64_t size = 0;
};

struct Node {
  std::string name, origin;
  std::unique_ptr<st::SigningKey> key;
  std::vector<Page> pages;           // page j is document "NAMEpJ"
  std::vector<std::string> records;  // serialized, record i = seq i
  std::string checkpoint;            // signed note over records
};

class Townships {
 public:
  explicit Townships(std::vector<std::string> files) : files_(std::move(files)) {}

  void AddNode(size_t k, size_t pages) {
    auto n = std::make_unique<Node>();
    const std::string digits = std::to_string(k);
    n->name = "t" + std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits;
    n->origin = n->name + ".bench.gongkai.test";
    n->key = std::move(*st::SigningKey::Generate());
    const std::string extra = "<!-- " + n->name + " -->\n";
    for (size_t j = 0; j < pages; ++j) AppendPage(*n, (k * pages + j) % files_.size(), extra);
    Sign(*n);
    nodes_.push_back(std::move(n));
  }

  std::string NodeSections(const std::string& base) const {
    std::string out;
    for (const auto& n : nodes_)
      out += "[node." + n->name + "]\nurl = " + base + "/" + n->name +
             "\nnote_key = " + st::NoteVerifierKey(n->origin, n->key->RawPublic()) + "\n\n";
    return out;
  }

  // Returns the status and body for `path` (the URI's path) and `query`.
  int Serve(const std::string& path, const Poco::URI::QueryParameters& query, std::string* body) {
    if (path.rfind("/_control/", 0) == 0) return Control(path.substr(10), query, body);
    const size_t slash = path.find('/', 1);
    if (slash == std::string::npos) return 404;
    const std::string name = path.substr(1, slash - 1), rest = path.substr(slash);
    std::lock_guard lock(mu_);
    Node* n = Find(name);
    if (!n) return 404;
    if (IndexOf(*n) < down_) return 503;
    if (rest == "/tlog/checkpoint") {
      *body = n->checkpoint;
      return 200;
    }
    if (rest.rfind("/tlog/tile/", 0) == 0) {
      auto tile = st::ParseTilePath(rest.substr(11));
      if (!tile || !tile->entries) return 404;
      const uint64_t first = tile->index * st::kTileWidth;
      if (first + tile->width > n->records.size()) return 404;
      for (uint64_t i = first; i < first + tile->width; ++i) {
        const std::string& r = n->records[i];
        body->push_back(static_cast<char>(r.size() >> 8));
        body->push_back(static_cast<char>(r.size() & 0xFF));
        *body += r;
      }
      return 200;
    }
    const std::string docs = "/api/v1/documents/" + n->name + "p";
    if (rest.rfind(docs, 0) != 0) return 404;
    const std::string tail = rest.substr(docs.size());
    const size_t digits = std::min(tail.find('/'), tail.size());
    size_t j = 0;
    try {
      j = std::stoul(tail.substr(0, digits));
    } catch (...) {
      return 404;
    }
    if (j >= n->pages.size()) return 404;
    const Page& p = n->pages[j];
    if (tail.substr(digits) == "/versions/1/content") {
      *body = files_[p.file] + p.extra;
      return 200;
    }
    if (digits != tail.size()) return 404;
    *body = R"({"id":")" + n->name + "p" + std::to_string(j) + R"(","office":")" + n->name +
            R"(","meta":{},"versions":[{"version":1,"sha256":")" + p.sha256 + "\"}]}";
    return 200;
  }

 private:
  Node* Find(const std::string& name) {
    for (auto& n : nodes_)
      if (n->name == name) return n.get();
    return nullptr;
  }
  size_t IndexOf(const Node& n) const { return static_cast<size_t>(std::stoul(n.name.substr(1))); }

  // Page j's record is record j: a public, approved first version.
  static std::string Record(const Node& n, size_t j) {
    st::RecordFields r;
    r.seq = j;
    r.doc = n.name + "p" + std::to_string(j);
    r.share = "pub";
    r.path = r.doc + ".html";
    r.version = 1;
    r.sha256 = n.pages[j].sha256;
    r.size = n.pages[j].size;
    r.time = r.modified = "2026-12-01T00:00:00Z";
    r.key = n.key->KeyId();
    return st::SerializeRecord(r);
  }

  void Hash(Page& p) const {
    const std::string bytes = files_[p.file] + p.extra;
    p.sha256 = st::Hex(st::Sha256Of(bytes));
    p.size = bytes.size();
  }

  void AppendPage(Node& n, size_t file, const std::string& extra) {
    n.pages.push_back({file, extra, "", 0});
    Hash(n.pages.back());
    n.records.push_back(Record(n, n.pages.size() - 1));
  }

  static void Sign(Node& n) {
    st::StreamingTree tree;
    for (const std::string& r : n.records) tree.Append(st::LeafHash(r));
    n.checkpoint = st::SignCheckpoint({n.origin, tree.size(), tree.Root()}, *n.key);
  }

  int Control(const std::string& what, const Poco::URI::QueryParameters& query, std::string* body) {
    auto param = [&](const std::string& key) -> std::string {
      for (const auto& [k, v] : query)
        if (k == key) return v;
      return "";
    };
    std::lock_guard lock(mu_);
    if (what == "down" || what == "up") {
      down_ = what == "up" ? 0 : std::stoul(param("count"));
      *body = "{\"down\":" + std::to_string(down_) + "}";
      return 200;
    }
    Node* n = nodes_.at(std::stoul(param("node"))).get();
    if (what == "add") {
      // A page of its own: the marker in an HTML body of its own bytes.
      files_.push_back("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" +
                       param("marker") + "</title></head><body><p>" + param("marker") +
                       " 新公告</p></body></html>\n");
      AppendPage(*n, files_.size() - 1, "");
    } else if (what == "fork") {
      Page& first = n->pages.at(0);  // record 0 again, now naming other bytes
      first.extra += "<!-- rewritten -->\n";
      Hash(first);
      n->records[0] = Record(*n, 0);
      AppendPage(*n, n->pages[1 % n->pages.size()].file, "<!-- after the fork -->\n");
    } else {
      return 404;
    }
    Sign(*n);
    *body = "{\"node\":\"" + n->name + "\",\"size\":" + std::to_string(n->records.size()) + "}";
    return 200;
  }

  std::vector<std::string> files_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::mutex mu_;
  size_t down_ = 0;
};

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(Townships* t) : t_(t) {}
  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    std::string body;
    int status = 500;
    try {
      const Poco::URI uri(req.getURI());
      status = t_->Serve(uri.getPath(), uri.getQueryParameters(), &body);
    } catch (const std::exception& e) {
      body = e.what();
    }
    resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    resp.setContentLength(static_cast<std::streamsize>(body.size()));
    resp.send() << body;
  }

 private:
  Townships* t_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Townships* t) : t_(t) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(t_);
  }

 private:
  Townships* t_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir, nodes_out;
  size_t nodes = 0, pages = 0;
  uint16_t port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--pages-dir")
      dir = v;
    else if (a == "--nodes")
      nodes = std::stoul(v);
    else if (a == "--pages")
      pages = std::stoul(v);
    else if (a == "--nodes-out")
      nodes_out = v;
    else if (a == "--port")
      port = static_cast<uint16_t>(std::stoul(v));
  }
  if (dir.empty() || nodes == 0 || pages == 0 || nodes_out.empty()) {
    std::cerr << "usage: hub_townships --pages-dir DIR --nodes N --pages P --nodes-out FILE "
                 "[--port PORT]\n";
    return 2;
  }
  std::vector<std::filesystem::path> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".html") names.push_back(e.path());
  std::sort(names.begin(), names.end());
  names.resize(std::min(names.size(), nodes * pages));
  if (names.empty()) {
    std::cerr << "hub_townships: no .html pages in " << dir << "\n";
    return 1;
  }
  std::vector<std::string> files;
  for (const auto& p : names) {
    std::ifstream in(p, std::ios::binary);
    files.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  Townships towns(std::move(files));
  for (size_t k = 0; k < nodes; ++k) towns.AddNode(k, pages);

  // Blocked before the server's threads start, so that they inherit the mask
  // and sigwait() below receives SIGTERM and SIGINT.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(32);
  params->setMaxQueued(1024);
  Poco::Net::HTTPServer server(new Factory(&towns), socket, params);
  server.start();
  const std::string base = "http://127.0.0.1:" + std::to_string(socket.address().port());
  std::ofstream(nodes_out) << towns.NodeSections(base);
  std::cout << "ready " << socket.address().port() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  server.stopAll(true);
  return 0;
}
