// The hospital's home (hospital.html): GetReportingCalendar for the year,
// shown as what is due and a table of months.
"use strict";
const w = SMZ.words({
  ko: { title: "보고 현황", year_title: "연간 보고 현황", year: "연도",
        legend: "마감일은 한국 시간 기준입니다. 마감이 지난 달은 구청(관리자)의 예외 허용이 있어야 고칠 수 있습니다.",
        month: "월", state: "상태", deadline: "마감일", updated: "최근 변경", action: "",
        due: "{period} 보고 마감: {deadline}까지{days}", write: "작성하기",
        nothing_due: "지금 낼 보고가 없습니다.", overdue_list: "기한이 지났는데 제출되지 않은 달: ",
        draft: "임시 저장", submitted: "제출", accepted: "승인", late: "지연 제출",
        overdue: "미제출 (기한 지남)", open: "작성 필요", not_yet: "아직 아님", not_expected: "대상 아님",
        locked: "마감", exception: "예외 허용 ~{until}", no_activity: "활동 없음",
        edit: "작성·수정", view: "보기", revision: "개정 {n}" },
  en: { title: "Reports", year_title: "The year's reports", year: "Year",
        legend: "Deadlines are Korean time. A month past its deadline can be changed only under a lock exception from the district (an administrator).",
        month: "Month", state: "State", deadline: "Last day", updated: "Last change", action: "",
        due: "{period} report due by the end of {deadline}{days}", write: "Fill it in",
        nothing_due: "No report is due now.", overdue_list: "Past their deadline and not submitted: ",
        draft: "Draft", submitted: "Submitted", accepted: "Accepted", late: "Late",
        overdue: "Missing (overdue)", open: "To fill in", not_yet: "Not yet", not_expected: "Not expected",
        locked: "Locked", exception: "Exception until {until}", no_activity: "No activity",
        edit: "Fill in or correct", view: "View", revision: "revision {n}" },
});
const fill = SMZ.fill;
const state = { me: null, partnerId: 0, year: 0 };

// Each month's badges, most important first.
function badges(m, currentPeriod) {
  const out = [];
  if (m.status === "ACCEPTED") out.push(["accepted", w("accepted")]);
  else if (m.status === "SUBMITTED") out.push(["submitted", w("submitted")]);
  else if (m.status === "DRAFT") out.push(["draft", w("draft")]);
  if (m.late) out.push(["late", w("late")]);
  if (m.overdue) out.push(["overdue", w("overdue")]);
  else if (!m.status && m.expected) out.push(["open", w("open")]);
  if (!m.expected && !m.status) {
    const future = m.period >= currentPeriod;
    out.push(["none", future ? w("not_yet") : w("not_expected")]);
  }
  if (m.no_activity) out.push(["none", w("no_activity")]);
  if (m.exception_expire_time) {
    out.push(["exception", fill(w("exception"), { until: SMZ.seoul(m.exception_expire_time, true) })]);
  } else if (m.locked && (m.expected || m.status)) {
    out.push(["locked", w("locked")]);
  }
  return out;
}

function formLink(period, label) {
  const args = new URLSearchParams({ period });
  if (SMZ.query.get("partner")) args.set("partner", state.partnerId);
  return SMZ.el("a", { href: "/hospital/report?" + args }, label);
}

function render(calendar) {
  // Enums print by name, the unset one included.
  for (const m of calendar.months) if (m.status === "REPORT_STATUS_UNSPECIFIED") m.status = "";
  const due = document.getElementById("due");
  due.replaceChildren();
  if (calendar.due_period) {
    const left = Math.ceil((new Date(calendar.due_deadline) - Date.now()) / 86400000);
    const days = left > 0 ? (SMZ.lang === "en" ? " (" + left + " days left)" : " (D-" + left + ")") : "";
    due.append(SMZ.el("p", { class: "due", "data-due": calendar.due_period },
                      fill(w("due"), { period: calendar.due_period,
                                       deadline: SMZ.lastDay(calendar.due_deadline), days }),
                      " ", formLink(calendar.due_period, w("write"))));
  } else {
    due.append(SMZ.el("p", { "data-due": "" }, w("nothing_due")));
  }
  const overdue = calendar.months.filter((m) => m.overdue);
  if (overdue.length) {
    const p = SMZ.el("p", { class: "notice bad" }, w("overdue_list"));
    overdue.forEach((m, i) => { if (i) p.append(", "); p.append(formLink(m.period, m.period)); });
    due.append(p);
  }

  const table = document.getElementById("months");
  const head = SMZ.el("tr", {}, ...["month", "state", "deadline", "updated", "action"].map(
      (k) => SMZ.el("th", { scope: "col" }, w(k))));
  const rows = calendar.months.map((m) => {
    const editable = !m.locked && (m.expected || m.status);
    const cells = badges(m, calendar.current_period).map(([kind, label]) => SMZ.el("span", { class: "badge " + kind }, label));
    const stateCell = SMZ.el("td", {});
    cells.forEach((c, i) => { if (i) stateCell.append(" "); stateCell.append(c); });
    return SMZ.el("tr", { "data-month": m.period, "data-status": m.status || "NONE",
                          "data-locked": m.locked ? "yes" : "no",
                          "data-overdue": m.overdue ? "yes" : "no" },
                  SMZ.el("th", { scope: "row" }, m.period), stateCell,
                  SMZ.el("td", {}, SMZ.lastDay(m.deadline)),
                  SMZ.el("td", {}, m.update_time ? SMZ.seoul(m.update_time, true) + " · " +
                         fill(w("revision"), { n: m.revision }) : ""),
                  SMZ.el("td", {}, editable ? formLink(m.period, w("edit"))
                                             : (m.status ? formLink(m.period, w("view")) : "")));
  });
  table.replaceChildren(SMZ.el("thead", {}, head), SMZ.el("tbody", {}, ...rows));
}

async function load() {
  SMZ.translate(w);
  SMZ.retitle(w("title"));
  try {
    // Year 0 is the service's this year (its clock, Seoul time).
    const calendar = await SMZ.get("/v1/partners/" + state.partnerId + "/reportingCalendars/" + state.year);
    const select = document.getElementById("year");
    if (!select.options.length) {
      const thisYear = Number(calendar.current_period.slice(0, 4));
      for (let y = Math.max(thisYear, calendar.year); y >= 2018; --y) {
        select.append(SMZ.el("option", { value: y }, String(y)));
      }
    }
    state.year = calendar.year;
    select.value = calendar.year;
    render(calendar);
    document.getElementById("failure").textContent = "";
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    document.getElementById("failure").textContent = e.message;
    document.body.dataset.loaded = "error";
  }
}

(async () => {
  state.me = await SMZ.start(w("title"), load);
  state.partnerId = SMZ.pagePartner(state.me);
  state.year = Number(SMZ.query.get("year")) || 0;
  const select = document.getElementById("year");
  select.addEventListener("change", () => { state.year = Number(select.value); load(); });
  if (!state.partnerId) {
    document.getElementById("failure").textContent = "?partner=ID";
    return;
  }
  load();
})();
