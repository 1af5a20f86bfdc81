// Times are written in UTC; with script they show in the viewer's own zone.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "your time zone";
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  // data-day: a day only (the timeline's ends), its UTC time kept in title.
  var day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d)) { return; }
    if (!el.title) { el.title = el.textContent; }
    el.textContent = (el.hasAttribute("data-day") ? day : fmt).format(d);
  });
  var z = document.getElementById("zone");
  if (z) { z.textContent = zone; }
  document.documentElement.setAttribute("data-local-times", "1");
})();
