// The console's own behaviour (no inline scripts: the pages' CSP allows only files from this site).
// A refused form: move the keyboard focus to the list of what to fix, so a screen reader reads it.
// A sent form: its submit button waits, so an impatient second click does not send it again
// (the server records a double submit once anyway: each form carries its own Idempotency-Key).
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) {
        setTimeout(() => { button.disabled = true; }, 0);
      }
    });
  }
});
