// Contract test: the OFFICIAL @capacities/api client (and its zod schemas) against a running
// Capacities-compatible server (our sandbox).
//
// Input: env CONTRACT_CONFIG = JSON
//   { baseUrl, apiToken, readToken, oauth?: { clientId, redirectUri, scope, resource } }
// Output: one JSON line per check on stdout:
//   {"check": "<name>", "ok": true|false|null, "detail": "...", "skipped"?: "<reason>"}
// Exit code 0 when the script ran to the end (individual checks may have failed), 2 on a crash.
//
// Every response is validated with the SDK's exported response schema; every request body the
// script sends is validated with the SDK's request schema first (the client does that too).
// zod objects strip unknown keys instead of rejecting them, so unknown keys (forbidden by the
// OpenAPI document's `additionalProperties: false`) are collected separately and reported by the
// check `responses.no_unknown_keys`.

import { createHash, randomBytes, randomUUID } from "node:crypto";

import {
  CapacitiesApiError,
  CapacitiesClient,
  CapacitiesErrorCode,
  CapacitiesOAuthError,
  PUBLIC_API_VERSION,
  appendBlocksRequestSchema,
  createObjectBodySchema,
  createObjectFromUrlBodySchema,
  createObjectMarkdownBodySchema,
  deleteBlockParamsSchema,
  deleteObjectParamsSchema,
  getObjectMarkdownParamsSchema,
  getObjectParamsSchema,
  getObjectResponseSchema,
  getSpaceResponseSchema,
  getSpaceStructuresResponseSchema,
  objectMarkdownResponseSchema,
  patchBlockRequestSchema,
  patchObjectBodySchema,
  saveToDailyNoteBodySchema,
  searchObjectsBodySchema,
  searchObjectsResponseSchema,
} from "@capacities/api";
import { z } from "zod";

const cfg = JSON.parse(process.env.CONTRACT_CONFIG ?? "{}");
const baseUrl = String(cfg.baseUrl ?? "").replace(/\/$/, "");
const RUN = randomBytes(4).toString("hex");

// ---------------------------------------------------------------------------------------------
// reporting

function emit(check, ok, detail, extra = {}) {
  process.stdout.write(`${JSON.stringify({ check, ok, detail: String(detail ?? ""), ...extra })}\n`);
}

