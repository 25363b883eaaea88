// live.js: the index page's live counters. It listens on the WebSocket
// /stats (one JSON sample a second); where that is not available it polls
// /stats.json every second instead. Rates are differences between samples.
//
// When the WebSocket closes (1001 "going away" is what a server that shuts
// down or upgrades sends), the page reconnects: after 250 ms, doubling
// after each failed attempt up to 5 s, back to 250 ms once a connection
// opens. Each sample carries the server's process id: when it changes, the
// server was upgraded (or restarted), and the page says so.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  let prev = null;
  let samples = 0;
  let pollTimer = null;
  let pid = null; // the process id of the latest sample

  const minDelay = 250;
  const maxDelay = 5000;
  let delay = minDelay; // before the next reconnection attempt
  let everOpened = false; // the server has a WebSocket /stats

  function count(n) {
    return Math.round(n).toLocaleString("en-US");
  }

  function bytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + units[i];
  }

  // What the loops' submit and wait counters are called on each backend.
  const backendNames = {
    io_uring: { submits: "io_uring submits / s", enters: "io_uring_enter" },
    epoll: { submits: "operations / s", enters: "epoll_wait" },
  };

  function show(s) {
    samples++;
    if (typeof s.pid === "number") {
      $("pid").textContent = String(s.pid);
      if (pid !== null && s.pid !== pid) {
        const up = $("upgrade");
        up.textContent = "server upgraded: process " + pid + " → " + s.pid +
          " (at " + new Date().toLocaleTimeString() + ")";
        up.hidden = false;
        prev = null; // the new process counts from zero: no rate across the two
      }
      pid = s.pid;
    }
    $("samples").textContent = samples;
    $("loops").textContent = s.loops;
    $("backend").textContent = s.backend || "n/a";
    const names = backendNames[s.backend];
    if (names) {
      $("submits-label").textContent = names.submits;
      $("enters-label").textContent = names.enters;
    }
    $("connections").textContent = count(s.connections);
    $("tasks").textContent = count(s.tasks_in_flight);
    $("requests").textContent = count(s.requests);
    $("accepted").textContent = count(s.accepted);
    $("bytes-in").textContent = bytes(s.bytes_in);
    $("bytes-out").textContent = bytes(s.bytes_out);
    $("ws-clients").textContent = s.websocket ? count(s.websocket.clients) : "n/a";
    // HTTP/2: null when the server runs with -http2=false.
    $("h2-conns").textContent = s.http2 ? count(s.http2.conns_open) : "n/a";
    if (!s.http2) {
      $("h2-streams-rate").textContent = "n/a";
    }
    // The chat room: its members on every instance (from the others'
    // heartbeats over the bus) and here; the bus's counters with -nats.
    $("chat-presence").textContent = s.rooms ? count(s.rooms.chat_presence) : "n/a";
    $("chat-members").textContent = s.rooms ? count(s.rooms.chat_members) : "n/a";
    $("bus").hidden = !s.bus;
    if (s.bus) {
      $("bus-state").textContent = s.bus.state;
      $("bus-server").textContent = s.bus.server || s.bus.last_error || "no server";
      $("bus-published").textContent = count(s.rooms.published);
      $("bus-received").textContent = count(s.rooms.received);
      $("bus-lost").textContent = count(s.rooms.lost);
      $("bus-dropped").textContent = count(s.rooms.dropped);
      $("bus-reconnects").textContent = count(s.bus.reconnects);
      $("bus-disconnects").textContent = count(s.bus.disconnects);
    }
    // The TLS counters: present (not null) when the server speaks TLS.
    $("tls").hidden = !s.tls;
    // How this page came: h2 over TLS where the server offers it (the
    // WebSocket has an HTTP/1.1 connection of its own).
    const nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    const proto = nav && nav.nextHopProtocol ? " · this page over " + nav.nextHopProtocol : "";
    $("transport").textContent = (s.tls ? "TLS (HTTPS, WSS)" : "plain HTTP") + proto;
    if (s.tls) {
      $("tls-handshakes").textContent = count(s.tls.handshakes);
      $("tls-handshaking").textContent = count(s.tls.handshaking);
      $("tls-resumed").textContent = count(s.tls.resumed);
      $("tls-errors").textContent = count(s.tls.errors);
      $("tls-timeouts").textContent = count(s.tls.timeouts);
      $("tls-ktls").textContent = count(s.tls.kernel_tx);
    }
    if (prev && s.t > prev.t) {
      const dt = (s.t - prev.t) / 1000;
      const rate = (k) => (s[k] - prev[k]) / dt;
      $("rps").textContent = count(rate("requests"));
      $("submits").textContent = count(rate("sqes"));
      $("enters").textContent = count(rate("enters"));
      $("bytes-in-rate").textContent = bytes(rate("bytes_in"));
      $("bytes-out-rate").textContent = bytes(rate("bytes_out"));
      if (s.http2 && prev.http2) {
        $("h2-streams-rate").textContent = count((s.http2.streams - prev.http2.streams) / dt);
      }
    }
    prev = s;
  }

  function poll() {
    if (pollTimer !== null) {
      return;
    }
    $("source").textContent = "polling /stats.json every second";
    const once = () =>
      fetch("/stats.json", { cache: "no-store" })
        .then((r) => r.json())
        .then(show)
        .catch((e) => { $("source").textContent = "polling /stats.json: " + e; });
    once();
    pollTimer = setInterval(once, 1000);
  }

  function connect() {
    let ws;
    try {
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/stats");
    } catch (e) {
      poll();
      return;
    }
    ws.onopen = () => {
      everOpened = true;
      delay = minDelay;
      $("source").textContent = "WebSocket /stats (pushed every second)";
    };
    ws.onmessage = (ev) => {
      try {
        show(JSON.parse(ev.data));
      } catch (e) {
        // not a stats sample: ignore it
      }
    };
    ws.onclose = (ev) => {
      if (!everOpened) {
        poll(); // no WebSocket route on this server
        return;
      }
      // Closed, or a reconnection attempt failed (1006): try again.
      $("source").textContent = "reconnecting… (closed " + ev.code +
        (ev.reason ? " " + ev.reason : "") + "; next try in " + delay / 1000 + " s)";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, maxDelay);
    };
  }

  $("burst").addEventListener("click", () => {
    for (let i = 0; i < 200; i++) {
      fetch("/plaintext", { cache: "no-store" }).catch(() => {});
    }
  });

  // The load generator's command line, for this page's own origin
  // (https:// when the page came over TLS).
  $("wrk").textContent = "wrk -c64 -d10s " + location.origin + "/plaintext";

  connect();
})();
