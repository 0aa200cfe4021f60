// Offline checks of lifeline's Kubernetes manifests, run by check_manifests.sh.
//
//   node validate.mjs objects FILE...          every object in FILE (YAML stream, e.g. the output
//                                               of `kubectl kustomize`) against its API schema
//   node validate.mjs job-template FILE.json    a Prefect base job template: placeholders declared,
//                                               the Job (defaults substituted) valid, sidecar wired
//   node validate.mjs reaper-token FILE...      the reaper requires the bearer token
//
// Each check prints one line: "PASS what", "FAIL what: why" or "SKIP what: why". The exit status
// is the number of failures (capped at 100).
//
// Schema validation uses kubernetes-models (the OpenAPI schema of the Kubernetes API, and of the
// Prometheus Operator CRDs). Those schemas accept unknown fields, which a real API server rejects
// (kubectl's default strict field validation), so unknown fields are checked separately against
// the models' TypeScript declarations.

import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
let failures = 0;

const pass = (what) => console.log(`PASS ${what}`);
const fail = (what, why) => {
  failures++;
  console.log(`FAIL ${what}: ${why}`);
};
const skip = (what, why) => console.log(`SKIP ${what}: ${why}`);

// ---- model lookup ---------------------------------------------------------------------------

// apiVersion -> module directory holding one model per kind.
function modelDir(apiVersion) {
  if (apiVersion === "v1") return "kubernetes-models/v1";
  const [group, version] = apiVersion.split("/");
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}`;
  if (!group.includes(".") || group.endsWith(".k8s.io")) return `kubernetes-models/${group}/${version}`;
  return null;
}

async function loadModel(apiVersion, kind) {
  const dir = modelDir(apiVersion);
  if (dir === null) return null;
  const file = join(modules, dir, `${kind}.js`);
  if (!existsSync(file)) return null;
  const mod = await import(file);
  return { cls: mod[kind], dts: file.replace(/\.js$/, ".d.ts") };
}

// ---- unknown fields, from the models' .d.ts declarations ------------------------------------

const dtsCache = new Map();

// Parses the first `export interface` of a .d.ts: its properties (name -> type text) and the
// files its imported type names come from.
function parseDts(file) {
  if (dtsCache.has(file)) return dtsCache.get(file);
  let result = null;
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const imports = new Map();
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
      const spec = m[2];
      const base = spec.startsWith(".") ? resolve(dirname(file), spec) : join(modules, spec);
      const target = base.endsWith(".js") ? base.replace(/\.js$/, ".d.ts") : `${base}.d.ts`;
      for (const name of m[1].split(",").map((s) => s.trim()).filter(Boolean)) imports.set(name, target);
    }
    const start = text.search(/export interface \w+[^{]*\{/);
    if (start >= 0) {
      const open = text.indexOf("{", start);
      const props = new Map();
      let i = open + 1;
      while (i < text.length) {
        const rest = text.slice(i);
        const close = rest.match(/^\s*\}/);
        if (close) break;
        const m = rest.match(/^\s*"([^"]+)"\??:\s*/);
        if (!m) break;
        i += m[0].length;
        let depth = 0;
        let j = i;
        for (; j < text.length; j++) {
          const c = text[j];
          if (c === "{" || c === "<" || c === "(") depth++;
          else if (c === "}" || c === ">" || c === ")") depth--;
          else if (c === ";" && depth === 0) break;
        }
        props.set(m[1], text.slice(i, j).trim());
        i = j + 1;
      }
      result = { props, imports };
    }
  }
  dtsCache.set(file, result);
  return result;
}

// Reports every property of `value` that the declaration at `file` does not have.
function unknownFields(value, file, path, out) {
  const decl = parseDts(file);
  if (decl === null || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (!decl.props.has(key)) {
      out.push(`${path}.${key}`);
      continue;
    }
    checkType(child, decl.props.get(key), decl.imports, `${path}.${key}`, out);
  }
}

function checkType(value, type, imports, path, out) {
  let m;
  if ((m = type.match(/^Array<(.+)>$/s))) {
    if (Array.isArray(value)) value.forEach((v, i) => checkType(v, m[1].trim(), imports, `${path}[${i}]`, out));
  } else if ((m = type.match(/^\{\s*\[key: string\]:\s*(.+?);?\s*\}$/s))) {
    if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) checkType(v, m[1].trim(), imports, `${path}.${k}`, out);
    }
  } else if (imports.has(type)) {
    unknownFields(value, imports.get(type), path, out);
  }
  // Anything else is a primitive, a union or an inline type: the schema validation covers it.
}

// ---- checks ---------------------------------------------------------------------------------

async function validateObject(obj, label, tolerated = new Set()) {
  if (!obj || typeof obj !== "object" || !obj.apiVersion || !obj.kind) {
    fail(label, "not a Kubernetes object (apiVersion and kind are required)");
    return;
  }
  const what = `${label} ${obj.kind}/${obj.metadata?.name ?? obj.metadata?.generateName ?? "?"}`;
  const model = await loadModel(obj.apiVersion, obj.kind);
  if (model === null) {
    skip(what, `no offline schema for ${obj.apiVersion} ${obj.kind} in kubernetes-models`);
    return;
  }
  try {
    new model.cls(obj).validate();
  } catch (e) {
    fail(what, `schema: ${String(e.message).split("\n").slice(0, 5).join("; ")}`);
    return;
  }
  const found = [];
  unknownFields(obj, model.dts, obj.kind, found);
  const unknown = found.filter((p) => !tolerated.has(p));
  const ignored = found.filter((p) => tolerated.has(p));
  if (ignored.length > 0) console.log(`NOTE ${what}: the API server drops ${ignored.join(", ")} with a warning`);
  if (unknown.length > 0) {
    fail(what, `unknown fields (the API server rejects them): ${unknown.join(", ")}`);
    return;
  }
  pass(what);
}

function readDocuments(file) {
  const docs = [];
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

async function objects(files) {
  for (const file of files) {
    let docs;
    try {
      docs = readDocuments(file);
    } catch (e) {
      fail(file, e.message);
      continue;
    }
    if (docs.length === 0) fail(file, "no objects");
    for (const doc of docs) await validateObject(doc, file.split("/").pop());
  }
}

// Prefect's placeholder syntax, as prefect.utilities.templating finds it.
const placeholder = /\{\{\s*([\w.\-[\]$]+)\s*\}\}/g;
const wholePlaceholder = /^\s*\{\{\s*([\w.\-[\]$]+)\s*\}\}\s*$/;

function placeholders(value, out = new Set()) {
  if (typeof value === "string") for (const m of value.matchAll(placeholder)) out.add(m[1]);
  else if (value && typeof value === "object") for (const v of Object.values(value)) placeholders(v, out);
  return out;
}

// What Prefect's worker does with the defaults: a string that is exactly one placeholder becomes
// the typed value, or disappears when the variable has no (non-null) default; placeholders inside
// longer strings are replaced by the value's text.
function substitute(value, defaults) {
  if (typeof value === "string") {
    const whole = value.match(wholePlaceholder);
    if (whole) return Object.hasOwn(defaults, whole[1]) ? structuredClone(defaults[whole[1]]) : undefined;
    return value.replace(placeholder, (all, name) => (Object.hasOwn(defaults, name) ? String(defaults[name]) : all));
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, defaults)).filter((v) => v !== undefined);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      const s = substitute(v, defaults);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return value;
}

async function jobTemplate(file) {
  const label = file.split("/").pop();
  let t;
  try {
    t = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    fail(label, `not JSON: ${e.message}`);
    return;
  }
  const properties = t?.variables?.properties ?? {};
  const used = placeholders(t.job_configuration ?? {});
  const undeclared = [...used].filter((n) => !n.startsWith("prefect.") && !Object.hasOwn(properties, n.split(/[.[]/)[0]));
  if (undeclared.length > 0) fail(`${label} placeholders declared`, `not in variables.properties: ${undeclared.join(", ")}`);
  else pass(`${label} placeholders declared (${used.size})`);

  const missingDefaults = [...used]
    .filter((n) => n.startsWith("lifeline_"))
    .filter((n) => properties[n]?.default === undefined || properties[n]?.default === null);
  if (missingDefaults.length > 0) fail(`${label} lifeline variables have defaults`, missingDefaults.join(", "));
  else pass(`${label} lifeline variables have defaults`);

  const defaults = {};
  for (const [name, schema] of Object.entries(properties)) {
    if (schema && schema.default !== undefined && schema.default !== null) defaults[name] = schema.default;
  }
  const job = substitute(t.job_configuration?.job_manifest, defaults);
  // What the worker adds for every run, so the Job is the one Kubernetes would see.
  job.metadata = job.metadata ?? {};
  job.metadata.generateName = "example-flow-run-";
  job.metadata.labels = { "prefect.io/flow-run-id": "0b6bd0e4-6b3e-4a53-9d56-7b4b5a1c2f10" };
  const pod = job.spec?.template?.spec ?? {};
  const flow = pod.containers?.[0] ?? {};
  flow.image = flow.image ?? "prefecthq/prefect:3-latest";
  flow.args = flow.args ?? ["prefect", "flow-run", "execute"];
  flow.env = Array.isArray(flow.env) ? flow.env : [{ name: "PREFECT__FLOW_RUN_ID", value: "0b6bd0e4-6b3e-4a53-9d56-7b4b5a1c2f10" }];
  // Prefect's own default puts parallelism and completions in the pod spec, where they are not
  // fields; the worker's API calls use the server's default field validation (warn and drop),
  // so they are harmless there. Any other unknown field fails.
  const prefectQuirks = new Set(["Job.spec.template.spec.parallelism", "Job.spec.template.spec.completions"]);
  await validateObject(job, `${label} (defaults substituted)`, prefectQuirks);

  // The sidecar and what it needs.
  const sidecars = [...(pod.initContainers ?? []), ...(pod.containers ?? [])].filter((c) => c.name === "lifeline");
  const sidecar = sidecars[0];
  const env = Object.fromEntries((sidecar?.env ?? []).map((e) => [e.name, e]));
  const checks = [
    ["exactly one lifeline sidecar", sidecars.length === 1],
    ["sidecar is a native sidecar", pod.initContainers?.some((c) => c.name === "lifeline" && c.restartPolicy === "Always")],
    [
      "native sidecar waits for the kubelet's SIGTERM (LIFELINE_AWAIT_SIGTERM), or it is restarted",
      /^(\d+(\.\d+)?(h|m|s|ms))+$/.test(env.LIFELINE_AWAIT_SIGTERM?.value ?? "") &&
        !/^(0+(\.0+)?(h|m|s|ms))+$/.test(env.LIFELINE_AWAIT_SIGTERM.value),
    ],
    ["shareProcessNamespace", pod.shareProcessNamespace === true],
    ["restartPolicy Never", pod.restartPolicy === "Never"],
    ["prefect-job is containers[0]", pod.containers?.[0]?.name === "prefect-job"],
    ["backoffLimit 0", job.spec?.backoffLimit === 0],
    ["run id from the pod label", env.LIFELINE_RUN_ID?.valueFrom?.fieldRef?.fieldPath === "metadata.labels['prefect.io/flow-run-id']"],
    ["reaper URL set", /^https?:\/\//.test(env.LIFELINE_REAPER_URL?.value ?? "")],
    [
      "token required (LIFELINE_TOKEN_FILE in a mounted Secret)",
      (() => {
        const tokenFile = env.LIFELINE_TOKEN_FILE?.value ?? "";
        const mount = (sidecar?.volumeMounts ?? []).find((m) => tokenFile.startsWith(`${m.mountPath}/`));
        const volume = (pod.volumes ?? []).find((v) => v.name === mount?.name);
        return tokenFile !== "" && volume?.secret?.secretName && volume.secret.optional !== true;
      })(),
    ],
    [
      "reaper CA, when set, is a key of a mounted Secret and the reaper URL is https://",
      (() => {
        const caFile = env.LIFELINE_REAPER_CA_FILE?.value;
        if (caFile === undefined) return true;
        const mount = (sidecar?.volumeMounts ?? []).find((m) => caFile.startsWith(`${m.mountPath}/`));
        const volume = (pod.volumes ?? []).find((v) => v.name === mount?.name);
        const path = caFile.slice((mount?.mountPath ?? "").length + 1);
        return (
          /^https:\/\//.test(env.LIFELINE_REAPER_URL?.value ?? "") &&
          Boolean(volume?.secret?.secretName) &&
          (volume.secret.items ?? []).some((i) => i.path === path)
        );
      })(),
    ],
    ["probes on /healthz and /readyz", sidecar?.livenessProbe?.httpGet?.path === "/healthz" && sidecar?.readinessProbe?.httpGet?.path === "/readyz"],
    ["sidecar cannot escalate", sidecar?.securityContext?.allowPrivilegeEscalation === false && sidecar?.securityContext?.readOnlyRootFilesystem === true],
  ];
  for (const [what, ok] of checks) {
    if (ok) pass(`${label} ${what}`);
    else fail(`${label} ${what}`, "not so in the template");
  }
}

// The reaper must demand the bearer token: token_file set in its TOML, and that file projected
// from a Secret that is not optional.
function reaperToken(files) {
  let reapers = 0;
  for (const file of files) {
    const label = file.split("/").pop();
    const docs = readDocuments(file);
    const config = docs.find((d) => d.kind === "ConfigMap" && d.data?.["reaper.toml"]);
    const deployment = docs.find((d) => d.kind === "Deployment" && d.metadata?.name === "lifeline-reaper");
    if (!config || !deployment) continue;  // e.g. the demonstration database
    reapers++;
    const toml = config.data["reaper.toml"];
    const server = toml.split(/^\[/m).find((s) => s.startsWith("server]")) ?? "";
    const m = server.match(/^\s*token_file\s*=\s*"([^"]+)"/m);
    if (!m) {
      fail(`${label} reaper token_file`, "[server] token_file is not set: the heartbeat API would be open");
      continue;
    }
    const tokenFile = m[1];
    const pod = deployment.spec.template.spec;
    const container = pod.containers.find((c) => c.name === "reaper") ?? pod.containers[0];
    const mount = (container.volumeMounts ?? []).find((vm) => tokenFile.startsWith(`${vm.mountPath}/`));
    const volume = (pod.volumes ?? []).find((v) => v.name === mount?.name);
    const rel = mount ? tokenFile.slice(mount.mountPath.length + 1) : "";
    const sources = volume?.projected?.sources?.map((s) => s.secret).filter(Boolean) ?? (volume?.secret ? [volume.secret] : []);
    const from = sources.find((s) => (s.items ?? []).some((it) => it.path === rel));
    if (from && from.optional !== true) pass(`${label} reaper token_file ${tokenFile} from Secret ${from.name ?? from.secretName}`);
    else fail(`${label} reaper token_file`, `${tokenFile} is not projected from a required Secret`);
  }
  if (reapers === 0) fail("reaper token", "no build contains the reaper's ConfigMap and Deployment");
}

const [command, ...args] = process.argv.slice(2);
if (command === "objects") await objects(args);
else if (command === "job-template") for (const f of args) await jobTemplate(f);
else if (command === "reaper-token") reaperToken(args);
else {
  console.error("usage: node validate.mjs objects|job-template|reaper-token FILE...");
  process.exit(2);
}
process.exit(Math.min(failures, 100));
