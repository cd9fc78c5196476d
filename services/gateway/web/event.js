// One event (event.html): GetEvent; PublishEvent, PostponeEvent,
// CancelEvent and CompleteEvent with the etag read (a stale one says so and
// reloads); ListRegistrations by state with waiting positions,
// CreateRegistration (request_id kept across retries), CancelRegistration
// for the person, MoveRegistration to another event with a free seat, and
// the list as CSV or XLSX (ExportRegistrations). Editing the event, its
// programme, recurrence and outcome is event_edit.js's.
"use strict";
// This page's words with the edit forms' (one translate covers the page).
const mergeWords = (own, more) =>
  Object.fromEntries(Object.keys(own).map((language) => [language, Object.assign({}, more[language], own[language])]));
const w = SMZ.words(mergeWords({
  ko: { title: "행사", lifecycle: "진행", publish: "공개", complete: "완료", postpone: "연기", cancel: "행사 취소",
        new_start: "새 시작 (현지)", new_end: "새 끝 (현지)", reason: "사유", cancel_reason: "취소 사유 (신청자에게 알립니다)",
        registrations: "신청", show: "보기", all: "전체", confirmed: "확정", waitlisted: "대기", cancelled: "취소",
        export: "CSV로 내려받기", more: "더 보기", register_title: "신청 받기", name: "이름", organization: "소속",
        country: "나라", email: "전자우편", language: "안내 언어", register: "신청", type: "종류", state: "상태",
        when_local: "일시 (행사 현지)", when_yours: "일시 (내 시간)", where: "장소", organizer: "주최",
        seats: "좌석", reason_was: "사유", original: "원래 일시", arrival: "순서", position: "대기 순번",
        attendance: "출결", none: "신청이 없습니다.", cancel_for: "신청 취소", stale: "다른 사람이 먼저 바꿨습니다. 새로 불러왔습니다.",
        bad_time: "현지 일시를 입력하세요.", need_reason: "사유를 적어 주세요.", online: "온라인", unlimited: "제한 없음",
        registered: "{name}: {state}", not_found: "행사를 찾을 수 없습니다.", checkin: "입장 확인 (QR)",
        export_xlsx: "XLSX로 내려받기", move_for: "다른 행사로", move_title: "{name} 님을 다른 행사로 옮기기",
        move_to: "옮길 행사 (자리가 있는 공개 행사)", move: "옮기기", close: "닫기", moved: "{name} 님을 {title}(으)로 옮겼습니다.",
        free: "빈자리 {n}", full: "만석", no_targets: "옮길 수 있는 행사가 없습니다 (공개, 시작 전, 빈자리).",
        hosts_fact: "함께하는 기관", description: "설명", window: "신청 기간", on_publish: "공개할 때", at_start: "시작할 때",
        outcome_fact: "성과", outcome_line: "참석 {attendees}명 · MOU {mous}건 · 단서 {leads}건", sessions_fact: "일정" },
  en: { title: "Event", lifecycle: "Lifecycle", publish: "Publish", complete: "Complete", postpone: "Postpone",
        cancel: "Cancel the event", new_start: "New start (local)", new_end: "New end (local)", reason: "Reason",
        cancel_reason: "Why it is cancelled (registrants are told)", registrations: "Registrations", show: "Show",
        all: "All", confirmed: "Confirmed", waitlisted: "Waiting", cancelled: "Cancelled", export: "Download CSV",
        more: "More", register_title: "Register someone", name: "Name", organization: "Organisation", country: "Country",
        email: "E-mail", language: "Language for mail", register: "Register", type: "Type", state: "State",
        when_local: "When (the event's time)", when_yours: "When (your time)", where: "Where", organizer: "Organizer",
        seats: "Seats", reason_was: "Reason", original: "Originally", arrival: "No.", position: "Waiting no.",
        attendance: "Attendance", none: "No registrations.", cancel_for: "Cancel", stale: "Someone changed it first: reloaded.",
        bad_time: "Enter a local date and time.", need_reason: "Give a reason.", online: "Online", unlimited: "no limit",
        registered: "{name}: {state}", not_found: "No such event.", checkin: "Check-in at the door (QR)",
        export_xlsx: "Download XLSX", move_for: "Move", move_title: "Move {name} to another event",
        move_to: "To (a published event with a free seat)", move: "Move", close: "Close", moved: "{name} moved to {title}.",
        free: "{n} free", full: "full", no_targets: "No event to move to (published, not started, with a free seat).",
        hosts_fact: "Hosted with", description: "Description", window: "Registration", on_publish: "on publishing",
        at_start: "at the start", outcome_fact: "Outcome", outcome_line: "{attendees} attended · {mous} MOUs · {leads} leads",
        sessions_fact: "Programme" },
}, SMZEventEdit.words));
const ew = window.SMZ_EVENT_WORDS;
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
const id = Number(SMZ.query.get("id") || 0);
// `load` numbers the list's loads: an answer to an older one is dropped.
// `targets`: the events a person can be moved to, by id, as last listed.
const state = { event: null, token: "", rows: [], load: 0, moving: null, targets: new Map() };
const registerKey = SMZ.retryKey("registration");

