/* The counter page (/m/pos): cart, barcode scanner, member code, ring up, offline queue.
   The server (linli.pos services) decides every price, stock and payment; this script only
   shows an estimate and keeps sales that could not reach the server.

   Offline contract (docs/pos.md): a sale that fails with a network error is kept in
   localStorage ("linli.pos.queue") with a client-generated id and uploaded to /m/pos/sync
   when the network is back. It leaves the queue only when the server has answered for it
   (accepted, duplicate, conflict or rejected: the server keeps even a refused body), so a
   retry after a timeout sends the same body again and never creates a second sale. */
(function () {
  "use strict";
  var root = document.querySelector("[data-pos]");
  if (!root) return;
  var config = JSON.parse(document.getElementById("pos-config").textContent);
  var csrf = root.getAttribute("data-csrf");
  var QUEUE_KEY = "linli.pos.queue";
  var products = {}, byBarcode = {};
  config.products.forEach(function (p) {
    products[p.id] = p;
    p.barcodes.forEach(function (code) { byBarcode[code] = p.id; });
  });
  var cart = [];  // {product_id, quantity}
  var member = null;  // {member_ticket, phone, tier, points, wallet_fen}
  var offlineCode = "";  // a member code scanned while offline: checked at upload

  function $(sel) { return root.querySelector(sel) || document.querySelector(sel); }
  function msg(key) { var t = document.querySelector('template[data-msg="' + key + '"]'); return t ? t.innerHTML.trim() : key; }
  function yuan(fen) { var s = fen < 0 ? "-" : ""; fen = Math.abs(fen); return s + Math.floor(fen / 100) + "." + String(fen % 100).padStart(2, "0"); }
  function counterId() { return $("[data-counter]").value; }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function showError(where, error) {
    var box = root.querySelector('[data-error="' + where + '"]');
    if (!error) { box.hidden = true; box.textContent = ""; box.removeAttribute("data-code"); return; }
    box.hidden = false;
    box.setAttribute("data-code", error.code);
    box.innerHTML = "";
    var strong = document.createElement("strong"); strong.textContent = error.message;
    var code = document.createElement("code"); code.textContent = error.code;
    box.appendChild(strong); box.appendChild(document.createTextNode(" ")); box.appendChild(code);
  }

  function NetworkError() { this.network = true; }
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                       body: JSON.stringify(body)})
      .catch(function () { throw new NetworkError(); })
      .then(function (r) {
        return r.json().catch(function () { return {code: "http_" + r.status, message: r.statusText}; })
          .then(function (data) { return {ok: r.ok, status: r.status, data: data}; });
      });
  }

  /* --- EAN-13, as linli.pos.ean checks it ---------------------------------------------------- */
  function ean13Valid(code) {
    if (!/^[0-9]{13}$/.test(code)) return false;
    var total = 0;
    for (var i = 0; i < 12; i++) total += Number(code[i]) * (i % 2 ? 3 : 1);
    return (10 - total % 10) % 10 === Number(code[12]);
  }

  /* --- the cart ------------------------------------------------------------------------------ */
  function unitOf(p) {
    var memberPrice = (member || offlineCode) && p.member_price_fen !== null;
    return memberPrice ? p.member_price_fen : p.price_fen;
  }
  function total() { return cart.reduce(function (s, l) { return s + unitOf(products[l.product_id]) * l.quantity; }, 0); }
  function add(productId, delta) {
    var line = cart.find(function (l) { return l.product_id === productId; });
    if (!line) { if (delta <= 0) return; line = {product_id: productId, quantity: 0}; cart.push(line); }
    line.quantity = Math.min(line.quantity + delta, 9999);
    if (line.quantity <= 0) cart.splice(cart.indexOf(line), 1);
    render();
  }
  function render() {
    var list = $("[data-cart]");
    list.innerHTML = "";
    cart.forEach(function (l) {
      var p = products[l.product_id];
      var li = document.createElement("li");
      li.className = "pos-line"; li.setAttribute("data-testid", "cart-line");
      li.innerHTML = '<span class="pos-line-name"></span><span class="qty"><button type="button" class="btn btn-round" data-step="-1" aria-label="-">−</button>' +
        '<output data-testid="qty"></output><button type="button" class="btn btn-round" data-step="1" aria-label="+">+</button></span><span class="pos-line-amount"></span>';
      li.querySelector(".pos-line-name").textContent = p.name + " ¥" + yuan(unitOf(p));
      li.querySelector("output").textContent = l.quantity;
      li.querySelector(".pos-line-amount").textContent = "¥" + yuan(unitOf(p) * l.quantity);
      li.querySelectorAll("[data-step]").forEach(function (b) {
        b.addEventListener("click", function () { add(l.product_id, Number(b.getAttribute("data-step"))); });
      });
      list.appendChild(li);
    });
    $("[data-cart-empty]").hidden = cart.length > 0;
    $("[data-cart-count]").textContent = cart.reduce(function (s, l) { return s + l.quantity; }, 0);
    $("[data-total]").textContent = yuan(total());
  }

  root.querySelectorAll("[data-product]").forEach(function (b) {
    b.addEventListener("click", function () { add(b.getAttribute("data-product"), 1); });
  });

  $("[data-scan-form]").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = e.target.elements.barcode, code = input.value.trim();
    input.value = "";
    if (!code) return;
    if (!ean13Valid(code)) { showError("scan", {code: "invalid_barcode", message: msg("invalid_barcode")}); return; }
    if (!byBarcode[code]) { showError("scan", {code: "unknown_product", message: msg("unknown_product")}); return; }
    showError("scan", null);
    add(byBarcode[code], 1);
    input.focus();
  });

  /* --- the member ---------------------------------------------------------------------------- */
  function showMember() {
    var box = $("[data-member]");
    box.hidden = !member;
    $("[data-member-offline]").hidden = !offlineCode;
    if (member) {
      $("[data-member-phone-shown]").textContent = member.phone || "";
      $("[data-member-tier]").textContent = member.tier;
      $("[data-member-points]").textContent = member.points;
      $("[data-member-wallet]").textContent = yuan(member.wallet_fen);
    }
    render();
  }
  $("[data-member-form]").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = e.target.elements.code, code = input.value.trim();
    if (!code) return;
    post(config.urls.identify, {store_id: config.store_id, code: code, counter_id: counterId()}).then(function (r) {
      if (!r.ok) { showError("member", r.data); return; }
      showError("member", null);
      member = r.data; offlineCode = ""; input.value = "";
      showMember();
    }, function (err) {
      if (!err.network) throw err;
      offlineCode = code; member = null; input.value = "";  // offline: the upload checks it
      showError("member", {code: "network", message: msg("network")});
      showMember();
    });
  });
  $("[data-member-clear]").addEventListener("click", function () { member = null; offlineCode = ""; showMember(); });

  /* --- ringing up ---------------------------------------------------------------------------- */
  function method() { return root.querySelector('input[name="method"]:checked').value; }
  function showReceipt(url, queued) {
    $("[data-receipt-box]").hidden = false;
    $("[data-queued-note]").hidden = !queued;
    var frame = $("[data-receipt]");
    if (url) { frame.hidden = false; frame.src = url; } else { frame.hidden = true; frame.removeAttribute("src"); }
  }
  function resetSale() {
    cart = []; member = null; offlineCode = "";
    $("[data-points]").value = "0"; $("[data-member-phone]").value = "";
    root.querySelector('input[name="method"][value="cash"]').checked = true;
    showMember();
  }

  $("[data-ring-up]").addEventListener("click", function () {
    var button = this;
    showError("sale", null);
    if (!cart.length) { showError("sale", {code: "cart_empty", message: msg("cart_empty")}); return; }
    var sale = {store_id: config.store_id, counter_id: counterId(), client_sale_id: uuid(),
                lines: cart.map(function (l) { return {product_id: l.product_id, quantity: l.quantity}; }),
                payment_method: method(), member_ticket: member ? member.member_ticket : "",
                points_to_redeem: member ? Number($("[data-points]").value || 0) : 0,
                member_phone: member ? "" : $("[data-member-phone]").value.trim()};
    if (!Number.isInteger(sale.points_to_redeem) || sale.points_to_redeem < 0) sale.points_to_redeem = -1;  // the server says why
    var offlineBody = {client_sale_id: sale.client_sale_id, client_created_at: new Date().toISOString(),
                       lines: cart.map(function (l) { return {product_id: l.product_id, quantity: l.quantity, unit_price_fen: unitOf(products[l.product_id])}; }),
                       total_fen: total(), payment_method: "cash"};
    if (offlineCode) offlineBody.member_code = offlineCode;
    if (offlineCode || !navigator.onLine) {
      // Known offline (or a code scanned offline): straight to the queue.
      if (sale.payment_method !== "cash" || sale.points_to_redeem) { showError("sale", {code: "offline_payment_not_allowed", message: msg("offline_wallet")}); return; }
      enqueue(sale.counter_id, offlineBody); resetSale(); showReceipt(null, true); return;
    }
    button.disabled = true;
    post(config.urls.sales, sale).then(function (r) {
      button.disabled = false;
      if (!r.ok) { showError("sale", r.data); return; }
      resetSale();
      if (r.data.status === "awaiting_payment") { showQr(r.data); return; }
      showReceipt(r.data.receipt_url, false);
    }, function (err) {
      button.disabled = false;
      if (!err.network) throw err;
      if (sale.payment_method !== "cash" || sale.points_to_redeem || sale.member_ticket) {
        showError("sale", {code: "offline_payment_not_allowed", message: msg("offline_wallet")});
        return;
      }
      enqueue(sale.counter_id, offlineBody); resetSale(); showReceipt(null, true);
    });
  });

  /* --- gateway QR: the customer scans, the page polls the sale (the server asks the gateway) */
  var qrTimer = null;
  function showQr(sale) {
    var box = $("[data-qr-box]");
    box.hidden = false; box.setAttribute("data-sale", sale.id);
    $("[data-qr]").innerHTML = sale.qr ? sale.qr.svg : "";  // our own SVG (segno)
    $("[data-qr-amount]").textContent = yuan(sale.paid_fen);
    $("[data-qr-state]").textContent = msg("qr_waiting");
    $("[data-qr-cancel]").hidden = false;
    $("[data-qr-cancel]").setAttribute("data-url", sale.cancel_url);
    clearTimeout(qrTimer);
    qrTimer = setTimeout(function () { pollQr(sale.status_url); }, 2000);
  }
  function qrSettled(sale) {
    clearTimeout(qrTimer);
    $("[data-qr-cancel]").hidden = true;
    if (sale.status === "completed") { $("[data-qr-box]").hidden = true; showReceipt(sale.receipt_url, false); return; }
    $("[data-qr]").innerHTML = "";
    $("[data-qr-state]").textContent = msg("qr_voided");
  }
  function pollQr(url) {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (sale) {
        if (sale.status === "awaiting_payment") { qrTimer = setTimeout(function () { pollQr(url); }, 2000); return; }
        qrSettled(sale);
      }, function () { qrTimer = setTimeout(function () { pollQr(url); }, 5000); });  // offline: keep asking
  }
  $("[data-qr-cancel]").addEventListener("click", function () {
    var url = this.getAttribute("data-url");
    post(url, {}).then(function (r) {
      if (!r.ok) { showError("sale", r.data); return; }
      qrSettled(r.data);
    }, function () { showError("sale", {code: "network", message: msg("network")}); });
  });

  $("[data-print]").addEventListener("click", function () {
    var frame = $("[data-receipt]");
    if (frame.src && frame.contentWindow) frame.contentWindow.print(); else window.print();
  });

  /* --- the offline queue --------------------------------------------------------------------- */
  function queue() { try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; } }
  function saveQueue(q) { localStorage.setItem(QUEUE_KEY, JSON.stringify(q)); showQueue(); }
  function enqueue(counter, body) { var q = queue(); q.push({counter_id: counter, body: body}); saveQueue(q); }
  function showQueue() {
    var n = queue().length;
    $("[data-queue-box]").hidden = n === 0;
    $("[data-queue-count]").textContent = n;
    $("[data-online-state]").textContent = navigator.onLine ? msg("online") : msg("offline");
  }
  function showResults(results) {
    var list = $("[data-results]");
    $("[data-results-box]").hidden = false;
    results.forEach(function (res) {
      var li = document.createElement("li");
      li.setAttribute("data-status", res.status); li.setAttribute("data-testid", "sync-result");
      li.textContent = res.client_sale_id.slice(0, 8) + " · " + msg(res.status) +
        (res.reasons && res.reasons.length ? " [" + res.reasons.join(", ") + "]" : "") + (res.sale_id ? " · " + res.sale_id : "");
      list.insertBefore(li, list.firstChild);
    });
  }
  var uploading = false;
  function upload() {
    var q = queue();
    if (uploading || !q.length) { showQueue(); return; }
    uploading = true;
    var counter = q[0].counter_id;
    var batch = q.filter(function (item) { return item.counter_id === counter; }).slice(0, 100);
    post(config.urls.sync, {counter_id: counter, sales: batch.map(function (i) { return i.body; })}).then(function (r) {
      uploading = false;
      if (!r.ok) { showError("sale", r.data); showQueue(); return; }  // e.g. counter retired: keep them
      var answered = {};
      r.data.results.forEach(function (res) { answered[res.client_sale_id] = true; });
      saveQueue(queue().filter(function (item) { return !answered[item.body.client_sale_id]; }));
      showResults(r.data.results);
      if (queue().length) setTimeout(upload, 200);
    }, function () { uploading = false; showQueue(); });  // still offline: keep everything
  }
  $("[data-upload]").addEventListener("click", upload);
  window.addEventListener("online", upload);
  window.addEventListener("offline", showQueue);
  setInterval(function () { if (navigator.onLine) upload(); }, 10000);
  showQueue(); render();
  if (navigator.onLine) upload();
})();
