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
      .then(function () { logScan(scan.values.code); done(); }, done);
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

  // Each scan's answer stays in a short list, so a refused scan in a quick burst is seen
  // even when the next one's answer replaces the message.
  function logScan(code) {
    var log = document.getElementById("scan-log");
    var said = document.querySelector("#task-state .done, #task-state .refused");
    if (!log || !said) { return; }
    var item = document.createElement("li");
    item.className = said.className;
    item.textContent = code + ": " + said.textContent;
    log.insertBefore(item, log.firstChild);
    while (log.children.length > 5) { log.removeChild(log.lastChild); }
  }

  // A reviewed return is for the quantities reviewed: changing one withdraws the review.
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    var review = form && form.getAttribute("data-review");
    if (review && document.querySelector(review)) { document.querySelector(review).innerHTML = ""; }
  });

  // Times as the person reads them: in the device's own time zone (to the second where steps
  // follow each other closely: class "precise").
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (time) {
      var at = new Date(time.getAttribute("datetime"));
      if (!isNaN(at)) {
        var style = time.classList.contains("precise") ? "medium" : "short";
        time.textContent = at.toLocaleString([], { dateStyle: "medium", timeStyle: style });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });

  // After a swap: local times, and the scan field has the focus when nothing else has it.
  // (htmx itself focuses what new content marks autofocus; focusing again here, later,
  // would take the focus from a person who has moved on to the next field.)
  document.addEventListener("htmx:afterSettle", function (event) {
    localTimes(event.detail.elt);
    var scan = document.querySelector("[data-scan] input[name=code]");
    var active = document.activeElement;
    if (scan && (!active || active === document.body || !document.body.contains(active))) {
      scan.focus();
    }
  });
})();
