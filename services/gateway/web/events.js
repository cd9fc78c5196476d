// Events (events.html): ListEvents for a period, type and state, page by
// page; CreateEvent with a request_id kept across retries, times typed in
// the event's own zone, refused fields marked where they are.
"use strict";
const w = SMZ.words({
  ko: { title: "행사", list_title: "행사", from: "부터", to: "까지", type: "종류", state: "상태", all: "전체", more: "더 보기",
        new_title: "새 행사", title_ko: "제목 (한국어)", title_en: "제목 (영어)", title_other_lang: "다른 언어",
        title_other: "그 언어로 된 제목", organizer: "주최", venue: "장소", room: "방", city: "도시", country: "나라",
        online: "온라인", open_to_public: "일반 공개 (누구나 신청)", time_zone: "시간대", start: "시작 (현지)", end: "끝 (현지)", capacity: "정원 (0: 제한 없음)",
        closes: "신청 마감 (현지, 선택)", create: "초안으로 만들기", when: "일시 (현지)", where: "장소", seats: "좌석",
        waiting: "대기", none: "이 기간에 행사가 없습니다.", bad_time: "현지 일시를 입력하세요." },
  en: { title: "Events", list_title: "Events", from: "From", to: "To", type: "Type", state: "State", all: "All", more: "More",
        new_title: "New event", title_ko: "Title (Korean)", title_en: "Title (English)", title_other_lang: "Another language",
        title_other: "Title in that language", organizer: "Organizer", venue: "Venue", room: "Room", city: "City",
        country: "Country", online: "Online", open_to_public: "Open to the public (anyone signs up)", time_zone: "Time zone", start: "Starts (local)", end: "Ends (local)",
        capacity: "Seats (0: no limit)", closes: "Registration closes (local, optional)", create: "Create as draft",
        when: "When (local)", where: "Where", seats: "Seats", waiting: "Waiting", none: "No events in this period.",
        bad_time: "Enter a local date and time." },
});
const ew = window.SMZ_EVENT_WORDS;
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
// `load` numbers the list's loads: an answer to an older one is dropped.
const pager = { token: "", load: 0 };
const createKey = SMZ.retryKey("event");

// A date `days` from today, as the person's own calendar has it.
function dayOffset(days) {
  const d = new Date(Date.now() + days * 86400000);
  return [d.getFullYear(), String(d.getMonth() + 1).padStart(2, "0"), String(d.getDate()).padStart(2, "0")].join("-");
}

function placeOf(e) {
  return [e.online ? w("online") : "", e.venue, e.room, e.city].filter(Boolean).join(", ");
}

async function list(fresh) {
  if (fresh) pager.token = "";
  const load = ++pager.load;
  $("more").disabled = true;
  try {
    const query = { local_date_from: $("from").value, local_date_to: $("to").value, page_size: 100,
                    page_token: pager.token };
    if ($("type").value) query.types = $("type").value;
    if ($("state").value) query.states = $("state").value;
    const answer = await SMZ.get("/v1/events", query);
    if (load !== pager.load) return;
    const table = $("events");
    if (fresh || !table.tBodies.length) {
      table.replaceChildren(el("thead", {}, el("tr", {}, ...["when", "title", "type", "state", "where", "seats", "waiting"]
          .map((k) => el("th", { scope: "col" }, k === "title" ? w("list_title") : w(k))))), el("tbody"));
    }
    for (const e of answer.events || []) {
      const seats = (e.confirmed_count || 0) + (e.capacity ? " / " + e.capacity : "");
      table.tBodies[0].append(el("tr", { "data-event": e.id, "data-state": e.state },
          el("td", {}, SMZ.inZone(e.start_time, e.time_zone) + " " + e.time_zone),
          el("th", { scope: "row" }, el("a", { href: "/organizer/event?id=" + e.id }, SMZ.text(e.title))),
          el("td", {}, ew(e.type)),
          el("td", {}, el("span", { class: "badge " + (window.SMZ_EVENT_BADGE[e.state] || "") }, ew(e.state))),
          el("td", {}, placeOf(e)), el("td", { class: "number" }, seats),
          el("td", { class: "number" }, String(e.waitlisted_count || 0))));
    }
    if (!table.tBodies[0].rows.length) table.tBodies[0].append(el("tr", {}, el("td", { colspan: 7 }, w("none"))));
    pager.token = answer.next_page_token || "";
    $("more").hidden = !pager.token;
    $("more").disabled = false;
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = SMZ.problems(e);
  }
}

async function create() {
  const zone = $("new-zone").value;
  const title = {};
  if ($("new-title-ko").value.trim()) title.ko = $("new-title-ko").value.trim();
  if ($("new-title-en").value.trim()) title.en = $("new-title-en").value.trim();
  if ($("new-title-lang").value && $("new-title-other").value.trim()) {
    title[$("new-title-lang").value] = $("new-title-other").value.trim();
  }
  const event = { type: $("new-type").value, title, organizer: $("new-organizer").value.trim(),
                  venue: $("new-venue").value.trim(), room: $("new-room").value.trim(), city: $("new-city").value.trim(),
                  country: $("new-country").value, online: $("new-online").checked,
                  open_to_public: $("new-public").checked, time_zone: zone,
                  capacity: Number($("new-capacity").value) || 0 };
  // A time the person has not finished typing is theirs to fix, here.
  const local = [["start_time", "new-start", true], ["end_time", "new-end", true], ["registration_closes", "new-closes", false]];
  const missing = [];
  for (const [field, id, required] of local) {
    const instant = SMZ.fromZone($(id).value, zone);
    if (instant) event[field] = instant;
    else if (required || $(id).value) missing.push({ field, description: w("bad_time") });
  }
  if (missing.length) {
    SMZ.showRefusal($("create"), { violations: missing, message: "" }, $("create-problems"));
    return;
  }
  try {
    const done = await SMZ.post("/v1/events", { event, request_id: createKey.idFor(event) });
    createKey.settle();
    location.assign("/organizer/event?id=" + done.event.id + (done.warnings && done.warnings.length ? "&warned=1" : ""));
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    createKey.settle(e);
    SMZ.showRefusal($("create"), e, $("create-problems"), "event.");
    document.body.dataset.refused = "yes";
  }
}

(async () => {
  await SMZ.start(w("title"), () => location.reload());
  SMZ.translate(w);
  $("type").replaceChildren(el("option", { value: "" }, w("all")),
      ...window.SMZ_EVENT_TYPES.map((t) => el("option", { value: t }, ew(t))));
  $("new-type").replaceChildren(...window.SMZ_EVENT_TYPES.map((t) => el("option", { value: t }, ew(t))));
  $("state").replaceChildren(el("option", { value: "" }, w("all")),
      ...["DRAFT", "PUBLISHED", "POSTPONED", "COMPLETED", "CANCELLED"].map((s) => el("option", { value: s }, ew(s))));
  $("new-zone").replaceChildren(...window.SMZ_EVENT_ZONES.map((z) => el("option", { value: z }, z)));
  $("new-country").replaceChildren(...SMZ.reference().countries.map(([code, ko, en]) =>
      el("option", { value: code }, code + " " + (SMZ.lang === "ko" ? ko : en))));
  $("new-country").value = "KR";
  $("from").value = dayOffset(-30);
  $("to").value = dayOffset(365);
  for (const id of ["from", "to", "type", "state"]) $(id).addEventListener("change", () => list(true));
  $("more").addEventListener("click", () => list(false));
  $("create").addEventListener("submit", (event) => { event.preventDefault(); create(); });
  list(true);
})();
