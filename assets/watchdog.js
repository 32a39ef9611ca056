/* The freshness watchdog: the browser itself decides whether what a screen shows is current, so a dead server,
   a cut network or a failing warehouse shows on the wall (cockpit/components/freshness.py, cockpit/errors.py).

   Every second, on its own timer (not a Dash callback: dash-renderer holds a clientside callback back while a
   server callback it depends on is pending, and a cut network can leave a request pending for minutes), it reads
   the screen's store `{screen}-fresh` (filled by each good answer) and the shell's `cockpit-fault`, notes in
   browser time when each changed, and writes the badge `{screen}-freshness`. A screen is stale when
   - it has a timer (`data-refresh-ms` > 0) and no answer came for STALE_AFTER intervals: 连接中断;
   - its last request to the server failed (no answer, HTTP error) and none succeeded since: 连接中断;
   - the server reported a fault after the page was drawn and no good answer came since: 数据中断 / 页面错误.
   A stale screen gets `is-stale` on <body> (CSS greys its numbers, charts and map) and a banner saying the time
   of the data shown. A good answer clears it all. */
(function () {
    "use strict";
    const STALE_AFTER = 1.6;  // intervals: within two of a fault, never between two answers of a healthy screen
    const POLL_MS = 1000;
    const FAULT_STORE = "cockpit-fault";
    const BADGE_SUFFIX = "-freshness";
    const STORE_SUFFIX = "-fresh";
    const UPDATE_PATH = "/_dash-update-component";

    /* As cockpit.components.freshness.format_age. */
    function formatAge(seconds) {
        const s = Math.max(0, Math.floor(seconds));
        if (s < 60) { return s + "秒"; }
        if (s < 3600) { return Math.floor(s / 60) + "分钟"; }
        if (s < 86400) { return Math.floor(s / 3600) + "小时" + Math.floor(s % 3600 / 60) + "分"; }
        return Math.floor(s / 86400) + "天";
    }

    function clockTime(ms, timeZone) {
        return new Intl.DateTimeFormat("zh-CN", {
            timeZone: timeZone || "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit",
            hour12: false,
        }).format(new Date(ms));
    }

    /* The server's text with the newest event's age counted on since the answer arrived. */
    function advanced(fresh, elapsedMs) {
        if (typeof fresh.age !== "number") { return fresh.text; }
        return fresh.text.replace(/最新事件 \S+?前/, "最新事件 " + formatAge(fresh.age + elapsedMs / 1000) + "前");
    }

    /* What the badge says, from what the watchdog knows (all times browser ms):
       k = {now, since (badge first seen), refreshMs, timeZone, fresh, goodAt, fault, faultAt, failure: {at,
       status} | null, okAt (the last request that got an answer)}; fault is one reported after the page was
       drawn, or null. Returns {level, text, stale, banner}. */
    function judge(k) {
        const last = k.goodAt ? clockTime(k.goodAt, k.timeZone) : null;
        const lastText = last ? "最后更新 " + last : "尚未收到数据";
        const banner = last ? "以下为 " + last + " 的数据，当前无法更新" : "当前无法获取数据";
        const stale = function (text) { return {level: "alarm", text: text, stale: true, banner: banner}; };
        const timed = k.refreshMs > 0;
        const limit = k.refreshMs * STALE_AFTER;
        if (timed && k.now - Math.max(k.goodAt || k.since, k.faultAt || 0) > limit) {
            return stale("连接中断 · " + lastText);
        }
        if (k.failure && k.failure.at > (k.okAt || 0)) {
            return stale((k.failure.status === 401 ? "登录已失效 · 请重新登录" : "连接中断") + " · " + lastText);
        }
        const f = k.fault;
        if (f && (!k.fresh || f.seq > k.fresh.seq || (f.kind === "bug" && timed && k.now - k.faultAt <= limit))) {
            return stale((f.kind === "outage" ? "数据中断 · 数据仓库无法连接" : "页面错误 · 编号 " + f.id) + " · " + lastText);
        }
        if (k.fresh) {
            return {level: k.fresh.level, text: advanced(k.fresh, k.now - k.goodAt), stale: false, banner: ""};
        }
        return {level: "warn", text: "连接中…", stale: false, banner: ""};
    }

    const api = {judge: judge, formatAge: formatAge, clockTime: clockTime, STALE_AFTER: STALE_AFTER};
    if (typeof module !== "undefined" && module.exports) { module.exports = api; }  // node, for the tests
    if (typeof window === "undefined") { return; }

    const net = {okAt: 0, failure: null};
    const realFetch = window.fetch;
    window.fetch = function (input) {
        const url = typeof input === "string" ? input : (input && input.url) || "";
        const reply = realFetch.apply(this, arguments);
        if (url.indexOf(UPDATE_PATH) === -1) { return reply; }
        return reply.then(function (response) {
            if (response.ok) { net.okAt = Date.now(); } else { net.failure = {at: Date.now(), status: response.status}; }
            return response;
        }, function (error) {
            net.failure = {at: Date.now(), status: 0};
            throw error;
        });
    };

    function data(id) {
        try {
            const c = window.dash_component_api && window.dash_component_api.getLayout(id);
            return c && c.props ? c.props.data : undefined;
        } catch (e) {
            return undefined;  // not in the layout (yet)
        }
    }

    function bannerElement() {
        let el = document.getElementById("stale-banner");
        if (!el) {
            el = document.createElement("div");
            el.id = "stale-banner";
            el.setAttribute("role", "alert");
            document.body.appendChild(el);
        }
        return el;
    }

    let screen = null;
    let reloading = false;

    function tick() {
        const retry = document.querySelector("[data-retry-ms]");  // a page that could not be drawn
        if (retry && !reloading) {
            reloading = true;
            setTimeout(function () { window.location.reload(); }, Number(retry.dataset.retryMs) || 10000);
        }
        const badge = document.querySelector(".badge[data-refresh-ms][id$='" + BADGE_SUFFIX + "']");
        const now = Date.now();
        if (!badge) {
            screen = null;
            document.body.classList.remove("is-stale");
            return;
        }
        if (!screen || screen.badge !== badge) {
            screen = {badge: badge, id: badge.id, store: badge.id.slice(0, -BADGE_SUFFIX.length) + STORE_SUFFIX,
                      since: now, layoutSeq: Number(badge.dataset.layoutSeq) || 0, seq: undefined, fresh: null,
                      goodAt: null, faultSeq: undefined, fault: null, faultAt: null, shown: ""};
        }
        const fresh = data(screen.store);
        if (fresh && fresh.seq !== screen.seq) {
            screen.seq = fresh.seq;
            screen.fresh = fresh;
            screen.goodAt = now;
        }
        const fault = data(FAULT_STORE);
        if (fault && fault.seq !== screen.faultSeq) {
            screen.faultSeq = fault.seq;
            if (fault.seq > screen.layoutSeq) {
                screen.fault = fault;
                screen.faultAt = now;
            }
        }
        const verdict = judge({now: now, since: screen.since, refreshMs: Number(badge.dataset.refreshMs) || 0,
                               timeZone: badge.dataset.tz, fresh: screen.fresh, goodAt: screen.goodAt,
                               fault: screen.fault, faultAt: screen.faultAt, failure: net.failure, okAt: net.okAt});
        const className = "badge badge-" + verdict.level;
        if (className + verdict.text !== screen.shown && window.dash_clientside && window.dash_clientside.set_props) {
            window.dash_clientside.set_props(screen.id, {children: verdict.text, className: className});
            screen.shown = className + verdict.text;
        }
        document.body.classList.toggle("is-stale", verdict.stale);
        if (verdict.stale) { bannerElement().textContent = verdict.banner; }
    }

    setInterval(tick, POLL_MS);
})();
