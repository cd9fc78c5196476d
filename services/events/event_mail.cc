#include "services/events/event_mail.h"

#include <algorithm>
#include <array>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/aip/status_macros.h"
#include "common/auth/token.h"
#include "common/logging.h"
#include "common/mail/mail_message.h"
#include "services/events/check_in_code.h"
#include "services/events/event_rules.h"

namespace smz::events {
namespace {

// Which subject and first sentence a mail has: RegistrationMail, with a
// received registration's seat and waiting place apart.
enum Line {
  kSeat,
  kWaiting,
  kPromotedLine,
  kCancelledLine,
  kEventCancelledLine,
  kPostponedLine,
  kWeekBeforeLine,
  kDayBeforeLine,
  kConfirmSignUpLine,
  kMovedLine,
  kLines
};

// One language's words; subjects and leads are indexed by Line, with
// {title}, {position} filled in.
struct Words {
  const char* language;
  const char* greeting;  // {name}
  const char* when;
  const char* where;
  const char* online;
  const char* previous;
  const char* reason;
  const char* cannot_come;
  const char* signature;
  const char* manage;    // before the link that cancels or erases a sign-up
  const char* check_in;  // the label of a check-in code
  const char* show_at_door;
  std::array<const char*, kLines> subjects;
  std::array<const char*, kLines> leads;
};

// Long by design: the messages in six languages (data, not logic).
const std::array<Words, 6>& AllWords() {
  static const std::array<Words, 6> kWords = {{
      {"ko",
       "{name}님, 안녕하세요.",
       "일시",
       "장소",
       "온라인",
       "변경 전",
       "사유",
       "참석할 수 없게 되면 주최 측에 알려 주세요. 대기자에게 자리가 "
       "돌아갑니다.",
       "영등포구 스마트메디컬특구",
       "신청을 취소하거나 개인정보를 지우려면 이 링크를 여세요:",
       "입장 확인 코드",
       "행사장 입구에서 이 코드나 QR 코드를 보여 주세요.",
       {"참가 신청 확정: {title}", "대기자 등록: {title}",
        "대기 → 참가 확정: {title}", "참가 신청 취소: {title}",
        "행사 취소 안내: {title}", "행사 일정 변경: {title}",
        "다음 주 행사 안내: {title}", "내일 행사 안내: {title}",
        "참가 신청 확인 필요: {title}", "참가 행사 변경: {title}"},
       {"{title} 참가 신청이 확정되었습니다.",
        "{title}은(는) 정원이 찼습니다. 대기자 명단 {position}번으로 "
        "등록되었으며, 자리가 나면 바로 알려 드립니다.",
        "대기하시던 {title}에 자리가 나서 참가가 확정되었습니다.",
        "{title} 참가 신청이 취소되었습니다.",
        "안타깝게도 {title} 행사가 취소되었습니다.",
        "{title} 행사의 일정이 변경되었습니다. 참가 신청은 새 일정으로 "
        "유지됩니다.",
        "{title} 행사가 다음 주에 열립니다.", "{title} 행사가 내일 열립니다.",
        "{title} 참가 신청을 받았습니다. {deadline}까지 아래 링크에서 신청을 "
        "확인해 주세요. 그때까지 자리를 맡아 둡니다. 직접 신청하지 않으셨다면 "
        "이 메일을 무시하세요.",
        "주최 측에서 참가 신청을 {title}(으)로 옮겼습니다. 이 행사에 자리가 "
        "확정되어 있습니다."}},
      {"en",
       "Dear {name},",
       "When",
       "Where",
       "Online",
       "Before",
       "Reason",
       "If you cannot come, please tell the organizers so that someone on "
       "the waiting list gets your seat.",
       "Yeongdeungpo Smart Medical Zone",
       "To cancel your sign-up or erase your data, open this link:",
       "Check-in code",
       "Show this code or its QR code at the door.",
       {"Registration confirmed: {title}", "On the waiting list: {title}",
        "A seat for you: {title}", "Registration cancelled: {title}",
        "Event cancelled: {title}", "New dates: {title}", "Next week: {title}",
        "Tomorrow: {title}", "Please confirm: {title}",
        "Your registration moved: {title}"},
       {"Your registration for {title} is confirmed.",
        "{title} is full. You are number {position} on the waiting list; we "
        "will tell you as soon as a seat is free.",
        "A seat became free at {title}: your registration is now confirmed.",
        "Your registration for {title} has been cancelled.",
        "We are sorry: {title} has been cancelled.",
        "{title} has moved to new dates. Your registration stays valid for "
        "them.",
        "{title} takes place next week.", "{title} takes place tomorrow.",
        "We received your sign-up for {title}. Please confirm it with the "
        "link below by {deadline}; your place is held until then. If you did "
        "not sign up, ignore this mail.",
        "The organizers moved your registration to {title}, where your seat "
        "is confirmed."}},
      {"zh",
       "{name}，您好：",
       "时间",
       "地点",
       "线上",
       "原定时间",
       "原因",
       "如您无法出席，请告知主办方，以便将名额让给候补人员。",
       "永登浦区智慧医疗特区",
       "如需取消报名或删除您的个人信息，请打开此链接：",
       "签到码",
       "请在入口处出示此签到码或二维码。",
       {"报名已确认：{title}", "已进入候补名单：{title}",
        "候补转为正式：{title}", "报名已取消：{title}", "活动取消通知：{title}",
        "活动时间变更：{title}", "下周活动提醒：{title}",
        "明天活动提醒：{title}", "请确认报名：{title}", "报名已转至：{title}"},
       {"您报名参加的{title}已确认。",
        "{title}名额已满。您在候补名单中排第{position}位，一有空位我们会立即"
        "通知您。",
        "{title}有了空位，您的报名已确认。", "您对{title}的报名已取消。",
        "很遗憾，{title}已取消。",
        "{title}的时间已变更，您的报名对新时间继续有效。",
        "{title}将于下周举行。", "{title}将于明天举行。",
        "我们已收到您对{title}的报名。请在{deadline}之前通过下方链接确认，"
        "在此之前为您保留名额。如果这不是您本人的报名，请忽略此邮件。",
        "主办方已将您的报名转至{title}，您在该活动的名额已确认。"}},
      {"mn",
       "Эрхэм {name} танаа,",
       "Хэзээ",
       "Хаана",
       "Онлайн",
       "Өмнөх",
       "Шалтгаан",
       "Хэрэв ирэх боломжгүй бол зохион байгуулагчдад мэдэгдэнэ үү. Таны "
       "суудлыг хүлээлгийн жагсаалтад байгаа хүнд өгнө.",
       "Ёндынпо дүүргийн Ухаалаг эмнэлгийн тусгай бүс",
       "Бүртгэлээ цуцлах эсвэл мэдээллээ устгахыг хүсвэл энэ холбоосыг нээнэ "
       "үү:",
       "Ирцийн код",
       "Энэ код эсвэл QR кодыг орох хаалган дээр үзүүлнэ үү.",
       {"Бүртгэл баталгаажлаа: {title}", "Хүлээлгийн жагсаалтад: {title}",
        "Танд суудал гарлаа: {title}", "Бүртгэл цуцлагдлаа: {title}",
        "Арга хэмжээ цуцлагдлаа: {title}", "Шинэ огноо: {title}",
        "Ирэх долоо хоногт: {title}", "Маргааш: {title}",
        "Бүртгэлээ баталгаажуулна уу: {title}", "Бүртгэл шилжлээ: {title}"},
       {"Таны {title}-д бүртгүүлсэн бүртгэл баталгаажлаа.",
        "{title} дүүрсэн байна. Та хүлээлгийн жагсаалтын {position}-т "
        "байна; суудал гармагц бид танд мэдэгдэнэ.",
        "{title}-д суудал гарсан тул таны бүртгэл баталгаажлаа.",
        "Таны {title}-д бүртгүүлсэн бүртгэл цуцлагдлаа.",
        "Уучлаарай, {title} цуцлагдлаа.",
        "{title} шинэ огноонд шилжлээ. Таны бүртгэл шинэ огноонд хүчинтэй "
        "хэвээр байна.",
        "{title} ирэх долоо хоногт болно.", "{title} маргааш болно.",
        "Бид таны {title}-д бүртгүүлэх хүсэлтийг хүлээн авлаа. {deadline}-аас "
        "өмнө доорх холбоосоор баталгаажуулна уу; тэр хүртэл таны байрыг "
        "хадгална. Хэрэв та бүртгүүлээгүй бол энэ захидлыг үл тоомсорлоно "
        "уу.",
        "Зохион байгуулагчид таны бүртгэлийг {title} руу шилжүүллээ; тэнд "
        "таны суудал баталгаажсан."}},
      {"ru",
       "Здравствуйте, {name}!",
       "Когда",
       "Где",
       "Онлайн",
       "Было",
       "Причина",
       "Если вы не сможете прийти, сообщите, пожалуйста, организаторам, "
       "чтобы ваше место получил кто-то из листа ожидания.",
       "Особая зона умной медицины Йондынпхо",
       "Чтобы отменить регистрацию или удалить свои данные, откройте эту "
       "ссылку:",
       "Код для входа",
       "Покажите этот код или его QR-код на входе.",
       {"Регистрация подтверждена: {title}", "Вы в листе ожидания: {title}",
        "Для вас освободилось место: {title}", "Регистрация отменена: {title}",
        "Мероприятие отменено: {title}", "Новые даты: {title}",
        "На следующей неделе: {title}", "Завтра: {title}",
        "Подтвердите регистрацию: {title}", "Регистрация перенесена: {title}"},
       {"Ваша регистрация на «{title}» подтверждена.",
        "На «{title}» мест нет. Вы номер {position} в листе ожидания; мы "
        "сообщим, как только освободится место.",
        "На «{title}» освободилось место: ваша регистрация подтверждена.",
        "Ваша регистрация на «{title}» отменена.",
        "К сожалению, «{title}» отменено.",
        "«{title}» переносится на новые даты. Ваша регистрация остаётся в "
        "силе.",
        "«{title}» состоится на следующей неделе.",
        "«{title}» состоится завтра.",
        "Мы получили вашу заявку на «{title}». Подтвердите её по ссылке ниже "
        "до {deadline}; до этого времени место за вами сохраняется. Если вы "
        "не регистрировались, просто проигнорируйте это письмо.",
        "Организаторы перенесли вашу регистрацию на «{title}»; ваше место "
        "там подтверждено."}},
      {"vi",
       "Kính gửi {name},",
       "Thời gian",
       "Địa điểm",
       "Trực tuyến",
       "Trước đây",
       "Lý do",
       "Nếu không thể tham dự, xin vui lòng báo cho ban tổ chức để chỗ của "
       "bạn được dành cho người trong danh sách chờ.",
       "Đặc khu Y tế Thông minh Yeongdeungpo",
       "Để hủy đăng ký hoặc xóa dữ liệu của bạn, hãy mở liên kết này:",
       "Mã check-in",
       "Vui lòng xuất trình mã này hoặc mã QR tại cửa vào.",
       {"Đã xác nhận đăng ký: {title}", "Trong danh sách chờ: {title}",
        "Đã có chỗ cho bạn: {title}", "Đã hủy đăng ký: {title}",
        "Sự kiện bị hủy: {title}", "Thời gian mới: {title}",
        "Tuần tới: {title}", "Ngày mai: {title}", "Vui lòng xác nhận: {title}",
        "Đăng ký đã được chuyển: {title}"},
       {"Đăng ký tham dự {title} của bạn đã được xác nhận.",
        "{title} đã đủ chỗ. Bạn đang ở vị trí số {position} trong danh sách "
        "chờ; chúng tôi sẽ báo ngay khi có chỗ trống.",
        "{title} đã có chỗ trống: đăng ký của bạn đã được xác nhận.",
        "Đăng ký tham dự {title} của bạn đã bị hủy.",
        "Rất tiếc, {title} đã bị hủy.",
        "{title} đã được dời sang thời gian mới. Đăng ký của bạn vẫn có "
        "hiệu lực.",
        "{title} sẽ diễn ra vào tuần tới.", "{title} sẽ diễn ra vào ngày mai.",
        "Chúng tôi đã nhận đăng ký tham dự {title} của bạn. Vui lòng xác "
        "nhận bằng liên kết bên dưới trước {deadline}; chỗ của bạn được giữ "
        "đến lúc đó. Nếu bạn không đăng ký, hãy bỏ qua thư này.",
        "Ban tổ chức đã chuyển đăng ký của bạn sang {title}; chỗ của bạn ở "
        "đó đã được xác nhận."}},
  }};
  return kWords;
}

const Words& WordsFor(absl::string_view language) {
  for (const Words& words : AllWords()) {
    if (words.language == language) return words;
  }
  return AllWords()[1];  // English
}

std::string TextIn(const google::protobuf::Map<std::string, std::string>& map,
                   absl::string_view language) {
  for (absl::string_view locale :
       {language, absl::string_view("en"), absl::string_view("ko")}) {
    auto it = map.find(std::string(locale));
    if (it != map.end() && !it->second.empty()) return it->second;
  }
  return PrimaryText(map);
}

std::string HtmlEscaped(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"},
                                    {"<", "&lt;"},
                                    {">", "&gt;"},
                                    {"\"", "&quot;"},
                                    {"'", "&#39;"}});
}

