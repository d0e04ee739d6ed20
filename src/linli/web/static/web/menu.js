/* Moved out of web/merchant/menu.html so the pages' CSP can forbid inline scripts. */
/* One-tap sold-out: post the row's form with fetch and swap in the row the server answers;
   without fetch (or if it fails) the form posts normally and the page reloads. */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) return;
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-fetch-swap]")) return;
    e.preventDefault();
    var row = form.closest("[data-product]");
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.text().then(function (html) { return { ok: r.ok, html: html }; }); })
      .then(function (res) {
        if (!res.ok) {
          row.querySelector("[data-row-error]").innerHTML = res.html;
          if (button) button.disabled = false;
          return;
        }
        var box = document.createElement("template");
        box.innerHTML = res.html.trim();
        var fresh = box.content.firstElementChild;
        row.replaceWith(fresh);
        var again = fresh.querySelector("[data-fetch-swap] button");
        if (again) again.focus();
      })
      .catch(function () { form.submit(); });
  });
})();
