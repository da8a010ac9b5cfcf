/*
 * The admin maps without a tile server (apps/core/admin/maps.py):
 * - the districts' outlines (and the streets) drawn under the drawing, from our own endpoints;
 * - a search box for a street or an address (the staff geocoder, /admin/geocode/);
 * - under the item's map, the areas the drawing touches, updated at each click while drawing.
 * Settings and French texts come from the #quartier-map-tools element of the change form.
 */
(function () {
  "use strict";

  var tools = document.getElementById("quartier-map-tools");
  if (!tools || !window.L) return;
  var conf = tools.dataset;
  var reachFields = (conf.reachFields || "").split(" ").filter(Boolean);
  var overlays = {};

  function getJSON(url) {
    if (!overlays[url]) {
      overlays[url] = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        });
    }
    return overlays[url];
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function label(latlng, text, className, pane) {
    return L.marker(latlng, {
      pane: pane,
      interactive: false,
      keyboard: false,
      icon: L.divIcon({ className: className, html: "", iconSize: null }),
    }).on("add", function () {
      var icon = this.getElement();
      if (icon && !icon.firstChild) icon.appendChild(element("span", "", text));
    });
  }

  // --- overlays: districts and streets, under the drawing --------------------------------
  function addOverlays(map) {
    map.createPane("quartierStreets").style.zIndex = 340;
    map.createPane("quartierAreas").style.zIndex = 350;
    map.createPane("quartierLabels").style.zIndex = 360;
    ["quartierStreets", "quartierAreas", "quartierLabels"].forEach(function (name) {
      map.getPane(name).style.pointerEvents = "none";
    });
    var areas = L.layerGroup();
    var areaLabels = L.layerGroup();
    var streets = L.layerGroup();
    var streetLabels = L.layerGroup();
    var byId = {};
    map.quartierAreas = byId;
    var control = L.control.layers(null, null, { position: "bottomright", collapsed: true });
    control.addTo(map);

    getJSON(conf.areasUrl).then(function (data) {
      L.geoJSON(data, {
        pane: "quartierAreas",
        interactive: false,
        style: function (feature) { return areaStyle(feature, false); },
        onEachFeature: function (feature, layer) {
          byId[feature.id] = layer;
          layer.feature = feature;
          if (feature.properties.kind === "district") {
            var at = feature.properties.label;
            areaLabels.addLayer(label([at[1], at[0]], feature.properties.name,
              "quartier-map-label quartier-map-label-area", "quartierLabels"));
          }
        },
      }).eachLayer(function (layer) { areas.addLayer(layer); });
      var group = L.layerGroup([areas, areaLabels]).addTo(map);
      control.addOverlay(group, conf.lAreas);
      map.getContainer().setAttribute("data-areas-drawn", String(data.features.length));
      if (map.quartierReachIds) highlight(map, map.quartierReachIds);
    }).catch(function () {
      map.getContainer().setAttribute("data-areas-drawn", "error");
    });

    getJSON(conf.streetsUrl).then(function (data) {
      L.geoJSON(data, {
        pane: "quartierStreets",
        interactive: false,
        style: { color: "#8a94a6", weight: 3, opacity: 0.8 },
        onEachFeature: function (feature) {
          var at = feature.properties.label;
          streetLabels.addLayer(label([at[1], at[0]], feature.properties.name,
            "quartier-map-label quartier-map-label-street", "quartierLabels"));
        },
      }).eachLayer(function (layer) { streets.addLayer(layer); });
      var group = L.layerGroup([streets]).addTo(map);
      // Street names only when zoomed in enough to read them.
      function names() {
        if (map.getZoom() >= 15 && map.hasLayer(group)) streetLabels.addTo(map);
        else streetLabels.remove();
      }
      map.on("zoomend overlayadd overlayremove", names);
      names();
      control.addOverlay(group, conf.lStreets);
      map.getContainer().setAttribute("data-streets-drawn", String(data.features.length));
    }).catch(function () {
      map.getContainer().setAttribute("data-streets-drawn", "error");
    });
  }

  function areaStyle(feature, touched) {
    var district = feature.properties.kind === "district";
    if (touched) {
      // A touched commune is outlined only: filled, it would tint every district in it.
      return district
        ? { color: "#b45309", weight: 3, dashArray: null, fill: true, fillColor: "#f59e0b", fillOpacity: 0.3 }
        : { color: "#b45309", weight: 4, dashArray: null, fill: false };
    }
    return district
      ? { color: "#374151", weight: 2, dashArray: "6 4", fill: true, fillColor: "#6b7280", fillOpacity: 0.04 }
      : { color: "#111827", weight: 3, dashArray: null, fill: false };
  }

  function highlight(map, ids) {
    map.quartierReachIds = ids;
    var byId = map.quartierAreas || {};
    Object.keys(byId).forEach(function (id) {
      var layer = byId[id];
      layer.setStyle(areaStyle(layer.feature, ids.indexOf(Number(id)) >= 0));
    });
  }

  // --- search box: a street or an address ---------------------------------------------
  var SearchControl = L.Control.extend({
    options: { position: "topright" },
    onAdd: function (map) {
      var box = element("div", "leaflet-bar quartier-map-search");
      var input = element("input");
      input.type = "search";
      input.placeholder = conf.lSearch;
      input.setAttribute("aria-label", conf.lSearch);
      input.autocomplete = "off";
      var list = element("ul", "quartier-map-results");
      list.setAttribute("role", "listbox");
      box.appendChild(input);
      box.appendChild(list);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      var timer = null, pending = null, places = [], marker = null;

      function show(items, message) {
        list.textContent = "";
        places = items;
        if (message) list.appendChild(element("li", "quartier-map-message", message));
        items.forEach(function (feature, index) {
          var item = element("li");
          var button = element("button", "", feature.properties.label);
          button.type = "button";
          button.setAttribute("role", "option");
          button.addEventListener("click", function () { go(index); });
          item.appendChild(button);
          list.appendChild(item);
        });
      }

      function go(index) {
        var feature = places[index];
        if (!feature) return;
        var lon = feature.geometry.coordinates[0], lat = feature.geometry.coordinates[1];
        map.setView([lat, lon], feature.properties.kind === "area" ? 15 : 17, { animate: false });
        if (marker) marker.remove();
        marker = L.circleMarker([lat, lon], {
          radius: 9, color: "#1d4ed8", weight: 3, fillOpacity: 0.2, interactive: false,
        }).addTo(map);
        input.value = feature.properties.label;
        map.getContainer().setAttribute("data-found", feature.properties.label);
        show([]);
      }

      function search() {
        var query = input.value.trim();
        if (query.length < 3) { show([]); return; }
        if (pending) pending.abort();
        pending = new AbortController();
        fetch(conf.geocodeUrl + "?q=" + encodeURIComponent(query), {
          credentials: "same-origin", headers: { Accept: "application/json" }, signal: pending.signal,
        }).then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        }).then(function (answer) {
          if (!answer.ok) { show([], answer.body.message || conf.lSearchFailed); return; }
          var features = answer.body.features || [];
          show(features, features.length ? "" : conf.lNothingFound);
        }).catch(function (error) {
          if (error.name !== "AbortError") show([], conf.lSearchFailed);
        });
      }

      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(search, 250);
      });
      input.addEventListener("keydown", function (event) {
        // Enter picks the first place; it must never submit the change form.
        if (event.key === "Enter") {
          event.preventDefault();
          if (places.length) go(0);
          else { clearTimeout(timer); search(); }
        } else if (event.key === "Escape") {
          show([]);
        }
      });
      return box;
    },
  });

  // --- reach: the areas the drawing touches, under the item's map ------------------------
  function reachPanel(map, field) {
    var wrapper = document.getElementById(field.options.fieldid + "-div-map") || map.getContainer();
    var panel = element("div", "quartier-map-reach");
    panel.id = field.options.fieldid + "-reach";
    panel.setAttribute("aria-live", "polite");
    var title = element("strong", "", conf.lReach);
    var body = element("div", "quartier-map-reach-body", conf.lReachNone);
    panel.appendChild(title);
    panel.appendChild(body);
    // Inside the widget's block, under the map (beside it, the admin's flex row would squeeze it).
    wrapper.appendChild(panel);
    var sequence = 0, timer = null;

    function render(areas) {
      body.textContent = "";
      highlight(map, areas.map(function (area) { return area.id; }));
      if (!areas.length) { body.textContent = conf.lReachOutside; return; }
      [["district", conf.lDistricts], ["commune", conf.lCommunes]].forEach(function (kind) {
        var names = areas.filter(function (a) { return a.kind === kind[0]; })
          .map(function (a) { return a.name; });
        if (!names.length) return;
        var line = element("div", "quartier-map-reach-" + kind[0]);
        line.appendChild(element("span", "quartier-map-reach-kind", kind[1] + " : "));
        line.appendChild(element("span", "quartier-map-reach-names", names.join(", ")));
        body.appendChild(line);
      });
    }

    function send(geometry) {
      var mine = ++sequence;
      if (!geometry) { body.textContent = conf.lReachNone; highlight(map, []); return; }
      panel.classList.add("quartier-map-reach-busy");
      fetch(conf.reachUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(geometry),
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (answer) {
        if (mine !== sequence) return;
        panel.classList.remove("quartier-map-reach-busy");
        if (answer.ok) render(answer.data.areas);
        else { body.textContent = answer.data.message || conf.lReachFailed; }
      }).catch(function () {
        if (mine !== sequence) return;
        panel.classList.remove("quartier-map-reach-busy");
        body.textContent = conf.lReachFailed;
      });
    }

    function later(geometry) {
      clearTimeout(timer);
      timer = setTimeout(function () { send(geometry); }, 150);
    }

    function drawn() {
      var geometries = field.drawnItems.getLayers().map(function (layer) {
        return layer.toGeoJSON().geometry;
      });
      if (!geometries.length) return null;
      return geometries.length === 1 ? geometries[0] : { type: "GeometryCollection", geometries: geometries };
    }

    // A line or polygon being drawn: its vertices so far, as a point or a line.
    map.on("draw:drawvertex", function (event) {
      if (!field._acceptDrawEvents) return;
      var coordinates = [];
      event.layers.eachLayer(function (marker) {
        var at = marker.getLatLng();
        coordinates.push([at.lng, at.lat]);
      });
      if (!coordinates.length) return;
      later(coordinates.length === 1
        ? { type: "Point", coordinates: coordinates[0] }
        : { type: "LineString", coordinates: coordinates });
    });
    map.on("draw:editvertex draw:editmove draw:editresize", function () {
      if (field._acceptDrawEvents) later(drawn());
    });
    // The field's own handlers ran first (registered before): the drawing is stored.
    map.on("draw:created draw:edited draw:deleted draw:drawstop draw:editstop", function () {
      later(drawn());
    });
    send(drawn());
  }

  window.addEventListener("map:init", function (event) {
    var map = event.detail.map;
    // The page's maps by container id (django-leaflet keeps no globals): for scripts and tests.
    window.quartierMaps = window.quartierMaps || {};
    window.quartierMaps[event.detail.id] = map;
    addOverlays(map);
    new SearchControl().addTo(map);
    map.on("map:loadfield", function (loaded) {
      if (reachFields.indexOf(loaded.fieldid) >= 0) reachPanel(map, loaded.field);
    });
  });
})();
