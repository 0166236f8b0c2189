// Cariflex: FlexMeasures' maps on OpenStreetMap tiles, with no Mapbox account or token.
//
// scripts/fm_map_patch.py (run by `scripts/flexmeasures.sh install` and `start`) copies this file into
// FlexMeasures' static folder as js/cariflex-map-init-patch.js and loads it right after FlexMeasures'
// js/map-init.js in every page that draws a map, so it replaces map-init.js's addTileLayer() before the
// page calls it. FlexMeasures 1.0.1's addTileLayer() asks api.mapbox.com for tiles with the
// MAPBOX_ACCESS_TOKEN setting (none here: the map stays grey).
//
// The tile URL comes from FlexMeasures' config (CARIFLEX_MAP_TILE_URL, set from CARIFLEX_FM_TILE_URL or
// `scripts/flexmeasures.sh start --tile-url`), rendered by the template into this script tag's
// data-tile-url attribute: public OpenStreetMap by default, or a self-hosted tile server.
(function () {
  "use strict";

  var DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
  // OpenStreetMap's licence asks for this credit wherever its data is shown, whoever renders the tiles.
  var ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright" target="_blank">OpenStreetMap contributors</a>';

  var script = document.currentScript;
  var tileUrl = (script && script.dataset.tileUrl) || DEFAULT_TILE_URL;

  if (typeof window.addTileLayer !== "function") {
    // map-init.js did not load or no longer defines addTileLayer: say so rather than leave a blank map
    throw new Error(
      "cariflex-map-init-patch.js: FlexMeasures' map-init.js defines no addTileLayer() here; " +
        "re-run scripts/flexmeasures.sh install (it re-applies config/map-init-patch.js and checks FlexMeasures' files)"
    );
  }

  /** Add the OpenStreetMap tile layer (or the configured one) to a Leaflet map; the token is ignored. */
  window.addTileLayer = function (leafletMap) {
    L.tileLayer(tileUrl, { attribution: ATTRIBUTION, maxZoom: 19 }).addTo(leafletMap);
  };
})();
