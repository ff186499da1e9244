/* Switchboard's small browser side: ticking timers, the live indicator, resync after a
   reconnect, rows that arrive or leave over the websocket, and the theme toggle.
   Everything else is server-rendered HTML swapped in by htmx. */
(function () {
  "use strict";

  var LEAVE_AFTER_MS = 4000;
  var everOpened = false;

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  /* Durations tick in the browser from the server-sent start time: no per-second pushes. */
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.since);
      if (isNaN(since)) return;
      var until = el.dataset.until ? Date.parse(el.dataset.until) : now;
      el.textContent = clock((until - since) / 1000);
    });
    document.querySelectorAll("tr.leaving").forEach(function (row) {
      if (!row.dataset.leaveAt) row.dataset.leaveAt = String(now + LEAVE_AFTER_MS);
      else if (now >= Number(row.dataset.leaveAt)) row.remove();
    });
    var count = document.getElementById("call-count");
    if (count) {
      var n = document.querySelectorAll("#call-rows tr.call-row:not(.leaving)").length;
      count.textContent = n === 1 ? "1 live call" : n + " live calls";
    }
  }

  /* A pushed row whose id is not on the page is a new call: insert it in start-time order.
     An ended call the page never showed is ignored. */
  function insertRow(row) {
    var body = document.getElementById("call-rows");
    if (!body || !row.matches("tr.call-row") || row.classList.contains("leaving")) return;
    var before = null;
    body.querySelectorAll("tr.call-row").forEach(function (other) {
      if (!before && other.dataset.start > row.dataset.start) before = other;
    });
    body.insertBefore(row, before);
    htmx.process(row);
  }

  function setLive(state, label) {
    var indicator = document.getElementById("live-indicator");
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.querySelector(".label").textContent = label;
  }

  /* After a reconnect the page may have missed pushes: re-read every live region. */
  function resync() {
    document.querySelectorAll("[data-resync]").forEach(function (el) { htmx.trigger(el, "resync"); });
  }

  /* A refused handshake (signed out in another tab, session expired) looks like a network
     error; ask the server whether we are still signed in. */
  function checkSession() {
    fetch(window.location.href, { method: "HEAD", redirect: "manual", credentials: "same-origin" })
      .then(function (response) { if (response.type === "opaqueredirect") window.location.reload(); })
      .catch(function () {});
  }

  document.addEventListener("htmx:wsConnecting", function () { setLive("connecting", "Connecting…"); });
  document.addEventListener("htmx:wsOpen", function () {
    setLive("live", "Live");
    if (everOpened) resync();
    everOpened = true;
  });
  document.addEventListener("htmx:wsClose", function (event) {
    setLive("offline", "Offline — reconnecting");
    var code = event.detail && event.detail.event ? event.detail.event.code : 0;
    checkSession();
    /* htmx reconnects by itself only after abnormal closures; a server that restarted or
       went away cleanly must be reconnected too. */
    if ([1006, 1011, 1012, 1013].indexOf(code) < 0 && event.detail && event.detail.socketWrapper) {
      setTimeout(function () { event.detail.socketWrapper.reconnect(); }, 1000 + Math.random() * 2000);
    }
  });
  document.addEventListener("htmx:oobErrorNoTarget", function (event) {
    if (event.detail && event.detail.content) insertRow(event.detail.content);
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    var root = document.documentElement;
    var dark = root.dataset.theme ? root.dataset.theme === "dark"
      : window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("switchboard-theme", root.dataset.theme);
  });

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
})();
