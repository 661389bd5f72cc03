// Herald console, maintenance screen: the times in the browser's own zone.
// The server shows and takes UTC; this adds the local time next to every
// <time data-local>, and lets the schedule forms take times in the
// browser's zone (the form posts the zone's name with them). Without
// scripts everything works in UTC.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  var fmt = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  document.querySelectorAll("time[data-local]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (isNaN(d) || zone === "UTC") { return; }
    var s = document.createElement("span");
    s.className = "local-time";
    s.textContent = " (your time: " + fmt.format(d) + ")";
    t.after(s);
  });
  if (zone === "UTC") { return; }

  function pad(n) { return String(n).padStart(2, "0"); }
  function localValue(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  // A datetime-local value read as UTC or as the browser's time.
  function parse(v, inUTC) { return new Date(inUTC ? v + ":00Z" : v); }

  document.querySelectorAll("select[data-zone]").forEach(function (sel) {
    var form = sel.form;
    if (!Array.prototype.some.call(sel.options, function (o) { return o.value === zone; })) {
      var o = document.createElement("option");
      o.value = zone;
      o.textContent = zone + " (your browser)";
      sel.appendChild(o);
    }
    var inputs = form.querySelectorAll("input[type=datetime-local]");
    var hint = form.querySelector("[data-window-hint]");
    var current = sel.value;
    function convert(to) {
      inputs.forEach(function (i) {
        var d = parse(i.value, current === "UTC");
        if (i.value && !isNaN(d)) { i.value = to === "UTC" ? d.toISOString().slice(0, 16) : localValue(d); }
      });
      current = to;
    }
    function explain() {
      if (!hint) { return; }
      var parts = [];
      inputs.forEach(function (i) {
        var d = parse(i.value, current === "UTC");
        if (i.value && !isNaN(d)) {
          parts.push(current === "UTC" ? localValue(d).replace("T", " ") + " your time" : d.toISOString().slice(0, 16).replace("T", " ") + " UTC");
        }
      });
      hint.textContent = parts.length ? "That is " + parts.join(" to ") + "." : "";
    }
    sel.addEventListener("change", function () { convert(sel.value); explain(); });
    inputs.forEach(function (i) { i.addEventListener("input", explain); });
    if (current === "UTC") { sel.value = zone; convert(zone); }
    explain();
  });
})();
