/* Moved out of web/consumer/member_code.html so the pages' CSP can forbid inline scripts. */
/* Poll every 3 s: the server answers 204 while the shown code is current, else the new
   code (a new 30-second step, or the code was just used at a counter). */
(function () {
  var box = document.querySelector("[data-member-code-box]");
  function shown() { var el = box.querySelector("[data-member-code]"); return el ? el.getAttribute("data-member-code") : ""; }
  function poll() {
    fetch("/me/member-code?part=code&shown=" + encodeURIComponent(shown()), {credentials: "same-origin"})
      .then(function (r) { if (r.status === 200) return r.text().then(function (html) { box.innerHTML = html; }); })
      .catch(function () {})
      .then(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 3000);
})();
