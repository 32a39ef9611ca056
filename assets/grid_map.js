/* Grid (H3) layer style, referenced from Python as {"variable": "cockpit.cellStyle"}.
   Breaks, colours, opacities and outline come from the layer's hideout (layers/grid.py: grid_hideout). */
window.cockpit = Object.assign({}, window.cockpit, {
    cellStyle: function (feature, context) {
        const h = context.hideout || {};
        const breaks = h.breaks || [], colors = h.colors || [], opacity = h.opacity || [];
        const value = feature.properties.value;
        // The highest class whose lower bound the value reaches; equal breaks (no data yet) leave class 0.
        let i = 0;
        while (i + 1 < breaks.length && breaks[i + 1] > breaks[i] && value >= breaks[i + 1]) { i++; }
        return {
            fillColor: colors[i], fillOpacity: opacity[i],
            stroke: Boolean(h.outline), color: h.outline, weight: 0.6, opacity: 0.35,
        };
    },
});