// A subject or a name on one line, of at most 300 bytes (whole characters).
std::string CutAt(std::string text, size_t bytes) {
  if (text.size() <= bytes) return text;
  while (bytes > 0 &&
         (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) {
    --bytes;
  }
  text.resize(bytes);
  return text;
}

std::string OneLine(absl::string_view text) {
  // Every C0 control and DEL: a header may carry none (ValidateMail).
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  // Unicode's own line and paragraph separators, and NEL.
  out = absl::StrReplaceAll(
      out, {{"\u2028", " "}, {"\u2029", " "}, {"\u0085", " "}});
  if (out.size() > 300) out = CutAt(std::move(out), 300) + "…";
  return out;
}

// As people write it: "2026-09-01 10:00".
std::string MailTime(absl::Time t, absl::TimeZone zone) {
  return absl::FormatTime("%Y-%m-%d %H:%M", t, zone);
}

// "2026-09-01 10:00–12:00 (Asia/Seoul)", or both dates when they differ.
std::string Span(const Event& event, absl::TimeZone zone) {
  const absl::Time start = ToTime(event.start_time());
  const absl::Time end = ToTime(event.end_time());
  const bool one_day =
      absl::ToCivilDay(start, zone) == absl::ToCivilDay(end, zone);
  return absl::StrCat(
      MailTime(start, zone), one_day ? "–" : " – ",
      one_day ? absl::FormatTime("%H:%M", end, zone) : MailTime(end, zone),
      " (", event.time_zone(), ")");
}

std::string Place(const Event& event, const Words& words) {
  std::vector<std::string> parts;
  if (event.online()) parts.push_back(words.online);
  for (const std::string* part :
       {&event.venue(), &event.room(), &event.city()}) {
    if (!part->empty()) parts.push_back(*part);
  }
  return absl::StrJoin(parts, ", ");
}

using Facts = std::vector<std::pair<std::string, std::string>>;

// When and where, in the event's zone.
Facts WhenAndWhere(const Event& event, const Words& words) {
  absl::StatusOr<absl::TimeZone> zone = LoadZone(event.time_zone());
  Facts facts = {
      {words.when, Span(event, zone.ok() ? *zone : absl::UTCTimeZone())}};
  const std::string place = Place(event, words);
  if (!place.empty()) facts.push_back({words.where, place});
  return facts;
}

// A link in a mail: said before it, and the address (http or https, as
// SignUpLink made it).
struct MailLink {
  std::string intro;
  std::string url;
};

void AppendLink(const MailLink& link, std::string* text, std::string* html) {
  if (link.url.empty()) return;
  absl::StrAppend(text, link.intro, link.intro.empty() ? "" : "\n", link.url,
                  "\n\n");
  absl::StrAppend(html, "<p>", HtmlEscaped(link.intro),
                  link.intro.empty() ? "" : "<br>", "<a href=\"",
                  HtmlEscaped(link.url), "\">", HtmlEscaped(link.url),
                  "</a></p>");
}

// A mail's body as text and as escaped HTML: the greeting, the lead, an
// optional link to act on, the facts one per line, an optional closing
// paragraph, an optional link to manage it, and the signature.
void WriteBody(absl::string_view language, absl::string_view greeting,
               absl::string_view lead, const Facts& facts,
               absl::string_view closing, absl::string_view signature,
               OutgoingMail* mail, const MailLink& act = {},
               const MailLink& manage = {},
               absl::string_view check_in_code = "",
               const Words* words = nullptr) {
  std::string text = absl::StrCat(greeting, "\n\n", lead, "\n\n");
  std::string html =
      absl::StrCat("<div lang=\"", language, "\"><p>", HtmlEscaped(greeting),
                   "</p><p>", HtmlEscaped(lead), "</p>");
  AppendLink(act, &text, &html);
  html += "<p>";
  for (size_t i = 0; i < facts.size(); ++i) {
    const auto& [label, value] = facts[i];
    absl::StrAppend(&text, label, ": ", value, "\n");
    absl::StrAppend(&html, i == 0 ? "" : "<br>", "<b>", HtmlEscaped(label),
                    "</b>: ", HtmlEscaped(value));
  }
  html += "</p>";
  if (!check_in_code.empty() && words != nullptr) {
    // The image is the mail's own part (MailMessage::qr_code), not a link
    // a mail program would have to fetch.
    absl::StrAppend(&text, "\n", words->show_at_door, "\n", words->check_in,
                    ": ", check_in_code, "\n");
    absl::StrAppend(&html, "<p>", HtmlEscaped(words->show_at_door),
                    "<br><img src=\"cid:", QrContentId(check_in_code),
                    "\" width=\"200\" height=\"200\" alt=\"",
                    HtmlEscaped(check_in_code), "\"><br><b>",
                    HtmlEscaped(words->check_in),
                    "</b>: <code style=\"font-size:1.3em\">",
                    HtmlEscaped(check_in_code), "</code></p>");
    mail->qr_code = std::string(check_in_code);
  }
  if (!closing.empty()) {
    absl::StrAppend(&text, "\n", closing, "\n");
    absl::StrAppend(&html, "<p>", HtmlEscaped(closing), "</p>");
  }
  if (!manage.url.empty()) {
    text += "\n";
    AppendLink(manage, &text, &html);
    text.pop_back();
  }
  absl::StrAppend(&text, "\n— ", signature, "\n");
  absl::StrAppend(&html, "<p>— ", HtmlEscaped(signature), "</p></div>");
  mail->text = std::move(text);
  mail->html = std::move(html);
}

// Queues `mail`. One that cannot be written (text the checks never meant
// for a header) must not refuse the change it reports: logged, not queued.
absl::StatusOr<bool> EnqueueOrLog(Session& session, const OutgoingMail& mail,
                                  int64_t event_id, absl::Time now) {
  absl::StatusOr<bool> queued = EnqueueMail(session, mail, now);
  if (absl::IsInvalidArgument(queued.status())) {
    Log(LogLevel::kWarning, "mail not written",
        {{"event_id", absl::StrCat(event_id)},
         {"topic", mail.topic},
         {"error", queued.status().message()}});
    return false;
  }
  return queued;
}

const char* TopicOf(RegistrationMail kind, const Registration& registration) {
  switch (kind) {
    case RegistrationMail::kReceived:
      return registration.state() == v1::WAITLISTED ? "registration.waitlisted"
                                                    : "registration.confirmed";
    case RegistrationMail::kPromoted:
      return "registration.promoted";
    case RegistrationMail::kCancelled:
      return "registration.cancelled";
    case RegistrationMail::kEventCancelled:
      return "event.cancelled";
    case RegistrationMail::kEventPostponed:
      return "event.postponed";
    case RegistrationMail::kWeekBefore:
      return "reminder.week_before";
    case RegistrationMail::kDayBefore:
      return "reminder.day_before";
    case RegistrationMail::kConfirmSignUp:
      return "signup.confirm";
    case RegistrationMail::kMovedToOtherEvent:
      return "registration.moved";
  }
  return "mail";
}

}  // namespace

