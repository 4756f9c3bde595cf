#include "postgres_connection.h"

#include <Poco/Data/DataException.h>
#include <Poco/Data/LOB.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <stdexcept>

namespace gongkai::storage::pg {
namespace {

using Poco::Data::RecordSet;
using Poco::Data::Session;
using Poco::Data::Statement;
using Options = std::map<std::string, std::string>;

// The options `conninfo` sets, parsed by libpq itself (URIs and key=value
// pairs alike); Invalid with libpq's reason when it does not parse.
Result<Options> ParseConninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
  if (!parsed) {
    std::string why = error ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Status::Invalid("PostgreSQL connection string: " + why);
  }
  Options out;
  for (const PQconninfoOption* o = parsed; o->keyword; ++o)
    if (o->val && *o->val) out[o->keyword] = o->val;
  PQconninfoFree(parsed);
  return out;
}

// Poco's connection string: it splits at spaces and hands the pairs on
// unquoted, so a value with a space, quote or backslash cannot go through.
// Text is exchanged as UTF-8 whatever the client's locale.
Result<std::string> PocoConnectionString(Options options) {
  options["client_encoding"] = "UTF8";
  options.emplace("application_name", "gongkai");
  options.emplace("connect_timeout", "10");
  std::string out;
  for (const auto& [key, value] : options) {
    if (value.find_first_of(" \t\r\n'\\") != std::string::npos)
      return Status::Invalid(
          "PostgreSQL connection string: the value of " + key +
          " contains a space, quote or backslash, which Poco cannot pass on" +
          (key == "password" ? " (put the password in ~/.pgpass or PGPASSFILE instead)" : ""));
    out += key + "=" + value + " ";
  }
  return out;
}

std::string TargetOf(const Options& options) {
  auto get = [&](const char* key) {
    auto it = options.find(key);
    return it == options.end() ? std::string() : it->second;
  };
  std::string target =
      "PostgreSQL database " + (get("dbname").empty() ? "(the user's)" : "'" + get("dbname") + "'");
  if (!get("host").empty())
    target += " on " + get("host") + (get("port").empty() ? "" : " port " + get("port"));
  return target;
}

// Connects with libpq alone and hangs up: Poco loses the connection object of
// a connect that fails (it finishes only good ones, about 37 KB each), so a
// server that is down, a missing database or a refused login is found here.
Status Reachable(const std::string& conninfo, const std::string& target) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> probe(PQconnectdb(conninfo.c_str()), PQfinish);
  if (PQstatus(probe.get()) == CONNECTION_OK) return Status::OK();
  std::string why = probe ? PQerrorMessage(probe.get()) : "out of memory";
  if (size_t fatal = why.find("FATAL:  "); fatal != std::string::npos) why = why.substr(fatal + 8);
  return Status::IOError("cannot connect to " + target + ": " + why.substr(0, why.find('\n')));
}

// What the server or libpq said, out of Poco's wording ("postgresql_stmt_execute
// error: ERROR:  <text>\n... State: 53100 ..."): the first line of the text,
// and the SQLSTATE when Poco appended one.
struct ServerError {
  std::string text;
  std::string sqlstate;
};

ServerError ParseServerError(const std::string& message) {
  ServerError out;
  size_t start = 0;
  for (const char* marker : {"ERROR:  ", "FATAL:  ", "PANIC:  ", "error: ", "Error: "}) {
    if (size_t at = message.find(marker); at != std::string::npos) {
      start = at + std::string(marker).size();
      break;
    }
  }
  out.text = message.substr(start, message.find('\n', start) - start);
  while (!out.text.empty() && out.text.back() == ' ') out.text.pop_back();
  if (out.text.empty()) out.text = message;
  if (size_t at = message.find(" State: "); at != std::string::npos && message.size() >= at + 13) {
    out.sqlstate = message.substr(at + 8, 5);
    if (!std::all_of(out.sqlstate.begin(), out.sqlstate.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
      out.sqlstate.clear();  // "N/A"
  }
  return out;
}

// The message of the exception being handled.
std::string CurrentMessage() {
  try {
    throw;
  } catch (const Poco::Exception& e) {
    return e.message().empty() ? e.displayText() : e.message();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

Rows ToRows(Statement& statement) {
  if (statement.columnsExtracted() == 0) return Rows({});  // INSERT, SET, BEGIN, ...
  RecordSet rs(statement);
  std::vector<std::vector<Rows::Cell>> rows(rs.rowCount(),
                                            std::vector<Rows::Cell>(rs.columnCount()));
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      Rows::Cell& cell = rows[r][c];
      if ((cell.null = rs.isNull(c, r))) continue;
      const Poco::Dynamic::Var value = rs.value(c, r);
      if (value.type() == typeid(Poco::Data::BLOB)) {
        const auto& blob = value.extract<Poco::Data::BLOB>();
        cell.value.assign(blob.rawContent(), blob.rawContent() + blob.size());
      } else {
        cell.value = value.convert<std::string>();
      }
    }
  }
  return Rows(std::move(rows));
}

}  // namespace

std::string CurrentError() { return ParseServerError(CurrentMessage()).text; }

int64_t Rows::Int(size_t row, size_t col) const {
  const std::string& text = Text(row, col);
  return text.empty() ? 0 : std::stoll(text);
}

std::string ByteaLiteral(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string ArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const std::string& v : values) {
    out += out.size() > 1 ? ",\"" : "\"";
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo) {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Data::PostgreSQL::Connector::registerConnector(); });
  auto options = ParseConninfo(conninfo);
  if (!options.ok()) return options.status();
  auto poco = PocoConnectionString(*options);
  if (!poco.ok()) return poco.status();
  if (Status s = Reachable(*poco, TargetOf(*options)); !s.ok()) return s;
  std::unique_ptr<Connection> c;
  try {
    c.reset(new Connection(std::make_unique<Session>("postgresql", *poco), TargetOf(*options)));
  } catch (...) {
    return Status::IOError("cannot connect to " + TargetOf(*options) + ": " +
                           ParseServerError(CurrentMessage()).text);
  }
  if (Status s = c->Call("open",
                         [&] {
                           c->Configure();
                           return Status::OK();
                         });
      !s.ok())
    return s;
  return c;
}

