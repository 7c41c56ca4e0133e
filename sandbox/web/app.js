// app.js is the sandbox page: a Teams-like channel view whose backend
// (package sandbox) plays Teams toward the real bot. The page sends what a
// person does (/api/send, /api/invoke), receives the bot's posts and
// updates over Server-Sent Events (/api/events), and shows the demo vaults
// and app credentials (/api/state: metadata only, values masked).
"use strict";

(() => {
  const Cards = window.KeyturnCards;
  const $ = (sel) => document.querySelector(sel);

  const st = {
    tenant: null,
    users: new Map(), // key -> user
    me: null, // user key
    channel: null, // channel shown in the main pane
    audit: null, // audit channel ID, or null
    messages: new Map(), // `${channel}|${id}` -> message
    overrides: new Map(), // `${channel}|${id}|${user}` -> {revision, card}
    notices: new Map(), // `${channel}|${id}|${user}` -> {revision, text, kind}
    refreshed: new Set(), // `${channel}|${id}|${revision}|${user}`
    elements: new Map(), // `${channel}|${id}` -> {sig, el}
    busy: new Set(), // message keys with an invoke in flight
  };

  const key = (m) => `${m.channel}|${m.id}`;
  const userKey = (m, user) => `${m.channel}|${m.id}|${user}`;
  const me = () => st.users.get(st.me);

  async function api(path, body) {
    const init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const resp = await fetch(path, init);
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      throw new Error(data.error || `HTTP ${resp.status}`);
    }
    return data;
  }

  function toast(text, kind) {
    const t = $("#toast");
    t.textContent = text;
    t.className = `toast ${kind || ""}`;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (t.hidden = true), 6000);
  }

  function initials(name) {
    return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
  }

  function avatar(name, bot) {
    const a = document.createElement("div");
    a.className = bot ? "avatar bot" : "avatar";
    a.textContent = bot ? "K" : initials(name);
    a.setAttribute("aria-hidden", "true");
    return a;
  }

  function time(iso) {
    const d = new Date(iso);
    return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  // ---- identity -------------------------------------------------------

  function setMe(k) {
    if (!st.users.has(k)) {
      return;
    }
    st.me = k;
    localStorage.setItem("keyturn-sandbox-user", k);
    const u = me();
    $("#user-select").value = k;
    const av = $("#me-avatar");
    av.textContent = initials(u.name);
    av.title = `${u.name} — ${u.title}\nobject ID ${u.objectId}`;
    $("#me-roles").textContent = [u.mayRequest ? "may request" : "", u.mayApprove ? "may approve" : ""].filter(Boolean).join(" · ") || "no Keyturn role";
    document.body.dataset.user = k;
    renderAll();
  }

  // ---- messages -------------------------------------------------------

  function put(m) {
    const old = st.messages.get(key(m));
    if (old && old.revision > m.revision) {
      return false;
    }
    if (old && old.revision !== m.revision) {
      // The bot replaced the card for everyone: user-specific views and
      // notices of the old revision are gone, as in Teams.
      for (const u of st.users.keys()) {
        st.overrides.delete(userKey(m, u));
        st.notices.delete(userKey(m, u));
      }
    }
    st.messages.set(key(m), m);
    return true;
  }

  function onEvent(ev) {
    switch (ev.type) {
      case "hello":
        st.messages.clear();
        st.elements.clear();
        (ev.messages || []).forEach(put);
        renderAll();
        break;
      case "message":
      case "update":
        if (put(ev.message)) {
          if (ev.message.from.bot) {
            hideTyping(ev.message.channel);
          }
          renderChannel(ev.message.channel);
        }
        break;
      case "typing":
        showTyping(ev.channel);
        break;
      case "state":
        loadState();
        break;
    }
  }

  function showTyping(channel) {
    if (channel !== st.channel) {
      return;
    }
    const t = $("#typing");
    t.hidden = false;
    clearTimeout(showTyping.timer);
    showTyping.timer = setTimeout(() => (t.hidden = true), 4000);
  }

  function hideTyping(channel) {
    if (channel === st.channel) {
      $("#typing").hidden = true;
    }
  }

  function renderAll() {
    if (!st.tenant || !st.me) {
      return;
    }
    st.elements.clear();
    renderChannel(st.channel);
    if (st.audit && st.audit !== st.channel) {
      renderChannel(st.audit);
    }
  }

  // renderChannel lays out a channel's threads: root posts in order, each
  // with its replies beneath, as Teams shows a channel.
  function renderChannel(channel) {
    const targets = [];
    if (channel === st.channel) targets.push($("#posts"));
    if (channel === st.audit && st.audit !== st.channel) targets.push($("#audit-posts"));
    if (targets.length === 0) return;
    const list = [...st.messages.values()].filter((m) => m.channel === channel).sort((a, b) => Number(a.id) - Number(b.id));
    const roots = list.filter((m) => !m.thread || !st.messages.has(`${channel}|${m.thread}`));
    for (const box of targets) {
      const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
      const frag = document.createDocumentFragment();
      for (const root of roots) {
        const thread = document.createElement("article");
        thread.className = "thread";
        thread.dataset.id = root.id;
        thread.appendChild(messageEl(root, box.id));
        const replies = list.filter((m) => m.thread === root.id);
        if (replies.length) {
          const r = document.createElement("div");
          r.className = "replies";
          replies.forEach((m) => r.appendChild(messageEl(m, box.id)));
          thread.appendChild(r);
        }
        frag.appendChild(thread);
      }
      if (roots.length === 0) {
        const empty = document.createElement("p");
        empty.className = "empty";
        empty.textContent = channel === st.audit ? "Nothing in the audit channel yet." : "No posts yet. Try: @Keyturn help";
        frag.appendChild(empty);
      }
      box.replaceChildren(frag);
      if (atBottom) box.scrollTop = box.scrollHeight;
    }
  }

  // messageEl returns the element of m as the current user sees it,
  // reusing the previous one when nothing it depends on changed.
  function messageEl(m, where) {
    const ov = st.overrides.get(userKey(m, st.me));
    const note = st.notices.get(userKey(m, st.me));
    const sig = [m.revision, st.me, ov ? ov.revision : "-", note ? note.text : "-", st.busy.has(key(m))].join("|");
    const cacheKey = `${where}|${key(m)}`;
    const cached = st.elements.get(cacheKey);
    if (cached && cached.sig === sig) {
      return cached.el;
    }
    const el = document.createElement("div");
    el.className = m.from.bot ? "msg from-bot" : "msg from-user";
    el.dataset.testid = "message";
    el.dataset.id = m.id;
    el.dataset.revision = m.revision;
    el.dataset.from = m.from.bot ? "bot" : m.from.user || "";
    el.appendChild(avatar(m.from.name, m.from.bot));
    const body = document.createElement("div");
    body.className = "msg-body";
    const meta = document.createElement("div");
    meta.className = "meta";
    const author = document.createElement("span");
    author.className = "author";
    author.textContent = m.from.name;
    meta.appendChild(author);
    if (m.from.bot) {
      const b = document.createElement("span");
      b.className = "badge";
      b.textContent = "App";
      meta.appendChild(b);
    }
    const t = document.createElement("time");
    t.dateTime = m.time;
    t.textContent = time(m.time);
    meta.appendChild(t);
    if (m.revision > 0) {
      const e = document.createElement("span");
      e.className = "edited";
      e.textContent = "Edited";
      meta.appendChild(e);
    }
    body.appendChild(meta);
    if (m.text) {
      body.appendChild(textEl(m));
    }
    for (const a of m.attachments || []) {
      body.appendChild(attachmentEl(m, a, ov));
    }
    if (note && note.revision === m.revision) {
      const n = document.createElement("div");
      n.className = `card-notice ${note.kind}`;
      n.dataset.testid = "card-notice";
      n.textContent = note.text;
      body.appendChild(n);
    }
    el.appendChild(body);
    st.elements.set(cacheKey, { sig, el });
    return el;
  }

  function textEl(m) {
    const d = document.createElement("div");
    d.className = "text";
    if (!m.from.bot) {
      // What the person typed, with the mention highlighted.
      const name = "@" + st.tenant.bot.name;
      const i = m.text.toLowerCase().indexOf(name.toLowerCase());
      if (i >= 0) {
        d.append(m.text.slice(0, i));
        const at = document.createElement("span");
        at.className = "mention";
        at.textContent = st.tenant.bot.name;
        d.append(at, m.text.slice(i + name.length));
      } else {
        d.textContent = m.text;
      }
    } else if (m.textFormat === "plain" || m.textFormat === "xml") {
      d.classList.add("plain");
      d.textContent = m.text;
    } else {
      d.innerHTML = Cards.md(m.text);
    }
    return d;
  }

  function attachmentEl(m, a, ov) {
    const host = document.createElement("div");
    host.className = "card-host";
    if (a.contentType !== "application/vnd.microsoft.card.adaptive") {
      host.textContent = `(an attachment of type ${a.contentType}, which the sandbox does not show)`;
      return host;
    }
    let card = a.content;
    let personal = false;
    if (ov && ov.revision === m.revision) {
      card = ov.card;
      // Framed only when it differs from what everyone sees: a final card
      // refreshed for those who clicked is everyone's card.
      personal = JSON.stringify(ov.card) !== JSON.stringify(a.content);
    } else {
      maybeRefresh(m, a.content);
    }
    try {
      const out = Cards.render(card, (kind, action) => onCardAction(m, kind, action));
      host.appendChild(out.element);
      host.dataset.testid = "card";
      if (out.warnings.length) host.title = out.warnings.join("\n");
    } catch (err) {
      host.classList.add("card-error");
      host.textContent = `This card could not be rendered: ${err.message}`;
    }
    if (personal) {
      host.classList.add("personal");
      const tag = document.createElement("div");
      tag.className = "personal-tag";
      tag.textContent = "Only you can see this version of the card";
      host.appendChild(tag);
    }
    if (st.busy.has(key(m))) host.classList.add("busy");
    return host;
  }

  // ---- card actions ---------------------------------------------------

  function setNotice(m, text, kind) {
    st.notices.set(userKey(m, st.me), { revision: m.revision, text, kind });
  }

  // applyInvoke shows an invoke response for the current user: a card
  // replaces the card for them; a message or an error is shown beneath it.
  function applyInvoke(m, user, ans) {
    const b = ans.body;
    if (ans.error || ans.botStatus !== 200 || !b || typeof b !== "object") {
      setNotice(m, `Something went wrong: the bot answered HTTP ${ans.botStatus}${ans.error ? ` (${ans.error})` : ""}.`, "error");
      return;
    }
    if (b.type === "application/vnd.microsoft.card.adaptive" && b.value && typeof b.value === "object") {
      // The answer is this user's view of the revision they clicked. If
      // the bot replaced the card since, that newer card (and its refresh)
      // wins: an older view must not stick to a newer revision.
      const cur = st.messages.get(key(m));
      if (!cur || cur.revision === m.revision) {
        st.overrides.set(userKey(m, user), { revision: m.revision, card: b.value });
      }
      st.notices.delete(userKey(m, user));
    } else if (b.type === "application/vnd.microsoft.activity.message") {
      setNotice(m, String(b.value), "info");
    } else if (b.type === "application/vnd.microsoft.error") {
      setNotice(m, (b.value && b.value.message) || "The bot refused this action.", "error");
    } else {
      setNotice(m, "The bot's answer could not be understood.", "error");
    }
  }

  async function onCardAction(m, kind, action) {
    const user = st.me;
    if (kind === "openUrl") {
      toast(`Links do not open from the sandbox: ${action.url}`);
      return;
    }
    if (kind === "submit") {
      try {
        await api("/api/send", { channel: m.channel, user, value: action.data ?? {}, replyToId: m.id });
      } catch (err) {
        toast(`Not sent: ${err.message}`, "error");
      }
      return;
    }
    st.busy.add(key(m));
    renderChannel(m.channel);
    try {
      const ans = await api("/api/invoke", {
        channel: m.channel, user, activityId: m.id, verb: action.verb || "", data: action.data ?? null,
        actionId: action.id || "", trigger: "manual",
      });
      applyInvoke(m, user, ans);
    } catch (err) {
      setNotice(m, `Something went wrong: ${err.message}`, "error");
    } finally {
      st.busy.delete(key(m));
      renderChannel(m.channel);
    }
  }

  // maybeRefresh asks the bot for the current user's view of a card that
  // lists them in refresh.userIds (trigger "automatic"), once per revision.
  function maybeRefresh(m, card) {
    const u = me();
    const action = Cards.refreshFor(card, u);
    const mark = `${key(m)}|${m.revision}|${u.key}`;
    if (!action || st.refreshed.has(mark)) {
      return;
    }
    st.refreshed.add(mark);
    api("/api/invoke", {
      channel: m.channel, user: u.key, activityId: m.id, verb: action.verb || "", data: action.data ?? null,
      actionId: action.id || "", trigger: "automatic",
    })
      .then((ans) => applyInvoke(m, u.key, ans))
      .catch((err) => setNotice(m, `The card could not be refreshed: ${err.message}`, "error"))
      .finally(() => renderChannel(m.channel));
  }

  // ---- composer -------------------------------------------------------

  async function send(text) {
    text = text.trim();
    if (!text) return;
    const input = $("#compose-input");
    input.value = "";
    // Whoever sends wants to see the answer: follow the newest message even
    // when the channel was scrolled up.
    const posts = $("#posts");
    posts.scrollTop = posts.scrollHeight;
    try {
      const ans = await api("/api/send", { channel: st.channel, user: st.me, text });
      if (ans.botStatus !== 200) {
        toast(`${st.tenant.bot.name} did not accept the message (HTTP ${ans.botStatus}).`, "error");
      }
    } catch (err) {
      toast(`Not sent: ${err.message}`, "error");
      input.value = text;
    }
  }

  // setOnline shows or hides the banner that says the sandbox server is not
  // answering and what to do about it. EventSource reconnects by itself.
  function setOnline(up) {
    document.body.classList.toggle("offline", !up);
    $("#offline-banner").hidden = up;
  }

  function loadState() {
    window.KeyturnVault.load($("#vault-state"));
  }

  // ---- start ----------------------------------------------------------

  async function start() {
    st.tenant = await api("/api/tenant");
    for (const u of st.tenant.users) st.users.set(u.key, u);
    const sel = $("#user-select");
    for (const u of st.tenant.users) {
      const o = document.createElement("option");
      o.value = u.key;
      o.textContent = `${u.name} — ${u.title}`;
      sel.appendChild(o);
    }
    sel.addEventListener("change", () => setMe(sel.value));
    $("#team-name").textContent = st.tenant.team.name;
    $("#tenant-name").textContent = st.tenant.tenant.name;
    $("#tenant-file").textContent = st.tenant.file;
    const audit = st.tenant.channels.find((c) => c.audit);
    st.audit = audit ? audit.id : null;
    st.channel = (st.tenant.channels.find((c) => !c.audit) || st.tenant.channels[0]).id;
    if (audit) $("#audit-title").textContent = audit.name;
    const list = $("#channel-list");
    for (const c of st.tenant.channels) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = c.name;
      b.dataset.channel = c.id;
      b.addEventListener("click", () => {
        st.channel = c.id;
        list.querySelectorAll("button").forEach((x) => x.classList.toggle("active", x.dataset.channel === c.id));
        $("#channel-title").textContent = c.name;
        renderAll();
      });
      if (c.id === st.channel) {
        b.classList.add("active");
        $("#channel-title").textContent = c.name;
      }
      li.appendChild(b);
      list.appendChild(li);
    }
    const bot = "@" + st.tenant.bot.name;
    const input = $("#compose-input");
    input.placeholder = `Start a post. Mention ${bot} to talk to it: ${bot} rotate payments-api`;
    for (const s of ["help", "whoami", "rotate payments-api", "status payments-api"]) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "chip";
      b.textContent = `${bot} ${s}`;
      b.addEventListener("click", () => {
        input.value = `${bot} ${s}`;
        input.focus();
      });
      $("#suggestions").appendChild(b);
    }
    $("#composer").addEventListener("submit", (e) => {
      e.preventDefault();
      send(input.value);
    });
    const wanted = new URLSearchParams(location.search).get("as") || localStorage.getItem("keyturn-sandbox-user");
    setMe(st.users.has(wanted) ? wanted : st.tenant.users[0].key);
    const es = new EventSource("/api/events");
    es.onmessage = (e) => onEvent(JSON.parse(e.data));
    es.onopen = () => setOnline(true);
    es.onerror = () => setOnline(false);
    loadState();
    document.body.dataset.ready = "true";
  }

  // KeyturnSandbox.execute sends, as the current user, what a tampered or
  // outdated client could: an Action.Execute the card does not offer this
  // user (the browser test uses it to prove the bot re-checks decisions).
  // The answer is shown under the card like any other.
  window.KeyturnSandbox = {
    execute(messageId, verb, data) {
      const m = [...st.messages.values()].find((x) => x.id === messageId);
      if (!m) return Promise.reject(new Error(`no message ${messageId}`));
      return onCardAction(m, "execute", { verb, data });
    },
  };

  start().catch((err) => {
    setOnline(false);
    toast(`The sandbox did not start: ${err.message}`, "error");
  });
})();
