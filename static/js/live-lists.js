/* Rows pushed for the lists other than the calls board (conferences, a conference's
   members): a row whose id is not on the page yet is a new one, inserted into the list its
   data-list names, in data-start order. The calls board's own rows are switchboard.js's. */
(function () {
  "use strict";

  document.addEventListener("htmx:oobErrorNoTarget", function (event) {
    var row = event.detail && event.detail.content;
    if (!row || !row.dataset || !row.dataset.list || row.classList.contains("leaving")) return;
    var body = document.getElementById(row.dataset.list);
    if (!body) return;
    var before = null;
    body.querySelectorAll("tr[data-list]").forEach(function (other) {
      if (!before && other.dataset.start > row.dataset.start) before = other;
    });
    body.insertBefore(row, before);
    htmx.process(row);
  });
})();
