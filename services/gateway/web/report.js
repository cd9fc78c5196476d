// The monthly report form (report.html). Reads GetReport (404: a new
// report), GetReportingCalendar (deadline, lock, exception) and the
// month's ListWarnings; writes SubmitReport with the etag read and a
// request_id kept across retries of the same content.
"use strict";
const w = SMZ.words({
  ko: { title: "월간 보고", back: "← 보고 현황", history: "변경 이력", no_activity: "이번 달 외국인 환자 없음 (활동 없음)",
        find: "행 찾기", new_title: "신규 환자 (국적별, 성별·연령대는 선택)",
        visits_title: "진료 건수 (국적 × 진료과 × 진료 유형)", nationality: "국적", sex: "성별",
        age_band: "연령대", new_count: "신규 환자 수", visit_count: "진료 건수", note: "확인", remove: "삭제",
        department: "진료과", care_type: "진료 유형", add_row: "+ 행 추가", paste: "엑셀에서 붙여넣기",
        paste_new_help: "한 줄에 하나씩: 국적, 신규 환자 수 (성별, 연령대는 선택). 탭이나 쉼표로 나눕니다.",
        paste_visit_help: "한 줄에 하나씩: 국적, 진료과, 진료 유형(외래·입원·검진), 진료 건수. 탭이나 쉼표로 나눕니다.",
        paste_add: "행으로 추가", revenue: "외국인 환자 진료 수입 (원, 선택)", save_draft: "임시 저장",
        submit: "제출", correct: "정정 제출", saving: "저장 중…",
        not_broken_down: "구분 없음", female: "여성", male: "남성", age_60: "60세 이상",
        outpatient: "외래", inpatient: "입원", checkup: "건강검진", choose: "선택",
        row: "{n}행", new_row: "신규 환자 {n}행", visit_row: "진료 {n}행",
        state_new: "{period} · 아직 저장하지 않은 새 보고", deadline: "마감 {deadline}까지",
        draft: "임시 저장", submitted: "제출됨", accepted: "승인됨", late: "지연 제출",
        revision: "개정 {n} · {time} · {who}",
        locked: "이 달은 마감되어 고칠 수 없습니다. 고쳐야 하면 구청(관리자)에 예외 허용을 요청하세요.",
        exception: "예외 허용: {until}까지 고칠 수 있습니다.",
        refused: "저장하지 못했습니다. 표시된 칸 {n}개를 고치세요.", refused_other: "저장하지 못했습니다: {message}",
        not_a_number: "숫자만 입력하세요 (예: 12)",
        conflict: "그 사이 이 보고가 바뀌었습니다 (개정 {n}, {time}, {who}). 내 입력은 저장되지 않았습니다. 다시 불러온 뒤 고치세요.",
        conflict_changes: "바뀐 칸:", reload: "최신 보고 다시 불러오기", nothing_changed: "칸 값은 같고 상태만 바뀌었습니다.",
        saved_draft: "임시 저장했습니다 (집계에 들어가지 않습니다).", saved_submit: "제출했습니다. 집계에 바로 반영됩니다.",
        saved_same: "바뀐 내용이 없습니다.",
        unsaved: "이 달에 저장하지 않은 입력이 남아 있습니다 (로그인이 끝났거나 최신 보고를 다시 불러오기 전의 입력). 되살릴까요?",
        restore: "입력 되살리기", discard: "버리기",
        saved_counts: "새 칸 {created}, 바뀐 칸 {updated}, 그대로 {unchanged}, 지운 칸 {deleted}",
        warnings: "평소와 크게 다른 값이 있습니다. 맞는지 확인하세요 (틀리면 고쳐서 다시 제출, 맞으면 그대로 두면 됩니다).",
        warning_row: "평소와 다름: 이번 달 {value}, 지난 {months}개월 중앙값 {median}",
        totals: "신규 환자 {new}명 · 진료 {visits}건", paste_bad: "{line}행을 읽지 못했습니다: {text}",
        paste_too_many: "한 번에 5,000행까지 붙여넣을 수 있습니다.", bad_period: "?period=YYYY-MM 형식의 달이 필요합니다." },
  en: { title: "Monthly report", back: "← Reports", history: "History", no_activity: "No foreign patients this month (no activity)",
        find: "Find rows", new_title: "New patients (by nationality; sex and age band optional)",
        visits_title: "Visits (nationality × department × care type)", nationality: "Nationality", sex: "Sex",
        age_band: "Age band", new_count: "New patients", visit_count: "Visits", note: "Check", remove: "Remove",
        department: "Department", care_type: "Care type", add_row: "+ Add a row", paste: "Paste from a spreadsheet",
        paste_new_help: "One per line: nationality, new patients (sex and age band optional), separated by tabs or commas.",
        paste_visit_help: "One per line: nationality, department, care type (outpatient, inpatient, check-up), visits, separated by tabs or commas.",
        paste_add: "Add as rows", revenue: "Revenue from foreign patients (KRW, optional)", save_draft: "Save a draft",
        submit: "Submit", correct: "Submit the correction", saving: "Saving…",
        not_broken_down: "Not broken down", female: "Female", male: "Male", age_60: "60 and over",
        outpatient: "Outpatient", inpatient: "Inpatient", checkup: "Health check-up", choose: "Choose",
        row: "row {n}", new_row: "new patients row {n}", visit_row: "visits row {n}",
        state_new: "{period} · a new report, not saved yet", deadline: "due by the end of {deadline}",
        draft: "Draft", submitted: "Submitted", accepted: "Accepted", late: "Late",
        revision: "revision {n} · {time} · {who}",
        locked: "This month is locked. To correct it, ask the district (an administrator) for a lock exception.",
        exception: "Lock exception: open for corrections until {until}.",
        refused: "Not saved: correct the {n} marked cells.", refused_other: "Not saved: {message}",
        not_a_number: "Digits only (e.g. 12)",
        conflict: "This report changed meanwhile (revision {n}, {time}, {who}). Your entries were not saved: reload it, then correct it.",
        conflict_changes: "Changed cells:", reload: "Reload the latest report", nothing_changed: "The cells are the same; only the state changed.",
        saved_draft: "Draft saved (not counted in the statistics).", saved_submit: "Submitted: counted in the statistics at once.",
        saved_same: "Nothing changed.",
        unsaved: "Entries for this month were not saved (your session ended, or the latest report was loaded over them). Bring them back?",
        restore: "Bring them back", discard: "Discard",
        saved_counts: "{created} new cells, {updated} changed, {unchanged} unchanged, {deleted} removed",
        warnings: "Some figures are far from your usual: check them (correct and submit again if wrong; if right, nothing to do).",
        warning_row: "Unusual: {value} this month, median {median} over {months} months",
        totals: "{new} new patients · {visits} visits", paste_bad: "line {line} not understood: {text}",
        paste_too_many: "At most 5,000 lines at once.", bad_period: "A month is needed as ?period=YYYY-MM." },
});
const fill = SMZ.fill;
const $ = (id) => document.getElementById(id);
const el = SMZ.el;