std::string MailLanguageOf(const Registration& registration) {
  if (IsMailLanguage(registration.language())) return registration.language();
  for (const std::string& language : registration.languages()) {
    if (IsMailLanguage(language)) return language;
  }
  return "en";
}

// Long by design: one message's parts, in order, as text and as HTML.
OutgoingMail RenderRegistrationMail(
    const Event& event, const Registration& registration, RegistrationMail kind,
    absl::Time previous_start, absl::string_view link,
    absl::string_view check_in_code, const Event* moved_from) {
  const std::string language = MailLanguageOf(registration);
  const Words& words = WordsFor(language);
  absl::StatusOr<absl::TimeZone> loaded = LoadZone(event.time_zone());
  const absl::TimeZone zone = loaded.ok() ? *loaded : absl::UTCTimeZone();
  const std::string title = OneLine(TextIn(event.title(), language));
  // The mail that asks an unconfirmed address greets it by the address:
  // the name was typed by whoever filled in the form, maybe not its owner.
  const std::string name =
      registration.name().empty() || kind == RegistrationMail::kConfirmSignUp
          ? registration.email()
          : registration.name();
  Line line = kSeat;
  switch (kind) {
    case RegistrationMail::kReceived:
      line = registration.state() == v1::WAITLISTED ? kWaiting : kSeat;
      break;
    case RegistrationMail::kPromoted:
      line = kPromotedLine;
      break;
    case RegistrationMail::kCancelled:
      line = kCancelledLine;
      break;
    case RegistrationMail::kEventCancelled:
      line = kEventCancelledLine;
      break;
    case RegistrationMail::kEventPostponed:
      line = kPostponedLine;
      break;
    case RegistrationMail::kWeekBefore:
      line = kWeekBeforeLine;
      break;
    case RegistrationMail::kDayBefore:
      line = kDayBeforeLine;
      break;
    case RegistrationMail::kConfirmSignUp:
      line = kConfirmSignUpLine;
      break;
    case RegistrationMail::kMovedToOtherEvent:
      line = kMovedLine;
      break;
  }
  const std::vector<std::pair<std::string, std::string>> fill = {
      {"{title}", title},
      {"{position}", absl::StrCat(registration.waitlist_position())},
      {"{name}", OneLine(name)},
      {"{deadline}",
       registration.has_hold_until()
           ? absl::StrCat(MailTime(ToTime(registration.hold_until()), zone),
                          " (", event.time_zone(), ")")
           : ""}};
  const std::string subject = absl::StrReplaceAll(words.subjects[line], fill);
  const std::string lead = absl::StrReplaceAll(words.leads[line], fill);
  const std::string greeting = absl::StrReplaceAll(words.greeting, fill);

  // Facts, one per line: label and value.
  Facts facts = WhenAndWhere(event, words);
  if (kind == RegistrationMail::kEventPostponed &&
      previous_start != absl::InfinitePast()) {
    facts.push_back(
        {words.previous, absl::StrCat(MailTime(previous_start, zone), " (",
                                      event.time_zone(), ")")});
  }
  if (kind == RegistrationMail::kMovedToOtherEvent && moved_from != nullptr) {
    absl::StatusOr<absl::TimeZone> from_zone =
        LoadZone(moved_from->time_zone());
    facts.push_back(
        {words.previous,
         absl::StrCat(OneLine(TextIn(moved_from->title(), language)), ", ",
                      MailTime(ToTime(moved_from->start_time()),
                               from_zone.ok() ? *from_zone : zone),
                      " (", moved_from->time_zone(), ")")});
  }
  if ((kind == RegistrationMail::kEventCancelled ||
       kind == RegistrationMail::kEventPostponed) &&
      !event.state_reason().empty()) {
    facts.push_back({words.reason, event.state_reason()});
  }
  const bool still_coming = kind == RegistrationMail::kReceived ||
                            kind == RegistrationMail::kPromoted ||
                            kind == RegistrationMail::kMovedToOtherEvent ||
                            kind == RegistrationMail::kEventPostponed ||
                            kind == RegistrationMail::kWeekBefore ||
                            kind == RegistrationMail::kDayBefore;

  const bool waiting = kind == RegistrationMail::kReceived &&
                       registration.state() == v1::WAITLISTED;
  const std::string organizer =
      event.organizer().empty() ? "" : absl::StrCat(" · ", event.organizer());
  OutgoingMail mail;
  // The link confirms (kConfirmSignUp) or, in what follows the
  // confirmation, manages the sign-up.
  const bool confirming = kind == RegistrationMail::kConfirmSignUp;
  MailLink act;
  MailLink manage;
  if (!link.empty()) {
    (confirming ? act : manage) =
        MailLink{confirming ? "" : words.manage, std::string(link)};
  }
  const bool seat = still_coming && !waiting;
  WriteBody(language, greeting, lead, facts, seat ? words.cannot_come : "",
            absl::StrCat(words.signature, organizer), &mail, act, manage,
            seat ? check_in_code : "", &words);
  // A link erases the person's data: not kept past a failure either. A
  // check-in code is kept until sent, so that a failed mail can be sent
  // again.
  mail.secret = !link.empty()           ? MailSecret::kErasedWhenSentOrFailed
                : !mail.qr_code.empty() ? MailSecret::kErasedWhenSent
                                        : MailSecret::kNone;
  mail.topic = TopicOf(kind, registration);
  mail.recipient = registration.email();
  // Not the name typed in with an address nobody has confirmed yet.
  mail.recipient_name = kind == RegistrationMail::kConfirmSignUp
                            ? ""
                            : CutAt(OneLine(registration.name()), 200);
  mail.language = language;
  mail.subject = subject;
  return mail;
}

