// The web workspace's shared kit, loaded before each page's own script:
// calls to the gateway's HTTP/JSON API (the paths of the protos'
// google.api.http annotations), errors with the fields they name, the
// signed-in person, the page header with its navigation, language and
// sign-out, and small DOM helpers. Pages use it as
//
//   const w = SMZ.words({ ko: { title: "보고" }, en: { title: "Report" } });
//   const me = await SMZ.start(w("title"));   // header; signs in if needed
//   const year = await SMZ.get("/v1/partners/" + me.partner_id + "/reportingCalendars/2026");
//
// The session is an HttpOnly cookie the scripts never see; its readable
// companion smz_csrf goes back as X-SMZ-CSRF with every change.
"use strict";
const SMZ = (() => {
  const query = new URLSearchParams(location.search);
  const saved = (() => { try { return localStorage.getItem("smz-lang"); } catch (e) { return null; } })();
  let lang = ["ko", "en"].includes(query.get("lang")) ? query.get("lang") : (saved === "en" ? "en" : "ko");

  const csrf = () =>
    (document.cookie.match(/(?:^|; )(?:__Host-)?smz_csrf=([^;]*)/) || [])[1] || "";

  // A refused call: the HTTP status, the google.rpc code name, the message
  // and the BadRequest field violations ({field, description}).
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || ("HTTP " + status));
      this.status = status;
      this.code = (body && body.code) || 0;
      this.violations = ((body && body.details) || []).flatMap((d) => d.field_violations || []);
    }
  }

  function signInAgain() {
    location.assign("/?next=" + encodeURIComponent(location.pathname + location.search));
  }

  async function request(method, path, body) {
    const init = { method, headers: {}, credentials: "same-origin" };
    if (method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-SMZ-CSRF"] = csrf();
      init.body = JSON.stringify(body || {});
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, { message: words(COMMON)("offline") });
    }
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, answer);
    return answer;
  }

  const get = (path, args) =>
    request("GET", args ? path + "?" + new URLSearchParams(args) : path);
  const post = (path, body) => request("POST", path, body);
  // An AIP-134 update: the body is the resource, the mask and etag ride in
  // the query (the google.api.http body is the resource field alone). A
  // resource that carries its own etag (events) passes none here.
  const patch = (path, resource, mask, etag) =>
    request("PATCH", path + "?" + new URLSearchParams(Object.assign({ update_mask: mask.join(",") },
                                                                    etag === undefined ? {} : { etag })), resource);

  // words({ko: {...}, en: {...}}) -> w(key), in the current language,
  // falling back to Korean.
  function words(dictionary) {
    return (key) => {
      const table = dictionary[lang] || dictionary.ko;
      return key in table ? table[key] : (dictionary.ko[key] ?? key);
    };
  }
  const text = (map) => (map && (map[lang] || map.ko || map.en)) || "";

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      // Through the CSSOM: the pages' policy refuses style attributes.
      if (k === "style") e.style.cssText = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  const group = (n) => Number(n || 0).toLocaleString("en-US");
  // fill("{n} rows", {n: 3}) -> "3 rows": the words' placeholders.
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k]);
  // A request_id for a write (1-64 of [A-Za-z0-9._:-]): 128 random bits.
  function requestId(prefix) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return prefix + "-" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  // A timestamp as a date (and time) in Seoul, where the zone's deadlines are.
  function seoul(ts, withTime) {
    if (!ts) return "";
    const options = { timeZone: "Asia/Seoul", year: "numeric", month: "2-digit", day: "2-digit" };
    if (withTime) Object.assign(options, { hour: "2-digit", minute: "2-digit", hour12: false });
    return new Intl.DateTimeFormat("sv-SE", options).format(new Date(ts));
  }
  // Events keep their own IANA zone: an instant as "YYYY-MM-DD HH:MM" there,
  // and a "YYYY-MM-DDTHH:MM" typed for that zone as an instant (ISO), or ""
  // when it is no such time.
  // A zone the browser does not know (the server's tzdata has more names)
  // reads as UTC, which the caller names.
  function inZone(ts, zone) {
    if (!ts) return "";
    const options = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false };
    try {
      return new Intl.DateTimeFormat("sv-SE", Object.assign({ timeZone: zone }, options)).format(new Date(ts));
    } catch (e) {
      return new Intl.DateTimeFormat("sv-SE", Object.assign({ timeZone: "UTC" }, options)).format(new Date(ts)) + " UTC";
    }
  }
  function zoneOffset(ms, zone) {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(new Date(ms));
    const v = Object.fromEntries(parts.map((p) => [p.type, Number(p.value)]));
    return Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute, v.second) - ms;
  }
  function fromZone(local, zone) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local || "");
    if (!m) return "";
    try {
      const day = new Date(0);
      day.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);  // years below 100 too
      const naive = day.getTime() + (+m[4] * 60 + +m[5]) * 60000;
      // Twice: the offset at the guess, then at the instant it gives.
      const guess = naive - zoneOffset(naive, zone);
      const instant = new Date(naive - zoneOffset(guess, zone));
      // A time the zone skips (a clock put forward) is no time there.
      return inZone(instant.toISOString(), zone) === local.replace("T", " ") ? instant.toISOString() : "";
    } catch (e) {
      return "";
    }
  }
  // A deadline (the instant submissions close, midnight in Seoul) as the
  // last day on which they are still open.
  const lastDay = (ts) => (ts ? seoul(new Date(Date.parse(ts) - 1).toISOString()) : "");
  function translate(w) {
    document.documentElement.lang = lang;
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = w(e.dataset.i18n);
  }

  const COMMON = {
    ko: { dashboard: "대시보드", hospital: "보고 현황", upload: "파일로 올리기", explore: "통계 탐색", completeness: "보고 점검", reviews: "검토 대기", accounts: "계정", exceptions: "마감 예외", mail: "메일", events: "행사", partners: "기관", profile: "기관 정보", compare: "특구와 비교", signout: "로그아웃",
          offline: "서버에 연결하지 못했습니다. 잠시 후 다시 시도하세요.", zone: "스마트메디컬특구" },
    en: { dashboard: "Dashboard", hospital: "Reports", upload: "Upload a file", explore: "Statistics", completeness: "Who reported", reviews: "Review queue", accounts: "Accounts", exceptions: "Lock exceptions", mail: "Mail", events: "Events", partners: "Partners", profile: "Our profile", compare: "Beside the zone", signout: "Sign out",
          offline: "Could not reach the server: try again in a moment.", zone: "Smart Medical Zone" },
  };
  // Which pages each role has.
  const NAV = [
    { href: "/hospital", key: "hospital", roles: ["PARTNER"] },
    { href: "/hospital/upload", key: "upload", roles: ["PARTNER"] },
    { href: "/hospital/compare", key: "compare", roles: ["PARTNER"] },
    { href: "/hospital/profile", key: "profile", roles: ["PARTNER"] },
    { href: "/", key: "dashboard", roles: ["ADMIN", "COUNCIL", "ANALYST", "ORGANIZER"] },
    { href: "/explore", key: "explore", roles: ["ADMIN", "COUNCIL", "ANALYST", "ORGANIZER"] },
    { href: "/completeness", key: "completeness", roles: ["ADMIN", "COUNCIL", "ANALYST", "ORGANIZER"] },
    { href: "/admin/reviews", key: "reviews", roles: ["ADMIN"] },
    { href: "/admin/partners", key: "partners", roles: ["ADMIN"] },
    { href: "/admin/accounts", key: "accounts", roles: ["ADMIN"] },
    { href: "/admin/exceptions", key: "exceptions", roles: ["ADMIN"] },
    { href: "/organizer/events", key: "events", roles: ["ADMIN", "ORGANIZER"] },
    { href: "/admin/mail", key: "mail", roles: ["ADMIN"] },
  ];

  // The registry's enums by name, for every page that shows partners.
  const partnerWords = words({
    ko: { SPECIALIZED_OPERATOR: "특화사업자", COOPERATING_INSTITUTION: "협력기관", ATTRACTION_AGENCY: "유치업자",
          LINKED_BUSINESS: "연계업체", PENDING: "지정 전", ACTIVE: "지정", SUSPENDED: "지정 정지", REVOKED: "지정 취소",
          YEONGDEUNGPO: "영등포권역", YEOUIDO: "여의도권역", DAERIM: "대림동권역", ZONE_REGION_UNSPECIFIED: "",
          INTERPRETATION_FEE: "통·번역 이용료 지원", INFRASTRUCTURE: "인프라 구축 지원", MARKETING: "홍보·마케팅 지원",
          DESIGNATED: "지정", REDESIGNATED: "재지정", SUSPENDED_ACTION: "지정 정지", REINSTATED: "정지 해제", REVOKED_ACTION: "지정 취소" },
    en: { SPECIALIZED_OPERATOR: "Specialized operator", COOPERATING_INSTITUTION: "Cooperating institution", ATTRACTION_AGENCY: "Attraction agency",
          LINKED_BUSINESS: "Linked business", PENDING: "Not designated", ACTIVE: "Designated", SUSPENDED: "Suspended", REVOKED: "Revoked",
          YEONGDEUNGPO: "Yeongdeungpo", YEOUIDO: "Yeouido", DAERIM: "Daerim", ZONE_REGION_UNSPECIFIED: "",
          INTERPRETATION_FEE: "Interpretation fees", INFRASTRUCTURE: "Infrastructure", MARKETING: "Marketing",
          DESIGNATED: "Designated", REDESIGNATED: "Re-designated", SUSPENDED_ACTION: "Suspended", REINSTATED: "Reinstated", REVOKED_ACTION: "Revoked" },
  });

  // A refused call's message, with each field violation's field and text.
  const problems = (e) =>
    (e.violations || []).length ? e.violations.map((v) => v.field + ": " + v.description).join(" · ") : e.message;

  // A designation state as a badge.
  const partnerBadge = (status) =>
    el("span", { class: "badge " + ({ ACTIVE: "accepted", SUSPENDED: "late", REVOKED: "overdue" }[status] || "draft"),
                 "data-status": status }, partnerWords(status));

  // The partner a hospital's page is about: a PARTNER's own, whatever the
  // address says; an ADMIN names it (?partner=ID). 0: none named.
  const pagePartner = (me) => Number(me.role === "PARTNER" ? me.partner_id : query.get("partner") || 0);

  // A create's request_id, kept while the same content is retried: a write
  // whose answer was lost (no answer, or a 5xx) may have been stored, and
  // its retry must not store it twice. Once the service answered (done, or
  // refused with a 4xx) the next write is a new one.
  //   const key = SMZ.retryKey("grant");
  //   try { await SMZ.post(path, { grant, request_id: key.idFor(grant) }); key.settle(); }
  //   catch (e) { key.settle(e); ... }
  function retryKey(prefix) {
    let held = null;
    return {
      idFor(content) {
        const text = JSON.stringify(content);
        if (!held || held.text !== text) held = { id: requestId(prefix), text };
        return held.id;
      },
      settle(error) {
        if (!error || (error.status !== 0 && error.status < 500)) held = null;
      },
    };
  }

  // Marks each refused field in place: the element under `root` whose
  // data-field is the violation's field (less `prefix`), or the nearest
  // enclosing one ("contacts[0].email", then "contacts[0]", "contacts"),
  // gets the class "refused" and the service's message after it. Answers
  // the violations placed nowhere, for a summary.
  function markRefused(root, violations, prefix) {
    for (const e of root.querySelectorAll(".refused")) { e.classList.remove("refused"); e.removeAttribute("aria-invalid"); }
    for (const e of root.querySelectorAll(".refused-message[data-for]")) e.remove();
    const unplaced = [];
    for (const v of violations) {
      let field = prefix && v.field.startsWith(prefix) ? v.field.slice(prefix.length) : v.field;
      let target = null;
      while (field && !target) {
        target = [...root.querySelectorAll("[data-field]")].find((e) => e.dataset.field === field);
        const shorter = field.replace(/(\[[^\]]*\]|\.[^.\[]*)$/, "");
        if (shorter === field) break;
        field = shorter;
      }
      if (!target) { unplaced.push(v); continue; }
      target.classList.add("refused");
      target.setAttribute("aria-invalid", "true");
      const message = el("span", { class: "refused-message", "data-for": v.field }, v.description);
      if (target.tagName === "TR") target.lastElementChild.append(message);
      else if (target.tagName === "FIELDSET") target.append(message);
      else target.after(message);
    }
    return unplaced;
  }

  // A refusal shown: each violation marked at its field (markRefused), the
  // rest, or the message, in `box`.
  function showRefusal(root, e, box, prefix) {
    const unplaced = markRefused(root, e.violations, prefix);
    box.textContent = unplaced.length || !e.violations.length ? problems(e) : "";
    return unplaced;
  }

  // Every partner of the directory (ListPartners, page by page; the zone's
  // fit in a few pages): id (as text) -> Partner.
  async function allPartners() {
    const partners = new Map();
    let token = "";
    for (let page = 0; page < 50; ++page) {
      const answer = await get("/v1/partners", { page_size: 200, page_token: token });
      for (const p of answer.partners || []) partners.set(String(p.id), p);
      token = answer.next_page_token;
      if (!token) break;
    }
    return partners;
  }

  // The links to the pages `role` has, for a header.
  function navLinks(role) {
    const c = words(COMMON);
    return NAV.filter((item) => item.roles.includes(role)).map((item) =>
        el("a", { href: item.href, "aria-current": location.pathname === item.href ? "page" : null }, c(item.key)));
  }

  // Fills <header id="top">, and answers who is signed in; without a
  // session it sends the person to sign in and comes back here after.
  async function start(title, onLanguage) {
    if (!csrf()) { signInAgain(); return new Promise(() => {}); }
    let me;
    try {
      me = await get("/v1/whoami");
    } catch (e) {
      if (e.status === 401) { signInAgain(); return new Promise(() => {}); }
      throw e;
    }
    const c = words(COMMON);
    const header = document.getElementById("top");
    const nav = el("nav", { "aria-label": c("zone") }, ...navLinks(me.role));
    const select = el("select", { id: "lang", "aria-label": "Language / 언어" },
                      el("option", { value: "ko" }, "한국어"), el("option", { value: "en" }, "English"));
    select.value = lang;
    select.addEventListener("change", () => {
      lang = select.value;
      try { localStorage.setItem("smz-lang", lang); } catch (e) { /* private mode */ }
      if (onLanguage) onLanguage(); else location.reload();
    });
    const signout = el("button", { type: "button", id: "signout" }, c("signout"));
    signout.addEventListener("click", async () => {
      await post("/v1/sessions:signOut", {}).catch(() => null);
      location.assign("/");
    });
    header.replaceChildren(el("h1", { id: "page-title" }, title), nav, select,
                           el("span", { id: "who" }, me.display_name || ""), signout);
    document.title = title + " · " + c("zone");
    return me;
  }

  // The title again after a change of language.
  function retitle(title) {
    const h1 = document.getElementById("page-title");
    if (h1) h1.textContent = title;
    document.title = title + " · " + words(COMMON)("zone");
    for (const e of document.querySelectorAll("#top nav a")) {
      const item = NAV.find((n) => n.href === e.getAttribute("href"));
      if (item) e.textContent = words(COMMON)(item.key);
    }
    const signout = document.getElementById("signout");
    if (signout) signout.textContent = words(COMMON)("signout");
  }

  return {
    // google.rpc.Code numbers the pages act on.
    ABORTED: 10,
    ApiError, csrf, get, post, patch, words, partnerWords, partnerBadge, pagePartner, retryKey, problems, markRefused, showRefusal, text, el, group, fill, requestId, seoul, inZone, fromZone, lastDay, translate, navLinks, allPartners, start, retitle,
    signInAgain, query,
    get lang() { return lang; },
    // Codes and names from the services' own tables (/static/reference.js).
    reference: () => window.SMZ_REFERENCE || { countries: [], departments: [] },
  };
})();