const SEXES = [["", "not_broken_down"], ["FEMALE", "female"], ["MALE", "male"]];
const AGES = [["", "not_broken_down"], ["AGE_0_9", "0–9"], ["AGE_10_19", "10–19"], ["AGE_20_29", "20–29"],
              ["AGE_30_39", "30–39"], ["AGE_40_49", "40–49"], ["AGE_50_59", "50–59"], ["AGE_60_PLUS", "age_60"]];
const CARE = [["", "choose"], ["OUTPATIENT", "outpatient"], ["INPATIENT", "inpatient"], ["HEALTH_CHECKUP", "checkup"]];
const MAX_ROWS = 5000;

const model = {
  me: null, partnerId: 0, period: "", report: null, etag: "", month: null, locked: false,
  pending: null,  // {id, content}: a request_id reused while the same content is retried
};
const reportPath = () => "/v1/partners/" + model.partnerId + "/reports/" + model.period;
const unset = (v) => !v || /_UNSPECIFIED$/.test(v);

function options(pairs, selected) {
  return pairs.map(([value, key]) => {
    const o = el("option", { value }, w(key));
    if (value === (selected || "")) o.selected = true;
    return o;
  });
}
function departmentOptions(selected) {
  const list = [["", w("choose")]].concat(
      SMZ.reference().departments.map(([code, ko, en]) => [code, SMZ.lang === "en" ? en : ko]));
  return list.map(([value, label]) => {
    const o = el("option", { value }, label);
    if (value === (selected || "")) o.selected = true;
    return o;
  });
}