OutgoingMail RenderHostReminder(const Event& event,
                                absl::string_view partner_name,
                                const registry::v1::Contact& contact) {
  const auto& languages = contact.languages();
  const bool english =
      std::find(languages.begin(), languages.end(), "ko") == languages.end() &&
      std::find(languages.begin(), languages.end(), "en") != languages.end();
  const std::string language = english ? "en" : "ko";
  const Words& words = WordsFor(language);
  const std::vector<std::pair<std::string, std::string>> fill = {
      {"{title}", OneLine(TextIn(event.title(), language))},
      {"{partner}", OneLine(partner_name)},
      {"{confirmed}", absl::StrCat(event.confirmed_count())},
      {"{name}",
       OneLine(contact.name().empty() ? partner_name : contact.name())}};
  const std::string subject = absl::StrReplaceAll(
      english ? "In three days: {title}" : "행사 3일 전 안내: {title}", fill);
  const std::string lead = absl::StrReplaceAll(
      english ? "{title}, hosted with {partner}, takes place in three days. "
                "{confirmed} people are confirmed."
              : "{partner}에서 함께하는 {title} 행사가 3일 뒤 열립니다. "
                "확정된 참가자는 {confirmed}명입니다.",
      fill);
  const std::string greeting = absl::StrReplaceAll(words.greeting, fill);
  OutgoingMail mail;
  WriteBody(language, greeting, lead, WhenAndWhere(event, words), "",
            words.signature, &mail);
  mail.topic = "reminder.host";
  mail.recipient = contact.email();
  mail.recipient_name = CutAt(OneLine(contact.name()), 200);
  mail.language = language;
  mail.subject = subject;
  return mail;
}

