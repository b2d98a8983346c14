// Keyboard shortcuts, dialogs, bulk selection and queue decisions of the workbench.
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

  // Queue: c / e decide for the row under the cursor, d first asks for a dismissal reason.
  // The same POST as the lead page's buttons (the CSRF token rides in HTMX's header); the
  // server checks role and life cycle and answers with the row as it now is.
  function selectedRow() {
    var list = rows();
    var i = selectedIndex(list);
    return i < 0 ? null : list[i];
  }

  function rowQuery(row) {
    var link = row.querySelector("a.lead-link");
    var href = (link && link.getAttribute("href")) || "";
    var at = href.indexOf("?");
    return at < 0 ? "" : href.slice(at + 1);
  }

  function say(text, kind) {
    var box = document.getElementById("queue-message");
    if (!box) return;
    box.textContent = text;
    box.className = "queue-message " + (kind === "error" ? "error" : "flash");
  }

  function settle(row) {
    // The swapped-in row replaced the one under the cursor: put the cursor back on it.
    // Until htmx settles, the new row wears the old row's classes (cursor included), so
    // j / k keep working in between; only then does it need the cursor of its own.
    if (!document.querySelector("tr.lead-row.selected")) {
      row.classList.add("selected");
      row.setAttribute("aria-selected", "true");
    }
    var message = row.getAttribute("data-message");
    if (message) {
      say(message, row.getAttribute("data-message-kind"));
      row.removeAttribute("data-message");
      row.removeAttribute("data-message-kind");
    }
  }

  function decideRow(row, decision, form) {
    if (!window.htmx || !row) return false;
    var id = row.getAttribute("data-lead-id");
    if (!id) return false;
    // No source element for c / e: a row's own source would drag the bulk form along.
    var context = { target: "#row-" + id, swap: "outerHTML",
                    values: { decision: decision, qs: rowQuery(row) } };
    if (form) context.source = form;
    window.htmx.ajax("POST", "/leads/" + id + "/decide", context);
    return true;
  }

  function dismissSelected() {
    var row = selectedRow();
    if (!row) return false;
    var form = document.getElementById("queue-dismiss");
    // Viewers get no dialog; the server's refusal tells them why nothing happens.
    if (!form) return decideRow(row, "dismiss", null);
    var id = row.getAttribute("data-lead-id");
    form.reset();
    form.setAttribute("data-lead-id", id);
    form.setAttribute("action", "/leads/" + id + "/decide");
    form.querySelector("input[name=qs]").value = rowQuery(row);
    document.getElementById("queue-dismiss-lead").textContent = "#" + id;
    return openDialog("queue-dismiss-dialog");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.id !== "queue-dismiss") return;
    event.preventDefault();
    var row = document.getElementById("row-" + form.getAttribute("data-lead-id"));
    var dialog = form.closest("dialog");
    if (dialog) dialog.close();
    if (row) decideRow(row, "dismiss", form);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var row = event.target;
    if (row && row.matches && row.matches("tr.lead-row[data-message]")) settle(row);
  });

  // A refusal (403: wrong role or stale CSRF token) leaves the row as it is and says why,
  // in the words of the server's error page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail || !detail.xhr || detail.xhr.status !== 403) return;
    var target = detail.target;
    if (!target || !target.classList || !target.classList.contains("lead-row")) return;
    detail.shouldSwap = false;
    detail.isError = false;
    var parsed = new DOMParser().parseFromString(detail.xhr.responseText, "text/html");
    var reason = parsed.querySelector("main .error");
    say(reason ? reason.textContent : String(detail.xhr.status), "error");
  });

  var page = document.body.getAttribute("data-page") || "";

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    // While a dialog is open its own buttons have the keyboard, not the page behind it.
    if (document.querySelector("dialog[open]")) return;
    var key = event.key;
    var done = false;
    if (key === "?") {
      done = openDialog("help");
    } else if (page === "queue") {
      if (key === "j") done = moveSelection(1);
      else if (key === "k") done = moveSelection(-1);
      else if (key === "Enter" || key === "o") done = openSelected();
      else if (key === "x") done = tickSelected();
      else if (key === "c") done = decideRow(selectedRow(), "confirm", null);
      else if (key === "d") done = dismissSelected();
      else if (key === "e") done = decideRow(selectedRow(), "escalate", null);
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
