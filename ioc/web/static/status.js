// Auto-refresh the status page, unless the user is typing (an acknowledgement comment) or the tab is hidden.
(function () {
  "use strict";
  var body = document.body;
  var period = parseInt(body.getAttribute("data-refresh") || "0", 10);
  if (!period) { return; }
  var label = document.getElementById("refresh");
  var left = period;
  function typing() {
    var el = document.activeElement;
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA") && el.value !== "";
  }
  setInterval(function () {
    if (document.visibilityState !== "visible" || typing()) { return; }
    left -= 1;
    if (label) { label.textContent = label.getAttribute("data-label").replace("{s}", String(left)); }
    if (left <= 0) { window.location.reload(); }
  }, 1000);
})();
