/* Moved out of web/rider/dashboard.html so the pages' CSP can forbid inline scripts. */
/* Rider page: deadline countdowns that tick every second (against the server's clock),
   the delivery-code keypad, and typed codes kept when the live task list is swapped in. */
(function () {
  "use strict";
  var box = document.getElementById("tasks");
  var skew = Date.parse(box.dataset.now) - Date.now() || 0;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(s) {
    s = Math.abs(s);
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(sec);
  }
  function tick() {
    var now = Date.now() + skew;
    box.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.deadline) - now) / 1000), late = left < 0;
      el.textContent = (late ? el.dataset.late : el.dataset.left).replace("{t}", clock(left));
      el.closest(".deadline").classList.toggle("is-late", late);
      if (el.dataset.kind === "deliver") el.closest(".task-card").classList.toggle("is-late", late);
    });
  }
  setInterval(tick, 1000);

  var typed = {};
  function keep(input) {
    input.value = input.value.replace(/\D/g, "").slice(0, 4);
    typed[input.dataset.task] = input.value;
  }
  box.addEventListener("input", function (e) { if (e.target.name === "code") keep(e.target); });
  box.addEventListener("click", function (e) {
    var key = e.target.closest("[data-key]");
    if (!key) return;
    var input = key.form.elements.code, k = key.dataset.key;
    if (k === "del") input.value = input.value.slice(0, -1);
    else if (k === "clear") input.value = "";
    else input.value += k;
    keep(input);
  });
  new MutationObserver(function () {
    box.querySelectorAll("input[name=code]").forEach(function (input) {
      if (!input.value && typed[input.dataset.task]) input.value = typed[input.dataset.task];
    });
    tick();
  }).observe(box, { childList: true });
})();
