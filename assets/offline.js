// Clienteling served by `clienteling --web`: nothing the page asks for may leave this machine (a store's tablets
// may have no internet, and a privacy review must find no third party in the traffic). assets/index.html (Flet's
// own page with this one script added) loads it before Flutter starts. Two things in Flet's web client reach out
// or miss, and both are turned back here:
// 1. Flet's Rive extension loads rive_native.js from cdn.jsdelivr.net as the app starts (the app draws no Rive
//    animation): the script is pointed at no-rive.js instead, which says that Rive is not available.
// 2. For a character its fonts lack (an emoji in a chat, a letter of another script), Flutter fetches a Noto
//    font shard from the fallback-font folder, which flet-web does not ship (a 404 each): those fetches get
//    DejaVu Sans, shipped with the app (fonts/), which covers the Latin, Greek and Cyrillic alphabets and
//    common symbols; an emoji it lacks is drawn as an empty box.
(function () {
  "use strict";
  var base = document.baseURI;
  var riveCdn = "https://cdn.jsdelivr.net/npm/@rive-app/";
  var noRive = new URL("no-rive.js", base).href;
  var src = Object.getOwnPropertyDescriptor(HTMLScriptElement.prototype, "src");
  Object.defineProperty(HTMLScriptElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: function () {
      return src.get.call(this);
    },
    set: function (value) {
      src.set.call(this, String(value).indexOf(riveCdn) === 0 ? noRive : value);
    },
  });

  // a shard is <fallback folder><family>/v<version>/<name>.woff2; the folder's own fonts (roboto.woff2) are real
  var fallback = new URL((window.flet && window.flet.fontFallbackBaseUrl) || "assets/fonts/", base).href;
  var shard = /^[a-z0-9]+\/v[0-9]+\//;
  var font = new URL("fonts/DejaVuSans.ttf", base).href;
  var fetch = window.fetch;
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : input instanceof URL ? input.href : input && input.url;
    if (url) {
      var full = new URL(url, base).href;
      if (full.indexOf(fallback) === 0 && shard.test(full.slice(fallback.length))) {
        return fetch.call(this, font);
      }
    }
    return fetch.apply(this, arguments);
  };
})();
