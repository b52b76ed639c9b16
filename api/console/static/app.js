// Quarry search console: plain DOM, no build step. Every value from the index is inserted as
// text (never as HTML), and highlights are rebuilt from the API's character offsets.
"use strict";

const state = { query: "", page: 1, filters: [], total: 0, queryId: null };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// Who searches: a test-as-user override (admin key) wins over a pasted token; else anonymous.
function identity() {
  const key = $("admin-key").value.trim();
  const user = $("test-user").dataset.applied || "";
  if (user && key) {
    const groups = ($("test-groups").dataset.applied || "").split(",").map((g) => g.trim()).filter(Boolean);
    return { headers: { Authorization: `Bearer ${key}` }, context: { user_id: user, groups }, label: `testing as ${user}` };
  }
  const token = $("user-token").value.trim();
  if (token) return { headers: {}, context: { token }, label: "signed-in token" };
  return { headers: {}, context: null, label: "anonymous" };
}

async function post(path, body, headers = {}) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new Error(`${response.status} ${error.code || "error"}: ${error.message || response.statusText}`);
  }
  return data;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function facetAttributes() {
  return $("facet-attrs").value.split(",").map((a) => a.trim()).filter(Boolean).slice(0, 20);
}

function attributeFilter() {
  if (state.filters.length === 0) return null;
  const clauses = state.filters.map((f) => ({ equals_to: { key: f.key, value: f.value } }));
  return clauses.length === 1 ? clauses[0] : { and_all: clauses };
}

async function runQuery() {
  if (!state.query) return;
  const who = identity();
  $("identity").textContent = who.label;
  $("identity").classList.toggle("as-user", Boolean(who.context && who.context.user_id));
  const body = {
    query_text: state.query,
    page_size: Number($("page-size").value),
    page_number: state.page,
    facets: facetAttributes().map((attribute) => ({ attribute, max_results: 8 })),
  };
  const filter = attributeFilter();
  if (filter) body.attribute_filter = filter;
  if (who.context) body.user_context = who.context;
  showError("");
  $("results").setAttribute("aria-busy", "true");
  try {
    render(await post("/v1/query", body, who.headers), body.page_size);
  } catch (err) {
    showError(err.message);
    $("results").replaceChildren();
    $("summary").textContent = "";
  } finally {
    $("results").removeAttribute("aria-busy");
  }
}

// Split the excerpt at the highlight offsets (code points, as the API counts them).
function excerptNode(excerpt) {
  const chars = Array.from(excerpt.text || "");
  const node = el("p", { class: "excerpt" });
  let at = 0;
  const spans = [...(excerpt.highlights || [])].sort((a, b) => a.begin - b.begin);
  for (const { begin, end } of spans) {
    if (begin < at || end <= begin || end > chars.length) continue;
    node.append(chars.slice(at, begin).join(""));
    node.append(el("mark", {}, chars.slice(begin, end).join("")));
    at = end;
  }
  node.append(chars.slice(at).join(""));
  return node;
}

function feedback(body) {
  post("/v1/feedback", { query_id: state.queryId, ...body }).catch((err) => showError(err.message));
}

function resultNode(item) {
  const href = item.uri && /^https?:\/\//i.test(item.uri) ? item.uri : null;
  const title = item.title || item.id;
  const heading = href
    ? el("a", { href, target: "_blank", rel: "noopener noreferrer",
        onclick: () => feedback({ clicks: [{ result_id: item.id, clicked_at: new Date().toISOString() }] }) }, title)
    : title;
  const vote = (relevant) => (event) => {
    event.target.parentElement.querySelectorAll("button").forEach((b) => b.classList.remove("chosen"));
    event.target.classList.add("chosen");
    feedback({ relevance: [{ result_id: item.id, relevant }] });
  };
  return el("li", { class: "result", "data-id": item.id },
    el("h3", {}, heading),
    excerptNode(item.excerpt || { text: "" }),
    el("div", { class: "meta" },
      el("span", {}, item.data_source_id || ""),
      el("span", {}, `score ${Number(item.score).toFixed(3)}`),
      el("button", { type: "button", title: "Mark as relevant", onclick: vote(true) }, "Relevant"),
      el("button", { type: "button", title: "Mark as not relevant", onclick: vote(false) }, "Not relevant")));
}

// The suggested answer and FAQ answers above the results, each marked with what it is.
function answerNodes(response) {
  const nodes = [];
  for (const a of response.answers || []) {
    const href = a.uri && /^https?:\/\//i.test(a.uri) ? a.uri : null;
    const source = href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, a.title || a.document_id)
      : (a.title || a.document_id);
    nodes.push(el("div", { class: "answer", "data-type": "ANSWER" },
      el("span", { class: "kind" }, "Suggested answer"),
      excerptNode(a.excerpt),
      el("div", { class: "meta" }, "From ", source, ` · confidence ${a.score_confidence.toLowerCase().replace("_", " ")}`)));
  }
  for (const f of response.faq_answers || []) {
    nodes.push(el("div", { class: "answer", "data-type": "QUESTION_ANSWER" },
      el("span", { class: "kind" }, "FAQ"),
      el("p", { class: "question" }, f.question),
      el("p", { class: "excerpt" }, f.answer)));
  }
  return nodes;
}

