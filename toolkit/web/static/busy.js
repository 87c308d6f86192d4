// The page's action buttons are disabled while a request runs and, after it, while a job it started
// (a `.job` fragment polling for its result) is still running: a second click would start another run
// and replace the first one's result on screen.
(function () {
  function settle() {
    const busy = document.querySelector("main .job") !== null;
    document.querySelectorAll("main button").forEach(function (b) { b.disabled = busy; });
  }
  document.addEventListener("htmx:beforeRequest", function () {
    document.querySelectorAll("main button").forEach(function (b) { b.disabled = true; });
  });
  ["htmx:afterSettle", "htmx:sendError", "htmx:timeout", "htmx:swapError"].forEach(function (name) {
    document.addEventListener(name, settle);
  });
})();
