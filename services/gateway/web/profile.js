// A partner's own page (profile.html): RegistryService.GetPartner, then
// UpdatePartner with the changed fields as the mask and the etag read;
// the designation history and, for an ADMIN, the lifecycle decisions
// (Designate, Redesignate, Suspend, Reinstate, Revoke, each with a reason);
// ListGrants and, for an ADMIN, CreateGrant; ListPartnerChanges.
"use strict";
const w = SMZ.words({
  ko: { title: "기관 정보", back: "← 기관 목록", edit_title: "연락처와 진료 정보", registry_legend: "등록 정보 (구청)",
        name_ko: "기관명 (한국어)", name_en: "기관명 (영어)", representative: "대표자", address: "주소",
        registration_number: "외국인환자 유치기관 등록번호", registration_expires: "등록 만료일",
        contacts: "담당자", add_contact: "담당자 추가", departments: "진료과",
        languages: "응대 가능 언어 (ISO 639-1, 쉼표로 구분: ko, en, zh, mn, ru, vi)", accreditations: "인증 (한 줄에 하나)",
        save: "저장", saved: "{time}에 저장했습니다.", nothing: "바뀐 내용이 없습니다.",
        contact_name: "이름", contact_role: "직책", contact_email: "이메일", contact_phone: "전화",
        contact_languages: "언어", remove: "삭제", remove_contact: "담당자 {n} 삭제",
        kind: "구분", status: "지정 상태", region: "권역", term: "지정 기간 만료", registration: "유치기관 등록",
        none: "없음", until: "{date}까지",
        designation_title: "지정 현황", term_line: "현재 지정 기간: {date}까지", no_term: "지정 기간이 없습니다.",
        action: "결정", effective_on: "시행일", term_ends_on: "지정 만료일", reason: "사유", decision_ref: "결정 문서 번호",
        recorded_by: "기록", designate: "지정", redesignate: "재지정", suspend: "지정 정지", reinstate: "정지 해제", revoke: "지정 취소",
        reason_needed: "사유 (기록에 남습니다)", confirm: "확인", cancel: "취소",
        grants_title: "지원 사업", year: "연도", programme: "사업", amount: "금액 (원)", purpose: "내용",
        purpose_ko: "내용 (한국어)", purpose_en: "내용 (영어)", grant_new: "지원 기록하기", grant_add: "기록",
        grants_total: "합계 {amount}원", no_grants: "기록된 지원이 없습니다.",
        changes_title: "변경 이력", time: "시각", actor: "변경한 사람", change: "변경", fields: "바뀐 항목",
        conflict: "그 사이 다른 사람이 이 기관 정보를 바꿨습니다 ({who}, {time}). 바뀐 항목: {fields}. 아래 단추로 최신 정보를 불러온 뒤 다시 고치세요.",
        reload: "최신 정보 불러오기", problems: "저장하지 못했습니다. 표시된 칸을 고치세요.",
        reports_link: "이 기관의 월간 보고", compare_link: "특구와 비교",
        CREATE: "등록", UPDATE: "수정", DESIGNATE: "지정", REDESIGNATE: "재지정", SUSPEND: "지정 정지", REINSTATE: "정지 해제", REVOKE: "지정 취소" },
  en: { title: "Profile", back: "← Partners", edit_title: "Contacts and care", registry_legend: "Registry record (district)",
        name_ko: "Name (Korean)", name_en: "Name (English)", representative: "Representative", address: "Address",
        registration_number: "Attraction registration number", registration_expires: "Registration expires",
        contacts: "Contacts", add_contact: "Add a contact", departments: "Departments",
        languages: "Languages served (ISO 639-1, comma-separated: ko, en, zh, mn, ru, vi)", accreditations: "Accreditations (one per line)",
        save: "Save", saved: "Saved at {time}.", nothing: "Nothing has changed.",
        contact_name: "Name", contact_role: "Role", contact_email: "E-mail", contact_phone: "Phone",
        contact_languages: "Languages", remove: "Remove", remove_contact: "Remove contact {n}",
        kind: "Kind", status: "Designation", region: "Region", term: "Term ends", registration: "Attraction registration",
        none: "none", until: "until {date}",
        designation_title: "Designation", term_line: "Current term: until {date}", no_term: "No designation term.",
        action: "Decision", effective_on: "Effective", term_ends_on: "Term ends", reason: "Reason", decision_ref: "Decision no.",
        recorded_by: "Recorded by", designate: "Designate", redesignate: "Re-designate", suspend: "Suspend", reinstate: "Reinstate", revoke: "Revoke",
        reason_needed: "Reason (kept on record)", confirm: "Confirm", cancel: "Cancel",
        grants_title: "Support grants", year: "Year", programme: "Programme", amount: "Amount (KRW)", purpose: "Purpose",
        purpose_ko: "Purpose (Korean)", purpose_en: "Purpose (English)", grant_new: "Record a grant", grant_add: "Record",
        grants_total: "Total KRW {amount}", no_grants: "No grants recorded.",
        changes_title: "Changes", time: "Time", actor: "By", change: "Change", fields: "Fields",
        conflict: "Someone else changed this record meanwhile ({who}, {time}). Changed: {fields}. Load the current record with the button below, then make your change again.",
        reload: "Load the current record", problems: "Not saved: correct the marked fields.",
        reports_link: "Its monthly reports", compare_link: "Beside the zone",
        CREATE: "Created", UPDATE: "Updated", DESIGNATE: "Designated", REDESIGNATE: "Re-designated", SUSPEND: "Suspended", REINSTATE: "Reinstated", REVOKE: "Revoked" },
});
const el = SMZ.el;
const fill = SMZ.fill;
const pw = SMZ.partnerWords;
const $ = (id) => document.getElementById(id);
const model = { me: null, admin: false, partnerId: 0, partner: null, departmentsTouched: false };
const grantKey = SMZ.retryKey("grant");

