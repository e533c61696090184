// rapport's web inbox: keyboard shortcuts, ticking SLA countdowns and live updates.
// Plain JavaScript, no build step; every page works without it. The CSP forbids inline
// scripts, so the pages hand data over in data- attributes. Untrusted text is only ever
// set with textContent, never as HTML.
(function () {
  "use strict";

  var body = document.body;
  var serverNow = Date.parse(body.getAttribute("data-now") || "");
  // Count from the server's clock (it may be fixed for a demo), ticking at the browser's pace.
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
  function now() {
    return Date.now() + skew;
  }

  // ---- SLA countdowns: the same words as the server writes (web/mod.rs, due_text) ----
  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes < 1) return "<1m";
    if (minutes < 60) return minutes + "m";
    if (minutes < 48 * 60) return Math.floor(minutes / 60) + "h";
    return Math.floor(minutes / (24 * 60)) + "d";
  }
  function dueText(due) {
    var left = Date.parse(due) - now();
    if (isNaN(left)) return "—";
    return left >= 0 ? "due in " + span(left) : "overdue " + span(-left);
  }
  function tickOne(el) {
    var due = el.getAttribute("data-due");
    if (!due) return;
    el.textContent = dueText(due);
    el.classList.toggle("overdue", Date.parse(due) < now());
  }
  function tick() {
    var all = document.querySelectorAll("span.sla[data-due]");
    for (var i = 0; i < all.length; i++) tickOne(all[i]);
  }
  tick();
  setInterval(tick, 30000);

  // ---- canned replies fill the reply box ----
  var canned = document.querySelector("#reply select[name=canned]");
  if (canned) {
    canned.addEventListener("change", function () {
      var box = document.querySelector("#reply textarea[name=text]");
      if (!canned.value || !box) return;
      box.value = canned.value;
      box.focus();
    });
  }

  // ---- keyboard ----
  function typing(el) {
    if (!el) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#inbox tbody tr.conversation"));
  }
  function select(list, index) {
    for (var i = 0; i < list.length; i++) list[i].classList.remove("selected");
    var row = list[index];
    if (!row) return;
    row.classList.add("selected");
    var link = row.querySelector("a.open");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
  function focusField(selector) {
    var el = document.querySelector(selector);
    if (!el) return false;
    el.focus();
    return true;
  }
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.isComposing) return;
    if (typing(e.target)) return;
    var key = e.key;
    var list = rows();
    if ((key === "j" || key === "k") && list.length) {
      var current = -1;
      for (var i = 0; i < list.length; i++) {
        if (list[i].classList.contains("selected")) current = i;
      }
      var next;
      if (current === -1) next = 0;
      else if (key === "j") next = Math.min(current + 1, list.length - 1);
      else next = Math.max(current - 1, 0);
      select(list, next);
      e.preventDefault();
    } else if ((key === "Enter" || key === "o") && list.length) {
      // Enter on a link or a button does what it always does.
      if (key === "Enter" && e.target && (e.target.tagName === "A" || e.target.tagName === "BUTTON")) return;
      var open = document.querySelector("#inbox tr.conversation.selected a.open");
      if (open) {
        e.preventDefault();
        window.location.href = open.href;
      }
    } else if (key === "r") {
      if (focusField("#reply textarea[name=text]")) e.preventDefault();
    } else if (key === "a") {
      if (focusField("#assign input[name=to]")) e.preventDefault();
    } else if (key === "e") {
      var resolve = document.querySelector("#status button[name=status][value=resolved]");
      if (resolve) {
        e.preventDefault();
        if (resolve.form.requestSubmit) resolve.form.requestSubmit(resolve);
        else resolve.click();
      }
    }
  });

  // ---- live updates ----
  var table = document.getElementById("inbox");
  var live = document.getElementById("live");
  var page = document.querySelector("[data-conversation-id]");
  var pageId = page ? parseInt(page.getAttribute("data-conversation-id"), 10) : 0;

  function filterValue(name, fallback) {
    var el = document.querySelector("#filters [name=" + name + "]");
    var v = el ? el.value.trim() : "";
    return v === "" ? fallback : v;
  }
  // Loosely: does a conversation belong on this page of the inbox?
  function matches(c) {
    var status = filterValue("status", "open");
    if (status !== "all" && c.status !== status) return false;
    var team = filterValue("team", "all");
    if (team === "unrouted" ? c.team : team !== "all" && c.team !== team) return false;
    var priority = filterValue("priority", "any");
    if (priority !== "any" && c.priority !== priority) return false;
    var intent = filterValue("intent", "any");
    if (intent !== "any" && c.intent !== intent) return false;
    var assignee = filterValue("assignee", "");
    if (assignee === "none" ? c.assignee : assignee && c.assignee !== assignee) return false;
    var q = filterValue("q", "").toLowerCase();
    if (q && (c.snippet || "").toLowerCase().indexOf(q) < 0 && (c.author || "").toLowerCase().indexOf(q) < 0) return false;
    return true;
  }
  function cell(cls, label) {
    var td = document.createElement("td");
    td.className = cls;
    td.setAttribute("data-label", label);
    return td;
  }
  function badge(cls, text) {
    var s = document.createElement("span");
    s.className = "badge " + cls;
    s.textContent = text;
    return s;
  }
  function sentimentOf(compound) {
    if (compound >= 0.05) return "positive";
    if (compound <= -0.05) return "negative";
    return "neutral";
  }
  function snippet(text, max) {
    var chars = Array.from(text || "");
    if (chars.length <= max) return chars.join("");
    return chars.slice(0, max).join("").replace(/\s+$/, "") + "…";
  }
  // The same row as web/inbox.rs writes, from the API's JSON.
  function buildRow(c) {
    var tr = document.createElement("tr");
    tr.className = "conversation";
    tr.setAttribute("data-id", String(c.id));
    tr.setAttribute("data-status", c.status);
    tr.setAttribute("data-priority", c.priority);
    tr.setAttribute("data-intent", c.intent);
    tr.setAttribute("data-team", c.team || "unrouted");
    tr.setAttribute("data-assignee", c.assignee || "");
    var td = cell("priority", "Priority");
    td.appendChild(badge("priority " + String(c.priority).toLowerCase(), c.priority));
    tr.appendChild(td);
    td = cell("sentiment", "Sentiment");
    var sentiment = sentimentOf(c.compound);
    var b = badge("sentiment " + sentiment, sentiment);
    b.title = "compound " + (c.compound >= 0 ? "+" : "") + Number(c.compound).toFixed(2);
    td.appendChild(b);
    tr.appendChild(td);
    td = cell("due", "Due");
    var sla = document.createElement("span");
    sla.className = "sla";
    if (c.due_at) {
      sla.setAttribute("data-due", c.due_at);
      tickOne(sla);
    } else {
      sla.textContent = "—";
    }
    td.appendChild(sla);
    tr.appendChild(td);
    td = cell("author", "Author");
    td.textContent = c.author;
    tr.appendChild(td);
    td = cell("subject", "Conversation");
    var a = document.createElement("a");
    a.className = "open";
    a.href = "/conversations/" + c.id;
    a.textContent = (c.snippet || "").trim() ? snippet(c.snippet, 140) : "(no text)";
    td.appendChild(a);
    td.appendChild(document.createTextNode(" "));
    var intent = document.createElement("span");
    intent.className = "intent";
    intent.textContent = c.intent;
    td.appendChild(intent);
    tr.appendChild(td);
    td = cell("team", "Team");
    td.textContent = c.team || "—";
    tr.appendChild(td);
    td = cell("assignee", "Assignee");
    td.textContent = c.assignee || "—";
    tr.appendChild(td);
    td = cell("status", "Status");
    td.textContent = c.status;
    tr.appendChild(td);
    return tr;
  }
  function markFresh(tr) {
    tr.classList.add("fresh");
    setTimeout(function () {
      tr.classList.remove("fresh");
    }, 4000);
  }
  function refreshRow(id) {
    fetch("/api/v1/conversations/" + encodeURIComponent(id), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (detail) {
        if (!detail || !detail.conversation) return;
        var c = detail.conversation;
        var tbody = table.tBodies[0];
        var old = tbody.querySelector('tr.conversation[data-id="' + Number(c.id) + '"]');
        var row = buildRow(c);
        if (old) {
          if (old.classList.contains("selected")) row.classList.add("selected");
          old.parentNode.replaceChild(row, old);
        } else if (matches(c)) {
          tbody.insertBefore(row, tbody.firstChild);
          var empty = document.getElementById("empty");
          if (empty) empty.hidden = true;
        } else {
          return;
        }
        markFresh(row);
      })
      .catch(function () {});
  }
  function setLive(on, text) {
    if (!live) return;
    live.textContent = text;
    live.classList.toggle("on", on);
  }
  if ((table || pageId) && window.EventSource) {
    var source = new EventSource("/api/v1/events");
    source.addEventListener("open", function () {
      setLive(true, "live");
    });
    source.addEventListener("error", function () {
      setLive(false, source.readyState === EventSource.CLOSED ? "offline" : "reconnecting…");
    });
    source.addEventListener("conversation", function (e) {
      var id = parseInt(e.data, 10);
      if (!id) return;
      if (table) refreshRow(id);
      if (pageId && id === pageId) {
        var stale = document.getElementById("stale");
        if (stale) stale.hidden = false;
      }
    });
    source.addEventListener("reload", function () {
      // Too many changes were missed to patch them in: reload unless someone is typing.
      if (table && !typing(document.activeElement)) window.location.reload();
    });
  }
})();
