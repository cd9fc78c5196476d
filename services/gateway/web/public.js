// The public pages, without signing in (EventsService's public methods,
// through the gateway's HTTP side): the events open to the public
// (/public/events), one event with its sign-up form (/public/event?id=),
// and the page a mailed link opens (/public/signup#t=...) to confirm,
// cancel or erase a sign-up. The page's language: ?lang=, else the
// browser's, else English; words in public_words.js.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const query = new URLSearchParams(location.search);
  const lang = (() => {
    const asked = query.get("lang");
    if (asked && Object.hasOwn(PUBLIC_WORDS, asked)) return asked;
    for (const l of navigator.languages || []) {
      const base = String(l).toLowerCase().split("-")[0];
      if (Object.hasOwn(PUBLIC_WORDS, base)) return base;
    }
    return "en";
  })();
  document.documentElement.lang = lang;
  const w = (key, vars) => {
    let s = (PUBLIC_WORDS[lang] || PUBLIC_WORDS.en)[key] ?? PUBLIC_WORDS.en[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  };

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue;
      e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c != null && c !== "") e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  class Refused extends Error {
    constructor(status, body) {
      super((body && body.message) || "HTTP " + status);
      this.status = status;
      this.violations = ((body && body.details) || []).flatMap((d) => d.field_violations || []);
    }
  }

  // No cookie, no CSRF header: these methods take anyone.
  async function call(method, path, body) {
    const init = { method, headers: {}, credentials: "omit" };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new Refused(0, { message: "offline" });
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Refused(response.status, answer);
    return answer;
  }

  const say = (box, message, kind) => {
    box.textContent = message;
    box.className = kind || "notice";
  };
  const trouble = (e) => (e.status === 429 ? w("busy", { m: e.message }) : w("problem", { m: e.message }));

  // The event's text in the page's language, else English, else Korean,
  // else any; and which language that was.
  function textOf(map) {
    for (const l of [lang, "en", "ko", ...Object.keys(map || {})]) {
      if (map && map[l]) return [map[l], l];
    }
    return ["", lang];
  }

  // "2026-04-01 10:00" in `zone` (the browser's when unset).
  function timeIn(iso, zone) {
    if (!iso) return "";
    const options = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
                      hourCycle: "h23" };
    try {
      const parts = new Intl.DateTimeFormat("en-CA", zone ? { ...options, timeZone: zone } : options)
        .formatToParts(new Date(iso));
      const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
    } catch (e) {
      return new Date(iso).toISOString().replace("T", " ").slice(0, 16) + " UTC";
    }
  }
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

  function whenRows(e) {
    const local = `${timeIn(e.start_time, e.time_zone)} – ${timeIn(e.end_time, e.time_zone)} (${e.time_zone})`;
    const rows = [[w("when_local"), local]];
    if (browserZone !== e.time_zone) {
      rows.push([w("when_yours"), `${timeIn(e.start_time)} – ${timeIn(e.end_time)} (${browserZone})`]);
    }
    const place = [e.online ? w("online") : "", e.venue, e.room, e.city].filter(Boolean).join(", ");
    if (place) rows.push([w("where"), place]);
    return rows;
  }

  const facts = (rows) => el("dl", { class: "facts" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));

  function availability(e) {
    if (e.state === "CANCELLED") return w("cancelled");
    if (e.state === "COMPLETED") return w("completed");
    if (!e.registration_open) {
      if (e.registration_opens && new Date(e.registration_opens) > new Date()) {
        return w("opens", { t: timeIn(e.registration_opens, e.time_zone) + " (" + e.time_zone + ")" });
      }
      return w("closed");
    }
    if (e.unlimited) return w("no_limit");
    return (e.seats_left || 0) > 0 ? w("seats_left", { n: e.seats_left }) : w("waiting_list");
  }

  function header() {
    const switcher = el("nav", { class: "languages", "aria-label": "Language" },
      Object.entries(PUBLIC_LANGUAGES).map(([code, name]) => {
        const next = new URLSearchParams(location.search);
        next.set("lang", code);
        return el("a", { href: location.pathname + "?" + next, lang: code,
                         "aria-current": code === lang ? "true" : null }, name);
      }));
    $("top").replaceChildren(el("a", { href: "/public/events?lang=" + lang, class: "zone" }, w("zone")), switcher);
  }

  // ---- /public/events
  async function eventsPage() {
    document.title = w("events_title") + " · " + w("zone");
    $("title").textContent = w("events_title");
    // webcal: hands the feed to the calendar app, which keeps it up to
    // date; the https address is for apps that take one typed in.
    const feed = "/public/events.ics?language=" + lang;
    $("subscribe").textContent = w("subscribe");
    $("subscribe").href = "webcal://" + location.host + feed;
    $("feed-label").textContent = w("feed_address");
    $("feed-url").textContent = location.origin + feed;
    $("calendar").hidden = false;
    const list = $("events");
    let token = "";
    const more = $("more");
    more.textContent = w("more");
    async function load() {
      try {
        const answer = await call("GET", "/v1/public/events?" + new URLSearchParams({ page_size: 20, page_token: token }));
        for (const e of answer.events || []) {
          const [title, shown] = textOf(e.title);
          list.append(el("li", { class: "event", "data-event": e.id },
            el("h2", { lang: shown }, el("a", { href: `/public/event?id=${e.id}&lang=${lang}` }, title)),
            e.state === "POSTPONED" ? el("p", { class: "badge" }, w("postponed")) : "",
            facts(whenRows(e)),
            el("p", { class: "availability" }, availability(e)),
            el("a", { class: "button", href: `/public/event?id=${e.id}&lang=${lang}` }, w("details"))));
        }
        token = answer.next_page_token || "";
        more.hidden = !token;
        if (!list.children.length) say($("status"), w("none"));
      } catch (e) {
        say($("status"), trouble(e), "error");
      }
    }
    more.addEventListener("click", load);
    await load();
  }

  // ---- /public/event?id=
  const FORM_FIELDS = ["name", "organization", "country", "email", "phone", "language", "consent"];
  const COUNTRIES = ["MN", "VN", "CN", "RU", "KZ", "UZ", "KG", "TJ", "TM", "AZ", "UA", "BY", "US", "CA", "JP", "TW",
    "HK", "TH", "PH", "ID", "MY", "SG", "IN", "AE", "SA", "QA", "KW", "AU", "NZ", "GB", "DE", "FR", "KR"];

  async function eventPage() {
    const id = (query.get("id") || "").replace(/[^0-9]/g, "");
    let e;
    try {
      e = await call("GET", "/v1/public/events/" + (id || "0"));
    } catch (err) {
      say($("status"), trouble(err), "error");
      return;
    }
    const [title, shown] = textOf(e.title);
    document.title = title + " · " + w("zone");
    $("title").textContent = title;
    $("title").lang = shown;
    $("back").textContent = w("back");
    $("back").href = "/public/events?lang=" + lang;
    $("add-calendar").textContent = w("add_calendar");
    $("add-calendar").href = `/public/events.ics?event_id=${e.id}&language=${lang}`;
    $("add-calendar").hidden = false;
    if (shown !== lang) {
      say($("fallback"), w("fallback", { lang: PUBLIC_LANGUAGES[shown] || shown }));
    }
    const rows = whenRows(e);
    if (e.state === "POSTPONED" || e.state === "CANCELLED") {
      rows.unshift([e.state === "POSTPONED" ? w("postponed") : w("cancelled"), e.state_reason ? w("reason") + ": " + e.state_reason : ""]);
    }
    if (e.registration_open) {
      rows.push([w("form_title"), w("closes", { t: timeIn(e.registration_closes, e.time_zone) + " (" + e.time_zone + ")" })]);
    }
    $("facts").replaceChildren(facts(rows));
    const [description, described] = textOf(e.description);
    $("description").textContent = description;
    $("description").lang = described;
    $("availability").textContent = availability(e);
    if (!e.registration_open) return;

    const form = $("signup");
    form.hidden = false;
    $("form-title").textContent = w("form_title");
    for (const f of FORM_FIELDS) {
      const label = form.querySelector(`[data-field="${f}"] .label`);
      if (label) label.textContent = w(f, { days: e.retention_days });
    }
    const country = $("country");
    const names = (() => { try { return new Intl.DisplayNames([lang], { type: "region" }); } catch (x) { return null; } })();
    const choices = COUNTRIES.map((c) => [c, names ? names.of(c) : c]).sort((a, b) => a[1].localeCompare(b[1], lang));
    country.replaceChildren(el("option", { value: "" }, "—"),
      ...choices.map(([c, n]) => el("option", { value: c }, n)));
    if (e.country && e.country !== "KR") country.value = e.country;
    const language = $("language");
    language.replaceChildren(...Object.entries(PUBLIC_LANGUAGES).map(([c, n]) => el("option", { value: c }, n)));
    language.value = lang;
    $("submit").textContent = w("submit");
    // One request_id per filled-in form: a retry after a lost answer is
    // not a second sign-up. (crypto.randomUUID needs HTTPS; these 128 bits
    // do not.)
    const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)),
                                   (b) => b.toString(16).padStart(2, "0")).join("");
    let requestId = newId();
    form.addEventListener("input", () => { requestId = newId(); });

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      for (const marked of form.querySelectorAll(".invalid")) marked.classList.remove("invalid");
      for (const hint of form.querySelectorAll(".hint")) hint.textContent = "";
      const body = {
        name: $("name").value.trim(), organization: $("organization").value.trim(), country: country.value,
        email: $("email").value.trim(), phone: $("phone").value.trim(), language: language.value,
        consent: $("consent").checked, website: $("contact-extra").value, request_id: requestId,
      };
      const missing = ["name", "country", "email"].filter((f) => !body[f]);
      if (!body.consent) missing.push("consent");
      if (missing.length) {
        for (const f of missing) mark(f, w("required"));
        say($("result"), w("fix"), "error");
        return;
      }
      $("submit").disabled = true;
      $("submit").textContent = w("sending");
      try {
        const answer = await call("POST", `/v1/public/events/${e.id}:signUp`, body);
        const s = answer.sign_up || {};
        form.hidden = true;
        const held = timeIn(s.hold_until, e.time_zone) + " (" + e.time_zone + ")";
        say($("result"), w("sent", { email: s.email, t: held }) +
          (s.state === "WAITLISTED" ? " " + w("sent_waiting", { n: s.waitlist_position }) : ""), "notice done");
      } catch (err) {
        const placed = (err.violations || []).filter((v) => mark(v.field, v.description));
        if (err.status === 409 || /^email/.test(err.message)) mark("email", err.message);
        say($("result"), placed.length ? w("fix") : trouble(err), "error");
      } finally {
        $("submit").disabled = false;
        $("submit").textContent = w("submit");
      }
    });
  }

  function mark(field, description) {
    const box = document.querySelector(`#signup [data-field="${field}"]`);
    if (!box) return false;
    box.classList.add("invalid");
    const hint = box.querySelector(".hint");
    if (hint) hint.textContent = description;
    return true;
  }

  // ---- /public/signup#t=...
  async function signUpPage() {
    document.title = w("signup_title") + " · " + w("zone");
    $("title").textContent = w("signup_title");
    const token = signUpToken;
    if (!/^smzv_[A-Za-z0-9_-]{43}$/.test(token)) {
      say($("status"), w("no_token"), "error");
      return;
    }
    const act = async (path, body, done) => {
      for (const b of document.querySelectorAll("#actions button")) b.disabled = true;
      try {
        show(await call("POST", path, { token, ...body }));
        if (done) say($("status"), w(done), "notice done");
      } catch (e) {
        say($("status"), trouble(e), "error");
        for (const b of document.querySelectorAll("#actions button")) b.disabled = false;
      }
    };
    function show(s) {
      const e = s.event || {};
      const [title, shown] = textOf(e.title);
      const live = s.state === "CONFIRMED" || s.state === "WAITLISTED";
      let state = w("state_" + s.state, { n: s.waitlist_position });
      if (live && s.hold_until) state = w("state_held", { t: timeIn(s.hold_until, e.time_zone) + " (" + e.time_zone + ")" });
      $("sign-up").replaceChildren(
        el("h2", { lang: shown }, el("a", { href: `/public/event?id=${e.id}&lang=${lang}` }, title)),
        facts([...whenRows(e), [w("name"), s.erased ? "—" : s.name], [w("status"), state]]));
      $("sign-up").dataset.state = s.erased ? "ERASED" : (live && s.hold_until ? "HELD" : s.state);
      const buttons = [];
      if (s.erased) {
        $("actions").replaceChildren();
        return;
      }
      if (live && s.hold_until) {
        buttons.push(el("button", { type: "button", id: "confirm", class: "primary" }, w("confirm")));
      }
      if (live && new Date(e.start_time) > new Date()) {
        buttons.push(el("button", { type: "button", id: "cancel" }, w("cancel")));
      }
      buttons.push(el("button", { type: "button", id: "erase", class: "danger" }, w("erase")));
      $("actions").replaceChildren(...buttons);
      const on = (id, f) => $(id) && $(id).addEventListener("click", f);
      on("confirm", () => act("/v1/public/signUps:confirm", {}, "confirmed_now"));
      on("cancel", () => confirm(w("cancel_ask")) && act("/v1/public/signUps:cancel", {}, "cancelled_now"));
      on("erase", () => confirm(w("erase_ask")) && act("/v1/public/signUps:cancel", { erase: true }, "erased_now"));
    }
    try {
      show(await call("POST", "/v1/public/signUps:lookUp", { token }));
    } catch (e) {
      say($("status"), trouble(e), "error");
    }
  }

  // The mailed link's token: out of the address (and the history) at once,
  // kept for this tab so that another language of the page still has it.
  const page = document.body.dataset.page;
  let signUpToken = "";
  if (page === "signup") {
    const fromLink = (new URLSearchParams(location.hash.slice(1)).get("t") || "").trim();
    if (fromLink) sessionStorage.setItem("smz_signup_token", fromLink);
    signUpToken = fromLink || sessionStorage.getItem("smz_signup_token") || "";
    history.replaceState(null, "", location.pathname + location.search);
  }
  header();
  ({ events: eventsPage, event: eventPage, signup: signUpPage })[page]();
})();
