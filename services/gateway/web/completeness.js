// Who reported (completeness.html): GetCompleteness for the range, with
// each hospital's contacts from ListPartners for those to call.
"use strict";
const w = SMZ.words({
  ko: { title: "보고 현황 점검", start: "시작 월", end: "끝 월", only_open: "늦거나 안 낸 곳만", show: "보기",
        summary: "월별 요약", partners: "기관별", period: "월", deadline: "마감일", expected: "대상",
        reported: "제출", on_time: "기한 내", late: "지연", no_activity: "활동 없음", rate: "제출률",
        hospital: "기관", state: "상태", submitted: "제출 시각", contact: "연락처",
        NOT_REPORTED: "미제출", DRAFT_ONLY: "임시 저장만", ON_TIME: "기한 내 제출", LATE: "지연 제출",
        nobody: "해당하는 기관이 없습니다.", no_contact: "등록된 연락처 없음" },
  en: { title: "Who reported", start: "From", end: "To", only_open: "Late or missing only", show: "Show",
        summary: "By month", partners: "By hospital", period: "Month", deadline: "Last day", expected: "Expected",
        reported: "Reported", on_time: "On time", late: "Late", no_activity: "No activity", rate: "Rate",
        hospital: "Hospital", state: "State", submitted: "Submitted", contact: "Contact",
        NOT_REPORTED: "Missing", DRAFT_ONLY: "Draft only", ON_TIME: "On time", LATE: "Late",
        nobody: "No hospital to show.", no_contact: "No contact on file" },
});
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
const state = { partners: null };
const BADGE = { NOT_REPORTED: "overdue", DRAFT_ONLY: "draft", ON_TIME: "submitted", LATE: "late" };
const ORDER = { NOT_REPORTED: 0, DRAFT_ONLY: 1, LATE: 2, ON_TIME: 3 };

async function partners() {
  if (state.partners) return state.partners;
  return (state.partners = await SMZ.allPartners());
}

function contactCell(partner) {
  const contacts = (partner && partner.contacts) || [];
  if (!contacts.length) return el("td", { class: "muted" }, w("no_contact"));
  const c = contacts[0];
  const td = el("td", {}, [c.name, c.role].filter(Boolean).join(" · "));
  // Only what looks like a number or an address becomes a link.
  if (c.phone) td.append(" ", el("a", { href: "tel:" + c.phone.replace(/[^0-9+]/g, "") }, c.phone));
  // A plain address only: "?", "&" or "%" would add headers to the mail.
  if (c.email && /^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+$/.test(c.email)) {
    td.append(" ", el("a", { href: "mailto:" + c.email }, c.email));
  } else if (c.email) {
    td.append(" ", c.email);
  }
  return td;
}

async function load() {
  SMZ.translate(w);
  SMZ.retitle(w("title"));
  const start = $("start").value;
  const end = $("end").value || start;
  history.replaceState(null, "", location.pathname + "?" + new URLSearchParams({ start, end }));
  try {
    const [answer, directory] = await Promise.all([
      SMZ.get("/v1/completeness", { start_period: start, end_period: end }), partners()]);
    const head = (keys) => el("thead", {}, el("tr", {}, ...keys.map((k) => el("th", { scope: "col" }, w(k)))));
    $("summary").replaceChildren(head(["period", "deadline", "expected", "reported", "on_time", "late", "no_activity", "rate"]),
      el("tbody", {}, ...(answer.periods || []).map((p) => el("tr", { "data-period": p.period },
        el("th", { scope: "row" }, p.period), el("td", {}, SMZ.lastDay(p.deadline)),
        ...[p.expected, p.reported, p.on_time, p.late, p.no_activity].map((n) => el("td", { class: "number" }, String(n || 0))),
        el("td", { class: "number" }, ((p.reporting_rate || 0) * 100).toFixed(0) + "%")))));
    const onlyOpen = $("only-open").checked;
    const rows = (answer.partners || [])
        .filter((r) => !onlyOpen || r.state !== "ON_TIME")
        .sort((a, b) => a.period.localeCompare(b.period) || ORDER[a.state] - ORDER[b.state] ||
                        a.partner_name.localeCompare(b.partner_name));
    const body = el("tbody");
    for (const r of rows) {
      const partner = directory.get(String(r.partner_id));
      body.append(el("tr", { "data-partner": r.partner_id + "/" + r.period, "data-state": r.state },
        el("th", { scope: "row" }, r.period), el("td", {}, r.partner_name || (partner ? SMZ.text(partner.name) : "#" + r.partner_id)),
        el("td", {}, el("span", { class: "badge " + (BADGE[r.state] || "") }, w(r.state) + (r.no_activity ? " · " + w("no_activity") : ""))),
        el("td", {}, r.first_submit_time ? SMZ.seoul(r.first_submit_time, true) : ""),
        r.state === "ON_TIME" ? el("td") : contactCell(partner)));
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 5 }, w("nobody"))));
    $("partners").replaceChildren(head(["period", "hospital", "state", "submitted", "contact"]), body);
    $("failure").textContent = "";
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = e.message;
    document.body.dataset.loaded = "error";
  }
}

(async () => {
  await SMZ.start(w("title"), load);
  const last = new Date();
  last.setDate(1);
  last.setMonth(last.getMonth() - 1);
  const lastMonth = last.toISOString().slice(0, 7);
  $("start").value = /^\d{4}-\d{2}$/.test(SMZ.query.get("start") || "") ? SMZ.query.get("start") : lastMonth;
  $("end").value = /^\d{4}-\d{2}$/.test(SMZ.query.get("end") || "") ? SMZ.query.get("end") : $("start").value;
  $("range").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  $("only-open").addEventListener("change", load);
  load();
})();