// What each role may change (the registry refuses the rest to a PARTNER).
const SELF_SERVICE = ["contacts", "departments", "languages", "accreditations"];
const REGISTRY_FIELDS = ["name", "representative", "address", "attraction_registration_number", "registration_expires_on"];
// The lifecycle decisions open from each state (registry.proto).
const DECISIONS = { PENDING: ["designate"], REVOKED: ["designate"], ACTIVE: ["redesignate", "suspend", "revoke"],
                    SUSPENDED: ["reinstate", "revoke"] };
const partnerPath = () => "/v1/partners/" + model.partnerId;
const today = () => SMZ.seoul(new Date().toISOString());

function fact(label, value, attrs) {
  return [el("dt", {}, label), el("dd", attrs || {}, value || w("none"))];
}

// The district's way to the partner's other pages (a hospital has them in
// its header).
function adminLinks(p) {
  if (!model.admin || !["SPECIALIZED_OPERATOR", "COOPERATING_INSTITUTION"].includes(p.kind)) return null;
  return el("p", {}, el("a", { href: "/hospital?partner=" + p.id }, w("reports_link")), " · ",
            el("a", { href: "/hospital/compare?partner=" + p.id }, w("compare_link")));
}

function renderSummary(p) {
  const status = SMZ.partnerBadge(p.status);
  const registration = p.attraction_registration_number
      ? p.attraction_registration_number + " · " + fill(w("until"), { date: p.registration_expires_on }) : "";
  $("summary").replaceChildren(
      el("h2", { id: "partner-name", "data-partner": p.id }, SMZ.text(p.name), " ", status),
      el("dl", { class: "facts" }, ...fact(w("kind"), pw(p.kind)), ...fact(w("region"), pw(p.region || "ZONE_REGION_UNSPECIFIED")),
         ...fact(w("address"), p.address), ...fact(w("representative"), p.representative),
         ...fact(w("term"), p.designation_term_ends_on, { "data-term": p.designation_term_ends_on || "" }),
         ...fact(w("registration"), registration)),
      ...[adminLinks(p)].filter(Boolean));
}