// One editable row. Each input names its field so the service's field
// violations find it (report.visits[3].count -> the row with data-index 3).
function row(kind, cell) {
  cell = cell || {};
  const count = cell.count === undefined || cell.count === null ? "" : String(cell.count);
  const nationality = el("input", { name: "nationality", list: "countries", maxlength: "2",
                                    autocapitalize: "characters", autocomplete: "off",
                                    value: cell.nationality || "" });
  const middle = kind === "new"
      ? [el("select", { name: "sex" }, ...options(SEXES, unset(cell.sex) ? "" : cell.sex)),
         el("select", { name: "age_band" }, ...options(AGES, unset(cell.age_band) ? "" : cell.age_band))]
      : [el("select", { name: "department" }, ...departmentOptions(cell.department)),
         el("select", { name: "care_type" }, ...options(CARE, unset(cell.care_type) ? "" : cell.care_type))];
  const countInput = el("input", { name: "count", class: "count", inputmode: "numeric", maxlength: "12",
                                   autocomplete: "off", value: count });
  const remove = el("button", { type: "button", class: "link remove", "data-remove": "" }, "×");
  const tr = el("tr", { "data-kind": kind },
                el("td", {}, nationality), ...middle.map((m) => el("td", {}, m)),
                el("td", { class: "number" }, countInput), el("td", { class: "note" }), el("td", {}, remove));
  return tr;
}

// Accessible names (column + row number), renumbered after adds/removes.
function relabel(tbody) {
  const heads = [...tbody.closest("table").querySelectorAll("thead th")].map((th) => th.textContent);
  [...tbody.rows].forEach((tr, i) => {
    [...tr.querySelectorAll("input, select")].forEach((input) => {
      const column = [...tr.cells].indexOf(input.closest("td"));
      input.setAttribute("aria-label", heads[column] + " · " + fill(w("row"), { n: i + 1 }));
    });
    tr.querySelector("[data-remove]").setAttribute("aria-label", w("remove") + " · " + fill(w("row"), { n: i + 1 }));
  });
}

function fillRows(report) {
  const add = (tbody, kind, cells) => {
    const fragment = document.createDocumentFragment();
    for (const c of cells) fragment.append(row(kind, c));
    if (!cells.length) fragment.append(row(kind));
    tbody.replaceChildren(fragment);
    relabel(tbody);
  };
  add($("new-rows"), "new", (report && report.new_patients) || []);
  add($("visit-rows"), "visit", (report && report.visits) || []);
  $("no-activity").checked = !!(report && report.no_activity);
  $("revenue").value = report && report.revenue_krw !== undefined ? String(report.revenue_krw) : "";
  applyNoActivity();
  totals();
}

function applyNoActivity() {
  const none = $("no-activity").checked;
  $("new-section").hidden = none;
  $("visits-section").hidden = none;
}

const parseCount = (text) => {
  const t = String(text).replace(/[,\s]/g, "");
  return /^-?\d{1,15}$/.test(t) ? Number(t) : null;
};

function totals() {
  const sum = (tbody) => [...tbody.rows].reduce(
      (s, tr) => s + (parseCount(tr.querySelector("[name=count]").value) || 0), 0);
  $("totals").textContent = fill(w("totals"), { new: SMZ.group(sum($("new-rows"))),
                                                visits: SMZ.group(sum($("visit-rows"))) });
}

// The form as a Report; rows left blank are skipped, and numbers that are
// not numbers are refused here, in place, before anything is sent.
function collect() {
  const report = { partner_id: model.partnerId, period: model.period,
                   no_activity: $("no-activity").checked, new_patients: [], visits: [] };
  const local = [];
  if (!report.no_activity) {
    for (const [tbody, list] of [[$("new-rows"), report.new_patients], [$("visit-rows"), report.visits]]) {
      for (const tr of tbody.rows) {
        const value = (name) => { const e = tr.querySelector("[name=" + name + "]"); return e ? e.value.trim() : ""; };
        delete tr.dataset.index;
        if (!value("nationality") && !value("count")) continue;
        const count = parseCount(value("count"));
        if (count === null) local.push({ input: tr.querySelector("[name=count]"), description: w("not_a_number") });
        tr.dataset.index = list.length;
        const cell = { nationality: value("nationality").toUpperCase(), count: count ?? 0 };
        if (tr.dataset.kind === "new") {
          if (value("sex")) cell.sex = value("sex");
          if (value("age_band")) cell.age_band = value("age_band");
        } else {
          cell.department = value("department");
          if (value("care_type")) cell.care_type = value("care_type");
        }
        list.push(cell);
      }
    }
  }
  const revenue = $("revenue").value.trim();
  if (revenue) {
    const krw = parseCount(revenue);
    if (krw === null) local.push({ input: $("revenue"), description: w("not_a_number") });
    else report.revenue_krw = krw;
  }
  return { report, local };
}

