#include "services/gateway/query_params.h"

#include <cmath>
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "common/status_util.h"
#include "common/text_checks.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/field_mask_util.h"

namespace smz::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

const FieldDescriptor* FindField(const Descriptor* descriptor,
                                 absl::string_view name) {
  const FieldDescriptor* field = descriptor->FindFieldByName(std::string(name));
  if (field != nullptr) return field;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    if (descriptor->field(i)->json_name() == name) return descriptor->field(i);
  }
  return nullptr;
}

// google.protobuf.Timestamp's range: years 1 to 9999.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

// Protobuf's JSON form of a duration, "-12.5s": at most 12 digits of
// seconds (10,000 years) and 9 of fractions. Parsed here, as protobuf's
// TimeUtil::FromString asserts on what it cannot hold.
absl::optional<google::protobuf::Duration> ParseDuration(
    absl::string_view text) {
  if (!absl::ConsumeSuffix(&text, "s")) return absl::nullopt;
  const bool negative = absl::ConsumePrefix(&text, "-");
  const size_t dot = text.find('.');
  absl::string_view whole = text.substr(0, dot);
  absl::string_view fraction =
      dot == absl::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 12 || fraction.size() > 9 ||
      (dot != absl::string_view::npos && fraction.empty())) {
    return absl::nullopt;
  }
  for (absl::string_view digits : {whole, fraction}) {
    for (char c : digits) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        return absl::nullopt;
      }
    }
  }
  int64_t seconds = 0;
  int64_t nanos = 0;
  if (!absl::SimpleAtoi(whole, &seconds)) return absl::nullopt;
  if (!fraction.empty()) {
    std::string padded(fraction);
    padded.resize(9, '0');
    if (!absl::SimpleAtoi(padded, &nanos)) return absl::nullopt;
  }
  if (seconds > 315576000000) return absl::nullopt;
  google::protobuf::Duration duration;
  duration.set_seconds(negative ? -seconds : seconds);
  duration.set_nanos(static_cast<int32_t>(negative ? -nanos : nanos));
  return duration;
}

// The well-known types that are one string in JSON: a timestamp
// "2026-01-31T00:00:00Z", a duration "1.5s", a field mask "name,contacts"
// (paths as the .proto names them).
std::string SetWellKnownValue(const FieldDescriptor* field,
                              absl::string_view value, Message* message) {
  const std::string& type = field->message_type()->full_name();
  if (!IsValidUtf8(value)) return "is not valid UTF-8";
  // The parsers read C strings: a NUL would end the value early.
  if (value.find('\0') != absl::string_view::npos) return "holds a NUL";
  std::unique_ptr<Message> parsed;
  if (type == "google.protobuf.Timestamp") {
    // Parsed by Abseil, which takes any year, then range-checked: protobuf's
    // TimeUtil::FromString CHECK-fails (aborts) on years it cannot hold.
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, value, &time, &error)) {
      return "is not an RFC 3339 time such as 2026-01-31T09:00:00Z";
    }
    if (time < absl::FromUnixSeconds(kMinTimestampSeconds) ||
        time > absl::FromUnixSeconds(kMaxTimestampSeconds)) {
      return "is outside the years 1 to 9999";
    }
    auto timestamp = std::make_unique<google::protobuf::Timestamp>();
    const absl::Duration since_epoch = time - absl::UnixEpoch();
    timestamp->set_seconds(absl::ToInt64Seconds(since_epoch));
    // Floored, so that nanos are 0..999,999,999 before the epoch too.
    absl::Duration rest = since_epoch - absl::Seconds(timestamp->seconds());
    if (rest < absl::ZeroDuration()) {
      timestamp->set_seconds(timestamp->seconds() - 1);
      rest += absl::Seconds(1);
    }
    timestamp->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(rest)));
    parsed = std::move(timestamp);
  } else if (type == "google.protobuf.Duration") {
    absl::optional<google::protobuf::Duration> duration = ParseDuration(value);
    if (!duration.has_value()) return "is not a duration such as 1.5s";
    parsed = std::make_unique<google::protobuf::Duration>(*duration);
  } else if (type == "google.protobuf.FieldMask") {
    auto mask = std::make_unique<google::protobuf::FieldMask>();
    google::protobuf::util::FieldMaskUtil::FromString(
        google::protobuf::StringPiece(value.data(), value.size()), mask.get());
    parsed = std::move(mask);
  } else {
    return "is a message: it can only be given in a JSON body";
  }
  const Reflection* reflection = message->GetReflection();
  Message* target = field->is_repeated()
                        ? reflection->AddMessage(message, field)
                        : reflection->MutableMessage(message, field);
  // The generated field holds the same generated type.
  target->CopyFrom(*parsed);
  return "";
}

