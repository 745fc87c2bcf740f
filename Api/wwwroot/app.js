// The FlightDelay page: tabs over the four sections, predictions without a reload, batch uploads with live
// progress, the job list and details, and the charts. Plain JavaScript, no libraries: the CSP allows nothing
// but this origin, and the charts are SVG built here. Without JavaScript the prediction form still posts to
// /predict and the server renders the answer.
"use strict";

(() => {
  const KEY_HEADER = "X-Api-Key";
  const KEY_STORAGE = "flightdelay.apiKey";
  const POLL_MS = 500;
  const LIST_REFRESH_MS = 2000;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TABS = ["predict", "batch", "jobs", "model"];
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  const FINAL = new Set(["succeeded", "failed", "canceled"]);

  const count = new Intl.NumberFormat("en");
  const card = readModelCard();

  document.documentElement.classList.add("js");

  // ---------------------------------------------------------------- helpers

  /** Builds an element: attrs are properties (className, textContent, onclick...) or, for data-/aria-/other names, attributes. */
  function el(tag, attrs, ...children) {
    return build(document.createElement(tag), attrs, children);
  }

  function svg(tag, attrs, ...children) {
    return build(document.createElementNS(SVG_NS, tag), attrs, children);
  }

  function build(node, attrs, children) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.setAttribute("class", value);
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "hidden") node.hidden = Boolean(value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  function $(selector) {
    return document.querySelector(selector);
  }

  const pct = (share, digits = 1) => (share * 100).toFixed(digits) + "%";

  function duration(ms) {
    if (!Number.isFinite(ms) || ms < 0) return "–";
    const s = ms / 1000;
    if (s < 10) return s.toFixed(1) + " s";
    if (s < 60) return Math.round(s) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
  }

  const time = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
  const shortId = (id) => "…" + id.slice(-8);
  const size = (bytes) => (bytes < 1024 * 1024 ? Math.max(1, Math.round(bytes / 1024)) + " KB" : (bytes / 1024 / 1024).toFixed(1) + " MB");

  function readModelCard() {
    const data = document.getElementById("model-card");
    try {
      return data ? JSON.parse(data.textContent) : null;
    } catch {
      return null;
    }
  }

  /** What a problem answer (RFC 9457) says, in one sentence. */
  function problemText(body, response) {
    if (body && typeof body === "object") {
      if (body.errors) return Object.values(body.errors).flat().join(" ");
      if (body.detail || body.title) return body.detail || body.title;
    }
    return `The service answered ${response.status} ${response.statusText}.`.trim();
  }

  // ---------------------------------------------------------------- API key

  /**
   * Every call goes through here. When the service answers 401 the page asks for a key once, keeps it in
   * session storage (this tab only) and sends it as X-Api-Key from then on.
   */
  const auth = {
    key: sessionStorage.getItem(KEY_STORAGE),
    pending: null,

    headers(extra) {
      const headers = new Headers(extra || {});
      if (this.key) headers.set(KEY_HEADER, this.key);
      return headers;
    },

    /** Runs a request (a function of the headers to send); on 401 asks for a key and runs it again. */
    async run(send) {
      for (let attempt = 0; ; attempt++) {
        const sentKey = this.key;
        const response = await send(this.headers());
        if (response.status !== 401 || attempt >= 3) return response;
        // Another request may already have got a new key while this one was out.
        if (this.key && this.key !== sentKey) continue;
        if (!(await this.ask(sentKey ? "That key was not accepted; try another." : ""))) return response;
      }
    },

    ask(message) {
      if (this.pending) return this.pending;
      const dialog = $("#key-dialog");
      const input = $("#key-input");
      $("#key-error").textContent = message;
      input.value = "";
      this.pending = new Promise((resolve) => {
        dialog.addEventListener("close", () => {
          this.pending = null;
          const key = dialog.returnValue === "ok" ? input.value.trim() : "";
          this.set(key || null);
          resolve(key || null);
        }, { once: true });
      });
      dialog.returnValue = "";
      dialog.showModal();
      input.focus();
      return this.pending;
    },

    set(key) {
      this.key = key;
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
      $("#key-state").hidden = !key;
    },
  };

  async function request(path, options = {}) {
    const response = await auth.run((headers) => {
      for (const [name, value] of new Headers(options.headers || {})) headers.set(name, value);
      return fetch(path, { ...options, headers });
    });
    let body = null;
    if (response.status !== 204 && response.status !== 304) {
      const text = await response.text();
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
    }
    return { response, body };
  }

  /** Uploads with XMLHttpRequest, which (unlike fetch) reports upload progress. */
  function upload(file, contentType, onProgress) {
    return auth.run((headers) => new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/v1/jobs");
      xhr.setRequestHeader("Content-Type", contentType);
      for (const [name, value] of headers) xhr.setRequestHeader(name, value);
      xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
      xhr.addEventListener("load", () => {
        let body = null;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          body = xhr.responseText;
        }
        resolve({ status: xhr.status, statusText: xhr.statusText, body, headers: xhr });
      });
      xhr.addEventListener("error", () => reject(new Error("the connection failed")));
      xhr.addEventListener("abort", () => reject(new Error("the upload was aborted")));
      xhr.send(file);
    }));
  }

  /** Saves a URL as a file. A plain link does it, except that a link cannot send the API key: then fetch and save the blob. */
  async function download(event, link) {
    if (!auth.key) return;
    event.preventDefault();
    const response = await auth.run((headers) => fetch(link.href, { headers }));
    if (!response.ok) {
      link.after(el("p", { className: "errors", role: "alert", text: "The download failed: " + response.status }));
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const save = el("a", { href: url, download: link.getAttribute("download") || "results.csv", hidden: true });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  // ---------------------------------------------------------------- tabs

  /** The sections become tabs driven by the URL's hash (#predict, #batch, #jobs, #jobs/{id}, #model): links, back button and reloads work. */
  function route(focus) {
    const [name, id] = location.hash.slice(1).split("/");
    const tab = TABS.includes(name) ? name : "predict";
    for (const section of TABS) document.getElementById(section).hidden = section !== tab;
    for (const link of document.querySelectorAll("[data-tab]")) {
      if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    jobs.route(tab === "jobs" ? id || null : undefined, focus);
    if (tab === "model") charts.drawModel();
    // Every tab starts at the top of the page (the browser would scroll to the anchor, under the sticky header).
    window.scrollTo(0, 0);
    // Job details focus their own heading once loaded.
    if (focus && !(tab === "jobs" && id)) document.getElementById(`${tab}-title`)?.focus({ preventScroll: true });
  }

  // ---------------------------------------------------------------- predict

  function setUpPredict() {
    const form = $("#predict-form");
    const result = $("#result");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const flight = { airline: data.get("airline"), flightType: data.get("flightType"), month: Number(data.get("month")) };
      result.setAttribute("aria-busy", "true");
      try {
        const { response, body } = await request("/v1/predictions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ flights: [flight] }),
        });
        if (!response.ok) {
          result.replaceChildren(el("p", { className: "errors", role: "alert", text: problemText(body, response) }));
          return;
        }
        result.replaceChildren(answer(flight, body.predictions[0], body.modelVersion));
      } catch (error) {
        result.replaceChildren(el("p", { className: "errors", role: "alert", text: "The service could not be reached: " + error.message }));
      } finally {
        result.removeAttribute("aria-busy");
      }
    });
  }

  /** The same markup the server renders for POST /predict. */
  function answer(flight, p, modelVersion) {
    const kind = p.delayed ? "delayed" : "on-time";
    const percent = pct(p.probability);
    const training = card?.training;
    const airline = training?.byAirline.find((a) => a.airline.toLowerCase() === flight.airline.toLowerCase());
    const month = training?.byMonth.find((m) => m.month === flight.month);
    return el("div", { className: "answer" },
      el("p", { className: "verdict " + kind, text: p.delayed ? "Likely delayed" : "Likely on time" }),
      el("p", { className: "flight", text: `${flight.airline} · ${flight.flightType === "I" ? "International" : "National"} · ${MONTHS[flight.month - 1]}` }),
      el("p", { className: "probability" }, "Probability of a delay over 15 minutes: ", el("strong", { text: percent })),
      svg("svg", { class: "prob-bar", viewBox: "0 0 100 6", preserveAspectRatio: "none", role: "img", "aria-label": `Delay probability ${percent}; from 50% on, a flight is predicted delayed.` },
        svg("rect", { class: "track", width: 100, height: 6 }),
        svg("rect", { class: "fill " + kind, width: (p.probability * 100).toFixed(1), height: 6 }),
        svg("line", { class: "cut", x1: 50, x2: 50, y1: 0, y2: 6 })),
      el("p", { className: "scale", "aria-hidden": "true" }, el("span", { text: "0%" }), el("span", { text: "50%: predicted delayed from here" }), el("span", { text: "100%" })),
      airline && month
        ? el("p", { className: "context", text: `In 2017, ${pct(airline.delayRate)} of ${airline.airline}'s flights and ${pct(month.delayRate)} of all ${MONTHS[month.month - 1]} flights were delayed (${pct(training.delayRate)} of all flights).` })
        : null,
      el("p", { className: "model-version" }, "Model ", el("code", { text: modelVersion })));
  }

  // ---------------------------------------------------------------- batch

  function setUpBatch() {
    const input = $("#upload-file");
    const zone = $("#dropzone");
    input.addEventListener("change", () => {
      if (input.files.length > 0) submit(input.files[0]);
      input.value = "";
    });
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        zone.classList.add("dragging");
      });
    }
    zone.addEventListener("dragleave", (e) => {
      if (!zone.contains(e.relatedTarget)) zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      const file = e.dataTransfer.files[0];
      if (file) submit(file);
    });
    // A file dropped beside the zone would make the browser leave the page to show it.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());
  }

  let currentJob = null;

  async function submit(file) {
    const status = $("#upload-status");
    const errors = $("#upload-errors");
    errors.replaceChildren();
    if (file.size === 0) {
      showUploadError(file, "The file is empty.");
      return;
    }
    const contentType = /\.json$/i.test(file.name) || file.type === "application/json" ? "application/json" : "text/csv";
    status.textContent = `Uploading ${file.name} (${size(file.size)})…`;
    let reply;
    try {
      reply = await upload(file, contentType, (loaded, total) => {
        status.textContent = `Uploading ${file.name} (${size(file.size)}): ${pct(total ? loaded / total : 0, 0)}`;
      });
    } catch (error) {
      status.textContent = "";
      showUploadError(file, "The upload failed: " + error.message + ".");
      return;
    }
    if (reply.status === 202) {
      status.textContent = `${file.name}: ${count.format(reply.body.totalRows)} flights accepted.`;
      currentJob?.stop();
      currentJob = new JobPanel(reply.body, { details: false });
      $("#current-job").replaceChildren(currentJob.node);
      currentJob.start();
      jobs.invalidate();
      return;
    }
    status.textContent = "";
    const body = reply.body;
    if (reply.status === 400 && body && Array.isArray(body.rows)) showRowErrors(file, body.rows);
    else showUploadError(file, problemText(body, { status: reply.status, statusText: reply.statusText }));
  }

  function showUploadError(file, message) {
    $("#upload-errors").replaceChildren(el("div", { className: "card problem", role: "alert" },
      el("h3", { text: `${file.name} was not accepted` }),
      el("p", { text: message })));
  }

  function showRowErrors(file, rows) {
    $("#upload-errors").replaceChildren(el("div", { className: "card problem", role: "alert" },
      el("h3", { text: `${file.name} was not accepted` }),
      el("p", { text: `Nothing was stored. ${rows.length === 1 ? "One row is" : `${rows.length} rows are`} wrong${rows.length >= 20 ? " (the first 20 are shown)" : ""}: fix ${rows.length === 1 ? "it" : "them"} and upload the file again.` }),
      el("div", { className: "table-wrap" },
        el("table", { className: "row-errors" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Row" }), el("th", { scope: "col", text: "Where" }), el("th", { scope: "col", text: "What is wrong" }))),
          el("tbody", {}, rows.map((r) => el("tr", {},
            el("td", { className: "num", text: r.row === undefined || r.row === null ? "–" : String(r.row) }),
            el("td", { text: r.where || "" }),
            el("td", { text: r.message || "" }))))))));
  }

  // ---------------------------------------------------------------- one job

  /**
   * A job as a card: status, a live progress bar (rows done of total, rate, time left), cancel, download and,
   * in details mode, the charts of its results. Polls the job until it is final.
   */
  class JobPanel {
    constructor(job, { details }) {
      this.job = job;
      this.details = details;
      this.samples = [];
      this.timer = null;
      this.stopped = false;
      this.etag = null;
      this.summaryAt = 0;

      this.status = el("span", { className: "badge", "aria-live": "polite" });
      this.progress = el("progress", { max: 1, value: 0, "aria-label": `Progress of job ${job.id}` });
      this.progressText = el("p", { className: "progress-text" });
      this.facts = el("dl", { className: "facts" });
      this.message = el("p", { className: "errors", role: "alert", hidden: true });
      this.cancel = el("button", { type: "button", className: "danger", text: "Cancel job", onclick: () => this.cancelJob() });
      this.download = el("a", { className: "button", href: job.links.resultsCsv, download: `job-${job.id}-results.csv`, text: "Download results (CSV)", hidden: true });
      this.download.addEventListener("click", (e) => download(e, this.download));
      const Heading = details ? "h2" : "h3";
      this.node = el("article", { className: "card job", "data-job": job.id, "aria-label": `Job ${job.id}` },
        el("div", { className: "job-head" }, el(Heading, { tabindex: -1, text: `Job ${shortId(job.id)}` }), this.status),
        this.progress,
        this.progressText,
        this.message,
        el("div", { className: "actions" }, this.cancel, this.download,
          details ? null : el("a", { className: "button secondary", href: `#jobs/${job.id}`, text: "Details and charts" })),
        this.facts);
      if (details) {
        this.charts = el("div", { className: "split job-charts" });
        this.node.append(this.charts);
      }
      this.render(job);
    }

    start() {
      this.stopped = false;
      if (this.details) this.loadSummary();
      if (!FINAL.has(this.job.status)) this.schedule();
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
    }

    schedule(delay = POLL_MS) {
      clearTimeout(this.timer);
      if (!this.stopped) this.timer = setTimeout(() => this.poll(), delay);
    }

    async poll() {
      let delay = POLL_MS;
      try {
        const { response, body } = await request(this.job.links.self, { headers: this.etag ? { "If-None-Match": this.etag } : {}, cache: "no-store" });
        if (this.stopped) return;
        if (response.status === 200) {
          this.etag = response.headers.get("ETag");
          this.render(body);
        } else if (response.status === 304) {
          this.render(this.job);
        } else if (response.status === 429) {
          // Over the client's request rate: wait as long as the service says.
          delay = Math.max(POLL_MS, 1000 * Number(response.headers.get("Retry-After") || 1));
        } else {
          this.showMessage(problemText(body, response));
        }
      } catch (error) {
        this.showMessage("The service could not be reached: " + error.message);
      }
      // While it runs, the charts follow every few seconds; a very big job's summary is costly, so only at the end.
      if (this.details && !FINAL.has(this.job.status) && this.job.totalRows <= 1_000_000 && Date.now() - this.summaryAt > 5000) this.loadSummary();
      if (!FINAL.has(this.job.status)) this.schedule(delay);
    }

    render(job) {
      const wasFinal = FINAL.has(this.job.status);
      this.job = job;
      const final = FINAL.has(job.status);
      this.node.dataset.status = job.status;
      this.status.textContent = job.status;
      this.status.className = "badge status-" + job.status;
      this.progress.value = job.progress;

      const now = Date.now();
      this.samples.push({ at: now, rows: job.processedRows });
      while (this.samples.length > 2 && now - this.samples[0].at > 10_000) this.samples.shift();

      let text = `${count.format(job.processedRows)} of ${count.format(job.totalRows)} rows (${pct(job.progress, 0)})`;
      if (job.status === "running" && job.startedAt) {
        const first = this.samples[0];
        const rate = now > first.at ? ((job.processedRows - first.rows) * 1000) / (now - first.at) : 0;
        const started = (job.processedRows * 1000) / Math.max(1, now - Date.parse(job.startedAt));
        const perSecond = rate > 0 ? rate : started;
        if (perSecond > 0) text += ` · ${count.format(Math.round(perSecond))} rows/s · about ${duration(((job.totalRows - job.processedRows) * 1000) / perSecond)} left`;
      } else if (job.status === "queued") {
        text += " · waiting for a worker";
      } else if (final && job.startedAt && job.finishedAt) {
        const took = Date.parse(job.finishedAt) - Date.parse(job.startedAt);
        text += ` · took ${duration(took)}`;
        if (took > 0) text += ` · ${count.format(Math.round((job.processedRows * 1000) / took))} rows/s`;
      }
      if (job.failedRows > 0) text += ` · ${count.format(job.failedRows)} rows failed`;
      this.progressText.textContent = text;

      this.cancel.hidden = final;
      this.download.hidden = !final || job.processedRows === 0;
      if (job.error) this.showMessage(job.error);
      else if (job.status === "canceled") this.showMessage(`Canceled: ${count.format(job.processedRows)} of ${count.format(job.totalRows)} rows were scored; their results can still be downloaded.`);

      this.facts.replaceChildren(
        ...fact("Submitted", time(job.createdAt)),
        ...fact("Started", time(job.startedAt)),
        ...fact("Finished", time(job.finishedAt)),
        ...fact("Chunks", `${count.format(job.chunksDone)} of ${count.format(job.chunkCount)}`),
        ...fact("Model", job.modelVersion || "–"),
        ...fact("Id", job.id));

      if (final && !wasFinal) {
        jobs.invalidate();
        if (this.details) this.loadSummary();
      }
    }

    showMessage(text) {
      this.message.textContent = text;
      this.message.hidden = !text;
    }

    async cancelJob() {
      this.cancel.disabled = true;
      try {
        const { response, body } = await request(this.job.links.cancel, { method: "POST" });
        if (response.ok) this.render(body);
        else this.showMessage(problemText(body, response));
      } catch (error) {
        this.showMessage("The service could not be reached: " + error.message);
      } finally {
        this.cancel.disabled = false;
      }
    }

    async loadSummary() {
      this.summaryAt = Date.now();
      let response, body;
      try {
        ({ response, body } = await request(`${this.job.links.self}/summary`, { cache: "no-store" }));
      } catch (error) {
        this.charts.replaceChildren(el("p", { className: "errors", text: "The charts could not be loaded: " + error.message }));
        return;
      }
      if (this.stopped) return;
      if (!response.ok) {
        this.charts.replaceChildren(el("p", { className: "errors", text: problemText(body, response) }));
        return;
      }
      this.charts.replaceChildren(
        el("figure", { className: "card", id: "job-histogram" },
          el("figcaption", { text: `Predicted delay probabilities (${count.format(body.scoredRows)} rows)` }),
          charts.histogram(body.histogram),
          el("p", { className: "hint", text: `${count.format(body.delayedRows)} of ${count.format(body.scoredRows)} rows (${pct(body.scoredRows ? body.delayedRows / body.scoredRows : 0)}) are predicted delayed: those at 50% or more.` })),
        el("figure", { className: "card", id: "job-airlines" },
          el("figcaption", { text: "Share predicted delayed, by airline" }),
          charts.bars(body.byAirline
            .slice()
            .sort((a, b) => b.delayedShare - a.delayedShare || b.rows - a.rows)
            .map((a) => ({ label: a.airline, value: a.delayedShare, note: `${pct(a.delayedShare, 0)} of ${count.format(a.rows)}` })),
          { label: "Share of each airline's rows predicted delayed" })));
    }
  }

  function fact(name, value) {
    return [el("dt", { text: name }), el("dd", { text: value })];
  }

  // ---------------------------------------------------------------- job list

  /** The Jobs tab: the list of recent jobs (kept fresh while some run), or one job's details (#jobs/{id}). */
  const jobs = {
    items: [],
    next: null,
    timer: null,
    visible: false,
    detail: null,

    setUp() {
      $("#jobs-refresh").addEventListener("click", () => this.load());
      $("#jobs-more").addEventListener("click", () => this.load(this.next));
    },

    /** id: a job to show, null for the list, undefined when the tab is hidden. */
    route(id, focus) {
      this.visible = id !== undefined;
      $("#jobs-list").hidden = Boolean(id);
      $("#jobs .panel-head").hidden = Boolean(id);
      $("#job-details").hidden = !id;
      if (!id && this.detail) {
        this.detail.stop();
        this.detail = null;
      }
      if (id && this.detail?.job.id !== id) this.open(id, focus);
      if (this.visible && !id) this.load();
    },

    invalidate() {
      if (this.visible) this.load();
    },

    async load(page) {
      clearTimeout(this.timer);
      const error = $("#jobs-error");
      try {
        const { response, body } = await request(page || "/v1/jobs?limit=20", { cache: "no-store" });
        if (!response.ok) {
          error.textContent = problemText(body, response);
          error.hidden = false;
          return;
        }
        error.hidden = true;
        this.items = page ? this.items.concat(body.items) : body.items;
        this.next = body.next;
        this.render();
      } catch (e) {
        error.textContent = "The service could not be reached: " + e.message;
        error.hidden = false;
      }
      if (this.visible && this.items.some((j) => !FINAL.has(j.status))) this.timer = setTimeout(() => this.load(), LIST_REFRESH_MS);
    },

    render() {
      const rows = this.items.map((job) => {
        const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
        const took = job.startedAt ? duration(end - Date.parse(job.startedAt)) : "–";
        return el("tr", { "data-job": job.id, "data-status": job.status },
          el("td", {}, el("a", { href: `#jobs/${job.id}`, text: `Job ${shortId(job.id)}`, "aria-label": `Job ${job.id}, ${job.status}: details` })),
          el("td", { text: time(job.createdAt) }),
          el("td", {}, el("span", { className: "badge status-" + job.status, text: job.status })),
          el("td", { className: "num", text: count.format(job.totalRows) }),
          el("td", { className: "num", text: took }),
          el("td", { className: "progress-cell" }, el("progress", { max: 1, value: job.progress, "aria-label": `Progress ${pct(job.progress, 0)}` }), " " + pct(job.progress, 0)));
      });
      $("#jobs-table tbody").replaceChildren(...rows);
      $("#jobs-table").hidden = rows.length === 0;
      $("#jobs-empty").hidden = rows.length > 0;
      $("#jobs-more").hidden = !this.next;
    },

    async open(id, focus) {
      this.detail?.stop();
      this.detail = null;
      const target = $("#job-details");
      const back = el("p", {}, el("a", { href: "#jobs", text: "← All jobs" }));
      target.replaceChildren(back, el("p", { className: "placeholder", text: "Loading…" }));
      const { response, body } = await request(`/v1/jobs/${encodeURIComponent(id)}`, { cache: "no-store" });
      if (!response.ok) {
        target.replaceChildren(back, el("h2", { tabindex: -1, text: "Job not found" }), el("p", { className: "errors", role: "alert", text: problemText(body, response) }));
        return;
      }
      this.detail = new JobPanel(body, { details: true });
      target.replaceChildren(back, this.detail.node);
      this.detail.start();
      if (focus) this.detail.node.querySelector("h2").focus({ preventScroll: true });
    },
  };

  // ---------------------------------------------------------------- charts

  /** Small SVG charts: bars, columns, a histogram and the ROC curve. Colours come from app.css, so dark mode applies. */
  const charts = {
    modelDrawn: false,

    drawModel() {
      if (this.modelDrawn || !card) return;
      this.modelDrawn = true;
      const m = card.metrics;
      if (m.rocCurve) {
        const [[tn, fp], [fn, tp]] = m.confusionMatrix;
        $("#roc-chart")?.replaceChildren(this.roc(m.rocCurve, { x: fp / (fp + tn), y: tp / (tp + fn) }, m.rocAuc));
      }
      const t = card.training;
      if (!t) return;
      $("#airline-chart")?.replaceChildren(this.bars(
        t.byAirline.slice().sort((a, b) => b.delayRate - a.delayRate).map((a) => ({ label: a.airline, value: a.delayRate, note: `${pct(a.delayRate, 0)} of ${count.format(a.flights)}` })),
        { label: "Delay rate of each airline's flights in the training data", average: t.delayRate }));
      $("#month-chart")?.replaceChildren(this.columns(
        t.byMonth.map((m) => ({ label: MONTHS[m.month - 1].slice(0, 3), value: m.delayRate, title: `${MONTHS[m.month - 1]}: ${pct(m.delayRate)} of ${count.format(m.flights)} flights delayed` })),
        { label: "Delay rate of each month's flights in the training data", average: t.delayRate, percent: true }),
        el("p", { className: "hint", text: `Dashed line: all flights, ${pct(t.delayRate)}.` }));
    },

    /** Horizontal bars of shares (0..1), one per row, labelled on the left and annotated on the right. */
    bars(rows, { label, average }) {
      const width = 520, left = 170, right = 100, row = 22, top = 6;
      const height = top + rows.length * row + (average === undefined ? 6 : 24);
      const max = axis(Math.max(0.01, ...rows.map((r) => r.value), average || 0)).ceiling;
      const x = (v) => left + (v / max) * (width - left - right);
      const chart = svg("svg", { class: "chart-svg", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${label}: ${rows.map((r) => `${r.label} ${pct(r.value)}`).join(", ")}.` });
      if (average !== undefined) chart.append(svg("line", { class: "average", x1: x(average), x2: x(average), y1: top, y2: top + rows.length * row }));
      rows.forEach((r, i) => {
        const y = top + i * row;
        chart.append(
          svg("text", { class: "label", x: left - 8, y: y + row / 2, "text-anchor": "end", "dominant-baseline": "middle", text: r.label }),
          svg("rect", { class: "bar", x: left, y: y + 3, width: Math.max(1, x(r.value) - left), height: row - 6 }, svg("title", { text: `${r.label}: ${r.note}` })),
          svg("text", { class: "value", x: x(r.value) + 6, y: y + row / 2, "dominant-baseline": "middle", text: r.note }));
      });
      if (average !== undefined) chart.append(svg("text", { class: "axis", x: x(average), y: top + rows.length * row + 16, "text-anchor": "middle", text: `dashed: all flights, ${pct(average)}` }));
      return chart;
    },

    /** Vertical columns with a labelled y axis; optionally a dashed line for the average. */
    columns(cols, { label, average, percent, marker }) {
      const width = 520, height = 250, left = 52, right = 12, top = marker ? 26 : 14, bottom = 30;
      const plotW = width - left - right, plotH = height - top - bottom;
      const { ceiling, step } = axis(Math.max(percent ? 0.01 : 1, ...cols.map((c) => c.value), average || 0), !percent);
      const y = (v) => top + plotH - (v / ceiling) * plotH;
      const slot = plotW / cols.length;
      const format = (v) => (percent ? pct(v, 0) : count.format(Math.round(v)));
      const chart = svg("svg", { class: "chart-svg", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${label}: ${cols.map((c) => `${c.label} ${format(c.value)}`).join(", ")}.` });
      for (let v = 0; v <= ceiling + step / 2; v += step) {
        chart.append(
          svg("line", { class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v) }),
          svg("text", { class: "axis", x: left - 6, y: y(v), "text-anchor": "end", "dominant-baseline": "middle", text: format(v) }));
      }
      cols.forEach((c, i) => {
        const x = left + i * slot;
        chart.append(
          svg("rect", { class: "bar" + (c.className ? " " + c.className : ""), x: x + slot * 0.12, y: y(c.value), width: slot * 0.76, height: Math.max(0, top + plotH - y(c.value)) }, svg("title", { text: c.title || `${c.label}: ${format(c.value)}` })),
          svg("text", { class: "axis", x: x + slot / 2, y: height - bottom + 16, "text-anchor": "middle", text: c.label }));
      });
      if (average !== undefined) chart.append(svg("line", { class: "average", x1: left, x2: width - right, y1: y(average), y2: y(average) }));
      if (marker) {
        const x = left + marker.at * plotW;
        chart.append(
          svg("line", { class: "average", x1: x, x2: x, y1: top, y2: top + plotH }),
          svg("text", { class: "axis", x: x + 4, y: top - 10, text: marker.label }));
      }
      return chart;
    },

    /** A job's probabilities in 10 bins; bins from 50% on are the ones predicted delayed. */
    histogram(bins) {
      const cols = bins.map((b) => ({
        label: `${Math.round(b.from * 100)}–${Math.round(b.to * 100)}`,
        value: b.count,
        className: b.from >= 0.5 ? "delayed" : "on-time",
        title: `${Math.round(b.from * 100)}% to ${Math.round(b.to * 100)}%: ${count.format(b.count)} rows`,
      }));
      return this.columns(cols, { label: "Number of rows by predicted delay probability, in 10% bins", marker: { at: 0.5, label: "predicted delayed →" } });
    },

    /** The ROC curve with the diagonal of guessing and the model's own cut-off marked. */
    roc(points, cut, auc) {
      const size = 340, pad = 52, plot = size - pad - 30;
      const x = (v) => pad + v * plot;
      const y = (v) => 10 + plot - v * plot;
      const chart = svg("svg", { class: "chart-svg roc", viewBox: `0 0 ${size} ${y(0) + 42}`, role: "img", "aria-label": `ROC curve, area under it ${auc.toFixed(3)}; at the 50% cut-off the model catches ${pct(cut.y, 0)} of delayed flights and wrongly flags ${pct(cut.x, 0)} of on-time ones.` });
      for (const v of [0, 0.25, 0.5, 0.75, 1]) {
        chart.append(
          svg("line", { class: "grid", x1: x(0), x2: x(1), y1: y(v), y2: y(v) }),
          svg("line", { class: "grid", x1: x(v), x2: x(v), y1: y(0), y2: y(1) }),
          svg("text", { class: "axis", x: pad - 5, y: y(v), "text-anchor": "end", "dominant-baseline": "middle", text: pct(v, 0) }),
          svg("text", { class: "axis", x: x(v), y: y(0) + 16, "text-anchor": "middle", text: pct(v, 0) }));
      }
      chart.append(
        svg("line", { class: "average", x1: x(0), y1: y(0), x2: x(1), y2: y(1) }),
        svg("polyline", { class: "curve", points: points.map((p) => `${x(p.falsePositiveRate).toFixed(1)},${y(p.truePositiveRate).toFixed(1)}`).join(" ") }),
        svg("circle", { class: "cut-point", cx: x(cut.x), cy: y(cut.y), r: 5 }, svg("title", { text: `50% cut-off: ${pct(cut.y)} of delays caught, ${pct(cut.x)} of on-time flights flagged` })),
        svg("text", { class: "axis", x: x(cut.x) + 8, y: y(cut.y) + 14, text: "50% cut-off" }),
        svg("text", { class: "axis", x: x(0.5), y: y(0) + 34, "text-anchor": "middle", text: "on-time flights wrongly flagged" }),
        svg("text", { class: "axis", x: 12, y: y(0.5), "text-anchor": "middle", transform: `rotate(-90 12 ${y(0.5)})`, text: "delayed flights caught" }));
      return chart;
    },
  };

  /** An axis from 0 to a round number at or above max, in 3 to 6 round steps (whole steps when integers). */
  function axis(max, integers) {
    const rough = max / 4;
    const magnitude = 10 ** Math.floor(Math.log10(rough));
    let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) || 10 * magnitude;
    if (integers) step = Math.max(1, Math.ceil(step));
    return { ceiling: Math.ceil(max / step - 1e-9) * step, step };
  }

  // ---------------------------------------------------------------- start

  document.addEventListener("DOMContentLoaded", () => {
    auth.set(auth.key);
    $("#key-forget").addEventListener("click", () => auth.set(null));
    $("#key-cancel").addEventListener("click", () => $("#key-dialog").close("cancel"));
    setUpPredict();
    setUpBatch();
    jobs.setUp();
    route(false);
    window.addEventListener("hashchange", () => route(true));
    // Ask for the key (when keys are on) at once rather than at the first click.
    if (!jobs.visible) jobs.load();
  });
})();