function showEvent(e) {
  state.event = e;
  $("event-title").textContent = SMZ.text(e.title);
  const yours = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const span = (zone) => SMZ.inZone(e.start_time, zone) + " – " + SMZ.inZone(e.end_time, zone) + " (" + zone + ")";
  const facts = [["type", ew(e.type)], ["state", el("span", { class: "badge " + (window.SMZ_EVENT_BADGE[e.state] || ""),
                                                                  "data-state": e.state }, ew(e.state))],
                 ["when_local", span(e.time_zone)], ["when_yours", span(yours)],
                 ["where", [e.online ? w("online") : "", e.venue, e.room, e.city, e.country].filter(Boolean).join(", ")],
                 ["organizer", e.organizer || ""],
                 ["seats", (e.confirmed_count || 0) + " / " + (e.capacity || w("unlimited")) + " · " + w("waitlisted") + " " +
                           (e.waitlisted_count || 0)]];
  if (e.original_start_time) {
    facts.push(["original", SMZ.inZone(e.original_start_time, e.time_zone) + " (" + e.time_zone + ")"]);
  }
  if (e.state_reason) facts.push(["reason_was", e.state_reason]);
  if ((e.host_partner_ids || []).length) facts.push(["hosts_fact", SMZEventEdit.hostNames(e.host_partner_ids).join(", ")]);
  facts.push(["window", (e.registration_opens ? SMZ.inZone(e.registration_opens, e.time_zone) : w("on_publish")) + " – " +
                        (e.registration_closes ? SMZ.inZone(e.registration_closes, e.time_zone) : w("at_start"))]);
  if ((e.sessions || []).length) {
    facts.push(["sessions_fact", e.sessions.map((x) => SMZ.inZone(x.start_time, e.time_zone).slice(5) + " " +
                                                        (SMZ.text(x.title) || ew(x.kind || "SESSION"))).join(" · ")]);
  }
  if (SMZ.text(e.description)) facts.push(["description", SMZ.text(e.description)]);
  if (e.outcome && e.outcome.record_time) {
    facts.push(["outcome_fact", SMZ.fill(w("outcome_line"), { attendees: e.outcome.attendees || e.attended_count || 0,
                                                              mous: e.outcome.mous_signed || 0,
                                                              leads: (e.outcome.leads || []).length })]);
  }
  $("facts").replaceChildren(...facts.filter(([, v]) => v !== "")
      .flatMap(([k, v]) => [el("dt", {}, w(k)), el("dd", { "data-fact": k }, v)]));
  const s = e.state;
  $("publish").hidden = !(s === "DRAFT" || s === "POSTPONED");
  $("complete").hidden = !(s === "PUBLISHED" || s === "POSTPONED") || Date.parse(e.start_time) > Date.now();
  $("postpone").hidden = !(s === "PUBLISHED" || s === "POSTPONED");
  $("cancel").hidden = !(s === "DRAFT" || s === "PUBLISHED" || s === "POSTPONED");
  $("register").hidden = !(s === "PUBLISHED" || s === "POSTPONED");
  $("checkin").hidden = !(s === "PUBLISHED" || s === "POSTPONED" || s === "COMPLETED");
  // Nothing left to do with a completed or cancelled event's lifecycle.
  $("lifecycle").hidden = ["publish", "complete", "postpone", "cancel"].every((k) => $(k).hidden);
  $("checkin").href = "/organizer/checkin?event=" + e.id;
  document.body.dataset.state = s;
  SMZEventEdit.show(e);
}