absl::StatusOr<int> QueueHostReminders(
    Session& session, const Event& event, int64_t partner_id,
    absl::string_view partner_name,
    const std::vector<registry::v1::Contact>& contacts, absl::Time now) {
  int queued = 0;
  for (const registry::v1::Contact& contact : contacts) {
    if (contact.email().empty()) continue;
    // The registry keeps addresses mail may not carry (older records):
    // said, so that the record gets put right.
    if (!IsMailAddress(contact.email())) {
      Log(LogLevel::kWarning, "partner contact without a usable mail address",
          {{"partner_id", absl::StrCat(partner_id)},
           {"event_id", absl::StrCat(event.id())}});
      continue;
    }
    OutgoingMail mail = RenderHostReminder(event, partner_name, contact);
    // The address by its digest: a key of bounded length, the same for
    // the same person whatever the order of the contacts.
    mail.dedupe_key = absl::StrCat(
        "host.", event.id(), ".", partner_id, ".",
        absl::ToUnixSeconds(ToTime(event.start_time())), ".",
        HashToken(absl::AsciiStrToLower(contact.email())).substr(0, 32));
    SMZ_ASSIGN_OR_RETURN(const bool added,
                         EnqueueOrLog(session, mail, event.id(), now));
    if (added) ++queued;
  }
  return queued;
}