function contactRow(contact, i) {
  const input = (key, attrs) => el("input", Object.assign({ name: key, "data-field": "contacts[" + i + "]." + key,
                                                            "aria-label": w("contact_" + key) + " " + (i + 1) }, attrs));
  const fields = [input("name", { maxlength: 100, value: contact.name || "" }),
                  input("role", { maxlength: 100, value: contact.role || "" }),
                  input("email", { type: "email", maxlength: 254, value: contact.email || "" }),
                  input("phone", { type: "tel", maxlength: 32, value: contact.phone || "" }),
                  input("languages", { maxlength: 100, value: (contact.languages || []).join(", ") })];
  const remove = el("button", { type: "button", class: "link remove", "aria-label": fill(w("remove_contact"), { n: i + 1 }) }, "×");
  const tr = el("tr", { "data-field": "contacts[" + i + "]", "data-contact": i },
                ...fields.map((f) => el("td", {}, f)), el("td", {}, remove));
  remove.addEventListener("click", () => { tr.remove(); renumberContacts(); });
  return tr;
}

// After a removal the rows are numbered again, as the service will count them.
function renumberContacts() {
  const rows = [...$("contacts").tBodies[0].rows];
  rows.forEach((tr, i) => {
    tr.dataset.field = "contacts[" + i + "]";
    tr.dataset.contact = i;
    for (const input of tr.querySelectorAll("input")) {
      input.dataset.field = "contacts[" + i + "]." + input.name;
      input.setAttribute("aria-label", w("contact_" + input.name) + " " + (i + 1));
    }
  });
}

// The form with `p`'s values (the record, or the person's entries kept
// across a change of language).
function renderForm(p) {
  $("registry-fields").hidden = !model.admin;
  $("name-ko").value = (p.name || {}).ko || "";
  $("name-en").value = (p.name || {}).en || "";
  $("representative").value = p.representative || "";
  $("address").value = p.address || "";
  $("registration-number").value = p.attraction_registration_number || "";
  $("registration-expires").value = p.registration_expires_on || "";
  const head = el("tr", {}, ...["contact_name", "contact_role", "contact_email", "contact_phone", "contact_languages"].map(
      (k) => el("th", { scope: "col" }, w(k))), el("th", {}, ""));
  $("contacts").replaceChildren(el("thead", {}, head), el("tbody", {}, ...(p.contacts || []).map(contactRow)));
  const chosen = new Set(p.departments || []);
  $("department-boxes").replaceChildren(...SMZ.reference().departments.map(([code, ko, en]) =>
      el("label", { class: "inline" }, el("input", { type: "checkbox", value: code, checked: chosen.has(code) }),
         SMZ.lang === "en" ? en : ko)));
  $("languages").value = (p.languages || []).join(", ");
  $("accreditations").value = (p.accreditations || []).join("\n");
}

const codes = (text) => text.split(/[\s,]+/).map((c) => c.trim().toLowerCase()).filter(Boolean);

// The record as the form has it, for the fields this person may change.
function formRecord() {
  const contacts = [...$("contacts").tBodies[0].rows].map((tr) => {
    const value = (name) => tr.querySelector("input[name=" + name + "]").value.trim();
    return { name: value("name"), role: value("role"), email: value("email"), phone: value("phone"),
             languages: codes(value("languages")) };
  });
  // Departments only once the person changed one: a page without the
  // reference table (or codes it does not know) must not clear them.
  const listed = new Set(SMZ.reference().departments.map(([code]) => code));
  const record = {
    contacts,
    departments: (model.partner.departments || []).filter((d) => !listed.has(d)).concat(
        [...$("department-boxes").querySelectorAll("input:checked")].map((b) => b.value)),
    languages: codes($("languages").value),
    accreditations: $("accreditations").value.split("\n").map((a) => a.trim()).filter(Boolean),
  };
  if (model.admin) {
    const name = Object.assign({}, model.partner.name, { ko: $("name-ko").value.trim(), en: $("name-en").value.trim() });
    if (!name.en) delete name.en;
    Object.assign(record, { name, representative: $("representative").value.trim(), address: $("address").value.trim(),
                            attraction_registration_number: $("registration-number").value.trim(),
                            registration_expires_on: $("registration-expires").value });
  }
  return record;
}

