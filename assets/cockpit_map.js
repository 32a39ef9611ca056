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
        return {
            fillColor: window.cockpit.districtColor((h.values || {})[code], h),
            fillOpacity: 0.88, color: selected ? "#ffd166" : "#6fd6ff",
            weight: selected ? 3.5 : 1.4, opacity: 0.95,
        };
    },
    districtHover: function () {
        return {weight: 3, color: "#ffffff"};
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
            interactive: false, keyboard: false,
        });
    },
});
