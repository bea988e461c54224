// High contrast (eMAG): a switch in the accessibility bar; the choice is kept in localStorage, so it survives
// reloads and applies to every page of the site and to the chat. Loaded in <head> without `defer`, so the class
// is on <html> before the page is painted (no flash of the normal colours).
(function () {
  "use strict";

  var KEY = "assistente-serpro-contraste";
  var root = document.documentElement;

  function stored() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (ignored) { return false; }
  }

  function apply(on) {
    root.classList.toggle("contraste", on);
    var button = document.getElementById("alto-contraste");
    if (button) { button.setAttribute("aria-pressed", on ? "true" : "false"); }
  }

  apply(stored());
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("alto-contraste");
    apply(stored());
    if (!button) { return; }
    button.addEventListener("click", function () {
      var on = !root.classList.contains("contraste");
      try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (ignored) { /* still switched for now */ }
      apply(on);
    });
  });
}());
