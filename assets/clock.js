/* The wall clock ticks in the browser: no server round trip every second. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    cockpit: {
        clock: function (_tick, timeZone) {
            const now = new Date();
            const fmt = new Intl.DateTimeFormat("zh-CN", {
                timeZone: timeZone || "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
                weekday: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
            });
            return fmt.format(now);
        },
    },
});
