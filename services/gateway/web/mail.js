// Mail (mail.html): each service's outbox (ListEventMail, ListStatsMail,
// ListRegistryMail) page by page with its counts, and its Retry...Mail for
// a failed mail. ?service=statsMail or registryMail opens that one.
"use strict";
const w = SMZ.words({
  ko: { title: "메일", summary_title: "보낸 메일과 보낼 메일", list_title: "메일", show: "보기", all: "전체",
        FAILED: "실패", PENDING: "대기 중", SENT: "보냄", more: "더 보기",
        no_relay: "메일 서버가 설정되지 않았습니다: 메일은 쌓이기만 하고 나가지 않습니다.",
        pending: "대기 중", sent: "보냄", failed: "실패", oldest: "가장 오래 기다린 메일",
        created: "작성", topic: "내용", recipient: "받는 사람", language: "언어", subject: "제목", state: "상태",
        attempts: "시도", when: "보낸 시각 / 다음 시도", error: "메일 서버의 답", none: "메일이 없습니다.",
        retry: "다시 보내기", retried: "메일 {id}을(를) 다시 보냅니다.",
        "registration.confirmed": "참가 확정", "registration.waitlisted": "대기 등록",
        "registration.promoted": "대기 → 확정", "registration.cancelled": "신청 취소",
        "event.cancelled": "행사 취소", "event.postponed": "일정 변경",
        "reminder.week_before": "일주일 전 안내", "reminder.day_before": "하루 전 안내",
        "signup.confirm": "신청 확인 요청", "report.due": "보고 기한 안내", "report.overdue": "보고 기한 지남",
        "account.invited": "계정 초대", "account.reset": "비밀번호 초기화", "partners.expiring": "끝나는 지정·등록",
        service: "보낸 곳", events_service: "행사 (참가 신청·안내)", stats_service: "통계 (실적 보고 안내)",
        registry_service: "계정 (초대·비밀번호)" },
  en: { title: "Mail", summary_title: "Mail sent and to send", list_title: "Mail", show: "Show", all: "All",
        FAILED: "Failed", PENDING: "Waiting", SENT: "Sent", more: "More",
        no_relay: "No mail relay is configured: mail is queued and does not leave.",
        pending: "Waiting", sent: "Sent", failed: "Failed", oldest: "Waiting longest since",
        created: "Written", topic: "About", recipient: "To", language: "Language", subject: "Subject", state: "State",
        attempts: "Attempts", when: "Sent / next attempt", error: "The relay's reply", none: "No mail.",
        retry: "Send again", retried: "Mail {id} will be sent again.",
        "registration.confirmed": "Seat confirmed", "registration.waitlisted": "Waiting list",
        "registration.promoted": "Waiting → seat", "registration.cancelled": "Registration cancelled",
        "event.cancelled": "Event cancelled", "event.postponed": "New dates",
        "reminder.week_before": "A week before", "reminder.day_before": "A day before",
        "signup.confirm": "Sign-up to confirm", "report.due": "Report due", "report.overdue": "Report overdue",
        "account.invited": "Account invitation", "account.reset": "Password reset",
        "partners.expiring": "Terms running out",
        service: "From", events_service: "Events (registrations)", stats_service: "Statistics (monthly reports)",
        registry_service: "Accounts (invitations, passwords)" },
});
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
const pager = { token: "" };
// The outbox shown: the path of its service's List/Retry methods.
const outbox = () => "/v1/" + $("service").value;
// The report badges' colours: green done, blue on its way, red failed.
const BADGE = { SENT: "accepted", PENDING: "submitted", FAILED: "overdue" };

function counts(answer) {
  $("no-relay").hidden = !!answer.relay_configured;
  const figure = (key, value) => [el("dt", {}, w(key)), el("dd", { "data-count": key }, String(value))];
  $("counts").replaceChildren(...figure("pending", answer.pending_count || 0), ...figure("sent", answer.sent_count || 0),
      ...figure("failed", answer.failed_count || 0),
      ...(answer.oldest_pending_time ? figure("oldest", SMZ.seoul(answer.oldest_pending_time, true)) : []));
}

// One mail's row; a failed one has its button.
function rowOf(m) {
  const when = m.state === "SENT" ? m.sent_time : m.state === "PENDING" ? m.next_attempt_time : "";
  const action = m.state === "FAILED" ? el("button", { type: "button", "data-retry": m.id }, w("retry")) : "";
  const row = el("tr", { "data-mail": m.id, "data-state": m.state },
      el("td", {}, SMZ.seoul(m.create_time, true)), el("td", {}, w(m.topic) || m.topic),
      el("td", {}, m.recipient), el("td", {}, m.language), el("td", {}, m.subject),
      el("td", {}, el("span", { class: "badge " + (BADGE[m.state] || "") }, w(m.state))),
      el("td", {}, String(m.attempts || 0)), el("td", {}, SMZ.seoul(when, true)),
      el("td", { class: "error" }, m.last_error || ""), el("td", {}, action));
  if (action) action.addEventListener("click", () => retry(m.id, row, action));
  return row;
}

// The row stays where it is, with its new state, whatever the filter.
async function retry(id, row, button) {
  button.disabled = true;
  try {
    const m = await SMZ.post(outbox() + "/" + encodeURIComponent(id) + ":retry", {});
    row.replaceWith(rowOf(m));
    $("retried").textContent = SMZ.fill(w("retried"), { id });
    $("retried").hidden = false;
    // The counts come with any page: the smallest one.
    counts(await SMZ.get(outbox(), { page_size: 1 }));
    document.body.dataset.retried = id;
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    button.disabled = false;
    $("failure").textContent = SMZ.problems(e);
  }
}

async function list(fresh) {
  if (fresh) pager.token = "";
  try {
    const query = { page_size: 100, page_token: pager.token };
    if ($("state").value) query.states = $("state").value;
    const answer = await SMZ.get(outbox(), query);
    counts(answer);
    const table = $("mail");
    if (fresh || !table.tBodies.length) {
      table.replaceChildren(el("thead", {}, el("tr", {}, ...["created", "topic", "recipient", "language", "subject",
          "state", "attempts", "when", "error", ""].map((k) => el("th", { scope: "col" }, k ? w(k) : "")))), el("tbody"));
    }
    for (const m of answer.mail || []) table.tBodies[0].append(rowOf(m));
    if (!table.tBodies[0].rows.length) table.tBodies[0].append(el("tr", {}, el("td", { colspan: 10 }, w("none"))));
    pager.token = answer.next_page_token || "";
    $("more").hidden = !pager.token;
    document.body.dataset.loaded = "yes";
    document.body.dataset.listed = $("service").value;
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = SMZ.problems(e);
  }
}

(async () => {
  await SMZ.start(w("title"), () => location.reload());
  SMZ.translate(w);
  if (["statsMail", "registryMail"].includes(SMZ.query.get("service"))) $("service").value = SMZ.query.get("service");
  $("service").addEventListener("change", () => list(true));
  $("state").addEventListener("change", () => list(true));
  $("more").addEventListener("click", () => list(false));
  list(true);
})();
