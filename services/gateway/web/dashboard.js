// The council dashboard's script (dashboard.html); served as a file, as the
// page's Content-Security-Policy allows no inline script.
"use strict";
const WORDS = {
  ko: { title: "스마트메디컬특구 대시보드", year: "연도", print: "인쇄",
        signout: "로그아웃", signin: "로그인", login: "아이디", password: "비밀번호",
        code: "인증 앱 코드 (관리자)",
        kpi: "공약 이행 지표", patients: "외국인 환자 유치 (연도별 계획 대비)",
        nationalities: "국적별 상위", budget: "예산 집행 (천원)",
        activities: "추진실적", plan: "계획", result: "실적", target: "목표",
        ytd: "연간 누계", unavailable: "불러오지 못함", differs: "※ 기존 보고와 다름",
        none: "없음", refused: "로그인하지 못했습니다. 아이디와 비밀번호를 확인하세요.",
        ended: "로그인이 끝났습니다. 다시 로그인하세요.",
        upcoming: "다가오는 행사 (90일)", postponed: "연기",
        reports: "의회 보고서 내려받기", report_ko: "보고서 (한국어, HTML)", report_en: "보고서 (영어, HTML)",
        kpi_csv: "공약 지표 표 (CSV)", budget_csv: "예산 집행 표 (CSV)", activities_csv: "추진실적 표 (CSV)",
        types: { BRIEFING_SESSION: "설명회", FAM_TOUR: "팸투어", TRAINING: "교육",
                 COUNCIL_MEETING: "협의회", WORKING_GROUP_MEETING: "실무추진단",
                 BUSINESS_MEETING: "간담회", FORUM: "포럼", EXPO: "박람회",
                 MOU_SIGNING: "업무협약", OTHER: "기타" } },
  en: { title: "Smart Medical Zone dashboard", year: "Year", print: "Print",
        signout: "Sign out", signin: "Sign in", login: "Login", password: "Password",
        code: "Authenticator code (administrators)",
        kpi: "Pledge indicators", patients: "Foreign patients (plan by year)",
        nationalities: "Top nationalities", budget: "Budget execution (thousand KRW)",
        activities: "Activity log", plan: "Plan", result: "Result", target: "Target",
        ytd: "Year to date", unavailable: "Not available", differs: "※ differs from the report",
        none: "None", refused: "Sign-in refused: check the login and password.",
        ended: "Your session has ended: sign in again.",
        upcoming: "Upcoming events (90 days)", postponed: "postponed",
        reports: "Council report downloads", report_ko: "Report (Korean, HTML)", report_en: "Report (English, HTML)",
        kpi_csv: "Pledge indicators (CSV)", budget_csv: "Budget execution (CSV)", activities_csv: "Activity log (CSV)",
        types: { BRIEFING_SESSION: "Briefing session", FAM_TOUR: "Fam tour",
                 TRAINING: "Training", COUNCIL_MEETING: "Council meeting",
                 WORKING_GROUP_MEETING: "Working group", BUSINESS_MEETING: "Meeting",
                 FORUM: "Forum", EXPO: "Expo", MOU_SIGNING: "MOU signing", OTHER: "Other" } },
};
const query = new URLSearchParams(location.search);
const state = {
  lang: query.get("lang") || "ko",
  year: Number(query.get("year") || new Date().getFullYear()),
  programme: query.get("programme") || "smz-2018",
  charts: [],
};
// The session itself is an HttpOnly cookie; its companion smz_csrf is
// readable, says a session may exist, and is sent back as X-SMZ-CSRF with
// every change (the gateway refuses changes without it). Over TLS both
// are named with the __Host- prefix.
const csrf = () =>
  (document.cookie.match(/(?:^|; )(?:__Host-)?smz_csrf=([^;]*)/) || [])[1] || "";
const w = (key) => (WORDS[state.lang] || WORDS.ko)[key];
const text = (map) => (map && (map[state.lang] || map.ko || map.en)) || "";
const group = (n) => Number(n || 0).toLocaleString("en-US");
const thousands = (krw) => group(Math.round(Number(krw || 0) / 1000));

