/* A conference's listening legs are rendered once for every viewer (live pushes): each
   operator's own controls are shown on their own leg only, and "Listen in" only while they
   have none. The page marks them from <body data-operator>, after every swap. */
(function () {
  "use strict";

  function mark() {
    var me = document.body.dataset.operator;
    document.querySelectorAll(".listener[data-owner]").forEach(function (item) {
      item.classList.toggle("mine", item.dataset.owner === me);
    });
    // "Listen in" (outside the live summary) only while the operator has no leg here.
    document.body.classList.toggle("listening-here", document.querySelector(".listener.mine") !== null);
  }

  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSettle", mark);
  document.addEventListener("htmx:oobAfterSwap", mark);
  document.addEventListener("htmx:wsAfterMessage", mark);
})();
