// Check-in at the door (checkin.html): CheckIn with the code the camera
// (BarcodeDetector, where the browser has it), a scanner or a person typed;
// the confirmed registrations (ListRegistrations, every page) with who has
// arrived, refreshed while the page is open; RecordAttendance for someone
// who has no code with them.
"use strict";
const w = SMZ.words({
  ko: { title: "입장 확인", code: "입장 확인 코드", check: "확인", camera: "카메라로 읽기", camera_off: "카메라 끄기",
        no_camera: "이 브라우저는 카메라로 QR 코드를 읽지 못합니다. 코드를 입력하거나 스캐너를 쓰세요.",
        people: "참가자", find: "이름·소속으로 찾기", not_yet: "아직 안 온 사람만", name: "이름", organization: "소속",
        country: "나라", arrived: "도착", by_hand: "도착 처리", counts: "도착 {arrived}명 / 확정 {confirmed}명",
        welcome: "입장 확인: {name}", again: "이미 {time}에 입장했습니다: {name}", not_found: "이 코드를 가진 신청이 없습니다.",
        refused: "입장할 수 없습니다.", bad_code: "코드는 영문·숫자 16자입니다 (예: K7Q2-M9XD-4T1P-ZR8B).",
        camera_denied: "카메라를 쓸 수 없습니다: {why}", none: "확정된 참가자가 없습니다.", none_shown: "조건에 맞는 참가자가 없습니다.", not_found_event: "행사를 찾을 수 없습니다." },
  en: { title: "Check-in", code: "Check-in code", check: "Check in", camera: "Read with the camera", camera_off: "Camera off",
        no_camera: "This browser cannot read QR codes with the camera: type the code or use a scanner.",
        people: "People", find: "Find by name or organisation", not_yet: "Not arrived yet only", name: "Name",
        organization: "Organisation", country: "Country", arrived: "Arrived", by_hand: "Mark arrived",
        counts: "{arrived} arrived of {confirmed} confirmed", welcome: "Checked in: {name}",
        again: "Already checked in at {time}: {name}", not_found: "No registration has this code.",
        refused: "Cannot check in.", bad_code: "A code is 16 letters and digits (like K7Q2-M9XD-4T1P-ZR8B).",
        camera_denied: "The camera cannot be used: {why}", none: "Nobody is confirmed.", none_shown: "Nobody matches.", not_found_event: "No such event." },
});
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
const eventId = Number(SMZ.query.get("event") || 0);
// `load` numbers the list's loads: an answer to an older one is dropped.
const state = { event: null, people: [], load: 0, busy: false, lastRead: "", lastReadAt: 0, stream: null };

const fill = SMZ.fill;

function clock(time) {
  return time ? SMZ.inZone(time, state.event ? state.event.time_zone : "Asia/Seoul").slice(11, 16) : "";
}

function showEvent(e) {
  state.event = e;
  $("event-title").textContent = SMZ.text(e.title);
  $("event-when").textContent = SMZ.inZone(e.start_time, e.time_zone) + " – " + SMZ.inZone(e.end_time, e.time_zone) +
      " (" + e.time_zone + ") · " + [e.venue, e.room].filter(Boolean).join(", ");
}

function showCounts() {
  const arrived = state.people.filter((r) => r.attendance === "ATTENDED").length;
  $("counts").textContent = fill(w("counts"), { arrived, confirmed: state.people.length });
  $("counts").dataset.arrived = arrived;
}

// The list as it is now, filtered by the search box and the checkbox.
function showPeople() {
  const needle = $("find").value.trim().toLowerCase();
  const waitingOnly = $("waiting-only").checked;
  const shown = state.people.filter((r) =>
      (!waitingOnly || r.attendance !== "ATTENDED") &&
      (!needle || (r.name + " " + (r.organization || "")).toLowerCase().includes(needle)));
  const head = el("tr", {}, ...["name", "organization", "country", "arrived"].map((k) => el("th", { scope: "col" }, w(k))));
  const rows = shown.map((r) => {
    let mark;
    if (r.attendance === "ATTENDED") {
      mark = el("span", { class: "badge accepted" }, clock(r.check_in_time));
    } else {
      mark = el("button", { type: "button", "data-arrive": r.id }, w("by_hand"));
      mark.addEventListener("click", () => byHand(r, mark));
    }
    return el("tr", { "data-registration": r.id, "data-attendance": r.attendance || "" },
              el("th", { scope: "row" }, r.name), el("td", {}, r.organization || ""), el("td", {}, r.country || ""),
              el("td", {}, mark));
  });
  $("people").replaceChildren(el("thead", {}, head),
      el("tbody", {}, ...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 4 }, w(state.people.length ? "none_shown" : "none")))])));
  showCounts();
}