// Each call under its path in its .proto's google.api.http annotation.
async function call(path, args) {
  const response = await fetch(path + "?" + new URLSearchParams(args));
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(body.message), { status: response.status });
  return body;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-SMZ-CSRF": csrf() },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw Object.assign(new Error(answer.message), { status: response.status });
  return answer;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    // Through the CSSOM: the policy refuses style attributes in markup.
    if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function unavailable(sections, name) {
  const s = (sections || []).find((x) => x.name === name && !x.available);
  return s ? el("p", { class: "unavailable" }, w("unavailable") + ": " + s.reason) : null;
}

function light(percent) {
  if (percent === undefined || percent === null) return "";
  return percent >= 100 ? "green" : percent >= 70 ? "amber" : "red";
}

function renderKpi(kpi) {
  const tiles = document.getElementById("tiles");
  tiles.replaceChildren();
  for (const row of kpi.rows) {
    const year = row.years.find((y) => y.year === state.year);
    const pct = row.achievement_percent;
    const tile = el("div", { class: "tile " + light(row.achievement_percent_capped),
                             "data-kpi": row.indicator.code,
                             "data-total": row.total_result ?? "",
                             "data-achievement": row.achievement_percent_capped ?? "" },
                    el("div", {}, text(row.indicator.name)),
                    el("div", { class: "value" }, group(row.total_result) + " / " + group(row.indicator.target_total)),
                    el("div", {}, (row.achievement_percent_capped ?? 0).toFixed(1) + "% (" + (pct ?? 0).toFixed(1) + "%)"));
    if (year && year.result !== undefined) {
      tile.append(el("div", { "data-year-result": year.result },
                     state.year + " " + w("result") + ": " + group(year.result) +
                     (year.plan !== undefined ? " / " + w("plan") + " " + group(year.plan) : "")));
    }
    if (row.years.some((y) => y.differs)) tile.append(el("div", { class: "flag" }, w("differs")));
    tiles.append(tile);
  }
  for (const name of ["programme", "stats", "events"]) {
    const note = unavailable(kpi.sections, name);
    if (note) tiles.append(note);
  }
  const patients = kpi.rows.find((r) => r.indicator.source === "FOREIGN_PATIENTS");
  if (patients && window.Chart) {
    const years = patients.years.filter((y) => y.result !== undefined || y.plan !== undefined);
    state.charts.push(new Chart(document.getElementById("patients-chart"), {
      type: "bar",
      data: { labels: years.map((y) => y.year),
              datasets: [{ label: w("plan"), data: years.map((y) => y.plan ?? null), backgroundColor: "#90caf9" },
                         { label: w("result"), data: years.map((y) => y.result ?? null), backgroundColor: "#1565c0" }] },
      options: { animation: false, responsive: true },
    }));
  }
}

function renderOverview(overview) {
  const ytd = document.getElementById("patients-ytd");
  ytd.replaceChildren();
  const down = unavailable(overview.sections, "stats");
  if (down) { ytd.append(down); return; }
  ytd.append(el("span", { "data-patients-ytd": overview.patients_ytd },
                w("ytd") + ": " + group(overview.patients_ytd) + " / " + w("target") + " " +
                group(overview.patients_target) + " (" + overview.patients_achievement_percent.toFixed(1) + "%)"));
  if (window.Chart) {
    state.charts.push(new Chart(document.getElementById("nationality-chart"), {
      type: "bar",
      data: { labels: overview.top_nationalities.map((n) => n.name),
              datasets: [{ label: w("result"), data: overview.top_nationalities.map((n) => Number(n.count)),
                           backgroundColor: "#2e7d32" }] },
      options: { animation: false, indexAxis: "y", responsive: true },
    }));
  }
}