bool CarriesCheckInCode(const Event& event, const Registration& registration,
                        RegistrationMail kind) {
  const bool about_the_seat = kind == RegistrationMail::kReceived ||
                              kind == RegistrationMail::kPromoted ||
                              kind == RegistrationMail::kMovedToOtherEvent ||
                              kind == RegistrationMail::kEventPostponed ||
                              kind == RegistrationMail::kWeekBefore ||
                              kind == RegistrationMail::kDayBefore;
  // Online only: there is no door.
  const bool has_door = !event.online() || !event.venue().empty();
  return about_the_seat && has_door && registration.state() == v1::CONFIRMED &&
         !registration.has_hold_until();
}

absl::StatusOr<bool> QueueRegistrationMail(Session& session, const Event& event,
                                           const Registration& registration,
                                           RegistrationMail kind,
                                           absl::Time now, RandomSource& random,
                                           absl::Time previous_start,
                                           absl::string_view link,
                                           const Event* moved_from) {
  if (registration.email().empty()) return false;
  // A public sign-up not yet confirmed: its address is not known to be the
  // person's, so it gets the mail that asks and nothing else.
  if (registration.has_hold_until() &&
      kind != RegistrationMail::kConfirmSignUp) {
    return false;
  }
  if (!IsMailAddress(registration.email())) {
    // Taken before addresses were checked for mail: nothing can be sent,
    // and the change goes on.
    Log(LogLevel::kWarning, "registration without a usable mail address",
        {{"event_id", absl::StrCat(event.id())},
         {"arrival", absl::StrCat(registration.arrival())}});
    return false;
  }
  const std::string check_in_code =
      CarriesCheckInCode(event, registration, kind)
          ? GenerateCheckInCode(random)
          : "";
  OutgoingMail mail =
      RenderRegistrationMail(event, registration, kind, previous_start, link,
                             check_in_code, moved_from);
  // (event, arrival) names a registration before its id is read.
  mail.dedupe_key = absl::StrCat("registration.", event.id(), ".",
                                 registration.arrival(), ".", mail.topic);
  if (kind == RegistrationMail::kEventPostponed ||
      kind == RegistrationMail::kWeekBefore ||
      kind == RegistrationMail::kDayBefore) {
    absl::StrAppend(&mail.dedupe_key, ".",
                    absl::ToUnixSeconds(ToTime(event.start_time())));
  }
  // Every move is news, also back to dates it had before: the revision the
  // change started from is the change's own.
  if (kind == RegistrationMail::kEventPostponed) {
    absl::StrAppend(&mail.dedupe_key, ".r", event.revision());
  }
  SMZ_ASSIGN_OR_RETURN(const bool added,
                       EnqueueOrLog(session, mail, event.id(), now));
  // The code is good once its mail is on its way, and only then.
  if (added && !mail.qr_code.empty()) {
    SMZ_ASSIGN_OR_RETURN(const std::string key, CheckInCodeKey(check_in_code));
    SMZ_RETURN_IF_ERROR(
        session
            .Execute("INSERT INTO check_in_codes (code_hash, event_id, "
                     "arrival, create_us) VALUES (?, ?, ?, ?)",
                     {key, SqlInt(event.id()), SqlInt(registration.arrival()),
                      SqlInt(absl::ToUnixMicros(now))})
            .status());
  }
  return added;
}

}  // namespace smz::events
