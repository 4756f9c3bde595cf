// One PostgreSQL connection for the catalog, through Poco::Data::PostgreSQL:
// its statements, its transaction state, reconnection, and the translation
// of Poco's exceptions into Status values. Poco types and exceptions stay
// inside storage/src.
//
// Thread-safety: none; like the Catalog that owns it, one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catalog_columns.h"
#include "gongkai/status.h"

namespace Poco {
class Exception;
namespace Data {
class Session;
class Statement;
}  // namespace Data
}  // namespace Poco

namespace gongkai::storage::pg {

// A query's result, copied out of Poco: every value in its text form (BYTEA
// as its raw bytes), "" for NULL.
class Rows {
 public:
  struct Cell {
    std::string value;
    bool null = false;
  };
  explicit Rows(std::vector<std::vector<Cell>> rows) : rows_(std::move(rows)) {}
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::string& Text(size_t row, size_t col) const { return rows_.at(row).at(col).value; }
  int64_t Int(size_t row, size_t col) const;  // 0 for NULL
  bool Null(size_t row, size_t col) const { return rows_.at(row).at(col).null; }

 private:
  std::vector<std::vector<Cell>> rows_;
};

// What the server (or libpq) said about the exception being handled: the
// first line of its message. Call only inside a catch block.
std::string CurrentError();

// The text form PostgreSQL reads as BYTEA ("\x" and hex).
std::string ByteaLiteral(const std::string& bytes);
// The text form PostgreSQL reads as TEXT[] ({"a","b"}).
std::string ArrayLiteral(const std::vector<std::string>& values);

class Connection {
 public:
  // Connects to `conninfo`, a postgresql:// URI or libpq key=value pairs;
  // Invalid when it does not parse, IOError when the server cannot be reached.
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` with `params` bound to $1, $2, ... as text (PostgreSQL
  // converts them to the columns' types) and returns its rows. Throws
  // Poco::Exception.
  Rows Query(const std::string& sql, const std::vector<std::string>& params = {});

  // Transactions. Begin() throws Poco::Exception; Commit() throws too, and
  // refuses a transaction a statement failed in (PostgreSQL would roll it
  // back and answer as if it had committed). Rollback() never fails.
  void Begin(const std::string& begin_sql = "BEGIN");
  void Commit();
  void Rollback();
  bool in_transaction() const { return in_transaction_; }

  // Runs `f` (which may throw Poco::Exception) and returns its result, or
  // the error as a Status prefixed with `what`. Outside a transaction a
  // broken connection is re-established first, and `f` runs once more on a
  // new connection if the old one broke during the call: every call outside
  // a transaction is a read or an idempotent write.
  template <typename F>
  auto Call(const std::string& what, F&& f) -> decltype(f()) {
    const bool may_retry = !in_transaction_;
    for (int attempt = 0;; ++attempt) {
      try {
        if (!in_transaction_) EnsureConnected();
      } catch (...) {
        return Failure(what);
      }
      try {
        return f();
      } catch (const CorruptColumn& e) {  // the query worked; a value in it is bad
        return Status::Corruption("catalog " + what + " (" + target_ + "): " + e.what());
      } catch (...) {
        if (may_retry && attempt == 0 && !connected()) {
          Rollback();  // forgets a transaction `f` began on the old connection
          continue;
        }
        return Failure(what);
      }
    }
  }

  // "database D on H", for messages (never the password).
  const std::string& target() const { return target_; }

 private:
  Connection(std::unique_ptr<Poco::Data::Session> session, std::string target);
  bool connected() const;
  void EnsureConnected();  // throws Poco::Exception
  void Configure();        // the session settings every connection gets; throws
  // The Status of the exception being handled, as the server worded it.
  // Marks a transaction a statement failed in.
  Status Failure(const std::string& what);

  std::unique_ptr<Poco::Data::Session> session_;
  // Statements that failed inside the transaction, kept until it ends: their
  // DEALLOCATE cannot run in an aborted transaction.
  std::vector<std::unique_ptr<Poco::Data::Statement>> failed_;
  std::string target_;
  bool in_transaction_ = false;
  bool transaction_failed_ = false;
};

}  // namespace gongkai::storage::pg
