// The district's accounts (accounts.html): AccountService's Invite, List,
// Disable, Enable, ResetPassword and SetAccountRole, under their
// google.api.http paths. Every change carries the etag read and a reason.
"use strict";
const w = SMZ.words({
  ko: { title: "계정 관리", invite_title: "초대하기", login: "아이디", name: "이름", email: "이메일 (선택)",
        role: "역할", partner: "기관", language: "언어", invite: "초대", list_title: "계정", state: "상태",
        more: "더 보기", any: "전부", second_factor: "인증 앱", last_sign_in: "최근 로그인", actions: "",
        ADMIN: "관리자(구청)", ORGANIZER: "행사 담당", PARTNER: "기관(병원)", ANALYST: "분석", COUNCIL: "의회",
        ACCOUNT_INVITED: "초대됨", ACCOUNT_ACTIVE: "사용 중", ACCOUNT_DISABLED: "사용 중지",
        disable: "사용 중지", enable: "다시 사용", reset: "비밀번호 초기화", set_role: "역할 바꾸기",
        reason: "사유 (감사 기록에 남습니다)", confirm: "확인", cancel: "취소", yes: "있음", no: "없음",
        link: "{name}님에게 이 링크를 전하세요 ({expires}까지, 한 번만 보입니다):", copy: "복사",
        mailed: "같은 링크를 {email}(으)로 메일로 보냈습니다.",
        changed: "그 사이 계정이 바뀌었습니다. 목록을 다시 불러왔습니다." },
  en: { title: "Accounts", invite_title: "Invite", login: "Login", name: "Name", email: "E-mail (optional)",
        role: "Role", partner: "Partner", language: "Language", invite: "Invite", list_title: "Accounts", state: "State",
        more: "More", any: "Any", second_factor: "Authenticator", last_sign_in: "Last sign-in", actions: "",
        ADMIN: "Administrator", ORGANIZER: "Organizer", PARTNER: "Partner (hospital)", ANALYST: "Analyst", COUNCIL: "Council",
        ACCOUNT_INVITED: "Invited", ACCOUNT_ACTIVE: "Active", ACCOUNT_DISABLED: "Disabled",
        disable: "Disable", enable: "Enable", reset: "Reset password", set_role: "Change role",
        reason: "Reason (kept in the audit trail)", confirm: "Confirm", cancel: "Cancel", yes: "yes", no: "no",
        link: "Hand this link to {name} (valid until {expires}; shown only this once):", copy: "Copy",
        mailed: "The same link was mailed to {email}.",
        changed: "The account changed meanwhile: the list was reloaded." },
});
const fill = SMZ.fill;
const el = SMZ.el;
const $ = (id) => document.getElementById(id);
const ROLES = ["ADMIN", "ORGANIZER", "PARTNER", "ANALYST", "COUNCIL"];
const STATES = ["ACCOUNT_INVITED", "ACCOUNT_ACTIVE", "ACCOUNT_DISABLED"];
const state = { partners: new Map(), token: "", me: null };
const inviteKey = SMZ.retryKey("invite");

function options(select, values, withAny) {
  select.replaceChildren(...(withAny ? [el("option", { value: "" }, w("any"))] : []),
                         ...values.map((v) => el("option", { value: v }, w(v))));
}

async function loadPartners() {
  for (const [id, p] of await SMZ.allPartners()) state.partners.set(id, SMZ.text(p.name));
  const partnerOptions = () => [...state.partners].map(([id, name]) => el("option", { value: id }, name + " (#" + id + ")"));
  $("invite-partner").replaceChildren(...partnerOptions());
  return partnerOptions;
}

function showLink(answer) {
  const url = location.origin + answer.link.path;
  const box = $("link");
  const field = el("input", { id: "link-url", readonly: true, value: url, "data-link": url, size: 60 });
  const copy = el("button", { type: "button" }, w("copy"));
  copy.addEventListener("click", () => { field.select(); navigator.clipboard?.writeText(url).catch(() => null); });
  box.replaceChildren(el("p", {}, fill(w("link"), { name: answer.account.display_name,
                                                    expires: SMZ.seoul(answer.link.expire_time, true) })), field, " ", copy,
                      ...(answer.mailed ? [el("p", { id: "link-mailed" }, fill(w("mailed"), { email: answer.account.email }))] : []));
  box.hidden = false;
  field.focus();
  field.select();
}

async function invite() {
  const problems = $("invite-problems");
  problems.textContent = "";
  const role = $("invite-role").value;
  const body = { login: $("invite-login").value.trim().toLowerCase(), display_name: $("invite-name").value.trim(),
                 email: $("invite-email").value.trim(), role, preferred_language: $("invite-language").value,
                 partner_id: role === "PARTNER" ? Number($("invite-partner").value) : 0 };
  // One invitation at a time: a second one with the same request_id would
  // void the link just shown.
  const button = $("invite").querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await SMZ.post("/v1/accounts", Object.assign({ request_id: inviteKey.idFor(body) }, body));
    inviteKey.settle();
    for (const id of ["invite-login", "invite-name", "invite-email"]) $(id).value = "";
    showLink(answer);
    document.body.dataset.invited = answer.account.login;
    list(true);
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    inviteKey.settle(e);
    problems.textContent = SMZ.problems(e);
  } finally {
    button.disabled = false;
  }
}

