// Inside Telegram (opened from a web_app button) the page is a Mini App: Telegram passes the
// signed initData and the theme in the URL fragment. This script copies initData into every
// form (the server checks it, bot/pages/miniapp.py), follows the theme, puts the form's main
// action on Telegram's main button, and closes the Mini App when the hand-off is done.
// In an ordinary browser there is no initData and the script changes nothing.
(function () {
  "use strict";
  var DATA = "onboard.tgWebAppData";
  var THEME = "onboard.tgWebAppThemeParams";
  var fragment = new URLSearchParams(location.hash.slice(1));
  var initData = fragment.get("tgWebAppData");
  var theme = fragment.get("tgWebAppThemeParams");
  try {  // the form's POST drops the fragment: keep both for this tab's next pages
    if (initData) {
      sessionStorage.setItem(DATA, initData);
      if (theme) { sessionStorage.setItem(THEME, theme); }
    } else {
      initData = sessionStorage.getItem(DATA);
      theme = sessionStorage.getItem(THEME);
    }
  } catch (ignored) { /* storage off: this page still works */ }
  if (!initData) { return; }

  function post(type, data) {
    var body = data || {};
    if (window.TelegramWebviewProxy) {  // Telegram for Android and iOS
      window.TelegramWebviewProxy.postEvent(type, JSON.stringify(body));
    } else if (window.parent !== window) {  // Telegram Web and Desktop (an iframe)
      window.parent.postMessage(JSON.stringify({ eventType: type, eventData: body }), "*");
    }
  }
  var handlers = {};
  function receive(type, data) { if (handlers[type]) { handlers[type](data); } }
  window.Telegram = window.Telegram || {};
  window.Telegram.WebView = window.Telegram.WebView || {};
  window.Telegram.WebView.receiveEvent = receive;
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) { return; }
    try {
      var message = JSON.parse(event.data);
      if (message && message.eventType) { receive(message.eventType, message.eventData); }
    } catch (ignored) { /* not Telegram's */ }
  });

  var root = document.documentElement;
  root.classList.add("in-telegram");
  var colours = {};
  try { colours = JSON.parse(theme || "{}") || {}; } catch (ignored) { colours = {}; }
  ["bg_color", "secondary_bg_color", "text_color", "link_color", "button_color",
   "button_text_color"].forEach(function (name) {
    if (/^#[0-9a-fA-F]{6}$/.test(colours[name] || "")) {
      root.style.setProperty("--tg-" + name.replace(/_/g, "-"), colours[name]);
    }
  });

  document.querySelectorAll("form").forEach(function (form) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "init_data";
    field.value = initData;
    form.appendChild(field);
  });

  post("web_app_ready");
  post("web_app_expand");
  if (root.dataset.done === "yes") {
    post("web_app_setup_main_button", { is_visible: false });
    try { sessionStorage.removeItem(DATA); sessionStorage.removeItem(THEME); } catch (ignored) {}
    window.setTimeout(function () { post("web_app_close"); }, 1500);  // time to read it
    return;
  }
  var main = document.querySelector("button[data-main]");
  if (!main) { return; }
  main.classList.add("in-telegram-hidden");
  post("web_app_setup_main_button", {
    is_visible: true, is_active: true, text: main.textContent.trim(),
    color: colours.button_color, text_color: colours.button_text_color
  });
  handlers.main_button_pressed = function () { main.form.requestSubmit(main); };
})();
