#include "gongkai/storage/catalog.h"

namespace gongkai::storage {

Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& postgres,
                                             const std::string& sqlite_path, Env* env) {
  return postgres.empty() ? OpenSqliteCatalog(sqlite_path, env)
                          : OpenPostgresCatalog(postgres, env);
}

}  // namespace gongkai::storage
