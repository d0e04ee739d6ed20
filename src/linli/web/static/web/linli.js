/* Linli web: a few lines of vanilla JS, no build step.
   - [data-geo=formId]: fill that form's lat/lng from browser geolocation (then submit it,
     unless data-geo-nosubmit). The manual fields keep working without it.
   - [data-live-src]: listen to a Server-Sent Events stream; on each event re-read
     [data-live-part] and swap it in, so the page updates without a reload.
   - [data-live-alert=status]: beep (WebAudio) and show a desktop notification when an
     event with that status arrives (the merchant console's new paid orders).
   - form[data-once]: disable the submit button after the first submit.
   - form[data-confirm]: ask first (the attribute is the question); [data-print]: print
     the page; select[data-autosubmit]: submit its form on change.
   No page has inline scripts or on* attributes: the CSP forbids them (core/security.py). */
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
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  });

  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-print]")) window.print();
  });

  document.addEventListener("change", function (e) {
    var select = e.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.hasAttribute("data-once")) return;
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
    source.addEventListener("refresh", function () { refresh(); });  // any other live part: re-read it
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

/* == consumer H5: variant/option picker, checkout address choice ==
   - [data-open=dialogId] opens that <dialog> (a bottom sheet); [data-close] closes it;
     dialog[data-open-now] opens on load (the server refused a choice: show why there).
   - dialog[data-picker]: live price (data-base + data-delta of every checked input) and,
     on submit, each fieldset[data-min][data-max] is counted; too few or too many stops
     the submit and shows the fieldset's data-msg. The server checks the same again.
   - checkout: [data-when=delivery|pickup] blocks follow the fulfilment radio;
     [data-when-address=new] follows the address radio; a saved address's data-fee and
     data-total update the delivery fee and total shown. */
(function () {
  "use strict";
  function yuan(fen) { return (fen / 100).toFixed(2); }

  document.addEventListener("click", function (e) {
    var opener = e.target.closest("[data-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open"));
      if (dialog && dialog.showModal) { dialog.showModal(); reprice(dialog); }
      return;
    }
    var closer = e.target.closest("[data-close]");
    if (closer) { var d = closer.closest("dialog"); if (d) d.close(); }
  });
  document.querySelectorAll("dialog[data-open-now]").forEach(function (d) { if (d.showModal) d.showModal(); });

  function reprice(dialog) {
    var total = parseInt(dialog.getAttribute("data-base"), 10) || 0;
    dialog.querySelectorAll("input[data-delta]:checked").forEach(function (input) {
      total += parseInt(input.getAttribute("data-delta"), 10) || 0;
    });
    var out = dialog.querySelector("[data-price]");
    if (out) out.textContent = yuan(total);
  }
  function checkGroups(dialog) {
    var groups = dialog.querySelectorAll("fieldset[data-min]");
    for (var i = 0; i < groups.length; i++) {
      var g = groups[i], n = g.querySelectorAll("input:checked").length;
      if (n < +g.getAttribute("data-min") || n > +g.getAttribute("data-max")) return g;
    }
    return null;
  }
  document.addEventListener("change", function (e) {
    var dialog = e.target.closest && e.target.closest("dialog[data-picker]");
    if (dialog) {
      var group = e.target.closest("fieldset[data-max]");
      // A group that allows one choice behaves like radio buttons.
      if (group && e.target.type === "checkbox" && e.target.checked && group.getAttribute("data-max") === "1") {
        group.querySelectorAll("input:checked").forEach(function (other) { if (other !== e.target) other.checked = false; });
      }
      var error = dialog.querySelector("[data-picker-error]");
      if (error && !checkGroups(dialog)) error.hidden = true;
      reprice(dialog);
    }
    if (e.target.name === "fulfilment" || e.target.name === "address_id") checkoutSync(e.target.form);
  });
  document.addEventListener("submit", function (e) {
    var dialog = e.target.closest && e.target.closest("dialog[data-picker]");
    if (!dialog) return;
    var bad = checkGroups(dialog);
    if (bad) {
      e.preventDefault();
      e.stopImmediatePropagation();
      var error = dialog.querySelector("[data-picker-error]");
      error.textContent = bad.getAttribute("data-msg");
      error.hidden = false;
    }
  }, true);

  function checkoutSync(form) {
    if (!form || form.id !== "checkout") return;
    var pickup = form.querySelector("input[name=fulfilment][value=pickup]");
    var mode = pickup && pickup.checked ? "pickup" : "delivery";
    form.querySelectorAll("[data-when]").forEach(function (block) { block.hidden = block.getAttribute("data-when") !== mode; });
    var chosen = form.querySelector("input[name=address_id]:checked");
    var isNew = !chosen || chosen.value === "new";
    form.querySelectorAll("[data-when-address=new]").forEach(function (block) { block.hidden = !isNew; });
    if (chosen && !isNew && chosen.getAttribute("data-fee")) {
      var fee = form.querySelector("[data-when=delivery] [data-testid=delivery-fee]");
      var total = form.querySelector("[data-when=delivery] [data-testid=total]");
      if (fee) fee.textContent = "¥" + yuan(+chosen.getAttribute("data-fee"));
      if (total) total.textContent = "¥" + yuan(+chosen.getAttribute("data-total"));
    }
  }
  checkoutSync(document.getElementById("checkout"));
})();

/* == fulfilment modes (issue 5): dine-in checkout, "ready for pickup" alert ==
   - checkout: with a dine-in choice, every [data-when] block follows the checked
     fulfilment (delivery, pickup or dine_in) and [data-when-not=mode] hides for it
     (runs after the handlers above, so it has the last word).
   - [data-ready-alert]: appears in the live order status when a pickup order is ready;
     the first time it appears on an open page, show the browser notification (if the
     consumer allowed it with [data-ready-permission]) and beep once. */
(function () {
  "use strict";
  function syncMode(form) {
    if (!form || form.id !== "checkout" || !form.querySelector("input[name=fulfilment][value=dine_in]")) return;
    var checked = form.querySelector("input[name=fulfilment]:checked");
    var mode = checked ? checked.value : "delivery";
    form.querySelectorAll("[data-when]").forEach(function (block) { block.hidden = block.getAttribute("data-when") !== mode; });
    form.querySelectorAll("[data-when-not]").forEach(function (block) { block.hidden = block.getAttribute("data-when-not") === mode; });
  }
  document.addEventListener("change", function (e) {
    if (e.target.name === "fulfilment" || e.target.name === "address_id") syncMode(e.target.form);
  });
  syncMode(document.getElementById("checkout"));

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-ready-permission]");
    if (!button || !window.Notification) return;
    Notification.requestPermission().then(function (answer) {
      button.hidden = answer !== "default";
    });
  });
  var box = document.getElementById("order-status");
  if (!box) return;
  var seen = !!box.querySelector("[data-ready-alert]");  // already ready when the page opened
  new MutationObserver(function () {
    var banner = box.querySelector("[data-ready-alert]");
    if (!banner || seen) return;
    seen = true;
    var text = banner.getAttribute("data-ready-alert");
    if (window.Notification && Notification.permission === "granted") {
      try { new Notification(text); } catch (err) { /* some mobile browsers need a service worker */ }
    }
    if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
  }).observe(box, { childList: true, subtree: true });
})();
