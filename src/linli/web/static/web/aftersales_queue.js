/* Moved out of web/aftersales/merchant_queue.html so the pages' CSP can forbid inline scripts. */
(function () {
  // The SLA countdown: the server's seconds left, ticking down each minute in the page.
  var start = Date.now();
  function tick() {
    document.querySelectorAll("[data-sla]").forEach(function (el) {
      var left = parseInt(el.getAttribute("data-sla"), 10) - Math.floor((Date.now() - start) / 1000);
      if (left <= 0) { el.textContent = el.getAttribute("data-overdue-text") || el.textContent; return; }
      var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60);
      el.textContent = el.textContent.replace(/\d+(\D+)\d+/, h + "$1" + m);
    });
  }
  setInterval(tick, 30000);
})();
