#include <algorithm>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/tiles.h"
#include "http_handlers.h"
#include "json_writer.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

void ServeCheckpoint(Call& call) {
  auto catalog = call.BorrowCatalog();
  SendText(call.resp, HTTPResponse::HTTP_OK, "text/plain; charset=utf-8",
           ServedCheckpoint(call, LatestCheckpointOf(catalog.get())));
}

void ServeConsistency(Call& call) {
  auto catalog = call.BorrowCatalog();
  const storage::CheckpointRow cp = LatestCheckpointOf(catalog.get());
  int64_t from = 0, to = cp.size;
  if (!ParseInt(call.Param("from"), 0, cp.size, &from) ||
      (!call.Param("to").empty() && !ParseInt(call.Param("to"), from, cp.size, &to)))
    throw ApiError{
        HTTPResponse::HTTP_BAD_REQUEST, "bad_request",
        "need 0 <= from <= to <= " + std::to_string(cp.size) + " (the latest tree size)"};
  const auto proof = OrThrow(storage::ConsistencyProof(
      static_cast<uint64_t>(from), static_cast<uint64_t>(to), catalog->Nodes()));
  JsonWriter w;
  w.BeginObject().Field("from", from).Field("to", to).Key("proof").BeginArray();
  for (const auto& h : proof) w.String(storage::Hex(h));
  w.EndArray().EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_OK, w.str());
}

// At most 1,000 records from `start`, up to `end` (exclusive) when given.
void ServeEntries(Call& call) {
  auto catalog = call.BorrowCatalog();
  const std::string start_param = call.Param("start"), end_param = call.Param("end");
  int64_t start = 0, end = 0;
  if (!ParseInt(start_param.empty() ? "0" : start_param, 0, INT64_C(1) << 50, &start) ||
      (!end_param.empty() && !ParseInt(end_param, start, INT64_C(1) << 50, &end)))
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "need 0 <= start <= end"};
  constexpr int64_t kMax = 1000;
  if (end_param.empty()) end = start + kMax;
  const auto records = OrThrow(catalog->Records(start, std::min(end - start, kMax)));
  JsonWriter w;
  w.BeginObject().Key("entries").BeginArray();
  for (const auto& r : records)
    w.BeginObject()
        .Field("log_index", r.seq)
        .Field("record", r.record)
        .Field("signature", r.signature)
        .Field("key_id", r.key_id)
        .EndObject();
  w.EndArray().EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_OK, w.str());
}

// GET /tlog/tile/<L>/<N>[.p/<W>] and /tlog/tile/entries/<N>[.p/<W>]: the
// tiles of the latest checkpoint's tree and of every earlier one
// (storage/tiles.h). Hash tiles are public; entry bundles hold records,
// which name restricted documents, so they need an inspector's token. What a
// tile path names never changes.
void ServeTile(Call& call) {
  const auto tile = storage::ParseTilePath(call.path.at("tile"));
  if (!tile) throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such tile"};
  if (tile->entries && call.anonymous())
    throw ApiError{HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized",
                   "entry bundles need an inspector token"};
  auto catalog = call.BorrowCatalog();
  const auto size = static_cast<uint64_t>(LatestCheckpointOf(catalog.get()).size);
  if (!storage::InTree(*tile, size))
    throw ApiError{
        HTTPResponse::HTTP_NOT_FOUND, "not_found",
        "tile " + storage::TilePath(*tile) + " is not in the tree of size " + std::to_string(size)};
  std::string body;
  if (tile->entries) {
    const auto first = static_cast<int64_t>(tile->index * storage::kTileWidth);
    for (const auto& r : OrThrow(catalog->Records(first, static_cast<int64_t>(tile->width)))) {
      if (r.record.size() > 0xFFFF)
        throw std::runtime_error("record " + std::to_string(r.seq) +
                                 " is longer than an entry bundle can hold (64 KiB)");
      body += static_cast<char>(r.record.size() >> 8);
      body += static_cast<char>(r.record.size() & 0xFF);
      body += r.record;
    }
  } else {
    body = OrThrow(storage::HashTile(*tile, size, catalog->Nodes()));
  }
  // Records are for token holders only; a hash tile never changes.
  call.resp.set("Cache-Control",
                tile->entries ? "private, no-store" : "public, max-age=31536000, immutable");
  // An entry bundle's records are JSON and pack about fivefold (a mirror's
  // first sync reads every one); hash tiles are random bytes.
  if (tile->entries) {
    SendPacked(call, "application/octet-stream", body);
    return;
  }
  call.resp.setStatusAndReason(HTTPResponse::HTTP_OK);
  call.resp.setContentType("application/octet-stream");
  call.resp.setContentLength64(static_cast<Poco::UInt64>(body.size()));
  call.resp.send() << body;
}

void ServeKeys(Call& call) {
  auto catalog = call.BorrowCatalog();
  const auto keys = OrThrow(catalog->Keys());
  JsonWriter w;
  w.BeginObject().Key("keys").BeginArray();
  for (const auto& k : keys) {
    auto raw = storage::RawPublicFromPem(k.public_pem);
    w.BeginObject()
        .Field("key_id", k.key_id)
        .Field("algorithm", "ed25519")
        .Field("public_key_pem", k.public_pem)
        .Field("note_key", raw.ok() ? storage::NoteVerifierKey(call.ctx.config->origin, *raw) : "")
        .Field("created", k.created);
    w.Key("retired");
    if (k.retired.empty())
      w.Null();
    else
      w.String(k.retired);
    w.EndObject();
  }
  w.EndArray().EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_OK, w.str());
}

}  // namespace gongkai::daemon
