/* Map styling functions referenced from Python as {"variable": "cockpit.<name>"}.
   Values come from the layer's hideout; text is set with textContent, never as HTML. */
window.cockpit = Object.assign({}, window.cockpit, {
    districtColor: function (value, hideout) {
        const breaks = hideout.breaks || [], colors = hideout.colors || [];
        if (value === undefined || value === null || !breaks.some(Boolean)) { return hideout.none; }
        let color = colors[0];
        for (let i = 0; i < breaks.length; i++) { if (value >= breaks[i]) { color = colors[i]; } }
        return color;
    },
    districtStyle: function (feature, context) {
        const h = context.hideout || {};
        const code = feature.properties.adcode;
        const selected = h.selected === code;
        feature.properties.tip = (h.tips || {})[code] || "";  // read by districtTooltip on hover
        return {
            fillColor: window.cockpit.districtColor((h.values || {})[code], h),
            fillOpacity: 0.88, color: selected ? "#ffd166" : "#6fd6ff",
            weight: selected ? 3.5 : 1.4, opacity: 0.95,
        };
    },
    districtTooltip: function (feature, layer) {
        layer.bindTooltip(function () {
            return window.cockpit.tooltipText([feature.properties.name, feature.properties.tip]);
        }, {className: "map-tip", sticky: true});
    },
    districtHover: function () {
        return {weight: 3, color: "#ffffff"};
    },
    tooltipText: function (lines) {
        const box = document.createElement("div");
        (lines || []).forEach(function (text, i) {
            const line = document.createElement("div");
            line.className = i === 0 ? "tip-title" : "tip-line";
            line.textContent = text;
            box.appendChild(line);
        });
        return box;
    },
    eventPoint: function (feature, latlng) {
        const p = feature.properties;
        let layer;
        if (p.n > 1) {  // a cluster: its count on a ring showing the share of each severity
            const bubble = document.createElement("div"), count = document.createElement("span");
            let stops = [], at = 0;
            p.shares.forEach(function (share) {
                stops.push(share[0] + " " + at + "% " + (at + share[1]) + "%");
                at += share[1];
            });
            bubble.className = "event-cluster";
            bubble.style.background = "conic-gradient(" + stops.join(", ") + ")";
            bubble.style.width = bubble.style.height = (2 * p.radius) + "px";
            count.textContent = p.n >= 10000 ? Math.round(p.n / 1000) + "k" : String(p.n);
            bubble.appendChild(count);
            layer = L.marker(latlng, {icon: L.divIcon({className: "event-cluster-icon", html: bubble,
                                                       iconSize: [2 * p.radius, 2 * p.radius]})});
        } else if (p.kind === "incident") {  // a diamond
            const mark = document.createElement("div");
            mark.className = "event-incident";
            mark.style.background = p.color;
            layer = L.marker(latlng, {icon: L.divIcon({className: "event-incident-icon", html: mark,
                                                       iconSize: [16, 16]})});
        } else {
            layer = L.circleMarker(latlng, {pane: "pointPane", radius: p.radius, color: "#ffffff", weight: 1.2, fillColor: p.color,
                                            fillOpacity: p.top === 0 ? 0.55 : 0.95});
        }
        layer.bindTooltip(window.cockpit.tooltipText(p.lines), {className: "map-tip", direction: "top"});
        return layer;
    },
    districtLabel: function (feature, latlng) {
        const box = document.createElement("div");
        const name = document.createElement("div");
        const value = document.createElement("div");
        name.className = "district-label-name";
        value.className = "district-label-value";
        name.textContent = feature.properties.name;
        value.textContent = feature.properties.value;
        box.appendChild(name);
        box.appendChild(value);
        return L.marker(latlng, {
            icon: L.divIcon({className: "district-label", html: box, iconSize: null}),
            interactive: false, keyboard: false, pane: "labelPane",
        });
    },
});

/* Clientside callbacks (ClientsideFunction("cockpit", …)). */
window.dash_clientside = Object.assign({}, window.dash_clientside);
window.dash_clientside.cockpit = Object.assign({}, window.dash_clientside.cockpit, {
    fitViewport: function (bounds, mapId) {
        // The centre and the largest zoom (in quarter steps) that shows the bounds in the map's element.
        const el = document.getElementById(mapId);
        if (!bounds || !el || !el.clientWidth) { return window.dash_clientside.no_update; }
        const [[south, west], [north, east]] = bounds;
        const y = function (lat) { return Math.log(Math.tan(Math.PI / 4 + lat * Math.PI / 360)); };
        const zx = Math.log2(el.clientWidth * 360 / (256 * (east - west)));
        const zy = Math.log2(el.clientHeight * 2 * Math.PI / (256 * (y(north) - y(south))));
        return {center: [(south + north) / 2, (west + east) / 2], zoom: Math.floor(Math.min(zx, zy) * 4) / 4};
    },
});
