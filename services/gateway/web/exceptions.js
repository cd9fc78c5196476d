// Lock exceptions (exceptions.html): GrantLockException with a request_id
// kept across retries, and ListLockExceptions page by page.
"use strict";
const w = SMZ.words({
  ko: { title: "마감 예외", grant_title: "마감된 달 다시 열기", partner: "기관", period: "보고월", hours: "열어 둘 시간",
        reason: "사유", grant: "허용", list_title: "허용한 예외", active_only: "지금 열려 있는 것만", more: "더 보기",
        everyone: "모든 기관", granted_by: "허용한 사람", granted_at: "허용 시각", until: "열려 있는 기한",
        granted: "{partner}의 {period}을(를) {until}까지 열었습니다.", none: "예외가 없습니다.",
        choose: "기관 선택", choose_partner: "기관을 고르세요 (모든 기관도 고를 수 있습니다)." },
  en: { title: "Lock exceptions", grant_title: "Reopen a closed month", partner: "Partner", period: "Month", hours: "Hours open",
        reason: "Reason", grant: "Grant", list_title: "Exceptions granted", active_only: "Open now only", more: "More",
        everyone: "Every partner", granted_by: "Granted by", granted_at: "Granted", until: "Open until",
        granted: "{period} of {partner} is open until {until}.", none: "No exceptions.",
        choose: "Choose a partner", choose_partner: "Choose a partner (or every partner)." },
});
const fill = SMZ.fill;
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
const state = { names: new Map(), token: "" };
const grantKey = SMZ.retryKey("unlock");
const nameOf = (id) => (String(id) === "0" ? w("everyone") : state.names.get(String(id)) || "#" + id);

async function grant() {
  $("grant-problems").textContent = "";
  if ($("grant-partner").value === "") {
    $("grant-problems").textContent = w("choose_partner");
    $("grant-partner").focus();
    return;
  }
  const body = { partner_id: Number($("grant-partner").value), period: $("grant-period").value,
                 duration_hours: Number($("grant-hours").value) || 0, reason: $("grant-reason").value.trim() };
  try {
    const done = await SMZ.post("/v1/lockExceptions", Object.assign({ request_id: grantKey.idFor(body) }, body));
    grantKey.settle();
    $("granted").textContent = fill(w("granted"), { partner: nameOf(done.partner_id), period: done.period,
                                                     until: SMZ.seoul(done.expire_time, true) });
    $("granted").hidden = false;
    document.body.dataset.granted = done.partner_id + "/" + done.period;
    list(true);
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    grantKey.settle(e);
    $("grant-problems").textContent = SMZ.problems(e);
  }
}

async function list(fresh) {
  if (fresh) state.token = "";
  try {
    const answer = await SMZ.get("/v1/lockExceptions", { active_only: $("active-only").checked, page_size: 100,
                                                          page_token: state.token });
    const table = $("exceptions");
    if (fresh || !table.tBodies.length) {
      table.replaceChildren(el("thead", {}, el("tr", {}, ...["period", "partner", "until", "reason", "granted_by", "granted_at"]
          .map((k) => el("th", { scope: "col" }, w(k))))), el("tbody"));
    }
    for (const x of answer.exceptions || []) {
      table.tBodies[0].append(el("tr", { "data-exception": x.partner_id + "/" + x.period },
          el("th", { scope: "row" }, x.period), el("td", {}, nameOf(x.partner_id)),
          el("td", {}, SMZ.seoul(x.expire_time, true)), el("td", {}, x.reason), el("td", {}, x.granted_by),
          el("td", {}, SMZ.seoul(x.grant_time, true))));
    }
    if (!table.tBodies[0].rows.length) table.tBodies[0].append(el("tr", {}, el("td", { colspan: 6 }, w("none"))));
    state.token = answer.next_page_token || "";
    $("more").hidden = !state.token;
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = e.message;
  }
}

(async () => {
  await SMZ.start(w("title"), () => location.reload());
  SMZ.translate(w);
  try {
    for (const [id, p] of await SMZ.allPartners()) state.names.set(id, SMZ.text(p.name));
  } catch (e) {
    // Without the list, "every partner" would be the only choice: no grant.
    $("failure").textContent = e.message;
    $("grant").querySelector("button[type=submit]").disabled = true;
  }
  // Nothing is chosen until the person chooses: "every partner" reopens
  // the month for all hospitals.
  $("grant-partner").replaceChildren(el("option", { value: "" }, w("choose")),
      ...[...state.names].map(([id, name]) => el("option", { value: id }, name + " (#" + id + ")")),
      el("option", { value: "0" }, w("everyone")));
  $("grant").addEventListener("submit", (event) => { event.preventDefault(); grant(); });
  $("active-only").addEventListener("change", () => list(true));
  $("more").addEventListener("click", () => list(false));
  list(true);
})();
