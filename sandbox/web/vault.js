// vault.js renders the sandbox's demo Key Vaults and app registrations
// from /api/state: metadata only (versions, tags, dates, key IDs, hints).
// Secret values never reach the page; the server sends a mask instead.
"use strict";

(() => {
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function day(iso) {
    return iso ? new Date(iso).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "—";
  }

  // keyRoles reads, from the latest version of every vault secret, which
  // credential each secret holds now (its keyturn-key-id tag) and which one
  // it held before the last rotation (keyturn-previous-key-id): that one is
  // waiting for retirement while the app still lists it.
  function keyRoles(vaults) {
    const roles = new Map();
    for (const v of vaults) {
      for (const sec of v.secrets) {
        const tags = (sec.versions[0] && sec.versions[0].tags) || {};
        const held = (tags["keyturn-key-id"] || "").toLowerCase();
        const prev = (tags["keyturn-previous-key-id"] || "").toLowerCase();
        if (held) roles.set(held, { kind: "current", text: `in ${v.name}/${sec.name}` });
        if (prev && !roles.has(prev)) roles.set(prev, { kind: "retiring", text: "previous secret: waiting for retirement" });
      }
    }
    return roles;
  }

  // load fetches /api/state and renders it into target.
  async function load(target) {
    let s;
    try {
      const resp = await fetch("/api/state");
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      s = await resp.json();
    } catch (err) {
      target.textContent = `Could not read the demo state: ${err.message}`;
      return;
    }
    const root = document.createDocumentFragment();
    root.appendChild(el("h3", "", "Key Vaults"));
    for (const v of s.vaults) {
      const box = el("section", "vault");
      box.dataset.testid = "vault";
      box.appendChild(el("div", "vault-name", `${v.name}${v.noAccess ? " (Keyturn has no role here)" : ""}`));
      box.appendChild(el("div", "uri", v.uri));
      if (!v.secrets.length) box.appendChild(el("p", "empty", "No secrets yet."));
      for (const sec of v.secrets) {
        const d = el("details", "secret");
        d.dataset.testid = "secret";
        d.dataset.name = sec.name;
        d.open = true;
        d.appendChild(el("summary", "", `${sec.name} — ${sec.versions.length} version${sec.versions.length === 1 ? "" : "s"}`));
        sec.versions.forEach((ver, i) => {
          const row = el("div", i === 0 ? "version latest" : "version");
          row.dataset.testid = "version";
          row.appendChild(el("div", "uri", ver.id));
          const facts = el("dl", "facts");
          const fact = (k, v2) => {
            facts.appendChild(el("dt", "", k));
            facts.appendChild(el("dd", "", v2));
          };
          fact("value", ver.value);
          fact("content type", ver.contentType || "—");
          fact("valid", `${day(ver.notBefore)} → ${day(ver.expires)}`);
          for (const [tk, tv] of Object.entries(ver.tags || {}).sort()) fact(tk, tv);
          row.appendChild(facts);
          if (i > 0) row.classList.add("older");
          d.appendChild(row);
        });
        box.appendChild(d);
      }
      root.appendChild(box);
    }
    root.appendChild(el("h3", "", "App registrations"));
    const roles = keyRoles(s.vaults);
    for (const a of s.apps) {
      const box = el("section", "app-reg");
      box.dataset.testid = "app";
      box.dataset.alias = a.alias;
      const head = el("div", "app-name", `${a.displayName} `);
      head.appendChild(el("span", a.owned ? "pill good" : "pill warn", a.owned ? "Keyturn is an owner" : "not owned by Keyturn"));
      box.appendChild(head);
      box.appendChild(el("div", "uri", `alias ${a.alias} · client ID ${a.clientId}${a.vault ? ` · vault ${a.vault}` : ""} · ${a.approvals} approval${a.approvals === 1 ? "" : "s"}`));
      const table = el("table", "creds");
      const cols = el("colgroup");
      ["key", "name", "hint", "valid"].forEach((c) => cols.appendChild(el("col", c)));
      table.appendChild(cols);
      const hr = el("tr");
      ["key ID", "name", "hint", "valid"].forEach((h) => hr.appendChild(el("th", "", h)));
      table.appendChild(hr);
      for (const c of a.credentials) {
        const tr = el("tr");
        tr.dataset.testid = "credential";
        const key = el("td", "mono", c.keyId);
        key.title = c.keyId;
        tr.appendChild(key);
        const name = el("td", "", c.displayName);
        name.title = c.displayName;
        const role = roles.get(c.keyId.toLowerCase());
        if (role) {
          tr.classList.add(role.kind);
          tr.dataset.role = role.kind;
          name.appendChild(el("span", `role ${role.kind}`, role.text));
          name.title = `${c.displayName}: ${role.text}`;
        }
        tr.appendChild(name);
        tr.appendChild(el("td", "mono", `${c.hint}…`));
        const valid = el("td", "valid", `${day(c.start).slice(0, 10)} → ${day(c.end).slice(0, 10)}`);
        valid.title = `${day(c.start)} → ${day(c.end)}`;
        tr.appendChild(valid);
        table.appendChild(tr);
      }
      box.appendChild(table);
      root.appendChild(box);
    }
    target.replaceChildren(root);
    target.dataset.loaded = String(Date.now());
  }

  window.KeyturnVault = { load };
})();
