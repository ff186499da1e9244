/* The bell: an operator who opted in (their profile: <body data-alert-notifications>) gets
   the browser's notification and a short tone for each alert that fires while a page is
   open. The bell's list is rendered once for every viewer and pushed; an alert is new when
   its id was not in the list before. The first list (the page's own) notifies nothing. */
(function () {
  "use strict";

  var seen = null;
  var audio = null;

  function ids() {
    var found = new Set();
    document.querySelectorAll("#alert-list [data-alert-id]").forEach(function (item) {
      found.add(item.dataset.alertId);
    });
    return found;
  }

  /* A tone from the Web Audio API: nothing to download, nothing the CSP must allow. The
     browser lets it sound once the page had a click or a key (autoplay policy). */
  function tone() {
    if (!audio) return;
    if (audio.state === "suspended") audio.resume();
    var oscillator = audio.createOscillator(), gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.6);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.65);
  }

  function notify(item) {
    var summary = item.querySelector("[data-alert-summary]");
    var text = summary ? summary.textContent.trim() : "An alert fired";
    document.dispatchEvent(new CustomEvent("switchboard:alert", { detail: { id: item.dataset.alertId, text: text } }));
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    var link = summary && summary.getAttribute("href");
    var shown = new Notification("Switchboard alert", { body: text, tag: "switchboard-alert-" + item.dataset.alertId });
    shown.onclick = function () {
      window.focus();
      if (link) window.location.href = link;
    };
    tone();
  }

  function check() {
    var now = ids();
    if (seen === null) { seen = now; return; }
    if (document.body.hasAttribute("data-alert-notifications")) {
      document.querySelectorAll("#alert-list [data-alert-id]:not(.acknowledged)").forEach(function (item) {
        if (!seen.has(item.dataset.alertId)) notify(item);
      });
    }
    seen = now;
  }

  function wakeAudio() {
    if (!document.body.hasAttribute("data-alert-notifications") || audio) return;
    var Context = window.AudioContext || window.webkitAudioContext;
    if (Context) audio = new Context();
  }

  document.addEventListener("DOMContentLoaded", check);
  document.addEventListener("htmx:wsAfterMessage", check);
  document.addEventListener("htmx:afterSettle", check);
  document.addEventListener("click", wakeAudio);
  document.addEventListener("keydown", wakeAudio);

  /* The profile's opt-in asks the browser's permission on the click that ticks it. */
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-asks-notification-permission]") && event.target.checked &&
        "Notification" in window && Notification.permission === "default") {
      Notification.requestPermission();
    }
  });

  /* The bell closes when the operator clicks elsewhere. */
  document.addEventListener("click", function (event) {
    var bell = document.getElementById("alert-bell");
    if (bell && bell.open && !bell.contains(event.target)) bell.open = false;
  });
})();
