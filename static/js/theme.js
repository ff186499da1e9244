/* The operator's chosen theme, set before first paint so that a dark-theme user never sees a
   white flash: loaded in <head> without defer. A file rather than an inline script, which the
   Content-Security-Policy refuses. */
(function () {
  var theme = localStorage.getItem("switchboard-theme");
  if (theme) document.documentElement.dataset.theme = theme;
})();