// An action's small form under its row: a reason (and for a role change
// the new role), then the call with the etag read.
function openAction(account, tr, kind, partnerOptions) {
  document.querySelectorAll("tr.action-row").forEach((r) => r.remove());
  const reason = el("input", { id: "action-reason", maxlength: "500", required: true, "aria-label": w("reason") });
  const role = el("select", { id: "action-role", "aria-label": w("role") });
  options(role, ROLES, false);
  role.value = account.role;
  const partner = el("select", { id: "action-partner", "aria-label": w("partner") }, ...partnerOptions());
  if (account.partner_id && account.partner_id !== "0") partner.value = String(account.partner_id);
  const message = el("span", { class: "refused-message" });
  const confirm = el("button", { type: "button", class: "primary", id: "action-confirm" }, w("confirm"));
  const cancel = el("button", { type: "button" }, w("cancel"));
  const cell = el("td", { colspan: 7 }, el("label", {}, w("reason") + " ", reason), " ");
  if (kind === "set_role") {
    cell.append(role, " ", partner, " ");
    const showPartner = () => { partner.hidden = role.value !== "PARTNER"; };
    role.addEventListener("change", showPartner);
    showPartner();
  }
  cell.append(confirm, " ", cancel, " ", message);
  const row = el("tr", { class: "action-row" }, cell);
  tr.after(row);
  reason.focus();
  cancel.addEventListener("click", () => { row.remove(); tr.querySelector("button").focus(); });
  confirm.addEventListener("click", async () => {
    const path = "/v1/accounts/" + account.id + ":" + { disable: "disable", enable: "enable", reset: "resetPassword", set_role: "setRole" }[kind];
    const body = { etag: account.etag, reason: reason.value.trim() };
    if (kind === "set_role") {
      body.role = role.value;
      body.partner_id = role.value === "PARTNER" ? Number(partner.value) : 0;
    }
    try {
      const answer = await SMZ.post(path, body);
      row.remove();
      if (kind === "reset") showLink(answer);
      document.body.dataset.action = kind + ":" + account.login;
      list(true);
    } catch (e) {
      if (e.status === 401) return SMZ.signInAgain();
      if (e.code === SMZ.ABORTED) { await list(true); $("failure").textContent = w("changed"); return; }
      message.textContent = e.violations.length ? e.violations.map((v) => v.description).join(" · ") : e.message;
    }
  });
}

let partnerOptions = () => [];
async function list(fresh) {
  if (fresh) state.token = "";
  try {
    const args = { page_size: 100, page_token: state.token };
    if ($("filter-role").value) args.role = $("filter-role").value;
    if ($("filter-state").value) args.state = $("filter-state").value;
    const answer = await SMZ.get("/v1/accounts", args);
    const table = $("accounts");
    if (fresh || !table.tBodies.length) {
      table.replaceChildren(el("thead", {}, el("tr", {}, ...["login", "name", "role", "state", "second_factor", "last_sign_in", "actions"]
          .map((k) => el("th", { scope: "col" }, w(k))))), el("tbody"));
    }
    for (const a of answer.accounts || []) {
      const partnerName = a.role === "PARTNER" ? " · " + (state.partners.get(String(a.partner_id)) || "#" + a.partner_id) : "";
      const tr = el("tr", { "data-account": a.login, "data-state": a.state },
                    el("th", { scope: "row" }, a.login), el("td", {}, a.display_name), el("td", {}, w(a.role) + partnerName),
                    el("td", {}, el("span", { class: "badge " + (a.state === "ACCOUNT_DISABLED" ? "locked" : a.state === "ACCOUNT_INVITED" ? "draft" : "submitted") }, w(a.state))),
                    el("td", {}, a.second_factor_enrolled ? w("yes") : w("no")),
                    el("td", {}, a.last_sign_in_time ? SMZ.seoul(a.last_sign_in_time, true) : ""));
      const actions = el("td", {});
      // Nobody acts on their own account here (the service refuses it too).
      if (String(a.id) !== String(state.me.account_id)) {
        const kinds = a.state === "ACCOUNT_DISABLED" ? ["enable"] : ["disable", "reset", "set_role"];
        for (const kind of kinds) {
          const b = el("button", { type: "button", class: "link", "data-do": kind + ":" + a.login,
                                   "aria-label": w(kind) + " · " + a.login }, w(kind));
          b.addEventListener("click", () => openAction(a, tr, kind, partnerOptions));
          actions.append(b, " ");
        }
      }
      tr.append(actions);
      table.tBodies[0].append(tr);
    }
    state.token = answer.next_page_token || "";
    $("more").hidden = !state.token;
    $("failure").textContent = "";
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = e.message;
  }
}

(async () => {
  state.me = await SMZ.start(w("title"), () => location.reload());
  SMZ.translate(w);
  options($("invite-role"), ROLES, false);
  $("invite-role").value = "PARTNER";
  options($("filter-role"), ROLES, true);
  options($("filter-state"), STATES, true);
  partnerOptions = await loadPartners().catch(() => () => []);
  const showPartner = () => { $("invite-partner-label").hidden = $("invite-role").value !== "PARTNER"; };
  $("invite-role").addEventListener("change", showPartner);
  showPartner();
  $("invite").addEventListener("submit", (event) => { event.preventDefault(); invite(); });
  $("filter-role").addEventListener("change", () => list(true));
  $("filter-state").addEventListener("change", () => list(true));
  $("more").addEventListener("click", () => list(false));
  list(true);
})();
