// The statistics explorer (explore.html): QueryAggregate for the table and
// chart, ExportAggregateCsv and ExportAggregateXlsx for the downloads, all
// with the same request, which the address keeps.
"use strict";
const w = SMZ.words({
  ko: { title: "통계 탐색", start: "시작 월", end: "끝 월", bucket: "단위", month: "월", quarter: "분기",
        year: "연", whole: "기간 전체", top_n: "상위 N (0: 전부)", order_by: "순위 기준", visits: "진료 건수",
        new_patients: "신규 환자", revenue: "진료 수입(원)", yoy: "전년 대비", group_by: "묶기",
        filters: "거르기 (비우면 전부)", nationalities: "국적 (MN, VN …)", departments: "진료과",
        care_types: "진료 유형", outpatient: "외래", inpatient: "입원", checkup: "건강검진", run: "조회",
        csv: "CSV 받기", xlsx: "XLSX 받기", working: "불러오는 중…",
        NATIONALITY: "국적", DEPARTMENT: "진료과", CARE_TYPE: "진료 유형", PARTNER_KIND: "기관 유형",
        REGION: "권역", SEX: "성별", AGE_BAND: "연령대", PARTNER: "기관",
        period: "기간", total: "합계", previous: "전년", change: "증감(%)", pooled: "소규모 묶음",
        hidden: "비공개", none: "결과가 없습니다.",
        suppressed: "{n} 미만의 작은 값은 한 기관만 드러낼 수 있어 가립니다(‘<{n}’).",
        withheld: "보고한 기관이 {n}곳 미만인 달은 모든 행과 합계에서 뺐습니다: {months}.",
        FEMALE: "여성", MALE: "남성", OUTPATIENT: "외래", INPATIENT: "입원", HEALTH_CHECKUP: "건강검진" },
  en: { title: "Statistics explorer", start: "From", end: "To", bucket: "By", month: "Month", quarter: "Quarter",
        year: "Year", whole: "Whole range", top_n: "Top N (0: all)", order_by: "Ranked by", visits: "Visits",
        new_patients: "New patients", revenue: "Revenue (KRW)", yoy: "Year on year", group_by: "Group by",
        filters: "Filters (empty: all)", nationalities: "Nationalities (MN, VN …)", departments: "Departments",
        care_types: "Care types", outpatient: "Outpatient", inpatient: "Inpatient", checkup: "Health check-up",
        run: "Show", csv: "Download CSV", xlsx: "Download XLSX", working: "Loading…",
        NATIONALITY: "Nationality", DEPARTMENT: "Department", CARE_TYPE: "Care type", PARTNER_KIND: "Partner kind",
        REGION: "Region", SEX: "Sex", AGE_BAND: "Age band", PARTNER: "Partner",
        period: "Period", total: "Total", previous: "year before", change: "change %", pooled: "small groups pooled",
        hidden: "hidden", none: "No results.",
        suppressed: "Values under {n} that could single out one hospital are hidden ('<{n}').",
        withheld: "Months with fewer than {n} hospitals reporting are left out of every row and total: {months}.",
        FEMALE: "Female", MALE: "Male", OUTPATIENT: "Outpatient", INPATIENT: "Inpatient", HEALTH_CHECKUP: "Health check-up" },
});
const fill = SMZ.fill;
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
const DIMENSIONS = ["NATIONALITY", "DEPARTMENT", "CARE_TYPE", "PARTNER_KIND", "REGION", "SEX", "AGE_BAND", "PARTNER"];
const state = { me: null, chart: null, last: null };
const unset = (v) => !v || /_UNSPECIFIED$/.test(v);

function selected(select) { return [...select.selectedOptions].map((o) => o.value); }

// The form as an AggregateRequest.
function request() {
  const nationalities = $("nationalities").value.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);
  return {
    start_period: $("start").value, end_period: $("end").value, bucket: $("bucket").value,
    group_by: DIMENSIONS.filter((d) => $("dim-" + d) && $("dim-" + d).checked),
    filter: { nationalities, departments: selected($("departments")), care_types: selected($("care-types")) },
    year_over_year: $("yoy").checked, top_n: Number($("top-n").value) || 0, order_by: $("order-by").value,
  };
}

