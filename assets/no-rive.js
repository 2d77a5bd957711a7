// Stands in for Rive's rive_native.js, which Flet's web client would fetch from a CDN (see offline.js). This app
// draws no Rive animation: Rive's start is left waiting, as it would wait for a CDN that cannot be reached (an
// answer of "not available" makes Flet's client throw).
window.RiveNative = function () {
  return new Promise(function () {});
};
