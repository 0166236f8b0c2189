// The map works without its tiles: when one cannot load (no network, tile server down) the tiles
// are removed so the coastline outline and the sites stay readable, and a note says so.
// A tile may fail before this script runs, and the page's Content-Security-Policy allows no inline
// handler to notice: each tile is also probed here (from the browser's cache when it did load).
(function () {
  var map = document.getElementById("site-map");
  if (!map) return;
  function degrade() {
    map.setAttribute("data-tiles", "unavailable");
    var layer = document.getElementById("tiles");
    if (layer) layer.remove();
    var note = document.getElementById("tiles-note");
    if (note) note.hidden = false;
  }
  map.querySelectorAll("image.tile").forEach(function (tile) {
    tile.addEventListener("error", degrade);
    var probe = new Image();
    probe.onerror = degrade;
    probe.src = tile.getAttribute("href");
  });
})();
