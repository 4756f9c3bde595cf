// The witness's state in PostgreSQL. Advance is one conditional statement, so
// the check of the held size and the update are atomic for every process
// sharing the database.
#include <mutex>
#include <string>

#include "gongkai/storage/witness.h"
#include "postgres_connection.h"

namespace gongkai::storage {
namespace {

using pg::Rows;

constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(29103276584493418)";
const char* const kSchema[] = {
    "CREATE TABLE IF NOT EXISTS witness_checkpoints(origin TEXT COLLATE \"C\" PRIMARY KEY,"
    " size BIGINT NOT NULL, root BYTEA NOT NULL, note TEXT NOT NULL,"
    " updated TIMESTAMPTZ NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS witness_split_views(id BIGSERIAL PRIMARY KEY,"
    " origin TEXT NOT NULL, reason TEXT NOT NULL, held TEXT NOT NULL, submitted TEXT NOT NULL,"
    " at BIGINT NOT NULL)",
};

std::string Bytes(const Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

class PostgresWitnessStore final : public WitnessStore {
 public:
  explicit PostgresWitnessStore(std::unique_ptr<pg::Connection> db) : db_(std::move(db)) {}

  Status Init() {
    std::lock_guard lock(mu_);
    Status s = db_->Call("witness schema", [&]() -> Status {
      db_->Begin();
      db_->Query(kSchemaLock);
      db_->Query("SET LOCAL client_min_messages = warning");  // no "already exists" notices
      for (const char* sql : kSchema) db_->Query(sql);
      db_->Commit();
      return Status::OK();
    });
    if (!s.ok()) db_->Rollback();
    return s;
  }

  Result<std::optional<WitnessedCheckpoint>> Latest(const std::string& origin) override {
    std::lock_guard lock(mu_);
    return db_->Call("witness state", [&]() -> Result<std::optional<WitnessedCheckpoint>> {
      Rows rows = db_->Query("SELECT size, root, note FROM witness_checkpoints WHERE origin = $1",
                             {origin});
      if (rows.empty()) return std::optional<WitnessedCheckpoint>();
      WitnessedCheckpoint c;
      c.size = static_cast<uint64_t>(rows.Int(0, 0));
      const std::string& root = rows.Text(0, 1);
      if (root.size() != c.root.size())
        return Status::Corruption("witness state for '" + origin + "': a root of " +
                                  std::to_string(root.size()) + " bytes");
      std::copy(root.begin(), root.end(), c.root.begin());
      c.note = rows.Text(0, 2);
      return std::optional<WitnessedCheckpoint>(std::move(c));
    });
  }

  Result<uint64_t> Advance(const std::string& origin, uint64_t old_size,
                           const WitnessedCheckpoint& next) override {
    std::lock_guard lock(mu_);
    return db_->Call("witness update", [&]() -> Result<uint64_t> {
      const std::vector<std::string> params = {origin, std::to_string(old_size),
                                               std::to_string(next.size),
                                               pg::ByteaLiteral(Bytes(next.root)), next.note};
      // The row is created by a first checkpoint (old size 0) or moved on
      // from exactly the size the request was checked against.
      Rows done = db_->Query(
          "INSERT INTO witness_checkpoints(origin, size, root, note) VALUES($1, $3, $4, $5)"
          " ON CONFLICT(origin) DO UPDATE SET size = EXCLUDED.size, root = EXCLUDED.root,"
          " note = EXCLUDED.note, updated = now() WHERE witness_checkpoints.size = $2::BIGINT"
          " RETURNING origin",
          params);
      if (!done.empty()) return old_size;
      Rows held = db_->Query("SELECT size FROM witness_checkpoints WHERE origin = $1", {origin});
      return held.empty() ? uint64_t{0} : static_cast<uint64_t>(held.Int(0, 0));
    });
  }

  Status RecordSplitView(const SplitView& alarm) override {
    std::lock_guard lock(mu_);
    return db_->Call("split view", [&]() -> Status {
      db_->Query(
          "INSERT INTO witness_split_views(origin, reason, held, submitted, at)"
          " VALUES($1, $2, $3, $4, $5)",
          {alarm.origin, alarm.reason, alarm.held, alarm.submitted, std::to_string(alarm.at)});
      return Status::OK();
    });
  }

  Result<std::vector<SplitView>> SplitViews() override {
    std::lock_guard lock(mu_);
    return db_->Call("split views", [&]() -> Result<std::vector<SplitView>> {
      Rows rows = db_->Query(
          "SELECT origin, reason, held, submitted, at FROM witness_split_views ORDER BY id");
      std::vector<SplitView> out;
      for (size_t i = 0; i < rows.size(); ++i)
        out.push_back(
            {rows.Text(i, 0), rows.Text(i, 1), rows.Text(i, 2), rows.Text(i, 3), rows.Int(i, 4)});
      return out;
    });
  }

 private:
  std::mutex mu_;
  std::unique_ptr<pg::Connection> db_;
};

}  // namespace

Result<std::unique_ptr<WitnessStore>> OpenPostgresWitnessStore(const std::string& conninfo) {
  auto db = pg::Connection::Open(conninfo);
  if (!db.ok()) return db.status();
  auto store = std::make_unique<PostgresWitnessStore>(std::move(*db));
  if (Status s = store->Init(); !s.ok()) return s;
  return std::unique_ptr<WitnessStore>(std::move(store));
}

}  // namespace gongkai::storage
