// After django-otp-webauthn's script registers a passkey: the first second factor goes on to
// make recovery codes (a form POST, so the codes are made once and shown once); a later one
// goes back to the security page.
document.addEventListener("otp_webauthn.register_complete", () => {
  const next = document.getElementById("sk-after-passkey");
  if (!next) return;
  if (next.tagName === "FORM") next.submit();
  else window.location.assign(next.href);
});
