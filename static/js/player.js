/* The recording player: an <audio> element fed by the console's media URL (which honours
   Range, so seeking fetches only what it needs), the waveform the server computed drawn on a
   canvas with the playback position, click or arrow keys to seek, speed, and keyboard
   play/pause. The peaks arrive in #waveform-peaks, re-read when the page's live region is
   refreshed (the waveform may be computed after the page loaded). */
(function () {
  "use strict";

  var SKIP_SECONDS = 5;

  /* switchboard.js, loaded first, formats durations as every page does. */
  function clock(seconds) { return window.Switchboard.clock(seconds || 0); }

  function setUp(player) {
    var audio = player.querySelector("audio");
    var canvas = player.querySelector("[data-player=waveform]");
    var toggle = player.querySelector("[data-player=toggle]");
    var position = player.querySelector("[data-player=position]");
    var length = player.querySelector("[data-player=length]");
    var note = player.querySelector("[data-player=note]");
    var peaks = null;
    var frame = 0;

    function duration() {
      if (isFinite(audio.duration) && audio.duration > 0) return audio.duration;
      return Number(player.dataset.duration) || 0;
    }

    function style(name) {
      return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    }

    function draw() {
      var ratio = window.devicePixelRatio || 1;
      var width = canvas.clientWidth, height = canvas.clientHeight;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      var context = canvas.getContext("2d");
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.clearRect(0, 0, width, height);
      var total = duration();
      var played = total ? Math.min(1, audio.currentTime / total) : 0;
      canvas.setAttribute("aria-valuenow", String(Math.round(played * 100)));
      canvas.setAttribute("aria-valuetext", clock(audio.currentTime) + " of " + clock(total));
      var middle = height / 2;
      if (!peaks || !peaks.length) {
        context.fillStyle = style("--border");
        context.fillRect(0, middle - 1, width, 2);
      } else {
        /* Scaled to the loudest peak, so that a quiet line still shows its shape. */
        var loudest = Math.max.apply(null, peaks) || 1;
        var step = width / peaks.length;
        var bar = Math.max(1, step * 0.7);
        var accent = style("--accent"), rest = style("--muted");
        peaks.forEach(function (peak, index) {
          var x = index * step;
          var half = Math.max(1, (peak / loudest) * (middle - 2));
          context.fillStyle = (x + bar / 2) / width <= played ? accent : rest;
          context.fillRect(x, middle - half, bar, half * 2);
        });
      }
      context.fillStyle = style("--accent");
      context.fillRect(Math.min(width - 2, played * width), 0, 2, height);
      position.textContent = clock(audio.currentTime);
      if (total) length.textContent = clock(total);
    }

    function animate() {
      draw();
      frame = audio.paused ? 0 : requestAnimationFrame(animate);
    }

    function readPeaks() {
      var data = document.getElementById("waveform-peaks");
      peaks = data ? JSON.parse(data.textContent) : null;
      if (peaks === null) note.textContent = "Computing the waveform…";
      else if (!peaks.length) note.textContent = "No waveform for this recording's format.";
      else if (note.dataset.kind !== "error") note.textContent = "";
      var state = document.querySelector(".recording-state");
      var playable = !state || state.dataset.playable !== "false";
      player.classList.toggle("unplayable", !playable);
      player.querySelectorAll("button, select").forEach(function (control) { control.disabled = !playable; });
      var download = player.querySelector("[data-download]");
      if (download) download.hidden = !playable;
      if (!playable) {
        audio.pause();
        note.textContent = "This recording can no longer be played.";
      }
      draw();
    }

    function seek(seconds) {
      var total = duration();
      audio.currentTime = Math.max(0, total ? Math.min(total, seconds) : seconds);
      draw();
    }

    function play() {
      var started = audio.play();
      if (started && started.catch) started.catch(function () {});
    }

    toggle.addEventListener("click", function () {
      if (audio.paused) play(); else audio.pause();
    });
    player.querySelector("[data-player=back]").addEventListener("click", function () { seek(audio.currentTime - SKIP_SECONDS); });
    player.querySelector("[data-player=forward]").addEventListener("click", function () { seek(audio.currentTime + SKIP_SECONDS); });
    player.querySelector("[data-player=speed]").addEventListener("change", function (event) {
      audio.playbackRate = Number(event.target.value);
    });
    canvas.addEventListener("click", function (event) {
      if (player.classList.contains("unplayable")) return;
      var box = canvas.getBoundingClientRect();
      seek(((event.clientX - box.left) / box.width) * duration());
      if (audio.paused) play();
    });
    canvas.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") seek(audio.currentTime - SKIP_SECONDS);
      else if (event.key === "ArrowRight") seek(audio.currentTime + SKIP_SECONDS);
      else return;
      event.preventDefault();
      event.stopPropagation();
    });
    audio.addEventListener("play", function () {
      toggle.textContent = "❚❚";
      toggle.setAttribute("aria-label", "Pause");
      if (!frame) animate();
    });
    audio.addEventListener("pause", function () {
      toggle.textContent = "▶";
      toggle.setAttribute("aria-label", "Play");
      draw();
    });
    ["loadedmetadata", "seeked", "timeupdate", "ended"].forEach(function (name) { audio.addEventListener(name, draw); });
    audio.addEventListener("error", function () {
      /* The server says why in words (deleted, gone from Bandwidth, Bandwidth unreachable). */
      note.dataset.kind = "error";
      note.textContent = "The recording could not be played.";
      fetch(player.dataset.media, { headers: { Range: "bytes=0-0" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? null : response.text(); })
        .then(function (reason) { if (reason) note.textContent = "The recording could not be played: " + reason; })
        .catch(function () {});
    });

    /* Space plays and pauses, unless the operator is typing or on a control. */
    document.addEventListener("keydown", function (event) {
      if (event.key !== " " || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.target.closest("input, select, textarea, button, a, [contenteditable]") || document.querySelector("dialog[open]")) return;
      event.preventDefault();
      toggle.click();
    });
    document.addEventListener("htmx:afterSettle", readPeaks);
    window.addEventListener("resize", draw);
    readPeaks();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var player = document.getElementById("player");
    if (player) setUp(player);
  });
})();