function renderBudget(table) {
  const box = document.getElementById("budget");
  box.replaceChildren();
  const rows = table.rows.filter((r) => r.depth <= 1 && r.funding_source === "ALL_SOURCES");
  if (!rows.length) { box.append(el("p", {}, w("none"))); return; }
  const t = el("table");
  for (const r of rows) {
    const rate = r.execution_rate_percent ?? 0;
    t.append(el("tr", { "data-budget": r.project_code, "data-rate": rate },
                el("td", {}, (r.depth ? "\u00a0\u00a0" : "") + text(r.project_name)),
                el("td", {}, thousands(r.executed_krw) + " / " + thousands(r.budget_krw)),
                el("td", { style: "width:30%" },
                   el("div", { class: "bar" }, el("div", { style: "width:" + Math.min(rate, 100) + "%" }))),
                el("td", {}, rate.toFixed(1) + "%")));
  }
  box.append(t);
  for (const f of table.findings || []) box.append(el("p", { class: "unavailable", "data-finding": "" }, f.message));
}

function renderActivities(log) {
  const box = document.getElementById("activities");
  box.replaceChildren();
  const down = unavailable(log.sections, "events");
  if (down) { box.append(down); return; }
  if (!log.activities.length) { box.append(el("p", {}, w("none"))); return; }
  const t = el("table");
  for (const a of log.activities) {
    t.append(el("tr", { "data-activity": a.event_id },
                el("td", {}, a.local_start.slice(0, 10)), el("td", {}, text(a.title)),
                el("td", {}, a.online ? "online" : a.city)));
  }
  box.append(t);
}

function renderUpcoming(upcoming) {
  const box = document.getElementById("upcoming");
  box.replaceChildren();
  const down = unavailable(upcoming.sections, "events");
  if (down) { box.append(down); return; }
  if (!(upcoming.events || []).length) { box.append(el("p", {}, w("none"))); return; }
  const t = el("table");
  for (const e of upcoming.events) {
    const type = (WORDS[state.lang] || WORDS.ko).types[e.type] || e.type;
    t.append(el("tr", { "data-upcoming": e.event_id },
                el("td", {}, e.local_start.slice(0, 10) + (e.state === "POSTPONED" ? " (" + w("postponed") + ")" : "")),
                el("td", {}, type), el("td", {}, text(e.title)),
                el("td", {}, e.online ? "online" : e.city)));
  }
  box.append(t);
}

// The council report of the year and its tables (GatewayService.
// GetCouncilReport), each fetched as the signed-in person and saved as a
// file: the session cookie never leaves the page in a link.
const REPORTS = [
  { key: "report_ko", args: { language: "ko", format: "HTML" } },
  { key: "report_en", args: { language: "en", format: "HTML" } },
  { key: "kpi_csv", args: { format: "CSV", table: "KPI" } },
  { key: "budget_csv", args: { format: "CSV", table: "BUDGET" } },
  { key: "activities_csv", args: { format: "CSV", table: "ACTIVITIES" } },
];

function renderReports() {
  const box = document.getElementById("reports");
  box.replaceChildren(...REPORTS.map((report) => {
    const button = el("button", { type: "button", "data-report": report.key }, w(report.key));
    button.onclick = async () => {
      const error = document.getElementById("report-error");
      error.textContent = "";
      button.disabled = true;
      try {
        // A table comes in the page's language; the report in the one its
        // button names (a council may file both).
        const file = await call("/v1/council/councilReports/" + state.year,
                                Object.assign({ programme_code: state.programme }, report.args,
                                              report.args.format === "CSV" ? { language: state.lang } : {}));
        const url = URL.createObjectURL(new Blob([file.content || ""], { type: file.content_type }));
        const a = el("a", { href: url, download: file.filename });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
        document.body.dataset.downloaded = report.key;
      } catch (e) {
        error.textContent = w("unavailable") + ": " + e.message;
      } finally {
        button.disabled = false;
      }
    };
    return button;
  }));
}

