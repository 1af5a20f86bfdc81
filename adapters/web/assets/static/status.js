// Times are written in UTC; with script they show in the viewer's own zone.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) { el.title = el.textContent; el.textContent = fmt.format(d); }
  });
  var z = document.getElementById("zone");
  if (z) { z.textContent = zone; }
  document.documentElement.setAttribute("data-local-times", "1");
})();
