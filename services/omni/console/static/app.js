// Omni Store: the little the pages need beyond htmx (no inline scripts: the CSP forbids them).
(function () {
  "use strict";

  // Scanning into the pickup bay. A keyboard-wedge scanner types a code and Enter, often
  // faster than the answer comes back: each scan is taken from the field at once (the field
  // is free for the next), given its own scan id (a browser retry of it changes nothing),
  // and sent one after another, in order.
  var scans = [];
  var sending = false;
  var made = 0;

  function scanId() {
    made += 1;
    return "console-scan-" + Date.now().toString(36) + "-" + made + "-" +
      Math.random().toString(36).slice(2, 10);
  }

  function sendNext() {
    if (sending || scans.length === 0) { return; }
    sending = true;
    var scan = scans.shift();
    var done = function () { sending = false; sendNext(); };
    htmx.ajax("POST", scan.url, { target: "#task-state", swap: "innerHTML", values: scan.values })
      .then(done, done);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-scan") || !window.htmx) { return; }
    event.preventDefault();
    var field = form.querySelector("input[name=code]");
    var code = field.value.trim();
    field.value = "";
    if (code === "") { return; }
    scans.push({ url: form.getAttribute("action"), values: { code: code, scan_id: scanId() } });
    sendNext();
  }, true);

  // After any swap, the field a person would type into next has the focus.
  document.addEventListener("htmx:afterSettle", function (event) {
    var wanted = event.detail.elt.querySelector("[autofocus]") ||
      document.querySelector("[data-scan] input[name=code]");
    var active = document.activeElement;
    if (wanted && (!active || active === document.body || !document.body.contains(active))) {
      wanted.focus();
    }
  });
})();
