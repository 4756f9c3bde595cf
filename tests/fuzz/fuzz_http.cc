// libFuzzer target: HTTP requests against the real inquiry service.
//
// LLVMFuzzerInitialize archives three documents the way gongkaid does (the
// real archiver, catalog, blob store and signed log) into a temporary data
// folder: a public one, one in a restricted share and one in a share whose
// versions wait for review; the last two contain 機密 and "secret", in their
// text and their names. It indexes them as the feeder does and serves the API
// on a loopback port (Poco's HTTP server, the service's handlers and thread pool).
//
// Each input is sent on a new connection, then the connection is half-closed
// and the answer read. Input byte 0 chooses the mode:
//   even: the rest is sent as it is (raw bytes: request-line and header
//         parsing, chunked bodies, garbage);
//   odd:  a well-formed request is assembled from fields separated by \x01:
//         path, query string, extra header lines (\n-separated), body; the
//         method is byte 0 / 2 among GET POST HEAD PUT DELETE OPTIONS.
// In both, "@P", "@R" and "@Q" become the public, restricted and pending
// documents' ids, and "@I" the inspector token (so that the fuzzer reaches
// the authenticated paths too).
//
// Findings: a crash or sanitizer report anywhere in the service; an answer
// that is not HTTP; a 500; or, for a request without the inspector token,
// any byte of the hidden documents (their text, names or titles) in the
// answer.
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "archiver.h"
#include "auth.h"
#include "gongkai/daemon/layout.h"
#include "gongkai/indexer/index.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/keys.h"
#include "http_service.h"
#include "index_feeder.h"
#include "metrics.h"
#include "rate_limiter.h"
#include "settle_queue.h"

using namespace gongkai;
using namespace std::chrono_literals;

