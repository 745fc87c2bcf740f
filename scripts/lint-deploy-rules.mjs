// Rules the schemas cannot express, for scripts/lint (which passes its npm tools folder first):
//   manifests TOOLS DIR=RENDERED.yaml...   the rendered kustomizations (docs/deploy.md says why each rule holds)
//   alerts    TOOLS RULES.yml TESTS.yml    every alert has a promtool test where it fires and one where it is silent
//   promrule  TOOLS RULES.yml CR.yaml [--write]  the PrometheusRule carries exactly the plain rule file's groups
//   workflows TOOLS WORKFLOW.yml...        actions pinned by commit SHA, permissions read-only unless a job says
// Prints one line per broken rule; exits 1 when any is broken.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";

const [command, tools, ...args] = process.argv.slice(2);
const yaml = createRequire(`${tools}/node_modules/`)("js-yaml");
const problems = [];
const problem = (where, message) => problems.push(`${where}: ${message}`);

const podSpecOf = (doc) =>
  doc.kind === "CronJob" ? doc.spec?.jobTemplate?.spec?.template?.spec
    : ["Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"].includes(doc.kind) ? doc.spec?.template?.spec
      : doc.kind === "Pooler" ? doc.spec?.template?.spec : undefined;
const containersOf = (pod) => [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
const envValue = (container, name) => container.env?.find((e) => e.name === name)?.value;

function manifests(pairs) {
  const queueNames = new Map();
  for (const pair of pairs) {
    const [dir, file] = pair.split("=");
    const docs = yaml.loadAll(readFileSync(file, "utf8")).filter(Boolean);
    const at = (doc) => `${dir}: ${doc.kind}/${doc.metadata?.name}`;
    const isOverlay = dir.startsWith("deploy/overlays/");
    const deployments = docs.filter((d) => d.kind === "Deployment");

    for (const doc of docs) {
      // A pod that is not Ready counts against a budget: without AlwaysAllow, a crash-looping or NotReady pod
      // blocks every node drain.
      if (doc.kind === "PodDisruptionBudget" && doc.spec?.unhealthyPodEvictionPolicy !== "AlwaysAllow")
        problem(at(doc), "needs spec.unhealthyPodEvictionPolicy: AlwaysAllow");
      if (doc.kind === "Ingress")
        problem(at(doc), "use a Gateway API HTTPRoute (ingress-nginx is retired)");
      // Prometheus of kube-prometheus-stack selects monitors and rules by its release label.
      if (["PodMonitor", "ServiceMonitor", "PrometheusRule"].includes(doc.kind) && !doc.metadata?.labels?.release)
        problem(at(doc), "needs a `release` label, which the Prometheus Operator's selectors match");
      // In an environment, every image is pinned by digest: a tag can be moved under a running Deployment.
      if (isOverlay) {
        const images = containersOf(podSpecOf(doc)).map((c) => c.image);
        if (doc.kind === "Cluster" && doc.apiVersion?.startsWith("postgresql.cnpg.io/") && doc.spec?.imageName) images.push(doc.spec.imageName);
        if (doc.kind === "RabbitmqCluster" && doc.spec?.image) images.push(doc.spec.image);
        for (const image of images)
          if (!/@sha256:[0-9a-f]{64}$/.test(image ?? "")) problem(at(doc), `image ${image} is not pinned by digest (name@sha256:...)`);
      }
      // The migration is a step of its own: a Job beside the Deployments is applied at the same moment as they roll,
      // unless Argo CD runs it first as a PreSync hook.
      if (doc.kind === "Job" && deployments.length > 0 && doc.metadata?.annotations?.["argocd.argoproj.io/hook"] !== "PreSync")
        problem(at(doc), "a Job rendered with the Deployments must be an Argo CD PreSync hook; apply the migration as its own step (deploy/migrate)");
      // The public edge reaches client routes only.
      if (doc.kind === "Service")
        for (const port of doc.spec?.ports ?? [])
          if (port.targetPort === "management" || port.targetPort === 9090 || port.name === "management")
            problem(at(doc), "exposes the management port (/metrics, /health/ready)");
      if (doc.kind === "HTTPRoute")
        for (const rule of doc.spec?.rules ?? [])
          for (const match of rule.matches ?? [{ path: { type: "PathPrefix", value: "/" } }]) {
            const path = match.path?.value ?? "/";
            const type = match.path?.type ?? "PathPrefix";
            for (const internal of ["/metrics", "/health/ready"])
              if (path === internal || (type !== "Exact" && internal.startsWith(path.endsWith("/") ? path : `${path}/`)) || (type !== "Exact" && path === "/"))
                problem(at(doc), `routes ${type} ${path}, which reaches ${internal}`);
          }
      if (doc.kind === "ConfigMap" && doc.data?.Jobs__QueueName) queueNames.set(at(doc), doc.data.Jobs__QueueName);
      // KEDA watches the chunk queue and its express lane (Jobs:ExpressRows), "<queue>-express".
      if (doc.kind === "ScaledObject") {
        const watched = (doc.spec?.triggers ?? []).filter((t) => t.type === "rabbitmq").map((t) => t.metadata?.queueName);
        const main = watched.find((q) => !q?.endsWith("-express"));
        if (watched.length > 0) {
          queueNames.set(at(doc), main);
          if (!watched.includes(`${main}-express`)) problem(at(doc), `scales on ${main} but not on its express lane ${main}-express`);
        }
      }
      if (doc.kind === "ScaledObject" && doc.spec?.minReplicaCount === 0 && !doc.spec?.fallback)
        problem(at(doc), "scales to zero without a fallback: a failing trigger would freeze it at zero");
    }

    // Default deny, then explicit allows.
    if (deployments.length > 0 && !docs.some((d) => d.kind === "NetworkPolicy" && Object.keys(d.spec?.podSelector ?? { x: 1 }).length === 0
        && !d.spec?.ingress && !d.spec?.egress && ["Ingress", "Egress"].every((t) => d.spec?.policyTypes?.includes(t))))
      problem(dir, "no default-deny NetworkPolicy (podSelector {}, policyTypes Ingress and Egress, no rules)");

    // The API: a required keys Secret, and a grace period that covers the longest transfer.
    for (const doc of deployments.filter((d) => d.metadata?.labels?.["app.kubernetes.io/component"] === "api")) {
      const pod = podSpecOf(doc);
      const api = pod?.containers?.[0];
      const keys = api?.envFrom?.find((e) => e.secretRef?.name === "flightdelay-api-keys");
      if (!keys || keys.secretRef.optional) problem(at(doc), "the flightdelay-api-keys Secret must be required (not optional)");
      const shutdown = Number(envValue(api, "shutdownTimeoutSeconds") ?? 30);
      const preStop = Number(api?.lifecycle?.preStop?.exec?.command?.at(-1) ?? 0);
      if (shutdown < 1800) problem(at(doc), `shutdownTimeoutSeconds ${shutdown} is shorter than Jobs:MaxUploadDuration (1800 s)`);
      if ((pod?.terminationGracePeriodSeconds ?? 30) < shutdown + preStop)
        problem(at(doc), `terminationGracePeriodSeconds ${pod?.terminationGracePeriodSeconds} < shutdownTimeoutSeconds ${shutdown} + preStop ${preStop}`);
    }
  }
  // One queue name: the workers' config, the migration's declaration and KEDA's trigger.
  if (new Set(queueNames.values()).size > 1)
    problem("queue name", `differs: ${[...queueNames].map(([k, v]) => `${k}=${v}`).join(", ")}`);
}

function alerts(rulesFile, testsFile) {
  const names = yaml.load(readFileSync(rulesFile, "utf8")).groups.flatMap((g) => g.rules).filter((r) => r.alert).map((r) => r.alert);
  const fires = new Set();
  const silent = new Set();
  for (const test of yaml.load(readFileSync(testsFile, "utf8")).tests ?? []) {
    for (const t of test.promql_expr_test ?? []) {
      const named = /^ALERTS\{.*alertname="([^"]+)"/.exec(t.expr)?.[1];
      if (named && (t.exp_samples ?? []).length === 0) silent.add(named);
      for (const sample of t.exp_samples ?? []) {
        const firing = /alertname="([^"]+)"/.exec(sample.labels ?? "");
        if (firing && /alertstate="firing"/.test(sample.labels)) fires.add(firing[1]);
      }
    }
    for (const t of test.alert_rule_test ?? []) ((t.exp_alerts ?? []).length ? fires : silent).add(t.alertname);
  }
  for (const name of names) {
    if (!fires.has(name)) problem(name, `no test in ${testsFile} where it fires`);
    if (!silent.has(name)) problem(name, `no test in ${testsFile} where it stays silent`);
  }
  for (const name of new Set([...fires, ...silent])) if (!names.includes(name)) problem(name, "is tested but no rule defines it");
}

