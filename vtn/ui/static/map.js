// The map works without its tiles: when one cannot load (no network, tile server down) the tiles
// are removed so the coastline outline and the sites stay readable, and a note says so.
(function () {
  var tiles = document.querySelectorAll("#site-map image.tile");
  var failed = false;
  function degrade() {
    if (failed) return;
    failed = true;
    var layer = document.getElementById("tiles");
    if (layer) layer.remove();
    var note = document.getElementById("tiles-note");
    if (note) note.hidden = false;
    document.getElementById("site-map").setAttribute("data-tiles", "unavailable");
  }
  tiles.forEach(function (tile) { tile.addEventListener("error", degrade); });
  if (tiles.length) document.getElementById("site-map").setAttribute("data-tiles", "loading");
})();
