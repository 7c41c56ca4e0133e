// The reference for tools/loadgen: Microsoft's botbuilder-js CloudAdapter,
// configured from the environment the way its samples are
// (ConfigurationBotFrameworkAuthentication reads MicrosoftAppId,
// MicrosoftAppType, MicrosoftAppTenantId, MicrosoftAppPassword and
// ToBotFromChannelOpenIdMetadataUrl), on Node's own http server so no web
// framework is measured. Each POST /api/messages is authenticated by the
// adapter (signature, issuer, audience, lifetime, endorsement, serviceurl);
// the bot's turn does nothing, so it never calls the connector. Run by
// `go run ./tools/loadgen -js tools/botbuilder-ref` after
// `npm ci --prefix tools/botbuilder-ref`.
'use strict';

const http = require('node:http');
const { CloudAdapter, ConfigurationBotFrameworkAuthentication } = require('botbuilder');

const auth = new ConfigurationBotFrameworkAuthentication(process.env);
const adapter = new CloudAdapter(auth);
adapter.onTurnError = async () => {};

// response adapts Node's ServerResponse to the shape CloudAdapter writes to.
function response(res) {
  return {
    socket: res.socket,
    status(code) { res.statusCode = code; },
    header(name, value) { res.setHeader(name, value); },
    send(body) {
      if (body === undefined) return;
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.setHeader('Content-Type', 'application/json');
      res.write(text);
    },
    end() { res.end(); },
  };
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/messages') {
    res.statusCode = 404;
    res.end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.statusCode = 400;
      res.end();
      return;
    }
    try {
      await adapter.process({ body, headers: req.headers, method: req.method }, response(res), async () => {});
    } catch {
      if (!res.writableEnded) {
        res.statusCode = 500;
        res.end();
      }
    }
  });
});

server.keepAliveTimeout = 120000;
server.listen(Number(process.env.PORT || 3978), '127.0.0.1');