function clearMarks() {
  for (const e of document.querySelectorAll(".refused, .refused-row")) e.classList.remove("refused", "refused-row");
  for (const e of document.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
  for (const e of document.querySelectorAll("[data-refused]")) delete e.dataset.refused;
  for (const e of document.querySelectorAll(".refused-message")) e.remove();
  for (const e of document.querySelectorAll("[aria-describedby]")) e.removeAttribute("aria-describedby");
  for (const id of ["problems", "conflict", "saved"]) { $(id).hidden = true; $(id).replaceChildren(); }
}

// Marks one input (or a whole row when `input` is a <tr>) with a message,
// and returns what the summary links to.
function mark(target, description, field) {
  let focus = target;
  let where;
  if (target.tagName === "TR") {
    target.classList.add("refused-row");
    where = target.querySelector("td.note");
    focus = target.querySelector("input, select");
  } else {
    const td = target.closest("td");
    if (td) td.classList.add("refused"); else target.classList.add("refused");
    target.setAttribute("aria-invalid", "true");
    where = td || null;
  }
  // In its cell, or in the message box beside a field outside the tables.
  const holder = where || $(target.id + "-message");
  const message = el("span", { class: "refused-message" }, description);
  holder.append(message);
  const id = "refusal-" + Math.random().toString(36).slice(2);
  message.id = id;
  if (focus) focus.setAttribute("aria-describedby", id);
  (target.tagName === "TR" ? target : (target.closest("td") || target)).dataset.refused = field || "";
  return focus;
}

function rowLabel(tr) {
  const index = [...tr.parentNode.rows].indexOf(tr) + 1;
  return fill(w(tr.dataset.kind === "new" ? "new_row" : "visit_row"), { n: index });
}

// The service's INVALID_ARGUMENT: each field violation at its cell.
function showRefusals(items) {
  const list = el("ul");
  for (const item of items) {
    const label = item.label ? item.label + ": " : "";
    const link = el("button", { type: "button", class: "link" }, label + item.description);
    if (item.focus) link.addEventListener("click", () => item.focus.focus());
    list.append(el("li", {}, link));
  }
  $("problems").replaceChildren(el("strong", {}, fill(w("refused"), { n: items.length })), list);
  $("problems").hidden = false;
  $("problems").focus();
}

function placeViolations(violations) {
  const items = [];
  for (const v of violations) {
    const m = /^report\.(new_patients|visits)\[(\d+)\](?:\.(\w+))?$/.exec(v.field);
    let focus = null;
    let label = v.field;
    if (m) {
      const tbody = $(m[1] === "visits" ? "visit-rows" : "new-rows");
      const tr = [...tbody.rows].find((r) => r.dataset.index === m[2]);
      if (tr) {
        const input = m[3] ? tr.querySelector("[name=" + m[3] + "]") : null;
        focus = mark(input || tr, v.description, v.field);
        label = rowLabel(tr) + (input ? " · " + input.closest("table").querySelectorAll("thead th")[
            [...tr.cells].indexOf(input.closest("td"))].textContent : "");
      }
    } else if (v.field === "report.revenue_krw") {
      focus = mark($("revenue"), v.description, v.field);
      label = w("revenue");
    } else if (v.field === "report.no_activity") {
      focus = mark($("no-activity"), v.description, v.field);
      label = w("no_activity");
    }
    items.push({ label, description: v.description, focus });
  }
  showRefusals(items);
}

// What differs between the report this form was filled from and the
// current one, cell by cell.
function cellMap(report) {
  const map = new Map();
  if (!report) return map;
  for (const c of report.new_patients || []) {
    map.set(["new", c.nationality, unset(c.sex) ? "" : c.sex, unset(c.age_band) ? "" : c.age_band].join("/"), Number(c.count));
  }
  for (const c of report.visits || []) {
    map.set(["visits", c.nationality, c.department, c.care_type].join("/"), Number(c.count));
  }
  if (report.revenue_krw !== undefined) map.set("revenue_krw", Number(report.revenue_krw));
  map.set("no_activity", report.no_activity ? 1 : 0);
  return map;
}

async function showConflict() {
  const current = await SMZ.get(reportPath()).catch(() => null);
  const box = $("conflict");
  box.replaceChildren();
  if (current) {
    box.append(el("p", {}, fill(w("conflict"), { n: current.revision,
        time: SMZ.seoul(current.update_time, true), who: current.submitted_by })));
    const before = cellMap(model.report);
    const after = cellMap(current);
    const list = el("ul", { id: "conflict-changes" });
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      if (before.get(key) === after.get(key)) continue;
      list.append(el("li", { "data-changed": key }, key + ": " + (before.get(key) ?? "–") + " → " + (after.get(key) ?? "–")));
    }
    box.append(el("p", {}, w("conflict_changes")), list.children.length ? list : el("p", {}, w("nothing_changed")));
  }
  const reload = el("button", { type: "button", class: "primary", id: "reload" }, w("reload"));
  reload.addEventListener("click", () => { keepUnsaved(); load(); });
  box.append(reload);
  box.hidden = false;
  box.focus();
}

