// A hospital's figures beside the zone's (compare.html):
// StatsService.CompareWithZone, joined row by row, with the hospital's
// share of the zone's visits. The hospital's own figures are exact; a zone
// figure is hidden where, less the hospital's own, it would give another
// hospital away (services/stats/zone_comparison.h).
"use strict";
const w = SMZ.words({
  ko: { title: "특구와 비교", from: "시작 월", to: "끝 월", view: "보기", by_month: "월별", by_nationality: "국적별",
        by_department: "진료과별", show: "보기", result_title: "우리 기관과 특구 전체",
        MONTH: "월", NATIONALITY: "국적", DEPARTMENT: "진료과",
        own_new: "우리 신규 환자", own_visits: "우리 진료 건수", own_revenue: "우리 진료 수입(원)",
        zone_new: "특구 신규 환자", zone_visits: "특구 진료 건수", zone_revenue: "특구 진료 수입(원)",
        share: "우리 비중 (진료 건수)", total: "합계", hidden: "비공개", none: "이 기간에 보고된 수치가 없습니다.",
        suppressed: "특구 수치에서 우리 기관 수치를 빼면 다른 기관 수치가 됩니다. 그래서 {n}곳 이상이 함께 내고, 가장 큰 두 곳을 빼고도 환자 {t}명 이상(수입은 가장 큰 곳의 10% 이상)이 남는 값만 보이고, 나머지는 ‘비공개’입니다. 한 달이라도 비공개인 칸은 분기·연·기간 합계에서도 비공개입니다.",
        until: "보고 마감이 지난 {month}까지 비교합니다. 아직 보고 중인 달은 마감 뒤에 나옵니다.",
        withheld: "다른 기관 수치를 보일 수 없는 달: {months}. 이 달을 포함한 특구 합계는 비공개입니다." },
  en: { title: "Beside the zone", from: "From", to: "To", view: "View", by_month: "By month", by_nationality: "By nationality",
        by_department: "By department", show: "Show", result_title: "Our hospital and the whole zone",
        MONTH: "Month", NATIONALITY: "Nationality", DEPARTMENT: "Department",
        own_new: "Our new patients", own_visits: "Our visits", own_revenue: "Our revenue (KRW)",
        zone_new: "Zone new patients", zone_visits: "Zone visits", zone_revenue: "Zone revenue (KRW)",
        share: "Our share (visits)", total: "Total", hidden: "hidden", none: "No figures were reported in this range.",
        suppressed: "The zone's figure less ours is the other hospitals' figure, so a zone figure is shown only where at least {n} hospitals make it up and, without the two largest, at least {t} patients (for revenue a tenth of the largest) remain; the rest are 'hidden'. A cell hidden in any month is hidden in its quarter, year and range too.",
        until: "Compared up to {month}, the last month closed for reports; months still being reported follow once they close.",
        withheld: "Months whose other hospitals' figures cannot be shown: {months}. Zone totals over them are hidden." },
});
const el = SMZ.el;
const fill = SMZ.fill;
const $ = (id) => document.getElementById(id);
const state = { partnerId: 0, answer: null, view: "MONTH", asked: 0 };

// The last twelve whole months, in Seoul.
function defaultRange() {
  const [y, m] = SMZ.seoul(new Date().toISOString()).split("-").map(Number);
  const end = new Date(Date.UTC(y, m - 2, 1));
  const start = new Date(Date.UTC(y, m - 13, 1));
  return [start.toISOString().slice(0, 7), end.toISOString().slice(0, 7)];
}

function names(kind) {
  const table = kind === "NATIONALITY" ? SMZ.reference().countries : SMZ.reference().departments;
  return new Map(table.map(([code, ko, en]) => [code, SMZ.lang === "en" ? en : ko]));
}

function cell(v) {
  if (!v || !v.applicable) return "";
  return v.suppressed ? w("hidden") : SMZ.group(v.value);
}

function keyOf(row) {
  if (state.view === "NATIONALITY") return row.nationality;
  if (state.view === "DEPARTMENT") return row.department;
  return row.bucket;
}