namespace {

const char* const kInspectorToken = "fuzz-inspector-token";

struct Service {
  std::string root;
  Config config;
  daemon::TokenStore tokens;
  std::unique_ptr<storage::Catalog> catalog;
  std::unique_ptr<storage::BlobStore> blobs;
  std::unique_ptr<indexer::Searcher> searcher;
  std::unique_ptr<daemon::CatalogPool> catalogs;
  daemon::HttpMetrics metrics;
  daemon::RateLimiter limit{0, 0};
  daemon::AdminTarget admin;          // finds documents, changes none
  disclosure::WorkCalendar calendar;  // no years: every count provisional
  std::unique_ptr<daemon::HttpService> http;
  std::string public_id, restricted_id, pending_id;
  std::vector<std::string> hidden_markers;  // ids, hashes, names and words of the hidden documents
};

Service* g = nullptr;

void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz_http setup: %s\n", what.c_str());
  std::abort();
}

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void Setup() {
  g = new Service;
  char tmpl[] = "/tmp/gongkai-fuzz-http-XXXXXX";
  g->root = ::mkdtemp(tmpl);
  const daemon::DataLayout layout(g->root + "/data");
  g->config.data_dir = layout.root;
  g->config.listen_port = 0;
  g->config.settle = 0ms;
  g->config.anonymous_search_rate = 0;
  for (const char* name : {"pub", "sec", "rev"}) {
    ShareConfig s;
    s.name = name;
    s.path = g->root + "/share/" + name;
    s.office = std::string("鄉公所-") + name;
    if (s.name == "sec") s.classification = Classification::kRestricted;
    if (s.name == "rev") s.review = Review::kRequired;
    g->config.shares.push_back(s);
  }
  const std::string public_text = "道路養護經費公開 public budget notice 政务公开";
  const std::string restricted_text = "機密文件 secret restricted 道路養護經費";
  const std::string pending_text = "待審核 機密 secret draft 經費";
  Write(g->config.shares[0].path + "/budget.txt", public_text);
  Write(g->config.shares[1].path + "/secret-機密.txt", restricted_text);
  Write(g->config.shares[2].path + "/draft-secret-機密.txt", pending_text);
  Write(g->root + "/tokens",
        "inspector " + storage::Hex(storage::Sha256Of(kInspectorToken)) + " fuzz\n");
  if (!g->tokens.Load(g->root + "/tokens").ok()) Die("tokens");

  storage::Env* env = storage::Env::Default();
  if (!env->CreateDirs(layout.root).ok()) Die("data folder");
  auto c = storage::OpenSqliteCatalog(layout.catalog(), env);
  if (!c.ok()) Die(c.status().ToString());
  g->catalog = std::move(*c);
  auto b = storage::BlobStore::Open(env, layout.blobs(), layout.tmp());
  if (!b.ok()) Die(b.status().ToString());
  g->blobs = std::move(*b);
  auto key = storage::LoadOrCreateSigningKey(env, layout.keys(), g->catalog.get());
  if (!key.ok()) Die(key.status().ToString());
  daemon::SettleQueue queue;
  ledger::Ledger ledger(g->catalog.get(), env, g->config.origin);
  daemon::Archiver archiver(g->config, &ledger, g->blobs.get(),
                            std::shared_ptr<const storage::SigningKey>(std::move(*key)), &queue,
                            [](int64_t) {});
  for (size_t i = 0; i < g->config.shares.size(); ++i) archiver.RequestRescan(i);
  for (int i = 0; i < 10; ++i) archiver.RunOnce(0ms);

  // The index as the feeder builds it (BuildIndexDocs decides who sees what
  // from the catalog), with each file's text instead of a worker's.
  auto docs = g->catalog->AllDocuments();
  if (!docs.ok() || docs->size() != 3) Die("expected 3 archived documents");
  auto writer = indexer::IndexWriter::Open(layout.index());
  if (!writer.ok()) Die(writer.status().ToString());
  for (const storage::DocumentRow& doc : *docs) {
    auto state = ledger::LoadDocument(*g->catalog, doc.id);
    if (!state.ok() || !state->has_value()) Die("document " + doc.id);
    auto views = daemon::BuildIndexDocs(g->config, *g->blobs, **state, /*with_text=*/false);
    if (!views.ok()) Die(views.status().ToString());
    const bool hidden = doc.share != "pub";
    for (indexer::IndexDoc& d : *views) {
      if (d.for_public == hidden) Die("unexpected visibility of " + doc.path);
      d.text = doc.share == "pub"   ? public_text
               : doc.share == "sec" ? restricted_text
                                    : pending_text;
      if (!(*writer)->Replace(d).ok()) Die("index");
      if (hidden)
        for (const std::string& m : {doc.id, d.sha256, doc.path}) g->hidden_markers.push_back(m);
    }
    (doc.share == "pub"   ? g->public_id
     : doc.share == "sec" ? g->restricted_id
                          : g->pending_id) = doc.id;
  }
  for (const char* word : {"機密", "secret", "待審核", "%E6%A9%9F%E5%AF%86"})
    g->hidden_markers.push_back(word);
  if (!(*writer)->Commit(g->catalog->Records(0, 1000)->back().seq).ok()) Die("commit");
  writer->reset();

  g->searcher = std::make_unique<indexer::Searcher>(layout.index());
  g->catalogs = std::make_unique<daemon::CatalogPool>(/*postgres=*/"", layout.catalog(), env);
  g->admin.find_document =
      [](const std::string& id) -> Result<std::optional<storage::DocumentRow>> {
    auto lease = g->catalogs->Borrow();
    if (!lease.ok()) return lease.status();
    return (*lease)->GetDocument(id);
  };
  g->admin.apply = [](ledger::Change) -> Result<ledger::Change> {
    return Status::Invalid("read-only fuzz service");
  };
  g->http = std::make_unique<daemon::HttpService>(
      daemon::ServiceContext{.config = &g->config,
                             .tokens = &g->tokens,
                             .searcher = g->searcher.get(),
                             .catalogs = g->catalogs.get(),
                             .blobs = g->blobs.get(),
                             .admin = &g->admin,
                             .calendar = &g->calendar,
                             .metrics = &g->metrics,
                             .anonymous_search_limit = &g->limit});
  if (Status s = g->http->Start(); !s.ok()) Die(s.ToString());
}

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size())
    s.replace(p, from.size(), to);
}

std::string BuildRequest(const uint8_t* data, size_t size) {
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  ReplaceAll(rest, "@P", g->public_id);
  ReplaceAll(rest, "@R", g->restricted_id);
  ReplaceAll(rest, "@Q", g->pending_id);
  ReplaceAll(rest, "@I", kInspectorToken);
  if (data[0] % 2 == 0) return rest;
  static const char* const kMethods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"};
  std::string field[4];
  size_t k = 0;
  for (char c : rest) {
    if (c == '\x01' && k < 3)
      ++k;
    else
      field[k] += c;
  }
  for (int i = 0; i < 3; ++i) {  // no line breaks inside the request line or a header
    ReplaceAll(field[i], "\r", "");
    if (i < 2) ReplaceAll(field[i], "\n", "");
  }
  std::string path = field[0].empty() || field[0][0] != '/' ? "/" + field[0] : field[0];
  if (!field[1].empty()) path += "?" + field[1];
  std::string req =
      std::string(kMethods[(data[0] / 2) % 6]) + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (size_t p = 0, e; p < field[2].size(); p = e + 1) {
    e = field[2].find('\n', p);
    if (e == std::string::npos) e = field[2].size();
    if (e > p) req += field[2].substr(p, e - p) + "\r\n";
  }
  req += "Content-Length: " + std::to_string(field[3].size()) + "\r\nConnection: close\r\n\r\n" +
         field[3];
  return req;
}