// A field's value in one spelling: the JSON mapping leaves out what is
// unset or empty, the form has "" and [].
function canonical(field, value) {
  if (field === "contacts") {
    return JSON.stringify((value || []).map((c) => [c.name || "", c.role || "", c.email || "", c.phone || "",
                                                    (c.languages || []).join(",")]));
  }
  if (field === "name") return JSON.stringify(Object.entries(value || {}).filter(([, t]) => t).sort());
  if (SELF_SERVICE.includes(field)) return JSON.stringify(value || []);
  return JSON.stringify(value || "");
}
const same = (field, a, b) => canonical(field, a) === canonical(field, b);

async function save() {
  const record = formRecord();
  const fields = (model.admin ? REGISTRY_FIELDS.concat(SELF_SERVICE) : SELF_SERVICE)
      .filter((f) => (f !== "departments" || model.departmentsTouched) && !same(f, record[f], model.partner[f]));
  $("problems").hidden = true;
  SMZ.markRefused($("edit"), []);
  if (!fields.length) { $("saved").textContent = w("nothing"); return; }
  const resource = { id: model.partnerId };
  for (const f of fields) resource[f] = record[f];
  $("save").disabled = true;
  try {
    const answer = await SMZ.patch(partnerPath(), resource, fields, model.partner.etag);
    show(answer);
    model.departmentsTouched = false;
    $("saved").textContent = fill(w("saved"), { time: SMZ.seoul(answer.update_time, true) });
    document.body.dataset.saved = answer.etag;
    loadChanges();
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    if (e.code === SMZ.ABORTED) return conflict();
    const unplaced = SMZ.markRefused($("edit"), e.violations, "partner.");
    const box = $("problems");
    box.replaceChildren(el("p", {}, e.violations.length ? w("problems") : e.message),
                        ...(unplaced.length ? [el("ul", {}, ...unplaced.map((v) => el("li", {}, v.field + ": " + v.description)))] : []));
    box.hidden = false;
    const first = $("edit").querySelector("[aria-invalid] input, input[aria-invalid], textarea[aria-invalid]") || box;
    first.focus?.();
  } finally {
    $("save").disabled = false;
  }
}

// A stale etag: who changed what since this page read the record; the
// person's entries stay in the form until they choose to load the new one.
async function conflict() {
  try {
    const fresh = await SMZ.get(partnerPath());
    const changed = SELF_SERVICE.concat(REGISTRY_FIELDS).filter((f) => !same(f, fresh[f], model.partner[f]));
    const last = (await allChanges().catch(() => [])).slice(-1)[0] || {};
    const reload = el("button", { type: "button", id: "reload" }, w("reload"));
    reload.addEventListener("click", () => {
      show(fresh);
      model.departmentsTouched = false;
      $("conflict").hidden = true;
      $("saved").textContent = "";
    });
    $("conflict").replaceChildren(
        el("p", { "data-changed": changed.join(" ") },
           fill(w("conflict"), { who: last.actor || "?", time: SMZ.seoul(last.time, true), fields: changed.join(", ") || "-" })),
        reload);
    $("conflict").hidden = false;
    reload.focus();
  } catch (e) {
    $("failure").textContent = e.message;
  }
}

function renderDesignations(p) {
  $("term").textContent = p.designation_term_ends_on ? fill(w("term_line"), { date: p.designation_term_ends_on }) : w("no_term");
  const head = el("tr", {}, ...["action", "effective_on", "term_ends_on", "reason", "decision_ref", "recorded_by"].map(
      (k) => el("th", { scope: "col" }, w(k))));
  const rows = (p.designations || []).slice().reverse().map((d) =>
      el("tr", { "data-action": d.action }, el("td", {}, pw(d.action)), el("td", {}, d.effective_on),
         el("td", {}, d.term_ends_on || ""), el("td", {}, d.reason || ""), el("td", {}, d.decision_ref || ""),
         el("td", {}, (d.recorded_by || "") + (d.record_time ? " · " + SMZ.seoul(d.record_time, true) : ""))));
  $("designations").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  const actions = $("lifecycle");
  actions.hidden = !model.admin;
  actions.replaceChildren(...(model.admin ? DECISIONS[p.status] || [] : []).map((verb) => {
    const b = el("button", { type: "button", "data-decision": verb }, w(verb));
    b.addEventListener("click", () => openDecision(verb));
    return b;
  }));
}