function render() {
  const answer = state.answer;
  const own = answer.own || {};
  const zone = answer.zone || {};
  const byMonth = state.view === "MONTH";
  const label = byMonth ? new Map() : names(state.view);
  const rows = new Map();
  for (const r of zone.rows || []) rows.set(keyOf(r), { zone: r });
  for (const r of own.rows || []) rows.set(keyOf(r), Object.assign(rows.get(keyOf(r)) || {}, { own: r }));
  const keys = [...rows.keys()];
  if (byMonth) keys.sort();
  else {
    const visits = (k) => Number(((rows.get(k).own || {}).visits || {}).value || 0);
    keys.sort((a, b) => visits(b) - visits(a) || a.localeCompare(b));
  }
  // The figures this view has: the service says which apply (no new
  // patients by department, revenue only by month).
  const measures = ["new_patients", "visits", "revenue_krw"].filter((m) => ((zone.total || {})[m] || {}).applicable);
  const heads = { new_patients: ["own_new", "zone_new"], visits: ["own_visits", "zone_visits"], revenue_krw: ["own_revenue", "zone_revenue"] };
  const columns = [state.view];
  for (const m of measures) columns.push(...heads[m]);
  columns.push("share");
  const line = (key, name, o, z, attrs) => {
    const cells = [el("th", { scope: "row" }, name)];
    for (const m of measures) {
      cells.push(el("td", { class: "number", "data-own": m }, cell((o || {})[m])),
                 el("td", { class: "number", "data-zone": m, "data-hidden": ((z || {})[m] || {}).suppressed ? "yes" : null },
                    cell((z || {})[m])));
    }
    const ov = (o || {}).visits;
    const zv = (z || {}).visits;
    let share = "";
    if (ov && zv && zv.applicable && !zv.suppressed && Number(zv.value) > 0) {
      // Own and zone cover the same months, so the share is at most 100%.
      const percent = (100 * Number(ov.value || 0)) / Number(zv.value);
      // 100% is the bar's full 5rem (.bar in workspace.css).
      share = el("span", {}, el("span", { class: "bar", style: "width:" + (percent / 20).toFixed(2) + "rem" }),
                 " " + percent.toFixed(1) + "%");
    }
    cells.push(el("td", { class: "share" }, share));
    return el("tr", Object.assign({ "data-row": key }, attrs || {}), ...cells);
  };
  const body = keys.map((k) => line(k, byMonth ? k : (label.get(k) || k), rows.get(k).own, rows.get(k).zone));
  $("comparison").replaceChildren(
      el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col", class: c === state.view ? null : "number" }, w(c))))),
      el("tbody", {}, ...body),
      el("tfoot", {}, line("total", w("total"), own.total, zone.total, { class: "total" })));
  const notes = [fill(w("suppressed"), { n: zone.min_group_partners + 1, t: zone.suppression_threshold })];
  if (answer.compared_until && answer.compared_until < $("to").value) {
    notes.unshift(fill(w("until"), { month: answer.compared_until }));
  }
  if ((zone.withheld_periods || []).length) {
    notes.push(fill(w("withheld"), { months: zone.withheld_periods.join(", ") }));
  }
  if (!keys.length) notes.unshift(w("none"));
  $("notes").replaceChildren(...notes.map((n) => el("p", {}, n)));
}

// Another language: the words again; the answer shown stays.
function retranslate() {
  if (!state.answer) return load();
  SMZ.translate(w);
  SMZ.retitle(w("title"));
  render();
}

async function load() {
  SMZ.translate(w);
  SMZ.retitle(w("title"));
  const view = $("view").value;
  const args = new URLSearchParams({ start_period: $("from").value, end_period: $("to").value,
                                     bucket: view === "MONTH" ? "MONTH" : "WHOLE_RANGE" });
  if (view !== "MONTH") args.append("group_by", view);
  SMZ.markRefused($("controls"), []);
  $("problems").textContent = "";
  // Only the newest question is answered on the page: a late answer to an
  // older one (another view, other months) is dropped.
  const asked = ++state.asked;
  try {
    const answer = await SMZ.get("/v1/partners/" + state.partnerId + "/zoneComparison?" + args);
    if (asked !== state.asked) return;
    state.answer = answer;
    state.view = view;
    render();
    $("failure").textContent = "";
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    if (asked !== state.asked) return;
    SMZ.showRefusal($("controls"), e, $("problems"));
    document.body.dataset.loaded = "error";
  }
}

(async () => {
  const me = await SMZ.start(w("title"), retranslate);
  state.partnerId = SMZ.pagePartner(me);
  const [from, to] = defaultRange();
  $("from").value = SMZ.query.get("from") || from;
  $("to").value = SMZ.query.get("to") || to;
  if (["MONTH", "NATIONALITY", "DEPARTMENT"].includes(SMZ.query.get("view"))) $("view").value = SMZ.query.get("view");
  $("controls").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  if (!state.partnerId) {
    $("failure").textContent = "?partner=ID";
    return;
  }
  load();
})();
