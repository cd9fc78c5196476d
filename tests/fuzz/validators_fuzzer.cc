// Every validator of caller text: UTF-8, locale tags, e-mail, phone,
// registration numbers, request ids, country, language and department
// codes, check-in codes as typed or scanned; the text helpers that echo input
// in errors; a partner profile built from the input; and the CSV writer and
// reader on the same cells.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/csv.h"
#include "common/departments.h"
#include "common/iso_codes.h"
#include "common/request_fields.h"
#include "common/status_util.h"
#include "common/text_checks.h"
#include "services/events/check_in_code.h"
#include "services/registry/partner_rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  smz::IsValidUtf8(text);
  smz::Utf8Length(text);
  const std::string shown = smz::Abbreviate(text, 64);
  if (shown.size() > 64 || !smz::IsValidUtf8(shown)) __builtin_trap();
  smz::IsLocaleTag(text);
  smz::IsEmailAddress(text);
  smz::IsPhoneNumber(text);
  smz::IsRegistrationNumber(text);
  smz::IsRequestId(text);
  smz::IsCountryCode(text);
  smz::IsLanguageCode(text);
  smz::IsDepartmentCode(text);
  // A code is 16 characters of 32: what passes has a 64-hex-digit key.
  if (absl::StatusOr<std::string> key = smz::events::CheckInCodeKey(text);
      key.ok() && key->size() != 64) {
    __builtin_trap();
  }

  // A partner whose every text field comes from the input.
  std::vector<absl::string_view> parts = absl::StrSplit(text, '\x1f');
  auto part = [&](size_t i) {
    return std::string(i < parts.size() ? parts[i] : absl::string_view());
  };
  smz::registry::Partner partner;
  (*partner.mutable_name())[part(0)] = part(1);
  partner.set_attraction_registration_number(part(2));
  partner.set_registration_expires_on(part(3));
  smz::registry::v1::Contact* contact = partner.add_contacts();
  contact->set_name(part(4));
  contact->set_email(part(5));
  contact->set_phone(part(6));
  contact->add_languages(part(7));
  partner.add_departments(part(8));
  smz::FieldViolations violations;
  smz::registry::ValidatePartner(partner, "partner", &violations);
  const grpc::Status status = smz::ToGrpcStatus(violations.ToStatus());
  if (status.error_message().size() > smz::kMaxMessageBytes) __builtin_trap();

  // What the CSV writer writes reads back cell for cell (a text cell may
  // have gained the ' that keeps a spreadsheet from running it).
  smz::CsvWriter writer;
  std::vector<smz::CsvCell> cells;
  for (size_t i = 0; i < parts.size() && i < 20; ++i) {
    cells.push_back(parts[i]);
  }
  writer.Comment(text);
  writer.Row({"header"});
  writer.Row(cells);
  const std::string file = std::move(writer).Finish();
  absl::StatusOr<smz::CsvTable> table = smz::ParseCsv(file);
  if (!table.ok()) __builtin_trap();
  const bool blank_row = cells.size() == 1 && parts[0].empty();
  if (!blank_row) {
    if (table->rows.size() != 1 ||
        table->rows[0].fields.size() != cells.size()) {
      __builtin_trap();
    }
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string& read = table->rows[0].fields[i];
      if (read != parts[i] && read != absl::StrCat("'", parts[i])) {
        __builtin_trap();
      }
    }
  }
  (void)smz::ParseCsv(text);
  return 0;
}