// An answer of the edit forms (event_edit.js): shown with its warnings.
function onSaved(e, warnings) {
  showEvent(e);
  $("warnings").replaceChildren(...(warnings || []).map((x) => el("li", {}, x.message)));
}

async function load() {
  try {
    showEvent(await SMZ.get("/v1/events/" + id));
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = e.status === 404 ? w("not_found") : SMZ.problems(e);
    throw e;
  }
}

// A lifecycle step with the etag read; its warnings and refusals shown.
async function step(verb, body, form) {
  $("lifecycle-problems").textContent = "";
  // One step at a time: a second click would send the etag the first
  // one has just made stale.
  const buttons = [...$("lifecycle").querySelectorAll("button")];
  for (const b of buttons) b.disabled = true;
  try {
    const done = await SMZ.post("/v1/events/" + id + ":" + verb, Object.assign({ etag: state.event.etag }, body));
    showEvent(done.event);
    $("warnings").replaceChildren(...(done.warnings || []).map((x) => el("li", {}, x.message)));
    document.body.dataset.done = verb + ":" + done.event.state;
    list(true);
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    if (e.code === SMZ.ABORTED) {
      $("lifecycle-problems").textContent = w("stale");
      await load();
      return;
    }
    SMZ.showRefusal(form || $("lifecycle"), e, $("lifecycle-problems"));
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

function rowOf(r) {
  const live = r.state === "CONFIRMED" || r.state === "WAITLISTED";
  const action = live ? el("button", { type: "button", "data-cancel": r.id }, w("cancel_for")) : "";
  const move = live && !r.hold_until && r.attendance !== "ATTENDED" && r.attendance !== "NO_SHOW"
      ? el("button", { type: "button", "data-move": r.id }, w("move_for")) : "";
  const row = el("tr", { "data-registration": r.id, "data-state": r.state },
      el("td", { class: "number" }, String(r.arrival || "")), el("th", { scope: "row" }, r.name),
      el("td", {}, r.organization || ""), el("td", {}, r.country || ""), el("td", {}, r.email || ""),
      el("td", {}, r.language || (r.languages || []).join(" ")),
      el("td", {}, el("span", { class: "badge " + (window.SMZ_EVENT_BADGE[r.state] || "") }, ew(r.state))),
      el("td", { class: "number" }, r.waitlist_position ? String(r.waitlist_position) : ""),
      el("td", {}, ew(r.attendance || "ATTENDANCE_UNSPECIFIED")), el("td", {}, action, move ? " " : "", move));
  if (move) move.addEventListener("click", () => openMove(r));
  if (action) {
    action.addEventListener("click", async () => {
      action.disabled = true;
      try {
        await SMZ.post("/v1/registrations/" + r.id + ":cancel", {});
        $("registered").textContent = "";
        document.body.dataset.cancelled = r.id;
        await load();
        list(true);
      } catch (e) {
        if (e.status === 401) return SMZ.signInAgain();
        action.disabled = false;
        $("failure").textContent = SMZ.problems(e);
      }
    });
  }
  return row;
}

const COLUMNS = ["arrival", "name", "organization", "country", "email", "language", "state", "position", "attendance"];

// One page of registrations in the filter chosen (every state when none).
function page(token) {
  const query = { page_size: 200, page_token: token };
  if ($("filter").value) query.states = $("filter").value;
  return SMZ.get("/v1/events/" + id + "/registrations", query);
}

async function list(fresh) {
  if (fresh) { state.token = ""; state.rows = []; }
  const load = ++state.load;
  $("more").disabled = true;
  try {
    const answer = await page(state.token);
    if (load !== state.load) return;
    const table = $("registrations");
    if (fresh || !table.tBodies.length) {
      table.replaceChildren(el("thead", {}, el("tr", {}, ...COLUMNS.map((k) => el("th", { scope: "col" }, w(k))),
                                               el("th", {}))), el("tbody"));
    }
    for (const r of answer.registrations || []) {
      state.rows.push(r);
      table.tBodies[0].append(rowOf(r));
    }
    if (!table.tBodies[0].rows.length) table.tBodies[0].append(el("tr", {}, el("td", { colspan: 10 }, w("none"))));
    state.token = answer.next_page_token || "";
    $("more").hidden = !state.token;
    $("more").disabled = false;
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = SMZ.problems(e);
  }
}

// Every registration in the filter chosen (not only those on screen), as
// the events service writes it for a spreadsheet (ExportRegistrations:
// CSV with its mark and no cell that runs as a formula, or XLSX).
async function exportFile(format) {
  try {
    const file = await SMZ.post("/v1/events/" + id + ":exportRegistrations",
                                { format, states: $("filter").value ? [$("filter").value] : [],
                                  language: SMZ.lang === "en" ? "en" : "ko" });
    const bytes = Uint8Array.from(atob(file.content || ""), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: file.content_type }));
    const name = file.filename.replace(/\.(\w+)$/, ($("filter").value ? "-" + $("filter").value.toLowerCase() : "") + ".$1");
    const a = el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    document.body.dataset.exported = String(file.rows || 0);
    document.body.dataset.exportedFormat = format;
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = SMZ.problems(e);
  }
}

