/* Station points (layers/stations.py): water stations as circles, ecology stations as squares, filled with
   properties.color; a silent station has a dashed grey outline. The tooltip is built from properties.lines with
   textContent: station names and readings are text, never HTML. */
window.cockpit = Object.assign({}, window.cockpit, {
    stationTooltip: function (lines) {
        const box = document.createElement("div");
        box.style.cssText = "font-size: 12px; line-height: 1.45;";
        (lines || []).forEach(function (text, i) {
            const line = document.createElement("div");
            if (i === 0) { line.style.fontWeight = "bold"; }
            line.textContent = text;
            box.appendChild(line);
        });
        return box;
    },
    stationPoint: function (feature, latlng) {
        const p = feature.properties;
        const outline = p.silent ? "#c4c9d1" : "#ffffff";
        let marker;
        if (p.family === "water") {
            marker = L.circleMarker(latlng, {
                pane: "pointPane", radius: 6, fillColor: p.color, fillOpacity: 0.95, color: outline, weight: 1.5, opacity: 1,
                dashArray: p.silent ? "3 2" : null,
            });
        } else {
            const square = document.createElement("div");
            square.style.width = "100%";
            square.style.height = "100%";
            square.style.boxSizing = "border-box";
            square.style.background = p.color;
            square.style.border = "1.5px " + (p.silent ? "dashed " : "solid ") + outline;
            marker = L.marker(latlng, {
                icon: L.divIcon({className: "station-square", html: square, iconSize: [11, 11]}),
                keyboard: false,
            });
        }
        return marker.bindTooltip(window.cockpit.stationTooltip(p.lines), {direction: "top", offset: [0, -6]});
    },
});