// Three years on, the day before: the zone's designations run three years.
function threeYearsOn(date) {
  const d = new Date(date + "T00:00:00Z");
  if (isNaN(d)) return "";
  d.setUTCFullYear(d.getUTCFullYear() + 3);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

function openDecision(verb) {
  const needsTerm = verb === "designate" || verb === "redesignate";
  const effective = el("input", { type: "date", id: "decision-effective", "data-field": "effective_on", value: today(), required: true });
  const term = el("input", { type: "date", id: "decision-term", "data-field": "term_ends_on", value: threeYearsOn(today()) });
  effective.addEventListener("change", () => { if (needsTerm) term.value = threeYearsOn(effective.value); });
  const reason = el("input", { id: "decision-reason", "data-field": "reason", maxlength: 500, size: 40, required: true });
  const ref = el("input", { id: "decision-ref", "data-field": "decision_ref", maxlength: 100 });
  const message = el("div", { class: "error", role: "alert" });
  const confirm = el("button", { type: "submit", class: "primary", id: "decision-confirm" }, w(verb) + " · " + w("confirm"));
  const cancel = el("button", { type: "button" }, w("cancel"));
  const label = (key, input) => el("label", {}, el("span", {}, w(key)), input);
  const form = el("form", { class: "form-row", novalidate: true, "data-decision-form": verb },
                  label("effective_on", effective), needsTerm ? label("term_ends_on", term) : null,
                  label("reason_needed", reason), label("decision_ref", ref), confirm, cancel);
  $("lifecycle-form").replaceChildren(form, message);
  reason.focus();
  cancel.addEventListener("click", () => $("lifecycle-form").replaceChildren());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // Every decision of the district carries its reason, whatever the
    // service would accept without one.
    if (!reason.value.trim()) {
      SMZ.markRefused(form, [{ field: "reason", description: w("reason_needed") }]);
      reason.focus();
      return;
    }
    const body = { effective_on: effective.value, reason: reason.value.trim(), decision_ref: ref.value.trim(),
                   etag: model.partner.etag };
    if (needsTerm) body.term_ends_on = term.value;
    confirm.disabled = true;
    try {
      const answer = await SMZ.post(partnerPath() + ":" + verb, body);
      $("lifecycle-form").replaceChildren();
      show(answer);
      document.body.dataset.decided = verb + ":" + answer.status;
      loadChanges();
    } catch (e) {
      if (e.status === 401) return SMZ.signInAgain();
      if (e.code === SMZ.ABORTED) { $("lifecycle-form").replaceChildren(); return conflict(); }
      SMZ.showRefusal(form, e, message);
    } finally {
      confirm.disabled = false;
    }
  });
}

async function loadGrants() {
  const answer = await SMZ.get(partnerPath() + "/grants", { page_size: 100 });
  const grants = answer.grants || [];
  const head = el("tr", {}, ...["year", "programme", "amount", "purpose"].map((k) => el("th", { scope: "col", class: k === "amount" ? "number" : null }, w(k))));
  const rows = grants.map((g) => el("tr", { "data-grant": g.id }, el("td", {}, String(g.year)), el("td", {}, pw(g.programme)),
                                    el("td", { class: "number" }, SMZ.group(g.amount_krw)), el("td", {}, SMZ.text(g.purpose))));
  const foot = grants.length
      ? el("tfoot", {}, el("tr", {}, el("td", { colspan: 4, "data-total": answer.total_amount_krw || "0" },
                                        fill(w("grants_total"), { amount: SMZ.group(answer.total_amount_krw) }))))
      : el("tfoot", {}, el("tr", {}, el("td", { colspan: 4 }, w("no_grants"))));
  $("grants").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows), foot);
}