// Where a person can go: published events of the next two years, with a
// free seat (the service refuses one that has started, by its own clock).
async function moveTargets() {
  const day = (ms) => new Date(ms).toISOString().slice(0, 10);
  // From today, or from this event's day when that is earlier.
  const from = Math.min(Date.now(), Date.parse(state.event.start_time)) - 86400000;
  const targets = [];
  let token = "";
  for (let pages = 0; pages < 10; ++pages) {
    const answer = await SMZ.get("/v1/events", [["local_date_from", day(from)], ["local_date_to", day(from + 730 * 86400000)],
                                                ["states", "PUBLISHED"], ["states", "POSTPONED"], ["page_size", "100"],
                                                ["page_token", token]]);
    for (const e of answer.events || []) {
      if (String(e.id) === String(id)) continue;
      targets.push(e);
    }
    token = answer.next_page_token || "";
    if (!token) break;
  }
  return targets;
}

async function openMove(r) {
  state.moving = r;
  $("move-problems").textContent = "";
  SMZ.markRefused($("move"), []);
  $("move-title").textContent = SMZ.fill(w("move_title"), { name: r.name || "#" + r.id });
  $("move").hidden = false;
  const select = $("move-target");
  select.replaceChildren();
  try {
    const targets = await moveTargets();
    state.targets = new Map(targets.map((e) => [String(e.id), e]));
    for (const e of targets) {
      const free = e.capacity ? e.capacity - (e.confirmed_count || 0) : Infinity;
      select.append(el("option", { value: e.id, disabled: free <= 0 },
                       SMZ.inZone(e.start_time, e.time_zone) + " · " + SMZ.text(e.title) + " · " +
                       (free === Infinity ? w("unlimited") : free > 0 ? SMZ.fill(w("free"), { n: free }) : w("full"))));
    }
    const first = [...select.options].find((o) => !o.disabled);
    if (first) select.value = first.value;
    if (!first) $("move-problems").textContent = w("no_targets");
    select.focus();
    document.body.dataset.moveTargets = String(targets.length);
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("move-problems").textContent = SMZ.problems(e);
  }
}