async function save(draft) {
  clearMarks();
  const { report, local } = collect();
  if (local.length) {
    showRefusals(local.map((p) => ({ description: p.description, focus: mark(p.input, p.description, "") })));
    return;
  }
  // The same content retried (after a network failure) keeps its request_id,
  // so the service stores it once.
  const content = JSON.stringify([report, model.etag, draft]);
  const retry = !!model.pending && model.pending.content === content;
  if (!retry) model.pending = { id: SMZ.requestId("web"), content };
  $("busy").textContent = w("saving");
  for (const b of document.querySelectorAll("#report-form button")) b.disabled = true;
  try {
    const done = await SMZ.post("/v1/partners/" + model.partnerId + "/reports",
                                { report, request_id: model.pending.id, etag: model.etag, draft });
    model.pending = null;
    forgetUnsaved();
    model.report = done.report;
    model.etag = done.report.etag;
    fillRows(done.report);
    renderState();
    const s = done.summary || {};
    $("saved").replaceChildren(
        // A retry's answer is the first attempt's, which was stored.
        el("strong", {}, s.unchanged && !retry ? w("saved_same") : w(draft ? "saved_draft" : "saved_submit")), " ",
        fill(w("saved_counts"), { created: s.cells_created || 0, updated: s.cells_updated || 0,
                                  unchanged: s.cells_unchanged || 0, deleted: s.cells_deleted || 0 }));
    $("saved").hidden = false;
    document.body.dataset.saved = done.report.status + ":" + done.report.revision;
    showWarnings((s.warnings || []));
  } catch (e) {
    if (e.status === 401) { keepUnsaved(); return SMZ.signInAgain(); }
    // Without an answer, or with a server error, the first attempt may
    // have been stored: the same content goes again under the same id.
    if (e.status !== 0 && e.status < 500) model.pending = null;
    if (e.code === SMZ.ABORTED) {
      await showConflict();
    } else if ((e.violations || []).length) {
      placeViolations(e.violations);
    } else {
      showRefusals([{ description: fill(w("refused_other"), { message: e.message }) }]);
    }
    document.body.dataset.saved = "refused";
  } finally {
    $("busy").textContent = "";
    for (const b of document.querySelectorAll("#report-form button")) b.disabled = model.locked;
  }
}

