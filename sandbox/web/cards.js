// cards.js renders the bot's Adaptive Cards with Microsoft's official
// renderer (window.AdaptiveCards, vendored under third_party/adaptivecards)
// in a Teams-like light theme, and provides the small, escape-first
// Markdown subset Teams renders in cards and bot messages.
"use strict";

(() => {
  const AC = window.AdaptiveCards;

  const font = "'Segoe UI', 'Segoe UI Web (West European)', system-ui, -apple-system, 'Helvetica Neue', Arial, sans-serif";
  const mono = "Consolas, 'Cascadia Mono', 'DejaVu Sans Mono', 'Courier New', monospace";
  const colors = (def, subtle) => ({ default: def, subtle: subtle });
  const foreground = {
    default: colors("#242424", "#616161"),
    dark: colors("#242424", "#616161"),
    light: colors("#FFFFFF", "#F0F0F0"),
    accent: colors("#5B5FC7", "#6264A7"),
    good: colors("#0E700E", "#107C10"),
    warning: colors("#835B00", "#8A6A00"),
    attention: colors("#C4314B", "#A4262C"),
  };
  const style = (bg) => ({ backgroundColor: bg, foregroundColors: foreground });

  // hostConfig approximates Teams' light theme.
  const hostConfig = new AC.HostConfig({
    fontFamily: font,
    supportsInteractivity: true,
    spacing: { small: 4, default: 8, medium: 12, large: 16, extraLarge: 24, padding: 14 },
    separator: { lineThickness: 1, lineColor: "#E0E0E0" },
    fontTypes: {
      default: {
        fontFamily: font,
        fontSizes: { small: 12, default: 14, medium: 15, large: 18, extraLarge: 22 },
        fontWeights: { lighter: 300, default: 400, bolder: 600 },
      },
      monospace: {
        fontFamily: mono,
        fontSizes: { small: 12, default: 13, medium: 14, large: 17, extraLarge: 20 },
        fontWeights: { lighter: 300, default: 400, bolder: 600 },
      },
    },
    containerStyles: {
      default: style("#FFFFFF"),
      emphasis: style("#F5F5F5"),
      accent: style("#E8EBFA"),
      good: style("#F1FAF1"),
      attention: style("#FDF3F4"),
      warning: style("#FFF9F5"),
    },
    actions: {
      maxActions: 6,
      spacing: "default",
      buttonSpacing: 8,
      showCard: { actionMode: "inline", inlineTopMargin: 8 },
      actionsOrientation: "horizontal",
      actionAlignment: "left",
    },
    textStyles: {
      heading: { size: "large", weight: "bolder", color: "default", fontType: "default", isSubtle: false },
    },
  });

  const escapeHTML = (s) =>
    String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  // inline formats one line that is already HTML-escaped: `code`,
  // **bold**, *italic* / _italic_, and [text](https://...) links, which
  // the page never follows (see app.js).
  function inline(s) {
    return s
      .replace(/`([^`]+)`/g, "<code>$1</code>")
      .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
      .replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
      .replace(/(^|[\s(])_([^_\s][^_]*)_/g, "$1<em>$2</em>")
      .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, '<a href="$2" rel="noreferrer noopener" target="_blank">$1</a>');
  }

  // md renders the Markdown subset Teams supports: paragraphs, line
  // breaks, "- " and "1. " lists, and the inline formats. Input is escaped
  // first, so the output holds no markup the text did not ask for.
  function md(text) {
    const lines = escapeHTML(text).split(/\r?\n/);
    const out = [];
    let list = null;
    const close = () => {
      if (list) {
        out.push(`</${list}>`);
        list = null;
      }
    };
    for (const line of lines) {
      const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
      const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        const want = bullet ? "ul" : "ol";
        if (list !== want) {
          close();
          out.push(`<${want}>`);
          list = want;
        }
        out.push(`<li>${inline((bullet || numbered)[1])}</li>`);
        continue;
      }
      close();
      out.push(line.trim() === "" ? "<br>" : `<p>${inline(line)}</p>`);
    }
    close();
    return out.join("");
  }

  AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
    result.outputHtml = md(text);
    result.didProcess = true;
  };

  // render parses card (the JSON object the bot sent) and returns its DOM.
  // onAction(kind, action) is called for Action.Execute ("execute"),
  // Action.Submit ("submit") and Action.OpenUrl ("openUrl"); the renderer
  // handles ShowCard and ToggleVisibility itself. Parse problems are
  // returned in warnings; a card that cannot be rendered throws.
  function render(card, onAction) {
    const ac = new AC.AdaptiveCard();
    ac.hostConfig = hostConfig;
    ac.onExecuteAction = (action) => {
      switch (action.getJsonTypeName()) {
        case "Action.Execute":
          onAction("execute", { verb: action.verb, data: action.data, id: action.id, title: action.title });
          break;
        case "Action.Submit":
          onAction("submit", { data: action.data, id: action.id, title: action.title });
          break;
        case "Action.OpenUrl":
          onAction("openUrl", { url: action.url, title: action.title });
          break;
      }
    };
    const ctx = new AC.SerializationContext(AC.Versions.v1_5);
    ac.parse(card, ctx);
    const el = ac.render();
    if (!el) {
      throw new Error("the renderer produced nothing");
    }
    const warnings = [];
    for (let i = 0; i < ctx.eventCount; i++) {
      warnings.push(ctx.getEventAt(i).message);
    }
    return { element: el, warnings };
  }

  // refreshFor returns the card's refresh action when user (an entry of
  // /api/tenant's users) is listed in refresh.userIds, else null.
  function refreshFor(card, user) {
    const r = card && card.refresh;
    if (!r || !r.action || r.action.type !== "Action.Execute" || !Array.isArray(r.userIds)) {
      return null;
    }
    const ids = new Set(user.ids.map((s) => s.toLowerCase()));
    return r.userIds.some((id) => ids.has(String(id).toLowerCase())) ? r.action : null;
  }

  window.KeyturnCards = { render, md, escapeHTML, refreshFor, version: AC.GlobalSettings ? "3.x" : "" };
})();
