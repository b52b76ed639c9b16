// Quarry search console: plain DOM, no build step. Every value from the index is inserted as
// text (never as HTML), and highlights are rebuilt from the API's character offsets.
"use strict";

const state = {
  query: "", page: 1, filters: [], sort: "relevance", since: "", total: 0, queryId: null,
};
const $ = (id) => document.getElementById(id);

// What end users read instead of attribute names and raw enum values.
const ATTRIBUTE_LABELS = {
  _category: "Content type", _file_type: "File type", _authors: "Author",
  _data_source_id: "Source", _created_at: "Created", _last_updated_at: "Modified",
  _language_code: "Language", site: "Site",
};
const VALUE_LABELS = {
  _category: {
    documentLibrary: "Document", wiki: "Wiki page", blog: "Blog post", comment: "Comment",
    shared: "Shared file",
  },
  _file_type: {
    PLAIN_TEXT: "Plain text", PDF: "PDF", HTML: "Web page", MD: "Markdown", CSV: "CSV",
    JSON: "JSON", MS_WORD: "Word", PPT: "PowerPoint", MS_EXCEL: "Excel",
  },
};
const SORTS = {
  relevance: null,
  newest: { attribute: "_last_updated_at", order: "desc" },
  oldest: { attribute: "_last_updated_at", order: "asc" },
};

// "documentLibrary" -> "Document library", "PLAIN_TEXT" -> "Plain text", "_authors" -> "Authors".
function humanize(raw) {
  const words = String(raw).replace(/^_+/, "").replace(/([a-z])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ").trim().toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : String(raw);
}
const attributeLabel = (key) => ATTRIBUTE_LABELS[key] || humanize(key);
const valueLabel = (key, value) => (VALUE_LABELS[key] || {})[value] || (
  key === "_authors" || key === "_data_source_id" || key === "site" ? String(value) : humanize(value));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
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
    const fields = (error.fields || []).map((f) => `${f.path}: ${f.message}`).join("; ");
    throw new Error(`${response.status} ${error.code || "error"}: ${error.message || fields || response.statusText}`);
  }
  return data;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function notify(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
  clearTimeout(notify.timer);
  if (message) notify.timer = setTimeout(() => { $("notice").hidden = true; }, 4000);
}

// After an error nothing of an earlier search may stay on screen: results, facets, pager, badge.
function clearResults() {
  state.total = 0;
  state.queryId = null;
  $("results").replaceChildren();
  $("summary").textContent = "";
  $("spell").hidden = true;
  $("facets").replaceChildren();
  $("facet-panel").hidden = true;
  $("page-info").textContent = "";
  $("prev").disabled = true;
  $("next").disabled = true;
  $("pager").hidden = true;
}

function forgetTestUser() {
  delete $("test-user").dataset.applied;
  delete $("test-groups").dataset.applied;
  $("test-groups-out").hidden = true;
  $("test-groups-out").textContent = "";
  showIdentity(identity());
}

function showIdentity(who) {
  $("identity").textContent = who.label;
  $("identity").classList.toggle("as-user", Boolean(who.context && who.context.user_id));
}

function facetAttributes() {
  return $("facet-attrs").value.split(",").map((a) => a.trim()).filter(Boolean).slice(0, 20);
}

function attributeFilter() {
  const clauses = state.filters.map((f) => ({ equals_to: { key: f.key, value: f.value } }));
  if (state.since) {
    const from = new Date(Date.now() - Number(state.since) * 86400000);
    clauses.push({ greater_than_or_equals: { key: "_last_updated_at", value: from.toISOString() } });
  }
  if (clauses.length === 0) return null;
  return clauses.length === 1 ? clauses[0] : { and_all: clauses };
}

