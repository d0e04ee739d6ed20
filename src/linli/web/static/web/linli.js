/* Linli web: a few lines of vanilla JS, no build step.
   - [data-geo=formId]: fill that form's lat/lng from browser geolocation (then submit it,
     unless data-geo-nosubmit). The manual fields keep working without it.
   - [data-live-src]: listen to a Server-Sent Events stream; on each event re-read
     [data-live-part] and swap it in, so the page updates without a reload.
   - [data-live-alert=status]: beep (WebAudio) and show a desktop notification when an
     event with that status arrives (the merchant console's new paid orders).
   - form[data-once]: disable the submit button after the first submit. */
(function () {
  "use strict";

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-geo]");
    if (!button || !navigator.geolocation) return;
    var form = document.getElementById(button.getAttribute("data-geo"));
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lng.value = pos.coords.longitude.toFixed(6);
      if (!button.hasAttribute("data-geo-nosubmit")) form.requestSubmit ? form.requestSubmit() : form.submit();
    }, function () { button.disabled = true; }, { enableHighAccuracy: true, timeout: 10000 });
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent) { e.preventDefault(); return; }
    form.dataset.sent = "1";
    var button = form.querySelector("[type=submit]");
    if (button) setTimeout(function () { button.disabled = true; }, 0);
  });

  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
    if (e.target.name === "fulfilment") togglePickup(e.target.form);
  });
  function togglePickup(form) {
    var pickup = form.querySelector("input[name=fulfilment][value=pickup]");
    var block = form.querySelector("[data-when=delivery]");
    if (pickup && block) block.hidden = pickup.checked;
  }
  document.querySelectorAll("form").forEach(togglePickup);

  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.25].forEach(function (at) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = 880; gain.gain.value = 0.15;
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + at); osc.stop(audio.currentTime + at + 0.15);
      });
    } catch (err) { /* no audio: the list still updates */ }
  }
  function notify(text) {
    if (window.Notification && Notification.permission === "granted") new Notification(text);
  }
  document.querySelectorAll("[data-notify-permission]").forEach(function (button) {
    button.addEventListener("click", function () {
      beep();  // a user gesture unlocks audio for later beeps
      if (window.Notification && Notification.permission === "default") Notification.requestPermission();
    });
  });

  document.querySelectorAll("[data-live-src]").forEach(function (box) {
    var state = document.querySelector("[data-live-state]");
    var alertOn = box.getAttribute("data-live-alert");
    var refreshing = false, again = false;
    function refresh() {
      if (refreshing) { again = true; return; }
      refreshing = true;
      fetch(box.getAttribute("data-live-part"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var known = {};
          box.querySelectorAll("[data-order]").forEach(function (el) { known[el.dataset.order] = true; });
          box.innerHTML = html;
          box.querySelectorAll("[data-order]").forEach(function (el) {
            if (!known[el.dataset.order]) el.classList.add("is-new");  // flash what just arrived
          });
        })
        .catch(function () {})
        .finally(function () { refreshing = false; if (again) { again = false; refresh(); } });
    }
    var source = new EventSource(box.getAttribute("data-live-src"));
    var opened = false;
    source.onopen = function () {
      if (state) state.textContent = "● live";
      box.setAttribute("data-live", "open");
      if (opened) refresh();  // reconnected: catch up on anything missed
      opened = true;
    };
    source.onerror = function () { if (state) state.textContent = "○ …"; box.setAttribute("data-live", "retrying"); };
    source.addEventListener("order", function (e) {
      var event = JSON.parse(e.data);
      refresh();
      if (alertOn && event.status === alertOn) {
        beep();
        notify((box.getAttribute("data-alert-text") || "New order") + " ¥" + (event.total_fen / 100).toFixed(2));
      }
    });
  });
})();