// Plausibility warnings (the service compares each figure with this
// hospital's own history): beside their rows and listed together.
function showWarnings(warnings) {
  for (const e of document.querySelectorAll("td.note .warning")) e.remove();
  const box = $("warnings");
  if (!warnings.length) { box.hidden = true; return; }
  const list = el("ul");
  for (const warning of warnings) {
    const note = fill(w("warning_row"), { value: SMZ.group(warning.value), months: warning.history_months,
                                          median: SMZ.group(warning.history_median) });
    list.append(el("li", { "data-warning": warning.cell }, warning.cell + " — " + note));
    for (const tr of document.querySelectorAll("#new-rows tr, #visit-rows tr")) {
      const v = (n) => { const e = tr.querySelector("[name=" + n + "]"); return e ? e.value.trim().toUpperCase() : ""; };
      const name = tr.dataset.kind === "new" ? "new_patients[" + v("nationality") + "]"
          : "visits[" + v("nationality") + "/" + tr.querySelector("[name=department]").value + "/" + v("care_type") + "]";
      if (name === warning.cell) tr.querySelector("td.note").append(el("span", { class: "warning", "data-warning": warning.cell }, "⚠ " + note));
    }
  }
  box.replaceChildren(el("p", {}, w("warnings")), list);
  box.hidden = false;
}

function renderState() {
  const r = model.report;
  const m = model.month || {};
  const parts = [];
  const badge = (kind, label) => el("span", { class: "badge " + kind }, label);
  const box = $("report-state");
  box.replaceChildren();
  if (!r) {
    parts.push(fill(w("state_new"), { period: model.period }));
  } else {
    box.append(badge(r.status.toLowerCase(), w(r.status.toLowerCase())), " ");
    if (r.late) box.append(badge("late", w("late")), " ");
    parts.push(model.period + " · " + fill(w("revision"), { n: r.revision, time: SMZ.seoul(r.update_time, true),
                                                            who: r.submitted_by }));
  }
  if (m.deadline) parts.push(fill(w("deadline"), { deadline: SMZ.lastDay(m.deadline) }));
  box.append(el("span", { id: "state-text", "data-status": r ? r.status : "NONE" }, parts.join(" · ")));
  model.locked = !!m.locked;
  if (m.locked) box.append(el("p", { class: "notice bad", id: "locked" }, w("locked")));
  else if (m.exception_expire_time) {
    box.append(el("p", { class: "notice" }, fill(w("exception"), { until: SMZ.seoul(m.exception_expire_time, true) })));
  }
  for (const e of document.querySelectorAll("#report-form input, #report-form select, #report-form button, #report-form textarea")) {
    if (e.id !== "find") e.disabled = model.locked;
  }
  // A locked month is read only: nothing offers a change.
  for (const e of document.querySelectorAll("#report-form .actions, [data-remove]")) e.hidden = model.locked;
  const submitted = r && (r.status === "SUBMITTED" || r.status === "ACCEPTED");
  $("save-draft").hidden = submitted;
  $("submit").textContent = submitted ? w("correct") : w("submit");
}

// Pasted spreadsheet lines become rows; names in Korean or English, or
// codes, are all understood.
function lookup(list, text) {
  const t = text.trim().toLowerCase();
  const hit = list.find(([code, ko, en]) => code.toLowerCase() === t || ko.toLowerCase() === t || en.toLowerCase() === t);
  return hit ? hit[0] : null;
}
const CARE_WORDS = { outpatient: "OUTPATIENT", "외래": "OUTPATIENT", inpatient: "INPATIENT", "입원": "INPATIENT",
                     health_checkup: "HEALTH_CHECKUP", "health check-up": "HEALTH_CHECKUP", checkup: "HEALTH_CHECKUP",
                     "검진": "HEALTH_CHECKUP", "건강검진": "HEALTH_CHECKUP" };