async function move() {
  const r = state.moving;
  const target = $("move-target").value;
  if (!r || !target) return;
  const button = $("move").querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const moved = await SMZ.post("/v1/registrations/" + r.id + ":move", { event_id: target });
    const to = state.targets.get(String(target));
    $("moved").textContent = SMZ.fill(w("moved"), { name: moved.name || "#" + moved.id,
                                                    title: to ? SMZ.text(to.title) : "#" + target });
    $("move").hidden = true;
    state.moving = null;
    document.body.dataset.moved = moved.id + ":" + moved.event_id;
    await load();
    list(true);
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    SMZ.showRefusal($("move"), e, $("move-problems"));
  } finally {
    button.disabled = false;
  }
}

async function register() {
  $("register-problems").textContent = "";
  $("registered").textContent = "";
  const registration = { event_id: id, name: $("reg-name").value.trim(), organization: $("reg-org").value.trim(),
                         country: $("reg-country").value, email: $("reg-email").value.trim(),
                         language: $("reg-language").value };
  try {
    const done = await SMZ.post("/v1/events/" + id + "/registrations",
                                { registration, request_id: registerKey.idFor(registration) });
    registerKey.settle();
    SMZ.markRefused($("register"), []);
    $("registered").textContent = SMZ.fill(w("registered"), { name: done.registration.name,
        state: ew(done.registration.state) + (done.registration.waitlist_position ? " #" + done.registration.waitlist_position : "") });
    for (const f of ["reg-name", "reg-org", "reg-email"]) $(f).value = "";
    document.body.dataset.registered = done.registration.id + ":" + done.registration.state;
    await load();
    list(true);
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    registerKey.settle(e);
    SMZ.showRefusal($("register"), e, $("register-problems"), "registration.");
  }
}

(async () => {
  await SMZ.start(w("title"), () => location.reload());
  SMZ.translate(w);
  $("reg-country").replaceChildren(...SMZ.reference().countries.map(([code, ko, en]) =>
      el("option", { value: code }, code + " " + (SMZ.lang === "ko" ? ko : en))));
  $("reg-country").value = "MN";
  await SMZEventEdit.start({ onSaved, reload: load });
  try { await load(); } catch (e) { return; }
  $("publish").addEventListener("click", () => step("publish", {}));
  $("complete").addEventListener("click", () => step("complete", {}));
  $("postpone").addEventListener("submit", (event) => {
    event.preventDefault();
    const zone = state.event.time_zone;
    const body = { new_start_time: SMZ.fromZone($("postpone-start").value, zone),
                   new_end_time: SMZ.fromZone($("postpone-end").value, zone), reason: $("postpone-reason").value.trim() };
    const missing = ["new_start_time", "new_end_time"].filter((f) => !body[f])
        .map((field) => ({ field, description: w("bad_time") }));
    if (missing.length) return SMZ.showRefusal($("postpone"), { violations: missing, message: "" }, $("lifecycle-problems"));
    step("postpone", body, $("postpone"));
  });
  $("cancel").addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = $("cancel-reason").value.trim();
    if (!reason) {
      return SMZ.showRefusal($("cancel"), { violations: [{ field: "reason", description: w("need_reason") }], message: "" },
                             $("lifecycle-problems"));
    }
    step("cancel", { reason }, $("cancel"));
  });
  $("filter").addEventListener("change", () => list(true));
  $("more").addEventListener("click", () => list(false));
  $("export").addEventListener("click", () => { exportFile("CSV"); });
  $("export-xlsx").addEventListener("click", () => { exportFile("XLSX"); });
  $("move").addEventListener("submit", (event) => { event.preventDefault(); move(); });
  $("move-close").addEventListener("click", () => { $("move").hidden = true; state.moving = null; });
  $("register").addEventListener("submit", (event) => { event.preventDefault(); register(); });
  list(true);
})();
