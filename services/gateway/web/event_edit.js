// Editing one event (event.html, beside event.js): its details
// (UpdateEvent with a field mask of exactly what was changed and the etag
// read), its programme or fam-tour itinerary (sessions: talks, and visits
// hosted by partner hospitals), its recurrence with the dates it skips, and,
// once COMPLETED, its outcome (RecordOutcome). Each save answers the event
// as stored; soft conflicts (a partner double-booked or not designated) are
// shown as the service words them, refusals at their fields; a stale etag
// reloads.
//
//   await SMZEventEdit.start({ onSaved, reload });  // once, after sign-in
//   SMZEventEdit.show(event);  // each time the event is read
//
// onSaved(event, warnings) takes each answer; reload() reads the event
// again after a stale etag. The forms are refilled only when the event read
// is another revision (or state) than the one they show, so that
// registering or moving someone does not wipe an edit being typed.
//
// event.js builds its words with SMZEventEdit.words, so that one translate
// covers the whole page.
"use strict";
window.SMZEventEdit = (() => {
  const words = {
    ko: { edit_title: "행사 정보 고치기", titles: "제목 (언어별)", description_ko: "설명 (한국어)", description_en: "설명 (영어)",
          venue: "장소", room: "방", city: "도시", country: "나라", online: "온라인", open_to_public: "일반 공개 (누구나 신청)",
          time_zone: "시간대", start: "시작 (현지)", end: "끝 (현지)", capacity: "정원 (0: 제한 없음)",
          opens: "신청 시작 (현지, 선택)", closes: "신청 마감 (현지, 선택)", hosts: "함께하는 기관 (지정된 기관)",
          find: "기관 이름으로 찾기", save: "저장", save_hint: "바뀐 항목만 보냅니다. 일시가 바뀌면 신청자에게 알립니다.",
          nothing_changed: "바뀐 것이 없습니다.", programme: "프로그램 · 방문 일정",
          programme_hint: "세션(강연·수업)과 방문(팸투어에서 들르는 병원)을 시간 순서로 적습니다.",
          add_session: "세션 추가", add_visit: "방문 추가", save_sessions: "일정 저장", kind: "구분", SESSION: "세션",
          VISIT: "방문", title_ko_short: "제목 (한국어)", title_en_short: "제목 (영어)", host: "방문 기관",
          no_host: "—", remove: "삭제", need_until: "마지막 날을 고르세요.",
          bad_capacity: "0 이상의 정수를 적으세요 (0: 제한 없음).",
          recurrence: "반복 (정기 교육 등)", frequency: "반복", no_repeat: "반복 없음", daily: "매일", weekly: "매주",
          monthly: "매월", interval: "간격", first_start: "첫 회 시작 (현지)", first_end: "첫 회 끝 (현지)",
          weekdays: "요일 (매주)", ends: "끝나는 때", after_count: "횟수", until_date: "날짜까지", count: "횟수",
          until: "마지막 날 (현지)", exceptions: "쉬는 날 (YYYY-MM-DD, 쉼표로)", rec_title_ko: "회차 제목 (한국어, 선택)",
          rec_title_en: "회차 제목 (영어, 선택)", save_recurrence: "반복 저장", occurrences: "{n}회: {dates}",
          no_occurrences: "반복하지 않습니다.", bad_date: "YYYY-MM-DD 형식의 날짜가 아닙니다: {v}",
          outcome: "성과", attendees: "참석자 수 (0: 입장 확인 수)", mous: "MOU 체결 수", leads: "상담 · 유치 단서",
          add_lead: "단서 추가", agency: "기관 · 업체", lead_country: "나라", note: "메모", notes_ko: "메모 (한국어)",
          notes_en: "메모 (영어)", save_outcome: "성과 저장", recorded: "기록: {when}",
          bad_time: "현지 일시를 입력하세요.", stale: "다른 사람이 먼저 바꿨습니다. 새로 불러왔습니다.",
          MO: "월", TU: "화", WE: "수", TH: "목", FR: "금", SA: "토", SU: "일" },
    en: { edit_title: "Edit the event", titles: "Title (by language)", description_ko: "Description (Korean)",
          description_en: "Description (English)", venue: "Venue", room: "Room", city: "City", country: "Country",
          online: "Online", open_to_public: "Open to the public (anyone signs up)", time_zone: "Time zone",
          start: "Starts (local)", end: "Ends (local)", capacity: "Seats (0: no limit)",
          opens: "Registration opens (local, optional)", closes: "Registration closes (local, optional)",
          hosts: "Hosting partners (designated)", find: "Find by name",
          save: "Save", save_hint: "Only what changed is sent. Registrants are told when the dates change.",
          nothing_changed: "Nothing changed.", programme: "Programme · itinerary",
          programme_hint: "Sessions (talks, classes) and visits (hospitals a fam tour stops at), in time order.",
          add_session: "Add a session", add_visit: "Add a visit", save_sessions: "Save the programme", kind: "Kind",
          SESSION: "Session", VISIT: "Visit", title_ko_short: "Title (Korean)", title_en_short: "Title (English)",
          host: "Hosted by", no_host: "—", remove: "Remove", need_until: "Choose the last day.",
          bad_capacity: "Enter a whole number, 0 or more (0: no limit).",
          recurrence: "Repeats (e.g. a weekly course)", frequency: "Repeats", no_repeat: "Does not repeat",
          daily: "Daily", weekly: "Weekly", monthly: "Monthly", interval: "Every", first_start: "First starts (local)",
          first_end: "First ends (local)", weekdays: "Days (weekly)", ends: "Ends", after_count: "After a number",
          until_date: "On a date", count: "Times", until: "Last day (local)",
          exceptions: "Days off (YYYY-MM-DD, comma-separated)", rec_title_ko: "Title of each (Korean, optional)",
          rec_title_en: "Title of each (English, optional)", save_recurrence: "Save the repetition",
          occurrences: "{n} times: {dates}", no_occurrences: "Does not repeat.",
          bad_date: "Not a date as YYYY-MM-DD: {v}", outcome: "Outcome",
          attendees: "Attendees (0: counted from check-ins)", mous: "MOUs signed", leads: "Leads",
          add_lead: "Add a lead", agency: "Agency or company", lead_country: "Country", note: "Note",
          notes_ko: "Notes (Korean)", notes_en: "Notes (English)", save_outcome: "Save the outcome",
          recorded: "Recorded {when}", bad_time: "Enter a local date and time.",
          stale: "Someone changed it first: reloaded.",
          MO: "Mon", TU: "Tue", WE: "Wed", TH: "Thu", FR: "Fri", SA: "Sat", SU: "Sun" },
  };
  const w = SMZ.words(words);
  const el = SMZ.el;
  const $ = (id) => document.getElementById(id);
  const LANGUAGES = [["ko", "한국어"], ["en", "English"], ["zh", "中文"], ["mn", "Монгол"], ["ru", "Русский"],
                     ["vi", "Tiếng Việt"]];
  const DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
  const editable = (s) => s === "DRAFT" || s === "PUBLISHED" || s === "POSTPONED";
  // An instant as the datetime-local value of `zone`'s clock.
  const localOf = (ts, zone) => (ts ? SMZ.inZone(ts, zone).replace(" ", "T").slice(0, 16) : "");
  const state = { event: null, hooks: null, partners: new Map(), started: false, filled: "" };

  // ---- Details ----------------------------------------------------------

  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const sortedMap = (m) => Object.fromEntries(Object.entries(m || {}).filter(([, v]) => v).sort());
  // To the minute, as the form shows times: seconds the form cannot show
  // are no change.
  const instant = (ts) => (ts ? Math.floor(Date.parse(ts) / 60000) : null);

  // What the form says, as the event's fields; times it cannot read are
  // reported in `missing`.
  function detailsOfForm() {
    const e = state.event;
    const zone = $("ed-zone").value;
    // Titles in languages the form does not show are kept as they are.
    const title = Object.assign({}, e.title || {});
    for (const [code] of LANGUAGES) {
      const v = $("ed-title-" + code).value.trim();
      if (v) title[code] = v; else delete title[code];
    }
    // Descriptions in other languages are kept as they are.
    const description = Object.assign({}, e.description || {});
    for (const code of ["ko", "en"]) {
      const v = $("ed-desc-" + code).value.trim();
      if (v) description[code] = v; else delete description[code];
    }
    const fields = {
      type: $("ed-type").value, title, description, organizer: $("ed-organizer").value.trim(),
      venue: $("ed-venue").value.trim(), room: $("ed-room").value.trim(), city: $("ed-city").value.trim(),
      country: $("ed-country").value, online: $("ed-online").checked, open_to_public: $("ed-public").checked,
      time_zone: zone, capacity: Number($("ed-capacity").value),
      host_partner_ids: [...$("ed-hosts").querySelectorAll("input:checked")].map((b) => b.value).sort(),
    };
    const missing = [];
    // An empty or broken number is not "no limit".
    if (!/^\d{1,6}$/.test($("ed-capacity").value.trim())) {
      missing.push({ field: "capacity", description: w("bad_capacity") });
    }
    for (const [field, id, required] of [["start_time", "ed-start", true], ["end_time", "ed-end", true],
                                         ["registration_opens", "ed-opens", false],
                                         ["registration_closes", "ed-closes", false]]) {
      const at = SMZ.fromZone($(id).value, zone);
      if (at) fields[field] = at;
      else if (required || $(id).value) missing.push({ field, description: w("bad_time") });
    }
    return { fields, missing };
  }

  // The fields whose value differs from the event as read: the update mask.
  function changedPaths(fields) {
    const e = state.event;
    const was = {
      type: e.type, title: sortedMap(e.title), description: sortedMap(e.description), organizer: e.organizer || "",
      venue: e.venue || "", room: e.room || "", city: e.city || "", country: e.country || "", online: !!e.online,
      open_to_public: !!e.open_to_public, time_zone: e.time_zone, capacity: e.capacity || 0,
      host_partner_ids: (e.host_partner_ids || []).map(String).sort(),
    };
    const paths = Object.keys(was).filter((k) => !same(k === "title" || k === "description" ? sortedMap(fields[k]) : fields[k],
                                                        was[k]));
    for (const k of ["start_time", "end_time", "registration_opens", "registration_closes"]) {
      if (instant(fields[k]) !== instant(e[k])) paths.push(k);
    }
    return paths;
  }

  async function saveDetails() {
    $("details-problems").textContent = "";
    const { fields, missing } = detailsOfForm();
    if (missing.length) {
      return SMZ.showRefusal($("details"), { violations: missing, message: "" }, $("details-problems"));
    }
    const paths = changedPaths(fields);
    if (!paths.length) {
      $("details-problems").textContent = w("nothing_changed");
      return;
    }
    const resource = {};
    for (const p of paths) if (fields[p] !== undefined) resource[p] = fields[p];
    await save("details", () => SMZ.patch("/v1/events/" + state.event.id, Object.assign(resource, { etag: state.event.etag }), paths),
               $("details"), $("details-problems"), "event.");
  }

  // One save: the answer shown (and its warnings), a refusal marked, a
  // stale etag reloaded.
  async function save(what, call, form, box, prefix) {
    const buttons = [...form.querySelectorAll("button")];
    for (const b of buttons) b.disabled = true;
    try {
      const answer = await call();
      SMZ.markRefused(form, []);
      box.textContent = "";
      state.hooks.onSaved(answer.event || answer, answer.warnings || []);
      document.body.dataset.saved = what;
    } catch (e) {
      if (e.status === 401) return SMZ.signInAgain();
      if (e.code === SMZ.ABORTED) {
        box.textContent = w("stale");
        try { await state.hooks.reload(); } catch (reloadError) { /* the page says why */ }
        return;
      }
      SMZ.showRefusal(form, e, box, prefix);
      document.body.dataset.refused = what;
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  }

  function partnerLabel(p) {
    return SMZ.text(p.name) + " · " + SMZ.partnerWords(p.kind);
  }

  // The designated partners (and any host already chosen, whatever its
  // state), as boxes to tick, narrowed by the search.
  function showHosts(chosen) {
    const filter = $("ed-host-filter").value.trim().toLowerCase();
    const boxes = [];
    // A host the directory did not list (or could not be read) stays
    // chosen, by its id: a save must not drop it unseen.
    for (const id of chosen) {
      if (state.partners.has(id)) continue;
      boxes.push(el("label", { class: "inline" },
                    el("input", { type: "checkbox", value: id, checked: true, "data-host": id }), " #" + id));
    }
    for (const [id, p] of state.partners) {
      const picked = chosen.has(id);
      if (!picked && p.status !== "ACTIVE") continue;
      const label = partnerLabel(p);
      const hidden = !picked && !!filter && !label.toLowerCase().includes(filter);
      boxes.push(el("label", { class: "inline", hidden },
                    el("input", { type: "checkbox", value: id, checked: picked, "data-host": id }), " " + label));
    }
    $("ed-hosts").replaceChildren(...boxes);
  }

  function fillDetails(e) {
    $("ed-type").value = e.type;
    for (const [code] of LANGUAGES) $("ed-title-" + code).value = (e.title || {})[code] || "";
    $("ed-desc-ko").value = (e.description || {}).ko || "";
    $("ed-desc-en").value = (e.description || {}).en || "";
    $("ed-organizer").value = e.organizer || "";
    $("ed-venue").value = e.venue || "";
    $("ed-room").value = e.room || "";
    $("ed-city").value = e.city || "";
    $("ed-country").value = e.country || "KR";
    $("ed-online").checked = !!e.online;
    $("ed-public").checked = !!e.open_to_public;
    if (![...$("ed-zone").options].some((o) => o.value === e.time_zone)) {
      $("ed-zone").append(el("option", { value: e.time_zone }, e.time_zone));
    }
    $("ed-zone").value = e.time_zone;
    $("ed-start").value = localOf(e.start_time, e.time_zone);
    $("ed-end").value = localOf(e.end_time, e.time_zone);
    $("ed-capacity").value = e.capacity || 0;
    $("ed-opens").value = localOf(e.registration_opens, e.time_zone);
    $("ed-closes").value = localOf(e.registration_closes, e.time_zone);
    showHosts(new Set((e.host_partner_ids || []).map(String)));
  }

  // ---- Programme and itinerary -----------------------------------------

  function hostSelect(value) {
    const select = el("select", { name: "host", "aria-label": w("host") }, el("option", { value: "" }, w("no_host")));
    for (const [id, p] of state.partners) {
      if (p.status !== "ACTIVE" && id !== value) continue;
      select.append(el("option", { value: id }, partnerLabel(p)));
    }
    if (value && !state.partners.has(value)) select.append(el("option", { value }, "#" + value));
    select.value = value || "";
    return select;
  }

  function sessionRow(s, zone) {
    const kind = el("select", { name: "kind", "aria-label": w("kind") },
                    ...["SESSION", "VISIT"].map((k) => el("option", { value: k }, w(k))));
    kind.value = s.kind === "VISIT" ? "VISIT" : "SESSION";
    const input = (name, value, attrs) => el("input", Object.assign({ name, value: value || "", "aria-label": w(name) }, attrs));
    const remove = el("button", { type: "button", class: "remove", "aria-label": w("remove"), title: w("remove") }, "×");
    const row = el("tr", { "data-session": s.id || "", "data-titles": JSON.stringify(s.title || {}) },
        el("td", {}, kind),
        el("td", {}, input("title_ko_short", (s.title || {}).ko, { maxlength: 300 })),
        el("td", {}, input("title_en_short", (s.title || {}).en, { maxlength: 300 })),
        el("td", {}, input("start", localOf(s.start_time, zone), { type: "datetime-local" })),
        el("td", {}, input("end", localOf(s.end_time, zone), { type: "datetime-local" })),
        el("td", {}, input("venue", s.venue, { maxlength: 200 })),
        el("td", {}, input("room", s.room, { maxlength: 200 })),
        el("td", {}, hostSelect(s.host_partner_id ? String(s.host_partner_id) : "")),
        el("td", {}, remove));
    remove.addEventListener("click", () => { row.remove(); numberRows(); });
    return row;
  }

  // Each row answers for sessions[i] (refusals are marked on it).
  function numberRows() {
    const rows = [...$("sessions-table").tBodies[0].rows].filter((r) => r.dataset.session !== undefined);
    rows.forEach((r, i) => { r.dataset.field = "sessions[" + i + "]"; });
    $("sessions-table").dataset.rows = String(rows.length);
  }

  function fillSessions(e) {
    const table = $("sessions-table");
    table.replaceChildren(
        el("thead", {}, el("tr", {}, ...["kind", "title_ko_short", "title_en_short", "start", "end", "venue", "room", "host"]
            .map((k) => el("th", { scope: "col" }, w(k))), el("th", {}))),
        el("tbody", {}, ...(e.sessions || []).map((s) => sessionRow(s, e.time_zone))));
    numberRows();
  }

  function addSession(kind) {
    const e = state.event;
    const table = $("sessions-table");
    const rows = table.tBodies[0].rows;
    // A new slot starts where the last one ends (or with the event).
    const last = rows.length ? rows[rows.length - 1] : null;
    const start = last ? SMZ.fromZone(last.querySelector("[name=end]").value, e.time_zone) || e.start_time : e.start_time;
    const end = new Date(Math.min(Date.parse(start) + 3600000, Date.parse(e.end_time))).toISOString();
    table.tBodies[0].append(sessionRow({ kind, start_time: start, end_time: end }, e.time_zone));
    numberRows();
    rows[rows.length - 1].querySelector("[name=title_ko_short]").focus();
  }

  async function saveSessions() {
    $("sessions-problems").textContent = "";
    const zone = state.event.time_zone;
    const sessions = [];
    const missing = [];
    [...$("sessions-table").tBodies[0].rows].forEach((row, i) => {
      const value = (name) => row.querySelector("[name=" + name + "]").value.trim();
      // Titles in languages the table does not show are kept.
      const title = JSON.parse(row.dataset.titles || "{}");
      for (const [code, name] of [["ko", "title_ko_short"], ["en", "title_en_short"]]) {
        if (value(name)) title[code] = value(name); else delete title[code];
      }
      const s = { kind: value("kind"), title, venue: value("venue"), room: value("room"),
                  start_time: SMZ.fromZone(value("start"), zone), end_time: SMZ.fromZone(value("end"), zone) };
      if (row.dataset.session) s.id = row.dataset.session;
      if (value("host")) s.host_partner_id = value("host");
      if (!s.start_time || !s.end_time) missing.push({ field: "sessions[" + i + "]", description: w("bad_time") });
      sessions.push(s);
    });
    if (missing.length) {
      return SMZ.showRefusal($("sessions"), { violations: missing, message: "" }, $("sessions-problems"));
    }
    await save("sessions", () => SMZ.patch("/v1/events/" + state.event.id, { sessions, etag: state.event.etag },
                                           ["sessions"]),
               $("sessions"), $("sessions-problems"), "event.");
  }

  // ---- Recurrence -------------------------------------------------------

  function parseRule(rule) {
    const parts = {};
    for (const piece of (rule || "").split(";")) {
      const [k, v] = piece.split("=");
      if (k && v) parts[k.toUpperCase()] = v;
    }
    return parts;
  }

  function fillRecurrence(e) {
    const r = e.recurrence || {};
    const rule = parseRule(r.rule);
    $("rec-freq").value = rule.FREQ || "";
    $("rec-interval").value = rule.INTERVAL || 1;
    const days = new Set((rule.BYDAY || "").split(",").filter(Boolean));
    for (const d of DAYS) $("rec-day-" + d).checked = days.has(d);
    $("rec-ends").value = rule.UNTIL ? "until" : "count";
    $("rec-count").value = rule.COUNT || 4;
    $("rec-until").value = rule.UNTIL ? rule.UNTIL.replace(/^(\d{4})(\d{2})(\d{2}).*$/, "$1-$2-$3") : "";
    $("rec-start").value = localOf(r.first_start_time || e.start_time, e.time_zone);
    $("rec-end").value = localOf(r.first_end_time || e.end_time, e.time_zone);
    $("rec-room").value = r.room || "";
    $("rec-title-ko").value = (r.title || {}).ko || "";
    $("rec-title-en").value = (r.title || {}).en || "";
    $("rec-exceptions").value = (r.exception_dates || []).join(", ");
    showRecurrenceFields();
    const dates = (e.occurrences || []).map((o) => SMZ.inZone(o.start_time, e.time_zone));
    $("occurrences").textContent = dates.length
        ? SMZ.fill(w("occurrences"), { n: dates.length,
                                       dates: dates.slice(0, 12).join(", ") + (dates.length > 12 ? ", …" : "") })
        : w("no_occurrences");
    $("occurrences").dataset.count = String(dates.length);
  }

  function showRecurrenceFields() {
    const repeats = !!$("rec-freq").value;
    for (const id of ["rec-interval", "rec-start", "rec-end", "rec-room", "rec-ends", "rec-count", "rec-until",
                      "rec-exceptions", "rec-title-ko", "rec-title-en"]) {
      $(id).closest("label").hidden = !repeats;
    }
    $("rec-days-box").hidden = $("rec-freq").value !== "WEEKLY";
    $("rec-count").closest("label").hidden = !repeats || $("rec-ends").value !== "count";
    $("rec-until").closest("label").hidden = !repeats || $("rec-ends").value !== "until";
  }

  async function saveRecurrence() {
    $("recurrence-problems").textContent = "";
    const zone = state.event.time_zone;
    let recurrence = {};
    if ($("rec-freq").value) {
      const rule = ["FREQ=" + $("rec-freq").value];
      const interval = Number($("rec-interval").value) || 1;
      if (interval > 1) rule.push("INTERVAL=" + interval);
      const days = DAYS.filter((d) => $("rec-day-" + d).checked);
      if ($("rec-freq").value === "WEEKLY" && days.length) rule.push("BYDAY=" + days.join(","));
      const violations = [];
      if ($("rec-ends").value === "until") {
        if (/^\d{4}-\d{2}-\d{2}$/.test($("rec-until").value)) {
          rule.push("UNTIL=" + $("rec-until").value.replace(/-/g, ""));
        } else {
          violations.push({ field: "recurrence.rule", description: w("need_until") });
        }
      } else {
        rule.push("COUNT=" + (Number($("rec-count").value) || 1));
      }
      const exceptions = $("rec-exceptions").value.split(/[,\s]+/).filter(Boolean);
      for (const v of exceptions) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) {
          violations.push({ field: "recurrence.exception_dates", description: SMZ.fill(w("bad_date"), { v }) });
        }
      }
      const title = Object.assign({}, (state.event.recurrence || {}).title || {});
      for (const code of ["ko", "en"]) {
        const v = $("rec-title-" + code).value.trim();
        if (v) title[code] = v; else delete title[code];
      }
      recurrence = { rule: rule.join(";"), first_start_time: SMZ.fromZone($("rec-start").value, zone),
                     first_end_time: SMZ.fromZone($("rec-end").value, zone), exception_dates: exceptions,
                     room: $("rec-room").value.trim(), title };
      for (const f of ["first_start_time", "first_end_time"]) {
        if (!recurrence[f]) violations.push({ field: "recurrence." + f, description: w("bad_time") });
      }
      if (violations.length) {
        return SMZ.showRefusal($("recurrence"), { violations, message: "" }, $("recurrence-problems"));
      }
    }
    await save("recurrence", () => SMZ.patch("/v1/events/" + state.event.id, { recurrence, etag: state.event.etag },
                                             ["recurrence"]),
               $("recurrence"), $("recurrence-problems"), "event.");
  }

  // ---- Outcome ----------------------------------------------------------

  function leadRow(lead) {
    const country = el("select", { name: "country", "aria-label": w("lead_country") }, el("option", { value: "" }, "—"),
        ...SMZ.reference().countries.map(([code, ko, en]) => el("option", { value: code }, code + " " + (SMZ.lang === "ko" ? ko : en))));
    country.value = lead.country || "";
    const remove = el("button", { type: "button", class: "remove", "aria-label": w("remove"), title: w("remove") }, "×");
    const row = el("tr", { "data-lead": "" },
        el("td", {}, el("input", { name: "agency", value: lead.agency || "", maxlength: 200, "aria-label": w("agency") })),
        el("td", {}, country),
        el("td", {}, el("input", { name: "note", value: lead.note || "", maxlength: 1000, "aria-label": w("note") })),
        el("td", {}, remove));
    remove.addEventListener("click", () => { row.remove(); numberLeads(); });
    return row;
  }

  function numberLeads() {
    [...$("leads").tBodies[0].rows].forEach((r, i) => { r.dataset.field = "outcome.leads[" + i + "]"; });
  }

  function fillOutcome(e) {
    const o = e.outcome || {};
    $("out-attendees").value = o.attendees || 0;
    $("out-mous").value = o.mous_signed || 0;
    $("out-notes-ko").value = (o.notes || {}).ko || "";
    $("out-notes-en").value = (o.notes || {}).en || "";
    $("leads").replaceChildren(
        el("thead", {}, el("tr", {}, ...["agency", "lead_country", "note"].map((k) => el("th", { scope: "col" }, w(k))),
                           el("th", {}))),
        el("tbody", {}, ...(o.leads || []).map(leadRow)));
    numberLeads();
    $("outcome-recorded").textContent = o.record_time
        ? SMZ.fill(w("recorded"), { when: SMZ.inZone(o.record_time, e.time_zone) + " (" + e.time_zone + ")" }) : "";
  }

  async function saveOutcome() {
    const notes = Object.assign({}, (state.event.outcome || {}).notes || {});
    for (const code of ["ko", "en"]) {
      const v = $("out-notes-" + code).value.trim();
      if (v) notes[code] = v; else delete notes[code];
    }
    const leads = [...$("leads").tBodies[0].rows].map((row) => ({
      agency: row.querySelector("[name=agency]").value.trim(), country: row.querySelector("[name=country]").value,
      note: row.querySelector("[name=note]").value.trim() }));
    const outcome = { attendees: Number($("out-attendees").value) || 0, mous_signed: Number($("out-mous").value) || 0,
                      leads, notes };
    await save("outcome", () => SMZ.post("/v1/events/" + state.event.id + ":recordOutcome",
                                         { etag: state.event.etag, outcome }),
               $("outcome"), $("outcome-problems"), "");
  }

  // ---- Wiring -----------------------------------------------------------

  async function start(hooks) {
    state.hooks = hooks;
    $("ed-type").replaceChildren(...window.SMZ_EVENT_TYPES.map((t) => el("option", { value: t }, window.SMZ_EVENT_WORDS(t))));
    $("ed-zone").replaceChildren(...window.SMZ_EVENT_ZONES.map((z) => el("option", { value: z }, z)));
    $("ed-country").replaceChildren(...SMZ.reference().countries.map(([code, ko, en]) =>
        el("option", { value: code }, code + " " + (SMZ.lang === "ko" ? ko : en))));
    $("ed-titles").replaceChildren(...LANGUAGES.map(([code, name]) =>
        el("label", { "data-field": code === "ko" ? "title" : "title[" + code + "]" }, el("span", {}, name),
           el("input", { id: "ed-title-" + code, maxlength: 300, size: 24, lang: code }))));
    $("rec-days").replaceChildren(...DAYS.map((d) =>
        el("label", { class: "inline" }, el("input", { type: "checkbox", id: "rec-day-" + d }), " " + w(d))));
    $("ed-host-filter").placeholder = w("find");
    $("ed-host-filter").setAttribute("aria-label", w("find"));
    try {
      state.partners = await SMZ.allPartners();
    } catch (e) {
      if (e.status === 401) return SMZ.signInAgain();
      state.partners = new Map();  // hosts are then shown by id only
    }
    $("details").addEventListener("submit", (event) => { event.preventDefault(); saveDetails(); });
    $("ed-host-filter").addEventListener("input", () =>
        showHosts(new Set([...$("ed-hosts").querySelectorAll("input:checked")].map((b) => b.value))));
    $("sessions").addEventListener("submit", (event) => { event.preventDefault(); saveSessions(); });
    $("add-session").addEventListener("click", () => addSession("SESSION"));
    $("add-visit").addEventListener("click", () => addSession("VISIT"));
    $("recurrence").addEventListener("submit", (event) => { event.preventDefault(); saveRecurrence(); });
    for (const id of ["rec-freq", "rec-ends"]) $(id).addEventListener("change", showRecurrenceFields);
    $("outcome").addEventListener("submit", (event) => { event.preventDefault(); saveOutcome(); });
    $("add-lead").addEventListener("click", () => {
      $("leads").tBodies[0].append(leadRow({}));
      numberLeads();
    });
    state.started = true;
    if (state.event) show(state.event);
  }

  function show(e) {
    state.event = e;
    if (!state.started) return;
    const can = editable(e.state);
    $("edit-section").hidden = !can;
    $("programme-section").hidden = !can && !(e.sessions || []).length && !(e.occurrences || []).length;
    $("outcome-section").hidden = e.state !== "COMPLETED";
    // The same definition as the forms show: leave what is being typed.
    const definition = e.revision + ":" + e.state;
    if (definition === state.filled) return;
    state.filled = definition;
    if (can) fillDetails(e);
    fillSessions(e);
    fillRecurrence(e);
    if (e.state === "COMPLETED") fillOutcome(e);
    for (const control of $("programme-section").querySelectorAll("input, select, button")) control.disabled = !can;
  }

  // Names of hosts for the facts (the directory as read).
  const hostNames = (ids) => (ids || []).map((id) => {
    const p = state.partners.get(String(id));
    return p ? SMZ.text(p.name) : "#" + id;
  });

  return { words, start, show, hostNames };
})();
