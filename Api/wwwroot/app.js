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
  const LIST_PAGE = 10;
  // While the service cannot be reached, ask again after 1, 2, 4... seconds, at most this long.
  const MAX_BACKOFF_MS = 15_000;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TABS = ["predict", "batch", "jobs", "model"];
  const TITLES = { predict: "Predict a delay", batch: "Score a file", jobs: "Jobs", model: "The model" };
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  const FINAL = new Set(["succeeded", "failed", "canceled"]);

  const count = new Intl.NumberFormat("en");
  // The served model's card as the page was rendered; replaced when a promotion from the Model tab changes it.
  let card = readModelCard(document);
  // What the server says about itself in the page (the upload limit, when a combination counts as rare).
  const settings = document.getElementById("main")?.dataset || {};
  const MAX_UPLOAD_BYTES = Number(settings.maxUploadBytes) || Infinity;
  const FEW_FLIGHTS = Number(settings.fewFlights) || 0;
  let THRESHOLD = card?.calibration?.decisionThreshold ?? 0.5;

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

  /** A number with digits decimals, halves up: the same steps as the server's PageHtml.Fixed, so both write the same figures. */
  const fixed = (value, digits) => {
    const scale = 10 ** digits;
    return (Math.floor(value * scale + 0.5) / scale).toFixed(digits);
  };
  const pct = (share, digits = 1) => fixed(share * 100, digits) + "%";

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
  /** What a job is called on the page: its name (the uploaded file's), else its id's end. */
  const jobTitle = (job) => job.name || `Job ${shortId(job.id)}`;
  /** The results file's name, as the service names it: march.csv's are march-results.csv. */
  const resultsFile = (job) => (job.name ? job.name.replace(/\.[^.]*$/, "") : `job-${job.id}`) + "-results.csv";
  const size = (bytes) => (bytes < 1024 * 1024 ? Math.max(1, Math.round(bytes / 1024)) + " KB" : (bytes / 1024 / 1024).toFixed(1) + " MB");

  function readModelCard(root) {
    const data = root.getElementById("model-card");
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
      return connection.watch(fetch(path, { ...options, headers }));
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

  // ---------------------------------------------------------------- connection

  /**
   * One connection state for the whole page. A request that fails at the network level (fetch throws) marks the
   * connection lost: one banner says so, pollers wait with backoff instead of piling up errors, and live figures
   * (rate, time left) stay as they were. The next request that gets any answer clears the banner and tells the
   * listeners, so every stale message goes away.
   */
  const connection = {
    lost: false,
    failures: 0,
    listeners: new Set(),

    /** Runs a request; network failures mark the connection lost and are rethrown with a connection flag. */
    async watch(promise) {
      try {
        const result = await promise;
        this.restored();
        return result;
      } catch (error) {
        if (error?.name !== "AbortError") this.failed();
        error.connection = true;
        throw error;
      }
    },

    failed() {
      this.failures++;
      if (this.lost) return;
      this.lost = true;
      this.banner().hidden = false;
      for (const listener of this.listeners) listener(true);
    },

    restored() {
      this.failures = 0;
      if (!this.lost) return;
      this.lost = false;
      this.banner().hidden = true;
      for (const listener of this.listeners) listener(false);
    },

    /** How long a poller waits before its next try: its usual delay while connected, doubling backoff while not. */
    delay(usual) {
      return this.lost ? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.failures - 1, 4)) : usual;
    },

    banner() {
      let node = document.getElementById("connection");
      if (!node) {
        node = el("p", { id: "connection", className: "connection", role: "status", hidden: true, text: "Connection to the service lost, retrying…" });
        document.querySelector(".top-inner")?.append(node);
      }
      return node;
    },
  };

  /** Uploads with XMLHttpRequest, which (unlike fetch) reports upload progress. */
  function upload(file, contentType, onProgress) {
    return auth.run((headers) => new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/v1/jobs");
      xhr.setRequestHeader("Content-Type", contentType);
      // The file's name becomes the job's name (shown in the lists, and the stem of the results file).
      xhr.setRequestHeader("Content-Disposition", `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`);
      for (const [name, value] of headers) xhr.setRequestHeader(name, value);
      xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
      xhr.addEventListener("load", () => {
        let body = null;
        try {
          body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          body = xhr.responseText;
        }
        connection.restored();
        resolve({ status: xhr.status, statusText: xhr.statusText, body, headers: xhr });
      });
      xhr.addEventListener("error", () => {
        connection.failed();
        reject(Object.assign(new Error("the connection failed"), { connection: true }));
      });
      xhr.addEventListener("abort", () => reject(new Error("the upload was aborted")));
      xhr.send(file);
    }));
  }

  /** Saves a URL as a file. A plain link does it, except that a link cannot send the API key: then fetch and save the blob. */
  async function download(event, link) {
    if (!auth.key) return;
    event.preventDefault();
    const response = await auth.run((headers) => connection.watch(fetch(link.href, { headers })));
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
    document.title = `${TITLES[tab]} · FlightDelay`;
    jobs.route(tab === "jobs" ? id || null : undefined, focus);
    if (tab === "model") {
      charts.drawModel();
      models.load();
    }
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
        // The flight in each of the twelve months, in one request: the chosen month's answer and the strip.
        const year = MONTHS.map((_, i) => ({ ...flight, month: i + 1 }));
        const { response, body } = await request("/v1/predictions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ flights: year }),
        });
        if (!response.ok) {
          result.replaceChildren(el("p", { className: "errors", role: "alert", text: problemText(body, response) }));
          return;
        }
        result.replaceChildren(answer(flight, body.predictions[flight.month - 1], body.modelVersion), monthStrip(flight, body.predictions));
        charts.fit(result);
      } catch (error) {
        result.replaceChildren(el("p", { className: "errors", role: "alert", text: error.connection
          ? "The service could not be reached. Check the connection and press Predict again."
          : "Something went wrong: " + error.message }));
      } finally {
        result.removeAttribute("aria-busy");
      }
    });
  }

  /** The same markup the server renders for POST /predict (PageHtml.Answer): every figure from the answer or the model card. */
  function answer(flight, p, modelVersion) {
    const kind = p.delayed ? "delayed" : "on-time";
    const percent = pct(p.probability);
    const type = flight.flightType === "I" ? "International" : "National";
    const monthName = MONTHS[flight.month - 1];
    const training = card?.training;
    const calibration = card?.calibration;
    const airline = training?.byAirline.find((a) => a.airline.toLowerCase() === flight.airline.toLowerCase());
    const month = training?.byMonth.find((m) => m.month === flight.month);
    const combo = training?.byAirlineType?.find((c) => c.airline.toLowerCase() === flight.airline.toLowerCase() && c.flightType === flight.flightType);
    const name = airline?.airline || flight.airline;

    let caution = null;
    if (combo && combo.flights === 0) {
      caution = el("p", { className: "caution", role: "note" }, el("strong", { text: "No training flights:" }),
        ` the training data has no ${type.toLowerCase()} flights of ${name}. This chance is pieced together from the airline's other flights and the month; treat it with care.`);
    } else if (combo && combo.flights < FEW_FLIGHTS) {
      caution = el("p", { className: "caution", role: "note" }, el("strong", { text: "Few training flights:" }),
        ` only ${count.format(combo.flights)} ${type.toLowerCase()} flights of ${name} in the training data, so this chance is a rough estimate.`);
    }

    let why = null;
    if (calibration) {
      const [[tn], [fn]] = card.metrics.confusionMatrix;
      why = p.delayed
        ? el("p", { className: "verdict-why" }, `The model flags flights from a ${pct(THRESHOLD)} chance on, to catch most delays (${pct(calibration.catchRate)} of them in testing). Its hit rate: `,
          el("strong", { text: pct(calibration.hitRate) }), ` of the flights it flagged in testing were delayed. Read the flag as "worth watching", not "will be delayed".`)
        : el("p", { className: "verdict-why" }, `The model flags flights from a ${pct(THRESHOLD)} chance on. Of the flights it did not flag in testing, `,
          el("strong", { text: pct(fn + tn ? fn / (fn + tn) : 0) }), " were delayed all the same.");
    }

    const rate = (label, r) => el("li", {}, label, el("strong", { text: pct(r.delayRate) }), ` of ${count.format(r.flights)} delayed`);
    return el("div", { className: "answer" },
      el("p", { className: "chance" }, el("strong", { className: "chance-value", text: percent }), " chance of a delay over 15 minutes"),
      el("p", { className: "flight", text: `${name} · ${type} · ${monthName}` }),
      svg("svg", { class: "prob-bar", viewBox: "0 0 100 6", preserveAspectRatio: "none", role: "img", "aria-label": `Chance of a delay ${percent}; the model flags a flight from ${pct(THRESHOLD)}.` },
        svg("rect", { class: "track", width: 100, height: 6 }),
        svg("rect", { class: "fill " + kind, width: (p.probability * 100).toFixed(1).replace(/\.0$/, ""), height: 6 }),
        training ? svg("line", { class: "average-mark", x1: round1(training.delayRate * 100), x2: round1(training.delayRate * 100), y1: 0, y2: 6 }) : null,
        svg("line", { class: "cut", x1: round1(THRESHOLD * 100), x2: round1(THRESHOLD * 100), y1: 0, y2: 6 })),
      el("p", { className: "scale", "aria-hidden": "true" }, el("span", { text: "0%" }), el("span", { text: `dotted: the average flight · solid: flagged from ${pct(THRESHOLD)}` }), el("span", { text: "100%" })),
      training
        ? el("p", { className: "relative" }, el("strong", { text: `${fixed(training.delayRate > 0 ? p.probability / training.delayRate : 0, 1)}×` }),
          ` the average flight (${pct(training.delayRate)} of all ${count.format(training.flights)} training flights were delayed)`)
        : null,
      el("p", { className: "verdict " + kind, text: p.delayed ? "Flagged as a delay risk" : "Not flagged as a delay risk" }),
      why,
      caution,
      training ? el("p", { className: "rates-title", text: "What happened in the training data (2017):" }) : null,
      training ? el("ul", { className: "rates" },
        airline ? rate(`${name}, all flights: `, airline) : null,
        month ? rate(`All ${monthName} flights: `, month) : null,
        combo && combo.flights > 0 ? rate(`${name}, ${type.toLowerCase()}: `, combo) : null) : null,
      el("p", { className: "model-version" }, "Model ", el("code", { text: modelVersion })));
  }

  /** C#'s Math.Round(x, 1) as the server writes it ("18.6", "20"). */
  function round1(x) {
    return String(Math.round(x * 10) / 10);
  }

  /** The chosen airline and type in each month: the model's chance, the chosen month marked, the average flight dashed. */
  function monthStrip(flight, predictions) {
    const type = flight.flightType === "I" ? "international" : "national";
    const name = card?.training?.byAirline.find((a) => a.airline.toLowerCase() === flight.airline.toLowerCase())?.airline || flight.airline;
    const host = el("div", { className: "chart", id: "month-strip-chart" });
    charts.host(host, (width) => charts.columns(predictions.map((p, i) => ({
      label: MONTHS[i].slice(0, 3),
      value: p.probability,
      className: i + 1 === flight.month ? "chosen" : "",
      title: `${MONTHS[i]}: ${pct(p.probability)} chance of a delay`,
    })), {
      width,
      label: `Chance of a delay for ${name} ${type} flights in each month`,
      average: card?.training?.delayRate,
      percent: true,
      yTitle: "Chance of a delay",
    }));
    return el("figure", { className: "month-strip", id: "month-strip" },
      el("figcaption", { text: `${name}, ${type} flights, month by month` }),
      host,
      el("p", { className: "hint", text: `${MONTHS[flight.month - 1]} is highlighted.` + (card?.training ? ` Dashed line: the average flight, ${pct(card.training.delayRate)}.` : "") }));
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

  /** Workbooks by name, and by their first bytes: ZIP (xlsx, ods) or OLE2 (xls). A CSV starts with neither. */
  const WORKBOOK_NAME = /\.(xlsx|xlsm|xlsb|xls|ods|numbers)$/i;
  const WORKBOOK_MAGIC = [[0x50, 0x4b, 0x03, 0x04], [0xd0, 0xcf, 0x11, 0xe0]];

  async function isWorkbook(file) {
    if (WORKBOOK_NAME.test(file.name)) return true;
    const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
    return WORKBOOK_MAGIC.some((magic) => magic.every((b, i) => head[i] === b));
  }

  /** Checks what the page can check before sending a byte (empty, too big, a workbook), then uploads. */
  async function submit(file) {
    const status = $("#upload-status");
    $("#upload-errors").replaceChildren();
    status.textContent = "";
    if (file.size === 0) {
      showUploadError(file, "The file is empty.");
      return;
    }
    if (file.size > MAX_UPLOAD_BYTES) {
      showUploadError(file, `The file is ${size(file.size)}; the service takes files up to ${size(MAX_UPLOAD_BYTES)}. Split it into smaller files, or send it compressed (gzip) with the API.`);
      return;
    }
    if (await isWorkbook(file)) {
      showUploadError(file, null, el("div", { className: "workbook" },
        el("p", { text: "This is a spreadsheet workbook, not a CSV file: the service reads text, one flight per line. Save the sheet as CSV and upload that file:" }),
        el("ul", {},
          el("li", {}, el("strong", { text: "Excel: " }), "File › Save As (or Save a Copy), file type ", el("em", { text: "CSV UTF-8 (Comma delimited) (*.csv)" }), "."),
          el("li", {}, el("strong", { text: "LibreOffice Calc: " }), "File › Save As…, file type ", el("em", { text: "Text CSV (.csv)" }), ", then Keep Current Format."),
          el("li", {}, el("strong", { text: "Google Sheets or Numbers: " }), "File › Download (Export To) › ", el("em", { text: "Comma-separated values (.csv)" }), ".")),
        el("p", { className: "hint", text: "Only the first sheet is saved; it needs the columns airline, flightType and month." })));
      return;
    }
    await send(file);
  }

  async function send(file) {
    const status = $("#upload-status");
    $("#upload-errors").replaceChildren();
    const contentType = /\.json$/i.test(file.name) || file.type === "application/json" ? "application/json" : "text/csv";
    status.textContent = `Uploading ${file.name} (${size(file.size)})…`;
    let reply;
    try {
      reply = await upload(file, contentType, (loaded, total) => {
        status.textContent = `Uploading ${file.name} (${size(file.size)}): ${pct(total ? loaded / total : 0, 0)}`;
      });
    } catch (error) {
      status.textContent = "";
      showConnectionProblem(file, error);
      return;
    }
    if (reply.status === 202) {
      status.textContent = `${file.name}: ${count.format(reply.body.totalRows)} flights accepted.`;
      currentJob?.stop();
      currentJob = new JobPanel(reply.body, { details: false });
      $("#current-job").replaceChildren(currentJob.node);
      currentJob.start();
      // The new job is where the eye is, right under the drop zone; focus moves to it for keyboards and screen readers.
      currentJob.node.querySelector("h3").focus();
      jobs.invalidate();
      return;
    }
    status.textContent = "";
    const body = reply.body;
    if (reply.status === 400 && body && Array.isArray(body.rows)) showRowErrors(file, body.rows);
    else showUploadError(file, problemText(body, { status: reply.status, statusText: reply.statusText }));
  }

  /** The upload broke off on the network: not the file's fault, and nothing was stored. Offers to send it again. */
  function showConnectionProblem(file, error) {
    const retry = el("button", { type: "button", text: "Retry upload", onclick: () => send(file) });
    const problem = el("div", { className: "card problem connection-problem", role: "alert", tabindex: -1 },
      el("h3", { text: `The upload of ${file.name} did not reach the service` }),
      el("p", { text: error.connection
        ? "The connection was lost while sending the file. Nothing was stored, and there is nothing wrong with the file: check the connection and send it again."
        : `The upload stopped (${error.message}). Nothing was stored.` }),
      el("div", { className: "actions" }, retry));
    $("#upload-errors").replaceChildren(problem);
    problem.focus();
  }

  /** The service refused the file: why, right under the drop zone, focused. */
  function showUploadError(file, message, extra) {
    const problem = el("div", { className: "card problem", role: "alert", tabindex: -1 },
      el("h3", { text: `${file.name} was not accepted` }),
      message ? el("p", { text: message }) : null,
      extra || null);
    $("#upload-errors").replaceChildren(problem);
    problem.focus();
  }

  function showRowErrors(file, rows) {
    $("#upload-errors").replaceChildren(el("div", { className: "card problem", role: "alert", tabindex: -1 },
      el("h3", { text: `${file.name} was not accepted` }),
      el("p", { text: `Nothing was stored. ${rows.length === 1 ? "One row is" : `${rows.length} rows are`} wrong${rows.length >= 20 ? " (the first 20 are shown)" : ""}: fix ${rows.length === 1 ? "it" : "them"} and upload the file again.` }),
      el("div", { className: "table-wrap" },
        el("table", { className: "row-errors" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Row" }), el("th", { scope: "col", text: "Where" }), el("th", { scope: "col", text: "What is wrong" }))),
          el("tbody", {}, rows.map((r) => el("tr", {},
            el("td", { className: "num", text: r.row === undefined || r.row === null ? "–" : String(r.row) }),
            el("td", { text: r.where || "" }),
            el("td", { text: r.message || "" }))))))));
    $("#upload-errors .problem").focus();
  }

  // ---------------------------------------------------------------- one job

  /**
   * A job as a card: status, a live progress bar (rows done of total, rate, time left), cancel, download and,
   * in details mode, the charts of its results. Polls the job until it is final (and, once canceled, until its
   * chunks in flight have settled). While the connection is lost it keeps what it showed and waits for the page's
   * one connection banner to clear; a message it showed for the outage goes with it.
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
      this.canceling = false;

      this.status = el("span", { className: "badge", "aria-live": "polite" });
      this.progress = el("progress", { max: 1, value: 0, "aria-label": `Progress of ${jobTitle(job)}` });
      this.progressText = el("p", { className: "progress-text" });
      this.notice = el("p", { className: "notice retry-notice", role: "status", hidden: true });
      this.facts = el("dl", { className: "facts" });
      this.message = el("p", { className: "errors", role: "alert", hidden: true });
      this.cancel = el("button", { type: "button", className: "danger", text: "Cancel job", onclick: () => this.confirmCancel() });
      this.download = el("a", { className: "button", href: `${job.links.resultsCsv}?include=inputs`, download: resultsFile(job), text: "Download results (CSV)", hidden: true });
      this.download.addEventListener("click", (e) => download(e, this.download));
      // The details view is the Jobs tab's page (its list heading hidden): its one h1.
      const Heading = details ? "h1" : "h3";
      this.node = el("article", { className: "card job", "data-job": job.id, "aria-label": jobTitle(job) },
        el("div", { className: "job-head" }, el(Heading, { tabindex: -1, className: "job-name", text: jobTitle(job) }), this.status),
        this.progress,
        this.progressText,
        this.notice,
        this.message,
        el("div", { className: "actions" }, this.cancel, this.download,
          details ? null : el("a", { className: "button secondary", href: `#jobs/${job.id}`, text: "Details and charts" })),
        this.facts);
      if (details) {
        this.charts = el("div", { className: "split job-charts" });
        this.node.append(this.charts);
      }
      this.onConnection = (lost) => {
        if (lost) return;
        // Back: what was said about the outage is stale, and the rate must not count the time away.
        if (this.message.dataset.stale) this.showMessage("");
        this.samples = [];
      };
      connection.listeners.add(this.onConnection);
      this.render(job);
    }

    start() {
      this.stopped = false;
      if (this.details) this.loadSummary();
      if (this.active()) this.schedule();
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
      connection.listeners.delete(this.onConnection);
    }

    /** Still worth polling: not final, or canceled with chunks a worker is still finishing. */
    active() {
      return !FINAL.has(this.job.status) || (this.job.status === "canceled" && this.job.chunksInFlight > 0);
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
        // An answer: what an earlier poll reported (an error status, the outage) is stale now.
        if ((response.status === 200 || response.status === 304) && this.message.dataset.stale) this.showMessage("");
        if (response.status === 200) {
          this.etag = response.headers.get("ETag");
          this.render(body);
        } else if (response.status === 304) {
          this.render(this.job);
        } else if (response.status === 429) {
          // Over the client's request rate: wait as long as the service says.
          delay = Math.max(POLL_MS, 1000 * Number(response.headers.get("Retry-After") || 1));
        } else {
          this.showMessage(problemText(body, response), { stale: true });
        }
      } catch (error) {
        if (this.stopped) return;
        // The page's banner says the connection is lost; this card keeps its figures as they were.
        if (!error.connection) this.showMessage("Something went wrong: " + error.message);
      }
      // While it runs, the charts follow every few seconds; a very big job's summary is costly, so only at the end.
      if (!connection.lost && this.details && !FINAL.has(this.job.status) && this.job.totalRows <= 1_000_000 && Date.now() - this.summaryAt > 5000) this.loadSummary();
      if (this.active()) this.schedule(connection.delay(delay));
    }

    render(job) {
      const wasFinal = FINAL.has(this.job.status);
      this.job = job;
      const final = FINAL.has(job.status);
      const settling = job.status === "canceled" && job.chunksInFlight > 0;
      const shown = settling ? "canceling" : job.status;
      this.node.dataset.status = shown;
      this.status.textContent = shown;
      this.status.className = "badge status-" + shown;
      this.progress.value = job.progress;

      const now = Date.now();
      this.samples.push({ at: now, rows: job.processedRows });
      while (this.samples.length > 2 && now - this.samples[0].at > 10_000) this.samples.shift();

      let text = `${count.format(job.processedRows)} of ${count.format(job.totalRows)} rows (${pct(job.progress, 0)})`;
      if (job.status === "running" && job.retry) {
        // Waiting for a retry: a time left would only grow; say what is awaited instead.
        text += " · waiting for a retry";
      } else if (job.status === "running" && job.startedAt) {
        const first = this.samples[0];
        const rate = now > first.at ? ((job.processedRows - first.rows) * 1000) / (now - first.at) : 0;
        const started = (job.processedRows * 1000) / Math.max(1, now - Date.parse(job.startedAt));
        const perSecond = rate > 0 ? rate : started;
        if (perSecond > 0) text += ` · ${count.format(Math.round(perSecond))} rows/s · about ${duration(((job.totalRows - job.processedRows) * 1000) / perSecond)} left`;
      } else if (job.status === "queued") {
        text += " · waiting for a worker";
      } else if (settling) {
        text += ` · canceling: ${job.chunksInFlight === 1 ? "1 chunk" : `${count.format(job.chunksInFlight)} chunks`} in progress will finish first`;
      } else if (final && job.startedAt && job.finishedAt) {
        const took = Date.parse(job.finishedAt) - Date.parse(job.startedAt);
        text += ` · took ${duration(took)}`;
        if (took > 0) text += ` · ${count.format(Math.round((job.processedRows * 1000) / took))} rows/s`;
      }
      if (job.failedRows > 0) text += ` · ${count.format(job.failedRows)} rows failed`;
      this.progressText.textContent = text;

      if (job.retry && !final) {
        const due = Date.parse(job.retry.nextAttemptAt);
        const chunks = job.retry.chunks === 1 ? "1 chunk" : `${count.format(job.retry.chunks)} chunks`;
        const when = due > now ? `next attempt at ${new Date(due).toLocaleTimeString()} (in about ${duration(due - now)})` : "next attempt due now";
        this.notice.textContent = `Waiting to retry ${chunks}: ${when}.` + (job.retry.lastError ? ` Last error: ${job.retry.lastError}` : "");
        this.notice.hidden = false;
      } else {
        this.notice.hidden = true;
      }

      this.cancel.hidden = final;
      this.download.hidden = !final || job.processedRows === 0 || settling;
      if (job.error) this.showMessage(job.error);
      else if (job.status === "canceled" && settling) this.showMessage(`Canceling: the ${job.chunksInFlight === 1 ? "chunk" : "chunks"} being scored will finish, then the job stops.`);
      else if (job.status === "canceled") this.showMessage(`Canceled: ${count.format(job.processedRows)} of ${count.format(job.totalRows)} rows were scored; their results can still be downloaded.`);

      this.facts.replaceChildren(
        ...(job.name ? fact("Name", job.name) : []),
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

    /** One message line; a stale one (a poll's error, a connection problem) is cleared by the next answer. */
    showMessage(text, { stale = false } = {}) {
      this.message.textContent = text;
      this.message.hidden = !text;
      if (stale) this.message.dataset.stale = "true";
      else delete this.message.dataset.stale;
    }

    /** Canceling cannot be undone: ask first, saying what stays and what stops. */
    async confirmCancel() {
      const dialog = $("#cancel-dialog");
      $("#cancel-text").textContent = `${jobTitle(this.job)}: ${count.format(this.job.processedRows)} of ${count.format(this.job.totalRows)} rows are scored so far. ` +
        "Their results stay downloadable; the rest will not be scored. This cannot be undone.";
      dialog.returnValue = "";
      const closed = new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
      dialog.showModal();
      $("#cancel-keep").focus();
      await closed;
      if (dialog.returnValue === "cancel-job") await this.cancelJob();
      else this.cancel.focus();
    }

    async cancelJob() {
      this.cancel.disabled = true;
      try {
        const { response, body } = await request(this.job.links.cancel, { method: "POST" });
        if (response.ok) {
          this.render(body);
          if (this.active()) this.schedule();
        } else this.showMessage(problemText(body, response));
      } catch (error) {
        this.showMessage(error.connection ? "The job could not be canceled: the service could not be reached. Try again once the connection is back." : "Something went wrong: " + error.message,
          { stale: Boolean(error.connection) });
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
        // Lost connection: the banner says so, and the next poll after it is back loads the charts again.
        if (!error.connection) this.charts.replaceChildren(el("p", { className: "errors", text: "The charts could not be loaded: " + error.message }));
        this.summaryAt = 0;
        return;
      }
      if (this.stopped) return;
      if (!response.ok) {
        this.charts.replaceChildren(el("p", { className: "errors", text: problemText(body, response) }));
        return;
      }
      const scored = body.scoredRows;
      const share = (n) => pct(scored ? n / scored : 0);
      const histogram = el("div", { className: "chart" });
      charts.host(histogram, (width) => charts.histogram(body.histogram, width));
      const airlines = el("div", { className: "chart" });
      charts.host(airlines, (width) => charts.bars(body.byAirline
        .slice()
        .sort((a, b) => b.expectedShare - a.expectedShare || b.rows - a.rows)
        .map((a) => ({
          label: a.airline,
          value: a.expectedShare,
          reference: a.historicalRate,
          note: `${pct(a.expectedShare, 0)} of ${count.format(a.rows)}`,
          title: `${a.airline}: ${count.format(a.rows)} rows, ${count.format(a.expectedDelayed)} delays expected (${pct(a.expectedShare)}); 2017 rate ${a.historicalRate === null || a.historicalRate === undefined ? "unknown" : pct(a.historicalRate)}`,
        })), {
        width,
        label: "Expected share of each airline's rows delayed, with its 2017 rate",
        xTitle: "Expected share delayed (mean chance)",
        referenceLabel: "2017 rate",
      }));
      this.charts.replaceChildren(
        el("figure", { className: "card", id: "job-histogram" },
          el("figcaption", { text: `Predicted delay probabilities (${count.format(scored)} rows)` }),
          histogram,
          el("p", { className: "expected" }, "Delayed flights to expect: ", el("strong", { text: count.format(Math.round(body.expectedDelayed)) }),
            ` of ${count.format(scored)} (${share(body.expectedDelayed)}), the sum of their chances.`,
            body.historicalDelayed === null || body.historicalDelayed === undefined ? "" : ` At their airlines' 2017 delay rates: ${count.format(Math.round(body.historicalDelayed))} (${share(body.historicalDelayed)}).`),
          el("p", { className: "hint", text: `${count.format(body.delayedRows)} rows (${share(body.delayedRows)}) are flagged: a chance of ${pct(THRESHOLD)} or more. A flag means "worth watching"; of flagged test flights, ${pct(card?.calibration?.hitRate ?? 0)} were delayed.` })),
        el("figure", { className: "card", id: "job-airlines" },
          el("figcaption", { text: "Expected share delayed, by airline" }),
          airlines,
          el("p", { className: "hint", text: "Bars: the mean chance of this job's rows. Ticks: the airline's delay rate in 2017." })));
      charts.fit(this.charts);
    }
  }

  function fact(name, value) {
    return [el("dt", { text: name }), el("dd", { text: value })];
  }

  // ---------------------------------------------------------------- job list

  /**
   * The Jobs tab: the list of recent jobs (kept fresh while some run) with a status filter, a search by name and
   * pages of LIST_PAGE, or one job's details (#jobs/{id}).
   */
  const jobs = {
    items: [],
    next: null,
    offset: 0,
    wanted: 0,
    seq: 0,
    timer: null,
    searchTimer: null,
    visible: false,
    detail: null,

    setUp() {
      $("#jobs-refresh").addEventListener("click", () => this.load());
      $("#jobs-older").addEventListener("click", () => this.load(this.offset + LIST_PAGE, "#jobs-older"));
      $("#jobs-newer").addEventListener("click", () => this.load(Math.max(0, this.offset - LIST_PAGE), "#jobs-newer"));
      $("#jobs-status").addEventListener("change", () => this.load(0));
      $("#jobs-search").addEventListener("input", () => {
        // Search as the person types, once they pause.
        clearTimeout(this.searchTimer);
        this.searchTimer = setTimeout(() => this.load(0), 300);
      });
      $("#jobs-filter").addEventListener("submit", (e) => {
        e.preventDefault();
        clearTimeout(this.searchTimer);
        this.load(0);
      });
      connection.listeners.add((lost) => {
        if (!lost && this.visible && !this.detail) this.load(this.wanted);
      });
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
      if (id && this.detail) document.title = `${jobTitle(this.detail.job)} · Jobs · FlightDelay`;
      if (this.visible && !id) this.load(this.wanted);
    },

    invalidate() {
      if (this.visible) this.load(this.wanted);
    },

    query(offset) {
      const params = new URLSearchParams({ limit: String(LIST_PAGE), offset: String(offset) });
      const status = $("#jobs-status").value;
      const search = $("#jobs-search").value.trim();
      if (status) params.set("status", status);
      if (search) params.set("q", search);
      return "/v1/jobs?" + params;
    },

    async load(offset = 0, keepFocus) {
      clearTimeout(this.timer);
      // Every load reads the search field, so a typed search still waiting for its pause is served by this one.
      clearTimeout(this.searchTimer);
      // Loads overlap (a refresh in flight when the person pages or searches): only the latest may draw the list, and
      // a refresh reloads the page last asked for, not the one last drawn.
      const seq = ++this.seq;
      this.wanted = offset;
      const error = $("#jobs-error");
      try {
        const { response, body } = await request(this.query(offset), { cache: "no-store" });
        if (seq !== this.seq) return;
        if (!response.ok) {
          error.textContent = problemText(body, response);
          error.hidden = false;
          return;
        }
        error.hidden = true;
        this.items = body.items;
        this.offset = body.offset;
        this.next = body.next;
        this.render();
        // The pager's button may have just been hidden (first or last page): keep the keyboard in the pager.
        if (keepFocus && $(keepFocus).hidden) ($("#jobs-older").hidden ? $("#jobs-newer") : $("#jobs-older")).focus();
      } catch (e) {
        // The banner says the connection is lost; the list stays as it was and reloads when it is back.
        if (seq === this.seq && !e.connection) {
          error.textContent = "Something went wrong: " + e.message;
          error.hidden = false;
        }
        return;
      }
      if (this.visible && this.items.some((j) => !FINAL.has(j.status))) this.timer = setTimeout(() => this.load(this.wanted), LIST_REFRESH_MS);
    },

    render() {
      const rows = this.items.map((job) => {
        const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
        const took = job.startedAt ? duration(end - Date.parse(job.startedAt)) : "–";
        // data-label names each cell where narrow screens show the rows as cards.
        return el("tr", { "data-job": job.id, "data-status": job.status },
          el("td", { className: "job-cell", "data-label": "Job" }, el("a", { href: `#jobs/${job.id}`, text: jobTitle(job) })),
          el("td", { "data-label": "Submitted", text: time(job.createdAt) }),
          el("td", { "data-label": "Status" }, el("span", { className: "badge status-" + job.status, text: job.status })),
          el("td", { className: "num", "data-label": "Rows", text: count.format(job.totalRows) }),
          el("td", { className: "num", "data-label": "Duration", text: took }),
          el("td", { className: "progress-cell", "data-label": "Progress" }, el("progress", { max: 1, value: job.progress, "aria-label": `Progress of ${jobTitle(job)}` }), " " + pct(job.progress, 0)));
      });
      $("#jobs-table tbody").replaceChildren(...rows);
      $("#jobs-table").hidden = rows.length === 0;
      const filtered = $("#jobs-status").value || $("#jobs-search").value.trim();
      $("#jobs-empty").hidden = rows.length > 0;
      if (rows.length === 0) {
        $("#jobs-empty").replaceChildren(...(filtered
          ? ["No jobs match this search or status."]
          : ["No jobs yet. Upload a file under ", el("a", { href: "#batch", text: "Batch" }), "."]));
      }
      $("#jobs-older").hidden = !this.next;
      $("#jobs-newer").hidden = this.offset === 0;
      $("#jobs-page").textContent = rows.length ? `Jobs ${count.format(this.offset + 1)}–${count.format(this.offset + rows.length)}` : "";
    },

    async open(id, focus) {
      this.detail?.stop();
      this.detail = null;
      const target = $("#job-details");
      const back = el("p", {}, el("a", { href: "#jobs", text: "← All jobs" }));
      target.replaceChildren(back, el("p", { className: "placeholder", text: "Loading…" }));
      let response, body;
      try {
        ({ response, body } = await request(`/v1/jobs/${encodeURIComponent(id)}`, { cache: "no-store" }));
      } catch {
        target.replaceChildren(back, el("p", { className: "placeholder", text: "Waiting for the connection…" }));
        const retry = (lost) => {
          if (lost) return;
          connection.listeners.delete(retry);
          if (location.hash === `#jobs/${id}`) this.open(id, focus);
        };
        connection.listeners.add(retry);
        return;
      }
      if (!response.ok) {
        target.replaceChildren(back, el("h1", { tabindex: -1, text: "Job not found" }), el("p", { className: "errors", role: "alert", text: problemText(body, response) }));
        return;
      }
      this.detail = new JobPanel(body, { details: true });
      target.replaceChildren(back, this.detail.node);
      document.title = `${jobTitle(body)} · Jobs · FlightDelay`;
      this.detail.start();
      if (focus) this.detail.node.querySelector("h1").focus({ preventScroll: true });
    },
  };

  // ---------------------------------------------------------------- model versions

  /**
   * The Model tab's registry side (/v1/models): the versions with their roles and the buttons that change them, a
   * version's live quality from reported outcomes against its test figures, and the challenger's comparison with
   * the served version. Loaded each time the tab shows and by its Refresh button: roles also change from elsewhere.
   */
  const models = {
    list: null,
    seq: 0,
    qualitySeq: 0,
    comparisonSeq: 0,
    // The version whose live quality shows; null follows the champion.
    chosen: null,

    setUp() {
      $("#models-refresh").addEventListener("click", () => this.load());
      $("#quality-form").addEventListener("submit", (e) => e.preventDefault());
      $("#quality-version").addEventListener("change", (e) => {
        this.chosen = e.target.value;
        this.loadQuality();
      });
    },

    async load() {
      const seq = ++this.seq;
      let response, body;
      try {
        ({ response, body } = await request("/v1/models", { cache: "no-store" }));
      } catch (error) {
        // Lost connection: the banner says so; the tab keeps what it showed.
        if (!error.connection && seq === this.seq) this.problem(el("p", { text: "The versions could not be loaded: " + error.message }));
        return;
      }
      if (seq !== this.seq) return;
      if (!response.ok) {
        this.problem(el("p", { text: problemText(body, response) }));
        return;
      }
      this.list = body;
      this.render();
      // The figures above are the page's card: after a promotion (here or elsewhere) they belong to another version.
      if (body.champion && card && body.champion !== card.version) this.refreshCard(body.champion);
      await Promise.all([this.loadQuality(), this.loadComparison()]);
    },

    render() {
      const rows = this.list.items.map((item) => {
        const v = item.version;
        const actions = [];
        if (item.role !== "champion") actions.push(this.button("Promote", v, () => this.change(item, "promote")));
        if (!item.role) actions.push(this.button("Make challenger", v, () => this.change(item, "challenge"), "secondary"));
        if (item.role === "challenger") actions.push(this.button("Retire", v, () => this.change(item, "retire"), "secondary"));
        actions.push(this.button("Live quality", v, () => this.showQuality(v), "secondary"));
        const role = item.role || "candidate";
        // data-label names each cell where narrow screens show the rows as cards.
        return el("tr", { "data-version": v, "data-role": role, className: item.role === "champion" ? "champion" : null },
          el("th", { scope: "row", className: "version-cell", "data-label": "Version" }, el("code", { text: v })),
          el("td", { "data-label": "Role" }, el("span", { className: "badge role-" + role, text: role })),
          el("td", { "data-label": "Algorithm", text: item.card.algorithm }),
          el("td", { "data-label": "Trained", text: time(item.card.trainedAt) }),
          el("td", { className: "num", "data-label": "Test ROC AUC", text: fixed(item.card.metrics.rocAuc, 3) }),
          el("td", { "data-label": "Source", text: item.source }),
          el("td", { "data-label": "Registered", text: time(item.registeredAt) }),
          el("td", { className: "actions-cell", "data-label": "Actions" }, el("div", { className: "row-actions" }, actions)));
      });
      $("#versions-table tbody").replaceChildren(...rows);

      const select = $("#quality-version");
      const current = this.qualityVersion();
      select.replaceChildren(...this.list.items.map((item) =>
        el("option", { value: item.version, selected: item.version === current, text: item.role ? `${item.version} (${item.role})` : item.version })));
    },

    /** A row's button: its text, and the version in its accessible name ("Promote m-…"), which starts with the text. */
    button(text, version, onclick, kind) {
      return el("button", { type: "button", className: kind || null, "aria-label": `${text} ${version}`, text, onclick });
    },

    qualityVersion() {
      const items = this.list?.items || [];
      return this.chosen && items.some((i) => i.version === this.chosen) ? this.chosen : this.list?.champion;
    },

    /** One error for the versions section, under the table, focused. */
    problem(...content) {
      const box = el("div", { className: "card problem", role: "alert", tabindex: -1 }, ...content);
      $("#versions-message").replaceChildren(box);
      box.focus();
      return box;
    },

    /**
     * Promote, challenge or retire, as the row's button asks. A promotion the gate refuses (409: its test ROC AUC is
     * below the champion's) shows both figures and offers to force it; 401 and 403 say an admin key is needed.
     */
    async change(item, action, { force = false } = {}) {
      const v = item.version;
      const status = $("#versions-status");
      $("#versions-message").replaceChildren();
      status.textContent = { promote: `Promoting ${v}…`, challenge: `Making ${v} the challenger…`, retire: `Retiring ${v}…` }[action];
      const buttons = [...document.querySelectorAll("#versions-table button, #versions-message button")];
      for (const b of buttons) b.disabled = true;
      let response, body;
      try {
        ({ response, body } = await request(item.links[action] + (force ? "?force=true" : ""), { method: "POST" }));
      } catch (error) {
        status.textContent = "";
        this.problem(el("p", { text: error.connection
          ? "The service could not be reached; nothing was changed. Try again once the connection is back."
          : "Something went wrong: " + error.message }));
        return;
      } finally {
        for (const b of buttons) b.disabled = false;
      }
      if (response.ok) {
        status.textContent = {
          promote: `${v} is now the champion: it scores every request and job that names no version.`,
          challenge: `${v} is now the challenger: every job from now on is also scored by it, in the shadow.`,
          retire: `${v} is no longer the challenger.`,
        }[action];
        // The button pressed may be gone with the new roles: the keyboard goes to what was said.
        status.focus();
        await this.load();
        return;
      }
      status.textContent = "";
      if (response.status === 409 && action === "promote" && typeof body?.rocAuc === "number") this.gate(item, body);
      else if (response.status === 401 || response.status === 403) this.needsAdmin(item, action, force, response.status);
      else this.problem(el("p", { text: problemText(body, response) }));
    },

    gate(item, refusal) {
      const champion = refusal.champion || this.list?.champion || "the champion";
      const margin = refusal.tolerance > 0 ? `more than ${refusal.tolerance} below` : "below";
      this.problem(
        el("h3", { text: `${item.version} was not promoted` }),
        el("p", {}, "Its test ROC AUC, ", el("strong", { className: "gate-auc", text: fixed(refusal.rocAuc, 4) }), `, is ${margin} the champion ${champion}'s `,
          el("strong", { className: "gate-champion-auc", text: fixed(refusal.championRocAuc, 4) }),
          ": on the same test flights it ranks delayed flights above on-time ones less well."),
        el("p", { className: "hint", text: "Promote it anyway only for a reason the test set does not show (newer data, a fix). It would score every request and job that names no version." }),
        el("div", { className: "actions" },
          el("button", { type: "button", className: "danger", text: "Promote anyway", onclick: () => this.change(item, "promote", { force: true }) }),
          el("button", { type: "button", className: "secondary", text: `Keep ${champion}`, onclick: () => {
            $("#versions-message").replaceChildren();
            document.querySelector(`#versions-table tr[data-version="${item.version}"] button`)?.focus();
          } })));
    },

    needsAdmin(item, action, force, status) {
      this.problem(
        el("h3", { text: "An admin API key is needed" }),
        el("p", { text: status === 401
          ? "Changing model roles needs an API key with admin rights, and none was given. Nothing was changed."
          : "The API key in use may score flights but not change model roles: that needs a key with admin rights (ApiKeys:Keys:N:Admin). Nothing was changed." }),
        el("div", { className: "actions" },
          el("button", { type: "button", text: "Enter an admin key", onclick: async () => {
            if (await auth.ask("")) await this.change(item, action, { force });
          } })));
    },

    showQuality(version) {
      this.chosen = version;
      $("#quality-version").value = version;
      this.loadQuality();
      $("#quality-title").focus({ preventScroll: true });
      $("#model-quality").scrollIntoView({ block: "start" });
    },

    async loadQuality() {
      const target = $("#quality");
      const version = this.qualityVersion();
      const item = this.list?.items.find((i) => i.version === version);
      if (!item) {
        target.replaceChildren(el("p", { className: "placeholder", text: "No version is registered yet." }));
        return;
      }
      const seq = ++this.qualitySeq;
      let response, body;
      try {
        ({ response, body } = await request(`${item.links.quality}?bucket=day`, { cache: "no-store" }));
      } catch (error) {
        if (!error.connection && seq === this.qualitySeq) target.replaceChildren(el("p", { className: "errors", text: "Live quality could not be loaded: " + error.message }));
        return;
      }
      if (seq !== this.qualitySeq) return;
      if (!response.ok) {
        target.replaceChildren(el("p", { className: "errors", role: "alert", text: problemText(body, response) }));
        return;
      }
      target.replaceChildren(this.quality(item, body));
      charts.fit(target);
    },

    quality(item, q) {
      const live = q.live, test = q.test;
      const who = item.role === "champion" ? `${item.version}, the champion,` : item.version;
      if (live.flights === 0) {
        return el("div", { className: "card", id: "quality-empty" },
          el("p", {}, el("strong", { text: `No outcomes have been reported for flights ${who} scored in the last 30 days.` }),
            " Live quality needs what really happened to them. Either:"),
          el("ul", {},
            el("li", {}, "upload a file with a ", el("code", { text: "delayed" }), " column (true/false or 1/0) under ", el("a", { href: "#batch", text: "Batch" }),
              ": an evaluation job, whose outcomes are stored as it is read; or"),
            el("li", {}, "report them for a job that has succeeded: ", el("code", { text: "POST /v1/jobs/{id}/outcomes" }), " with CSV lines ",
              el("code", { text: "row,delayed" }), " (the job's rows, from 1)."),
          ),
          el("p", { className: "hint", text: `Its test figures: ROC AUC ${fixed(test.rocAuc, 3)}, recall ${pct(test.recall)}, precision ${pct(test.precision)}.` }));
      }
      const days = q.windows.map((w) => ({
        label: new Date(w.start).toLocaleDateString("en", { month: "short", day: "numeric", timeZone: "UTC" }),
        values: [w.live.rocAuc, w.live.recall],
        flights: w.live.flights,
        live: w.live,
      }));
      const series = [
        { name: "ROC AUC", className: "auc", test: test.rocAuc, format: (v) => fixed(v, 3) },
        { name: "Recall", className: "recall", test: test.recall, format: (v) => pct(v) },
      ];
      const chart = el("div", { className: "chart", id: "quality-chart" });
      charts.host(chart, (width) => charts.lines(days, series, { width, label: `Live ROC AUC and recall of ${item.version} per day, against its test figures`, xTitle: "Day scored (UTC)" }));
      const [[tn, fp], [fn, tp]] = test.confusionMatrix;
      const cell = (v, format) => (v === null || v === undefined ? "–" : format(v));
      const auc = (v) => fixed(v, 3);
      const figures = [
        ["Flights with an outcome", count.format(live.flights), count.format(tn + fp + fn + tp)],
        ["Of them delayed", count.format(live.delayed), count.format(fn + tp)],
        ["ROC AUC", cell(live.rocAuc, auc), auc(test.rocAuc)],
        ["Recall", cell(live.recall, pct), pct(test.recall)],
        ["Precision", cell(live.precision, pct), pct(test.precision)],
        ["Accuracy", cell(live.accuracy, pct), pct(test.accuracy)],
        ["F1", cell(live.f1, auc), auc(test.f1)],
      ];
      return el("div", { className: "split" },
        el("figure", { className: "card", id: "quality-over-time" },
          el("figcaption", { text: `Live ROC AUC and recall per day: ${item.version}` }),
          chart,
          el("p", { className: "hint", text: "Solid: the flights scored that day whose outcome was reported. Dashed: the same figure on the test flights. A day whose flights were all delayed (or none) has no ROC AUC." }),
          el("details", {}, el("summary", { text: "The numbers" }),
            el("table", { className: "data", id: "quality-table" },
              el("thead", {}, el("tr", {}, ["Day", "Flights", "Delayed", "ROC AUC", "Recall", "Precision"].map((h, i) => el("th", { scope: "col", className: i ? "num" : null, text: h })))),
              el("tbody", {}, days.map((d) => el("tr", {},
                el("th", { scope: "row", text: d.label }),
                el("td", { className: "num", text: count.format(d.live.flights) }),
                el("td", { className: "num", text: count.format(d.live.delayed) }),
                el("td", { className: "num", text: cell(d.live.rocAuc, auc) }),
                el("td", { className: "num", text: cell(d.live.recall, pct) }),
                el("td", { className: "num", text: cell(d.live.precision, pct) }))))))),
        el("div", { className: "card", id: "quality-totals" },
          el("h3", { text: "Live against test" }),
          el("table", { className: "data live-test" },
            el("thead", {}, el("tr", {}, el("td"), el("th", { scope: "col", className: "num", text: "Live" }), el("th", { scope: "col", className: "num", text: "Test" }))),
            el("tbody", {}, figures.map(([name, l, t]) => el("tr", { "data-figure": name },
              el("th", { scope: "row", text: name }), el("td", { className: "num live", text: l }), el("td", { className: "num test", text: t }))))),
          confusion(live.confusionMatrix, "Confusion matrix (live flights)")));
    },

    async loadComparison() {
      const target = $("#comparison");
      const list = this.list;
      const challenger = list?.items.find((i) => i.version === list.challenger);
      if (!challenger) {
        target.replaceChildren(el("p", { className: "placeholder", id: "no-challenger",
          text: "No challenger is set. Press Make challenger on a version above: it then scores every job beside the champion, in the shadow, and this section compares the two on the same rows." }));
        return;
      }
      const seq = ++this.comparisonSeq;
      let response, body;
      try {
        ({ response, body } = await request(challenger.links.comparison, { cache: "no-store" }));
      } catch (error) {
        if (!error.connection && seq === this.comparisonSeq) target.replaceChildren(el("p", { className: "errors", text: "The comparison could not be loaded: " + error.message }));
        return;
      }
      if (seq !== this.comparisonSeq) return;
      if (!response.ok) {
        target.replaceChildren(el("p", { className: "errors", role: "alert", text: problemText(body, response) }));
        return;
      }
      target.replaceChildren(this.comparison(challenger, body));
      charts.fit(target);
    },

    comparison(challenger, c) {
      const served = c.served.length ? c.served : [this.list.champion];
      const lead = el("p", { className: "lead" }, "Challenger ", el("code", { text: c.challenger }), ` (${challenger.card.algorithm}) against the served `,
        ...served.flatMap((v, i) => [i ? ", " : "", el("code", { text: v })]), ", on the same job rows over the last 30 days.");
      if (c.rows === 0) {
        return el("div", {}, lead, el("p", { className: "placeholder", id: "comparison-empty" }, "No rows compared yet: the challenger scores every job submitted from now on. Upload a file under ",
          el("a", { href: "#batch", text: "Batch" }), ", then press Refresh above."));
      }
      const points = (v) => (v === null || v === undefined ? "–" : fixed(v * 100, 1) + " points");
      const mean = c.meanDifference ?? 0;
      const tiles = el("ul", { className: "tiles", id: "comparison-tiles" },
        tile("Rows compared", count.format(c.rows), "Job rows scored by both."),
        tile("Same flag", c.agreementRate === null ? "–" : pct(c.agreementRate), `${count.format(c.agreements)} of ${count.format(c.rows)} rows flagged alike (delayed or not).`),
        tile("Mean |difference|", points(c.meanAbsoluteDifference), "How far apart the two chances are, on average."),
        tile("Median |difference|", points(c.medianAbsoluteDifference), "Half the rows differ by less."),
        tile("95th percentile |difference|", points(c.p95AbsoluteDifference), "95% of the rows differ by less."));
      const bins = c.histogram.map((n, i) => {
        const from = -100 + 10 * i;
        return { label: String(from), spoken: `${from} to ${from + 10} points`, value: n, title: `${from} to ${from + 10} points: ${count.format(n)} rows` };
      });
      const chart = el("div", { className: "chart", id: "comparison-chart" });
      charts.host(chart, (width) => charts.columns(bins, {
        width,
        label: "Rows by the challenger's chance of a delay minus the served one, in bins of 10 percentage points",
        xTitle: "Challenger minus served (points, bin start)",
        yTitle: "Rows",
      }));
      const histogram = el("figure", { className: "card", id: "comparison-histogram" },
        el("figcaption", { text: "How far the challenger's chances are from the served ones" }),
        chart,
        el("p", { className: "hint", id: "comparison-mean", text: "Left of 0 the challenger gives a lower chance of a delay than the served version, right of it a higher one. " +
          (Math.abs(mean) < 0.0005 ? "On average the two are the same." : `On average its chance is ${points(Math.abs(mean))} ${mean > 0 ? "higher" : "lower"}.`) }),
        el("details", {}, el("summary", { text: "The numbers" }),
          el("table", { className: "data" },
            el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Difference (points)" }), el("th", { scope: "col", className: "num", text: "Rows" }))),
            el("tbody", {}, bins.map((b) => el("tr", {}, el("th", { scope: "row", text: b.spoken }), el("td", { className: "num", text: count.format(b.value) })))))));
      const sq = c.servedQuality, cq = c.challengerQuality;
      const cell = (v, format) => (v === null || v === undefined ? "–" : format(v));
      const auc = (v) => fixed(v, 3);
      const quality = sq.flights > 0
        ? el("div", { className: "card", id: "comparison-quality" },
          el("h3", { text: "On the compared rows with a reported outcome" }),
          el("table", { className: "data side-by-side" },
            el("thead", {}, el("tr", {}, el("td"),
              el("th", { scope: "col", className: "num" }, "Served ", el("code", { text: served.join(", ") })),
              el("th", { scope: "col", className: "num" }, "Challenger ", el("code", { text: c.challenger })))),
            el("tbody", {}, [
              ["Flights with an outcome", count.format(sq.flights), count.format(cq.flights)],
              ["ROC AUC", cell(sq.rocAuc, auc), cell(cq.rocAuc, auc)],
              ["Recall", cell(sq.recall, pct), cell(cq.recall, pct)],
              ["Precision", cell(sq.precision, pct), cell(cq.precision, pct)],
              ["Accuracy", cell(sq.accuracy, pct), cell(cq.accuracy, pct)],
              ["F1", cell(sq.f1, auc), cell(cq.f1, auc)],
            ].map(([name, a, b]) => el("tr", { "data-figure": name },
              el("th", { scope: "row", text: name }), el("td", { className: "num served", text: a }), el("td", { className: "num challenger", text: b }))))))
        : el("div", { className: "card", id: "comparison-quality" },
          el("h3", { text: "Quality side by side" }),
          el("p", { className: "placeholder", text: "None of the compared rows has a reported outcome yet. Upload an evaluation job (a file with a delayed column) or report outcomes for a job, and both versions' ROC AUC, recall and precision on those rows show here." }));
      return el("div", {}, lead, tiles, el("div", { className: "split" }, histogram, quality));
    },

    /**
     * The served card's figures after a promotion: the server's own rendering of them (GET /, which needs no key), so
     * page and script never differ. Another process may answer that has not switched yet (it does within
     * Model:RolePollInterval): then ask again shortly.
     */
    async refreshCard(version) {
      if (this.refreshing === version) return;
      this.refreshing = version;
      try {
        for (let attempt = 0; attempt < 8; attempt++) {
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
          let html;
          try {
            const response = await connection.watch(fetch("/", { cache: "no-store" }));
            if (!response.ok) continue;
            html = await response.text();
          } catch {
            continue;
          }
          const doc = new DOMParser().parseFromString(html, "text/html");
          const fresh = readModelCard(doc);
          if (fresh?.version !== version) continue;
          this.swapCard(doc, fresh);
          return;
        }
      } finally {
        this.refreshing = null;
      }
    },

    swapCard(doc, fresh) {
      for (const id of ["model-summary", "model-details", "footer-model"]) {
        const old = document.getElementById(id);
        const next = doc.getElementById(id);
        if (!old || !next) continue;
        for (const chart of old.querySelectorAll(".chart")) charts.observer.unobserve(chart);
        old.replaceWith(document.importNode(next, true));
      }
      $("#model-card").textContent = JSON.stringify(fresh);
      card = fresh;
      THRESHOLD = card.calibration?.decisionThreshold ?? 0.5;
      charts.modelDrawn = false;
      if (!$("#model").hidden) charts.drawModel();
    },
  };

  /** A figure as the server renders PageHtml.Tile. */
  function tile(name, value, hint) {
    return el("li", { className: "tile" }, el("span", { className: "tile-value", text: value }), " ", el("span", { className: "tile-name", text: name }), " ", el("span", { className: "tile-hint", text: hint }));
  }

  /** A confusion matrix ([[tn, fp], [fn, tp]]) as the server renders the card's. */
  function confusion(cm, caption) {
    const [[tn, fp], [fn, tp]] = cm;
    return el("figure", { className: "confusion-figure" },
      el("figcaption", { text: caption }),
      el("table", { className: "confusion" },
        el("thead", {}, el("tr", {}, el("td"), el("th", { scope: "col", text: "Predicted on time" }), el("th", { scope: "col", text: "Predicted delayed" }))),
        el("tbody", {},
          el("tr", {}, el("th", { scope: "row", text: "Were on time" }), el("td", { className: "right", text: count.format(tn) }), el("td", { className: "wrong", text: count.format(fp) })),
          el("tr", {}, el("th", { scope: "row", text: "Were delayed" }), el("td", { className: "wrong", text: count.format(fn) }), el("td", { className: "right", text: count.format(tp) })))));
  }

  // ---------------------------------------------------------------- charts

  /**
   * Small SVG charts: bars, columns, a histogram, the ROC curve and the reliability diagram. Each is drawn at its
   * container's width in CSS pixels (one SVG unit is one pixel), so its text renders at the size app.css gives it
   * on a phone as on a laptop; a ResizeObserver draws it again when the width changes. Colours come from app.css,
   * so dark mode applies.
   */
  const charts = {
    modelDrawn: false,
    observer: new ResizeObserver((entries) => {
      for (const entry of entries) charts.draw(entry.target);
    }),

    /** Makes container hold the chart draw(width) returns, at the container's width, redrawn as it changes. */
    host(container, draw) {
      container.chartDraw = draw;
      container.chartWidth = 0;
      this.observer.observe(container);
      return container;
    },

    draw(container) {
      const width = Math.floor(container.clientWidth);
      // Hidden (width 0) or unchanged: nothing to do; it is drawn once it shows.
      if (!container.chartDraw || width === 0 || width === container.chartWidth) return;
      container.chartWidth = width;
      container.replaceChildren(container.chartDraw(width));
    },

    /** Draws the charts under root now (the observer would do it a frame later). */
    fit(root) {
      for (const container of root.querySelectorAll(".chart")) this.draw(container);
    },

    drawModel() {
      if (this.modelDrawn || !card) return;
      this.modelDrawn = true;
      const m = card.metrics;
      if (m.rocCurve) {
        const [[tn, fp], [fn, tp]] = m.confusionMatrix;
        const roc = $("#roc-chart");
        if (roc) this.host(roc, (width) => this.roc(m.rocCurve, { x: fp / (fp + tn), y: tp / (tp + fn) }, m.rocAuc, width));
      }
      const c = card.calibration;
      const reliability = $("#reliability-chart");
      if (c && reliability) this.host(reliability, (width) => this.reliability(c, width));
      const t = card.training;
      if (t) {
        const airlines = $("#airline-chart");
        if (airlines) this.host(airlines, (width) => this.bars(
          t.byAirline.slice().sort((a, b) => b.delayRate - a.delayRate).map((a) => ({ label: a.airline, value: a.delayRate, note: `${pct(a.delayRate, 0)} of ${count.format(a.flights)}` })),
          { width, label: "Delay rate of each airline's flights in the training data", average: t.delayRate, xTitle: "Share of flights delayed" }));
        const months = $("#month-chart");
        if (months) {
          this.host(months, (width) => this.columns(
            t.byMonth.map((m) => ({ label: MONTHS[m.month - 1].slice(0, 3), value: m.delayRate, title: `${MONTHS[m.month - 1]}: ${pct(m.delayRate)} of ${count.format(m.flights)} flights delayed` })),
            { width, label: "Delay rate of each month's flights in the training data", average: t.delayRate, percent: true, yTitle: "Share of flights delayed" }));
          months.after(el("p", { className: "hint", text: `Dashed line: all flights, ${pct(t.delayRate)}.` }));
        }
      }
      this.fit($("#model"));
    },

    /**
     * Horizontal bars of shares (0..1), one per row, labelled on the left and annotated on the right; optionally a
     * dashed line for the average and, per row, a tick for a reference value (the row's historical rate).
     */
    bars(rows, { width, label, average, xTitle, referenceLabel }) {
      const narrow = width < 480;
      const left = Math.min(170, Math.round(width * (narrow ? 0.42 : 0.33))), right = narrow ? 74 : 100, row = 24, top = 6;
      const hasReference = rows.some((r) => r.reference !== undefined && r.reference !== null);
      const plotBottom = top + rows.length * row;
      const height = plotBottom + 8 + (average === undefined ? 0 : 18) + (hasReference ? 18 : 0) + (xTitle ? 20 : 0);
      const max = axis(Math.max(0.01, ...rows.map((r) => Math.max(r.value, r.reference || 0)), average || 0)).ceiling;
      const x = (v) => left + (v / max) * (width - left - right);
      const chart = svg("svg", { class: "chart-svg", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
        "aria-label": `${label}: ${rows.map((r) => `${r.label} ${pct(r.value)}${r.reference === undefined || r.reference === null ? "" : ` (${referenceLabel} ${pct(r.reference)})`}`).join(", ")}.` });
      if (average !== undefined) chart.append(svg("line", { class: "average", x1: x(average), x2: x(average), y1: top, y2: plotBottom }));
      rows.forEach((r, i) => {
        const y = top + i * row;
        chart.append(
          svg("text", { class: "label", x: left - 6, y: y + row / 2, "text-anchor": "end", "dominant-baseline": "middle", text: fitText(r.label, left - 8) }, svg("title", { text: r.label })),
          svg("rect", { class: "bar", x: left, y: y + 4, width: Math.max(1, x(r.value) - left), height: row - 8 }, svg("title", { text: r.title || `${r.label}: ${r.note}` })),
          svg("text", { class: "value", x: x(Math.max(r.value, r.reference || 0)) + 6, y: y + row / 2, "dominant-baseline": "middle", text: r.note }));
        if (r.reference !== undefined && r.reference !== null) chart.append(svg("line", { class: "reference", x1: x(r.reference), x2: x(r.reference), y1: y + 1, y2: y + row - 1 }));
      });
      let y = plotBottom + 8;
      if (average !== undefined) {
        chart.append(svg("text", { class: "axis", x: left, y: y + 8, text: `dashed: all flights, ${pct(average)}` }));
        y += 18;
      }
      if (hasReference) {
        chart.append(svg("line", { class: "reference", x1: left, x2: left, y1: y, y2: y + 14 }), svg("text", { class: "axis", x: left + 6, y: y + 8, "dominant-baseline": "middle", text: `tick: ${referenceLabel}` }));
        y += 18;
      }
      if (xTitle) chart.append(svg("text", { class: "axis-title", x: left + (width - left - right) / 2, y: y + 12, "text-anchor": "middle", text: xTitle }));
      return chart;
    },

    /** Vertical columns with a labelled y axis, axis titles, optionally a dashed line for the average and a marker line. */
    columns(cols, { width, label, average, percent, marker, xTitle, yTitle }) {
      const narrow = width < 480;
      const height = narrow ? 230 : 260, left = yTitle ? 62 : 48, right = 10, top = marker ? 26 : 14, bottom = 30 + (xTitle ? 20 : 0);
      const plotW = width - left - right, plotH = height - top - bottom;
      const { ceiling, step } = axis(Math.max(percent ? 0.01 : 1, ...cols.map((c) => c.value), average || 0), !percent);
      const y = (v) => top + plotH - (v / ceiling) * plotH;
      const slot = plotW / cols.length;
      const format = (v) => (percent ? pct(v, 0) : count.format(Math.round(v)));
      const chart = svg("svg", { class: "chart-svg", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${label}: ${cols.map((c) => `${c.spoken || c.label} ${format(c.value)}`).join(", ")}.` });
      for (let v = 0; v <= ceiling + step / 2; v += step) {
        chart.append(
          svg("line", { class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v) }),
          svg("text", { class: "axis", x: left - 6, y: y(v), "text-anchor": "end", "dominant-baseline": "middle", text: format(v) }));
      }
      // On a phone twelve labels do not fit side by side: every other one.
      const every = slot < 30 ? 2 : 1;
      cols.forEach((c, i) => {
        const x = left + i * slot;
        chart.append(svg("rect", { class: "bar" + (c.className ? " " + c.className : ""), x: x + slot * 0.12, y: y(c.value), width: slot * 0.76, height: Math.max(0, top + plotH - y(c.value)) }, svg("title", { text: c.title || `${c.label}: ${format(c.value)}` })));
        if (i % every === 0) chart.append(svg("text", { class: "axis", x: x + slot / 2, y: top + plotH + 16, "text-anchor": "middle", text: c.label }));
      });
      if (average !== undefined) chart.append(svg("line", { class: "average", x1: left, x2: width - right, y1: y(average), y2: y(average) }));
      if (marker) {
        const x = left + marker.at * plotW;
        chart.append(
          svg("line", { class: "marker", x1: x, x2: x, y1: top, y2: top + plotH }),
          svg("text", { class: "axis", x: Math.min(x + 4, width - right - 4), y: top - 10, "text-anchor": x > width * 0.6 ? "end" : "start", text: marker.label }));
      }
      if (xTitle) chart.append(svg("text", { class: "axis-title", x: left + plotW / 2, y: height - 6, "text-anchor": "middle", text: xTitle }));
      if (yTitle) chart.append(svg("text", { class: "axis-title", x: 14, y: top + plotH / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${top + plotH / 2})`, text: yTitle }));
      return chart;
    },

    /**
     * Figures over time on a 0..1 scale: per series a solid line through its points (a null leaves a gap), each
     * point marked (circles, then squares, so the series differ without colour), and its reference value as a
     * dashed line in the same colour; a legend under the plot says which is which.
     */
    lines(points, series, { width, label, xTitle }) {
      const narrow = width < 480;
      const left = 48, right = 12, top = 12, plotH = narrow ? 150 : 180;
      const legendTop = top + plotH + 30 + (xTitle ? 20 : 0);
      const height = legendTop + series.length * 20 + 4;
      const plotW = width - left - right;
      const slot = plotW / Math.max(1, points.length);
      const x = (i) => left + (i + 0.5) * slot;
      const y = (v) => top + plotH - v * plotH;
      const spoken = (s, v) => (v === null || v === undefined ? "none" : s.format(v));
      const chart = svg("svg", { class: "chart-svg lines", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
        "aria-label": `${label}. Test: ${series.map((s) => `${s.name} ${spoken(s, s.test)}`).join(", ")}. ` +
          `${points.map((p) => `${p.label}: ${series.map((s, k) => `${s.name} ${spoken(s, p.values[k])}`).join(", ")}, ${count.format(p.flights)} flights`).join("; ")}.` });
      for (const v of [0, 0.25, 0.5, 0.75, 1]) {
        chart.append(
          svg("line", { class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v) }),
          svg("text", { class: "axis", x: left - 6, y: y(v), "text-anchor": "end", "dominant-baseline": "middle", text: fixed(v, 2) }));
      }
      // Labels about 60 px apart at most: every day on a wide screen, every few on a phone.
      const every = Math.max(1, Math.ceil(60 / slot));
      points.forEach((p, i) => {
        if (i % every === 0) chart.append(svg("text", { class: "axis", x: x(i), y: top + plotH + 16, "text-anchor": "middle", text: p.label }));
      });
      series.forEach((s, k) => {
        if (s.test !== null && s.test !== undefined) chart.append(svg("line", { class: `test-line ${s.className}`, x1: left, x2: width - right, y1: y(s.test), y2: y(s.test) }));
        let run = [];
        const flush = () => {
          if (run.length > 1) chart.append(svg("polyline", { class: `line ${s.className}`, points: run.join(" ") }));
          run = [];
        };
        points.forEach((p, i) => {
          const v = p.values[k];
          if (v === null || v === undefined) {
            flush();
            return;
          }
          run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
          const title = svg("title", { text: `${p.label}: ${s.name} ${s.format(v)} (${count.format(p.flights)} flights; test ${spoken(s, s.test)})` });
          chart.append(k % 2 === 0
            ? svg("circle", { class: `dot ${s.className}`, cx: x(i), cy: y(v), r: 4.5 }, title)
            : svg("rect", { class: `dot ${s.className}`, x: x(i) - 4, y: y(v) - 4, width: 8, height: 8 }, title));
        });
        flush();
        const ly = legendTop + k * 20 + 8;
        chart.append(svg("g", { class: "legend" },
          svg("line", { class: `line ${s.className}`, x1: left, x2: left + 22, y1: ly, y2: ly }),
          k % 2 === 0 ? svg("circle", { class: `dot ${s.className}`, cx: left + 11, cy: ly, r: 4 }) : svg("rect", { class: `dot ${s.className}`, x: left + 7, y: ly - 4, width: 8, height: 8 }),
          svg("text", { class: "axis", x: left + 28, y: ly, "dominant-baseline": "middle", text: `live ${s.name}` }),
          svg("line", { class: `test-line ${s.className}`, x1: left + 130, x2: left + 152, y1: ly, y2: ly }),
          svg("text", { class: "axis", x: left + 158, y: ly, "dominant-baseline": "middle", text: `test ${spoken(s, s.test)}` })));
      });
      if (xTitle) chart.append(svg("text", { class: "axis-title", x: left + plotW / 2, y: top + plotH + 36, "text-anchor": "middle", text: xTitle }));
      return chart;
    },

    /** A job's probabilities in 10 bins; bins from the decision threshold on are the flagged ones. */
    histogram(bins, width) {
      const cols = bins.map((b) => ({
        label: `${Math.round(b.from * 100)}–${Math.round(b.to * 100)}`,
        value: b.count,
        className: b.from + 1e-9 >= THRESHOLD ? "delayed" : "on-time",
        title: `${Math.round(b.from * 100)}% to ${Math.round(b.to * 100)}%: ${count.format(b.count)} rows`,
      }));
      return this.columns(cols, {
        width,
        label: "Number of rows by predicted delay probability, in 10% bins",
        marker: { at: THRESHOLD, label: `flagged from ${pct(THRESHOLD, 0)} →` },
        xTitle: "Predicted chance of a delay (%)",
        yTitle: "Rows",
      });
    },

    /** The ROC curve with the diagonal of guessing and the model's own cut-off marked. */
    roc(points, cut, auc, width) {
      const size = Math.min(width, 420), pad = 56, plot = size - pad - 16;
      const x = (v) => pad + v * plot;
      const y = (v) => 10 + plot - v * plot;
      const height = y(0) + 44;
      const cutLabel = `flag from ${pct(THRESHOLD, 0)}`;
      const chart = svg("svg", { class: "chart-svg roc", width: size, height, viewBox: `0 0 ${size} ${height}`, role: "img", "aria-label": `ROC curve, area under it ${auc.toFixed(3)}; flagging from ${pct(THRESHOLD, 0)} the model catches ${pct(cut.y, 0)} of delayed flights and wrongly flags ${pct(cut.x, 0)} of on-time ones.` });
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
        svg("circle", { class: "cut-point", cx: x(cut.x), cy: y(cut.y), r: 5 }, svg("title", { text: `${cutLabel}: ${pct(cut.y)} of delays caught, ${pct(cut.x)} of on-time flights flagged` })),
        svg("text", { class: "axis", x: x(cut.x) + 8, y: y(cut.y) + 14, text: cutLabel }),
        svg("text", { class: "axis-title", x: x(0.5), y: y(0) + 36, "text-anchor": "middle", text: "On-time flights wrongly flagged" }),
        svg("text", { class: "axis-title", x: 14, y: y(0.5), "text-anchor": "middle", transform: `rotate(-90 14 ${y(0.5)})`, text: "Delayed flights caught" }));
      return chart;
    },

    /**
     * The reliability diagram: per band of predicted chance, the band's mean prediction (across) against the share of
     * its test flights that were delayed (up); dots sized by flights; on the dashed diagonal the chance is exact.
     */
    reliability(c, width) {
      const size = Math.min(width, 420), pad = 56, plot = size - pad - 16;
      const bands = c.reliability.filter((b) => b.flights > 0);
      const top = Math.min(1, axis(Math.max(0.1, ...bands.filter((b) => b.flights >= 100).map((b) => Math.max(b.meanProbability, b.observedRate)))).ceiling);
      const x = (v) => pad + (Math.min(v, top) / top) * plot;
      const y = (v) => 10 + plot - (Math.min(v, top) / top) * plot;
      const height = y(0) + 44;
      const most = Math.max(...bands.map((b) => b.flights));
      const chart = svg("svg", { class: "chart-svg reliability", width: size, height, viewBox: `0 0 ${size} ${height}`, role: "img",
        "aria-label": `Reliability of the predicted chance on test flights: ${bands.map((b) => `predicted ${pct(b.from, 0)}–${pct(b.to, 0)}: ${count.format(b.flights)} flights, mean prediction ${pct(b.meanProbability)}, ${pct(b.observedRate)} delayed`).join("; ")}.` });
      const ticks = axis(top).step;
      for (let v = 0; v <= top + 1e-9; v += ticks) {
        chart.append(
          svg("line", { class: "grid", x1: x(0), x2: x(top), y1: y(v), y2: y(v) }),
          svg("line", { class: "grid", x1: x(v), x2: x(v), y1: y(0), y2: y(top) }),
          svg("text", { class: "axis", x: pad - 5, y: y(v), "text-anchor": "end", "dominant-baseline": "middle", text: pct(v, 0) }),
          svg("text", { class: "axis", x: x(v), y: y(0) + 16, "text-anchor": "middle", text: pct(v, 0) }));
      }
      chart.append(svg("line", { class: "average", x1: x(0), y1: y(0), x2: x(top), y2: y(top) }));
      for (const b of bands) {
        // Bands beyond the axis (a handful of flights) are left out of the picture, not out of the table.
        if (b.meanProbability > top || b.observedRate > top) continue;
        chart.append(svg("circle", { class: "band", cx: x(b.meanProbability), cy: y(b.observedRate), r: 3 + 9 * Math.sqrt(b.flights / most) },
          svg("title", { text: `Predicted ${pct(b.from, 0)}–${pct(b.to, 0)}: ${count.format(b.flights)} test flights, mean prediction ${pct(b.meanProbability)}, ${pct(b.observedRate)} delayed` })));
      }
      chart.append(
        svg("text", { class: "axis-title", x: x(top / 2), y: y(0) + 36, "text-anchor": "middle", text: "Predicted chance (band mean)" }),
        svg("text", { class: "axis-title", x: 14, y: y(top / 2), "text-anchor": "middle", transform: `rotate(-90 14 ${y(top / 2)})`, text: "Share delayed" }));
      return chart;
    },
  };

  /** Shortens a label to about maxWidth pixels at the charts' 12px text (an ellipsis marks the cut). */
  function fitText(text, maxWidth) {
    const chars = Math.max(4, Math.floor(maxWidth / 6.6));
    return text.length <= chars ? text : text.slice(0, chars - 1) + "…";
  }

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
    models.setUp();
    route(false);
    window.addEventListener("hashchange", () => route(true));
    // Ask for the key (when keys are on) at once rather than at the first click.
    if (!jobs.visible) jobs.load();
  });
})();
