// range.js: streams /big.bin with a progress bar, and fetches one byte range
// of it to show the 206 answer and its Content-Range.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  function mib(n) {
    return (n / (1 << 20)).toFixed(1) + " MiB";
  }

  async function stream() {
    const t0 = performance.now();
    const r = await fetch("/big.bin", { cache: "no-store" });
    $("stream-status").textContent = r.status + " " + r.statusText;
    const total = Number(r.headers.get("Content-Length")) || 0;
    $("progress").max = total || 1;
    const reader = r.body.getReader();
    let got = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      got += value.length;
      $("progress").value = got;
      $("stream-bytes").textContent = mib(got) + (total ? " of " + mib(total) : "");
    }
    const secs = (performance.now() - t0) / 1000;
    $("stream-speed").textContent = mib(got / Math.max(secs, 0.001)) + "/s (" + secs.toFixed(2) + " s)";
    $("stream").dataset.done = String(got);
  }

  async function fetchRange() {
    const r = await fetch("/big.bin", { headers: { Range: $("range").value }, cache: "no-store" });
    $("range-status").textContent = r.status + " " + r.statusText;
    $("content-range").textContent = r.headers.get("Content-Range") || "(none)";
    $("range-length").textContent = r.headers.get("Content-Length") || "(none)";
    const text = await r.text();
    $("range-body").textContent = text.length > 4096 ? text.slice(0, 4096) + "…" : text;
  }

  $("stream").addEventListener("click", () => {
    stream().catch((e) => { $("stream-status").textContent = "error: " + e; });
  });
  $("fetch-range").addEventListener("click", () => {
    fetchRange().catch((e) => { $("range-status").textContent = "error: " + e; });
  });
})();
