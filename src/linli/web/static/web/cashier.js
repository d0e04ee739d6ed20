/* Moved out of web/consumer/cashier.html so the pages' CSP can forbid inline scripts. */
(function () {
  var el = document.querySelector("[data-countdown]");
  if (!el) return;
  var end = Date.now() + parseInt(el.getAttribute("data-countdown"), 10) * 1000;
  function tick() {
    var left = Math.max(0, Math.round((end - Date.now()) / 1000));
    el.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    if (left === 0) {
      el.parentNode.textContent = el.getAttribute("data-expired-text");
      document.querySelectorAll("[data-testid=cashier-form] button").forEach(function (b) { b.disabled = true; });
      return;
    }
    setTimeout(tick, 1000);
  }
  tick();
})();