async function addGrant() {
  const form = $("grant-form");
  const purpose = { ko: $("grant-purpose-ko").value.trim() };
  if ($("grant-purpose-en").value.trim()) purpose.en = $("grant-purpose-en").value.trim();
  const grant = { partner_id: model.partnerId, year: Number($("grant-year").value) || 0,
                  programme: $("grant-programme").value, amount_krw: $("grant-amount").value.replace(/[,\s]/g, "") || "0",
                  purpose };
  $("grant-problems").textContent = "";
  try {
    await SMZ.post(partnerPath() + "/grants", { grant, request_id: grantKey.idFor(grant) });
    grantKey.settle();
    for (const id of ["grant-amount", "grant-purpose-ko", "grant-purpose-en"]) $(id).value = "";
    SMZ.markRefused(form, []);
    await loadGrants();
    document.body.dataset.granted = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    grantKey.settle(e);
    SMZ.showRefusal(form, e, $("grant-problems"));
  }
}

// The record's changes, oldest first, every page (a record changes a few
// times a year; 50 pages of 100 bound a runaway).
async function allChanges() {
  let token = "";
  let changes = [];
  for (let page = 0; page < 50; ++page) {
    const answer = await SMZ.get(partnerPath() + "/changes", { page_size: 100, page_token: token });
    changes = changes.concat(answer.changes || []);
    token = answer.next_page_token;
    if (!token) break;
  }
  return changes;
}

async function loadChanges() {
  try {
    // The newest twenty.
    const changes = await allChanges();
    const head = el("tr", {}, ...["time", "actor", "change", "fields"].map((k) => el("th", { scope: "col" }, w(k))));
    const rows = changes.slice(-20).reverse().map((c) =>
        el("tr", { "data-change": c.action }, el("td", {}, SMZ.seoul(c.time, true)), el("td", {}, c.actor),
           el("td", {}, w(c.action)), el("td", {}, (c.changed_fields || []).join(", "))));
    $("changes").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = e.message;
  }
}

function show(partner) {
  model.partner = partner;
  renderSummary(partner);
  renderForm(partner);
  renderDesignations(partner);
  SMZ.retitle(SMZ.text(partner.name) + " · " + w("title"));
}

// Another language: the words again, the person's entries kept.
function retranslate() {
  const entries = Object.assign({}, model.partner, formRecord());
  SMZ.translate(w);
  renderSummary(model.partner);
  renderForm(entries);
  renderDesignations(model.partner);
  SMZ.retitle(SMZ.text(model.partner.name) + " · " + w("title"));
  loadGrants().catch(() => null);
  loadChanges();
}

async function load() {
  SMZ.translate(w);
  try {
    show(await SMZ.get(partnerPath()));
    await Promise.all([loadGrants(), loadChanges()]);
    $("failure").textContent = "";
    document.body.dataset.loaded = "yes";
  } catch (e) {
    if (e.status === 401) return SMZ.signInAgain();
    $("failure").textContent = e.message;
    document.body.dataset.loaded = "error";
  }
}

(async () => {
  model.me = await SMZ.start(w("title"), () => (model.partner ? retranslate() : load()));
  model.admin = model.me.role === "ADMIN";
  model.partnerId = SMZ.pagePartner(model.me);
  $("back-to-list").hidden = !model.admin;
  $("grant-form").hidden = !model.admin;
  $("grant-year").value = today().slice(0, 4);
  $("grant-programme").replaceChildren(...["INTERPRETATION_FEE", "INFRASTRUCTURE", "MARKETING"].map(
      (p) => el("option", { value: p }, pw(p))));
  $("add-contact").addEventListener("click", () => {
    const body = $("contacts").tBodies[0];
    body.append(contactRow({}, body.rows.length));
    body.lastElementChild.querySelector("input").focus();
  });
  $("department-boxes").addEventListener("change", () => { model.departmentsTouched = true; });
  $("edit").addEventListener("submit", (event) => { event.preventDefault(); save(); });
  $("grant-form").addEventListener("submit", (event) => { event.preventDefault(); addGrant(); });
  if (!model.partnerId) {
    $("failure").textContent = "?partner=ID";
    return;
  }
  load();
})();
