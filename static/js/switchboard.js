/* Switchboard's small browser side: ticking timers, the live indicator, resync after a
   reconnect, rows that arrive or leave over the websocket, confirmations, keyboard
   shortcuts and the theme toggle. Everything else is server-rendered HTML swapped in by htmx. */
(function () {
  "use strict";

  var LEAVE_AFTER_MS = 4000;
  /* Times are shown in the operator's own time zone: tell the server which one it is. */
  (function rememberTimeZone() {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || document.cookie.indexOf("tz=" + zone) >= 0) return;
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  })();

  /* Pushed rows are rendered once for every viewer, so their times are written in the
     browser, in its own zone: <time datetime="…" data-local="time">. In the server's
     formats (H:i:s; Y-m-d H:i or Y-m-d H:i:s), so that a time reads the same before and after. */
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localTimes(root) {
    (root || document).querySelectorAll("time[data-local]:not([data-formatted])").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      /* To the second, unless the server wrote a date and time to the minute. */
      var time = pad(when.getHours()) + ":" + pad(when.getMinutes());
      if (el.dataset.local !== "datetime" || /\d:\d\d:\d\d/.test(el.textContent)) time += ":" + pad(when.getSeconds());
      el.textContent = el.dataset.local === "datetime"
        ? when.getFullYear() + "-" + pad(when.getMonth() + 1) + "-" + pad(when.getDate()) + " " + time
        : time;
      el.dataset.formatted = "";
    });
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }
  /* For the page scripts that come after this one (player.js). */
  window.Switchboard = { clock: clock };

  /* Durations tick in the browser from the server-sent start time: no per-second pushes.
     The board shows a window of rows, so a tick touches at most that many. A row turns
     "long" and "stuck" at the moments the server wrote on it (data-long-at, data-stuck-at):
     the rule is the server's, the browser only watches the clock. */
  function moment(el, name) {
    var cache = "_" + name;
    if (el[cache] === undefined) el[cache] = Date.parse(el.dataset[name]);
    return el[cache];
  }
  function tick() {
    var now = Date.now();
    localTimes();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var since = moment(el, "since");
      if (isNaN(since)) return;
      var until = el.dataset.until ? moment(el, "until") : now;
      var text = clock((until - since) / 1000);
      if (el.textContent !== text) el.textContent = text;
    });
    document.querySelectorAll("tr[data-stuck-at]:not(.leaving)").forEach(function (row) {
      var stuck = now >= moment(row, "stuckAt");
      row.classList.toggle("is-stuck", stuck);
      row.classList.toggle("is-long", !stuck && now >= moment(row, "longAt"));
    });
    /* A conference close to Bandwidth's 24-hour limit is flagged as the clock passes. */
    document.querySelectorAll("[data-warn-at]").forEach(function (el) {
      el.classList.toggle("is-warning", now >= moment(el, "warnAt"));
    });
    document.querySelectorAll("tr.leaving").forEach(function (row) {
      if (!row.dataset.leaveAt) row.dataset.leaveAt = String(now + LEAVE_AFTER_MS);
      else if (now >= Number(row.dataset.leaveAt)) row.remove();
    });
  }

  /* A pushed row whose id is not on the page is a new one (a call, a conference, a member):
     it goes into the list its data-list names, after the row its data-after names (the
     board's window, in the view's order), or else in data-start order. A row that is
     already leaving (an ended call the page never showed) is ignored. */
  function insertRow(row) {
    if (!row.dataset || !row.dataset.list || row.classList.contains("leaving")) return;
    var body = document.getElementById(row.dataset.list);
    if (!body) return;
    if (row.dataset.after !== undefined) {
      place(row, body);
    } else {
      var before = null;
      body.querySelectorAll("tr[data-list]").forEach(function (other) {
        if (!before && other.dataset.start > row.dataset.start) before = other;
      });
      body.insertBefore(row, before);
    }
    htmx.process(row);
    localTimes(row);
    row.classList.add("arrived");
    setTimeout(function () { row.classList.remove("arrived"); }, 1500);
  }
  /* Puts a row of the board's window right after the row it follows (first if none). */
  function place(row, body) {
    var after = row.dataset.after ? document.getElementById(row.dataset.after) : null;
    if (after && after.parentNode === body) {
      if (after.nextElementSibling !== row) body.insertBefore(row, after.nextElementSibling);
    } else if (!row.dataset.after) {
      var first = body.querySelector("tr[data-list]");
      if (first !== row) body.insertBefore(row, first);
    } else if (!row.parentNode) {
      body.appendChild(row);
    }
    delete row.dataset.after;
  }

  function setLive(state, label) {
    var indicator = document.getElementById("live-indicator");
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.querySelector(".label").textContent = label;
  }

  /* Re-read a live region from the server (its hx-get, triggered by "resync"), at most once
     per 250 ms however many pushes ask for it. */
  var pending = new Map();
  function resync(el) {
    if (pending.has(el)) return;
    pending.set(el, setTimeout(function again() {
      /* Not under an open dialog: its confirmation would act on a row swapped out from
         under it, and htmx drops a request from an element no longer on the page. */
      if (document.querySelector("dialog[open]")) {
        pending.set(el, setTimeout(again, 250));
        return;
      }
      pending.delete(el);
      htmx.trigger(el, "resync");
    }, 250));
  }
  function resyncAll() { document.querySelectorAll("[data-resync]").forEach(resync); }

  /* A refused handshake (signed out in another tab, session expired) looks like a network
     error; ask the server whether we are still signed in. */
  function checkSession() {
    fetch(window.location.href, { method: "HEAD", redirect: "manual", credentials: "same-origin" })
      .then(function (response) { if (response.type === "opaqueredirect") window.location.reload(); })
      .catch(function () {});
  }

  /* Each socket numbers its frames (<!--seq N-->): a number skipped means frames were
     lost, or the server could not send what changed; the page re-reads itself. */
  var expected = new WeakMap();
  /* A page may follow several streams (the board's calls and conferences, every page's
     alert bell): it is live once every one of its sockets is open. */
  var open = new Set();
  document.addEventListener("htmx:wsConnecting", function () { setLive("connecting", "Connecting…"); });
  document.addEventListener("htmx:wsOpen", function (event) {
    open.add(event.target);
    if (open.size >= document.querySelectorAll("[ws-connect]").length) setLive("live", "Live");
    expected.set(event.target, 1);
    /* Pushes sent before this socket opened (between the page's render and now, or while
       it was reconnecting) never reached the page: re-read every live region. */
    resyncAll();
  });
  document.addEventListener("htmx:wsClose", function (event) {
    open.delete(event.target);
    setLive("offline", "Offline — reconnecting");
    var code = event.detail && event.detail.event ? event.detail.event.code : 0;
    checkSession();
    /* htmx reconnects by itself only after abnormal closures; a server that restarted or
       went away cleanly must be reconnected too. */
    if ([1006, 1011, 1012, 1013].indexOf(code) < 0 && event.detail && event.detail.socketWrapper) {
      setTimeout(function () { event.detail.socketWrapper.reconnect(); }, 1000 + Math.random() * 2000);
    }
  });
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var message = event.detail.message;
    var seq = /^<!--seq (\d+)-->/.exec(message);
    if (seq) {
      var number = Number(seq[1]);
      if (number !== expected.get(event.target)) resyncAll();
      expected.set(event.target, number + 1);
    }
    /* Regions that show one object re-read themselves when a push names it. */
    document.querySelectorAll("[data-refresh-on]").forEach(function (el) {
      if (message.indexOf('id="' + el.dataset.refreshOn + '"') >= 0) resync(el);
    });
  });
  /* Pushes and the page's own requests may arrive in either order: of two versions of an
     element, the one that read its data later (data-stamp) wins. */
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var shown = event.detail.target, pushed = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (shown && pushed && shown.dataset && shown.dataset.stamp && pushed.dataset && pushed.dataset.stamp &&
        Number(shown.dataset.stamp) > Number(pushed.dataset.stamp)) {
      event.detail.shouldSwap = false;
    }
  });
  /* Talkers first (a conference's members, ?talkers=first): the members speaking now move
     to the top, the others keep their order. Rows are moved, not rebuilt: the selection and
     the buttons stay as they are. */
  function talkersFirst() {
    var table = document.querySelector("table[data-talkers-first]");
    var body = table && table.tBodies[0];
    if (!body) return;
    var members = Array.prototype.slice.call(body.querySelectorAll("tr.member-row"));
    var speaking = members.filter(function (row) { return row.querySelector('[data-talking="speaking"]'); });
    var wanted = speaking.concat(members.filter(function (row) { return speaking.indexOf(row) < 0; }));
    var changed = wanted.some(function (row, index) { return members[index] !== row; });
    if (changed) wanted.forEach(function (row) { body.appendChild(row); });
  }
  /* The board's figures follow the pushes, read at most once per FIGURES_EVERY and always
     after the last change. (htmx's own throttle lived on the figures' element, which each
     answer replaces: every frame asked for them, one request per frame and browser.) */
  var FIGURES_EVERY = 10000;
  var figuresRead = 0, figuresDue = null;
  function refreshFigures() {
    if (figuresDue !== null) return;
    figuresDue = setTimeout(function () {
      figuresDue = null;
      figuresRead = Date.now();
      htmx.trigger(document.body, "refresh-figures");
    }, Math.max(0, figuresRead + FIGURES_EVERY - Date.now()));
  }
  document.addEventListener("htmx:wsAfterMessage", function () {
    document.querySelectorAll("tr[data-after]").forEach(function (row) { place(row, row.parentNode); });
    talkersFirst();
    reselect();
    localTimes();
    refreshFigures();
  });
  /* Filters in the URL: only the ones set, so a bookmarked view reads cleanly. */
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.closest || !event.detail.elt.closest("form.filters")) return;
    var params = event.detail.parameters;
    Object.keys(params).forEach(function (key) { if (params[key] === "") delete params[key]; });
  });
  /* htmx swaps no error answer; the console's error message for an htmx request names its
     own place (HX-Retarget: #flash, console/views/errors.py): show it there. It stops at
     the body, before django-htmx's debugging handler (DEBUG only) on the document, which
     would put it in place of the whole page. */
  function isFlashedError(xhr) {
    return xhr && xhr.status >= 400 && xhr.getResponseHeader("HX-Retarget") === "#flash";
  }
  document.body.addEventListener("htmx:beforeOnLoad", function (event) {
    if (isFlashedError(event.detail.xhr)) event.stopPropagation();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (isFlashedError(event.detail.xhr)) event.detail.shouldSwap = true;
  });
  /* A pushed frame can replace the element that asked before its answer comes back (Unmute
     all, clicked while Mute all runs and re-renders the summary; the bell's list re-read while
     a new alert is pushed). htmx would handle the answer from that element, now off the page:
     its events reach no listener on the document, and neither its target nor the targets of
     its out-of-band parts are found from there (htmx:targetError, htmx:oobErrorNoTarget). The
     frame that replaced it is newer than the answer, so the answer is dropped, except a
     refusal, which is said in #flash, and a redirect, which htmx follows. */
  function navigates(xhr) {
    return ["HX-Redirect", "HX-Refresh", "HX-Location"].some(function (name) { return xhr.getResponseHeader(name); });
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt, xhr = event.detail.xhr;
    function answered(loaded) {
      if (loaded.detail.xhr !== xhr) return;
      elt.removeEventListener("htmx:beforeOnLoad", answered);
      if (document.body.contains(elt) || navigates(xhr)) return;
      loaded.preventDefault();  /* htmx stops here */
      if (isFlashedError(xhr)) htmx.swap("#flash", xhr.response, {swapStyle: "innerHTML"});
    }
    elt.addEventListener("htmx:beforeOnLoad", answered);
  });
  /* A button with data-pending-label says so the moment its request leaves (Hang up:
     "Hanging up…"), not when the answer or a push comes back: on a busy console the answer
     takes a while, and the operator sees at once that the click counted. A refusal (an
     unsuccessful answer) puts the button back; a success leaves the label until the
     server's version of the row replaces it. */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.dataset || !elt.dataset.pendingLabel) return;
    var label = document.createElement("span");
    label.className = "status status-pending";
    label.setAttribute("role", "status");
    label.dataset.pendingFor = "";
    label.innerHTML = '<span class="spinner" aria-hidden="true"></span>';
    label.appendChild(document.createTextNode(elt.dataset.pendingLabel));
    elt.hidden = true;
    elt.before(label);
  });
  /* An action that got no answer at all (the network, or a console that is down) is said
     too; a re-read (GET) that fails is the live indicator's to show. */
  function unanswered(event) {
    var verb = event.detail.requestConfig && event.detail.requestConfig.verb;
    var message = document.getElementById("flash-unreachable");
    if (verb && verb !== "get" && message) htmx.swap("#flash", message.innerHTML, {swapStyle: "innerHTML"});
  }
  document.addEventListener("htmx:sendError", unanswered);
  document.addEventListener("htmx:timeout", unanswered);
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.dataset || !elt.dataset.pendingLabel || event.detail.successful) return;
    var label = elt.previousElementSibling;
    if (label && label.dataset.pendingFor !== undefined) label.remove();
    elt.hidden = false;
  });
  /* A pushed frame is read before htmx swaps it (base.html's hx-ext="live-frames"): an
     element not on the page is a new row, put in its list, or else something this page
     does not show (a call outside this view, a row already gone), left out. htmx would
     otherwise report each as an error (htmx:oobErrorNoTarget) in the console. */
  htmx.defineExtension("live-frames", {
    transformResponse: function (text, xhr) {
      if (xhr) return text;  /* the page's own requests; the ws extension passes none */
      var frame = document.createElement("template");
      frame.innerHTML = text;
      var absent = Array.prototype.filter.call(frame.content.children, function (el) {
        return !el.id || !document.getElementById(el.id);
      });
      if (!absent.length) return text;
      absent.forEach(function (el) {
        el.remove();
        insertRow(el);
      });
      return frame.innerHTML;
    }
  });

  /* Confirmations in a dialog of ours (keyboard-friendly, styled), not the browser's. */
  document.addEventListener("htmx:confirm", function (event) {
    var question = event.detail.question;
    if (!question) return;
    event.preventDefault();
    var dialog = document.getElementById("confirm-dialog");
    dialog.querySelector("[data-question]").textContent = question;
    dialog.returnValue = "";
    dialog.addEventListener("close", function done() {
      dialog.removeEventListener("close", done);
      if (dialog.returnValue === "confirm") event.detail.issueRequest(true);
    });
    dialog.showModal();
    dialog.querySelector("button[value=confirm]").focus();
  });

  /* A button with data-opens="<dialog id>" loads the dialog's content (hx-get), then opens
     it; a response that triggers "close-dialog" (a form in it succeeded) closes it. */
  document.addEventListener("htmx:afterSwap", function (event) {
    var opener = event.detail.requestConfig && event.detail.requestConfig.elt;
    var id = opener && opener.dataset ? opener.dataset.opens : null;
    var dialog = id && document.getElementById(id);
    if (dialog && !dialog.open) dialog.showModal();
  });
  document.body.addEventListener("close-dialog", function () {
    document.querySelectorAll("dialog[open]").forEach(function (dialog) { dialog.close(); });
  });

  function toggleTheme() {
    var root = document.documentElement;
    var dark = root.dataset.theme ? root.dataset.theme === "dark"
      : window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    localStorage.setItem("switchboard-theme", root.dataset.theme);
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-theme-toggle]")) toggleTheme();
    /* Buttons that show or close a dialog say so in data attributes: the
       Content-Security-Policy refuses inline event handlers. */
    var shows = event.target.closest("[data-show-dialog]");
    var shown = shows && document.getElementById(shows.dataset.showDialog);
    if (shown && !shown.open) shown.showModal();
    var dismiss = event.target.closest("[data-dismiss-flash]");
    if (dismiss) dismiss.closest(".flash-message").remove();
    var closes = event.target.closest("[data-close-dialog]");
    if (closes && closes.closest("dialog")) closes.closest("dialog").close();
  });

  /* Keyboard: move through rows, act on the selected one, search, help. */
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.call-row:not(.leaving), tr.member-row:not(.leaving), tr.history-row"));
  }
  /* The selection is kept by id: a pushed row replaces the element, not the selection. */
  var selectedId = null;
  function selected() { return selectedId ? document.getElementById(selectedId) : null; }
  function select(row) {
    var current = selected();
    if (current) current.classList.remove("selected");
    selectedId = row ? row.id : null;
    if (!row) return;
    row.classList.add("selected");
    row.scrollIntoView({ block: "nearest" });
  }
  function reselect() {
    var row = selected();
    if (row) row.classList.add("selected");
  }
  document.addEventListener("htmx:afterSettle", function () { reselect(); localTimes(); talkersFirst(); });
  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(selected());
    select(list[Math.min(list.length - 1, Math.max(0, index < 0 ? 0 : index + step))]);
  }
  function press(selector) {
    var row = selected();
    var button = row && row.querySelector(selector);
    if (button && !button.disabled) button.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var typing = event.target.closest("input, select, textarea, [contenteditable]");
    if (document.querySelector("dialog[open]")) return;
    if (typing) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    switch (event.key) {
      case "j": case "ArrowDown": move(1); break;
      case "k": case "ArrowUp": move(-1); break;
      case "Enter": {
        var row = selected();
        if (row && row.dataset.href) window.location.href = row.dataset.href;
        else return;
        break;
      }
      case "h": press("[data-shortcut-hangup]"); break;
      case "m": press("[data-shortcut-mute]"); break;
      case "o": press("[data-shortcut-hold]"); break;
      case "/": {
        var search = document.querySelector("[data-shortcut-search]");
        if (!search) return;
        search.focus();
        break;
      }
      case "t": toggleTheme(); break;
      case "?": {
        var help = document.getElementById("shortcuts");
        if (!help) return;
        help.showModal();
        break;
      }
      case "Escape": select(null); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    /* Only a page that follows something live says whether it is live. */
    var indicator = document.getElementById("live-indicator");
    if (indicator && document.querySelector("[ws-connect]")) indicator.hidden = false;
    talkersFirst();
    tick();
    setInterval(tick, 1000);
  });
})();