function promrule(rulesFile, crFile, write) {
  const groups = yaml.load(readFileSync(rulesFile, "utf8")).groups;
  const wanted = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: "flightdelay",
      labels: { "app.kubernetes.io/name": "flightdelay", release: "kube-prometheus-stack" },
    },
    spec: { groups },
  };
  if (write) {
    writeFileSync(crFile, `# GENERATED from ${rulesFile.replace(/^.*\//, "")} by \`scripts/lint --write\`: edit that file, not this one.\n`
      + "# The alert and recording rules for the Prometheus Operator; `release` is the label a stock kube-prometheus-stack's\n"
      + "# ruleSelector matches (its Helm release name).\n"
      + yaml.dump(wanted, { lineWidth: 150, noRefs: true }));
    return;
  }
  const actual = yaml.load(readFileSync(crFile, "utf8"));
  if (!isDeepStrictEqual(actual?.spec?.groups, groups))
    problem(crFile, `its groups differ from ${rulesFile}: run scripts/lint --write`);
  if (!actual?.metadata?.labels?.release) problem(crFile, "needs a `release` label");
}

function workflows(files) {
  for (const file of files) {
    const workflow = yaml.load(readFileSync(file, "utf8"));
    const top = workflow.permissions;
    if (top === undefined || top === "write-all" || (typeof top === "object" && Object.values(top).some((v) => v === "write")))
      problem(file, "top-level permissions must be read-only (contents: read) or none; grant writes per job");
    for (const [id, job] of Object.entries(workflow.jobs ?? {})) {
      for (const step of job.steps ?? []) {
        if (!step.uses || step.uses.startsWith("./") || step.uses.startsWith("docker://")) continue;
        // A tag can be moved to other code; a full commit SHA cannot.
        if (!/@[0-9a-f]{40}$/.test(step.uses)) problem(`${file} ${id}`, `${step.uses} is not pinned by a full commit SHA`);
      }
    }
  }
}

switch (command) {
  case "manifests": manifests(args); break;
  case "alerts": alerts(args[0], args[1]); break;
  case "promrule": promrule(args[0], args[1], args[2] === "--write"); break;
  case "workflows": workflows(args); break;
  default: console.log(`unknown command ${command}`); process.exit(2);
}
for (const p of problems) console.log(p);
console.log(`${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