// The request in the address and back, so a link shows the same table.
function remember(r) {
  const q = new URLSearchParams({ start: r.start_period, end: r.end_period, bucket: r.bucket });
  if (r.group_by.length) q.set("group_by", r.group_by.join(","));
  if (r.filter.nationalities.length) q.set("nationalities", r.filter.nationalities.join(","));
  if (r.filter.departments.length) q.set("departments", r.filter.departments.join(","));
  if (r.filter.care_types.length) q.set("care_types", r.filter.care_types.join(","));
  if (r.year_over_year) q.set("yoy", "1");
  if (r.top_n) { q.set("top_n", r.top_n); q.set("order_by", r.order_by); }
  if (SMZ.query.get("lang")) q.set("lang", SMZ.query.get("lang"));
  history.replaceState(null, "", location.pathname + "?" + q);
}
function restore() {
  const q = SMZ.query;
  const list = (k) => (q.get(k) || "").split(",").filter(Boolean);
  if (q.get("start")) $("start").value = q.get("start");
  if (q.get("end")) $("end").value = q.get("end");
  if (q.get("bucket")) $("bucket").value = q.get("bucket");
  for (const d of list("group_by")) if ($("dim-" + d)) $("dim-" + d).checked = true;
  $("nationalities").value = list("nationalities").join(", ");
  for (const o of $("departments").options) o.selected = list("departments").includes(o.value);
  for (const o of $("care-types").options) o.selected = list("care_types").includes(o.value);
  $("yoy").checked = q.get("yoy") === "1";
  if (q.get("top_n")) $("top-n").value = q.get("top_n");
  if (q.get("order_by")) $("order-by").value = q.get("order_by");
  return !!q.get("start");
}

function dimensionText(row, d) {
  const reference = SMZ.reference();
  const name = (list, code) => {
    const hit = list.find((x) => x[0] === code);
    return hit ? code + " " + (SMZ.lang === "en" ? hit[2] : hit[1]) : code;
  };
  switch (d) {
    case "NATIONALITY": return name(reference.countries, row.nationality);
    case "DEPARTMENT": return name(reference.departments, row.department);
    case "CARE_TYPE": return unset(row.care_type) ? "" : w(row.care_type);
    case "PARTNER": return row.partner_name || String(row.partner_id);
    case "PARTNER_KIND": return row.pooled ? w("pooled") : unset(row.partner_kind) ? "" : SMZ.partnerWords(row.partner_kind);
    case "REGION": return row.pooled ? w("pooled") : unset(row.region) ? "" : SMZ.partnerWords(row.region);
    case "SEX": return unset(row.sex) ? "" : w(row.sex);
    case "AGE_BAND": return unset(row.age_band) ? "" : row.age_band.replace("AGE_", "").replace("_PLUS", "+").replace("_", "–");
  }
  return "";
}

function valueText(v, threshold, revenue) {
  if (!v || !v.applicable) return "–";
  if (v.suppressed) return revenue ? w("hidden") : "<" + threshold;
  return SMZ.group(v.value);
}

