// A report's change history (history.html): ListReportChanges, oldest
// first, page by page.
"use strict";
const w = SMZ.words({
  ko: { title: "보고 변경 이력", back: "← 보고서", more: "더 보기", heading: "{period} 보고의 변경 이력",
        time: "시각", action: "무엇을", actor: "누가", cells: "바뀐 칸", totals: "신규 환자 · 진료 건수",
        SAVE_DRAFT: "임시 저장", SUBMIT: "제출", CORRECT: "정정", ACCEPT: "승인", UNLOCK: "마감 예외 허용",
        omitted: "(값이 커서 목록만)", none: "이력이 없습니다.", reason: "사유: {reason}",
        more_cells: "외 {n}칸" },
  en: { title: "Report history", back: "← Report", more: "More", heading: "History of the {period} report",
        time: "When", action: "What", actor: "Who", cells: "Cells changed", totals: "New patients · visits",
        SAVE_DRAFT: "Draft saved", SUBMIT: "Submitted", CORRECT: "Corrected", ACCEPT: "Accepted",
        UNLOCK: "Lock exception granted", omitted: "(values too large to show)", none: "No history.",
        reason: "Reason: {reason}", more_cells: "and {n} more" },
});
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
const state = { partnerId: 0, period: "", token: "" };
const sum = (cells) => (cells || []).reduce((s, c) => s + Number(c.count || 0), 0);
const totals = (r) => (r ? SMZ.group(sum(r.new_patients)) + " · " + SMZ.group(sum(r.visits)) : "–");

async function load(fresh) {
  if (fresh) state.token = "";
  try {
    const answer = await SMZ.get("/v1/partners/" + state.partnerId + "/reports/" + state.period + "/changes",
                                 { page_size: 50, page_token: state.token });
    const table = $("changes");
    if (fresh) {
      table.replaceChildren(el("thead", {}, el("tr", {}, ...["time", "action", "actor", "totals", "cells"]
          .map((k) => el("th", { scope: "col" }, w(k))))), el("tbody"));
    }
    for (const c of answer.changes || []) {
      const fields = c.changed_fields || [];
      const cells = el("td", {}, fields.slice(0, 20).join(", "),
                       fields.length > 20 ? " " + SMZ.fill(w("more_cells"), { n: fields.length - 20 }) : "",
                       c.values_omitted ? " " + w("omitted") : "",
                       c.reason ? el("div", { class: "muted" }, SMZ.fill(w("reason"), { reason: c.reason })) : "");
      table.tBodies[0].append(el("tr", { "data-change": c.action },
          el("th", { scope: "row" }, SMZ.seoul(c.time, true)), el("td", {}, w(c.action)), el("td", {}, c.actor),
          el("td", {}, c.values_omitted ? "" : totals(c.before) + " → " + totals(c.after)), cells));
    }
    if (!table.tBodies[0].rows.length) table.tBodies[0].append(el("tr", {}, el("td", { colspan: 5 }, w("none"))));
    state.token = answer.next_page_token || "";
    $("more").hidden = !state.token;
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = e.message;
    document.body.dataset.loaded = "error";
  }
}

(async () => {
  const me = await SMZ.start(w("title"), () => location.reload());
  SMZ.translate(w);
  state.partnerId = SMZ.pagePartner(me);
  state.period = SMZ.query.get("period") || "";
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(state.period) || !state.partnerId) {
    $("failure").textContent = "?period=YYYY-MM";
    return;
  }
  $("history-title").textContent = SMZ.fill(w("heading"), { period: state.period });
  const args = new URLSearchParams({ period: state.period });
  if (SMZ.query.get("partner")) args.set("partner", state.partnerId);
  $("back").href = "/hospital/report?" + args;
  $("more").addEventListener("click", () => load(false));
  load(true);
})();
