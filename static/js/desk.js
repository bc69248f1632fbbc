/* Fulfillment Desk — keyboard shortcuts and small helpers. No build step.
   Shortcuts never fire while typing in a field. "?" lists them. */
(function () {
  "use strict";
  var pendingG = false;

  function typing(target) {
    var tag = (target && target.tagName) || "";
    return target && (target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT");
  }

  function openPanel(el) {
    if (el.tagName === "DETAILS") {
      el.open = true;
      var field = el.querySelector("input:not([type=hidden]), textarea, select, button[type=submit]");
      if (field) field.focus();
      el.scrollIntoView({ block: "nearest" });
    } else {
      el.click();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      document.querySelectorAll("details[open][data-shortcut]").forEach(function (d) { d.open = false; });
      var help = document.getElementById("shortcut-help");
      if (help && help.open) help.close();
      return;
    }
    if (typing(event.target)) return;
    if (pendingG) {
      pendingG = false;
      var dest = document.querySelector('[data-goto="' + event.key + '"]');
      if (dest) { event.preventDefault(); window.location = dest.getAttribute("href"); }
      return;
    }
    if (event.key === "g") { pendingG = true; setTimeout(function () { pendingG = false; }, 1200); return; }
    if (event.key === "/") {
      var search = document.getElementById("global-search");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key === "?") {
      var dialog = document.getElementById("shortcut-help");
      if (dialog) { event.preventDefault(); dialog.showModal(); }
      return;
    }
    var target = document.querySelector('[data-shortcut="' + event.key + '"]');
    if (target) { event.preventDefault(); openPanel(target); }
  });

  /* Filter forms: submit when a select or checkbox changes. */
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosubmit]");
    if (form && (event.target.tagName !== "INPUT" || event.target.type === "checkbox")) {
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
  });
})();
