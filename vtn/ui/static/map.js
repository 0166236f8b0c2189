// The map works without its tiles: when one cannot load (no network, tile server down) the tiles
// are removed so the coastline outline and the sites stay readable, and a note says so.
// A tile may fail before this script runs: its inline onerror marks the map, checked here first.
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
  if (map.getAttribute("data-tiles") === "unavailable") {
    degrade();
    return;
  }
  map.querySelectorAll("image.tile").forEach(function (tile) { tile.addEventListener("error", degrade); });
})();