function render(r, answer) {
  const dims = [...r.group_by].sort((a, b) => DIMENSIONS.indexOf(a) - DIMENSIONS.indexOf(b));
  const measures = [["new_patients", "new_patients"], ["visits", "visits"], ["revenue_krw", "revenue"]];
  const head = [w("period"), ...dims.map((d) => w(d))];
  for (const [, label] of measures) {
    head.push(w(label));
    if (r.year_over_year) head.push(w(label) + " · " + w("previous"), w(label) + " · " + w("change"));
  }
  const rowCells = (row, total) => {
    const cells = [total ? w("total") : row.bucket, ...dims.map((d) => (total ? "" : dimensionText(row, d)))];
    for (const [field] of measures) {
      const v = row[field];
      cells.push(valueText(v, answer.suppression_threshold, field === "revenue_krw"));
      if (r.year_over_year) {
        cells.push(v && v.previous_value !== undefined ? SMZ.group(v.previous_value) : "");
        cells.push(v && v.change_percent !== undefined ? Number(v.change_percent).toFixed(1) : "");
      }
    }
    return cells;
  };
  const rows = answer.rows || [];
  const body = el("tbody");
  for (const row of rows) {
    const key = [row.bucket, ...dims.map((d) => dimensionText(row, d).split(" ")[0])].join("|");
    body.append(el("tr", { "data-row": key, "data-visits": row.visits && row.visits.applicable && !row.visits.suppressed ? row.visits.value : "" },
                   ...rowCells(row, false).map((c, i) => (i === 0 ? el("th", { scope: "row" }, c) : el("td", { class: i > dims.length ? "number" : "" }, c)))));
  }
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: head.length }, w("none"))));
  const foot = el("tfoot", {}, el("tr", { "data-row": "total" },
                  ...rowCells(answer.total || {}, true).map((c, i) => el(i === 0 ? "th" : "td", { class: i > dims.length ? "number" : "" }, c))));
  $("table").replaceChildren(el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))), body, foot);

  const notes = [fill(w("suppressed"), { n: answer.suppression_threshold })];
  if ((answer.withheld_periods || []).length) {
    notes.push(fill(w("withheld"), { n: answer.min_group_partners, months: answer.withheld_periods.join(", ") }));
  }
  $("notes").textContent = notes.join(" ");

  if (state.chart) { state.chart.destroy(); state.chart = null; }
  if (window.Chart && rows.length) {
    const metric = r.top_n ? { VISITS: "visits", NEW_PATIENTS: "new_patients", REVENUE_KRW: "revenue_krw" }[r.order_by] : "visits";
    const shown = rows.slice(0, 40);
    state.chart = new Chart($("chart"), {
      type: "bar",
      data: { labels: shown.map((row) => [row.bucket, ...dims.map((d) => dimensionText(row, d))].join(" · ")),
              datasets: [{ label: w(metric === "revenue_krw" ? "revenue" : metric),
                           data: shown.map((row) => (row[metric] && !row[metric].suppressed ? Number(row[metric].value) : null)),
                           backgroundColor: "#1565c0" }] },
      options: { animation: false, responsive: true },
    });
  }
  $("results").hidden = false;
}

async function run() {
  const r = request();
  remember(r);
  $("problems").hidden = true;
  $("busy").textContent = w("working");
  try {
    const answer = await SMZ.post("/v1/aggregates:query", r);
    state.last = r;
    render(r, answer);
    $("download-csv").disabled = false;
    $("download-xlsx").disabled = false;
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    const list = el("ul", {}, ...(e.violations.length ? e.violations.map((v) => el("li", {}, v.field + ": " + v.description))
                                                      : [el("li", {}, e.message)]));
    $("problems").replaceChildren(list);
    $("problems").hidden = false;
    document.body.dataset.loaded = "error";
  } finally {
    $("busy").textContent = "";
  }
}

// The same request as the table on screen, as a file.
async function download(kind) {
  if (!state.last) return;
  try {
    const file = await SMZ.post("/v1/aggregates:" + (kind === "csv" ? "exportCsv" : "exportXlsx"), state.last);
    const bytes = Uint8Array.from(atob(file.content || ""), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: file.content_type }));
    const a = el("a", { href: url, download: file.filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    document.body.dataset.downloaded = kind;
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("problems").replaceChildren(el("p", {}, e.message));
    $("problems").hidden = false;
  }
}

(async () => {
  state.me = await SMZ.start(w("title"), () => { SMZ.translate(w); SMZ.retitle(w("title")); if (state.last) run(); });
  SMZ.translate(w);
  const box = $("dimensions");
  for (const d of DIMENSIONS) {
    // Hospitals one by one are for the district only.
    if (d === "PARTNER" && state.me.role !== "ADMIN") continue;
    box.append(el("label", { class: "inline" }, el("input", { type: "checkbox", id: "dim-" + d }), " " + w(d)));
  }
  for (const [code, ko, en] of SMZ.reference().departments) {
    $("departments").append(el("option", { value: code }, SMZ.lang === "en" ? en : ko));
  }
  // Default: this year so far, by month and nationality.
  const now = new Date();
  $("end").value = now.toISOString().slice(0, 7);
  $("start").value = now.getFullYear() + "-01";
  if (!restore()) $("dim-NATIONALITY").checked = true;
  $("query").addEventListener("submit", (event) => { event.preventDefault(); run(); });
  $("download-csv").addEventListener("click", () => download("csv"));
  $("download-xlsx").addEventListener("click", () => download("xlsx"));
  if (SMZ.query.get("start")) run(); else document.body.dataset.loaded = "ready";
})();
