// Verifies webhook deliveries with the Standard Webhooks reference library, as a partner would.
// Usage: node verify.js FILE, where FILE holds a JSON array of
//   {"name", "secret", "raw": bool, "body_base64", "headers": {name: value}}
// ("raw": the secret is used as it is, the library's {format: "raw"}; otherwise it is the
// standard's "whsec_…" form). Prints a JSON array of {"name", "ok", "error", "notice_id"}.
"use strict";
const fs = require("fs");
const { Webhook } = require("standardwebhooks");

const deliveries = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const results = deliveries.map((d) => {
  try {
    const wh = d.raw ? new Webhook(d.secret, { format: "raw" }) : new Webhook(d.secret);
    const payload = wh.verify(Buffer.from(d.body_base64, "base64"), d.headers);
    return { name: d.name, ok: true, notice_id: payload.notice_id };
  } catch (e) {
    return { name: d.name, ok: false, error: String(e && e.message ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify(results));
