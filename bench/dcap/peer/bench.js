// bench/dcap peer: npm @phala/dcap-qvl (pure JS) verifying the same quote
// with the same QuoteCollateralV3 JSON at the same time, single thread.
// usage: node bench.js QUOTE COLLATERAL UNIX_TIME [SECONDS]
const fs = require('fs');
const qvl = require('@phala/dcap-qvl');

const [quotePath, collPath, now, secs] = process.argv.slice(2);
const quote = fs.readFileSync(quotePath);
const collateral = JSON.parse(fs.readFileSync(collPath, 'utf8'));
const t = Number(now);
const seconds = Number(secs || 3);

let r = qvl.verify(quote, collateral, t);
const status = r.status;
const start = process.hrtime.bigint();
const end = start + BigInt(Math.round(seconds * 1e9));
let ops = 0;
let now2 = start;
while (now2 < end) {
  r = qvl.verify(quote, collateral, t);
  ops++;
  now2 = process.hrtime.bigint();
}
const s = Number(now2 - start) / 1e9;
console.log(`mode=dcap-qvl ops=${ops} secs=${s.toFixed(3)} per_sec=${(ops / s).toFixed(0)} status=${status}`);
