// Keyboard shortcuts, dialogs and bulk selection of the workbench.
// A static file (the pages' CSP forbids inline scripts); seller content never reaches it.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (!dialog) return false;
    if (typeof dialog.showModal === "function" && !dialog.open) dialog.showModal();
    var first = dialog.querySelector("select, textarea, input:not([type=hidden])");
    if (first) first.focus();
    return true;
  }

  function submit(id) {
    var form = document.getElementById(id);
    if (!form) return false;
    if (typeof form.requestSubmit === "function") form.requestSubmit(); else form.submit();
    return true;
  }

  function follow(id) {
    var link = document.getElementById(id);
    if (!link || !link.getAttribute("href")) return false;
    window.location.assign(link.getAttribute("href"));
    return true;
  }

  // Queue: j/k move a highlighted row, Enter or o opens it, x ticks it for bulk actions.
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.lead-row"));
  }

  function selectedIndex(list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains("selected")) return i;
    }
    return -1;
  }

  function moveSelection(step) {
    var list = rows();
    if (!list.length) return false;
    var current = selectedIndex(list);
    var next = current < 0 ? (step > 0 ? 0 : list.length - 1)
      : Math.max(0, Math.min(list.length - 1, current + step));
    if (current >= 0) {
      list[current].classList.remove("selected");
      list[current].removeAttribute("aria-selected");
    }
    list[next].classList.add("selected");
    list[next].setAttribute("aria-selected", "true");
    list[next].scrollIntoView({ block: "nearest" });
    return true;
  }

  function openSelected() {
    var list = rows();
    var i = selectedIndex(list);
    if (i < 0) return false;
    var link = list[i].querySelector("a.lead-link");
    if (!link) return false;
    window.location.assign(link.getAttribute("href"));
    return true;
  }

  function tickSelected() {
    var list = rows();
    var i = selectedIndex(list);
    if (i < 0) return false;
    var box = list[i].querySelector("input[name=lead_id]");
    if (box) box.checked = !box.checked;
    return true;
  }

  var page = document.body.getAttribute("data-page") || "";

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    var done = false;
    if (key === "?") {
      done = openDialog("help");
    } else if (page === "queue") {
      if (key === "j") done = moveSelection(1);
      else if (key === "k") done = moveSelection(-1);
      else if (key === "Enter" || key === "o") done = openSelected();
      else if (key === "x") done = tickSelected();
    } else if (page === "lead") {
      if (key === "j") done = follow("next-lead");
      else if (key === "k") done = follow("previous-lead");
      else if (key === "c") done = submit("decide-confirm");
      else if (key === "d") done = openDialog("dismiss-dialog");
      else if (key === "e") done = submit("decide-escalate");
      else if (key === "u") done = follow("back-to-queue");
    }
    if (done) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target || !target.closest) return;
    var closer = target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      event.preventDefault();
      return;
    }
    var opener = target.closest("[data-open-dialog]");
    if (opener) {
      openDialog(opener.getAttribute("data-open-dialog"));
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.id === "select-all") {
      var boxes = document.querySelectorAll("input[name=lead_id]");
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = target.checked;
    }
  });
})();
