// The upload page (upload.html): a CSV or XLSX (read in the page by
// xlsx_reader.js) becomes the CSV of StatsService.ImportReports, sent first
// as a dry run for the preview, then for real with a request_id kept
// across retries.
"use strict";
const w = SMZ.words({
  ko: { title: "파일로 보고 올리기", choose_title: "1. 파일 고르기",
        intro: "서식의 열(기관번호, 보고월, 구분, 국적, 진료과, 진료유형, 성별, 연령대, 값)대로 채운 CSV나 XLSX 파일을 올립니다. 한 파일에 여러 달을 넣을 수 있습니다.",
        templates: "서식 받기:", file: "파일 (CSV 또는 XLSX, 16 MiB까지)", partner: "귀 기관 번호: {id}",
        preview_title: "2. 미리보기 (아직 저장하지 않았습니다)", commit: "이대로 저장", reading: "읽는 중…",
        checking: "확인 중…", saving: "저장 중…", rows: "{rows}행 · 보고 {reports}건",
        period: "보고월", hospital: "기관번호", created: "새 칸", updated: "바뀐 칸", unchanged: "그대로",
        deleted: "지울 칸", warnings: "경고", same: "바뀐 것 없음",
        errors: "고칠 곳이 {n}개 있어 아무것도 저장하지 않습니다. 파일을 고친 뒤 다시 고르세요.",
        line: "행", field: "열", message: "내용", more_errors: "… 외 {n}개",
        saved: "저장했습니다: 보고 {n}건. 집계에 바로 반영됩니다.", open: "열기",
        too_big: "파일이 너무 큽니다: CSV로 바꾼 크기가 1 MB를 넘습니다. 몇 달씩 나누어 올리세요.",
        unreadable: "파일을 읽지 못했습니다: {why}", empty: "파일에 행이 없습니다." },
  en: { title: "Upload reports as a file", choose_title: "1. Choose a file",
        intro: "Upload a CSV or XLSX file in the template's columns (partner number, month, record, nationality, department, care type, sex, age band, value). One file may hold several months.",
        templates: "Templates:", file: "File (CSV or XLSX, up to 16 MiB)", partner: "Your partner number: {id}",
        preview_title: "2. Preview (nothing is stored yet)", commit: "Store these", reading: "Reading…",
        checking: "Checking…", saving: "Storing…", rows: "{rows} rows · {reports} reports",
        period: "Month", hospital: "Partner", created: "New cells", updated: "Changed", unchanged: "Unchanged",
        deleted: "Removed", warnings: "Warnings", same: "nothing changes",
        errors: "{n} problems: nothing will be stored. Correct the file and choose it again.",
        line: "Line", field: "Column", message: "Problem", more_errors: "… and {n} more",
        saved: "Stored: {n} reports, counted in the statistics at once.", open: "Open",
        too_big: "The file is too large: more than 1 MB as CSV. Upload a few months at a time.",
        unreadable: "Could not read the file: {why}", empty: "The file has no rows." },
});
const fill = SMZ.fill;
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
// The gateway takes request bodies up to 1 MiB; the CSV travels in JSON.
const MAX_CSV_BYTES = 1000000;
const state = { csv: "", pending: null, pick: 0 };

// A CSV saved by a Korean spreadsheet program is often CP949 (EUC-KR), not
// UTF-8: decoded as UTF-8 when it is valid UTF-8, else as EUC-KR.
function decodeText(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    return new TextDecoder("euc-kr").decode(bytes);
  }
}

async function fileAsCsv(file) {
  const buffer = await file.arrayBuffer();
  if (buffer.byteLength > SMZXlsx.LIMITS.fileBytes) throw new SMZXlsx.XlsxError("16 MiB");
  const head = new Uint8Array(buffer, 0, Math.min(4, buffer.byteLength));
  const zip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4;
  if (zip || /\.xlsx$/i.test(file.name)) return SMZXlsx.toCsv(await SMZXlsx.read(buffer));
  return decodeText(new Uint8Array(buffer));
}

