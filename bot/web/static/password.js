// Live ticks for the password rules. The server checks the same rules again (bot/passwords.py).
(function () {
  "use strict";
  var form = document.getElementById("password-form");
  if (!form) { return; }
  var first = document.getElementById("password");
  var second = document.getElementById("confirm");
  var toggle = document.getElementById("toggle");
  var data = form.dataset;
  var min = parseInt(data.min, 10);
  var latin = data.latin === "1";
  var symbols = data.symbols || "";
  var forbidden = new Set(JSON.parse(data.forbidden || "[]").map(function (word) {
    return word.normalize("NFKC").toLowerCase();
  }));
  var max = parseInt(data.max, 10);
  var announcer = document.getElementById("announce");
  var common = null;

  function has(pattern, text) { return pattern.test(text); }
  var checks = {
    length: function (p) { return Array.from(p).length >= min; },
    upper: function (p) { return has(latin ? /[A-Z]/ : /\p{Lu}/u, p); },
    lower: function (p) { return has(latin ? /[a-z]/ : /\p{Ll}/u, p); },
    digit: function (p) { return has(/[0-9]/, p); },
    symbol: function (p) { return Array.from(p).some(function (c) { return symbols.indexOf(c) >= 0; }); },
    common: function (p) {
      var folded = p.toLowerCase();
      return p.length > 0 && !forbidden.has(folded) && !(common && common.has(folded));
    },
    max: function (p) { var n = Array.from(p).length; return n > 0 && n <= max; },
    match: function (p, again) { return p.length > 0 && p === again; }
  };

  // Each rule's state is text too (for screen readers); what changed is announced once.
  function update() {
    var p = first.value.normalize("NFKC");
    var again = second.value.normalize("NFKC");
    var changed = [];
    form.querySelectorAll("[data-rule]").forEach(function (item) {
      var check = checks[item.dataset.rule];
      var met = Boolean(check && check(p, again));
      var state = met ? data.metLabel : data.unmetLabel;
      if ((item.dataset.met === "yes") !== met) {
        changed.push(item.querySelector(".rule-text").textContent + ": " + state);
      }
      item.classList.toggle("met", met);
      item.dataset.met = met ? "yes" : "no";
      item.querySelector(".state").textContent = ": " + state;
    });
    if (changed.length && announcer) { announcer.textContent = changed.join(". "); }
  }

  if (data.common === "1") {
    fetch(data.list, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (text) { common = new Set(text.split("\n").filter(Boolean)); update(); })
      .catch(function () { /* the server still checks the list */ });
  }

  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var show = first.type === "password";
    first.type = second.type = show ? "text" : "password";
    toggle.textContent = show ? data.hide : data.show;
    toggle.setAttribute("aria-pressed", show ? "true" : "false");
  });
  first.addEventListener("input", update);
  second.addEventListener("input", update);
  update();
})();
