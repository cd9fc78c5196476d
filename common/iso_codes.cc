#include "common/iso_codes.h"

#include <algorithm>

namespace smz {
namespace {

const IsoCode* Find(absl::Span<const IsoCode> table, absl::string_view code) {
  auto it = std::lower_bound(table.begin(), table.end(), code,
                             [](const IsoCode& entry, absl::string_view key) {
                               return entry.code < key;
                             });
  return it != table.end() && it->code == code ? &*it : nullptr;
}

}  // namespace

const IsoCode* FindCountry(absl::string_view code) {
  return Find(Countries(), code);
}

const IsoCode* FindLanguage(absl::string_view code) {
  return Find(Languages(), code);
}

}  // namespace smz