function renderPreview(answer) {
  const box = $("preview");
  box.replaceChildren();
  const errors = answer.errors || [];
  if (errors.length) {
    const table = el("table", { id: "preview-errors" },
                     el("thead", {}, el("tr", {}, ...["line", "field", "message"].map((k) => el("th", { scope: "col" }, w(k))))));
    const body = el("tbody");
    for (const e of errors) {
      body.append(el("tr", { "data-error-line": e.line }, el("td", {}, e.line ? String(e.line) : "–"),
                     el("td", {}, e.field), el("td", {}, e.message)));
    }
    table.append(body);
    box.append(el("p", { class: "notice bad" }, fill(w("errors"), { n: answer.error_count || errors.length })),
               el("div", { class: "scroll" }, table));
    if ((answer.error_count || 0) > errors.length) {
      box.append(el("p", { class: "muted" }, fill(w("more_errors"), { n: answer.error_count - errors.length })));
    }
    $("commit").hidden = true;
    document.body.dataset.preview = "errors";
    return;
  }
  const reports = answer.reports || [];
  if (!reports.length) {
    box.append(el("p", { class: "notice bad" }, w("empty")));
    $("commit").hidden = true;
    return;
  }
  const keys = ["created", "updated", "unchanged", "deleted", "warnings"];
  const table = el("table", { id: "preview-reports" },
                   el("thead", {}, el("tr", {}, el("th", { scope: "col" }, w("period")),
                                      el("th", { scope: "col" }, w("hospital")),
                                      ...keys.map((k) => el("th", { scope: "col", class: "number" }, w(k))))));
  const body = el("tbody");
  for (const r of reports) {
    const s = r.summary || {};
    body.append(el("tr", { "data-preview": r.partner_id + "/" + r.period },
                   el("th", { scope: "row" }, r.period + (s.unchanged ? " (" + w("same") + ")" : "")),
                   el("td", {}, String(r.partner_id)),
                   el("td", { class: "number" }, String(s.cells_created || 0)),
                   el("td", { class: "number" }, String(s.cells_updated || 0)),
                   el("td", { class: "number" }, String(s.cells_unchanged || 0)),
                   el("td", { class: "number" }, String(s.cells_deleted || 0)),
                   el("td", { class: "number" }, String((s.warnings || []).length))));
  }
  table.append(body);
  box.append(el("p", {}, fill(w("rows"), { rows: answer.rows || 0, reports: reports.length })),
             el("div", { class: "scroll" }, table));
  $("commit").hidden = false;
  document.body.dataset.preview = "ready";
}

async function choose() {
  const file = $("file").files[0];
  // A later choice wins: answers about an earlier file are dropped.
  const pick = ++state.pick;
  $("outcome").replaceChildren();
  $("preview-section").hidden = true;
  state.csv = "";
  state.pending = null;
  if (!file) return;
  $("reading").textContent = w("reading");
  try {
    const csv = await fileAsCsv(file);
    if (pick !== state.pick) return;
    // As the gateway counts it: the JSON body it travels in.
    if (new TextEncoder().encode(JSON.stringify({ csv, dry_run: true })).length > MAX_CSV_BYTES) {
      $("reading").textContent = w("too_big");
      return;
    }
    state.csv = csv;
    $("reading").textContent = w("checking");
    const answer = await SMZ.post("/v1/reports:import", { csv, dry_run: true });
    if (pick !== state.pick) return;
    $("reading").textContent = "";
    renderPreview(answer);
    $("preview-section").hidden = false;
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    if (pick !== state.pick) return;
    $("reading").textContent = fill(w("unreadable"), { why: e.message });
    document.body.dataset.preview = "unreadable";
  }
}

async function commit() {
  if (!state.csv) return;
  // A retry of the same file after no answer keeps its request_id, so the
  // reports are stored once.
  if (!state.pending) state.pending = SMZ.requestId("upload");
  $("busy").textContent = w("saving");
  $("commit").disabled = true;
  const outcome = $("outcome");
  try {
    const answer = await SMZ.post("/v1/reports:import", { csv: state.csv, dry_run: false, request_id: state.pending });
    state.pending = null;
    const list = el("ul");
    for (const r of answer.reports || []) {
      const args = new URLSearchParams({ period: r.period });
      if (SMZ.query.get("partner")) args.set("partner", r.partner_id);
      list.append(el("li", {}, r.period + " ", el("a", { href: "/hospital/report?" + args }, w("open"))));
    }
    outcome.className = "notice";
    outcome.replaceChildren(el("strong", {}, fill(w("saved"), { n: (answer.reports || []).length })), list);
    $("preview-section").hidden = true;
    document.body.dataset.committed = "yes";
    outcome.focus();
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    if (e.status !== 0 && e.status < 500) state.pending = null;
    if (e.status === 400) {
      // Something changed since the preview (a month locked meanwhile):
      // the rows that now fail, as the preview shows them.
      const again = await SMZ.post("/v1/reports:import", { csv: state.csv, dry_run: true }).catch(() => null);
      if (again && (again.errors || []).length) { renderPreview(again); return; }
    }
    outcome.className = "notice bad";
    outcome.textContent = e.message;
  } finally {
    $("busy").textContent = "";
    $("commit").disabled = false;
  }
}

(async () => {
  const me = await SMZ.start(w("title"), () => { SMZ.translate(w); SMZ.retitle(w("title")); });
  SMZ.translate(w);
  if (me.partner_id && me.partner_id !== "0") $("partner-number").textContent = fill(w("partner"), { id: me.partner_id });
  $("file").addEventListener("change", choose);
  $("commit").addEventListener("click", commit);
  document.body.dataset.loaded = "yes";
})();
