// Ringly console: the little JavaScript the pages use. Everything works without it; with it,
// a provisioning job's page follows the job live until it completes or fails.
(function () {
  "use strict";

  function text(node, value) {
    if (node) { node.textContent = value === null || value === undefined || value === "" ? "—" : value; }
  }

  function statusBadge(value) {
    var span = document.createElement("span");
    span.className = "status status-" + String(value).replace(/ /g, "-");
    span.textContent = value;
    return span;
  }

  function banner(kind, message, link) {
    var div = document.createElement("div");
    div.className = "banner " + kind;
    div.setAttribute("role", kind === "error" ? "alert" : "status");
    div.textContent = message + " ";
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.label;
      div.appendChild(a);
    }
    return div;
  }

  function showJob(root, job) {
    var field = function (name) { return root.querySelector('[data-field="' + name + '"]'); };
    var status = field("status");
    if (status) { status.replaceChildren(statusBadge(job.status)); }
    text(field("step"), job.step || "");
    text(field("attempts"), job.attempts);
    text(field("chosen_number"), job.chosen_number);
    // Both in the client's zone, which the job may just have set from the number it bought.
    text(field("created_at_local"), job.created_at_local);
    text(field("finished_at_local"), job.finished_at_local);
    root.dataset.state = job.status;
    var outcome = field("outcome");
    var clientLink = job.client_id ? { href: "/admin/clients/" + job.client_id, label: "Open the client" } : null;
    if (outcome && job.status === "completed") {
      var number = job.result && job.result.client ? job.result.client.ringlypro_number : job.chosen_number;
      outcome.replaceChildren(banner("notice", "Completed: " + number + " is live.", clientLink));
    } else if (outcome && job.status === "failed") {
      var reason = job.error ? job.error.message : "unknown reason";
      if (job.error && job.error.twilio_code) { reason += " (Twilio " + job.error.twilio_code + ")"; }
      outcome.replaceChildren(banner("error", "Failed: " + reason));
    }
    var retry = root.querySelector("form.retry");
    if (retry) { retry.hidden = job.status !== "failed"; }
  }

  function followJob(root) {
    var url = root.dataset.jobStatusUrl;
    var delay = 1000;
    function poll() {
      if (root.dataset.state === "completed" || root.dataset.state === "failed") { return; }
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (job) { showJob(root, job); delay = 1000; })
        .catch(function () { delay = Math.min(delay * 2, 10000); })
        .then(function () { window.setTimeout(poll, delay); });
    }
    window.setTimeout(poll, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-job-status-url]").forEach(followJob);
  });
})();