// `next` as a path on this site, or null: parsed as the browser will parse
// it (which drops tabs and newlines), so "/\t/evil.example" is refused.
function sameSitePath(next) {
  if (!next || /[\u0000-\u001f\u007f\\]/.test(next)) return null;
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : null;
  } catch (e) {
    return null;
  }
}

async function load() {
  document.documentElement.lang = state.lang;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = w(e.dataset.i18n);
  document.title = w("title");
  for (const c of state.charts) c.destroy();
  state.charts = [];
  const board = document.getElementById("board");
  const signin = document.getElementById("signin");
  const signout = document.getElementById("signout");
  if (!csrf()) {
    board.hidden = true; signin.hidden = false; signout.hidden = true;
    document.getElementById("who").textContent = "";
    document.getElementById("nav").replaceChildren();
    return;
  }
  try {
    // After signing in, a person goes back to the page that sent them here
    // (a path on this site only), and a hospital to its own pages.
    const me = await call("/v1/whoami", {});
    const next = sameSitePath(query.get("next"));
    if (next) { location.replace(next); return; }
    if (me.role === "PARTNER") { location.replace("/hospital"); return; }
    // The workspace's other pages for this role (web/api.js).
    document.getElementById("nav").replaceChildren(...SMZ.navLinks(me.role));
    const [kpi, overview, budget, log, upcoming] = await Promise.all([
      call("/v1/council/kpiTables/" + encodeURIComponent(state.programme),
           { as_of: state.year + "-12-31" }),
      call("/v1/council/zoneOverviews/" + state.year, {}),
      call("/v1/council/budgetTables/" + state.year, {})
        .catch((e) => (e.status === 404 ? { rows: [] } : Promise.reject(e))),
      call("/v1/council/activityLogs/" + state.year, {}),
      call("/v1/council/upcomingEvents", {}),
    ]);
    renderKpi(kpi); renderOverview(overview); renderBudget(budget); renderActivities(log);
    renderUpcoming(upcoming);
    renderReports();
    const account = await call("/v1/accounts/0", {}).catch(() => null);
    document.getElementById("who").textContent = account ? account.display_name : me.display_name;
    signin.hidden = true; board.hidden = false; signout.hidden = false;
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401 || e.status === 403) {
      // The gateway has cleared the cookies of an ended session.
      document.getElementById("signin-error").textContent = w("ended");
      document.getElementById("nav").replaceChildren();
      board.hidden = true; signin.hidden = false; signout.hidden = true;
    } else {
      document.body.dataset.loaded = "error";
      board.prepend(el("p", { class: "unavailable" }, String(e.message)));
      signin.hidden = true; signout.hidden = false;
      board.hidden = false;
    }
  }
}

const yearSelect = document.getElementById("year");
for (let y = new Date().getFullYear(); y >= 2018; --y) yearSelect.append(el("option", { value: y }, String(y)));
if (![...yearSelect.options].some((o) => Number(o.value) === state.year)) yearSelect.append(el("option", { value: state.year }, String(state.year)));
yearSelect.value = state.year;
yearSelect.onchange = () => { state.year = Number(yearSelect.value); load(); };
const langSelect = document.getElementById("lang");
langSelect.value = state.lang;
langSelect.onchange = () => { state.lang = langSelect.value; load(); };
document.getElementById("print").onclick = () => window.print();
document.getElementById("signout").onclick = async () => {
  await post("/v1/sessions:signOut", {}).catch(() => null);
  load();
};
document.getElementById("signin-form").onsubmit = async (event) => {
  event.preventDefault();
  const error = document.getElementById("signin-error");
  error.textContent = "";
  try {
    await post("/v1/sessions", {
      login: document.getElementById("login").value.trim(),
      password: document.getElementById("password").value,
      second_factor_code: document.getElementById("code").value.trim(),
    });
    document.getElementById("password").value = "";
    document.getElementById("code").value = "";
    load();
  } catch (e) {
    // Throttled sign-ins say when to try again; every other refusal is
    // one message.
    error.textContent = e.status === 429 ? e.message : w("refused");
    document.getElementById("password").value = "";
  }
};
load();
