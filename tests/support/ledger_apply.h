// Applies changes through the ledger, as the archiver does, on a test's catalog.
#pragma once

#include <string>
#include <vector>

#include "gongkai/ledger/ledger.h"

namespace gongkai::test {

inline Status ApplyChanges(storage::Catalog* catalog, std::vector<ledger::Change>& changes,
                           const storage::SigningKey& key,
                           const std::string& origin = "gongkai.localhost") {
  return ledger::Ledger(catalog, storage::Env::Default(), origin).Apply(changes, key);
}

}  // namespace gongkai::test