// Sends `request` on a new connection, half-closes it and reads the answer
// until the server closes (or 10 s pass: the service's own timeouts are shorter).
std::string Exchange(const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) Die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(g->http->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("connect");
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on a bad request
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[65536];
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

// `body` without what a search or suggest answer echoes of the caller's own
// query: the service decodes a malformed escape its own way, so those may
// hold words the request spells differently (the fuzzer found
// "%E5%AF%8\xff6" read as 密).
std::string WithoutEchoInBody(const std::string& body) {
  try {
    Poco::JSON::Parser parser;
    auto object = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    if (!object) return body;
    for (const char* echo : {"q", "optional", "dropped"}) object->remove(echo);
    std::ostringstream rest;
    object->stringify(rest);
    return rest.str();
  } catch (const Poco::Exception&) {  // not a JSON object: all of it counts
    return body;
  }
}

// `answer` without the echoes, answer by answer: a request whose body holds
// another request gets two answers on the connection (the fuzzer found a
// suggest answer followed by a 400), each body as long as its Content-Length.
std::string WithoutEcho(const std::string& answer) {
  std::string out;
  for (size_t at = 0; at < answer.size();) {
    const size_t head_end = answer.find("\r\n\r\n", at);
    if (head_end == std::string::npos) return out + answer.substr(at);
    const std::string head = answer.substr(at, head_end + 4 - at);
    const size_t body = head_end + 4;
    size_t length = answer.size() - body;
    if (const size_t cl = head.find("\r\nContent-Length: "); cl != std::string::npos)
      length = std::min<size_t>(length, std::strtoull(head.c_str() + cl + 18, nullptr, 10));
    out += head + WithoutEchoInBody(answer.substr(body, length));
    at = body + length;
  }
  return out;
}

// Whether `answer` shows something of a hidden document that `request` did
// not itself contain (error messages may echo what was asked). A leaked
// search hit, listing entry or proof always carries the document's id or its
// version's hash, which the anonymous requester does not know.
// The request target's query parameters as the service reads them: Poco's
// URI parsing, which has its ways with malformed escapes and stray bytes (the
// fuzzer found "%E5%AF%8\xff6" read as 密). "" when it refuses them.
std::string ParametersAsRead(const std::string& request) {
  const size_t start = request.find(' '), end = request.find(" HTTP/");
  if (start == std::string::npos || end == std::string::npos || end <= start) return "";
  const std::string target = request.substr(start + 1, end - start - 1);
  // As read, the target has lost the bytes no UTF-8 text holds (C0, C1, F5-FF).
  std::string read;
  for (char c : target)
    if (const auto b = static_cast<unsigned char>(c); b != 0xC0 && b != 0xC1 && b < 0xF5) read += c;
  std::string out;
  for (const std::string& t : {target, read}) {
    try {
      for (const auto& [name, value] : Poco::URI(t).getQueryParameters())
        out += name + "=" + value + "\n";
    } catch (const Poco::Exception&) {  // refused: nothing to add
    }
  }
  return out;
}

bool Reveals(const std::string& full_answer, const std::string& request) {
  const std::string answer = WithoutEcho(full_answer);
  // The caller's own words come back (a relaxed search lists the query's
  // words, the home page fills its search box), so what the request says,
  // as written and as the service decodes it, counts as said too.
  const std::string said[] = {request, ParametersAsRead(request)};
  for (const std::string& marker : g->hidden_markers)
    if (answer.find(marker) != std::string::npos &&
        std::none_of(std::begin(said), std::end(said),
                     [&](const std::string& s) { return s.find(marker) != std::string::npos; }))
      return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Setup();
  std::atexit([] {
    g->http->Stop();
    std::filesystem::remove_all(g->root);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 64 * 1024) return 0;
  const std::string request = BuildRequest(data, size);
  const std::string answer = Exchange(request);
  if (answer.empty()) return 0;  // closed without an answer: allowed for garbage
  if (answer.rfind("HTTP/1.", 0) != 0) {
    std::fprintf(stderr, "not an HTTP answer:\n%s\n", answer.substr(0, 300).c_str());
    std::abort();
  }
  if (answer.compare(9, 3, "500") == 0) {
    std::fprintf(stderr, "500 for:\n%s\n---\n%s\n", request.substr(0, 500).c_str(),
                 answer.substr(0, 500).c_str());
    std::abort();
  }
  // The hidden documents' ids are in the request itself when the input asked
  // for them; only the answer's body and headers count.
  if (request.find(kInspectorToken) == std::string::npos && Reveals(answer, request)) {
    std::fprintf(stderr, "anonymous answer reveals a hidden document:\n%s\n---\n%s\n",
                 request.substr(0, 500).c_str(), answer.substr(0, 2000).c_str());
    std::abort();
  }
  return 0;
}
