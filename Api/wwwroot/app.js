// Upgrades the prediction form: asks /v1/predictions instead of reloading the page.
// Without JavaScript the form still posts to /predict and the server renders the answer.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("predict-form");
  const result = document.getElementById("result");
  if (!form || !result) return;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const flight = { airline: data.get("airline"), flightType: data.get("flightType"), month: Number(data.get("month")) };
    result.textContent = "Predicting…";
    try {
      const response = await fetch("/v1/predictions", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ flights: [flight] }),
      });
      const body = await response.json();
      if (!response.ok) {
        const messages = body.errors ? Object.values(body.errors).flat() : [body.detail || body.title];
        render(messages.map((m) => el("p", { className: "errors", role: "alert" }, m)));
        return;
      }
      const p = body.predictions[0];
      const meter = el("meter", { min: 0, max: 1, value: p.probability });
      meter.setAttribute("aria-label", "Delay probability");
      render([
        el("p", { className: "verdict " + (p.delayed ? "delayed" : "on-time") }, p.delayed ? "Likely delayed" : "Likely on time"),
        el("p", {}, "Probability of a delay over 15 minutes: ", el("strong", {}, (p.probability * 100).toFixed(1) + "%")),
        meter,
        el("p", { className: "model" }, "Model " + body.modelVersion),
      ]);
    } catch (error) {
      render([el("p", { className: "errors", role: "alert" }, "The service could not be reached: " + error.message)]);
    }
  });

  function render(nodes) {
    result.replaceChildren(...nodes);
  }

  function el(tag, props, ...children) {
    const node = Object.assign(document.createElement(tag), props);
    if (props.role) node.setAttribute("role", props.role);
    node.append(...children);
    return node;
  }
});
