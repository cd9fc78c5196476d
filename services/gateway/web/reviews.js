// The review queue (reviews.html): ListReports of SUBMITTED reports, the
// hospitals' names (ListPartners) and the months' warnings (ListWarnings),
// and AcceptReport for each.
"use strict";
const w = SMZ.words({
  ko: { title: "검토 대기 보고", queue_title: "제출된 보고 (승인 대기)",
        help: "승인하면 그 달의 보고가 잠깁니다. 경고는 병원의 지난 기록과 크게 다른 값입니다. 확인한 뒤 승인하세요.",
        more: "더 보기", period: "월", hospital: "병원", submitted: "제출", content: "내용", warnings: "경고",
        action: "", view: "보기", accept: "승인", accepted: "승인됨", late: "지연", no_activity: "활동 없음",
        totals: "신규 {new}명 · 진료 {visits}건", none: "승인을 기다리는 보고가 없습니다.",
        count: "{n}건", changed: "그 사이 보고가 바뀌었습니다. 목록을 다시 불러옵니다.", no_warnings: "없음" },
  en: { title: "Reports to review", queue_title: "Submitted reports (waiting for acceptance)",
        help: "Accepting a report locks its month. Warnings are figures far from the hospital's own history: check them before accepting.",
        more: "More", period: "Month", hospital: "Hospital", submitted: "Submitted", content: "Content", warnings: "Warnings",
        action: "", view: "View", accept: "Accept", accepted: "Accepted", late: "late", no_activity: "No activity",
        totals: "{new} new · {visits} visits", none: "No report is waiting for acceptance.",
        count: "{n} reports", changed: "The report changed meanwhile: the list is reloaded.", no_warnings: "None" },
});
const fill = SMZ.fill;
const el = SMZ.el;
const state = { names: new Map(), rows: [], token: "" };
const sum = (cells) => (cells || []).reduce((s, c) => s + Number(c.count || 0), 0);

async function partnerNames() {
  for (const [id, p] of await SMZ.allPartners()) state.names.set(id, SMZ.text(p.name));
}

async function accept(report, tr) {
  const cell = tr.querySelector("td.action");
  const message = tr.querySelector(".refused-message");
  message.textContent = "";
  try {
    const done = await SMZ.post("/v1/partners/" + report.partner_id + "/reports/" + report.period + ":accept",
                                { etag: report.etag });
    tr.dataset.accepted = "yes";
    cell.replaceChildren(el("span", { class: "badge accepted" }, w("accepted")), " ",
                         el("span", { class: "muted" }, fill(w("totals"), { new: SMZ.group(sum(done.new_patients)),
                                                                            visits: SMZ.group(sum(done.visits)) })));
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    if (e.code === SMZ.ABORTED) { message.textContent = w("changed"); setTimeout(() => load(true), 1500); return; }
    message.textContent = e.message;
  }
}

function render(reports, warnings, append) {
  const table = document.getElementById("queue");
  if (!append) {
    table.replaceChildren(el("thead", {}, el("tr", {}, ...["period", "hospital", "submitted", "content", "warnings", "action"]
        .map((k) => el("th", { scope: "col" }, w(k))))), el("tbody"));
  }
  const tbody = table.tBodies[0];
  for (const r of reports) {
    const key = r.partner_id + "/" + r.period;
    const found = warnings.filter((x) => String(x.partner_id) === String(r.partner_id) && x.period === r.period &&
                                         x.revision === r.revision);
    const warningCell = el("td", { "data-warnings": found.length });
    if (found.length) {
      const list = el("ul");
      for (const x of found) list.append(el("li", {}, x.cell + ": " + x.message));
      warningCell.append(el("details", {}, el("summary", { class: "warning" }, "⚠ " + found.length), list));
    } else {
      warningCell.append(el("span", { class: "muted" }, w("no_warnings")));
    }
    const view = el("a", { href: "/hospital/report?" + new URLSearchParams({ period: r.period, partner: r.partner_id }) }, w("view"));
    const button = el("button", { type: "button", class: "primary", "data-accept": key }, w("accept"));
    const tr = el("tr", { "data-report": key },
                  el("th", { scope: "row" }, r.period),
                  el("td", {}, state.names.get(String(r.partner_id)) || ("#" + r.partner_id)),
                  el("td", {}, SMZ.seoul(r.first_submit_time, true), r.late ? " " : "",
                     r.late ? el("span", { class: "badge late" }, w("late")) : ""),
                  el("td", {}, r.no_activity ? w("no_activity")
                     : fill(w("totals"), { new: SMZ.group(sum(r.new_patients)), visits: SMZ.group(sum(r.visits)) })),
                  warningCell,
                  el("td", { class: "action" }, view, " ", button, el("span", { class: "refused-message" })));
    button.addEventListener("click", () => accept(r, tr));
    tbody.append(tr);
  }
  if (!tbody.rows.length) tbody.append(el("tr", {}, el("td", { colspan: 6 }, w("none"))));
  document.getElementById("count").textContent = fill(w("count"), { n: tbody.querySelectorAll("[data-report]").length });
}

async function load(fresh) {
  SMZ.translate(w);
  SMZ.retitle(w("title"));
  if (fresh !== false) state.token = "";
  const failure = document.getElementById("failure");
  try {
    if (!state.names.size) await partnerNames();
    const answer = await SMZ.get("/v1/reports", { status: "SUBMITTED", page_size: 100, page_token: state.token });
    const reports = (answer.reports || []).sort((a, b) => a.period.localeCompare(b.period) || a.partner_id - b.partner_id);
    let warnings = [];
    if (reports.length) {
      const periods = reports.map((r) => r.period).sort();
      const list = await SMZ.get("/v1/warnings", { start_period: periods[0], end_period: periods[periods.length - 1],
                                                   page_size: 200 });
      warnings = list.warnings || [];
    }
    render(reports, warnings, fresh === false);
    state.token = answer.next_page_token || "";
    document.getElementById("more").hidden = !state.token;
    failure.textContent = "";
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    failure.textContent = e.message;
    document.body.dataset.loaded = "error";
  }
}

(async () => {
  await SMZ.start(w("title"), () => load(true));
  document.getElementById("more").addEventListener("click", () => load(false));
  load(true);
})();