function describe(error) {
  if (error instanceof CapacitiesApiError) {
    return `CapacitiesApiError(status=${error.status}, code=${error.code}, message=${JSON.stringify(error.message)}, details=${JSON.stringify(error.details)})`;
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

async function check(name, fn) {
  try {
    const detail = await fn();
    emit(name, true, detail ?? "");
  } catch (error) {
    emit(name, false, describe(error));
  }
}

function skip(name, reason) {
  emit(name, null, "", { skipped: reason });
}

class CheckFailed extends Error {
  constructor(message) {
    super(message);
    this.name = "CheckFailed";
  }
}

function assert(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

function short(value, max = 600) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return "undefined";
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

function need(value, what) {
  if (value === undefined || value === null) {
    throw new CheckFailed(`prerequisite missing: ${what} (an earlier check failed)`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// schema validation

const unknownKeyFindings = [];

/** Paths of keys present in `raw` but stripped by zod from `parsed` (unknown to the schema). */
function unknownKeys(raw, parsed, path = "") {
  const found = [];
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    raw.forEach((item, index) => found.push(...unknownKeys(item, parsed[index], `${path}[${index}]`)));
  } else if (raw && typeof raw === "object" && parsed && typeof parsed === "object") {
    for (const key of Object.keys(raw)) {
      const sub = path ? `${path}.${key}` : key;
      if (!(key in parsed)) found.push(sub);
      else found.push(...unknownKeys(raw[key], parsed[key], sub));
    }
  }
  return found;
}

/** Validates a response with the SDK schema named `schemaName`; `undefined` schema = empty body. */
function validateResponse(label, schemaName, schema, value) {
  if (schema === undefined) {
    assert(value === undefined, `${label}: expected no response body (SDK returns undefined), got ${short(value)}`);
    return value;
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new CheckFailed(
      `${label}: response does not match ${schemaName}:\n${z.prettifyError(result.error)}\nbody: ${short(value, 1500)}`,
    );
  }
  const extra = unknownKeys(value, result.data);
  if (extra.length) unknownKeyFindings.push(`${label} (${schemaName}): ${extra.join(", ")}`);
  return value;
}

/** Sanity: a request body / params we send must satisfy the SDK's own request schema. */
function validateRequest(label, schemaName, schema, value) {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new CheckFailed(`TEST BUG: ${label} request does not match ${schemaName}: ${z.prettifyError(result.error)}`);
  }
}

async function expectApiError(label, promise, status, code) {
  try {
    const value = await promise;
    throw new CheckFailed(`${label}: expected CapacitiesApiError ${status} ${code}, got success ${short(value)}`);
  } catch (error) {
    if (error instanceof CheckFailed) throw error;
    assert(error instanceof CapacitiesApiError, `${label}: expected CapacitiesApiError, got ${describe(error)}`);
    assert(
      error.status === status && error.code === code,
      `${label}: expected ${status} ${code}, got ${describe(error)}`,
    );
    assert(typeof error.message === "string" && error.message.length > 0, `${label}: empty error message`);
    return error;
  }
}

// ---------------------------------------------------------------------------------------------
// raw HTTP (for things the client hides: status, headers, empty bodies, invalid bodies)

async function raw(method, path, { token = cfg.apiToken, body, rawBody, headers = {}, query } = {}) {
  const url = new URL(`${baseUrl}${path}`);
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, String(value));
  const allHeaders = {};
  for (const [key, value] of Object.entries({ "x-capacities-api-version": PUBLIC_API_VERSION, ...headers })) {
    if (value !== undefined) allHeaders[key] = value;
  }
  if (token !== null) allHeaders.Authorization = `Bearer ${token}`;
  let payload;
  if (rawBody !== undefined) {
    payload = rawBody;
    allHeaders["Content-Type"] ??= "application/json";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    allHeaders["Content-Type"] = "application/json";
  }
  const res = await fetch(url, { method, headers: allHeaders, body: payload });
  const text = await res.text();
  let json;
  try {
    json = text.length ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// The SDK's own list (its `PublicApiErrorCode` enum); check `sdk.error_codes` hands it to pytest.
const ERROR_CODES = new Set(Object.values(CapacitiesErrorCode));

/** The documented error body: {code, message, details?} as JSON. */
function assertErrorBody(label, res, status, code) {
  assert(res.status === status, `${label}: expected HTTP ${status}, got ${res.status}: ${short(res.text)}`);
  const type = res.headers.get("content-type") ?? "";
  assert(type.startsWith("application/json"), `${label}: error content-type ${JSON.stringify(type)}, expected application/json`);
  const body = res.json;
  assert(body && typeof body === "object" && !Array.isArray(body), `${label}: error body is not a JSON object: ${short(res.text)}`);
  assert(body.code === code, `${label}: expected code ${code}, got ${short(body)}`);
  assert(ERROR_CODES.has(body.code), `${label}: unknown error code ${body.code}`);
  assert(typeof body.message === "string" && body.message.length > 0, `${label}: missing message: ${short(body)}`);
  const extra = Object.keys(body).filter((key) => !["code", "message", "details"].includes(key));
  assert(extra.length === 0, `${label}: unexpected keys in error body: ${extra.join(", ")}`);
  return body;
}

function dotPath(path) {
  // zod's prettifyError path style: a.b[0].c  (toDotPath); numbers in brackets.
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "symbol") out += `[${JSON.stringify(String(segment))}]`;
    else if (/[^\w$]/.test(segment)) out += `[${JSON.stringify(segment)}]`;
    else out += out.length ? `.${segment}` : segment;
  }
  return out;
}

/**
 * A 400 for an invalid body/query must be cap_invalid_input, carry no `details`, and its message
 * must be the zod "prettify" rendering of the SDK schema's issues: every `✖ <issue message>` and
 * `  → at <path>` line that `z.prettifyError` produces for the same input.
 */
function assertZodStyle400(label, res, schemaName, schema, input) {
  const body = assertErrorBody(label, res, 400, "cap_invalid_input");
  assert(!("details" in body), `${label}: validation errors must not carry details, got ${short(body.details)}`);
  const parsed = schema.safeParse(input);
  assert(!parsed.success, `TEST BUG: ${label}: input is valid per ${schemaName}`);
  const expected = z.prettifyError(parsed.error);
  const message = body.message;
  const missing = [];
  for (const issue of parsed.error.issues) {
    if (!message.includes(`✖ ${issue.message}`)) missing.push(`✖ ${issue.message}`);
    const at = dotPath(issue.path ?? []);
    if (at && !message.includes(`  → at ${at}`)) missing.push(`  → at ${at}`);
  }
  assert(
    missing.length === 0,
    `${label}: message is not the zod rendering of ${schemaName}'s issues; missing ${JSON.stringify(missing)}; ` +
      `server said ${JSON.stringify(message)}; SDK schema says ${JSON.stringify(expected)}`,
  );
  return `message ${JSON.stringify(message)}`;
}

// ---------------------------------------------------------------------------------------------
// helpers over the data model

function titleOf(obj) {
  return obj?.properties?.title?.title?.value;
}

function allBlocks(obj) {
  const out = [];
  const walk = (blocks) => {
    for (const block of blocks ?? []) {
      out.push(block);
      if (Array.isArray(block.blocks)) walk(block.blocks);
      if (Array.isArray(block.columns)) for (const column of block.columns) walk(column);
    }
  };
  for (const blocks of Object.values(obj?.blocks ?? {})) walk(blocks);
  return out;
}

function blockText(block) {
  return (block.tokens ?? []).map((token) => token.text ?? "").join("");
}

const isUuid = (value) => z.uuid().safeParse(value).success;

function textBlock(text, extra = {}) {
  return {
    type: "TextBlock",
    tokens: [{ type: "TextToken", text, style: {} }],
    hierarchy: { key: "Base", val: 0 },
    ...extra,
  };
}

function todayUtcMidnight() {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())).toISOString();
}

// ---------------------------------------------------------------------------------------------
// the run

const client = new CapacitiesClient({ baseUrl, apiToken: cfg.apiToken });
const readClient = new CapacitiesClient({ baseUrl, apiToken: cfg.readToken });
const badClient = new CapacitiesClient({ baseUrl, apiToken: `cap-api-not-a-real-token-${RUN}` });

const state = {};

async function sdk(label, request, response, call) {
  // request: [schemaName, schema, value] | null ; response: [schemaName, schema|undefined]
  if (request) validateRequest(label, request[0], request[1], request[2]);
  const value = await call();
  return validateResponse(label, response[0], response[1], value);
}

async function main() {
  await check("sdk.version", async () => {
    assert(PUBLIC_API_VERSION === "1.0.0", `PUBLIC_API_VERSION is ${PUBLIC_API_VERSION}`);
    return "@capacities/api contract 1.0.0";
  });

  await check("sdk.error_codes", async () => JSON.stringify([...ERROR_CODES].sort()));

  // ---- space -------------------------------------------------------------------------------
  await check("space.get", async () => {
    const space = await sdk("space.get", null, ["getSpaceResponseSchema", getSpaceResponseSchema], () => client.space.get());
    state.space = space;
    return `space ${space.id} ${JSON.stringify(space.title)}`;
  });

  await check("space.structures", async () => {
    const res = await sdk(
      "space.structures",
      null,
      ["getSpaceStructuresResponseSchema", getSpaceStructuresResponseSchema],
      () => client.space.structures(),
    );
    assert(res.structures.length > 0, "no structures listed");
    state.structures = res.structures;
    state.custom = res.structures.find((s) => isUuid(s.id));
    assert(state.custom, `no custom (UUID) structure in ${short(res.structures.map((s) => s.id))}`);
    for (const structure of res.structures) {
      for (const def of structure.propertyDefinitions) {
        if (def.type === "label") assert(Array.isArray(def.labelSet), `${structure.id}.${def.id}: label without labelSet`);
      }
    }
    return `${res.structures.length} structures: ${res.structures.map((s) => s.id).join(", ")}`;
  });

  // ---- object.create -------------------------------------------------------------------------
  const pageTitle = `Contract page ${RUN}`;
  await check("object.create", async () => {
    const body = {
      structureId: "RootPage",
      properties: { title: { type: "title", title: { value: pageTitle } } },
      blocks: {
        content: [
          textBlock(`contract paragraph ${RUN}`),
          textBlock("contract heading", { hierarchy: { key: "H2", val: 2 } }),
          textBlock("contract bullet", { list: { type: "bullet" } }),
          { type: "CodeBlock", lang: "python", text: "print('hi')" },
          { type: "HorizontalLineBlock" },
        ],
      },
    };
    const obj = await sdk(
      "object.create",
      ["createObjectBodySchema", createObjectBodySchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.object.create(body),
    );
    assert(obj.structureId === "RootPage", `structureId ${obj.structureId}`);
    assert(titleOf(obj) === pageTitle, `title ${JSON.stringify(titleOf(obj))} != ${JSON.stringify(pageTitle)}`);
    const content = obj.blocks?.content;
    assert(Array.isArray(content), `response has no blocks.content: ${short(obj.blocks)}`);
    assert(content.length >= 5, `expected the 5 created blocks in blocks.content, got ${content.length}`);
    assert(content.every((b) => typeof b.id === "string" && b.id.length > 0), "created blocks have no server-assigned ids");
    assert(blockText(content[0]) === `contract paragraph ${RUN}`, `first block text ${short(content[0])}`);
    assert(content[3].type === "CodeBlock" && content[3].text === "print('hi')", `code block ${short(content[3])}`);
    state.page = obj;
    return `created ${obj.id}`;
  });

  await check("object.create.custom_type_properties", async () => {
    const structure = need(state.custom, "custom structure");
    const tags = await client.objects.search({ query: "e", structureIds: ["RootTag"], limit: 1 });
    const tagId = tags.results[0]?.id;
    const properties = {};
    for (const def of structure.propertyDefinitions) {
      if (!def.writable) continue;
      if (def.type === "title") properties[def.id] = { type: "title", title: { value: `Custom ${RUN}` } };
      else if (def.type === "text") properties[def.id] = { type: "text", text: { value: "some text" } };
      else if (def.type === "number") properties[def.id] = { type: "number", number: { value: 42.5 } };
      else if (def.type === "boolean") properties[def.id] = { type: "boolean", boolean: { value: true } };
      else if (def.type === "url") properties[def.id] = { type: "url", url: { value: "https://example.com/x" } };
      else if (def.type === "label" && def.labelSet?.length)
        properties[def.id] = { type: "label", label: [{ id: def.labelSet[0].id, name: def.labelSet[0].name }] };
      else if (def.type === "date")
        properties[def.id] = { type: "date", date: { dateResolution: "day", start: "2026-08-01T00:00:00.000Z", end: null } };
      else if (def.type === "richText")
        properties[def.id] = {
          type: "richText",
          richText: { value: [{ type: "TextToken", text: "rich ", style: { bold: true } }, { type: "CodeToken", text: "code" }] },
        };
      else if (def.type === "entity" && tagId && (def.allowedStructures ?? ["RootTag"]).includes("RootTag"))
        properties[def.id] = { type: "entity", entity: [{ id: tagId }] };
    }
    const collection = structure.collections[0]?.id;
    const body = { structureId: structure.id, properties, ...(collection ? { collections: [collection] } : {}) };
    const obj = await sdk(
      "object.create(custom)",
      ["createObjectBodySchema", createObjectBodySchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.object.create(body),
    );
    assert(obj.structureId === structure.id, `structureId ${obj.structureId}`);
    if (collection) assert(JSON.stringify(obj.collections) === JSON.stringify([collection]), `collections ${short(obj.collections)} != [${collection}]`);
    const mismatched = [];
    for (const [id, value] of Object.entries(properties)) {
      const got = obj.properties[id];
      const payload = got?.[value.type];
      let same;
      if (!got || got.type !== value.type) same = false;
      else if (value.type === "label" || value.type === "entity")
        same = JSON.stringify(payload.map((x) => x.id)) === JSON.stringify(value[value.type].map((x) => x.id));
      else if (value.type === "date")
        same = payload.start === value.date.start && payload.dateResolution === "day" && payload.end === null;
      else if (value.type === "richText")
        same = JSON.stringify(payload.value.map((t) => [t.type, t.text])) === JSON.stringify(value.richText.value.map((t) => [t.type, t.text]));
      else same = payload?.value === value[value.type].value;
      if (!same) mismatched.push(`${id}: sent ${short(value)} got ${short(got)}`);
    }
    assert(mismatched.length === 0, `properties not echoed: ${mismatched.join("; ")}`);
    state.customObject = obj;
    state.customCollection = collection;
    return `created ${obj.id} with ${Object.entries(properties).map(([k, v]) => `${k}:${v.type}`).join(", ")}`;
  });

  await check("object.update.collections", async () => {
    const obj = need(state.customObject, "custom object");
    const collection = state.customCollection;
    const body = { id: obj.id, collections: [] };
    const updated = await sdk(
      "object.update(collections [])",
      ["patchObjectBodySchema", patchObjectBodySchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.object.update(body),
    );
    assert(!collection || !updated.collections.includes(collection), `still in ${collection} after collections: []: ${short(updated.collections)}`);
    const title = Object.values(updated.properties).find((p) => p.type === "title");
    assert(title?.title?.value === `Custom ${RUN}`, `unnamed properties changed by a collections-only update: ${short(updated.properties)}`);
    if (collection) {
      const back = await client.object.update({ id: obj.id, collections: [collection] });
      validateResponse("object.update(collections [c])", "getObjectResponseSchema", getObjectResponseSchema, back);
      assert(JSON.stringify(back.collections) === JSON.stringify([collection]), `collections ${short(back.collections)}`);
    }
    return `collections [] -> ${JSON.stringify(updated.collections)}`;
  });

  // ---- object.get ----------------------------------------------------------------------------
  await check("object.get", async () => {
    const page = need(state.page, "page");
    const params = { id: page.id };
    const obj = await sdk(
      "object.get",
      ["getObjectParamsSchema", getObjectParamsSchema, params],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.object.get(params),
    );
    assert(obj.id === page.id, `id ${obj.id}`);
    assert(titleOf(obj) === pageTitle, `title ${JSON.stringify(titleOf(obj))}`);
    assert(
      allBlocks(obj).some((b) => blockText(b) === `contract paragraph ${RUN}`),
      `created paragraph not in ${short(obj.blocks)}`,
    );
    return `got ${obj.id}`;
  });

  await check("object.get.seeded_objects", async () => {
    // every seeded object reachable through search must validate too (covers the seeded shapes)
    const seen = [];
    for (const structure of need(state.structures, "structures").slice(0, 8)) {
      const body = { query: "a", structureIds: [structure.id], limit: 3 };
      const res = await sdk(
        `objects.search(${structure.id})`,
        ["searchObjectsBodySchema", searchObjectsBodySchema, body],
        ["searchObjectsResponseSchema", searchObjectsResponseSchema],
        () => readClient.objects.search(body),
      );
      for (const hit of res.results.slice(0, 2)) {
        const obj = await sdk(
          `object.get(${hit.structureId} ${hit.id})`,
          null,
          ["getObjectResponseSchema", getObjectResponseSchema],
          () => readClient.object.get({ id: hit.id }),
        );
        assert(obj.structureId === hit.structureId, `search said ${hit.structureId}, object says ${obj.structureId}`);
        seen.push(`${hit.structureId}:${hit.id}`);
      }
    }
    assert(seen.length > 0, "no seeded objects found by search");
    return `${seen.length} seeded objects valid`;
  });

  // ---- object.update -------------------------------------------------------------------------
  const newTitle = `Contract page renamed ${RUN}`;
  await check("object.update", async () => {
    const page = need(state.page, "page");
    const body = { id: page.id, properties: { title: { type: "title", title: { value: newTitle } } } };
    const obj = await sdk(
      "object.update",
      ["patchObjectBodySchema", patchObjectBodySchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.object.update(body),
    );
    assert(obj.id === page.id, `id ${obj.id}`);
    assert(titleOf(obj) === newTitle, `title after update ${JSON.stringify(titleOf(obj))}`);
    const again = validateResponse(
      "object.get after update",
      "getObjectResponseSchema",
      getObjectResponseSchema,
      await client.object.get({ id: page.id }),
    );
    assert(titleOf(again) === newTitle, `GET after update: title ${JSON.stringify(titleOf(again))}`);
    return `renamed ${obj.id}`;
  });

  // ---- objects.search ------------------------------------------------------------------------
  await check("objects.search", async () => {
    const page = need(state.page, "page");
    const body = { query: `renamed ${RUN}`, structureIds: ["RootPage"], limit: 5 };
    const res = await sdk(
      "objects.search",
      ["searchObjectsBodySchema", searchObjectsBodySchema, body],
      ["searchObjectsResponseSchema", searchObjectsResponseSchema],
      () => client.objects.search(body),
    );
    assert(res.results.length <= 5, `limit 5 ignored: ${res.results.length} results`);
    const hit = res.results.find((r) => r.id === page.id);
    assert(hit, `created page not found: ${short(res.results)}`);
    assert(hit.title === newTitle && hit.structureId === "RootPage", `hit ${short(hit)}`);
    const none = await sdk(
      "objects.search(no match)",
      null,
      ["searchObjectsResponseSchema", searchObjectsResponseSchema],
      () => client.objects.search({ query: `zz-no-such-title-${RUN}` }),
    );
    assert(none.results.length === 0, `unexpected results ${short(none.results)}`);
    // `query` is trimmed by the schema (z.string().trim()) before matching
    const padded = await client.objects.search({ query: `   renamed ${RUN}\t `, structureIds: ["RootPage"] });
    validateResponse("objects.search(padded query)", "searchObjectsResponseSchema", searchObjectsResponseSchema, padded);
    assert(padded.results.some((r) => r.id === page.id), `padded query "  renamed ${RUN}\\t " did not find the page: ${short(padded)}`);
    // `limit` defaults to 20
    const many = await client.objects.search({ query: "e" });
    validateResponse("objects.search(default limit)", "searchObjectsResponseSchema", searchObjectsResponseSchema, many);
    const upTo50 = await client.objects.search({ query: "e", limit: 50 });
    assert(many.results.length === Math.min(20, upTo50.results.length), `default limit: ${many.results.length} results without limit, ${upTo50.results.length} with limit 50`);
    return `found ${hit.id}; default limit gave ${many.results.length} of ${upTo50.results.length}`;
  });

  await check("objects.search.titles_only", async () => {
    // "Text to match against object titles" (schema); the page's body text must not match
    const page = need(state.page, "page");
    const res = await client.objects.search({ query: `contract paragraph ${RUN}` });
    validateResponse("objects.search(body text)", "searchObjectsResponseSchema", searchObjectsResponseSchema, res);
    assert(!res.results.some((r) => r.id === page.id), `search matched body text, not only titles: ${short(res)}`);
    return "body text not matched";
  });

  // ---- object.createFromUrl ------------------------------------------------------------------
  await check("object.createFromUrl", async () => {
    const body = {
      url: `https://example.com/articles/contract-${RUN}`,
      properties: {
        title: { type: "title", title: { value: `Weblink ${RUN}` } },
        description: { type: "text", text: { value: "A short summary" } },
      },
      markdown: "Notes about **this** article",
    };
    const obj = await sdk(
      "object.createFromUrl",
      ["createObjectFromUrlBodySchema", createObjectFromUrlBodySchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.object.createFromUrl(body),
    );
    assert(isUuid(obj.id), `id ${obj.id}`);
    assert(titleOf(obj) === `Weblink ${RUN}`, `title ${JSON.stringify(titleOf(obj))}`);
    assert(obj.structureId === "MediaWebResource", `an article URL should become a MediaWebResource, got ${obj.structureId}`);
    assert(
      obj.properties.media_URLReference?.url?.value === body.url,
      `media_URLReference (documented response example) ${short(obj.properties.media_URLReference)} != ${body.url}`,
    );
    assert(obj.properties.description?.text?.value === "A short summary", `description ${short(obj.properties.description)}`);
    state.weblink = obj;
    return `created ${obj.structureId} ${obj.id}`;
  });

  await check("object.createFromUrl.blocks", async () => {
    const body = {
      url: `https://example.org/page-${RUN}`,
      blocks: { media_notes: [textBlock("weblink note")] },
    };
    const obj = await sdk(
      "object.createFromUrl(blocks)",
      ["createObjectFromUrlBodySchema", createObjectFromUrlBodySchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.object.createFromUrl(body),
    );
    assert(isUuid(obj.id), `id ${obj.id}`);
    return `created ${obj.structureId} ${obj.id}`;
  });

  // ---- markdown ------------------------------------------------------------------------------
  await check("object.markdown.get", async () => {
    const page = need(state.page, "page");
    const params = { id: page.id };
    const res = await sdk(
      "object.markdown.get",
      ["getObjectMarkdownParamsSchema", getObjectMarkdownParamsSchema, params],
      ["objectMarkdownResponseSchema", objectMarkdownResponseSchema],
      () => client.object.markdown.get(params),
    );
    assert(res.id === page.id && res.structureId === "RootPage", `id/structureId ${short(res)}`);
    assert(res.markdown.includes(`contract paragraph ${RUN}`), `markdown lacks the page text: ${short(res.markdown)}`);
    return `${res.markdown.length} chars`;
  });

  await check("object.markdown.create", async () => {
    const body = { structureId: "RootPage", markdown: `# MD page ${RUN}\n\nInitial *content*\n\n- one\n- two\n` };
    const obj = await sdk(
      "object.markdown.create",
      ["createObjectMarkdownBodySchema", createObjectMarkdownBodySchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.object.markdown.create(body),
    );
    assert(obj.structureId === "RootPage", `structureId ${obj.structureId}`);
    assert(titleOf(obj) === `MD page ${RUN}`, `title from H1: ${JSON.stringify(titleOf(obj))}`);
    state.mdPage = obj;
    return `created ${obj.id}`;
  });

  // ---- blocks --------------------------------------------------------------------------------
  await check("blocks.append.blocks", async () => {
    const page = need(state.page, "page");
    const body = { id: page.id, blocks: [textBlock(`appended ${RUN}`)] };
    const obj = await sdk(
      "blocks.append(blocks)",
      ["appendBlocksRequestSchema", appendBlocksRequestSchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.blocks.append(body),
    );
    const content = obj.blocks?.content ?? [];
    const last = content[content.length - 1];
    assert(last && blockText(last) === `appended ${RUN}`, `appended block not last in blocks.content: ${short(content.map(blockText))}`);
    assert(typeof last.id === "string" && last.id.length > 0, "appended block has no id");
    state.appended = last;
    return `block ${last.id}`;
  });

  await check("blocks.append.markdown", async () => {
    const page = need(state.page, "page");
    const body = { id: page.id, propertyId: "content", position: { type: "start" }, markdown: `## md heading ${RUN}\n\nmd paragraph` };
    const obj = await sdk(
      "blocks.append(markdown)",
      ["appendBlocksRequestSchema", appendBlocksRequestSchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.blocks.append(body),
    );
    const content = obj.blocks?.content ?? [];
    assert(content.length > 0 && blockText(content[0]) === `md heading ${RUN}`, `markdown heading not first: ${short(content.map(blockText))}`);
    assert(content[0].hierarchy?.key === "H2", `## heading hierarchy ${short(content[0].hierarchy)}`);
    return `${content.length} blocks`;
  });

  await check("blocks.append.rich_blocks", async () => {
    const page = need(state.page, "page");
    const other = need(state.customObject, "custom object");
    const blocks = [
      {
        type: "TextBlock",
        tokens: [
          { type: "TextToken", text: "styled ", style: { bold: true, italic: true }, color: "text-red" },
          { type: "LinkToken", text: "a url", url: "https://example.com" },
          { type: "LinkToken", text: "an object", entityId: other.id },
          { type: "LinkToken", text: "a day", date: { start: "2026-08-01T00:00:00.000Z" } },
          { type: "MathToken", text: "x^2" },
          { type: "CodeToken", text: "let x" },
        ],
        hierarchy: { key: "H1", val: 1 },
        quote: { layout: "standout" },
        colorTheme: "bg-yellow",
        highlight: { type: "custom", label: "note", location: "p. 4", color: "green" },
      },
      { type: "TextBlock", tokens: [{ type: "TextToken", text: "todo", style: {} }], todo: { isDone: false }, toggle: { isOpen: true },
        blocks: [textBlock("nested child")] },
      { type: "GroupBlock", list: { type: "numerical" }, blocks: [textBlock("grouped")] },
      { type: "GridBlock", dividers: [0.5], gridLayout: "columns", columns: [[textBlock("left")], [textBlock("right")]] },
      { type: "MathBlock", text: "\\int_0^1 x\\,dx", colorTheme: "text-blue" },
      { type: "EntityBlock", entityId: other.id },
      { type: "EntityBlock", entityId: null },
      { type: "CodeBlock", lang: "ts", text: "const a = 1;" },
      { type: "HorizontalLineBlock" },
    ];
    const body = { id: page.id, blocks };
    const obj = await sdk(
      "blocks.append(rich)",
      ["appendBlocksRequestSchema", appendBlocksRequestSchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.blocks.append(body),
    );
    const content = obj.blocks?.content ?? [];
    const tail = content.slice(-blocks.length);
    assert(JSON.stringify(tail.map((b) => b.type)) === JSON.stringify(blocks.map((b) => b.type)), `types ${short(tail.map((b) => b.type))}`);
    const [text, todo, group, grid, math, entity, emptyEntity, code] = tail;
    const tokenTypes = text.tokens.map((t) => t.type).join(",");
    assert(tokenTypes === "TextToken,LinkToken,LinkToken,LinkToken,MathToken,CodeToken", `tokens ${short(text.tokens)}`);
    assert(text.tokens[0].style.bold === true && text.tokens[0].color === "text-red", `style ${short(text.tokens[0])}`);
    assert(text.tokens[1].url === "https://example.com", `url link ${short(text.tokens[1])}`);
    assert(text.tokens[2].entityId === other.id, `entity link ${short(text.tokens[2])}`);
    assert(text.tokens[3].date?.start === "2026-08-01T00:00:00.000Z" && text.tokens[3].date?.dateResolution === "day", `date link ${short(text.tokens[3])}`);
    assert(text.hierarchy.key === "H1" && text.quote?.layout === "standout" && text.colorTheme === "bg-yellow", `text block ${short(text)}`);
    assert(text.highlight?.type === "custom" && text.highlight?.label === "note", `highlight ${short(text.highlight)}`);
    assert(todo.todo?.isDone === false && todo.blocks.length === 1 && blockText(todo.blocks[0]) === "nested child", `todo ${short(todo)}`);
    assert(group.list?.type === "numerical" && group.blocks.length === 1, `group ${short(group)}`);
    assert(grid.columns.length === 2 && JSON.stringify(grid.dividers) === "[0.5]", `grid ${short(grid)}`);
    assert(math.text === "\\int_0^1 x\\,dx", `math ${short(math)}`);
    assert(entity.entityId === other.id && emptyEntity.entityId === null, `entity blocks ${short([entity, emptyEntity])}`);
    assert(code.lang === "ts" && code.text === "const a = 1;", `code ${short(code)}`);
    const ids = allBlocks(obj).map((b) => b.id);
    assert(new Set(ids).size === ids.length, "duplicate block ids");
    state.richParent = todo;
    return `${blocks.length} blocks, all fields echoed`;
  });

  await check("blocks.append.positions", async () => {
    const page = need(state.page, "page");
    const parent = need(state.richParent, "todo TextBlock with a child");
    const anchorBlock = need(state.appended, "appended block");
    const after = { id: page.id, position: { type: "after_block", after_block: { id: anchorBlock.id } }, blocks: [textBlock(`after ${RUN}`)] };
    let obj = await sdk(
      "blocks.append(after_block)",
      ["appendBlocksRequestSchema", appendBlocksRequestSchema, after],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.blocks.append(after),
    );
    let content = obj.blocks.content;
    const at = content.findIndex((b) => b.id === anchorBlock.id);
    assert(at >= 0 && blockText(content[at + 1] ?? {}) === `after ${RUN}`, `not inserted after ${anchorBlock.id}: ${short(content.map(blockText))}`);
    const nested = { id: page.id, parentBlockId: parent.id, position: { type: "start" }, blocks: [textBlock(`first child ${RUN}`)] };
    obj = await sdk(
      "blocks.append(parentBlockId,start)",
      ["appendBlocksRequestSchema", appendBlocksRequestSchema, nested],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.blocks.append(nested),
    );
    const again = allBlocks(obj).find((b) => b.id === parent.id);
    assert(again && again.blocks.map(blockText).join("|") === `first child ${RUN}|nested child`, `children ${short(again?.blocks?.map(blockText))}`);
    return "after_block and parentBlockId+start honoured";
  });

  await check("blocks.dailyNote.append.blocks", async () => {
    const body = { blocks: [textBlock(`daily ${RUN}`)] };
    const res = await sdk(
      "blocks.dailyNote.append(blocks)",
      ["saveToDailyNoteBodySchema", saveToDailyNoteBodySchema, body],
      ["(none: empty body)", undefined],
      () => client.blocks.dailyNote.append(body),
    );
    return `returned ${short(res)}`;
  });

  await check("blocks.dailyNote.append.markdown", async () => {
    const body = { date: todayUtcMidnight(), noTimeStamp: true, markdown: `daily md ${RUN}` };
    await sdk(
      "blocks.dailyNote.append(markdown)",
      ["saveToDailyNoteBodySchema", saveToDailyNoteBodySchema, body],
      ["(none: empty body)", undefined],
      () => client.blocks.dailyNote.append(body),
    );
    // daily_note_delay=0 in the sandbox: the note must now carry the text, findable by title
    const title = body.date;
    const hits = validateResponse(
      "objects.search(daily note)",
      "searchObjectsResponseSchema",
      searchObjectsResponseSchema,
      await client.objects.search({ query: title.slice(0, 10), structureIds: ["RootDailyNote"] }),
    );
    const note = hits.results.find((r) => r.structureId === "RootDailyNote");
    assert(note, `today's daily note not found by search ${JSON.stringify(title.slice(0, 10))}: ${short(hits)}`);
    const obj = validateResponse("object.get(daily note)", "getObjectResponseSchema", getObjectResponseSchema, await client.object.get({ id: note.id }));
    const texts = allBlocks(obj).map(blockText);
    assert(texts.some((t) => t.includes(`daily md ${RUN}`)), `appended markdown not in daily note: ${short(texts)}`);
    assert(texts.some((t) => t.includes(`daily ${RUN}`)), `appended blocks not in daily note: ${short(texts)}`);
    return `daily note ${note.id} (${note.title})`;
  });

  await check("blocks.block.update", async () => {
    const page = need(state.page, "page");
    const block = need(state.appended, "appended block");
    const body = { id: page.id, blockId: block.id, block: textBlock(`updated ${RUN}`, { todo: { isDone: true } }) };
    const obj = await sdk(
      "blocks.block.update",
      ["patchBlockRequestSchema", patchBlockRequestSchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.blocks.block.update(body),
    );
    const updated = allBlocks(obj).find((b) => b.id === block.id);
    assert(updated, `block ${block.id} gone after update (id must be preserved)`);
    assert(blockText(updated) === `updated ${RUN}`, `text after update ${short(updated)}`);
    assert(updated.todo?.isDone === true, `todo after update ${short(updated)}`);
    return `updated ${block.id}`;
  });

  await check("blocks.block.update.children", async () => {
    // D-blocks: omitting `blocks` keeps the children; supplying them replaces the children
    const page = need(state.page, "page");
    const parent = need(state.richParent, "todo TextBlock with children");
    const keep = { id: page.id, blockId: parent.id, block: { type: "TextBlock", tokens: [{ type: "TextToken", text: "todo done", style: {} }], todo: { isDone: true } } };
    let obj = await sdk(
      "blocks.block.update(keep children)",
      ["patchBlockRequestSchema", patchBlockRequestSchema, keep],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.blocks.block.update(keep),
    );
    let block = allBlocks(obj).find((b) => b.id === parent.id);
    assert(block && blockText(block) === "todo done" && block.todo?.isDone === true, `update not applied: ${short(block)}`);
    assert(block.blocks.length === 2 && blockText(block.blocks[1]) === "nested child", `children not kept: ${short(block.blocks.map(blockText))}`);
    const replace = { ...keep, block: { ...keep.block, blocks: [textBlock("replaced child")] } };
    obj = await sdk(
      "blocks.block.update(replace children)",
      ["patchBlockRequestSchema", patchBlockRequestSchema, replace],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.blocks.block.update(replace),
    );
    block = allBlocks(obj).find((b) => b.id === parent.id);
    assert(block && block.blocks.map(blockText).join("|") === "replaced child", `children not replaced: ${short(block?.blocks?.map(blockText))}`);
    return "children kept when omitted, replaced when given";
  });

  await check("blocks.block.delete", async () => {
    const page = need(state.page, "page");
    const block = need(state.appended, "appended block");
    const params = { objectId: page.id, blockId: block.id };
    const obj = await sdk(
      "blocks.block.delete",
      ["deleteBlockParamsSchema", deleteBlockParamsSchema, params],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.blocks.block.delete(params),
    );
    assert(obj.id === page.id, `id ${obj.id}`);
    assert(!allBlocks(obj).some((b) => b.id === block.id), `block ${block.id} still present`);
    const again = await client.object.get({ id: page.id });
    assert(!allBlocks(again).some((b) => b.id === block.id), `block ${block.id} still present on GET`);
    return `deleted ${block.id}`;
  });

  // ---- object.delete -------------------------------------------------------------------------
  await check("object.delete.soft", async () => {
    const page = need(state.page, "page");
    const params = { id: page.id };
    await sdk(
      "object.delete(soft)",
      ["deleteObjectParamsSchema", deleteObjectParamsSchema, params],
      ["(none: empty body)", undefined],
      () => client.object.delete(params),
    );
    await expectApiError("object.get after soft delete", client.object.get({ id: page.id }), 404, "cap_not_found");
    return `trashed ${page.id}`;
  });

  await check("object.update.restore", async () => {
    const page = need(state.page, "page");
    const body = { id: page.id, deleteRequested: false };
    const obj = await sdk(
      "object.update(restore)",
      ["patchObjectBodySchema", patchObjectBodySchema, body],
      ["getObjectResponseSchema", getObjectResponseSchema],
      () => client.object.update(body),
    );
    assert(obj.id === page.id, `id ${obj.id}`);
    const again = validateResponse("object.get after restore", "getObjectResponseSchema", getObjectResponseSchema, await client.object.get({ id: page.id }));
    assert(titleOf(again) === newTitle, `title after restore ${JSON.stringify(titleOf(again))}`);
    return `restored ${page.id}`;
  });

  await check("object.delete.hard", async () => {
    const target = need(state.mdPage, "markdown page");
    const params = { id: target.id, hardDelete: true };
    await sdk(
      "object.delete(hard)",
      ["deleteObjectParamsSchema", deleteObjectParamsSchema, params],
      ["(none: empty body)", undefined],
      () => client.object.delete(params),
    );
    await expectApiError("object.get after hard delete", client.object.get({ id: target.id }), 404, "cap_not_found");
    await expectApiError(
      "restore after hard delete",
      client.object.update({ id: target.id, deleteRequested: false }),
      404,
      "cap_not_found",
    );
    return `deleted ${target.id}`;
  });

  // ---- raw wire checks (what the SDK hides) --------------------------------------------------
  await check("wire.empty_body_routes", async () => {
    const obj = await client.object.create({ structureId: "RootPage", properties: { title: { type: "title", title: { value: `to delete ${RUN}` } } } });
    const del = await raw("DELETE", "/object", { query: { id: obj.id, hardDelete: "false" } });
    assert(del.status === 200, `DELETE /object: HTTP ${del.status} ${short(del.text)}`);
    assert(del.text === "", `DELETE /object: expected empty body, got ${short(del.text)}`);
    const daily = await raw("POST", "/blocks/daily-note/append", { body: { markdown: `raw ${RUN}` } });
    assert(daily.status === 200, `POST /blocks/daily-note/append: HTTP ${daily.status} ${short(daily.text)}`);
    assert(daily.text === "", `POST /blocks/daily-note/append: expected empty body, got ${short(daily.text)}`);
    return "200 + empty bodies";
  });

  await check("wire.json_content_type", async () => {
    const res = await raw("GET", "/space");
    assert(res.status === 200, `GET /space: HTTP ${res.status}`);
    const type = res.headers.get("content-type") ?? "";
    assert(type.startsWith("application/json"), `content-type ${JSON.stringify(type)}`);
    return type;
  });

  await check("wire.ratelimit_header", async () => {
    const cases = [
      ["GET", "/space", 10, {}],
      ["GET", "/space/structures", 10, {}],
      ["POST", "/objects/search", 30, { body: { query: "x" } }],
      ["GET", "/object", 30, { query: { id: randomUUID() } }], // an error response carries it too
    ];
    const seen = [];
    for (const [method, path, limit, options] of cases) {
      const res = await raw(method, path, options);
      const header = res.headers.get("ratelimit");
      assert(header, `${method} ${path} (HTTP ${res.status}): no RateLimit header`);
      const m = /^limit=(\d+), remaining=(\d+), reset=(\d+(?:\.\d+)?)$/.exec(header);
      assert(m, `${method} ${path}: RateLimit header ${JSON.stringify(header)} is not 'limit=N, remaining=M, reset=S'`);
      assert(Number(m[1]) === limit, `${method} ${path}: limit=${m[1]}, contract says ${limit}`);
      assert(Number(m[2]) < limit, `${method} ${path}: remaining=${m[2]} after a request`);
      seen.push(`${method} ${path}: ${header}`);
    }
    return seen.join("; ");
  });

  // ---- error behaviour through the official client ------------------------------------------
  await check("error.not_found", async () => {
    const error = await expectApiError("object.get(unknown id)", client.object.get({ id: randomUUID() }), 404, "cap_not_found");
    await expectApiError("object.markdown.get(unknown id)", client.object.markdown.get({ id: randomUUID() }), 404, "cap_not_found");
    await expectApiError(
      "blocks.append(unknown object)",
      client.blocks.append({ id: randomUUID(), markdown: "x" }),
      404,
      "cap_not_found",
    );
    const res = await raw("GET", "/object", { query: { id: randomUUID() } });
    assertErrorBody("GET /object unknown id", res, 404, "cap_not_found");
    return error.message;
  });

  await check("error.scope_insufficient", async () => {
    const error = await expectApiError(
      "read-only object.create",
      readClient.object.create({ structureId: "RootPage", properties: { title: { type: "title", title: { value: "nope" } } } }),
      403,
      "cap_scope_insufficient",
    );
    const details = error.scopeDetails;
    assert(details, `scopeDetails undefined; details=${short(error.details)}`);
    assert(
      Array.isArray(details.missingScopes) && details.missingScopes.includes("api:write"),
      `missingScopes ${short(details.missingScopes)}`,
    );
    const forDaily = await expectApiError(
      "read-only blocks.dailyNote.append",
      readClient.blocks.dailyNote.append({ markdown: "nope" }),
      403,
      "cap_scope_insufficient",
    );
    assert(forDaily.scopeDetails?.missingScopes?.includes("api:write"), `daily-note missingScopes ${short(forDaily.details)}`);
    const res = await raw("DELETE", "/object", { token: cfg.readToken, query: { id: randomUUID() } });
    const body = assertErrorBody("raw DELETE /object read-only", res, 403, "cap_scope_insufficient");
    assert(JSON.stringify(body.details) === JSON.stringify({ missingScopes: ["api:write"] }), `details ${short(body.details)}`);
    return `missingScopes=${JSON.stringify(details.missingScopes)}`;
  });

  await check("error.read_scope_allows_reads", async () => {
    validateResponse("read-only space.get", "getSpaceResponseSchema", getSpaceResponseSchema, await readClient.space.get());
    validateResponse(
      "read-only objects.search",
      "searchObjectsResponseSchema",
      searchObjectsResponseSchema,
      await readClient.objects.search({ query: "a" }),
    );
    return "ok";
  });

  await check("error.not_authenticated", async () => {
    const error = await expectApiError("bad token space.get", badClient.space.get(), 401, "cap_not_authenticated");
    await expectApiError("bad token object.create", badClient.object.create({ structureId: "RootPage" }), 401, "cap_not_authenticated");
    const none = await raw("GET", "/space", { token: null });
    assertErrorBody("GET /space without Authorization", none, 401, "cap_not_authenticated");
    const notBearer = await raw("GET", "/space", { token: null, headers: { Authorization: `Basic ${cfg.apiToken}` } });
    assertErrorBody("GET /space with Basic auth", notBearer, 401, "cap_not_authenticated");
    return error.message;
  });

  // ---- invalid input: raw fetch, zod-style messages -------------------------------------------
  const pageId = state.page?.id ?? randomUUID();
  const invalid = [
    ["invalid.object.create.structure_id", "POST", "/object", createObjectBodySchema, "createObjectBodySchema", { structureId: 5 }],
    [
      "invalid.object.create.property_value",
      "POST",
      "/object",
      createObjectBodySchema,
      "createObjectBodySchema",
      { structureId: "RootPage", properties: { title: { type: "title", title: { value: 3 } } } },
    ],
    [
      "invalid.object.create.block",
      "POST",
      "/object",
      createObjectBodySchema,
      "createObjectBodySchema",
      { structureId: "RootPage", blocks: { content: [{ type: "CodeBlock", lang: "js" }] } },
    ],
    ["invalid.object.update.nothing", "PATCH", "/object", patchObjectBodySchema, "patchObjectBodySchema", { id: pageId }],
    ["invalid.object.url.not_a_url", "POST", "/object/url", createObjectFromUrlBodySchema, "createObjectFromUrlBodySchema", { url: "not a url" }],
    [
      "invalid.object.url.blocks_and_markdown",
      "POST",
      "/object/url",
      createObjectFromUrlBodySchema,
      "createObjectFromUrlBodySchema",
      { url: "https://example.com", markdown: "x", blocks: { media_notes: [textBlock("x")] } },
    ],
    ["invalid.object.markdown.create.missing", "POST", "/object/markdown", createObjectMarkdownBodySchema, "createObjectMarkdownBodySchema", { structureId: "RootPage" }],
    ["invalid.objects.search.blank_query", "POST", "/objects/search", searchObjectsBodySchema, "searchObjectsBodySchema", { query: "   " }],
    ["invalid.objects.search.limit", "POST", "/objects/search", searchObjectsBodySchema, "searchObjectsBodySchema", { query: "x", limit: 51 }],
    [
      "invalid.blocks.append.blocks_and_markdown",
      "POST",
      "/blocks/append",
      appendBlocksRequestSchema,
      "appendBlocksRequestSchema",
      { id: pageId, blocks: [textBlock("x")], markdown: "x" },
    ],
    [
      "invalid.blocks.append.grid_columns",
      "POST",
      "/blocks/append",
      appendBlocksRequestSchema,
      "appendBlocksRequestSchema",
      { id: pageId, blocks: [{ type: "GridBlock", dividers: [], columns: [[textBlock("only one column")]] }] },
    ],
    [
      "invalid.blocks.append.link_token_targets",
      "POST",
      "/blocks/append",
      appendBlocksRequestSchema,
      "appendBlocksRequestSchema",
      { id: pageId, blocks: [{ type: "TextBlock", tokens: [{ type: "LinkToken", text: "l", url: "https://a.b", entityId: pageId }] }] },
    ],
    [
      "invalid.blocks.append.entity_block_date",
      "POST",
      "/blocks/append",
      appendBlocksRequestSchema,
      "appendBlocksRequestSchema",
      { id: pageId, blocks: [{ type: "EntityBlock", entityId: null, date: { start: "2026-08-01T00:00:00.000Z" } }] },
    ],
    ["invalid.blocks.daily_note.neither", "POST", "/blocks/daily-note/append", saveToDailyNoteBodySchema, "saveToDailyNoteBodySchema", { noTimeStamp: true }],
    [
      "invalid.blocks.block.update.unknown_type",
      "PATCH",
      "/blocks/block",
      patchBlockRequestSchema,
      "patchBlockRequestSchema",
      { id: pageId, blockId: "b", block: { type: "Paragraph" } },
    ],
  ];
  for (const [name, method, path, schema, schemaName, body] of invalid) {
    await check(name, async () => assertZodStyle400(`${method} ${path}`, await raw(method, path, { body }), schemaName, schema, body));
  }

  const invalidQueries = [
    ["invalid.object.get.id", "GET", "/object", getObjectParamsSchema, "getObjectParamsSchema", { id: "not-a-uuid" }],
    ["invalid.object.get.missing_id", "GET", "/object", getObjectParamsSchema, "getObjectParamsSchema", {}],
    ["invalid.object.markdown.get.id", "GET", "/object/markdown", getObjectMarkdownParamsSchema, "getObjectMarkdownParamsSchema", { id: "123" }],
    ["invalid.object.delete.hard_delete", "DELETE", "/object", deleteObjectParamsSchema, "deleteObjectParamsSchema", { id: pageId, hardDelete: "yes" }],
    ["invalid.block.delete.block_id", "DELETE", "/block", deleteBlockParamsSchema, "deleteBlockParamsSchema", { objectId: pageId, blockId: "not-a-uuid" }],
  ];
  for (const [name, method, path, schema, schemaName, query] of invalidQueries) {
    await check(name, async () => assertZodStyle400(`${method} ${path}?${new URLSearchParams(query)}`, await raw(method, path, { query }), schemaName, schema, query));
  }

  await check("invalid.malformed_json", async () => {
    const res = await raw("POST", "/objects/search", { rawBody: '{"query": "x"' });
    const body = assertErrorBody("POST /objects/search malformed JSON", res, 400, "cap_invalid_input");
    return body.message;
  });

  await check("invalid.version_header", async () => {
    const bad = await raw("GET", "/space", { headers: { "x-capacities-api-version": "banana" } });
    const body = assertErrorBody("X-Capacities-Api-Version: banana", bad, 400, "cap_invalid_input");
    const old = await raw("GET", "/space", { headers: { "x-capacities-api-version": "0.0.1" } });
    assertErrorBody("X-Capacities-Api-Version: 0.0.1 (below minimum)", old, 400, "cap_invalid_input");
    const none = await raw("GET", "/space", { headers: { "x-capacities-api-version": undefined } });
    assert(none.status === 200, `no version header: HTTP ${none.status} ${short(none.text)}`);
    return body.message;
  });

  await check("invalid.object.create.read_only_property", async () => {
    const body = { structureId: "RootPage", properties: { lastUpdatedAt: { type: "lastUpdatedAt", lastUpdatedAt: { value: "2020-01-01T00:00:00.000Z" } } } };
    return assertZodStyle400("POST /object lastUpdatedAt", await raw("POST", "/object", { body }), "createObjectBodySchema", createObjectBodySchema, body);
  });

  await check("wire.integral_float_accepted", async () => {
    // JSON `5.0` is the number 5 in JavaScript: z.number().int() accepts it
    const res = await raw("POST", "/objects/search", { rawBody: '{"query": "e", "limit": 5.0}' });
    assert(res.status === 200, `limit 5.0: HTTP ${res.status} ${short(res.text)}`);
    validateResponse("objects.search(limit 5.0)", "searchObjectsResponseSchema", searchObjectsResponseSchema, res.json);
    assert(res.json.results.length <= 5, `limit 5.0 not applied: ${res.json.results.length} results`);
    return `${res.json.results.length} results`;
  });

  await check("invalid.number_overflow", async () => {
    // JSON.parse("1e400") is Infinity, which z.number() rejects: a 400, not a server error
    const text = '{"query": "x", "limit": 1e400}';
    return assertZodStyle400("POST /objects/search limit 1e400", await raw("POST", "/objects/search", { rawBody: text }), "searchObjectsBodySchema", searchObjectsBodySchema, JSON.parse(text));
  });

  // ---- OAuth mode of the official client -----------------------------------------------------
  // ---- OAuth mode of the official client -----------------------------------------------------
  await oauthChecks();

  // Last, because a sandbox that stores what it cannot render may break every later answer.
  await check("wire.lone_surrogate_strings", async () => {
    // JSON may escape a lone UTF-16 surrogate; JSON.parse gives a JS string that z.string()
    // accepts, and JSON.stringify escapes it again on the way out.
    const problems = [];
    const search = await raw("POST", "/objects/search", { rawBody: '{"query": "q\\ud800q"}' });
    if (search.status !== 200) problems.push(`POST /objects/search {"query":"q\\ud800q"}: HTTP ${search.status} ${short(search.text)}`);
    const title = `s\\ud800s ${RUN}`;
    let created;
    try {
      created = await raw("POST", "/object", { rawBody: `{"structureId": "RootPage", "properties": {"title": {"type": "title", "title": {"value": "${title}"}}}}` });
    } catch (error) {
      problems.push(`POST /object with title "${title}": ${describe(error)} ${describe(error.cause)}`);
    }
    const expected = JSON.parse(`"${title}"`);
    if (created && created.status !== 200) problems.push(`POST /object with title "${title}": HTTP ${created.status} ${short(created.text)}`);
    else if (created && titleOf(created.json) !== expected) problems.push(`title not echoed: ${short(created.text)}`);
    else if (created) {
      const again = await raw("GET", "/object", { query: { id: created.json.id } });
      if (again.status !== 200 || titleOf(again.json) !== expected) problems.push(`GET afterwards: HTTP ${again.status} ${short(again.text)}`);
    }
    assert(problems.length === 0, problems.join(" | "));
    return "accepted and echoed";
  });

  await check("responses.no_unknown_keys", async () => {
    assert(
      unknownKeyFindings.length === 0,
      `responses carry keys the SDK schemas do not define (OpenAPI: additionalProperties false): ${unknownKeyFindings.join(" | ")}`,
    );
    return "no unknown keys in any validated response";
  });
}

const OAUTH_CHECKS = [
  "oauth.authorization_code_pkce",
  "oauth.client_api_call",
  "oauth.proactive_refresh",
  "oauth.refresh_after_401",
  "oauth.rotated_refresh_token_rejected",
  "oauth.metadata",
  "oauth.revoke",
  "oauth.refresh_failure_is_oauth_error",
];

function base64url(buffer) {
  return Buffer.from(buffer).toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function authorize(oauth) {
  const verifier = base64url(randomBytes(48));
  const challenge = base64url(createHash("sha256").update(verifier).digest());
  const stateParam = randomBytes(8).toString("hex");
  const url = new URL(`${baseUrl}/oauth/authorize`);
  const params = {
    response_type: "code",
    client_id: oauth.clientId,
    redirect_uri: oauth.redirectUri,
    scope: oauth.scope ?? "api:read api:write offline_access",
    resource: oauth.resource,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: stateParam,
  };
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  const res = await fetch(url, { redirect: "manual", headers: { "X-Sandbox-Admin-Token": oauth.adminToken } });
  assert(res.status >= 300 && res.status < 400, `GET /oauth/authorize: expected a redirect (auto-approve), got HTTP ${res.status}: ${short(await res.text())}`);
  const location = new URL(res.headers.get("location"), baseUrl);
  assert(
    `${location.origin}${location.pathname}` === new URL(oauth.redirectUri).origin + new URL(oauth.redirectUri).pathname,
    `redirected to ${location} instead of ${oauth.redirectUri}`,
  );
  assert(location.searchParams.get("state") === stateParam, `state not echoed: ${location}`);
  const code = location.searchParams.get("code");
  assert(code, `no code in redirect ${location}`);
  const token = await fetch(`${baseUrl}/oauth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: oauth.redirectUri,
      client_id: oauth.clientId,
      code_verifier: verifier,
    }).toString(),
  });
  const text = await token.text();
  assert(token.status === 200, `POST /oauth/token: HTTP ${token.status} ${short(text)}`);
  const data = JSON.parse(text);
  assert(typeof data.access_token === "string" && data.access_token, `no access_token: ${short(data)}`);
  assert(typeof data.refresh_token === "string" && data.refresh_token, `no refresh_token (offline_access): ${short(data)}`);
  assert(/^bearer$/i.test(data.token_type ?? ""), `token_type ${data.token_type}`);
  assert(typeof data.expires_in === "number" && data.expires_in > 0, `expires_in ${data.expires_in}`);
  return data;
}

async function oauthChecks() {
  const oauth = cfg.oauth;
  if (!oauth) {
    for (const name of OAUTH_CHECKS) skip(name, cfg.oauthSkipReason ?? "sandbox has no OAuth provider configured");
    return;
  }
  let tokens;
  await check("oauth.authorization_code_pkce", async () => {
    tokens = await authorize(oauth);
    return `scope=${tokens.scope} expires_in=${tokens.expires_in}`;
  });

  await check("oauth.client_api_call", async () => {
    need(tokens, "oauth tokens");
    const refreshed = [];
    const c = new CapacitiesClient({
      baseUrl,
      oauth: {
        tokens: { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresAt: Math.floor(Date.now() / 1000) + tokens.expires_in },
        clientId: oauth.clientId,
        onTokenRefreshed: (t) => refreshed.push(t),
      },
    });
    validateResponse("oauth space.get", "getSpaceResponseSchema", getSpaceResponseSchema, await c.space.get());
    assert(refreshed.length === 0, "refreshed although the token was fresh");
    return "space.get with an OAuth access token";
  });

  await check("oauth.proactive_refresh", async () => {
    need(tokens, "oauth tokens");
    const refreshed = [];
    const c = new CapacitiesClient({
      baseUrl,
      oauth: {
        tokens: { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, expiresAt: Math.floor(Date.now() / 1000) - 10 },
        clientId: oauth.clientId,
        onTokenRefreshed: (t) => refreshed.push(t),
      },
    });
    const space = validateResponse("oauth space.get (expired)", "getSpaceResponseSchema", getSpaceResponseSchema, await c.space.get());
    assert(refreshed.length === 1, `onTokenRefreshed called ${refreshed.length} times`);
    const t = refreshed[0];
    assert(t.accessToken && t.accessToken !== tokens.access_token, "access token not replaced");
    assert(t.refreshToken && t.refreshToken !== tokens.refresh_token, "refresh token not rotated (same as before)");
    assert(typeof t.expiresAt === "number" && t.expiresAt > Math.floor(Date.now() / 1000), `expiresAt ${t.expiresAt}`);
    assert(JSON.stringify(c.oauthTokens) === JSON.stringify(t), "client.oauthTokens differs from the refreshed set");
    state.rotatedFrom = tokens.refresh_token;
    tokens = { ...tokens, access_token: t.accessToken, refresh_token: t.refreshToken };
    return `space ${space.id}; tokens rotated`;
  });

  await check("oauth.refresh_after_401", async () => {
    need(tokens, "oauth tokens");
    const refreshed = [];
    const c = new CapacitiesClient({
      baseUrl,
      oauth: {
        tokens: { accessToken: `expired-or-garbage-${RUN}`, refreshToken: tokens.refresh_token },
        clientId: oauth.clientId,
        onTokenRefreshed: (t) => refreshed.push(t),
      },
    });
    validateResponse("oauth space.get after 401", "getSpaceResponseSchema", getSpaceResponseSchema, await c.space.get());
    assert(refreshed.length === 1, `onTokenRefreshed called ${refreshed.length} times`);
    assert(refreshed[0].refreshToken !== tokens.refresh_token, "refresh token not rotated");
    tokens = { ...tokens, access_token: refreshed[0].accessToken, refresh_token: refreshed[0].refreshToken };
    return "401 -> refresh -> retry succeeded";
  });

  await check("oauth.rotated_refresh_token_rejected", async () => {
    const old = need(state.rotatedFrom, "a rotated refresh token");
    const res = await fetch(`${baseUrl}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: old, client_id: oauth.clientId }).toString(),
    });
    const text = await res.text();
    assert(res.status === 400, `reusing a rotated refresh token: HTTP ${res.status} ${short(text)}`);
    const body = JSON.parse(text);
    assert(body.error === "invalid_grant", `error ${short(body)}`);
    return `400 ${body.error}`;
  });

  await check("oauth.metadata", async () => {
    const res = await fetch(`${baseUrl}/.well-known/oauth-authorization-server`);
    assert(res.status === 200, `HTTP ${res.status}`);
    const meta = await res.json();
    assert(meta.authorization_endpoint === `${baseUrl}/oauth/authorize`, `authorization_endpoint ${meta.authorization_endpoint}`);
    assert(meta.token_endpoint === `${baseUrl}/oauth/token`, `token_endpoint ${meta.token_endpoint} (the SDK always uses <baseUrl>/oauth/token)`);
    assert(meta.revocation_endpoint === `${baseUrl}/oauth/revoke`, `revocation_endpoint ${meta.revocation_endpoint}`);
    for (const scope of ["api:read", "api:write", "offline_access"])
      assert(meta.scopes_supported?.includes(scope), `scopes_supported ${short(meta.scopes_supported)} lacks ${scope}`);
    assert(meta.code_challenge_methods_supported?.includes("S256"), `code_challenge_methods_supported ${short(meta.code_challenge_methods_supported)}`);
    return short(meta, 300);
  });

  await check("oauth.revoke", async () => {
    const fresh = await authorize(oauth);
    const res = await fetch(`${baseUrl}/oauth/revoke`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: fresh.refresh_token, token_type_hint: "refresh_token", client_id: oauth.clientId }).toString(),
    });
    const text = await res.text();
    assert(res.status === 200 && text === "", `revoke: HTTP ${res.status} body ${short(text)} (documented: 200, empty)`);
    const c = new CapacitiesClient({ baseUrl, apiToken: fresh.access_token });
    await expectApiError("space.get with the revoked grant's access token", c.space.get(), 401, "cap_not_authenticated");
    return "grant revoked: access token refused";
  });

  await check("oauth.refresh_failure_is_oauth_error", async () => {
    need(tokens, "oauth tokens");
    const c = new CapacitiesClient({
      baseUrl,
      oauth: {
        tokens: { accessToken: "x", refreshToken: `bogus-${RUN}`, expiresAt: 1 },
        clientId: oauth.clientId,
        onTokenRefreshed: () => {},
      },
    });
    try {
      await c.space.get();
    } catch (error) {
      assert(error instanceof CapacitiesOAuthError, `expected CapacitiesOAuthError, got ${describe(error)}`);
      return error.message;
    }
    throw new CheckFailed("space.get succeeded with a bogus refresh token");
  });
}

main()
  .then(() => {
    emit("script.completed", true, "");
  })
  .catch((error) => {
    emit("script.completed", false, `crash: ${describe(error)}\n${error?.stack ?? ""}`);
    process.exitCode = 2;
  });
