// The editor page without a button press: the preview and the checker's problems follow the
// text a moment after typing stops. Without JavaScript the "Förhandsgranska" button does it.
(function () {
  var form = document.getElementById("editor-form");
  var source = document.getElementById("source");
  if (!form || !source || !window.fetch || !window.DOMParser) return;
  var timer = null;
  function refresh() {
    var data = new FormData(form);
    data.set("action", "preview");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        ["preview", "problems", "lix"].forEach(function (id) {
          var fresh = page.getElementById(id), here = document.getElementById(id);
          if (fresh && here) here.innerHTML = fresh.innerHTML;
        });
      })
      .catch(function () {});
  }
  function later() { clearTimeout(timer); timer = setTimeout(refresh, 700); }
  source.addEventListener("input", later);
  ["organisation", "preview_language"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) el.addEventListener("change", refresh);
  });
})();