Connection::Connection(std::unique_ptr<Session> session, std::string target)
    : session_(std::move(session)), target_(std::move(target)) {}

Connection::~Connection() { Rollback(); }

// Every statement runs once, as Poco runs them: prepared, described,
// executed and deallocated, four round trips. Keeping statements prepared for
// reuse would save three (2.5 to 3 times the speed), but Poco 1.11's
// StatementExecutor frees its last result a second time when a statement that
// ran before fails (clearResults() leaves _pResultHandle dangling; so in
// upstream's main too).
Rows Connection::Query(const std::string& sql, const std::vector<std::string>& params) {
  auto statement = std::make_unique<Statement>(*session_);
  *statement << sql;
  for (const std::string& p : params) statement->addBind(Poco::Data::Keywords::bind(p));
  try {
    statement->execute();
    return ToRows(*statement);
  } catch (...) {
    if (in_transaction_) failed_.push_back(std::move(statement));
    throw;
  }
}

void Connection::Begin(const std::string& begin_sql) {
  Query(begin_sql);
  in_transaction_ = true;
  transaction_failed_ = false;
}

void Connection::Commit() {
  if (transaction_failed_)
    throw std::runtime_error(
        "a statement of this transaction failed, so nothing of it was committed");
  Query("COMMIT");
  in_transaction_ = false;
}

void Connection::Rollback() {
  if (!in_transaction_) return;
  in_transaction_ = false;
  transaction_failed_ = false;
  try {
    if (connected()) Query("ROLLBACK");
    failed_.clear();
  } catch (...) {  // a broken connection: the server rolls back by itself
  }
}

bool Connection::connected() const { return session_->isConnected(); }

void Connection::EnsureConnected() {
  if (connected()) return;
  failed_.clear();  // they died with the old connection
  auto& handle = static_cast<Poco::Data::PostgreSQL::SessionImpl*>(session_->impl())->handle();
  // PQreset reuses the connection object (a new Session would leak it: Poco
  // finishes only connections that are still good).
  if (!handle.reset()) throw Poco::Data::ConnectionFailedException(PQerrorMessage(handle));
  Configure();
}

void Connection::Configure() {
  // BeginWrite() waits this long for another writer, then reports Busy.
  Query("SET lock_timeout = '10s'");
  Rows settings =
      Query("SELECT current_setting('server_encoding'), current_setting('synchronous_commit')");
  if (settings.Text(0, 0) != "UTF8")
    throw Poco::Data::DataException(
        "the database's encoding is " + settings.Text(0, 0) +
        "; the catalog holds UTF-8 text (CREATE DATABASE ... ENCODING 'UTF8')");
  // Commit() promises durability: a database or role set to asynchronous
  // commits does not get to weaken that.
  if (settings.Text(0, 1) == "off") Query("SET synchronous_commit = on");
}

Status Connection::Failure(const std::string& what) {
  if (in_transaction_) transaction_failed_ = true;
  const ServerError error = ParseServerError(CurrentMessage());
  const std::string prefix = "catalog " + what + " (" + target_ + "): ";
  if (error.sqlstate == "53100" || error.text.find("No space left on device") != std::string::npos)
    return Status::NoSpace(prefix + error.text);
  if (!connected()) return Status::IOError(prefix + "lost the connection: " + error.text);
  if (error.sqlstate == "55P03" || error.sqlstate == "40001" || error.sqlstate == "40P01")
    return Status::Busy(prefix + error.text);
  return Status::IOError(prefix + error.text +
                         (error.sqlstate.empty() ? "" : " (SQLSTATE " + error.sqlstate + ")"));
}

}  // namespace gongkai::storage::pg
