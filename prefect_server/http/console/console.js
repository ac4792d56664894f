// prefect-server's GraphQL console: plain script, no libraries, nothing from another host.
(function () {
  "use strict";
  var AUTH_KEY = "prefect-server-console-auth"; // sessionStorage: gone when the tab closes
  var DRAFT_KEY = "prefect-server-console-draft";
  var endpoint = window.location.pathname; // POST where the page came from: / or /graphql

  var TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
  var FIELDS = "fields { name description args { name description type { " + TYPE_REF + " } } type { " + TYPE_REF + " } }";
  var SCHEMA_QUERY = "query ConsoleSchema { __schema { queryType { name " + FIELDS + " } mutationType { name " + FIELDS + " } } }";
  var TYPE_QUERY = "query ConsoleType($name: String!) { __type(name: $name) { kind name fields { name args { name type { " + TYPE_REF + " } } type { " + TYPE_REF + " } } } }";

  function $(id) { return document.getElementById(id); }

  function post(body) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    var auth = $("auth").value.trim();
    if (auth) headers.Authorization = /\s/.test(auth) ? auth : "Bearer " + auth;
    return fetch(endpoint, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin" });
  }

  // --- editing -------------------------------------------------------------------
  var escaped = false;
  function indentable(area) {
    area.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { escaped = true; return; }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); return; }
      if (event.key !== "Tab" || escaped || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) { escaped = false; return; }
      event.preventDefault();
      var start = area.selectionStart, end = area.selectionEnd;
      area.value = area.value.slice(0, start) + "  " + area.value.slice(end);
      area.selectionStart = area.selectionEnd = start + 2;
      saveDraft();
    });
    area.addEventListener("input", saveDraft);
  }

  function saveDraft() {
    try { localStorage.setItem(DRAFT_KEY, JSON.stringify({ query: $("query").value, variables: $("variables").value })); } catch (e) { /* private mode */ }
  }

  function loadDraft() {
    try {
      var draft = JSON.parse(localStorage.getItem(DRAFT_KEY) || "null");
      if (draft && typeof draft.query === "string") { $("query").value = draft.query; $("variables").value = draft.variables || "{}"; }
    } catch (e) { /* nothing saved */ }
  }

  // The operation to run when the document holds several: the one the cursor is in.
  function operationName() {
    var typed = $("operation").value.trim();
    if (typed) return typed;
    var text = $("query").value, caret = $("query").selectionStart, found = [], match;
    var pattern = /\b(query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/g;
    while ((match = pattern.exec(text))) found.push({ at: match.index, name: match[2] });
    if (found.length < 2) return null;
    var chosen = found[0];
    found.forEach(function (op) { if (op.at <= caret) chosen = op; });
    return chosen.name;
  }

  // --- running -------------------------------------------------------------------
  function run() {
    var variables = null, raw = $("variables").value.trim();
    if (raw) {
      try { variables = JSON.parse(raw); } catch (e) { show("Variables are not valid JSON: " + e.message, null); return; }
    }
    var started = performance.now();
    $("status").textContent = "Running…";
    $("run").disabled = true;
    post({ query: $("query").value, variables: variables, operationName: operationName() }).then(function (response) {
      var took = Math.round(performance.now() - started) + " ms";
      return response.text().then(function (text) {
        var pretty = text;
        try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: show as sent */ }
        show(pretty, response.status + " " + (response.statusText || "") + " · " + took, response.ok);
      });
    }).catch(function (error) {
      show(String(error), "No answer from the server", false);
    }).then(function () { $("run").disabled = false; });
  }

  function show(text, status, ok) {
    $("output").textContent = text;
    $("status").textContent = status || "Not sent";
    $("status").className = "status " + (ok ? "ok" : "bad");
  }

  // --- schema browser --------------------------------------------------------------
  var roots = [];

  function typeName(ref) {
    if (!ref) return "";
    if (ref.kind === "NON_NULL") return typeName(ref.ofType) + "!";
    if (ref.kind === "LIST") return "[" + typeName(ref.ofType) + "]";
    return ref.name;
  }

  function named(ref) {
    while (ref && ref.ofType) ref = ref.ofType;
    return ref || {};
  }

  function loadSchema() {
    $("schema-status").textContent = "Loading…";
    post({ query: SCHEMA_QUERY, variables: {}, operationName: "ConsoleSchema" }).then(function (r) { return r.json(); }).then(function (answer) {
      if (!answer.data) throw new Error((answer.errors && answer.errors[0] && answer.errors[0].message) || "no schema");
      var schema = answer.data.__schema;
      roots = [];
      if (schema.queryType) roots.push({ kind: "query", title: schema.queryType.name, fields: schema.queryType.fields || [] });
      if (schema.mutationType) roots.push({ kind: "mutation", title: schema.mutationType.name, fields: schema.mutationType.fields || [] });
      drawSchema();
    }).catch(function (error) {
      $("schema-status").textContent = "Could not load the schema: " + error.message + " (an API key may be needed).";
    });
  }

  function drawSchema() {
    var needle = $("search").value.trim().toLowerCase();
    var box = $("fields"), shown = 0;
    box.textContent = "";
    roots.forEach(function (root) {
      var matching = root.fields.filter(function (f) { return !needle || f.name.toLowerCase().indexOf(needle) >= 0; });
      if (!matching.length) return;
      var heading = document.createElement("h3");
      heading.textContent = root.title + " (" + matching.length + ")";
      box.appendChild(heading);
      var list = document.createElement("ul");
      matching.forEach(function (field) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "field";
        button.title = "Insert a skeleton " + root.kind;
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = field.name;
        var returns = document.createElement("span");
        returns.className = "type";
        returns.textContent = ": " + typeName(field.type);
        button.appendChild(name);
        button.appendChild(returns);
        button.addEventListener("click", function () { insertSkeleton(root.kind, field); });
        item.appendChild(button);
        if (field.args.length) {
          var args = document.createElement("div");
          args.className = "args";
          args.textContent = "(" + field.args.map(function (a) { return a.name + ": " + typeName(a.type); }).join(", ") + ")";
          item.appendChild(args);
        }
        if (field.description) {
          var about = document.createElement("div");
          about.className = "about";
          about.textContent = field.description;
          item.appendChild(about);
        }
        list.appendChild(item);
        shown += 1;
      });
      box.appendChild(list);
    });
    $("schema-status").textContent = roots.length ? (shown ? shown + " fields" : "No field matches.") : "Loading…";
  }

  // The leaf fields of the return type, asked for when a field is clicked.
  function leaves(ref) {
    var type = named(ref);
    if (type.kind !== "OBJECT" && type.kind !== "INTERFACE") return Promise.resolve(null);
    return post({ query: TYPE_QUERY, variables: { name: type.name }, operationName: "ConsoleType" }).then(function (r) { return r.json(); }).then(function (answer) {
      var fields = (answer.data && answer.data.__type && answer.data.__type.fields) || [];
      var simple = fields.filter(function (f) {
        var kind = named(f.type).kind;
        return (kind === "SCALAR" || kind === "ENUM") && !f.args.some(function (a) { return a.type.kind === "NON_NULL"; });
      }).map(function (f) { return f.name; });
      var first = ["id", "name", "state"].filter(function (n) { return simple.indexOf(n) >= 0; });
      simple = first.concat(simple.filter(function (n) { return first.indexOf(n) < 0; }));
      return simple.length ? simple.slice(0, 12) : ["__typename"];
    }).catch(function () { return ["__typename"]; });
  }

  function insertSkeleton(kind, field) {
    leaves(field.type).then(function (selection) {
      var required = field.args.filter(function (a) { return a.type.kind === "NON_NULL"; });
      var optional = field.args.filter(function (a) { return a.type.kind !== "NON_NULL"; });
      var head = kind;
      if (required.length) head += " (" + required.map(function (a) { return "$" + a.name + ": " + typeName(a.type); }).join(", ") + ")";
      var call = field.name;
      if (required.length) call += "(" + required.map(function (a) { return a.name + ": $" + a.name; }).join(", ") + ")";
      var lines = [head + " {"];
      if (optional.length) lines.push("  # optional arguments: " + optional.map(function (a) { return a.name; }).join(", "));
      if (selection) {
        lines.push("  " + call + " {");
        selection.forEach(function (name) { lines.push("    " + name); });
        lines.push("  }");
      } else {
        lines.push("  " + call);
      }
      lines.push("}");
      $("query").value = lines.join("\n") + "\n";
      $("operation").value = "";
      if (required.length) {
        var vars = {};
        required.forEach(function (a) { vars[a.name] = named(a.type).kind === "INPUT_OBJECT" ? {} : null; });
        $("variables").value = JSON.stringify(vars, null, 2);
      } else {
        $("variables").value = "{}";
      }
      saveDraft();
      $("query").focus();
    });
  }

  function start() {
    loadDraft();
    try { $("auth").value = sessionStorage.getItem(AUTH_KEY) || ""; } catch (e) { /* storage off */ }
    $("auth").addEventListener("change", function () {
      try { sessionStorage.setItem(AUTH_KEY, $("auth").value); } catch (e) { /* storage off */ }
      loadSchema();
    });
    indentable($("query"));
    indentable($("variables"));
    $("run").addEventListener("click", run);
    $("reload").addEventListener("click", loadSchema);
    $("search").addEventListener("input", drawSchema);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.defaultPrevented && event.target.tagName !== "TEXTAREA") { event.preventDefault(); run(); }
    });
    loadSchema();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