// The page's state lives in the URL (never the admin key or a token): back, bookmarks, links.
function stateToUrl(push) {
  const params = new URLSearchParams();
  if (state.query) params.set("q", state.query);
  if (state.page > 1) params.set("page", String(state.page));
  for (const f of state.filters) params.append("f", `${f.key}:${f.value}`);
  if (state.sort !== "relevance") params.set("sort", state.sort);
  if (state.since) params.set("since", state.since);
  const size = $("page-size").value;
  if (size !== "10") params.set("size", size);
  const url = params.toString() ? `?${params}` : location.pathname;
  if (url === location.search || (!params.toString() && !location.search)) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

function stateFromUrl() {
  const params = new URLSearchParams(location.search);
  state.query = (params.get("q") || "").trim();
  state.page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  state.filters = params.getAll("f").map((f) => {
    const at = f.indexOf(":");
    return at > 0 ? { key: f.slice(0, at), value: f.slice(at + 1) } : null;
  }).filter(Boolean);
  state.sort = SORTS[params.get("sort")] !== undefined ? params.get("sort") : "relevance";
  state.since = ["7", "30", "365"].includes(params.get("since")) ? params.get("since") : "";
  const size = params.get("size");
  if (["5", "10", "25"].includes(size)) $("page-size").value = size;
  $("q").value = state.query;
  $("sort").value = state.sort;
  $("since").value = state.since;
}

let searchSeq = 0;
async function runQuery({ push = true } = {}) {
  if (!state.query) return;
  stateToUrl(push);
  const who = identity();
  showIdentity(who);
  const body = {
    query_text: state.query,
    page_size: Number($("page-size").value),
    page_number: state.page,
    facets: facetAttributes().map((attribute) => ({ attribute, max_results: 8 })),
  };
  const filter = attributeFilter();
  if (filter) body.attribute_filter = filter;
  if (SORTS[state.sort]) body.sort = SORTS[state.sort];
  if (who.context) body.user_context = who.context;
  showError("");
  const seq = ++searchSeq;
  $("results").setAttribute("aria-busy", "true");
  $("loading").hidden = false;
  $("search").disabled = true;
  try {
    const response = await post("/v1/query", body, who.headers);
    if (seq === searchSeq) render(response, body.page_size);
  } catch (err) {
    if (seq === searchSeq) {
      showError(err.message);
      clearResults();
      if (who.context && who.context.user_id) forgetTestUser();
    }
  } finally {
    if (seq === searchSeq) {
      $("loading").hidden = true;
      $("search").disabled = false;
      $("results").removeAttribute("aria-busy");
    }
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
  return post("/v1/feedback", { query_id: state.queryId, ...body });
}

function formatDate(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

// Type, date, author, site, folder and source of a result; absent ones are left out.
function metadata(item) {
  const a = item.attributes || {};
  const parts = [];
  const type = a._category ? valueLabel("_category", a._category) : null;
  const fileType = a._file_type ? valueLabel("_file_type", a._file_type) : null;
  if (type || fileType) parts.push(["type", [type, fileType].filter(Boolean).join(" · ")]);
  const when = a._last_updated_at || a._created_at;
  if (when && formatDate(when)) parts.push(["date", `Modified ${formatDate(when)}`]);
  const authors = Array.isArray(a._authors) ? a._authors.filter(Boolean) : (a._authors ? [a._authors] : []);
  if (authors.length) parts.push(["author", `by ${authors.join(", ")}`]);
  if (a.site) parts.push(["site", `Site: ${a.site}`]);
  if (item.folder) parts.push(["folder", `Folder: ${item.folder}`]);
  if (item.data_source_id) parts.push(["source", `Source: ${item.data_source_id}`]);
  return el("div", { class: "facts" }, ...parts.map(([kind, text]) => el("span", { class: `fact fact-${kind}` }, text)));
}

// The other places the same content lives (exact copies the searcher may read), linked when
// they have a web address.
function alsoInNode(item) {
  const copies = item.also_in || [];
  if (!copies.length) return null;
  const places = copies.map((c) => {
    const label = [c.data_source_id, c.folder].filter(Boolean).join(": ") || c.title || c.id;
    const href = c.uri && /^https?:\/\//i.test(c.uri) ? c.uri : null;
    return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", title: c.title || c.id }, label)
      : el("span", { title: c.title || c.id }, label);
  });
  const list = [];
  places.forEach((p, i) => { if (i) list.push(", "); list.push(p); });
  const more = (item.also_in_total || 0) - copies.length;
  if (more > 0) list.push(` and ${more} more`);
  return el("div", { class: "also-in" }, "Also in: ", ...list);
}

function resultNode(item) {
  const href = item.uri && /^https?:\/\//i.test(item.uri) ? item.uri : null;
  const title = item.title || item.id;
  const heading = href
    ? el("a", { href, target: "_blank", rel: "noopener noreferrer",
        onclick: () => feedback({ clicks: [{ result_id: item.id, clicked_at: new Date().toISOString() }] })
          .catch((err) => showError(err.message)) }, title)
    : title;
  const ack = el("span", { class: "vote-ack", role: "status" });
  const vote = (relevant) => async (event) => {
    const button = event.target;
    button.parentElement.querySelectorAll("button").forEach((b) => b.classList.remove("chosen"));
    button.classList.add("chosen");
    ack.textContent = "Saving…";
    try {
      await feedback({ relevance: [{ result_id: item.id, relevant }] });
      ack.textContent = relevant ? "Thanks: marked relevant" : "Thanks: marked not relevant";
    } catch (err) {
      button.classList.remove("chosen");
      ack.textContent = "Not saved";
      showError(err.message);
    }
  };
  return el("li", { class: "result", "data-id": item.id },
    el("h3", {}, heading),
    metadata(item),
    alsoInNode(item),
    excerptNode(item.excerpt || { text: "" }),
    el("div", { class: "meta" },
      el("button", { type: "button", title: "Mark as relevant", onclick: vote(true) }, "Relevant"),
      el("button", { type: "button", title: "Mark as not relevant", onclick: vote(false) }, "Not relevant"),
      ack));
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
  const first = response.total === 0 ? 0 : (state.page - 1) * pageSize + 1;
  const last = Math.min(response.total, (state.page - 1) * pageSize + response.results.length);
  if (response.total === 0) $("summary").textContent = "No results";
  else if (response.total <= pageSize && state.page === 1) {
    $("summary").textContent = response.total === 1 ? "1 result" : `${response.total} results`;
  } else $("summary").textContent = `Showing ${first}–${last} of ${response.total}`;
  $("results").replaceChildren(...response.results.map(resultNode));
  const suggestion = response.spell_suggestion;
  $("spell").hidden = !suggestion;
  $("spell-link").textContent = suggestion || "";
  renderFacets(response.facets || []);
  renderFilters();
  const pages = Math.max(1, Math.ceil(response.total / pageSize));
  $("pager").hidden = pages <= 1;
  $("page-info").textContent = `Page ${state.page} of ${pages}`;
  $("prev").disabled = state.page <= 1;
  $("next").disabled = state.page >= pages;
}

function renderFacets(facets) {
  const groups = facets.filter((f) => f.values.length > 0).map((facet) => el("div", { class: "facet" },
    el("h3", {}, attributeLabel(facet.attribute)),
    ...facet.values.map((v) => el("button", {
      type: "button", class: "facet-value", "data-attribute": facet.attribute, "data-value": v.value,
      title: `${attributeLabel(facet.attribute)}: ${v.value}`,
      onclick: () => addFilter(facet.attribute, v.value),
    }, el("span", { class: "label" }, valueLabel(facet.attribute, v.value)),
    el("span", { class: "count" }, String(v.count))))));
  $("facets").replaceChildren(...groups);
  $("facet-panel").hidden = groups.length === 0;
}

function renderFilters() {
  $("filters").replaceChildren(...state.filters.map((f, i) => el("span", { class: "chip" },
    `${attributeLabel(f.key)}: ${valueLabel(f.key, f.value)}`,
    el("button", { type: "button", title: "Remove filter", "aria-label": "Remove filter", onclick: () => removeFilter(i) }, "×"))));
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

// The text in the box is what the admin means to test, whether or not it was submitted.
function takeQueryFromBox() {
  const text = $("q").value.trim();
  if (text !== state.query) {
    state.query = text;
    state.filters = [];
  }
  state.page = 1;
}

async function applyTestUser() {
  const user = $("test-user").value.trim();
  const key = $("admin-key").value.trim();
  showError("");
  if (!key) {
    forgetTestUser();
    clearResults();
    showError("Enter the admin key to search as a user (after make up it is in var/admin.key).");
    $("admin-key").focus();
    return;
  }
  if (!user) {
    forgetTestUser();
    clearResults();
    showError("Enter the user id to search as (e.g. alice).");
    $("test-user").focus();
    return;
  }
  $("test-user").dataset.applied = user;
  $("test-groups").dataset.applied = $("test-groups").value;
  const out = $("test-groups-out");
  out.hidden = true;
  const who = identity();
  showIdentity(who);
  try {
    const data = await post("/v1/identity/test", { user_id: user, groups: who.context.groups }, who.headers);
    const groups = [...data.groups];
    for (const [source, scoped] of Object.entries(data.sources || {})) {
      for (const g of scoped.groups) groups.push(`${g} (only in ${source})`);
    }
    out.replaceChildren(el("strong", {}, `${user} searches with these groups:`),
      ...(groups.length ? groups : ["(none)"]).map((g) => el("span", { class: "group" }, g)));
    out.hidden = false;
  } catch (err) {
    forgetTestUser();
    clearResults();
    showError(err.message);
    return;
  }
  takeQueryFromBox();
  if (!state.query) {
    clearResults();
    notify(`Searches now run as ${user}: type a query.`);
    $("q").focus();
    return;
  }
  runQuery();
}

function clearTestUser() {
  for (const id of ["test-user", "test-groups"]) $(id).value = "";
  forgetTestUser();
  showError("");
  if (state.query) runQuery();
}

document.addEventListener("DOMContentLoaded", () => {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.query = $("q").value.trim();
    state.page = 1;
    state.filters = [];
    if (!state.query) {
      clearResults();
      showError("");
      stateToUrl(true);
      return;
    }
    runQuery();
  });
  $("q").addEventListener("input", suggestSoon);
  $("prev").addEventListener("click", () => { state.page -= 1; runQuery(); });
  $("next").addEventListener("click", () => { state.page += 1; runQuery(); });
  $("page-size").addEventListener("change", () => { state.page = 1; runQuery(); });
  $("sort").addEventListener("change", () => { state.sort = $("sort").value; state.page = 1; runQuery(); });
  $("since").addEventListener("change", () => { state.since = $("since").value; state.page = 1; runQuery(); });
  $("spell-link").addEventListener("click", (event) => {
    event.preventDefault();
    $("q").value = $("spell-link").textContent;
    $("search-form").requestSubmit();
  });
  $("test-apply").addEventListener("click", applyTestUser);
  $("test-clear").addEventListener("click", clearTestUser);
  window.addEventListener("popstate", () => {
    stateFromUrl();
    if (state.query) runQuery({ push: false });
    else { clearResults(); showError(""); }
  });
  stateFromUrl();
  if (state.query) runQuery({ push: false });
});