// Sets (or, for a repeated field, adds) one value; "" when done, else what
// is wrong with the value.
// Long by design: one case per protobuf field type.
std::string SetValue(const FieldDescriptor* field, absl::string_view value,
                     Message* message) {
  const Reflection* reflection = message->GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(value, &v)) return "is not a 32-bit integer";
      repeated ? reflection->AddInt32(message, field, v)
               : reflection->SetInt32(message, field, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v)) return "is not a 64-bit integer";
      repeated ? reflection->AddInt64(message, field, v)
               : reflection->SetInt64(message, field, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!absl::SimpleAtoi(value, &v))
        return "is not an unsigned 32-bit integer";
      repeated ? reflection->AddUInt32(message, field, v)
               : reflection->SetUInt32(message, field, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(value, &v))
        return "is not an unsigned 64-bit integer";
      repeated ? reflection->AddUInt64(message, field, v)
               : reflection->SetUInt64(message, field, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!absl::SimpleAtod(value, &v) || !std::isfinite(v)) {
        return "is not a finite number";
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? reflection->AddDouble(message, field, v)
                 : reflection->SetDouble(message, field, v);
      } else {
        const float f = static_cast<float>(v);
        if (!std::isfinite(f)) return "is out of range";
        repeated ? reflection->AddFloat(message, field, f)
                 : reflection->SetFloat(message, field, f);
      }
      return "";
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (value == "true" || value == "1") {
        v = true;
      } else if (value == "false" || value == "0") {
        v = false;
      } else {
        return "is not true or false";
      }
      repeated ? reflection->AddBool(message, field, v)
               : reflection->SetBool(message, field, v);
      return "";
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* e =
          field->enum_type()->FindValueByName(std::string(value));
      int number;
      if (e == nullptr && absl::SimpleAtoi(value, &number)) {
        e = field->enum_type()->FindValueByNumber(number);
      }
      if (e == nullptr) {
        return absl::StrCat("is not a value of ",
                            field->enum_type()->full_name());
      }
      repeated ? reflection->AddEnum(message, field, e)
               : reflection->SetEnum(message, field, e);
      return "";
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v;
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        if (!absl::Base64Unescape(value, &v) &&
            !absl::WebSafeBase64Unescape(value, &v)) {
          return "is not base64";
        }
      } else {
        if (!IsValidUtf8(value)) return "is not valid UTF-8";
        v = std::string(value);
      }
      repeated ? reflection->AddString(message, field, std::move(v))
               : reflection->SetString(message, field, std::move(v));
      return "";
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return SetWellKnownValue(field, value, message);
  }
  return "cannot be set from a query parameter";
}

}  // namespace

absl::Status MergeQueryParameters(const std::vector<QueryParameter>& params,
                                  Message* message) {
  FieldViolations violations;
  if (params.size() > kMaxQueryParameters) {
    violations.Add("query", absl::StrCat("has more than ", kMaxQueryParameters,
                                         " parameters"));
    return violations.ToStatus();
  }
  // Singular fields already set, by the message holding them and number.
  std::set<std::pair<const Message*, int>> seen_singular;
  for (const auto& [key, value] : params) {
    if (key.size() > kMaxQueryKeyBytes) {
      violations.Add(key, absl::StrCat("parameter name is longer than ",
                                       kMaxQueryKeyBytes, " bytes"));
      continue;
    }
    if (value.size() > kMaxQueryValueBytes) {
      violations.Add(
          key, absl::StrCat("is longer than ", kMaxQueryValueBytes, " bytes"));
      continue;
    }
    const std::vector<absl::string_view> path = absl::StrSplit(key, '.');
    if (static_cast<int>(path.size()) > kMaxQueryFieldDepth) {
      violations.Add(key, "nests too deep");
      continue;
    }
    Message* target = message;
    std::string problem;
    for (size_t i = 0; i < path.size() && problem.empty(); ++i) {
      const FieldDescriptor* field =
          FindField(target->GetDescriptor(), path[i]);
      if (field == nullptr) {
        problem = absl::StrCat("no field '", Abbreviate(path[i], 64), "' in ",
                               target->GetDescriptor()->full_name());
      } else if (field->is_map()) {
        problem = "is a map: send the request as JSON with POST";
      } else if (i + 1 < path.size()) {
        if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
            field->is_repeated()) {
          problem = absl::StrCat("'", field->name(),
                                 "' has no fields to name with '.'");
        } else {
          target = target->GetReflection()->MutableMessage(target, field);
        }
      } else {
        if (!field->is_repeated() &&
            !seen_singular.insert({target, field->number()}).second) {
          problem = "is given more than once";
        } else {
          problem = SetValue(field, value, target);
        }
      }
    }
    if (!problem.empty()) violations.Add(key, std::move(problem));
  }
  return violations.ToStatus();
}

}  // namespace smz::gateway