function paste(kind) {
  const area = $(kind === "new" ? "paste-new" : "paste-visit");
  const errors = $(kind === "new" ? "paste-new-errors" : "paste-visit-errors");
  const tbody = $(kind === "new" ? "new-rows" : "visit-rows");
  const lines = area.value.split(/\r?\n/).filter((l) => l.trim());
  const problems = [];
  // The service takes at most 5,000 cells in both tables together.
  const rows = $("new-rows").rows.length + $("visit-rows").rows.length;
  if (lines.length + rows > MAX_ROWS) { errors.textContent = w("paste_too_many"); return; }
  const reference = SMZ.reference();
  const fragment = document.createDocumentFragment();
  const left = [];
  lines.forEach((line, i) => {
    // A spreadsheet copies cells with tabs, and numbers with their
    // thousands separators ("1,234"): commas separate only without tabs.
    const f = line.split(line.includes("\t") ? "\t" : ",").map((x) => x.trim());
    const fields = 4;  // new: nationality, count, sex, age; visits: 4 columns
    const nationality = lookup(reference.countries, f[0] || "");
    let cell = null;
    if (kind === "new") {
      const count = parseCount(f[1] || "");
      const sex = (f[2] || "").toLowerCase();
      const sexCode = !sex ? "" : /^(f|female|여|여성)$/.test(sex) ? "FEMALE" : /^(m|male|남|남성)$/.test(sex) ? "MALE" : null;
      // An age band by its lower bound ("20", "20대", "20-29", "60+").
      const age = (f[3] || "").match(/^(\d{1,3})/);
      const ageCode = !f[3] ? "" : age ? AGES[Math.min(6, Math.floor(Number(age[1]) / 10)) + 1][0] : null;
      if (nationality && count !== null && sexCode !== null && ageCode !== null && f.length <= fields) {
        cell = { nationality, count };
        if (sexCode) cell.sex = sexCode;
        if (ageCode) cell.age_band = ageCode;
      }
    } else {
      const department = lookup(reference.departments, f[1] || "");
      const care = CARE_WORDS[(f[2] || "").toLowerCase()] || ((f[2] || "").toUpperCase() in { OUTPATIENT: 1, INPATIENT: 1, HEALTH_CHECKUP: 1 } ? f[2].toUpperCase() : null);
      const count = parseCount(f[3] || "");
      if (nationality && department && care && count !== null && f.length <= fields) cell = { nationality, department, care_type: care, count };
    }
    if (cell) fragment.append(row(kind, cell));
    else { problems.push(fill(w("paste_bad"), { line: i + 1, text: line.slice(0, 80) })); left.push(line); }
  });
  // Blank rows go first so pasted ones are not mixed with them.
  for (const tr of [...tbody.rows]) {
    if (!tr.querySelector("[name=nationality]").value && !tr.querySelector("[name=count]").value) tr.remove();
  }
  tbody.append(fragment);
  relabel(tbody);
  area.value = left.join("\n");
  errors.textContent = problems.slice(0, 20).join(" · ");
  totals();
}

// A change of language keeps what was typed: the rows are drawn again
// from their current values, with the labels of the new language.
function retranslate() {
  SMZ.translate(w);
  SMZ.retitle(w("title"));
  restoreTyped(typed());
  renderState();
}

// What is typed, as typed (numbers not yet checked), and back.
function typed() {
  const rows = (tbody) => [...tbody.rows].map((tr) => {
    const cell = {};
    for (const input of tr.querySelectorAll("[name]")) cell[input.name] = input.value;
    return [tr.dataset.kind, cell];
  });
  return { new_rows: rows($("new-rows")), visit_rows: rows($("visit-rows")),
           revenue: $("revenue").value, no_activity: $("no-activity").checked };
}
function restoreTyped(t) {
  for (const [tbody, list] of [[$("new-rows"), t.new_rows], [$("visit-rows"), t.visit_rows]]) {
    tbody.replaceChildren(...(list || []).slice(0, MAX_ROWS).map(([kind, cell]) =>
        row(kind === "new" ? "new" : "visit", cell)));
    if (!tbody.rows.length) tbody.append(row(tbody.id === "new-rows" ? "new" : "visit"));
    relabel(tbody);
  }
  $("revenue").value = String(t.revenue || "").slice(0, 20);
  $("no-activity").checked = !!t.no_activity;
  applyNoActivity();
  totals();
}

// Entries not saved (the session ended, or a newer report was loaded over
// them) are kept in this tab, and offered back when the form opens again.
const unsavedKey = () => "smz-unsaved:" + model.partnerId + ":" + model.period;
function keepUnsaved() {
  try { sessionStorage.setItem(unsavedKey(), JSON.stringify(typed())); } catch (e) { /* full or off */ }
}
function forgetUnsaved() {
  try { sessionStorage.removeItem(unsavedKey()); } catch (e) { /* off */ }
}
function offerUnsaved() {
  let kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(unsavedKey()) || "null"); } catch (e) { kept = null; }
  const box = $("unsaved");
  box.hidden = !kept || model.locked;
  if (box.hidden) return;
  const restore = el("button", { type: "button", class: "primary", id: "restore" }, w("restore"));
  const discard = el("button", { type: "button", id: "discard" }, w("discard"));
  restore.addEventListener("click", () => { restoreTyped(kept); forgetUnsaved(); box.hidden = true; });
  discard.addEventListener("click", () => { forgetUnsaved(); box.hidden = true; });
  box.replaceChildren(el("p", {}, w("unsaved")), restore, " ", discard);
}