async function loadPeople() {
  const load = ++state.load;
  const people = [];
  let token = "";
  for (;;) {
    const page = await SMZ.get("/v1/events/" + eventId + "/registrations",
                               { states: "CONFIRMED", page_size: 200, page_token: token });
    people.push(...(page.registrations || []));
    token = page.next_page_token;
    if (!token) break;
  }
  if (load !== state.load) return;
  state.people = people;
  showPeople();
  document.body.dataset.loaded = String(people.length);
}

// One person's answer, in the list without waiting for the next load.
function remember(r) {
  const i = state.people.findIndex((p) => p.id === r.id);
  if (i >= 0) state.people[i] = r; else state.people.push(r);
  showPeople();
}

function say(kind, text, detail) {
  const box = $("result");
  box.className = "door-result " + kind;
  box.dataset.result = kind;
  box.replaceChildren(el("strong", {}, text), ...(detail ? [el("br"), el("span", {}, detail)] : []));
  if (kind === "ok" && navigator.vibrate) navigator.vibrate(80);
}

async function checkIn(code) {
  if (state.busy) return;
  state.busy = true;
  try {
    const answer = await SMZ.post("/v1/events/" + eventId + ":checkIn", { code });
    const r = answer.registration;
    const who = r.name + (r.organization ? " · " + r.organization : "");
    if (answer.already_checked_in) {
      say("again", fill(w("again"), { time: clock(r.check_in_time), name: who }));
    } else {
      say("ok", fill(w("welcome"), { name: who }), r.country || "");
    }
    remember(r);
    $("code").value = "";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    if (e.code === 3 && (e.violations || []).some((v) => v.field === "code")) say("refused", w("bad_code"));
    else if (e.code === 5) say("refused", w("not_found"));
    else say("refused", w("refused"), e.message);
    $("code").select();
  } finally {
    state.busy = false;
    $("code").focus();
  }
}

async function byHand(r, button) {
  button.disabled = true;
  try {
    remember(await SMZ.post("/v1/registrations/" + r.id + ":recordAttendance", { attendance: "ATTENDED" }));
    say("ok", fill(w("welcome"), { name: r.name }), r.country || "");
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    button.disabled = false;
    say("refused", w("refused"), e.message);
  }
}

// The camera, where the browser reads QR codes itself (BarcodeDetector:
// Chrome on Android; Safari only behind a flag); nothing is sent anywhere
// but the code it reads. A code read again within three seconds is the
// same person still in front of the phone.
async function startCamera() {
  if (state.stream) return stopCamera();
  try {
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    state.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    const video = $("viewfinder");
    video.srcObject = state.stream;
    video.hidden = false;
    await video.play();
    $("camera").textContent = w("camera_off");
    const look = async () => {
      if (!state.stream) return;
      try {
        const found = await detector.detect(video);
        const now = Date.now();
        // Read while the previous code is still being answered: looked at
        // again on the next frame, not dropped.
        if (found.length && !state.busy &&
            !(found[0].rawValue === state.lastRead && now - state.lastReadAt < 3000)) {
          state.lastRead = found[0].rawValue;
          state.lastReadAt = now;
          await checkIn(found[0].rawValue);
        }
      } catch (e) { /* a frame it could not read */ }
      setTimeout(look, 250);
    };
    look();
  } catch (e) {
    stopCamera();
    say("refused", fill(w("camera_denied"), { why: e.message || e.name }));
  }
}

function stopCamera() {
  if (state.stream) for (const track of state.stream.getTracks()) track.stop();
  state.stream = null;
  $("viewfinder").hidden = true;
  $("camera").textContent = w("camera");
}

function translate() {
  SMZ.translate(w);
  SMZ.retitle(w("title"));
  if (state.event) showPeople();
}

async function main() {
  await SMZ.start(w("title"), translate);
  SMZ.translate(w);
  const canRead = "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  $("camera").hidden = !canRead;
  $("no-camera").hidden = !!canRead;
  $("camera").addEventListener("click", startCamera);
  $("scan").addEventListener("submit", (e) => {
    e.preventDefault();
    const code = $("code").value.trim();
    if (code) checkIn(code);
  });
  $("find").addEventListener("input", showPeople);
  $("waiting-only").addEventListener("change", showPeople);
  try {
    showEvent(await SMZ.get("/v1/events/" + eventId));
    await loadPeople();
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = e.status === 404 ? w("not_found_event") : SMZ.problems(e);
    return;
  }
  // Other phones check people in too.
  setInterval(() => loadPeople().catch(() => null), 15000);
  document.body.dataset.ready = "1";
}

main();
