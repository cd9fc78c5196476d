// A hospital's figures beside the zone's (compare.html):
// StatsService.CompareWithZone, joined row by row, with the hospital's
// share of the zone's visits. The zone's figures come suppressed exactly
// as the analysts' explorer shows them; the hospital's own are exact.
"use strict";
const w = SMZ.words({
  ko: { title: "특구와 비교", from: "시작 월", to: "끝 월", view: "보기", by_month: "월별", by_nationality: "국적별",
        by_department: "진료과별", show: "보기", result_title: "우리 기관과 특구 전체",
        MONTH: "월", NATIONALITY: "국적", DEPARTMENT: "진료과",
        own_new: "우리 신규 환자", own_visits: "우리 진료 건수", own_revenue: "우리 진료 수입(원)",
        zone_new: "특구 신규 환자", zone_visits: "특구 진료 건수", zone_revenue: "특구 진료 수입(원)",
        share: "우리 비중 (진료 건수)", total: "합계", hidden: "비공개", none: "이 기간에 보고된 수치가 없습니다.",
        suppressed: "특구 수치 중 {n} 미만의 작은 값은 한 기관만 드러낼 수 있어 가립니다(‘<{n}’). 우리 기관 수치는 그대로입니다.",
        withheld: "보고한 기관이 {n}곳 미만인 달은 특구 수치에서 뺐습니다: {months}." },
  en: { title: "Beside the zone", from: "From", to: "To", view: "View", by_month: "By month", by_nationality: "By nationality",
        by_department: "By department", show: "Show", result_title: "Our hospital and the whole zone",
        MONTH: "Month", NATIONALITY: "Nationality", DEPARTMENT: "Department",
        own_new: "Our new patients", own_visits: "Our visits", own_revenue: "Our revenue (KRW)",
        zone_new: "Zone new patients", zone_visits: "Zone visits", zone_revenue: "Zone revenue (KRW)",
        share: "Our share (visits)", total: "Total", hidden: "hidden", none: "No figures were reported in this range.",
        suppressed: "Zone figures under {n} that could single out one hospital are hidden ('<{n}'). Our own figures are exact.",
        withheld: "Months with fewer than {n} hospitals reporting are left out of the zone's figures: {months}." },
});
const el = SMZ.el;
const fill = SMZ.fill;
const $ = (id) => document.getElementById(id);
const state = { partnerId: 0, answer: null, view: "MONTH" };

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

function cell(v, threshold, revenue) {
  if (!v || !v.applicable) return "";
  if (v.suppressed) return revenue ? w("hidden") : "<" + threshold;
  return SMZ.group(v.value);
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
  const threshold = zone.suppression_threshold || 0;
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
  const measures = byMonth ? ["new_patients", "visits", "revenue_krw"] : ["new_patients", "visits"];
  const heads = { new_patients: ["own_new", "zone_new"], visits: ["own_visits", "zone_visits"], revenue_krw: ["own_revenue", "zone_revenue"] };
  const columns = [state.view];
  for (const m of measures) columns.push(...heads[m]);
  columns.push("share");
  const line = (key, name, o, z, attrs) => {
    const cells = [el("th", { scope: "row" }, name)];
    for (const m of measures) {
      cells.push(el("td", { class: "number", "data-own": m }, cell((o || {})[m], threshold, m === "revenue_krw")),
                 el("td", { class: "number", "data-zone": m }, cell((z || {})[m], threshold, m === "revenue_krw")));
    }
    const ov = (o || {}).visits;
    const zv = (z || {}).visits;
    let share = "";
    if (ov && zv && zv.applicable && !zv.suppressed && Number(zv.value) > 0) {
      const percent = Math.min(100, (100 * Number(ov.value || 0)) / Number(zv.value));
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
  const notes = [fill(w("suppressed"), { n: threshold })];
  if ((zone.withheld_periods || []).length) {
    notes.push(fill(w("withheld"), { n: zone.min_group_partners, months: zone.withheld_periods.join(", ") }));
  }
  if (!keys.length) notes.unshift(w("none"));
  $("notes").replaceChildren(...notes.map((n) => el("p", {}, n)));
}

async function load() {
  SMZ.translate(w);
  SMZ.retitle(w("title"));
  state.view = $("view").value;
  const args = new URLSearchParams({ start_period: $("from").value, end_period: $("to").value,
                                     bucket: state.view === "MONTH" ? "MONTH" : "WHOLE_RANGE" });
  if (state.view !== "MONTH") args.append("group_by", state.view);
  SMZ.markRefused($("controls"), []);
  $("problems").textContent = "";
  try {
    state.answer = await SMZ.get("/v1/partners/" + state.partnerId + "/zoneComparison?" + args);
    render();
    $("failure").textContent = "";
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    const unplaced = SMZ.markRefused($("controls"), e.violations);
    $("problems").textContent = unplaced.length || !e.violations.length ? SMZ.problems(e) : "";
    document.body.dataset.loaded = "error";
  }
}

(async () => {
  const me = await SMZ.start(w("title"), () => (state.answer ? (SMZ.translate(w), SMZ.retitle(w("title")), render()) : load()));
  // A hospital's own page; an ADMIN names the hospital (?partner=).
  state.partnerId = Number(me.role === "PARTNER" ? me.partner_id : SMZ.query.get("partner") || 0);
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