// Every revision's warnings of the month, oldest first, all pages.
async function monthWarnings() {
  const all = [];
  let token = "";
  for (let page = 0; page < 20; ++page) {
    const answer = await SMZ.get("/v1/warnings", { partner_id: model.partnerId, start_period: model.period,
                                                   end_period: model.period, page_size: 200, page_token: token });
    all.push(...(answer.warnings || []));
    token = answer.next_page_token;
    if (!token) break;
  }
  return { warnings: all };
}

async function load() {
  SMZ.translate(w);
  SMZ.retitle(w("title"));
  clearMarks();
  const countries = $("countries");
  countries.replaceChildren(...SMZ.reference().countries.map(([code, ko, en]) =>
      el("option", { value: code, label: SMZ.lang === "en" ? en : ko })));
  try {
    const [report, calendar, warnings] = await Promise.all([
      SMZ.get(reportPath()).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
      SMZ.get("/v1/partners/" + model.partnerId + "/reportingCalendars/" + model.period.slice(0, 4)),
      monthWarnings(),
    ]);
    model.report = report;
    model.etag = report ? report.etag : "";
    model.month = calendar.months.find((m) => m.period === model.period) || null;
    fillRows(report);
    renderState();
    offerUnsaved();
    showWarnings((warnings.warnings || []).filter((x) => report && x.revision === report.revision));
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    showRefusals([{ description: e.message }]);
    document.body.dataset.loaded = "error";
  }
}

(async () => {
  model.me = await SMZ.start(w("title"), retranslate);
  model.partnerId = SMZ.pagePartner(model.me);
  model.period = SMZ.query.get("period") || "";
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(model.period) || !model.partnerId) {
    showRefusals([{ description: w("bad_period") }]);
    return;
  }
  const back = document.querySelector("a[href='/hospital']");
  if (SMZ.query.get("partner")) back.href = "/hospital?partner=" + model.partnerId;
  const historyArgs = new URLSearchParams({ period: model.period });
  if (SMZ.query.get("partner")) historyArgs.set("partner", model.partnerId);
  $("history").href = "/hospital/history?" + historyArgs;
  $("add-new").addEventListener("click", () => { const tr = row("new"); $("new-rows").append(tr); relabel($("new-rows")); tr.querySelector("input").focus(); });
  $("add-visit").addEventListener("click", () => { const tr = row("visit"); $("visit-rows").append(tr); relabel($("visit-rows")); tr.querySelector("input").focus(); });
  $("paste-new-add").addEventListener("click", () => paste("new"));
  $("paste-visit-add").addEventListener("click", () => paste("visit"));
  $("no-activity").addEventListener("change", applyNoActivity);
  for (const id of ["new-rows", "visit-rows"]) {
    $(id).addEventListener("click", (event) => {
      const button = event.target.closest("[data-remove]");
      if (!button || model.locked) return;
      const tbody = $(id);
      button.closest("tr").remove();
      if (!tbody.rows.length) tbody.append(row(id === "new-rows" ? "new" : "visit"));
      relabel(tbody);
      totals();
    });
    $(id).addEventListener("input", totals);
  }
  $("find").addEventListener("input", () => {
    const t = $("find").value.trim().toLowerCase();
    for (const tr of document.querySelectorAll("#new-rows tr, #visit-rows tr")) {
      const words = [...tr.querySelectorAll("input, select")].map((e) =>
          (e.tagName === "SELECT" ? e.options[e.selectedIndex]?.text + " " + e.value : e.value).toLowerCase()).join(" ");
      tr.hidden = !!t && !words.includes(t);
    }
  });
  $("save-draft").addEventListener("click", () => save(true));
  $("report-form").addEventListener("submit", (event) => { event.preventDefault(); save(false); });
  load();
})();