function featuredNode(item) {
  const node = resultNode(item);
  node.classList.add("is-featured");
  node.prepend(el("span", { class: "kind" }, "Featured"));
  return node;
}

function render(response, pageSize) {
  $("answers").replaceChildren(...answerNodes(response));
  $("featured").replaceChildren(...(response.featured_results || []).map(featuredNode));
  state.total = response.total;
  state.queryId = response.query_id;
  $("summary").textContent = response.total === 1 ? "1 result" : `${response.total} results`;
  $("results").replaceChildren(...response.results.map(resultNode));
  const suggestion = response.spell_suggestion;
  $("spell").hidden = !suggestion;
  $("spell-link").textContent = suggestion || "";
  renderFacets(response.facets || []);
  renderFilters();
  const pages = Math.max(1, Math.ceil(response.total / pageSize));
  $("page-info").textContent = `Page ${state.page} of ${pages}`;
  $("prev").disabled = state.page <= 1;
  $("next").disabled = state.page >= pages;
}

function renderFacets(facets) {
  const groups = facets.filter((f) => f.values.length > 0).map((facet) => el("div", { class: "facet" },
    el("h3", {}, facet.attribute),
    ...facet.values.map((v) => el("button", {
      type: "button", class: "facet-value", "data-attribute": facet.attribute, "data-value": v.value,
      onclick: () => addFilter(facet.attribute, v.value),
    }, el("span", {}, v.value), el("span", { class: "count" }, String(v.count))))));
  $("facets").replaceChildren(...groups);
}

function renderFilters() {
  $("filters").replaceChildren(...state.filters.map((f, i) => el("span", { class: "chip" },
    `${f.key} = ${f.value}`,
    el("button", { type: "button", title: "Remove filter", onclick: () => removeFilter(i) }, "×"))));
}

function addFilter(key, value) {
  if (!state.filters.some((f) => f.key === key && f.value === value)) state.filters.push({ key, value });
  state.page = 1;
  runQuery();
}

function removeFilter(index) {
  state.filters.splice(index, 1);
  state.page = 1;
  runQuery();
}

let suggestTimer = null;
function suggestSoon() {
  clearTimeout(suggestTimer);
  const prefix = $("q").value.trim();
  if (prefix.length < 2) return;
  suggestTimer = setTimeout(async () => {
    const who = identity();
    const body = { query_text: prefix, max_suggestions: 8 };
    if (who.context) body.user_context = who.context;
    try {
      const data = await post("/v1/suggest", body, who.headers);
      $("suggestions").replaceChildren(...data.suggestions.map((s) => el("option", { value: s.text })));
    } catch (_) { /* suggestions are a convenience: the search itself reports errors */ }
  }, 200);
}

async function applyTestUser() {
  const user = $("test-user").value.trim();
  $("test-user").dataset.applied = user;
  $("test-groups").dataset.applied = $("test-groups").value;
  const out = $("test-groups-out");
  out.hidden = true;
  if (user && $("admin-key").value.trim()) {
    try {
      const who = identity();
      const data = await post("/v1/identity/test", { user_id: user, groups: who.context.groups },
        who.headers);
      const lines = [...data.groups];
      for (const [source, scoped] of Object.entries(data.sources || {})) {
        for (const g of scoped.groups) lines.push(`${g} (only in ${source})`);
      }
      out.textContent = `searches with groups:\n${lines.join("\n") || "(none)"}`;
      out.hidden = false;
    } catch (err) {
      showError(err.message);
      return;
    }
  }
  state.page = 1;
  runQuery();
}

function clearTestUser() {
  for (const id of ["test-user", "test-groups"]) {
    $(id).value = "";
    delete $(id).dataset.applied;
  }
  $("test-groups-out").hidden = true;
  runQuery();
}

document.addEventListener("DOMContentLoaded", () => {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.query = $("q").value.trim();
    state.page = 1;
    state.filters = [];
    runQuery();
  });
  $("q").addEventListener("input", suggestSoon);
  $("prev").addEventListener("click", () => { state.page -= 1; runQuery(); });
  $("next").addEventListener("click", () => { state.page += 1; runQuery(); });
  $("page-size").addEventListener("change", () => { state.page = 1; runQuery(); });
  $("spell-link").addEventListener("click", (event) => {
    event.preventDefault();
    $("q").value = $("spell-link").textContent;
    $("search-form").requestSubmit();
  });
  $("test-apply").addEventListener("click", applyTestUser);
  $("test-clear").addEventListener("click", clearTestUser);
});
