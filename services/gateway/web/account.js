// The set-a-password page's script (account.html): one call,
// AccountService.SetPasswordWithLink, under its google.api.http path.
"use strict";
const WORDS = {
  ko: { title: "비밀번호 설정", password: "새 비밀번호", repeat: "새 비밀번호 확인",
        save: "비밀번호 저장", done: "비밀번호를 저장했습니다.", signin: "로그인하기",
        intro: "스마트메디컬특구 계정의 비밀번호를 정하세요. 10자 이상이면 됩니다.",
        mismatch: "두 비밀번호가 다릅니다.", nolink: "링크가 완전하지 않습니다. 받은 링크 전체를 여세요." },
  en: { title: "Set your password", password: "New password", repeat: "Repeat the new password",
        save: "Save the password", done: "Your password is saved.", signin: "Sign in",
        intro: "Choose the password of your Smart Medical Zone account: at least 10 characters.",
        mismatch: "The two passwords differ.", nolink: "The link is incomplete: open the whole link you received." },
};
const token = location.hash.slice(1);
history.replaceState(null, "", location.pathname + location.search);
let lang = new URLSearchParams(location.search).get("lang") || "ko";
const w = (key) => (WORDS[lang] || WORDS.ko)[key];

function translate() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = w(e.dataset.i18n);
  document.title = w("title");
}

const langSelect = document.getElementById("lang");
langSelect.value = lang;
langSelect.onchange = () => { lang = langSelect.value; translate(); };
const error = document.getElementById("password-error");
if (!token.startsWith("smzl_")) error.textContent = w("nolink");

document.getElementById("password-form").onsubmit = async (event) => {
  event.preventDefault();
  const password = document.getElementById("new-password").value;
  if (password !== document.getElementById("repeat-password").value) {
    error.textContent = w("mismatch");
    return;
  }
  error.textContent = "";
  const response = await fetch("/v1/accountLinks:setPassword", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token, new_password: password }),
  });
  const body = await response.json();
  if (!response.ok) {
    const violations = (body.details || []).flatMap((d) => d.field_violations || []);
    error.textContent = violations.length
      ? violations.map((v) => v.description).join(" ") : body.message;
    return;
  }
  document.getElementById("set-password").hidden = true;
  document.getElementById("password-done").hidden = false;
  document.body.dataset.done = "yes";
};
translate();
